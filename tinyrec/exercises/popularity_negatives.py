"""Exercise of tutorial 02: a popularity-proportional negative sampler.

Task
----
Write ``popularity_negatives(train, users, n, seed=0)``. Row ``r`` of its result holds ``n``
items drawn for the user ``users[r]``: each draw is independent (with replacement), item ``j`` is
drawn with probability proportional to its number of interactions in ``train``, and an item that
``users[r]`` interacted with in ``train`` is never drawn. The same ``seed`` gives the same draws.

Shapes
------
``train``: an :class:`~tinyrec.data.Interactions`; ``users : (m,)`` dense user indices, in any
order and possibly repeated; the result is an integer array ``(len(users), n)`` of item indices.

Math
----
With ``c_j`` the number of interactions of item ``j`` in ``train`` and ``P_u`` the items of user
``u`` in ``train``, one draw for ``u`` is item ``j`` with probability::

    q_uj = c_j / Σ_{k ∉ P_u} c_k   for j ∉ P_u,        q_uj = 0   for j ∈ P_u.

An item without interactions has ``c_j = 0``: it is never drawn. ``train.item_counts()`` gives
``c``, ``train.positives(u)`` gives ``P_u`` (``train.positives_csr()`` all of them at once), and
``np.random.default_rng(seed)`` a generator whose ``choice(n_items, size=..., p=...)`` draws from a
distribution. Two ways work: draw from the popularity of all items and redraw the user's positives
(rejection), or set ``q`` to 0 on the positives and renormalize.

Checks
------
* ``returns_one_row_per_user``: shape ``(len(users), n)``, integer item indices in range;
* ``never_a_positive``: no row holds one of its user's train items, users repeated and unordered;
* ``never_draws_an_item_without_interactions``: ``c_j = 0`` means never drawn;
* ``draws_follow_popularity``: the share of each item in many draws is ``q_uj``;
* ``seed_makes_draws_reproducible``: the same seed repeats the draws, another seed changes them.

``check(popularity_negatives)`` runs them all; ``tinyrec.exercises.show_solution(
"popularity_negatives")`` prints the reference solution.
"""

from __future__ import annotations

import numpy as np

from ..data import Interactions
from .checking import expect, run_checks

NAME = "popularity_negatives"
TUTORIAL = "02_data_and_splits"


# -- the stub: what the tutorial gives the student --------------------------------------------
def popularity_negatives(train, users, n, seed=0):
    """``(len(users), n)`` items drawn by train popularity, none of them a train item of the row's user."""
    raise NotImplementedError("your turn: draw n items per user, by popularity, never one of their positives")


# -- the reference solution ---------------------------------------------------------------------
def solution_popularity_negatives(train, users, n, seed=0):
    """Renormalize the popularity over each user's non-positives, then draw from it.

    ``q`` starts as the item counts, is set to 0 on the user's positives, and divided by its sum:
    that is ``q_uj`` exactly, and ``rng.choice`` draws ``n`` items from it. Items without
    interactions keep probability 0. One generator, created once from ``seed``, serves every row,
    so the draws depend on the seed only. (tinyrec's ``NegativeSampler(train, "popularity")`` draws
    from the same law by rejection, in a compiled loop.)
    """
    rng = np.random.default_rng(seed)
    counts = train.item_counts().astype(np.float64)
    ptr, idx = train.positives_csr()
    out = np.empty((len(users), n), dtype=np.int64)
    for row, u in enumerate(users):
        q = counts.copy()
        q[idx[ptr[u] : ptr[u + 1]]] = 0.0  # the user's positives cannot be drawn
        out[row] = rng.choice(train.n_items, size=n, p=q / q.sum())
    return out


STUB = popularity_negatives
SOLUTION = solution_popularity_negatives
TUTORIAL_CODE = (popularity_negatives,)


# -- the data of the checks -----------------------------------------------------------------------
N_USERS, N_ITEMS = 12, 10
HEAVY_USER = 11  # interacted with every item but 7, 8 and 9
NO_INTERACTIONS = 9  # an item nobody interacted with


def toy_train() -> Interactions:
    """A small train set with skewed item counts, an item nobody saw, and one very active user."""
    positives = {
        0: [0, 1],
        1: [0, 2, 3],
        2: [0, 1, 4],
        3: [0, 5],
        4: [1, 2],
        5: [0, 6, 7],
        6: [0, 1, 2],
        7: [3, 8],
        8: [0, 4],
        9: [1, 8],
        10: [0, 2, 5],
        HEAVY_USER: [0, 1, 2, 3, 4, 5, 6],
    }
    users = np.array([u for u, items in positives.items() for _ in items])
    items = np.array([i for items in positives.values() for i in items])
    return Interactions(users, items, n_users=N_USERS, n_items=N_ITEMS)


