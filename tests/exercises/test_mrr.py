"""tinyrec.exercises.mrr: the solution passes, the stub is "not implemented", and typical wrong MRRs
fail with a message that names the problem."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tinyrec import metrics
from tinyrec.exercises import mrr as exercise
from tinyrec.exercises.checking import FAILED, NOT_IMPLEMENTED


def test_the_solution_passes_every_check():
    report = exercise.check(exercise.SOLUTION)
    assert report.ok, str(report)


def test_the_solution_is_tinyrec_s_mrr():
    rng = np.random.default_rng(3)
    for _ in range(10):
        scores = rng.integers(0, 4, size=(40, 9)).astype(float)
        relevance = (rng.random((40, 9)) < 0.2).astype(float)
        relevance[0, 0] = 1
        expected = metrics.mrr(scores, relevance)
        assert math.isclose(exercise.SOLUTION(scores, relevance), expected, abs_tol=1e-12)


def test_the_stub_reports_not_implemented():
    report = exercise.check(exercise.STUB)
    assert not report.implemented
    assert all(r.status == NOT_IMPLEMENTED for r in report.results)
    assert "not implemented yet" in str(report)


def _first_relevant_best(scores, relevance):
    rel = relevance > 0
    return rel, np.where(rel, scores, -np.inf).max(axis=1, keepdims=True)


def optimistic_ties(scores, relevance):
    rel, best = _first_relevant_best(scores, relevance)
    before = (scores > best).sum(axis=1)
    return float(np.mean(1.0 / (before[rel.any(axis=1)] + 1)))


def zero_for_users_without_relevant(scores, relevance):
    rel, best = _first_relevant_best(scores, relevance)
    before = (scores > best).sum(axis=1) + ((scores == best) & ~rel).sum(axis=1)
    return float(np.mean(np.where(rel.any(axis=1), 1.0 / (before + 1), 0.0)))


def relevant_ties_count_against(scores, relevance):
    rel, best = _first_relevant_best(scores, relevance)
    position = (scores >= best).sum(axis=1)
    return float(np.mean(1.0 / position[rel.any(axis=1)]))


def mean_over_every_relevant_item(scores, relevance):
    values = []
    for s, r in zip(scores, relevance > 0, strict=True):
        if r.any():
            ranks = [1 + np.sum(s > s[j]) + np.sum((s == s[j]) & ~r) for j in np.flatnonzero(r)]
            values.append(np.mean([1 / k for k in ranks]))
    return float(np.mean(values))


def ranks_ascending(scores, relevance):  # np.argsort without the minus: the lowest score comes first
    order = np.argsort(scores, axis=1, kind="stable")
    hits = np.take_along_axis(relevance > 0, order, axis=1)
    has = hits.any(axis=1)
    return float(np.mean(1.0 / (hits.argmax(axis=1)[has] + 1)))


def per_user_array(scores, relevance):
    rel, best = _first_relevant_best(scores, relevance)
    return 1.0 / ((scores > best).sum(axis=1) + ((scores == best) & ~rel).sum(axis=1) + 1)


@pytest.mark.parametrize(
    "wrong, check, words",
    [
        (optimistic_ties, "ties_are_pessimistic", "pessimistic"),
        (zero_for_users_without_relevant, "users_without_a_relevant_candidate_are_left_out", "not counted"),
        (relevant_ties_count_against, "relevant_candidates_tied_with_each_other", "share the top score"),
        (mean_over_every_relevant_item, "first_relevant_candidate_counts", "only the first counts"),
        (per_user_array, "returns_a_float", "not one number"),
        (ranks_ascending, "one_user_by_hand", "the relevant candidate is ranked first"),
    ],
    ids=[
        "optimistic",
        "zero for empty users",
        "relevant ties",
        "every relevant item",
        "per user",
        "ascending",
    ],
)
def test_a_wrong_mrr_fails_with_a_message_naming_the_problem(wrong, check, words):
    report = exercise.check(wrong)
    assert not report.ok and report.implemented
    result = report.result(check)
    assert result.status == FAILED, str(report)
    assert words in result.message
    assert report.result("matches_the_reference_on_random_cases").status == FAILED


def test_a_wrong_mrr_that_writes_into_its_arguments_is_named():
    def clobbers(scores, relevance):
        scores[relevance <= 0] = -np.inf  # "mask" the irrelevant items, in place
        return exercise.SOLUTION(scores, relevance)

    message = exercise.check(clobbers).result("inputs_are_not_modified").message
    assert "in place" in message
