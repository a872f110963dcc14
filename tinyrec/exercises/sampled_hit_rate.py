"""Course exercise: HR@k with sampled candidates (the leave-one-out protocol of NCF).

Task
----
Write ``my_sampled_hit_rate(scores, positives, negatives, k)``. Each user has one held-out item
(``positives[u]``) and a sample of items it never interacted with (``negatives[u]``, distinct
ids, drawn for you). The user's **candidates** are its held-out item and its sampled negatives,
nothing else. Rank the candidates by the model's ``scores``; the user scores a hit when its
held-out item is among the first ``k``. Return the fraction of users with a hit. Vectorize over
users: no Python loop over rows.

Ties are **pessimistic**: a negative whose score equals the held-out item's ranks above it, so a
model that gives everything one score earns nothing.

Shapes
------
``scores : (n_users, n_items)`` the model's score of every item; ``positives : (n_users,)`` item
ids; ``negatives : (n_users, m)`` item ids (each row distinct, none the row's positive); ``k`` a
positive int (possibly ``> m + 1``). The result is a Python ``float``.

Math
----
::

    s⁺_u   = scores[u, positives[u]]
    rank_u = 1 + #{ j : scores[u, negatives[u, j]] ≥ s⁺_u }         (1 is the top)
    HR@k   = (1 / n_users) Σ_u [rank_u ≤ k]

``tinyrec.metrics.hit_rate`` on the ``(n_users, 1 + m)`` candidate scores (relevance 1 for the
held-out item, 0 for the negatives) computes the same number.

Checks
------
* ``returns_a_float`` (1 point);
* ``one_user_by_hand`` (2): small rankings without ties;
* ``only_the_candidates_are_ranked`` (2): an item outside the sample does not push the positive down;
* ``negatives_are_item_ids`` (1): ``negatives`` holds ids to look up in ``scores``, not positions;
* ``ties_are_pessimistic`` (2);
* ``k_larger_than_the_candidates`` (1);
* ``matches_tinyrec_on_random_cases`` (2): many users, few score levels;
* ``inputs_are_not_modified`` (1).
"""

from __future__ import annotations

import math

import numpy as np

from ..metrics import hit_rate
from .checking import expect, points, run_checks

NAME = "sampled_hit_rate"
TUTORIAL = None
SUBMIT = ("my_sampled_hit_rate",)


# -- the stub: what the student receives -------------------------------------------------------
def my_sampled_hit_rate(scores, positives, negatives, k):
    """HR@k of each user's held-out item among its sampled negatives, pessimistic ties."""
    raise NotImplementedError("your turn: return the fraction of users whose held-out item is in the top k")


# -- the reference solution ---------------------------------------------------------------------
def solution_sampled_hit_rate(scores, positives, negatives, k):
    """Look the candidates' scores up by id, then count the negatives at or above the positive.

    ``scores[users[:, None], negatives]`` picks, row by row, the scores of the sampled ids (fancy
    indexing with two broadcast index arrays). A negative scored exactly ``s⁺`` counts as ranked
    above it (``>=``: pessimistic ties).
    """
    users = np.arange(len(positives))
    positive = scores[users, positives]  # (n_users,)
    negative = scores[users[:, None], negatives]  # (n_users, m)
    rank = 1 + (negative >= positive[:, None]).sum(axis=1)
    return float(np.mean(rank <= k))


STUB = my_sampled_hit_rate
SOLUTION = solution_sampled_hit_rate


# -- the checks -----------------------------------------------------------------------------------
def _value(fn, scores, positives, negatives, k) -> float:
    scores = np.asarray(scores, dtype=np.float64)
    positives, negatives = np.asarray(positives, dtype=np.int64), np.asarray(negatives, dtype=np.int64)
    value = fn(scores.copy(), positives.copy(), negatives.copy(), k)
    expect(
        np.shape(value) == () and isinstance(value, (int, float, np.integer, np.floating)),
        f"my_sampled_hit_rate returned {type(value).__name__} of shape {np.shape(value)}, not one number. "
        f"Hint: one hit (0 or 1) per user, then their mean",
    )
    return float(value)


def _expect(fn, scores, positives, negatives, k, expected, what):
    value = _value(fn, scores, positives, negatives, k)
    if not math.isclose(value, expected, rel_tol=1e-12, abs_tol=1e-12):
        raise AssertionError(
            f"for scores {np.asarray(scores).tolist()}, positives {list(positives)}, negatives "
            f"{np.asarray(negatives).tolist()} and k = {k} you return {value:.6g}, expected {expected:.6g}: "
            f"{what}"
        )


@points(1)
def returns_a_float(fn):
    value = _value(fn, [[0.9, 0.1, 0.2]], [0], [[1, 2]], 1)
    expect(math.isfinite(value), f"my_sampled_hit_rate returned {value} for one user ranked first")


