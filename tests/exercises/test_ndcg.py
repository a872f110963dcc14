"""tinyrec.exercises.ndcg: full marks for the reference, none for the stub, and typical wrong NDCGs
lose marks with feedback naming the problem (never the answer)."""

from __future__ import annotations

import numpy as np
import pytest

from tinyrec.exercises import ndcg as exercise
from tinyrec.exercises.checking import FAILED
from tinyrec.metrics import ndcg


def test_the_solution_gets_full_marks():
    report = exercise.check(exercise.SOLUTION)
    assert report.ok and report.score == report.max_score == 12, str(report)


def test_the_solution_is_tinyrec_s_ndcg_with_ties_and_grades():
    rng = np.random.default_rng(1)
    scores = rng.integers(0, 3, (50, 6)).astype(float)
    relevance = rng.integers(0, 4, (50, 6)).astype(float)
    for k in (1, 2, 6, 9):
        assert exercise.SOLUTION(scores, relevance, k) == pytest.approx(ndcg(scores, relevance, k), rel=1e-12)


def test_the_stub_scores_zero():
    assert exercise.check(exercise.STUB).score == 0


def _ndcg(scores, relevance, k, *, first=2, optimistic=False, cut_ideal=True, empty_as_zero=False):
    """A configurable NDCG: ``first`` is the first discount's log argument (2 is right)."""
    k = min(k, scores.shape[1])
    order = np.lexsort((-relevance if optimistic else relevance, -scores))
    discounts = 1.0 / np.log2(np.arange(first, first + scores.shape[1]))
    dcg = np.take_along_axis(relevance, order, axis=1)[:, :k] @ discounts[:k]
    ideal = -np.sort(-relevance, axis=1)
    idcg = ideal[:, :k] @ discounts[:k] if cut_ideal else ideal @ discounts
    has = idcg > 0
    if empty_as_zero:
        return float(np.mean(np.where(has, dcg / np.where(has, idcg, 1), 0.0)))
    return float(np.mean(dcg[has] / idcg[has]))


def discount_from_log2_of_p(scores, relevance, k):
    with np.errstate(all="ignore"):  # the top position divides by log2(1) = 0, as the mistake does
        return _ndcg(scores, relevance, k, first=1)


def discount_from_log2_of_p_plus_2(scores, relevance, k):
    return _ndcg(scores, relevance, k, first=3)


def optimistic_ties(scores, relevance, k):
    return _ndcg(scores, relevance, k, optimistic=True)


def ideal_not_cut(scores, relevance, k):
    return _ndcg(scores, relevance, k, cut_ideal=False)


def empty_users_count_as_zero(scores, relevance, k):
    return _ndcg(scores, relevance, k, empty_as_zero=True)


def argsort_ignores_ties(scores, relevance, k):
    """Sorted by score alone: ties fall in the order of the columns (neither rule)."""
    order = np.argsort(-scores, axis=1, kind="stable")
    k = min(k, scores.shape[1])
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = np.take_along_axis(relevance, order, axis=1)[:, :k] @ discounts
    idcg = -np.sort(-relevance, axis=1)[:, :k] @ discounts
    has = idcg > 0
    return float(np.mean(dcg[has] / idcg[has]))


def per_user_values(scores, relevance, k):  # the NDCG of each user, never averaged
    k = min(k, scores.shape[1])
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = np.take_along_axis(relevance, np.lexsort((relevance, -scores)), axis=1)[:, :k] @ discounts
    idcg = -np.sort(-relevance, axis=1)[:, :k] @ discounts
    return dcg[idcg > 0] / idcg[idcg > 0]


def binary_gains(scores, relevance, k):  # relevant or not: grade 3 gains as much as grade 1
    return _ndcg(scores, (relevance > 0).astype(float), k)


def discounts_up_to_k(scores, relevance, k):  # k discounts, though the list may be shorter
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = np.take_along_axis(relevance, np.lexsort((relevance, -scores)), axis=1)[:, :k] @ discounts
    idcg = -np.sort(-relevance, axis=1)[:, :k] @ discounts
    return float(np.mean(dcg[idcg > 0] / idcg[idcg > 0]))


def sorts_the_relevance_in_place(scores, relevance, k):
    k = min(k, scores.shape[1])
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = np.take_along_axis(relevance, np.lexsort((relevance, -scores)), axis=1)[:, :k] @ discounts
    ideal = relevance  # a second name, not a copy
    ideal.sort(axis=1)
    idcg = ideal[:, ::-1][:, :k] @ discounts
    return float(np.mean(dcg[idcg > 0] / idcg[idcg > 0]))


@pytest.mark.parametrize(
    "wrong, check, words",
    [
        (discount_from_log2_of_p, "one_user_by_hand", "off by one position"),
        (discount_from_log2_of_p_plus_2, "one_user_by_hand", "off by one position"),
        (optimistic_ties, "ties_are_pessimistic", "pessimistic ties"),
        (argsort_ignores_ties, "ties_are_pessimistic", "whatever their order in the row"),
        (ideal_not_cut, "ideal_dcg_is_cut_at_k", "the ideal list is cut at k too"),
        (empty_users_count_as_zero, "users_without_a_relevant_item_are_left_out", "left out of the mean"),
        (per_user_values, "returns_a_float", "not one number"),
        (binary_gains, "graded_relevance_counts", "grade 1 is ranked first and grade 3 second"),
        (discounts_up_to_k, "k_larger_than_the_list", "Hint: k may be larger than the list"),
        (sorts_the_relevance_in_place, "inputs_are_not_modified", "in place"),
    ],
    ids=[
        "log2(p)",
        "log2(p+2)",
        "optimistic",
        "column order",
        "ideal not cut",
        "empty as 0",
        "per user",
        "binary gains",
        "k discounts",
        "sort in place",
    ],
)
def test_a_wrong_ndcg_loses_marks_with_a_message_naming_the_problem(wrong, check, words):
    report = exercise.check(wrong)
    assert report.implemented and report.score < report.max_score
    result = report.result(check)
    assert result.status == FAILED, str(report)
    assert words in result.message
    for r in report.failures:  # a hint, never the answer
        assert "lexsort" not in r.message and "np.arange(2" not in r.message


@pytest.mark.parametrize("wrong", [optimistic_ties, ideal_not_cut, discount_from_log2_of_p_plus_2])
def test_random_cases_catch_it_too(wrong):
    assert exercise.check(wrong).result("matches_tinyrec_on_random_cases").status == FAILED
