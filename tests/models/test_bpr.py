"""BPRMF: planted preference groups are recovered, ratings are ignored, divergence is named. (The
negatives come from tinyrec.data.sampling.NegativeSampler, tested with the data module; each
hyperparameter's effect and the refusals of bad input are stated in the recommender contract:
tests/models/contract_cases_classic.py.)"""

from __future__ import annotations

import numpy as np
import pytest

from tinyrec.data.interactions import Interactions
from tinyrec.errors import NonFiniteError
from tinyrec.models import BPRMF

from .contract import implicit_toy


def _two_tastes(seed=0, n_users=40, n_items=30):
    """Users of group g interact with items of group g only (each with probability 0.5).

    Returns ``train, held_out, group_u, group_i``: held-out pairs are in-group pairs removed
    from train; a good ranker puts every unseen in-group item above every out-of-group item.
    """
    rng = np.random.default_rng(seed)
    group_u, group_i = np.arange(n_users) % 2, np.arange(n_items) % 2
    same = group_u[:, None] == group_i[None, :]
    liked = same & (rng.random((n_users, n_items)) < 0.5)
    users, items = np.nonzero(liked)
    held = rng.random(len(users)) < 0.2
    data = Interactions(users, items, n_users=n_users, n_items=n_items)
    return data.subset(~held), data.subset(held), group_u, group_i


def test_planted_tastes_are_recovered():
    train, held, group_u, group_i = _two_tastes()
    model = BPRMF(4, 60, lr=0.05, seed=0).fit(train)
    scores = model.score_all(np.arange(train.n_users))
    same = group_u[:, None] == group_i[None, :]
    # AUC of held-out in-group items against out-of-group items, per user
    aucs = []
    for u, i in zip(held.users, held.items, strict=True):
        aucs.append(np.mean(scores[u, i] > scores[u][~same[u]]))
    assert np.mean(aucs) > 0.95
    assert model.history_["loss"][-1] < model.history_["loss"][0]


def test_ratings_are_ignored():
    train, _ = implicit_toy()
    rated = train.with_ratings(np.arange(len(train)) % 5 + 1.0)
    a = BPRMF(4, 3, seed=0).fit(train)
    b = BPRMF(4, 3, seed=0).fit(rated)
    np.testing.assert_array_equal(a.P_, b.P_)
    np.testing.assert_array_equal(a.Q_, b.Q_)


def test_item_bias_off_keeps_biases_at_zero():
    train, _ = implicit_toy()
    assert not BPRMF(4, 3, item_bias=False, seed=0).fit(train).bi_.any()


def test_diverging_sgd_raises_naming_the_epoch_and_the_fix():
    train, _ = implicit_toy()
    with pytest.raises(NonFiniteError, match=r"loss became (nan|inf) at epoch \d+ .*lower lr"):
        BPRMF(4, 20, lr=1e4, seed=0).fit(train)
