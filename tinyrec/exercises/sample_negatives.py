"""Course exercise: sampled negatives that are never a positive, distinct, uniform.

Task
----
Write ``my_sample_negatives(indptr, indices, users, n_items, m, seed)``: for each user of
``users``, ``m`` **distinct** items drawn uniformly at random among the items the user has **not**
interacted with (the candidates of the sampled evaluation protocol, see ``sampled_hit_rate``).
The same ``seed`` gives the same draws. A user with fewer than ``m`` items left to draw from is
an error: raise ``ValueError`` naming the user (a sampler that keeps redrawing would never end).
A Python loop over the users is fine here.

Shapes
------
The interactions are in CSR form: the items of user ``u`` are ``indices[indptr[u]:indptr[u + 1]]``
(sorted, distinct). ``users : (k,)`` user ids, in any order and possibly repeated; ``n_items``,
``m`` positive ints; ``seed`` an int. Returns an integer array ``(k, m)`` of item ids.

Math
----
With ``P_u`` the items of user ``u``, each row is a uniformly random ``m``-subset of
``{0, …, n_items − 1}`` minus ``P_u``: every item outside ``P_u`` appears in a row with probability
``m / (n_items − |P_u|)``, and no item twice. ``np.random.default_rng(seed)`` makes a generator;
its ``choice(..., replace=False)`` and ``permutation`` draw without replacement, and
``np.setdiff1d`` (or a boolean mask) gives the items outside ``P_u``.

Checks
------
* ``returns_one_row_per_user`` (1 point): shape ``(k, m)``, integer ids in range;
* ``never_a_positive`` (2): users with many positives, repeated and unordered;
* ``no_item_twice_in_a_row`` (2);
* ``takes_every_remaining_item_when_it_must`` (1): ``m`` equal to the items left;
* ``uniform_over_the_other_items`` (2): each item's share of many draws;
* ``refuses_an_impossible_request`` (1): ``ValueError`` naming the user;
* ``seed_makes_draws_reproducible`` (1);
* ``inputs_are_not_modified`` (1): the arrays given are read-only there.
"""

from __future__ import annotations

import numpy as np

from .checking import expect, points, run_checks

NAME = "sample_negatives"
TUTORIAL = None
SUBMIT = ("my_sample_negatives",)


# -- the stub: what the student receives -------------------------------------------------------
def my_sample_negatives(indptr, indices, users, n_items, m, seed):
    """``m`` distinct items per user of ``users``, uniform among the items it never interacted with."""
    raise NotImplementedError("your turn: return a (len(users), m) array of item ids")


# -- the reference solution ---------------------------------------------------------------------
def solution_sample_negatives(indptr, indices, users, n_items, m, seed):
    """Per user: the items outside ``P_u`` (a mask), then ``m`` of them without replacement.

    One generator for the whole call, so the rows differ from each other and the same seed repeats
    them all. The error is raised before drawing, from ``n_items − |P_u|``.
    """
    rng = np.random.default_rng(seed)
    out = np.empty((len(users), m), dtype=np.int64)
    for row, u in enumerate(users):
        allowed = np.ones(n_items, dtype=bool)
        allowed[indices[indptr[u] : indptr[u + 1]]] = False
        candidates = np.flatnonzero(allowed)
        if len(candidates) < m:
            raise ValueError(
                f"user {u} has only {len(candidates)} items it did not interact with; {m} were asked for"
            )
        out[row] = rng.choice(candidates, size=m, replace=False)
    return out


STUB = my_sample_negatives
SOLUTION = solution_sample_negatives


# -- the checks -----------------------------------------------------------------------------------
def _csr(seed, n_users=6, n_items=40, max_positives=30):
    """Random interactions in CSR form: user ``u`` has between 1 and ``max_positives`` items."""
    rng = np.random.default_rng(seed)
    rows = [np.sort(rng.choice(n_items, size=int(rng.integers(1, max_positives + 1)), replace=False))
            for _ in range(n_users)]  # fmt: skip
    indptr = np.concatenate([[0], np.cumsum([len(r) for r in rows])]).astype(np.int64)
    return indptr, np.concatenate(rows).astype(np.int64), n_items


def _draw(fn, indptr, indices, users, n_items, m, seed=0):
    users = np.asarray(users, dtype=np.int64)
    out = fn(indptr.copy(), indices.copy(), users.copy(), n_items, m, seed)
    out = np.asarray(out)
    expect(
        out.shape == (len(users), m),
        f"for {len(users)} users and m = {m} you return shape {out.shape}; expected {(len(users), m)}. Hint: "
        f"one row per entry of users (repeats included), m items each",
    )
    expect(np.issubdtype(out.dtype, np.integer), f"you return dtype {out.dtype}; item ids are integers")
    expect(
        out.size == 0 or (out.min() >= 0 and out.max() < n_items), f"an item id is outside 0..{n_items - 1}"
    )
    return out


@points(1)
def returns_one_row_per_user(fn):
    indptr, indices, n_items = _csr(0)
    _draw(fn, indptr, indices, [0, 3, 3, 1], n_items, 5)


