"""Rating errors, classification metrics and catalogue metrics: hand examples and bad input."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyrec import metrics
from tinyrec.errors import DataError, DTypeError, IndexOutOfRangeError, NonFiniteError, ShapeError


# ---------------------------------------------------------------- rating
def test_rating_errors_hand_example():
    y, p = np.array([4.0, 3.0, 5.0, 1.0]), np.array([3.5, 3.0, 3.0, 2.0])
    # errors: -0.5, 0, -2, 1 -> squares 0.25, 0, 4, 1 ; absolutes 0.5, 0, 2, 1
    assert metrics.mse(y, p) == pytest.approx(5.25 / 4, abs=1e-15)
    assert metrics.rmse(y, p) == pytest.approx(math.sqrt(5.25 / 4), abs=1e-15)
    assert metrics.mae(y, p) == pytest.approx(3.5 / 4, abs=1e-15)
    assert metrics.rmse(y.astype(np.float32), p.astype(np.float32)) == pytest.approx(math.sqrt(5.25 / 4))


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 50), seed=st.integers(0, 10**6))
def test_rating_error_relations(n, seed):
    rng = np.random.default_rng(seed)
    y, p = rng.uniform(1, 5, n), rng.uniform(1, 5, n)
    assert metrics.mae(y, p) <= metrics.rmse(y, p) + 1e-12  # Jensen
    assert metrics.rmse(y, y) == 0.0
    by_loop = math.sqrt(sum((b - a) ** 2 for a, b in zip(y, p, strict=True)) / n)
    assert metrics.rmse(y, p) == pytest.approx(by_loop)


def test_rating_bad_input():
    with pytest.raises(ShapeError, match="must match"):
        metrics.rmse([1.0, 2.0], [1.0])
    with pytest.raises(ShapeError, match="empty"):
        metrics.mae([], [])
    with pytest.raises(NonFiniteError, match="y_pred"):
        metrics.mse([1.0], [np.nan])
    with pytest.raises(DTypeError, match="numeric"):
        metrics.rmse(["a"], [1.0])


# ---------------------------------------------------------------- classification
def test_accuracy_and_binary_precision_recall_f1():
    y = np.array([1, 0, 1, 1, 0, 0])
    p = np.array([1, 1, 0, 1, 0, 0])  # TP 2, FP 1, FN 1, TN 2
    assert metrics.accuracy(y, p) == pytest.approx(4 / 6)
    prec, rec, f1 = metrics.precision_recall_f1(y, p)
    assert (prec, rec) == pytest.approx((2 / 3, 2 / 3)) and f1 == pytest.approx(2 / 3)
    # class 0 as the positive one: TP 2, FP 1, FN 1
    assert metrics.precision_recall_f1(y, p, pos_label=0) == pytest.approx((2 / 3, 2 / 3, 2 / 3))


def test_macro_average_and_zero_division():
    y = np.array([0, 1, 2, 2])
    p = np.array([0, 2, 2, 2])
    # class 0: P 1, R 1, F 1 ; class 1: P 0/0 -> 0, R 0, F 0 ; class 2: P 2/3, R 1, F 0.8
    prec, rec, f1 = metrics.precision_recall_f1(y, p, average="macro")
    assert prec == pytest.approx((1 + 0 + 2 / 3) / 3)
    assert rec == pytest.approx((1 + 0 + 1) / 3)
    assert f1 == pytest.approx((1 + 0 + 0.8) / 3)
    assert metrics.precision_recall_f1([0, 0], [0, 0]) == (0.0, 0.0, 0.0)  # no positive at all


def test_log_loss_binary_and_multiclass():
    y = np.array([1, 0, 1])
    p = np.array([0.9, 0.2, 0.6])
    assert metrics.log_loss(y, p) == pytest.approx(-(math.log(0.9) + math.log(0.8) + math.log(0.6)) / 3)
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    assert metrics.log_loss([0, 2], probs) == pytest.approx(-(math.log(0.7) + math.log(0.8)) / 2)
    assert metrics.log_loss([1], [0.0]) == pytest.approx(-math.log(1e-15))  # clipped, finite


def test_roc_auc_counts_ties_as_half():
    y = np.array([0, 1, 1, 0, 1])
    s = np.array([0.1, 0.4, 0.4, 0.4, 0.9])
    # pairs (pos, neg): 0.4>0.1, 0.4=0.4 (1/2), twice; 0.9 beats both -> (1+.5+1+.5+1+1)/6
    assert metrics.roc_auc(y, s) == pytest.approx(5 / 6)
    assert metrics.roc_auc(y.astype(bool), s) == pytest.approx(5 / 6)


def test_classification_bad_input():
    with pytest.raises(ShapeError, match="must match"):
        metrics.accuracy([1, 0], [1])
    with pytest.raises(ShapeError, match="1-D"):
        metrics.accuracy([[1]], [[1]])
    with pytest.raises(ValueError, match="average"):
        metrics.precision_recall_f1([1], [1], average="micro")
    with pytest.raises(DataError, match="probabilities"):
        metrics.log_loss([1], [1.5])
    with pytest.raises(DataError, match="0/1"):
        metrics.log_loss([2], [0.5])
    with pytest.raises(DataError, match=r"\[0, 3\)"):
        metrics.log_loss([3], np.full((1, 3), 1 / 3))
    with pytest.raises(DTypeError, match="integer labels"):
        metrics.log_loss([0.5], [0.5])
    with pytest.raises(NonFiniteError):
        metrics.roc_auc([0, 1], [0.2, np.nan])


def test_one_class_roc_auc_raises_and_ranking_auc_gives_nan():
    # undefined (no positive or no negative to compare): roc_auc, one number, raises as scikit-learn;
    # the ranking metric gives NaN, the documented rule of tinyrec.metrics for users averaged over
    scores = np.array([0.2, 0.3, 0.1])
    for labels in ([1, 1, 1], [0, 0, 0]):
        with pytest.raises(DataError, match="needs both classes"):
            metrics.roc_auc(labels, scores)
        relevance = np.array(labels)[None, :]
        assert math.isnan(metrics.auc(scores[None, :], relevance, average="global"))
        assert math.isnan(metrics.auc(scores[None, :], relevance))  # no user has both kinds
    assert metrics.roc_auc([0, 1, 1], scores) == pytest.approx(0.5)


# ---------------------------------------------------------------- catalogue
def test_catalog_coverage_hand_example():
    lists = np.array([[0, 1, 2], [1, 2, 3], [2, -1, -1]])
    assert metrics.catalog_coverage(lists, 10) == pytest.approx(4 / 10)
    assert metrics.catalog_coverage(np.zeros((0, 3), dtype=np.int64), 5) == 0.0


def test_novelty_hand_example():
    counts = np.array([8, 4, 2, 1])  # of 8 users: self-information 0, 1, 2, 3 bits
    lists = np.array([[0, 1], [2, 3], [3, -1], [-1, -1]])
    per_user = metrics.novelty(lists, counts, 8, per_user=True)
    np.testing.assert_allclose(per_user[:3], [0.5, 2.5, 3.0])
    assert np.isnan(per_user[3])
    assert metrics.novelty(lists, counts, 8) == pytest.approx(2.0)


def test_catalog_bad_input():
    with pytest.raises(IndexOutOfRangeError, match=r"\[0, 4\)"):
        metrics.catalog_coverage(np.array([[4]]), 4)
    with pytest.raises(DTypeError, match="integer"):
        metrics.catalog_coverage(np.array([[0.5]]), 4)
    with pytest.raises(ShapeError, match="2-D"):
        metrics.catalog_coverage(np.array([1, 2]), 4)
    with pytest.raises(DataError, match="infinite"):
        metrics.novelty(np.array([[1]]), np.array([3, 0]), 5)
    with pytest.raises(DataError, match="n_users"):
        metrics.novelty(np.array([[1]]), np.array([3, 9]), 5)
    with pytest.raises(ValueError, match="n_users must be"):
        metrics.novelty(np.array([[1]]), np.array([0, 0]), 0)
    for counts in ([np.nan], [np.inf]):  # NaN used to pass the range check and give NaN
        with pytest.raises(NonFiniteError, match="item_counts contains 1 NaN or inf"):
            metrics.novelty([[0]], counts, 3)
    with pytest.raises(TypeError, match="per_user must be True or False"):
        metrics.novelty([[0]], [1], 3, per_user="no")
    with pytest.raises(ValueError, match="n_items must be"):
        metrics.catalog_coverage(np.array([[0]]), 0)
    with pytest.raises(ValueError, match="n_items must be a positive integer"):
        metrics.catalog_coverage(np.array([[0]]), 2.5)  # was np.bincount's TypeError
