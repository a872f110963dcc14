"""tinyrec.exercises.ap_over_hits: the solution passes and is tinyrec's map under torchmetrics'
convention, the stub is "not implemented", and typical wrong APs fail with a message that names the
problem."""

from __future__ import annotations

import numpy as np

from tinyrec import metrics
from tinyrec.exercises import ap_over_hits as exercise
from tinyrec.exercises.checking import FAILED, NOT_IMPLEMENTED


def test_the_solution_passes_every_check():
    report = exercise.check(exercise.SOLUTION)
    assert report.ok, str(report)


def test_the_solution_is_tinyrec_s_map_with_the_hits_denominator():
    rng = np.random.default_rng(4)
    for k in (1, 3, 8, 20):
        scores = rng.integers(0, 4, size=(30, 9)).astype(float)  # ties everywhere
        relevance = (rng.random((30, 9)) < 0.3).astype(float)
        ours = metrics.map(scores, relevance, k, ties=np.arange(9), denominator="hits", empty="zero",
                           per_user=True)  # fmt: skip
        np.testing.assert_allclose(exercise.SOLUTION(scores, relevance, k), ours, rtol=0, atol=1e-12)


def test_the_stub_reports_not_implemented():
    report = exercise.check(exercise.STUB)
    assert not report.implemented
    assert all(r.status == NOT_IMPLEMENTED for r in report.results)
    assert "not implemented yet" in str(report)


def _ap(scores, relevance, k, denominator, empty_value=0.0, stable=True):
    order = np.argsort(-scores, axis=1, kind="stable" if stable else "quicksort")
    if not stable:  # equal scores in reverse column order
        order = np.argsort(scores, axis=1, kind="stable")[:, ::-1]
    hit = np.take_along_axis(relevance > 0, order[:, :k], axis=1)
    precision = np.where(hit, np.cumsum(hit, axis=1) / np.arange(1, hit.shape[1] + 1), 0.0).sum(axis=1)
    n_rel = (relevance > 0).sum(axis=1)
    d = {"hits": hit.sum(axis=1), "n_rel": n_rel, "min": np.minimum(k, n_rel)}[denominator]
    return np.where(d > 0, precision / np.maximum(d, 1), empty_value)


def _failed(candidate) -> dict:
    return {r.name: r.message for r in exercise.check(candidate).results if r.status == FAILED}


def test_dividing_by_n_rel_fails_with_the_denominator_named():
    failed = _failed(lambda s, r, k: _ap(s, r, k, "n_rel"))
    assert (
        "divides_by_the_hits_in_the_list" in failed
        and "not by the 3 relevant" in failed["divides_by_the_hits_in_the_list"]
    )
    assert "check_metric_names_the_convention" in failed


def test_nan_for_a_user_without_a_hit_fails():
    failed = _failed(lambda s, r, k: _ap(s, r, k, "hits", empty_value=np.nan))
    assert set(failed) >= {"a_user_without_a_hit_scores_zero"}
    assert "both score 0 (not NaN)" in failed["a_user_without_a_hit_scores_zero"]


def test_reversed_ties_fail_and_check_metric_says_which_order_it_found():
    failed = _failed(lambda s, r, k: _ap(s, r, k, "hits", stable=False))
    assert set(failed) == {"equal_scores_in_column_order", "check_metric_names_the_convention"}
    assert "ties='reverse column order'" in failed["check_metric_names_the_convention"]


def test_returning_the_mean_fails():
    failed = _failed(lambda s, r, k: float(_ap(s, r, k, "hits").mean()))
    assert "one AP per user" in failed["returns_one_value_per_user"]


def _ap_from_order(order, relevance, k, positions):
    hit = np.take_along_axis(relevance > 0, order[:, :k], axis=1)
    hits = hit.sum(axis=1)
    precision = np.where(hit, np.cumsum(hit, axis=1) / positions, 0.0).sum(axis=1)
    return np.where(hits > 0, precision / np.maximum(hits, 1), 0.0)


def test_precision_over_k_instead_of_the_position_fails_by_hand():
    failed = _failed(lambda s, r, k: _ap_from_order(np.argsort(-s, axis=1, kind="stable"), r, k, k))
    assert "P@p = hits@p / p" in failed["one_user_by_hand"]


def test_positions_up_to_k_fail_when_k_is_beyond_the_list():
    def positions_up_to_k(scores, relevance, k):  # 1..k, but the list may be shorter than k
        return _ap_from_order(np.argsort(-scores, axis=1, kind="stable"), relevance, k, np.arange(1, k + 1))

    failed = _failed(positions_up_to_k)
    assert set(failed) >= {"k_beyond_the_list"}
    assert "raised ValueError" in failed["k_beyond_the_list"]
    assert "Hint: k may be larger than the list" in failed["k_beyond_the_list"]


def test_negating_the_scores_in_place_to_sort_them_fails():
    def negates_in_place(scores, relevance, k):
        scores *= -1  # a stable argsort of -scores: best first, ties in column order
        positions = np.arange(1, min(k, scores.shape[1]) + 1)
        return _ap_from_order(np.argsort(scores, axis=1, kind="stable"), relevance, k, positions)

    failed = _failed(negates_in_place)
    assert set(failed) == {"inputs_are_not_modified"}
    assert "in place" in failed["inputs_are_not_modified"]