@points(2)
def never_a_positive(fn):
    indptr, indices, n_items = _csr(1, max_positives=34)
    users = np.array([5, 0, 2, 2, 4, 1, 3, 0])
    for seed in range(5):
        out = _draw(fn, indptr, indices, users, n_items, 4, seed)
        for row, u in enumerate(users):
            positives = set(indices[indptr[u] : indptr[u + 1]].tolist())
            hits = sorted(positives & set(out[row].tolist()))
            if hits:
                raise AssertionError(
                    f"row {row} (user {u}, seed {seed}) holds items {hits}, which user {u} interacted with. "
                    f"Hint: draw among the items outside the user's own, found from indptr[u]:indptr[u + 1] "
                    f"of the user in this row"
                )


@points(2)
def no_item_twice_in_a_row(fn):
    indptr, indices, n_items = _csr(2, max_positives=20)
    for seed in range(5):
        out = _draw(fn, indptr, indices, [0, 1, 2, 3, 4, 5], n_items, 15, seed)
        for row in range(len(out)):
            if len(set(out[row].tolist())) < out.shape[1]:
                raise AssertionError(
                    f"row {row} (seed {seed}) repeats an item: {sorted(out[row].tolist())}. The m negatives "
                    f"of a user are distinct. Hint: draw without replacement"
                )


@points(1)
def takes_every_remaining_item_when_it_must(fn):
    n_items = 10
    indptr, indices = np.array([0, 7]), np.array([0, 1, 2, 4, 5, 7, 9])  # items 3, 6, 8 are left
    out = _draw(fn, indptr, indices, [0], n_items, 3)
    expect(
        sorted(out[0].tolist()) == [3, 6, 8],
        f"user 0 interacted with 7 of 10 items, and m = 3: the row must be items 3, 6 and 8 in some order; "
        f"yours is {out[0].tolist()}",
    )


@points(2)
def uniform_over_the_other_items(fn):
    n_items, m, draws = 12, 3, 4000
    positives = np.array([1, 2, 3, 7])  # eight items are left, each in a row with probability 3/8
    indptr, indices = np.array([0, len(positives)]), positives
    out = _draw(fn, indptr, indices, np.zeros(draws, dtype=np.int64), n_items, m, seed=7)
    share = np.bincount(out.ravel(), minlength=n_items) / draws
    expected = np.where(np.isin(np.arange(n_items), positives), 0.0, m / (n_items - len(positives)))
    worst = int(np.argmax(np.abs(share - expected)))
    expect(
        np.all(np.abs(share - expected) < 0.05),  # about 6 standard deviations of 4000 draws
        f"over {draws} rows, item {worst} appears in {share[worst]:.3f} of them, expected "
        f"{expected[worst]:.3f} (every item outside the user's is equally likely: 3/8 here). Hint: does "
        f"replacing a drawn positive by a neighbor, or redrawing only part of the row, favour some items?",
    )


@points(1)
def refuses_an_impossible_request(fn):
    indptr, indices = np.array([0, 2, 9]), np.array([0, 5, 0, 1, 2, 3, 4, 6, 7])  # user 1: items 5, 8, 9 left
    try:
        fn(indptr, indices, np.array([0, 1]), 10, 4, 0)
    except ValueError as exc:
        expect("1" in str(exc), f"the ValueError does not name the user (1): {exc}")
        return
    raise AssertionError(
        "user 1 has only 3 items it did not interact with and m = 4, yet no ValueError was raised. Hint: "
        "compare m with the number of items left, before drawing"
    )


@points(1)
def seed_makes_draws_reproducible(fn):
    indptr, indices, n_items = _csr(3)
    users = [0, 1, 2, 3, 4, 5]
    first, again = (
        _draw(fn, indptr, indices, users, n_items, 5, 11),
        _draw(fn, indptr, indices, users, n_items, 5, 11),
    )
    other = _draw(fn, indptr, indices, users, n_items, 5, 12)
    expect(
        np.array_equal(first, again), "the same seed gave different draws. Hint: np.random.default_rng(seed)"
    )
    expect(not np.array_equal(first, other), "seeds 11 and 12 gave the same draws: is the seed used?")


@points(1)
def inputs_are_not_modified(fn):
    indptr, indices, n_items = _csr(4)
    users = np.array([2, 0, 2])
    for a in (indptr, indices, users):  # any write raises, even one that changes nothing (a sort of
        a.flags.writeable = False  # rows already sorted), so every write in place is seen
    message = (
        "my_sample_negatives writes into indptr, indices or users (a sort or shuffle in place?). Hint: "
        "work on copies (np.sort(row), rng.permutation(row)), never on the arrays given"
    )
    try:
        fn(indptr, indices, users, n_items, 3, 0)
    except ValueError as exc:
        if "read-only" in str(exc):
            raise AssertionError(message) from None
        raise


CHECKS = (
    returns_one_row_per_user,
    never_a_positive,
    no_item_twice_in_a_row,
    takes_every_remaining_item_when_it_must,
    uniform_over_the_other_items,
    refuses_an_impossible_request,
    seed_makes_draws_reproducible,
    inputs_are_not_modified,
)


def check(candidate):
    """Run every check of this exercise on ``candidate`` (a function like ``my_sample_negatives``)."""
    return run_checks(NAME, candidate, CHECKS)
