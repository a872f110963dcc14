"""scikit-learn's metrics against tinyrec, to 1e-12 on random cases with ties and empty users.

The settings (docs/metrics.md): ``ndcg_score`` is ``ndcg(ties="average", empty="zero")`` (it
averages the gains of tied items; a row with no relevant item scores 0); ``roc_auc_score`` is
``auc(ties="average")``; ``average_precision_score`` and ``label_ranking_average_precision_score``
are ``map(k=None, denominator="n_rel")`` on rows without ties only (scikit-learn takes a group of
tied scores as one threshold: every relevant item of the group gets the precision at the group's
end, a value no order of the items gives); ``log_loss`` is tinyrec's with ``eps`` = the machine
epsilon of the probabilities' dtype (scikit-learn 1.9 clips at ``finfo(dtype).eps``; tinyrec's
default is 1e-15).
"""

import warnings

import numpy as np
import pytest

from tinyrec import metrics

from .helpers import CUTOFFS, cases, require


def _sk():
    return require("sklearn.metrics", "scikit-learn")


@pytest.mark.parametrize("k", (*CUTOFFS, None))
def test_ndcg_score_is_ndcg_with_averaged_ties_and_empty_rows_zero(k):
    sk = _sk()
    for scores, relevance in cases(1000 + (k or 0), 20, ties=True, graded=True):
        theirs = sk.ndcg_score(relevance, scores, k=k)
        ours = metrics.ndcg(scores, relevance, k, ties="average", empty="zero")
        assert abs(theirs - ours) <= 1e-12


def test_average_precision_without_ties_and_the_tied_threshold_case():
    sk = _sk()
    for scores, relevance in cases(1100, 20, ties=False):
        ours = metrics.map(scores, relevance, None, denominator="n_rel", empty="zero", per_user=True)
        for u in range(len(scores)):  # a row with no relevant item: scikit-learn warns and gives 0
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                assert abs(sk.average_precision_score(relevance[u] > 0, scores[u]) - ours[u]) <= 1e-12
        # label_ranking_average_precision_score gives 1 to a row with no relevant item: left out here
        rows = (relevance > 0).any(axis=1)
        lrap = sk.label_ranking_average_precision_score(relevance[rows] > 0, scores[rows])
        assert abs(lrap - ours[rows].mean()) <= 1e-12
    # ties: scikit-learn gives each relevant item of a tied group the precision at the group's end,
    # which no order gives: here both tied items are relevant, so every order ranks them 2nd and 3rd
    scores, relevance = np.array([[1.0, 0.5, 0.5]]), np.array([[0, 1, 1]])
    theirs = sk.average_precision_score(relevance[0], scores[0])
    assert theirs == pytest.approx(2 / 3)  # recall 0 -> 1 at the threshold 0.5, where precision is 2/3
    for ties in ("pessimistic", "optimistic", "average"):
        ours = metrics.map(scores, relevance, None, denominator="n_rel", ties=ties)
        assert ours == pytest.approx((1 / 2 + 2 / 3) / 2)  # the one value of every order: 7/12, not 2/3


def test_roc_auc_score_is_auc_with_averaged_ties():
    sk = _sk()
    for scores, relevance in cases(1200, 20, ties=True):
        ours = metrics.auc(scores, relevance, ties="average", per_user=True)
        for u in range(1, len(scores)):
            if 0 < relevance[u].sum() and (relevance[u] == 0).any():
                assert abs(sk.roc_auc_score(relevance[u] > 0, scores[u]) - ours[u]) <= 1e-12
        pooled = sk.roc_auc_score((relevance > 0).ravel(), scores.ravel())
        assert abs(pooled - metrics.auc(scores, relevance, ties="average", average="global")) <= 1e-12
        assert abs(pooled - metrics.roc_auc((relevance > 0).ravel().astype(int), scores.ravel())) <= 1e-12


def test_one_class_roc_auc_score_is_nan_with_a_warning():
    """scikit-learn 1.9 returns NaN with an UndefinedMetricWarning; tinyrec's roc_auc raises and
    its ranking auc gives NaN (the docstring of tinyrec.metrics.classification says so)."""
    sk = _sk()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = sk.roc_auc_score([1, 1, 1], [0.2, 0.3, 0.1])
    assert np.isnan(value) and any("Only one class" in str(w.message) for w in caught)
    assert np.isnan(metrics.auc(np.array([[0.2, 0.3, 0.1]]), np.array([[1, 1, 1]]), average="global"))


def test_rating_and_classification_metrics():
    sk = _sk()
    rng = np.random.default_rng(1300)
    for _ in range(20):
        y, p = rng.integers(1, 6, 50).astype(np.float64), rng.uniform(0.5, 5.5, 50)
        assert abs(sk.mean_squared_error(y, p) - metrics.mse(y, p)) <= 1e-12
        assert abs(sk.root_mean_squared_error(y, p) - metrics.rmse(y, p)) <= 1e-12
        assert abs(sk.mean_absolute_error(y, p) - metrics.mae(y, p)) <= 1e-12
        labels, predicted = rng.integers(0, 3, 40), rng.integers(0, 3, 40)
        assert sk.accuracy_score(labels, predicted) == metrics.accuracy(labels, predicted)
        for average in ("binary", "macro"):
            t, q = (labels > 0, predicted > 0) if average == "binary" else (labels, predicted)
            theirs = sk.precision_recall_fscore_support(t, q, average=average, zero_division=0)[:3]
            ours = metrics.precision_recall_f1(t.astype(int), q.astype(int), average=average)
            np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)


def test_log_loss_clips_at_float64_machine_epsilon():
    sk = _sk()
    rng = np.random.default_rng(1400)
    eps = np.finfo(np.float64).eps
    for _ in range(20):
        y = rng.integers(0, 2, 30)
        p = rng.random(30)
        p[:3] = [0.0, 1.0, 1e-17]  # clipped by both, at different bounds by default
        y[:2] = [1, 0]
        assert abs(sk.log_loss(y, p) - metrics.log_loss(y, p, eps=eps)) <= 1e-12
        # tinyrec's default eps = 1e-15: each term clipped at 0 or 1 differs by log(1e-15 / eps) = 1.5
        assert abs(sk.log_loss(y, p) - metrics.log_loss(y, p)) >= np.log(1e-15 / eps) / 30
        probs = rng.dirichlet(np.ones(3), 30)
        probs[0] = [1.0, 0.0, 0.0]
        classes = rng.integers(0, 3, 30)
        classes[:3] = [0, 1, 2]
        assert abs(sk.log_loss(classes, probs) - metrics.log_loss(classes, probs, eps=eps)) <= 1e-12
    # float32 probabilities: scikit-learn clips at float32's epsilon (and computes in float32)
    eps32 = np.finfo(np.float32).eps
    p32 = np.array([0.0, 0.25, 1.0], dtype=np.float32)
    theirs = sk.log_loss([1, 1, 0], p32)
    assert theirs == pytest.approx(metrics.log_loss([1, 1, 0], p32, eps=float(eps32)), rel=1e-6)
    assert theirs == pytest.approx((-2 * np.log(eps32) - np.log(0.25)) / 3, rel=1e-6)
