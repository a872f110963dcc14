"""Losses: hand-computed values, gradient checks on drawn inputs, extreme logits, bad input."""

import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyrec.errors import (
    ArgumentTypeError,
    BackwardBeforeForwardError,
    DataError,
    DTypeError,
    IndexOutOfRangeError,
    ShapeError,
)
from tinyrec.gradcheck import check_loss
from tinyrec.losses import BCELoss, BCEWithLogitsLoss, BPRLoss, CrossEntropyLoss, MaskedMSELoss, MSELoss

REDUCTIONS = ["mean", "sum", "none"]


# -- values by hand ---------------------------------------------------------------------------
def test_mse_by_hand():
    pred, target = np.array([1.0, 2.0, 4.0]), np.array([0.0, 2.0, 1.0])
    assert MSELoss().forward(pred, target) == pytest.approx((1 + 0 + 9) / 3)
    assert MSELoss(reduction="sum").forward(pred, target) == pytest.approx(10.0)
    np.testing.assert_allclose(MSELoss(reduction="none").forward(pred, target), [1.0, 0.0, 9.0])
    loss = MSELoss()
    loss.forward(pred, target)
    np.testing.assert_allclose(loss.backward(), 2 * np.array([1.0, 0.0, 3.0]) / 3)
    np.testing.assert_allclose(loss.backward(3.0), 2 * np.array([1.0, 0.0, 3.0]))


def test_bce_by_hand_and_clamp():
    p, y = np.array([0.8, 0.25]), np.array([1.0, 0.0])
    assert BCELoss().forward(p, y) == pytest.approx(-(np.log(0.8) + np.log(0.75)) / 2)
    # log(0) is clamped at -100, as torch does
    assert BCELoss(reduction="sum").forward(np.array([0.0, 1.0]), np.array([1.0, 0.0])) == pytest.approx(
        200.0
    )
    loss = BCELoss(reduction="sum")
    loss.forward(p, y)
    np.testing.assert_allclose(loss.backward(), [-1 / 0.8, 1 / 0.75])


def test_bce_with_logits_by_hand():
    x, y = np.array([0.0, 2.0, -1.0]), np.array([1.0, 0.0, 1.0])
    expected = [np.log(2), np.log1p(np.exp(2.0)), np.log1p(np.exp(1.0))]
    np.testing.assert_allclose(BCEWithLogitsLoss(reduction="none").forward(x, y), expected)
    loss = BCEWithLogitsLoss(reduction="sum")
    loss.forward(x, y)
    np.testing.assert_allclose(loss.backward(), 1 / (1 + np.exp(-x)) - y)
    # pos_weight multiplies the positive term only
    weighted = BCEWithLogitsLoss(reduction="none", pos_weight=3.0).forward(x, y)
    np.testing.assert_allclose(weighted, [3 * np.log(2), np.log1p(np.exp(2.0)), 3 * np.log1p(np.exp(1.0))])


def test_cross_entropy_by_hand():
    x = np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]])
    idx = np.array([1, 2])
    lse = np.log(np.exp([1.0, 2.0, 3.0]).sum())
    expected = [np.log(3), lse - 3.0]
    np.testing.assert_allclose(CrossEntropyLoss(reduction="none").forward(x, idx), expected)
    # probabilities given as one-hot rows give the same losses
    onehot = np.eye(3)[idx]
    np.testing.assert_allclose(CrossEntropyLoss(reduction="none").forward(x, onehot), expected)
    loss = CrossEntropyLoss(reduction="sum")
    loss.forward(x, idx)
    softmax = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(loss.backward(), softmax - onehot)


def test_cross_entropy_ignore_index_and_unbatched():
    x = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.5]])
    target = np.array([0, -100, 1])
    loss = CrossEntropyLoss()
    full = CrossEntropyLoss(reduction="none").forward(x, np.array([0, 0, 1]))
    assert loss.forward(x, target) == pytest.approx((full[0] + full[2]) / 2)  # mean over 2 kept rows
    grad = loss.backward()
    np.testing.assert_array_equal(grad[1], [0.0, 0.0])
    # an unbatched sample: (C,) logits and a scalar class
    assert CrossEntropyLoss().forward(x[0], np.array(0)) == pytest.approx(full[0])


