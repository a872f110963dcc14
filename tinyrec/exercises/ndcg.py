"""Course exercise: NDCG@k with graded relevance and pessimistic ties.

Task
----
Write ``my_ndcg(scores, relevance, k)``: the mean, over the users that have at least one
relevant candidate, of each user's NDCG@k. Vectorize over users: no Python loop over rows.

Rank each user's candidates by score, highest first. Ties are **pessimistic**: among candidates
with one score, the less relevant come first (the worst order the scores allow), so that a model
cannot gain from giving everything the same score.

Shapes
------
``scores, relevance : (n_users, n_candidates)`` floats; ``relevance >= 0`` is graded (0 means
irrelevant); ``k`` a positive int, possibly larger than ``n_candidates``. The result is a
Python ``float``.

Math
----
With ``rel(p)`` the relevance of the candidate at position ``p`` (1 is the top)::

    DCG@k  = Σ_{p=1}^{min(k, n)} rel(p) / log2(p + 1)
    IDCG@k = the DCG@k of the same user's relevance values sorted in decreasing order
    NDCG@k = DCG@k / IDCG@k

The top position is discounted by ``log2(2) = 1``. A user whose relevance is all 0 has
``IDCG = 0``: leave them out of the mean. ``tinyrec.metrics.ndcg(scores, relevance, k)`` computes
the same number.

Checks
------
* ``returns_a_float`` (1 point);
* ``one_user_by_hand`` (2): small rankings without ties, worked out by hand;
* ``ideal_dcg_is_cut_at_k`` (1): the ideal list has ``k`` positions too;
* ``ties_are_pessimistic`` (2): a relevant candidate tied with an irrelevant one ranks below it;
* ``graded_relevance_counts`` (1): a grade-3 candidate is worth three grade-1 ones;
* ``users_without_a_relevant_item_are_left_out`` (1): an all-zero row is not averaged in;
* ``k_larger_than_the_list`` (1);
* ``matches_tinyrec_on_random_cases`` (2): many users, few score levels (ties everywhere);
* ``inputs_are_not_modified`` (1).
"""

from __future__ import annotations

import math

import numpy as np

from ..metrics import ndcg
from .checking import expect, points, run_checks

NAME = "ndcg"
TUTORIAL = None
SUBMIT = ("my_ndcg",)


# -- the stub: what the student receives -------------------------------------------------------
def my_ndcg(scores, relevance, k):
    """Mean NDCG@k of ``scores, relevance : (n_users, n_candidates)``, pessimistic ties."""
    raise NotImplementedError("your turn: return the mean NDCG@k over the users with a relevant item")


# -- the reference solution ---------------------------------------------------------------------
def solution_ndcg(scores, relevance, k):
    """Sort every row by (score descending, relevance ascending); discount ``1 / log2(p + 1)``.

    ``np.lexsort`` sorts by its last key first: ``-scores`` puts high scores first, and within a
    tie ``relevance`` puts the least relevant first (pessimistic). The ideal list sorts the
    relevance alone. Positions ``p = 1..k`` get the discounts ``1/log2(2), 1/log2(3), ...``.
    """
    k = min(k, scores.shape[1])
    order = np.lexsort((relevance, -scores))  # (n_users, n_candidates), each row sorted
    gains = np.take_along_axis(relevance, order, axis=1)[:, :k]
    discounts = 1.0 / np.log2(np.arange(2, k + 2))  # position p = 1..k -> 1 / log2(p + 1)
    dcg = gains @ discounts
    idcg = -np.sort(-relevance, axis=1)[:, :k] @ discounts
    has = idcg > 0
    return float(np.mean(dcg[has] / idcg[has]))


STUB = my_ndcg
SOLUTION = solution_ndcg


# -- the checks -----------------------------------------------------------------------------------
def _value(fn, scores, relevance, k) -> float:
    scores = np.asarray(scores, dtype=np.float64)
    relevance = np.asarray(relevance, dtype=np.float64)
    with np.errstate(all="ignore"):  # a division by zero is reported by the checks, in words
        value = fn(scores.copy(), relevance.copy(), k)
    expect(
        np.shape(value) == () and isinstance(value, (int, float, np.integer, np.floating)),
        f"my_ndcg returned {type(value).__name__} of shape {np.shape(value)}, not one number. Hint: one "
        f"NDCG per user, then their mean, as a float",
    )
    return float(value)


def _expect(fn, scores, relevance, k, expected, what):
    value = _value(fn, scores, relevance, k)
    if not math.isclose(value, expected, rel_tol=1e-12, abs_tol=1e-12):
        raise AssertionError(
            f"for scores {np.asarray(scores).tolist()}, relevance {np.asarray(relevance).tolist()} and "
            f"k = {k} you return {value:.6g}, expected {expected:.6g}: {what}"
        )


@points(1)
def returns_a_float(fn):
    value = _value(fn, [[0.2, 0.9, 0.4]], [[0, 1, 0]], 3)
    expect(math.isfinite(value), f"my_ndcg returned {value} for one user whose relevant item is first")


def _shifted(scores, relevance, k, first):
    """NDCG@k whose discounts start at ``1 / log2(first)``: ``first = 2`` is right, 1 and 3 are off by one."""
    scores, relevance = np.asarray(scores, dtype=np.float64), np.asarray(relevance, dtype=np.float64)
    k = min(k, scores.shape[1])
    with np.errstate(all="ignore"):
        discounts = 1.0 / np.log2(np.arange(first, first + k))
        gains = np.take_along_axis(relevance, np.lexsort((relevance, -scores)), axis=1)[:, :k]
        ideal = -np.sort(-relevance, axis=1)[:, :k]
        return float(np.mean((gains @ discounts) / (ideal @ discounts)))


