"""The registry of recommenders that the contract (tests/models/test_recommender_contract.py) checks.

Each topic adds its models in a ``contract_cases_<topic>.py`` file beside this one, defining
``CASES = [RecommenderCase(...), ...]``; the contract test collects every such file. The toy data
sets below are shared by the contract and the per-model tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tinyrec.data.interactions import Interactions


@dataclass
class RecommenderCase:
    """How to build one recommender for the contract.

    name : shown in the test id.
    build : ``build(seed) -> Recommender`` (must pass ``seed=`` through when the model is random;
        keep it small: the contract fits it about ten times on a 30 x 20 toy set).
    feedback : ``"explicit"`` (trained on 1-5 ratings) or ``"implicit"`` (all ones).
    """

    name: str
    build: Callable
    feedback: str = "explicit"

    def __repr__(self) -> str:
        return self.name


def planted_ratings(n_users=30, n_items=20, rank=2, density=0.5, seed=0, unknown=True):
    """A small rating matrix ``R = μ + b_u + b_i + U V^T`` (rounded to 1..5), partly observed.

    Returns ``(train, test, truth)``: ``truth`` is the dense (n_users, n_items) planted matrix
    before rounding. With ``unknown``, the last user and the last item have no training rating
    (the last user appears only in ``test``), so every model meets unknown ids.
    """
    rng = np.random.default_rng(seed)
    U = rng.normal(0, 0.8, (n_users, rank))
    V = rng.normal(0, 0.8, (n_items, rank))
    truth = 3.2 + rng.normal(0, 0.3, (n_users, 1)) + rng.normal(0, 0.3, (1, n_items)) + U @ V.T
    observed = rng.random((n_users, n_items)) < density
    observed[:, 0] = True  # every user has a rating, every item too (below)
    observed[0, :] = True
    users, items = np.nonzero(observed)
    ratings = np.clip(np.round(truth[users, items]), 1, 5).astype(np.float32)
    timestamps = rng.permutation(len(users)).astype(np.int64)
    data = Interactions(users, items, ratings, timestamps, n_users=n_users, n_items=n_items)
    in_test = (rng.random(len(users)) < 0.2) & (users != 0)  # user 0 keeps all its known items
    if unknown:
        in_test |= (users == n_users - 1) | (items == n_items - 1)
    return data.subset(~in_test), data.subset(in_test), truth


def implicit_toy(n_users=30, n_items=20, seed=0):
    """The planted set's train/test with every rating replaced by 1 (implicit feedback)."""
    train, test, _ = planted_ratings(n_users, n_items, seed=seed)
    return train.with_ratings(np.ones(len(train))), test.with_ratings(np.ones(len(test)))