def test_cross_entropy_with_every_sample_ignored_has_nan_mean_and_zero_gradient():
    """An all-padding batch: 0/0 for the mean, as torch, but no NaN reaches the parameters."""
    x = np.array([[1.0, 2.0], [3.0, -1.0]])
    for smoothing in (0.0, 0.2):
        loss = CrossEntropyLoss(label_smoothing=smoothing)
        assert np.isnan(loss.forward(x, np.array([-100, -100])))
        np.testing.assert_array_equal(loss.backward(), np.zeros_like(x))
    summed = CrossEntropyLoss(reduction="sum")
    assert summed.forward(x, np.array([-100, -100])) == 0.0
    np.testing.assert_array_equal(summed.backward(), np.zeros_like(x))


def test_binary_losses_weight_rescales_each_element():
    p, y = np.array([[0.8, 0.3], [0.4, 0.6]]), np.array([[1.0, 0.0], [0.0, 1.0]])
    w = np.array([2.0, 0.5])  # one weight per column, broadcast over the rows
    plain = BCELoss(reduction="none").forward(p, y)
    np.testing.assert_allclose(BCELoss(w, reduction="none").forward(p, y), plain * w)
    assert BCELoss(w).forward(p, y) == pytest.approx((plain * w).mean())  # still divided by n = 4
    x = np.log(p / (1 - p))
    np.testing.assert_allclose(BCEWithLogitsLoss(w, reduction="none").forward(x, y), plain * w)
    with pytest.raises(ShapeError, match="weight of shape"):
        BCELoss(np.ones(3))(p, y)


def test_reduction_given_by_position_is_refused_with_the_fix():
    """torch's first argument is weight; a reduction passed by position would mean something else."""
    for cls in (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss):
        with pytest.raises(TypeError, match=r"reduction='sum'"):
            cls("sum")
    for cls in (MSELoss, BPRLoss):
        with pytest.raises(TypeError):
            cls("sum")
    with pytest.raises(DataError, match="finite"):
        BCELoss([1.0, float("nan")])


def test_cross_entropy_class_weights_by_hand():
    x = np.array([[0.0, 0.0], [0.0, 0.0]])  # every log p = log(1/2)
    loss = CrossEntropyLoss(weight=[1.0, 3.0])
    # weighted mean: (1·log 2 + 3·log 2) / (1 + 3)
    assert loss.forward(x, np.array([0, 1])) == pytest.approx(np.log(2))
    assert CrossEntropyLoss(reduction="sum", weight=[1.0, 3.0]).forward(x, np.array([0, 1])) == pytest.approx(
        4 * np.log(2)
    )


def test_cross_entropy_label_smoothing_by_hand():
    x, idx, eps = np.array([[1.0, 2.0, 3.0]]), np.array([0]), 0.3
    log_p = x - np.log(np.exp(x).sum())
    expected = -((1 - eps) * log_p[0, 0] + eps / 3 * log_p.sum())
    assert CrossEntropyLoss(label_smoothing=eps).forward(x, idx) == pytest.approx(expected)


def test_bpr_by_hand():
    pos, neg = np.array([0.0, 3.0]), np.array([0.0, 1.0])
    loss = BPRLoss(reduction="none")
    np.testing.assert_allclose(loss.forward(pos, neg), [np.log(2), np.log1p(np.exp(-2.0))])
    bpr = BPRLoss(reduction="sum")
    bpr.forward(pos, neg)
    d_pos, d_neg = bpr.backward()
    sig = 1 / (1 + np.exp([0.0, 2.0]))  # σ(−d)
    np.testing.assert_allclose(d_pos, -sig)
    np.testing.assert_allclose(d_neg, sig)


# -- gradient checks --------------------------------------------------------------------------
def _case(name, rng, n, c):
    """(loss class kwargs-free factory, prediction, target) for a drawn size."""
    if name == "mse":
        return MSELoss, rng.standard_normal((n, c)), rng.standard_normal((n, c))
    if name == "bce":
        return BCELoss, rng.uniform(0.05, 0.95, (n, c)), rng.uniform(0, 1, (n, c))
    if name == "bce_logits":
        return BCEWithLogitsLoss, 3 * rng.standard_normal((n, c)), rng.uniform(0, 1, (n, c))
    if name == "ce_index":
        return CrossEntropyLoss, 2 * rng.standard_normal((n, c)), rng.integers(0, c, n)
    if name == "ce_prob":
        return CrossEntropyLoss, 2 * rng.standard_normal((n, c)), rng.dirichlet(np.ones(c), n)
    return BPRLoss, rng.standard_normal((n, c)), rng.standard_normal((n, c))


