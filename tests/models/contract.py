"""The registry of recommenders that the contract (tests/models/test_recommender_contract.py) checks.

Each topic adds its models in a ``contract_cases_<topic>.py`` file beside this one, defining
``CASES = [RecommenderCase(...), ...]``; the contract test collects every such file. The toy data
sets below are shared by the contract and the per-model tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tinyrec.data.interactions import Interactions


@dataclass(eq=False)
class RecommenderCase:
    """One recommender for the contract, stated as data.

    name : shown in the test ids.
    cls, kwargs : the model is ``cls(**kwargs, seed=seed)`` (``seed`` only when ``cls`` takes one).
        Keep it small: the contract fits it about ten times, plus once per change, on a 30 x 20 toy set.
    feedback : ``"explicit"`` (trained on 1-5 ratings) or ``"implicit"`` (all ones).
    changes : ``{hyperparameter: another value}``; each must change the fitted result (every
        prediction of a rating model, every score of a ranking model) on the toy set, beyond
        round-off (a ``dtype`` change, by round-off only: any difference counts).
    unchanged : ``{hyperparameter: why it cannot change the result}``. Over the cases of a class,
        every name of ``cls.hyperparameters`` is in ``changes`` or here.
    refusals : ``[(constructor kwargs, exception class, message regex), ...]``; ``cls(**kwargs)``
        raises that error with that message.
    fit_refusals : ``[(training set, exception class, message regex), ...]``; fitting the case's
        model on that training set raises that error with that message.
    """

    name: str
    cls: type
    kwargs: dict = field(default_factory=dict)
    feedback: str = "explicit"
    changes: dict = field(default_factory=dict)
    unchanged: dict[str, str] = field(default_factory=dict)
    refusals: list[tuple[dict, type | tuple[type, ...], str]] = field(default_factory=list)
    fit_refusals: list[tuple[object, type | tuple[type, ...], str]] = field(default_factory=list)

    def build(self, seed=0, /, **overrides):
        """The case's model, seeded with ``seed`` (when it takes one), then ``overrides`` (a ``seed`` too)."""
        seeded = {"seed": seed} if "seed" in self.cls.hyperparameters else {}
        return self.cls(**{**self.kwargs, **seeded, **overrides})

    def __repr__(self) -> str:
        return self.name


# Why a hyperparameter cannot change what ``fit(train)`` learns: the reasons the cases share.
VERBOSE = "only prints a progress line"
BACKEND = "the same numbers to round-off, by design: compiled, plain Python or NumPy (test_backends.py)"
DETERMINISTIC = "unused: the model is deterministic"
VALIDATION = {
    "protocol": "the validation protocol: read only by fit(train, valid=...)",
    "monitor": "the metric early stopping watches: read only by fit(train, valid=...)",
    "patience": "early stopping: read only by fit(train, valid=...); fit(train) alone refuses it",
}


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