def exact_law(train: Interactions, user: int) -> np.ndarray:
    """``q_uj`` for every item ``j`` (the math of the module docstring)."""
    q = train.item_counts().astype(np.float64)
    q[train.positives(user)] = 0.0
    return q / q.sum()


def _draw(fn, train, users, n, seed):
    """The candidate's draws; a wrong shape stops here (``returns_one_row_per_user`` says more)."""
    users = np.asarray(users, dtype=np.int64)
    out = np.asarray(fn(train, users, n, seed=seed))
    if out.shape != (len(users), n):
        raise AssertionError(
            f"for {len(users)} users and n = {n}, the result has shape {out.shape}, not "
            f"({len(users)}, {n}). Hint: one row per entry of users, n draws in each row"
        )
    return out


# -- the checks -----------------------------------------------------------------------------------
def returns_one_row_per_user(fn):
    train = toy_train()
    for users, n in (([0, 3, 5, 3], 3), ([4], 1), ([2, 0, 1, 6, 8], 7)):
        out = _draw(fn, train, users, n, seed=0)  # checks the shape
        expect(
            out.dtype.kind in "iu",
            f"the result has dtype {out.dtype}; item indices are integers. Hint: fill an integer array",
        )
        expect(
            out.min() >= 0 and out.max() < train.n_items,
            f"an item index is outside [0, {train.n_items}): found {out.min()}..{out.max()}",
        )


def never_a_positive(fn):
    train = toy_train()
    users = np.array([HEAVY_USER, 3, 3, 0, HEAVY_USER, 7, 1, 10, 2])  # repeated, not in order
    out = _draw(fn, train, users, 40, seed=1)
    for row, u in enumerate(users.tolist()):
        bad = np.intersect1d(out[row], train.positives(u))
        if bad.size:
            raise AssertionError(
                f"row {row} (user {u}) holds item {bad[0]}, one of that user's train items. Hint: row r "
                f"belongs to user users[r] (not to user r), and none of that user's positives may be drawn"
            )


def never_draws_an_item_without_interactions(fn):
    train = toy_train()
    users = np.array([0, 4, HEAVY_USER, 9])
    out = _draw(fn, train, users, 200, seed=2)
    hits = np.argwhere(out == NO_INTERACTIONS)
    if hits.size:
        raise AssertionError(
            f"item {NO_INTERACTIONS} has no interaction in train, so its probability is 0, yet it was "
            f"drawn {len(hits)} times in {out.size} draws (the first for user {users[hits[0][0]]}). "
            f"Hint: an item's probability is proportional to its train count"
        )


def draws_follow_popularity(fn):
    train = toy_train()
    n_rows, n = 100, 200  # 20,000 draws per user: a share is known to about ±0.4% (one std)
    for seed, u in ((3, 0), (4, HEAVY_USER)):
        out = _draw(fn, train, np.full(n_rows, u), n, seed=seed)
        share = np.bincount(out.ravel(), minlength=train.n_items)[: train.n_items] / out.size
        law = exact_law(train, u)
        worst = int(np.argmax(np.abs(share - law)))
        expect(
            abs(share[worst] - law[worst]) < 0.02,
            f"for user {u}, item {worst} ({train.item_counts()[worst]} train interactions) is "
            f"{share[worst]:.1%} of {out.size:,} draws; its probability is {law[worst]:.1%}. Hint: the "
            f"probability of an item is proportional to its train count, renormalized over the items "
            f"that are not the user's positives",
        )


def seed_makes_draws_reproducible(fn):
    train = toy_train()
    users = np.array([0, 1, 2, 3, 4, 5])
    first, again = _draw(fn, train, users, 30, seed=5), _draw(fn, train, users, 30, seed=5)
    other = _draw(fn, train, users, 30, seed=6)
    expect(
        np.array_equal(first, again),
        "two calls with seed=5 returned different draws. Hint: make the generator from the seed "
        "argument, once per call (np.random.default_rng(seed)), and draw everything from it",
    )
    expect(
        not np.array_equal(first, other),
        "seed=5 and seed=6 returned the same draws. Hint: the seed argument must seed the generator",
    )


CHECKS = (
    returns_one_row_per_user,
    never_a_positive,
    never_draws_an_item_without_interactions,
    draws_follow_popularity,
    seed_makes_draws_reproducible,
)


def check(candidate):
    """Run every check of this exercise on ``candidate`` (a function like ``popularity_negatives``)."""
    return run_checks(NAME, candidate, CHECKS)