@settings(max_examples=40, deadline=None)
@given(
    name=st.sampled_from(["mse", "bce", "bce_logits", "ce_index", "ce_prob", "bpr"]),
    reduction=st.sampled_from(REDUCTIONS),
    n=st.integers(1, 5),
    c=st.integers(1, 4),
    seed=st.integers(0, 2**31 - 1),
)
def test_gradcheck_every_loss_and_reduction(name, reduction, n, c, seed):
    rng = np.random.default_rng(seed)
    cls, prediction, target = _case(name, rng, n, c)
    check_loss(cls(reduction=reduction), prediction, target).assert_ok(1e-6)


@settings(max_examples=20, deadline=None)
@given(reduction=st.sampled_from(REDUCTIONS), seed=st.integers(0, 2**31 - 1))
def test_gradcheck_options(reduction, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((4, 3))
    check_loss(
        BCEWithLogitsLoss(reduction=reduction, pos_weight=[0.5, 2.0, 3.0]), x, rng.uniform(0, 1, (4, 3))
    ).assert_ok()
    element_weight = rng.uniform(0.1, 3.0, (4, 1))  # broadcast over the outputs, as torch's weight
    check_loss(
        BCEWithLogitsLoss(element_weight, reduction=reduction, pos_weight=[0.5, 2.0, 3.0]),
        x, rng.uniform(0, 1, (4, 3)),
    ).assert_ok()  # fmt: skip
    check_loss(
        BCELoss(element_weight, reduction=reduction),
        rng.uniform(0.05, 0.95, (4, 3)),
        rng.uniform(0, 1, (4, 3)),
    ).assert_ok()
    target = np.array([0, -100, 2, 1])
    check_loss(CrossEntropyLoss(reduction=reduction, label_smoothing=0.2), x, target).assert_ok()
    target = np.array([0, 1, 2, 1])
    check_loss(
        CrossEntropyLoss(reduction=reduction, ignore_index=1, label_smoothing=0.1), x, target
    ).assert_ok()
    weighted = CrossEntropyLoss(reduction=reduction, label_smoothing=0.1, weight=[0.5, 2.0, 1.0])
    check_loss(weighted, x, target).assert_ok()
    check_loss(weighted, x, rng.dirichlet(np.ones(3), 4)).assert_ok()


@settings(max_examples=30, deadline=None)
@given(
    reduction=st.sampled_from(REDUCTIONS),
    dims=st.lists(st.integers(1, 3), min_size=1, max_size=2),
    n=st.integers(1, 3),
    c=st.integers(1, 4),
    probabilities=st.booleans(),
    seed=st.integers(0, 2**31 - 1),
)
def test_gradcheck_cross_entropy_with_positions(reduction, dims, n, c, probabilities, seed):
    """(N, C, d1, …) logits: a class distribution at every position, as torch's K-dimensional case."""
    rng = np.random.default_rng(seed)
    x = 2 * rng.standard_normal((n, c, *dims))
    if probabilities:
        target = np.moveaxis(rng.dirichlet(np.ones(c), (n, *dims)), -1, 1)  # (N, C, d1, …)
    else:
        target = rng.integers(0, c, (n, *dims))
        if target.size > 1:  # one ignored position (all ignored would make the mean 0/0, as in torch)
            target[(0,) * target.ndim] = -100
    loss = CrossEntropyLoss(reduction=reduction, label_smoothing=0.1, weight=rng.uniform(0.5, 2.0, c))
    check_loss(loss, x, target).assert_ok(1e-6)


def test_cross_entropy_with_positions_equals_the_flattened_loss():
    rng = np.random.default_rng(0)
    x, target = rng.standard_normal((2, 3, 4)), rng.integers(0, 3, (2, 4))
    flat_x, flat_t = np.moveaxis(x, 1, -1).reshape(-1, 3), target.reshape(-1)
    per_position = CrossEntropyLoss(reduction="none").forward(x, target)
    assert per_position.shape == (2, 4)
    np.testing.assert_allclose(
        per_position.reshape(-1), CrossEntropyLoss(reduction="none").forward(flat_x, flat_t)
    )
    assert CrossEntropyLoss().forward(x, target) == pytest.approx(CrossEntropyLoss().forward(flat_x, flat_t))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_extreme_logits_are_finite(reduction):
    x = np.array([1e4, -1e4, 1e4, -1e4])
    y = np.array([0.0, 1.0, 1.0, 0.0])
    for loss, args in [
        (BCEWithLogitsLoss(reduction=reduction), (x, y)),
        (BCEWithLogitsLoss(reduction=reduction, pos_weight=2.0), (x, y)),
        (BPRLoss(reduction=reduction), (x, -x)),
        (CrossEntropyLoss(reduction=reduction), (np.stack([x, -x], axis=1), np.array([1, 0, 0, 1]))),
    ]:
        value = loss.forward(*args)
        assert np.all(np.isfinite(value))
        grads = loss.backward(np.ones(np.shape(value)) if reduction == "none" else None)
        assert all(np.all(np.isfinite(g)) for g in (grads if isinstance(grads, tuple) else (grads,)))
    # the worst cases are exactly linear: loss 1e4 where the logit points the wrong way
    np.testing.assert_allclose(BCEWithLogitsLoss(reduction="none").forward(x, y), [1e4, 1e4, 0.0, 0.0])


def test_float32_stays_float32():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 2)).astype(np.float32)
    for loss, target in [
        (MSELoss(), np.zeros((3, 2))),
        (BCEWithLogitsLoss(), np.ones((3, 2))),
        (CrossEntropyLoss(), np.array([0, 1, 1])),
    ]:
        loss.forward(x, target)
        assert loss.backward().dtype == np.float32
    assert MSELoss(reduction="none").forward(x, np.zeros((3, 2), np.float32)).dtype == np.float32


