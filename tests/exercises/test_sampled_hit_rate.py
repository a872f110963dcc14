"""tinyrec.exercises.sampled_hit_rate: full marks for the reference, none for the stub, and typical
wrong HR@k lose marks with feedback naming the problem (never the answer)."""

from __future__ import annotations

import numpy as np
import pytest

from tinyrec.exercises import sampled_hit_rate as exercise
from tinyrec.exercises.checking import FAILED


def test_the_solution_gets_full_marks():
    report = exercise.check(exercise.SOLUTION)
    assert report.ok and report.score == report.max_score == 12, str(report)


def test_the_stub_scores_zero():
    assert exercise.check(exercise.STUB).score == 0


def _rank(scores, positives, negatives, strict=False):
    users = np.arange(len(positives))
    positive = scores[users, positives][:, None]
    negative = scores[users[:, None], negatives]
    return 1 + ((negative > positive) if strict else (negative >= positive)).sum(axis=1)


def optimistic_ties(scores, positives, negatives, k):
    return float(np.mean(_rank(scores, positives, negatives, strict=True) <= k))


def rank_below_k(scores, positives, negatives, k):
    return float(np.mean(_rank(scores, positives, negatives) < k))  # off by one: rank k is a miss


def ranks_the_whole_catalogue(scores, positives, negatives, k):
    users = np.arange(len(positives))
    positive = scores[users, positives][:, None]
    rank = (scores >= positive).sum(axis=1)  # every item, the positive itself counted once
    return float(np.mean(rank <= k))


def negatives_as_positions(scores, positives, negatives, k):
    users = np.arange(len(positives))
    positive = scores[users, positives][:, None]
    negative = scores[:, : negatives.shape[1]]  # the first m columns, not the sampled ids
    return float(np.mean(1 + (negative >= positive).sum(axis=1) <= k))


def per_user_hits(scores, positives, negatives, k):
    return _rank(scores, positives, negatives) <= k  # one hit per user, never averaged


def kth_best_negative(scores, positives, negatives, k):  # a hit beats the k-th best negative
    users = np.arange(len(positives))
    negative = scores[users[:, None], negatives]
    kth = -np.partition(-negative, k - 1, axis=1)[:, k - 1]  # assumes k negatives at least
    return float(np.mean(scores[users, positives] > kth))


def masks_the_catalogue_in_place(scores, positives, negatives, k):
    users = np.arange(len(positives))
    candidate = np.zeros(scores.shape, dtype=bool)
    candidate[users, positives] = candidate[users[:, None], negatives] = True
    scores[~candidate] = -np.inf  # only the candidates compete
    rank = (scores >= scores[users, positives][:, None]).sum(axis=1)  # the positive counts itself
    return float(np.mean(rank <= k))


@pytest.mark.parametrize(
    "wrong, check, words",
    [
        (optimistic_ties, "ties_are_pessimistic", "pessimistic ties"),
        (rank_below_k, "one_user_by_hand", "a hit is rank ≤ k"),
        (ranks_the_whole_catalogue, "only_the_candidates_are_ranked", "negatives[u] only"),
        (negatives_as_positions, "negatives_are_item_ids", "negatives holds item ids"),
        (per_user_hits, "returns_a_float", "not one number"),
        (kth_best_negative, "k_larger_than_the_candidates", "Hint: k may be larger than the candidates"),
        (masks_the_catalogue_in_place, "inputs_are_not_modified", "in place"),
    ],
    ids=["optimistic", "rank < k", "whole catalogue", "positions", "per user", "k-th negative", "in place"],
)
def test_a_wrong_hit_rate_loses_marks_with_a_message_naming_the_problem(wrong, check, words):
    report = exercise.check(wrong)
    assert report.implemented and report.score < report.max_score
    result = report.result(check)
    assert result.status == FAILED, str(report)
    assert words in result.message, result.message
    for r in report.failures:  # a hint, never the answer
        assert ">=" not in r.message and "users[:, None]" not in r.message


@pytest.mark.parametrize(
    "wrong", [optimistic_ties, rank_below_k, ranks_the_whole_catalogue, negatives_as_positions]
)
def test_random_cases_catch_it_too(wrong):
    assert exercise.check(wrong).result("matches_tinyrec_on_random_cases").status == FAILED