@points(2)
def one_user_by_hand(fn):
    scores = [[0.5, 0.9, 0.1, 0.7, 0.3]]  # the positive, item 0, ranks 3rd among items 0, 1, 2, 3
    _expect(
        fn, scores, [0], [[1, 2, 3]], 3, 1.0,
        "two negatives score above the positive: rank 3, within k = 3. Hint: a hit is rank ≤ k",
    )  # fmt: skip
    _expect(
        fn, scores, [0], [[1, 2, 3]], 2, 0.0,
        "two negatives score above the positive: rank 3, outside k = 2. Hint: rank = 1 + the number of "
        "negatives ranked above; a hit is rank ≤ k",
    )  # fmt: skip
    _expect(
        fn, [[0.5, 0.9, 0.1, 0.7], [0.2, 0.1, 0.8, 0.3]], [0, 2], [[1, 2, 3], [0, 1, 3]], 1, 0.5,
        "user 0 ranks its positive 3rd, user 1 first: one hit in two users",
    )  # fmt: skip


@points(2)
def only_the_candidates_are_ranked(fn):
    scores = [[0.5, 0.1, 0.2, 0.99, 0.98, 0.97]]  # items 3, 4, 5 score high but were not sampled
    _expect(
        fn, scores, [0], [[1, 2]], 1, 1.0,
        "the positive outscores both sampled negatives; items 3 to 5 are not candidates (the sample stands "
        "for the catalogue). Hint: rank the held-out item against negatives[u] only",
    )  # fmt: skip


@points(1)
def negatives_are_item_ids(fn):
    scores = [[0.1, 0.9, 0.8, 0.5, 0.2, 0.3]]
    _expect(
        fn, scores, [3], [[0, 4, 5]], 1, 1.0,
        "the sampled negatives are items 0, 4 and 5 (scores 0.1, 0.2, 0.3), all below the positive's 0.5. "
        "Hint: negatives holds item ids: look their scores up in scores, row by row",
    )  # fmt: skip


@points(2)
def ties_are_pessimistic(fn):
    _expect(
        fn, [[0.5, 0.5, 0.1, 0.5]], [1], [[0, 2, 3]], 2, 0.0,
        "two negatives share the positive's score, so they rank above it (pessimistic ties): rank 3",
    )  # fmt: skip
    _expect(
        fn, [[0.0, 0.0, 0.0, 0.0, 0.0]], [4], [[0, 1, 2, 3]], 4, 0.0,
        "a constant model ranks the positive last (rank 5) whatever its id: it earns nothing from ties",
    )  # fmt: skip


@points(1)
def k_larger_than_the_candidates(fn):
    try:
        _expect(fn, [[0.1, 0.9, 0.8]], [0], [[1, 2]], 10, 1.0,
                "k = 10 and three candidates: every user is a hit")  # fmt: skip
    except (IndexError, ValueError) as exc:  # raised by the candidate's code, not by a check
        raise AssertionError(
            f"k = 10 with three candidates raised {type(exc).__name__}: {exc}. Hint: k may be larger "
            "than the candidates; then every user is a hit (a rank is at most the number of candidates)"
        ) from None


@points(2)
def matches_tinyrec_on_random_cases(fn):
    rng = np.random.default_rng(0)
    n_users, n_items, m = 50, 30, 9
    for k in (1, 5, 10):
        scores = rng.integers(0, 6, (n_users, n_items)).astype(np.float64)  # few levels: ties
        order = np.argsort(rng.random((n_users, n_items)), axis=1)  # a random permutation per user
        positives, negatives = order[:, 0], order[:, 1 : m + 1]
        candidates = np.take_along_axis(scores, order[:, : m + 1], axis=1)
        relevance = np.zeros_like(candidates)
        relevance[:, 0] = 1.0
        expected = float(hit_rate(candidates, relevance, k))
        value = _value(fn, scores, positives, negatives, k)
        expect(
            math.isclose(value, expected, rel_tol=1e-12, abs_tol=1e-12),
            f"on {n_users} random users ({m} negatives each, scores in 0..5, k = {k}) you return "
            f"{value:.6g}, tinyrec.metrics.hit_rate on the candidates gives {expected:.6g}",
        )


@points(1)
def inputs_are_not_modified(fn):
    rng = np.random.default_rng(1)
    scores = rng.integers(0, 4, (6, 10)).astype(np.float64)
    order = np.argsort(rng.random((6, 10)), axis=1)
    positives, negatives = order[:, 0].copy(), order[:, 1:5].copy()
    kept = scores.copy(), positives.copy(), negatives.copy()
    fn(scores, positives, negatives, 2)
    expect(
        all(np.array_equal(a, b) for a, b in zip((scores, positives, negatives), kept, strict=True)),
        "my_sampled_hit_rate changed its inputs in place (a sort in place?). Hint: build new arrays",
    )


CHECKS = (
    returns_a_float,
    one_user_by_hand,
    only_the_candidates_are_ranked,
    negatives_are_item_ids,
    ties_are_pessimistic,
    k_larger_than_the_candidates,
    matches_tinyrec_on_random_cases,
    inputs_are_not_modified,
)


def check(candidate):
    """Run every check of this exercise on ``candidate`` (a function like ``my_sampled_hit_rate``)."""
    return run_checks(NAME, candidate, CHECKS)
