"""tinyrec.exercises.sample_negatives: full marks for the reference, none for the stub, and typical
wrong samplers lose marks with feedback naming the problem (never the answer)."""

from __future__ import annotations

import numpy as np
import pytest

from tinyrec.exercises import sample_negatives as exercise
from tinyrec.exercises.checking import FAILED


def test_the_solution_gets_full_marks():
    report = exercise.check(exercise.SOLUTION)
    assert report.ok and report.score == report.max_score == 11, str(report)


def test_the_stub_scores_zero():
    assert exercise.check(exercise.STUB).score == 0


def _left(indptr, indices, u, n_items):
    return np.setdiff1d(np.arange(n_items), indices[indptr[u] : indptr[u + 1]])


def with_replacement(indptr, indices, users, n_items, m, seed):
    rng = np.random.default_rng(seed)
    return np.array([rng.choice(_left(indptr, indices, u, n_items), size=m) for u in users]).reshape(
        len(users), m
    )


def ignores_the_positives(indptr, indices, users, n_items, m, seed):
    rng = np.random.default_rng(seed)
    return np.array([rng.choice(n_items, size=m, replace=False) for _ in users]).reshape(len(users), m)


def neighbor_of_a_positive(indptr, indices, users, n_items, m, seed):
    """Draws from all items, then moves each positive to the next item that is not one: biased."""
    rng = np.random.default_rng(seed)
    out = np.empty((len(users), m), dtype=np.int64)
    for row, u in enumerate(users):
        positives = set(indices[indptr[u] : indptr[u + 1]].tolist())
        left = _left(indptr, indices, u, n_items)
        if len(left) < m:
            raise ValueError(f"user {u} has too few items left")
        chosen = []
        for j in rng.permutation(n_items):
            while j in positives or j in chosen:
                j = (j + 1) % n_items
            chosen.append(j)
            if len(chosen) == m:
                break
        out[row] = chosen
    return out


def positives_of_the_row_index(indptr, indices, users, n_items, m, seed):
    """Reads the positives of user ``row`` instead of ``users[row]``."""
    rng = np.random.default_rng(seed)
    return np.array(
        [
            rng.choice(_left(indptr, indices, row % (len(indptr) - 1), n_items), size=m, replace=False)
            for row in range(len(users))
        ]  # fmt: skip
    ).reshape(len(users), m)


def no_check_of_the_size(indptr, indices, users, n_items, m, seed):
    rng = np.random.default_rng(seed)
    rows = []
    for u in users:
        left = _left(indptr, indices, u, n_items)
        rows.append(rng.choice(left, size=min(m, len(left)), replace=False))
        rows[-1] = np.resize(rows[-1], m)  # pads by repeating: no error
    return np.array(rows).reshape(len(users), m)


def unseeded(indptr, indices, users, n_items, m, seed):
    return exercise.SOLUTION(indptr, indices, users, n_items, m, None)


def one_row_per_distinct_user(indptr, indices, users, n_items, m, seed):
    return exercise.SOLUTION(indptr, indices, np.unique(users), n_items, m, seed)  # repeats merged


def refuses_when_exactly_m_are_left(indptr, indices, users, n_items, m, seed):
    for u in users:
        if len(_left(indptr, indices, u, n_items)) <= m:  # <= where < belongs
            raise ValueError(f"user {u} has too few items it did not interact with for {m} negatives")
    return exercise.SOLUTION(indptr, indices, users, n_items, m, seed)


def sorts_the_positives_in_place(indptr, indices, users, n_items, m, seed):
    rng = np.random.default_rng(seed)
    out = np.empty((len(users), m), dtype=np.int64)
    items = np.arange(n_items)
    for row, u in enumerate(users):
        positives = indices[indptr[u] : indptr[u + 1]]  # a view into indices
        positives.sort()  # sorted, for searchsorted
        at = np.searchsorted(positives, items)
        seen = at < len(positives)
        seen[seen] = positives[at[seen]] == items[seen]
        if (~seen).sum() < m:
            raise ValueError(f"user {u} has too few items it did not interact with for {m} negatives")
        out[row] = rng.choice(items[~seen], size=m, replace=False)
    return out


@pytest.mark.parametrize(
    "wrong, check, words",
    [
        (with_replacement, "no_item_twice_in_a_row", "draw without replacement"),
        (ignores_the_positives, "never_a_positive", "which user"),
        (neighbor_of_a_positive, "uniform_over_the_other_items", "replacing a drawn positive by a neighbor"),
        (positives_of_the_row_index, "never_a_positive", "of the user in this row"),
        (no_check_of_the_size, "refuses_an_impossible_request", "no ValueError was raised"),
        (unseeded, "seed_makes_draws_reproducible", "the same seed gave different draws"),
        (one_row_per_distinct_user, "returns_one_row_per_user", "repeats included"),
        (refuses_when_exactly_m_are_left, "takes_every_remaining_item_when_it_must", "raised ValueError"),
        (sorts_the_positives_in_place, "inputs_are_not_modified", "in place"),
    ],
    ids=[
        "with replacement",
        "positives ignored",
        "neighbor",
        "row index",
        "no size check",
        "unseeded",
        "distinct users",
        "<= m",
        "sorted in place",
    ],
)
def test_a_wrong_sampler_loses_marks_with_a_message_naming_the_problem(wrong, check, words):
    report = exercise.check(wrong)
    assert report.implemented and report.score < report.max_score
    result = report.result(check)
    assert result.status == FAILED, str(report)
    assert words in result.message, result.message
    for r in report.failures:  # a hint, never the answer
        assert "flatnonzero" not in r.message and "replace=False" not in r.message
