"""Tests of tinyrec.nn.pool: MaxPool1d/2d, AvgPool1d/2d, AdaptiveMaxPool1d."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tinyrec.errors import BackwardBeforeForwardError, DTypeError, ShapeError
from tinyrec.gradcheck import check_module
from tinyrec.nn.pool import AdaptiveMaxPool1d, AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d

# -- hand-computed cases --------------------------------------------------------------------------


def test_maxpool1d_hand_computed():
    pool = MaxPool1d(2)
    x = np.array([[[1.0, 5.0, 3.0, 2.0, 7.0]]])  # last element dropped (floor)
    np.testing.assert_array_equal(pool(x), [[[5.0, 3.0]]])
    np.testing.assert_array_equal(pool.backward(np.array([[[10.0, 20.0]]])), [[[0, 10, 20, 0, 0]]])


def test_maxpool1d_overlapping_windows_sum_their_gradients():
    pool = MaxPool1d(3, stride=1)
    x = np.array([[[0.0, 9.0, 1.0, 2.0]]])  # 9 wins both windows
    np.testing.assert_array_equal(pool(x), [[[9.0, 9.0]]])
    np.testing.assert_array_equal(pool.backward(np.array([[[1.0, 2.0]]])), [[[0, 3, 0, 0]]])


def test_maxpool_ties_send_the_gradient_to_the_first_maximum():
    pool = MaxPool1d(3)
    x = np.array([[[2.0, 4.0, 4.0, 4.0, 1.0, 4.0]]])
    pool(x)
    np.testing.assert_array_equal(pool.backward(np.ones((1, 1, 2))), [[[0, 1, 0, 1, 0, 0]]])
    pool2 = MaxPool2d(2)
    pool2(np.array([[[[1.0, 3.0], [3.0, 3.0]]]]))  # row-major: (0, 1) comes first
    np.testing.assert_array_equal(pool2.backward(np.ones((1, 1, 1, 1))), [[[[0, 1], [0, 0]]]])


def test_maxpool_padding_is_minus_infinity():
    pool = MaxPool1d(2, stride=2, padding=1)
    x = -np.array([[[1.0, 2.0, 3.0]]])  # all negative: a zero padding would win
    np.testing.assert_array_equal(pool(x), [[[-1.0, -2.0]]])
    np.testing.assert_array_equal(pool.backward(np.array([[[1.0, 1.0]]])), [[[1, 1, 0]]])
    # a real −inf still beats the padding: the first real element of the window takes the gradient
    x = np.array([[[-np.inf, -np.inf, 1.0, -np.inf]]])
    pool = MaxPool1d(3, stride=1, padding=1)
    np.testing.assert_array_equal(pool(x), [[[-np.inf, 1.0, 1.0, 1.0]]])
    np.testing.assert_array_equal(pool.backward(np.ones((1, 1, 4))), [[[1, 0, 3, 0]]])


def test_maxpool2d_hand_computed():
    x = np.array([[[[1.0, 2.0, 0.0, 1.0], [3.0, 0.0, 5.0, 4.0], [0.0, 1.0, 2.0, 2.0], [6.0, 0.0, 1.0, 9.0]]]])
    pool = MaxPool2d(2)
    np.testing.assert_array_equal(pool(x), [[[[3.0, 5.0], [6.0, 9.0]]]])
    dx = pool.backward(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]))
    expected = np.zeros((4, 4))
    expected[1, 0], expected[1, 2], expected[3, 0], expected[3, 3] = 1, 2, 3, 4
    np.testing.assert_array_equal(dx[0, 0], expected)


def test_avgpool1d_hand_computed_with_and_without_padding_in_the_count():
    x = np.array([[[3.0, 6.0, 9.0]]])
    with_pad = AvgPool1d(2, stride=2, padding=1)
    np.testing.assert_allclose(with_pad(x), [[[1.5, 7.5]]])  # [0,3]/2, [6,9]/2
    np.testing.assert_allclose(with_pad.backward(np.array([[[2.0, 4.0]]])), [[[1.0, 2.0, 2.0]]])
    without = AvgPool1d(2, stride=2, padding=1, count_include_pad=False)
    np.testing.assert_allclose(without(x), [[[3.0, 7.5]]])  # [3]/1, [6,9]/2
    np.testing.assert_allclose(without.backward(np.array([[[2.0, 4.0]]])), [[[2.0, 2.0, 2.0]]])


def test_avgpool2d_hand_computed():
    pool = AvgPool2d(2)
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    np.testing.assert_allclose(pool(x), [[[[2.5, 4.5], [10.5, 12.5]]]])
    np.testing.assert_allclose(pool.backward(np.full((1, 1, 2, 2), 4.0)), np.ones((1, 1, 4, 4)))


def test_adaptive_max_pool_one_is_the_max_over_time():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4, 9))
    pool = AdaptiveMaxPool1d(1)
    np.testing.assert_array_equal(pool(x)[..., 0], x.max(axis=2))
    dx = pool.backward(np.ones((3, 4, 1)))
    np.testing.assert_array_equal(dx, (x == x.max(axis=2, keepdims=True)).astype(float))


@pytest.mark.parametrize("length, out", [(10, 4), (7, 3), (5, 5), (3, 7), (1, 2)])
def test_adaptive_max_pool_bins_follow_torch(length, out):
    rng = np.random.default_rng(length * 10 + out)
    x = rng.standard_normal((2, 3, length))
    pool = AdaptiveMaxPool1d(out)
    y = pool(x)
    dy = rng.standard_normal(y.shape)
    dx = pool.backward(dy)
    ref_dx = np.zeros_like(x)
    for t in range(out):  # the definition: bin t = [floor(t L / out), ceil((t + 1) L / out))
        lo, hi = (t * length) // out, math.ceil((t + 1) * length / out)
        np.testing.assert_array_equal(y[:, :, t], x[:, :, lo:hi].max(axis=2))
        where = lo + x[:, :, lo:hi].argmax(axis=2)
        for n in range(2):
            for c in range(3):
                ref_dx[n, c, where[n, c]] += dy[n, c, t]
    np.testing.assert_allclose(dx, ref_dx, rtol=1e-14)


# -- gradient checks ------------------------------------------------------------------------------

_pool1d = st.tuples(st.integers(1, 4), st.integers(1, 3)).flatmap(
    lambda ks: st.tuples(st.just(ks[0]), st.just(ks[1]), st.integers(0, ks[0] // 2))
)


@settings(max_examples=25, deadline=None)
@given(
    batch=st.integers(1, 3),
    channels=st.integers(1, 3),
    length=st.integers(1, 9),
    kernel_stride_padding=_pool1d,
    kind=st.sampled_from(["max", "avg", "avg-no-pad-count"]),
    seed=st.integers(0, 2**16),
)
def test_pool1d_gradcheck(batch, channels, length, kernel_stride_padding, kind, seed):
    kernel, stride, padding = kernel_stride_padding
    assume(length + 2 * padding >= kernel)
    if kind == "max":
        pool = MaxPool1d(kernel, stride, padding)
    else:
        pool = AvgPool1d(kernel, stride, padding, count_include_pad=kind == "avg")
    x = np.random.default_rng(seed).standard_normal((batch, channels, length))
    check_module(pool, x, seed=seed + 1).assert_ok(1e-6)


@settings(max_examples=20, deadline=None)
@given(
    size=st.tuples(st.integers(2, 6), st.integers(2, 6)),
    kernel=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    stride=st.tuples(st.integers(1, 2), st.integers(1, 2)),
    kind=st.sampled_from(["max", "avg"]),
    seed=st.integers(0, 2**16),
)
def test_pool2d_gradcheck(size, kernel, stride, kind, seed):
    assume(all(s >= k for s, k in zip(size, kernel, strict=True)))
    padding = tuple(k // 2 for k in kernel)
    pool = (MaxPool2d if kind == "max" else AvgPool2d)(kernel, stride, padding)
    x = np.random.default_rng(seed).standard_normal((2, 2, *size))
    check_module(pool, x, seed=seed + 1).assert_ok(1e-6)


@settings(max_examples=25, deadline=None)
@given(length=st.integers(1, 10), out=st.integers(1, 6), seed=st.integers(0, 2**16))
def test_adaptive_max_pool_gradcheck(length, out, seed):
    x = np.random.default_rng(seed).standard_normal((2, 3, length))
    check_module(AdaptiveMaxPool1d(out), x, seed=seed + 1).assert_ok(1e-6)


# -- shapes, dtypes, errors -----------------------------------------------------------------------


def test_default_stride_is_the_kernel_and_unbatched_inputs_work():
    pool = MaxPool1d(3)
    assert pool.stride == (3,)
    x = np.random.default_rng(0).standard_normal((2, 10)).astype(np.float32)
    y = pool(x)
    assert y.shape == (2, 3) and y.dtype == np.float32
    assert pool.backward(np.ones_like(y)).shape == (2, 10)
    assert AdaptiveMaxPool1d(1)(x).shape == (2, 1)


@pytest.mark.parametrize(
    "pool, x_shape, y_shape",
    [
        (MaxPool1d(2), (0, 3, 6), (0, 3, 3)),
        (MaxPool1d(3, stride=1, padding=1), (0, 2, 5), (0, 2, 5)),
        (MaxPool2d(2), (0, 3, 6, 4), (0, 3, 3, 2)),
        (MaxPool2d(2, padding=1), (0, 1, 3, 3), (0, 1, 2, 2)),
        (AvgPool1d(2), (0, 3, 6), (0, 3, 3)),
        (AvgPool2d(2), (0, 3, 6, 4), (0, 3, 3, 2)),
        (AdaptiveMaxPool1d(2), (0, 3, 5), (0, 3, 2)),
    ],
    ids=repr,
)
def test_empty_batch_gives_an_empty_output_and_gradient_as_torch(pool, x_shape, y_shape):
    # max pooling used to fail with numpy's "cannot reshape array of size 0"
    y = pool(np.zeros(x_shape, dtype=np.float32))
    assert y.shape == y_shape and y.dtype == np.float32
    dx = pool.backward(np.zeros(y_shape, dtype=np.float32))
    assert dx.shape == x_shape and dx.dtype == np.float32


def test_pool_errors():
    with pytest.raises(ShapeError, match="shorter than the kernel"):
        MaxPool1d(4)(np.zeros((1, 2, 3), dtype=np.float32))
    with pytest.raises(ShapeError, match="shorter than the kernel"):
        AvgPool2d(3)(np.zeros((1, 2, 5, 2), dtype=np.float32))
    with pytest.raises(ShapeError, match="more than half the kernel"):
        MaxPool1d(2, padding=2)
    with pytest.raises(ShapeError, match="kernel_size"):
        AvgPool1d(0)
    with pytest.raises(ShapeError, match="output_size"):
        AdaptiveMaxPool1d(0)
    with pytest.raises(ShapeError, match="empty"):
        AdaptiveMaxPool1d(1)(np.zeros((2, 3, 0), dtype=np.float32))
    with pytest.raises(DTypeError, match="float array"):
        MaxPool1d(2)(np.zeros((1, 2, 4), dtype=np.int64))  # no float dtype to follow
    with pytest.raises(ShapeError, match="batch, channels, height, width"):
        MaxPool2d(2)(np.zeros((4,), dtype=np.float32))


@pytest.mark.parametrize(
    "pool, x_shape",
    [
        (MaxPool1d(2), (1, 2, 4)),
        (MaxPool2d(2, padding=1), (1, 1, 3, 3)),
        (AvgPool1d(3, padding=1, count_include_pad=False), (2, 2, 5)),
        (AvgPool2d(2), (1, 2, 4, 4)),
        (AdaptiveMaxPool1d(2), (1, 2, 5)),
    ],
    ids=repr,
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pools_have_no_dtype_and_compute_in_the_inputs_dtype(pool, x_shape, dtype):
    """As torch's pools: no parameters, so no dtype of their own; float32 and float64 both work."""
    x = np.random.default_rng(0).standard_normal(x_shape).astype(dtype)
    y = pool(x)
    dx = pool.backward(np.ones_like(y))
    assert y.dtype == dtype and dx.dtype == dtype and dx.shape == x.shape
    other = np.float64 if dtype == np.float32 else np.float32
    with pytest.raises(DTypeError, match=f"computes in {np.dtype(dtype).name}"):
        pool.backward(np.ones_like(y, dtype=other))  # dY must still have the output's dtype
    with pytest.raises(DTypeError, match="float array"):
        pool(x.astype(np.int32))


@pytest.mark.parametrize("cls", [MaxPool1d, MaxPool2d, AvgPool1d, AvgPool2d, AdaptiveMaxPool1d])
def test_pools_take_no_dtype_nor_seed(cls):
    with pytest.raises(TypeError):
        cls(2, dtype=np.float64)
    with pytest.raises(TypeError):
        cls(2, seed=0)


@pytest.mark.parametrize(
    "pool, x_shape",
    [(MaxPool1d(2), (1, 2, 4)), (AvgPool2d(2), (1, 1, 2, 2)), (AdaptiveMaxPool1d(2), (1, 2, 4))],
    ids=repr,
)
def test_pool_backward_errors(pool, x_shape):
    with pytest.raises(BackwardBeforeForwardError):
        pool.backward(np.zeros((1,), dtype=np.float32))
    y = pool(np.zeros(x_shape, dtype=np.float32))
    with pytest.raises(ShapeError, match="grad_output of shape"):
        pool.backward(np.zeros(y.shape + (1,), dtype=np.float32))