# -- bad input --------------------------------------------------------------------------------
def test_shape_mismatch_and_dtype_errors():
    with pytest.raises(ShapeError, match="shape"):
        MSELoss()(np.zeros(3), np.zeros(4))
    with pytest.raises(DTypeError, match="float"):
        MSELoss()(np.zeros(3, dtype=np.int64), np.zeros(3))
    with pytest.raises(DTypeError, match="float target"):
        BCEWithLogitsLoss()(np.zeros(3), np.array([0, 1, 1]))
    with pytest.raises(ShapeError, match="pos_scores"):
        BPRLoss()(np.zeros(3), np.zeros((3, 1)))
    with pytest.raises(DTypeError):
        CrossEntropyLoss()(np.zeros((2, 3)), np.array(["a", "b"]))


def test_bce_range_errors():
    with pytest.raises(DataError, match=r"target must lie in \[0, 1\]"):
        BCELoss()(np.full(2, 0.5), np.array([0.0, 2.0]))
    with pytest.raises(DataError, match="BCEWithLogitsLoss"):
        BCELoss()(np.array([0.5, 1.5]), np.array([0.0, 1.0]))
    with pytest.raises(DataError, match=r"\[0, 1\]"):
        BCEWithLogitsLoss()(np.zeros(2), np.array([-1.0, 1.0]))


