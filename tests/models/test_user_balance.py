"""``user_balance``: how the training epochs of FM and FeatureMLP weigh heavy users against light ones.

An epoch of ``user_balance = α`` draws as many interactions as there are, ``(u, i)`` with probability
``∝ n_u^{−α}``: every draw is a real training interaction (its rating with it), ``α = 0`` is the
plain epoch (every interaction once, nothing drawn), and user ``u``'s share of an epoch is
``∝ n_u^{1−α}``.
"""

from __future__ import annotations

import numpy as np
import pytest

import tinyrec
from tinyrec.data import Interactions
from tinyrec.models import FM, FeatureMLP
from tinyrec.models.feature_base import PairBatches


def skewed(seed=0):
    """User 0 rated 40 items, users 1..4 rated 4 each; rating = 1 + (u + i) % 5, so a pair fixes it."""
    rng = np.random.default_rng(seed)
    users = [0] * 40 + [u for u in range(1, 5) for _ in range(4)]
    items = list(range(40)) + [int(i) for _ in range(1, 5) for i in rng.choice(40, 4, replace=False)]
    users, items = np.array(users), np.array(items)
    ratings = 1.0 + (users + items) % 5
    meta = {"job": np.array(["a", "b", "a", "b", "c"])}
    return Interactions(users, items, ratings, n_users=5, n_items=45).with_meta(user_meta=meta)


def batches(model, train, objective, alpha, seed=0):
    """The batch source of ``model`` (fitted on ``train`` for its encoders) with ``user_balance=alpha``."""
    model.fit(train)
    return PairBatches(model, train, objective, 2, 8, np.random.default_rng(seed), alpha)


def test_zero_is_the_plain_epoch_every_interaction_once():
    train = skewed()
    source = batches(FM(2, 1, loss="mse"), train, "mse", 0.0)
    users, items, ratings = source._drawn()
    assert users is source.users and items is source.items and ratings is source.ratings
    assert len(users) == len(train)


@pytest.mark.parametrize("objective", ["mse", "bce", "bpr", "softmax"])
def test_every_draw_is_a_training_interaction_with_its_rating(objective):
    train = skewed()
    model = FM(2, 1, loss={"softmax": "softmax", "mse": "mse"}.get(objective, "bce"))
    source = batches(model, train, objective, 1.0)
    users, items, ratings = source._drawn()
    assert len(users) == len(source.users)  # an epoch as long as the plain one
    if objective == "softmax":  # the softmax keeps each item's column among the trained items
        items = np.flatnonzero(model.item_counts_ > 0)[items]
    known = set(zip(train.users.tolist(), train.items.tolist(), train.ratings.tolist(), strict=True))
    assert set(zip(users.tolist(), items.tolist(), ratings.tolist(), strict=True)) <= known


@pytest.mark.parametrize("alpha", [0.0, 0.5, 1.0])
def test_a_users_share_of_the_epochs_grows_as_its_count_to_the_power_one_minus_alpha(alpha):
    train = skewed()
    model = FM(2, 1, loss="mse", user_balance=alpha).fit(train)  # the model's own batch source:
    source = model._training_pairs(train, "mse", 2, 8, np.random.default_rng(1))  # its user_balance
    drawn = np.concatenate([source._drawn()[0] for _ in range(400)])
    share = np.bincount(drawn, minlength=5) / len(drawn)
    n_u = np.bincount(train.users, minlength=5).astype(float)
    expected = n_u ** (1 - alpha) / (n_u ** (1 - alpha)).sum()
    np.testing.assert_allclose(share, expected, atol=0.01)  # 22,400 draws: ±0.01 is > 3 std


def test_an_epoch_of_balanced_draws_feeds_every_objective(tmp_path):
    train = skewed()
    models = [
        FM(2, 2, loss="softmax", user_balance=1.0, seed=0),
        FM(2, 2, loss="bce", user_balance=0.5, seed=0),
        FeatureMLP(4, (4,), 2, loss="sampled_softmax", n_negatives=2, user_balance=1.0, seed=0),
    ]
    for model in models:
        model.fit(train)
        assert np.isfinite(model.history_["loss"]).all()
        again = type(model)(**model.get_params()).fit(train)  # the same seed: the same draws
        users = np.arange(5)
        np.testing.assert_array_equal(model.recommend(users, 3)[0], again.recommend(users, 3)[0])
        path = tmp_path / f"{type(model).__name__}.npz"
        model.save(path)
        assert tinyrec.load(path).user_balance == model.user_balance


def test_balanced_epochs_train_differently_from_plain_ones():
    train = skewed()
    settings = dict(loss="sampled_softmax", n_negatives=2, seed=0)
    plain = FeatureMLP(4, (4,), 3, **settings).fit(train)
    balanced = FeatureMLP(4, (4,), 3, user_balance=1.0, **settings).fit(train)
    assert not np.array_equal(plain.net.bag.weight.data, balanced.net.bag.weight.data)


@pytest.mark.parametrize("model", [FM, FeatureMLP])
@pytest.mark.parametrize("value", [-0.1, 1.5, float("nan"), "1"])
def test_user_balance_outside_zero_to_one_is_refused_by_name(model, value):
    with pytest.raises((ValueError, TypeError), match="user_balance"):
        model(user_balance=value)
