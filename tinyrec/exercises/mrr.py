"""Exercise of tutorial 03: mean reciprocal rank (MRR), with pessimistic ties.

Task
----
Write ``my_mrr(scores, relevance)``: the mean, over the users that have at least one relevant
candidate, of ``1 / p*``, where ``p*`` is the position of the user's first relevant candidate in
the ranking by score (position 1 is the top). No cut-off. Vectorize over users: no Python loop
over rows.

Ties are **pessimistic**: a candidate whose score equals that of a relevant candidate ranks above
it when it is irrelevant. Two relevant candidates with one score do not push each other down:
the first relevant position is what counts.

Shapes
------
``scores, relevance : (n_users, n_candidates)`` floats, one row per user; ``relevance > 0`` marks
the relevant candidates. The result is a Python ``float``.

Math
----
For user ``u`` let ``s*`` be the best score among its relevant candidates. The candidates ranked
before the first relevant one are those scored above ``s*``, and the irrelevant ones scored
exactly ``s*``::

    p*_u = 1 + #{j : s_uj > s*} + #{j irrelevant : s_uj = s*}
    MRR  = mean of 1 / p*_u over the users u that have a relevant candidate

``tinyrec.metrics.mrr(scores, relevance)`` computes the same number (its default is pessimistic
ties, no cut-off).

Checks
------
* ``returns_a_float``: one finite number;
* ``one_user_by_hand``: small rankings without ties, worked out by hand;
* ``ties_are_pessimistic``: an irrelevant candidate tied with the relevant one ranks above it;
* ``first_relevant_candidate_counts``: with several relevant candidates, the first one counts;
* ``relevant_candidates_tied_with_each_other``: they do not push each other down;
* ``users_without_a_relevant_candidate_are_left_out``: they are not averaged in as 0;
* ``matches_the_reference_on_random_cases``: many users, few score levels (ties everywhere);
* ``inputs_are_not_modified``.

``check(my_mrr)`` runs them all; ``tinyrec.exercises.show_solution("mrr")`` prints the reference
solution.
"""

from __future__ import annotations

import math

import numpy as np

from .checking import expect, run_checks

NAME = "mrr"
TUTORIAL = "03_evaluating_recommenders"


# -- the stub: what the tutorial gives the student --------------------------------------------
def my_mrr(scores, relevance):
    """MRR of ``scores, relevance : (n_users, n_candidates)``, pessimistic ties, no cut-off."""
    raise NotImplementedError("your turn: return the mean of 1 / (position of the first relevant item)")


# -- the reference solution ---------------------------------------------------------------------
def solution_mrr(scores, relevance):
    """Count, for every user at once, the candidates ranked before its first relevant one.

    ``best`` is ``s*`` (``-inf`` for a user without a relevant candidate). Scored strictly above
    ``s*``: ranked before it. Scored exactly ``s*``: before it when irrelevant (pessimistic ties),
    not when relevant (a relevant candidate at ``s*`` *is* the first relevant position). Users
    without a relevant candidate are left out of the mean.
    """
    rel = relevance > 0
    best = np.where(rel, scores, -np.inf).max(axis=1, keepdims=True)  # (n_users, 1): s*
    before = (scores > best).sum(axis=1) + ((scores == best) & ~rel).sum(axis=1)
    has = rel.any(axis=1)
    return float(np.mean(1.0 / (before[has] + 1)))


STUB = my_mrr
SOLUTION = solution_mrr
TUTORIAL_CODE = (my_mrr,)


# -- the checks -----------------------------------------------------------------------------------
def _value(fn, scores, relevance) -> float:
    """The candidate's MRR as a float; anything but one real number stops here."""
    scores = np.asarray(scores, dtype=np.float64)
    relevance = np.asarray(relevance, dtype=np.float64)
    value = fn(scores.copy(), relevance.copy())
    if not (isinstance(value, (int, float, np.integer, np.floating)) or np.shape(value) == ()):
        raise AssertionError(
            f"my_mrr returned {type(value).__name__} of shape {np.shape(value)}, not one number. Hint: "
            f"one reciprocal rank per user, then their mean over users, as a float"
        )
    return float(value)


def _expect_value(fn, scores, relevance, expected, what):
    value = _value(fn, scores, relevance)
    if not math.isclose(value, expected, rel_tol=1e-12, abs_tol=1e-12):
        raise AssertionError(
            f"for scores {np.asarray(scores).tolist()} and relevance {np.asarray(relevance).tolist()} "
            f"you return {value:.6g}, expected {expected:.6g}: {what}"
        )


def returns_a_float(fn):
    value = _value(fn, [[0.2, 0.9, 0.4]], [[0, 1, 0]])
    expect(math.isfinite(value), f"my_mrr returned {value} for one user whose relevant item is first")