def test_cross_entropy_errors():
    with pytest.raises(IndexOutOfRangeError, match="outside the valid range"):
        CrossEntropyLoss()(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(IndexOutOfRangeError):
        CrossEntropyLoss()(np.zeros((2, 3)), np.array([0, -1]))
    with pytest.raises(ShapeError, match="class-index target"):
        CrossEntropyLoss()(np.zeros((2, 3)), np.array([0, 1, 2]))
    with pytest.raises(ShapeError, match=r"class-index target must have shape \(2, 4\)"):
        CrossEntropyLoss()(np.zeros((2, 3, 4)), np.zeros((2, 5), dtype=np.int64))
    with pytest.raises(ShapeError, match="scalar"):
        CrossEntropyLoss()(np.array(1.0), np.array(0))
    with pytest.raises(ShapeError, match="weight has 2 entries but prediction has 3 classes"):
        CrossEntropyLoss(weight=[1.0, 2.0])(np.zeros((2, 3)), np.array([0, 1]))
    with pytest.raises(ShapeError, match="1-D"):
        CrossEntropyLoss(weight=np.ones((2, 2)))


@pytest.mark.parametrize("bad", [1.7, "1", None, True])
def test_cross_entropy_ignore_index_must_be_an_int(bad):
    # 1.7 used to become class 1 silently
    with pytest.raises(ValueError, match="ignore_index must be an integer, got"):
        CrossEntropyLoss(ignore_index=bad)
    assert CrossEntropyLoss(ignore_index=np.int64(2)).ignore_index == 2


@pytest.mark.parametrize("bad", [float("nan"), -0.1, 1.5, "0.1", None])
def test_cross_entropy_label_smoothing_must_be_in_0_1(bad):
    with pytest.raises(ValueError, match=r"label_smoothing must be a number in \[0.0, 1.0\], got"):
        CrossEntropyLoss(label_smoothing=bad)


@pytest.mark.parametrize(
    "build, what",
    [
        (lambda w: CrossEntropyLoss(weight=w), "CrossEntropyLoss weight"),
        (lambda w: BCELoss(w), "BCELoss weight"),
        (lambda w: BCEWithLogitsLoss(w), "BCEWithLogitsLoss weight"),
        (lambda w: BCEWithLogitsLoss(pos_weight=w), "BCEWithLogitsLoss pos_weight"),
    ],
)
def test_weights_must_be_finite_and_nonnegative(build, what):
    # torch accepts these; a negative weight rewards errors, a NaN one makes the loss NaN
    with pytest.raises(DataError, match=f"{what} must be >= 0"):
        build([1.0, -1.0])
    with pytest.raises(DataError, match=f"{what} must be >= 0"):
        build(-1.0)
    with pytest.raises(DataError, match=f"{what} must be finite"):
        build([1.0, float("nan")])
    build([0.0, 2.0])  # zero is allowed


def test_cross_entropy_refuses_negative_or_nan_probability_targets():
    x = np.zeros((2, 3))
    for bad in ([[0.5, -0.1, 0.6], [0.0, 1.0, 0.0]], [[np.nan, 0.5, 0.5], [0.0, 1.0, 0.0]]):
        with pytest.raises(DataError, match="class-probability target must be finite and >= 0"):
            CrossEntropyLoss()(x, np.array(bad))
    # rows need not sum to 1, as in torch (Mult-DAE passes unnormalised counts)
    counts = np.array([[2.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
    assert CrossEntropyLoss(reduction="sum").forward(x, counts) == pytest.approx(3 * np.log(3))


@pytest.mark.parametrize("cls", [MSELoss, BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, BPRLoss])
def test_backward_before_forward(cls):
    with pytest.raises(BackwardBeforeForwardError, match="before forward"):
        cls().backward()


def test_bad_reduction_and_grad_output():
    with pytest.raises(ValueError, match="reduction"):
        MSELoss(reduction="avg")
    loss = MSELoss(reduction="none")
    loss.forward(np.zeros(3), np.ones(3))
    with pytest.raises(ShapeError, match="per-element loss shape"):
        loss.backward(np.ones(4))
    loss = MSELoss()
    loss.forward(np.zeros(3), np.ones(3))
    with pytest.raises(ShapeError, match="must be a number"):
        loss.backward(np.ones(3))
    with pytest.raises(ValueError, match="label_smoothing"):
        CrossEntropyLoss(label_smoothing=1.5)


def test_bad_weights_targets_and_grad_outputs_name_themselves():
    p, y = np.array([0.2, 0.7, 0.5]), np.array([0.0, 1.0, 1.0])
    # a weight that would enlarge the loss: its gradient could not have the prediction's shape
    for loss in (BCELoss(np.ones((3, 1))), BCEWithLogitsLoss(np.ones((3, 1)))):
        with pytest.raises(ShapeError, match="does not broadcast to prediction"):
            loss(p, y)
    # pos_weight too (it used to turn a (3,) prediction into a (3, 3) loss)
    with pytest.raises(ShapeError, match=r"pos_weight of shape \(3, 1\) does not broadcast to prediction"):
        BCEWithLogitsLoss(pos_weight=np.ones((3, 1)))(p, y)
    with pytest.raises(ShapeError, match="pos_weight of shape"):
        BCEWithLogitsLoss(pos_weight=np.ones(2))(p, y)
    assert BCEWithLogitsLoss(pos_weight=np.ones((1,)), reduction="none")(p, y).shape == (3,)
    for weight in ([[1.0, 2.0], [3.0]], ["a"], object()):
        with pytest.raises(TypeError, match="rectangular array of numbers"):
            BCELoss(weight)
    with pytest.raises(ShapeError, match="no classes"):
        CrossEntropyLoss()(np.zeros((2, 0)), np.array([0, 0]))
    loss = MSELoss()
    loss.forward(p, y)
    with pytest.raises(TypeError, match="grad_output must be a number"):
        loss.backward("a")


# -- the checked door and the unchecked one ---------------------------------------------------
def test_the_call_checks_and_forward_is_the_unchecked_path():
    """``loss(prediction, target)`` checks; ``loss.forward`` is the same math without the checks."""
    p, y = np.array([0.2, 0.7]), np.array([0.0, 1.0])
    assert BCELoss()(p, y) == BCELoss().forward(p, y)
    assert BCELoss()(p, [0.0, 1.0]) == BCELoss().forward(p, y)  # a list of floats is an array
    assert MSELoss()(prediction=p, target=y) == MSELoss()(p, y)  # by keyword, as torch's input/target
    with pytest.raises(DTypeError, match="float target"):
        MSELoss()(p, np.array([0, 1]))
    MSELoss().forward(p, np.array([0, 1]))  # unchecked: the caller vouches for its inputs
    with pytest.raises(TypeError, match=r"takes \(prediction, target\), got 1 input"):
        MSELoss()(p)
    with pytest.raises(TypeError, match="unknown keyword"):
        MSELoss()(p, y, weights=y)
    with pytest.raises(TypeError, match=r"BPRLoss takes \(pos_scores, neg_scores\)"):
        BPRLoss()(p, y, y)


def test_the_gradient_comes_back_in_the_prediction_dtype():
    x = np.array([[0.5, -1.0], [2.0, 0.0]], dtype=np.float32)
    for loss, target in [
        (MSELoss(reduction="none"), np.zeros((2, 2))),
        (BCEWithLogitsLoss(reduction="none", pos_weight=[2.0, 1.0]), np.ones((2, 2))),
        (CrossEntropyLoss(reduction="none", label_smoothing=0.1, weight=[1.0, 2.0]), np.array([0, 1])),
        (CrossEntropyLoss(reduction="none"), np.full((2, 2), 0.5)),
        (BPRLoss(reduction="none"), x[::-1].copy()),
    ]:
        value = loss(x, target)
        grads = loss.backward(np.ones(np.shape(value)))  # a float64 grad_output
        for g in grads if isinstance(grads, tuple) else (grads,):
            assert g.dtype == np.float32 and g.shape == x.shape


def test_grad_output_of_none_must_hold_numbers():
    loss = MSELoss(reduction="none")
    loss(np.zeros(2), np.ones(2))
    with pytest.raises(ArgumentTypeError, match="grad_output must hold numbers"):
        loss.backward(np.array(["a", "b"]))
    np.testing.assert_array_equal(loss.backward(), [-2.0, -2.0])  # None means ones


def test_masked_mse_backward_before_forward():
    with pytest.raises(BackwardBeforeForwardError, match=r"call loss\(prediction, target\) first"):
        MaskedMSELoss().backward()


def test_cross_entropy_ignored_samples_get_no_gradient_when_the_weighted_mean_is_nan():
    """Every kept sample has weight 0: the mean is 0/0 and their gradient NaN, as in torch; the
    ignored samples still get exactly zero."""
    x = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.5]])
    loss = CrossEntropyLoss(weight=[0.0, 1.0], ignore_index=1)
    assert np.isnan(loss(x, np.array([0, 1, 0])))
    grad = loss.backward()
    assert np.isnan(grad[[0, 2]]).all()
    np.testing.assert_array_equal(grad[1], [0.0, 0.0])


@pytest.mark.parametrize(
    "options",
    [{}, {"weight": np.linspace(0.5, 2.0, 1700), "label_smoothing": 0.1, "ignore_index": 3}],
    ids=["plain", "weighted_smoothed_ignoring"],
)
def test_cross_entropy_with_class_indices_builds_no_one_hot(options):
    """A full softmax over 1,700 items at 50 positions of 128 users: the memory it allocates is the
    (N, C, d) log-probabilities and the gradient, 2 arrays of the logits' size. A one-hot (or a
    dense target) of that size, held by forward, by the cache or built in backward, would add a
    third while those two are alive (today's implementation peaked at 4-5)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((128, 1700, 50), dtype=np.float32)
    target = rng.integers(0, 1700, (128, 50))
    target[0, :7] = 3  # ignored when ignore_index=3
    loss = CrossEntropyLoss(reduction="mean", **options)
    tracemalloc.start()
    try:
        loss(x, target)
        grad = loss.backward()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert grad.shape == x.shape
    assert peak < 2.5 * x.nbytes, f"peak {peak / x.nbytes:.2f}x the logits: an (M, C) one-hot was built"