@points(2)
def one_user_by_hand(fn):
    second, third = 1 / math.log2(3), 1 / math.log2(4)
    cases = [
        ([[0.9, 0.1, 0.5]], [[1, 0, 0]], 1.0, "the only relevant candidate is first"),
        ([[0.1, 0.9, 0.5]], [[1, 0, 0]], third, "the only relevant candidate is third of three"),
        ([[0.9, 0.1, 0.5]], [[0, 1, 1]], (second + third) / (1 + second),
         "the relevant candidates are second and third; the ideal list has them first and second"),
    ]  # fmt: skip
    for scores, relevance, expected, what in cases:
        value = _value(fn, scores, relevance, 3)
        if math.isclose(value, expected, rel_tol=1e-12, abs_tol=1e-12):
            continue
        shifted = [_shifted(scores, relevance, 3, first) for first in (1, 3)]
        if not math.isfinite(value) or any(math.isclose(value, x, rel_tol=1e-9) for x in shifted):
            raise AssertionError(
                f"for scores {scores} and relevance {relevance} (k = 3) you return {value:.6g}, expected "
                f"{expected:.6g} ({what}): your discount is off by one position. Hint: position p = 1 "
                f"is the top, and its discount divides by 1"
            )
        _expect(fn, scores, relevance, 3, expected, what)


@points(1)
def ideal_dcg_is_cut_at_k(fn):
    # three relevant candidates, k = 2: the ideal list holds two of them
    _expect(
        fn, [[0.9, 0.8, 0.1, 0.2]], [[1, 1, 1, 0]], 2, 1.0,
        "the top two are relevant, so the list is as good as any list of 2 can be. Hint: the ideal list "
        "is cut at k too",
    )  # fmt: skip


@points(2)
def ties_are_pessimistic(fn):
    second = 1 / math.log2(3)
    _expect(
        fn, [[0.5, 0.5, 0.1]], [[1, 0, 0]], 3, second,
        "the relevant candidate is tied with an irrelevant one, which ranks above it (pessimistic ties), "
        "whatever their order in the row",
    )  # fmt: skip
    _expect(
        fn,
        [[0.5, 0.5, 0.1]],
        [[0, 1, 0]],
        3,
        second,
        "the relevant candidate is tied with an irrelevant one, which ranks above it (pessimistic ties)",
    )
    _expect(
        fn,
        [[0.5, 0.5, 0.5]],
        [[2, 0, 1]],
        3,
        (1 / math.log2(3) + 2 / math.log2(4)) / (2 + 1 / math.log2(3)),
        "all three are tied, so they rank from the least relevant to the most",
    )


@points(1)
def graded_relevance_counts(fn):
    second = 1 / math.log2(3)
    _expect(fn, [[0.9, 0.5]], [[1, 3]], 2, (1 + 3 * second) / (3 + second),
            "grade 1 is ranked first and grade 3 second; the ideal list has them the other way")  # fmt: skip


@points(1)
def users_without_a_relevant_item_are_left_out(fn):
    _expect(
        fn,
        [[0.9, 0.1], [0.3, 0.7]],
        [[1, 0], [0, 0]],
        2,
        1.0,
        "the second user has no relevant candidate (IDCG = 0), so it is left out of the mean, neither 0 "
        "nor NaN",
    )


@points(1)
def k_larger_than_the_list(fn):
    try:
        _expect(fn, [[0.1, 0.9, 0.5]], [[1, 0, 0]], 10, 1 / math.log2(4),
                "k = 10 and three candidates: the list simply ends at position 3")  # fmt: skip
    except (IndexError, ValueError) as exc:  # raised by the candidate's code, not by a check
        raise AssertionError(
            f"k = 10 with three candidates raised {type(exc).__name__}: {exc}. Hint: k may be larger "
            "than the list; both DCG and the ideal DCG then stop at the list's end (discounts for "
            "min(k, n) positions)"
        ) from None


@points(2)
def matches_tinyrec_on_random_cases(fn):
    rng = np.random.default_rng(0)
    for k in (1, 3, 10):
        scores = rng.integers(0, 4, (40, 8)).astype(np.float64)  # few levels: ties everywhere
        relevance = rng.integers(0, 3, (40, 8)) * (rng.random((40, 8)) < 0.4)
        relevance[0] = 0  # an all-zero row
        expected = float(ndcg(scores, relevance.astype(np.float64), k))
        value = _value(fn, scores, relevance, k)
        expect(
            math.isclose(value, expected, rel_tol=1e-9, abs_tol=1e-12),
            f"on 40 random users with ties (k = {k}) you return {value:.6g}, tinyrec.metrics.ndcg gives "
            f"{expected:.6g}",
        )


@points(1)
def inputs_are_not_modified(fn):
    scores = np.array([[0.3, 0.9, 0.3, 0.1]])
    relevance = np.array([[1.0, 0.0, 2.0, 0.0]])
    kept = scores.copy(), relevance.copy()
    fn(scores, relevance, 2)
    expect(
        np.array_equal(scores, kept[0]) and np.array_equal(relevance, kept[1]),
        "my_ndcg changed its inputs in place (a sort in place?). Hint: np.sort and argsort return new arrays",
    )


CHECKS = (
    returns_a_float,
    one_user_by_hand,
    ideal_dcg_is_cut_at_k,
    ties_are_pessimistic,
    graded_relevance_counts,
    users_without_a_relevant_item_are_left_out,
    k_larger_than_the_list,
    matches_tinyrec_on_random_cases,
    inputs_are_not_modified,
)


def check(candidate):
    """Run every check of this exercise on ``candidate`` (a function like ``my_ndcg``)."""
    return run_checks(NAME, candidate, CHECKS)