def one_user_by_hand(fn):
    _expect_value(fn, [[0.9, 0.1, 0.5]], [[1, 0, 0]], 1.0, "the relevant candidate is ranked first")
    _expect_value(
        fn,
        [[0.1, 0.9, 0.3, 0.8, 0.5]],
        [[0, 0, 1, 0, 0]],
        0.25,
        "three candidates score above the relevant one, so it is at position 4. Hint: position = 1 + "
        "the number of candidates ranked before it",
    )
    _expect_value(
        fn,
        [[0.1, 0.9, 0.3, 0.8, 0.5], [0.7, 0.2, 0.6, 0.1, 0.3]],
        [[0, 0, 1, 0, 0], [1, 0, 0, 0, 0]],
        (0.25 + 1.0) / 2,
        "positions 4 and 1, so the mean of 1/4 and 1/1. Hint: one reciprocal rank per row, then the mean",
    )


def ties_are_pessimistic(fn):
    _expect_value(
        fn,
        [[0.5, 0.5, 0.5, 0.1]],
        [[0, 1, 0, 0]],
        1 / 3,
        "the two irrelevant candidates tied with the relevant one rank above it (pessimistic ties), "
        "so it is at position 3. Hint: count the irrelevant candidates scored exactly s* as before it",
    )
    _expect_value(
        fn,
        [[0.0, 0.0, 0.0, 0.0]],
        [[1, 0, 0, 0]],
        1 / 4,
        "a constant model earns nothing from ties: the relevant candidate comes after the three "
        "irrelevant ones, wherever its column is",
    )


def first_relevant_candidate_counts(fn):
    _expect_value(
        fn,
        [[0.9, 0.8, 0.7, 0.6, 0.5]],
        [[0, 1, 0, 1, 0]],
        1 / 2,
        "the relevant candidates are at positions 2 and 4; only the first counts. Hint: use the best "
        "score among the relevant candidates",
    )


def relevant_candidates_tied_with_each_other(fn):
    _expect_value(
        fn,
        [[0.2, 0.9, 0.9, 0.1]],
        [[0, 1, 1, 0]],
        1.0,
        "two relevant candidates share the top score: the first relevant position is 1. Hint: a "
        "relevant candidate tied with s* is not ranked before the first relevant one",
    )
    _expect_value(
        fn,
        [[0.9, 0.9, 0.9, 0.3]],
        [[1, 0, 1, 0]],
        1 / 2,
        "the irrelevant candidate tied with both relevant ones ranks above them (pessimistic); the "
        "other relevant one does not",
    )


def users_without_a_relevant_candidate_are_left_out(fn):
    _expect_value(
        fn,
        [[0.9, 0.1, 0.5], [0.3, 0.2, 0.1], [0.1, 0.2, 0.3]],
        [[1, 0, 0], [0, 0, 0], [0, 1, 0]],
        (1.0 + 1 / 2) / 2,
        "the second user has no relevant candidate: it is left out of the mean, not counted as 0. "
        "Hint: average over the rows that have a relevant candidate",
    )


def matches_the_reference_on_random_cases(fn):
    rng = np.random.default_rng(0)
    for trial in range(20):
        scores = rng.integers(0, 5, size=(30, 12)).astype(np.float64)  # 5 levels: ties everywhere
        relevance = (rng.random((30, 12)) < 0.15).astype(np.float64)
        relevance[0, :3] = 1  # at least one user with a relevant candidate
        value, expected = _value(fn, scores, relevance), SOLUTION(scores, relevance)
        if not math.isclose(value, expected, rel_tol=1e-12, abs_tol=1e-12):
            raise AssertionError(
                f"random case {trial} (30 users, 12 candidates, scores in 0..4, seed 0): you return "
                f"{value:.6g}, expected {expected:.6g}. Hint: run the by-hand checks first; here several "
                f"relevant candidates, ties and users without a relevant candidate meet"
            )


def inputs_are_not_modified(fn):
    rng = np.random.default_rng(1)
    scores = rng.integers(0, 4, size=(8, 6)).astype(np.float64)
    relevance = (rng.random((8, 6)) < 0.3).astype(np.float64)
    relevance[:, 0] = 1
    kept = scores.copy(), relevance.copy()
    fn(scores, relevance)
    expect(
        np.array_equal(scores, kept[0]) and np.array_equal(relevance, kept[1]),
        "my_mrr changed scores or relevance in place; the caller still needs them. Hint: build new "
        "arrays (np.where) instead of assigning into the arguments",
    )


CHECKS = (
    returns_a_float,
    one_user_by_hand,
    ties_are_pessimistic,
    first_relevant_candidate_counts,
    relevant_candidates_tied_with_each_other,
    users_without_a_relevant_candidate_are_left_out,
    matches_the_reference_on_random_cases,
    inputs_are_not_modified,
)


def check(candidate):
    """Run every check of this exercise on ``candidate`` (a function like ``my_mrr``)."""
    return run_checks(NAME, candidate, CHECKS)
