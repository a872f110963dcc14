"""tinyrec.testing.check_metric: it names the convention a metric function follows, or says where it
follows none.

The functions checked are built from definitions written out here (not from tinyrec's own code
where the point is to tell a convention apart), plus tinyrec's own functions under each setting.
"""

import numpy as np
import pytest

from tinyrec import metrics
from tinyrec.testing import check_metric, conformance_cases
from tinyrec.testing.metric_check import METRICS


def _stable_order(scores):
    """Positions by decreasing score, equal scores by column (a stable sort: the lower column first)."""
    return np.argsort(-scores, axis=1, kind="stable")


def ap_hits_denominator(scores, relevance, k):
    """torchmetrics-style AP@k written out: the mean precision at the hits of the top k; 0 without one;
    a user with no relevant item scores 0; ties by column order."""
    out = []
    for s, r in zip(scores, relevance > 0, strict=True):
        ranked = r[_stable_order(s[None, :])[0]][:k]
        hits = np.cumsum(ranked)
        precisions = hits[ranked] / (np.flatnonzero(ranked) + 1.0)
        out.append(precisions.mean() if precisions.size else 0.0)
    return np.array(out)


def test_a_written_out_definition_is_recognised():
    report = check_metric(ap_hits_denominator, "map", k=3)
    assert report.ok and report.per_user
    assert {"ties": "column order", "empty": "zero", "denominator": "hits"} in report.matches
    assert "matches tinyrec.metrics.map on every case" in str(report)


@pytest.mark.parametrize("metric", sorted(set(METRICS) - {"average_precision"}))
@pytest.mark.parametrize("k", [1, 4, None])
def test_tinyrec_under_each_setting_matches_that_setting(metric, k):
    fn = METRICS[metric]
    settings = [{"ties": "pessimistic", "empty": "nan"}, {"ties": "average", "empty": "zero"}]
    if metric == "map":
        settings[0]["denominator"], settings[1]["denominator"] = "n_rel", "hits"
    if metric == "ndcg":
        settings[0]["gain"], settings[1]["gain"] = "linear", "exponential"
    for setting in settings:

        def theirs(scores, relevance, cut, setting=setting):
            return fn(scores, relevance, cut, per_user=True, **setting)

        report = check_metric(theirs, metric, k)
        assert setting in report.matches, (metric, k, setting, str(report))


def test_a_mean_is_checked_against_tinyrecs_mean():
    report = check_metric(lambda s, r, k: metrics.ndcg(s, r, k, empty="zero"), "ndcg", k=3)
    assert report.ok and not report.per_user
    assert all(setting["empty"] == "zero" for setting in report.matches)


def test_a_random_tie_order_matches_no_setting_but_lies_between_the_bounds():
    rng = np.random.default_rng(5)

    def shuffled_ties(scores, relevance, k):  # equal scores in an order of its own
        keys = rng.random(scores.shape)
        return metrics.mrr(scores, relevance, k, ties=keys, per_user=True)

    report = check_metric(shuffled_ties, "mrr", k=3)
    assert not report.ok and report.mismatches and report.between
    text = str(report)
    assert "matches no setting" in text and "implementation-defined" in text
    assert any(m.case == "ties" for m in report.mismatches)


def test_a_wrong_definition_is_located():
    def recall_over_k(scores, relevance, k):  # divides by k, not n_rel: precision called recall
        return metrics.precision(scores, relevance, k, per_user=True)

    report = check_metric(recall_over_k, "recall", k=3)
    assert not report.ok and not report.between
    first = report.mismatches[0]
    assert first.case in {c.name for c in conformance_cases(3)} and first.got != first.expected
    assert f"case {first.case!r}" in str(report)


def test_a_function_that_raises_is_reported_not_raised():
    def refuses_short_lists(scores, relevance, k):
        if scores.shape[1] < k:
            raise ValueError("k is larger than the list")
        return metrics.hit_rate(scores, relevance, k, per_user=True)

    report = check_metric(refuses_short_lists, "hit_rate", k=5)
    assert not report.ok
    assert "ValueError: k is larger than the list on case 'k beyond the list'" in str(report)


def test_the_cases_cover_what_the_docstring_says():
    names = [case.name for case in conformance_cases(4, graded=True)]
    assert names == ["no ties", "ties", "no relevant item", "k beyond the list", "graded"]
    for case in conformance_cases(4, graded=True):
        assert (case.scores > 0).all() and case.scores.shape == case.relevance.shape
    ties = conformance_cases(4)[1]
    assert all(len(np.unique(row)) < len(row) for row in ties.scores)
    assert (conformance_cases(4)[2].relevance.sum(axis=1) == 0).any()


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="metric='auc' is not one of"):
        check_metric(lambda s, r, k: 0.0, "auc", k=3)
    with pytest.raises(ValueError, match=r"fn returned shape \(2, 2\)"):
        check_metric(lambda s, r, k: np.zeros((2, 2)), "mrr", k=3)
