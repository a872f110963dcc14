"""Tests of tinyrec.nn.conv (Conv1d, Conv2d) and the im2col helpers it is built on."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tinyrec.errors import BackwardBeforeForwardError, DTypeError, ShapeError
from tinyrec.gradcheck import check_module
from tinyrec.nn.conv import Conv1d, Conv2d
from tinyrec.nn.im2col import col2im, im2col, output_shape


def _conv1d_loops(x, w, b, stride, padding, dilation):
    """Direct definition, with loops: Y[n,o,t] = b[o] + Σ_c Σ_j W[o,c,j] X_pad[n,c,t·s + j·d]."""
    xp = np.pad(x, [(0, 0), (0, 0), (padding, padding)])
    n, _, length = xp.shape
    o, _, k = w.shape
    out = (length - dilation * (k - 1) - 1) // stride + 1
    y = np.zeros((n, o, out))
    for t in range(out):
        for j in range(k):
            y[:, :, t] += xp[:, :, t * stride + j * dilation] @ w[:, :, j].T
    return y + (0 if b is None else b[:, None])


# -- hand-computed cases --------------------------------------------------------------------------


def test_conv1d_hand_computed_forward_and_backward():
    conv = Conv1d(1, 1, 2, dtype=np.float64)
    conv.weight.data[...] = [[[1.0, 2.0]]]
    conv.bias.data[...] = [0.5]
    x = np.array([[[1.0, 2.0, 3.0, 4.0]]])
    # windows [1,2], [2,3], [3,4]: 1·1 + 2·2 + .5, 2 + 6 + .5, 3 + 8 + .5
    np.testing.assert_allclose(conv(x), [[[5.5, 8.5, 11.5]]])
    dx = conv.backward(np.ones((1, 1, 3)))
    np.testing.assert_allclose(dx, [[[1.0, 3.0, 3.0, 2.0]]])  # x_i is read by w_0 and/or w_1
    np.testing.assert_allclose(conv.weight.grad, [[[6.0, 9.0]]])  # 1+2+3, 2+3+4
    np.testing.assert_allclose(conv.bias.grad, [3.0])


def test_conv1d_hand_computed_stride_and_padding():
    conv = Conv1d(1, 1, 2, stride=2, padding=1, dtype=np.float64)
    conv.weight.data[...] = [[[1.0, 2.0]]]
    conv.bias.data[...] = [0.5]
    # padded [0, 1, 2, 3, 4, 0]: windows [0,1], [2,3], [4,0]
    y = conv(np.array([[[1.0, 2.0, 3.0, 4.0]]]))
    np.testing.assert_allclose(y, [[[2.5, 8.5, 4.5]]])
    dx = conv.backward(np.array([[[1.0, 10.0, 100.0]]]))
    np.testing.assert_allclose(dx, [[[2.0, 10.0, 20.0, 100.0]]])


def test_conv2d_hand_computed_block_sums():
    conv = Conv2d(1, 1, 2, bias=False, dtype=np.float64)
    conv.weight.data[...] = 1.0
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    np.testing.assert_allclose(conv(x), [[[[8.0, 12.0], [20.0, 24.0]]]])
    dx = conv.backward(np.ones((1, 1, 2, 2)))
    np.testing.assert_allclose(dx[0, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])  # windows covering each pixel


def test_conv1d_matches_direct_definition():
    rng = np.random.default_rng(0)
    conv = Conv1d(3, 4, 3, stride=2, padding=2, dilation=2, dtype=np.float64, seed=1)
    x = rng.standard_normal((2, 3, 9))
    expected = _conv1d_loops(x, conv.weight.data, conv.bias.data, 2, 2, 2)
    np.testing.assert_allclose(conv(x), expected, rtol=1e-12, atol=1e-12)


# -- im2col -------------------------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(1, 3),
    c=st.integers(1, 3),
    size=st.tuples(st.integers(3, 7), st.integers(3, 7)),
    kernel=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    padding=st.tuples(st.integers(0, 2), st.integers(0, 2)),
    dilation=st.tuples(st.integers(1, 2), st.integers(1, 2)),
    seed=st.integers(0, 2**16),
)
def test_col2im_is_the_adjoint_of_im2col(n, c, size, kernel, stride, padding, dilation, seed):
    # <im2col(x), C> = <x, col2im(C)> for all x, C: col2im is exactly the gradient of im2col
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, *size))
    assume(
        all(s + 2 * p >= d * (k - 1) + 1 for s, p, d, k in zip(size, padding, dilation, kernel, strict=True))
    )
    out = output_shape(size, kernel, stride, padding, dilation)
    cols = im2col(x, kernel, stride, padding, dilation, out)
    assert cols.shape == (c * math.prod(kernel), n * math.prod(out))
    probe = rng.standard_normal(cols.shape)
    back = col2im(probe, x.shape, kernel, stride, padding, dilation, out)
    assert back.shape == x.shape
    np.testing.assert_allclose(np.sum(cols * probe), np.sum(x * back), rtol=1e-10, atol=1e-10)


def test_im2col_rows_and_columns_order():
    x = np.arange(2 * 2 * 4, dtype=np.float64).reshape(2, 2, 4)  # (N=2, C=2, L=4)
    cols = im2col(x, (2,), (1,), (0,), (1,), (3,))
    # row (c, j), column (n, t) holds x[n, c, t + j]
    for c in range(2):
        for j in range(2):
            for n in range(2):
                for t in range(3):
                    assert cols[c * 2 + j, n * 3 + t] == x[n, c, t + j]


# -- gradient checks ------------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(
    batch=st.integers(1, 3),
    length=st.integers(1, 9),
    c_in=st.integers(1, 3),
    c_out=st.integers(1, 3),
    kernel=st.integers(1, 4),
    stride=st.integers(1, 3),
    padding=st.integers(0, 2),
    dilation=st.integers(1, 2),
    bias=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_conv1d_gradcheck(batch, length, c_in, c_out, kernel, stride, padding, dilation, bias, seed):
    assume(length + 2 * padding >= dilation * (kernel - 1) + 1)  # too short: see the error tests
    conv = Conv1d(c_in, c_out, kernel, stride, padding, dilation, bias=bias, dtype=np.float64, seed=seed)
    x = np.random.default_rng(seed).standard_normal((batch, c_in, length))
    check_module(conv, x, seed=seed + 1).assert_ok(1e-6)


@settings(max_examples=20, deadline=None)
@given(
    batch=st.integers(1, 2),
    size=st.tuples(st.integers(2, 5), st.integers(2, 5)),
    c_in=st.integers(1, 2),
    c_out=st.integers(1, 3),
    kernel=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    stride=st.tuples(st.integers(1, 2), st.integers(1, 2)),
    padding=st.tuples(st.integers(0, 1), st.integers(0, 1)),
    seed=st.integers(0, 2**16),
)
def test_conv2d_gradcheck(batch, size, c_in, c_out, kernel, stride, padding, seed):
    assume(all(s + 2 * p >= k for s, p, k in zip(size, padding, kernel, strict=True)))
    conv = Conv2d(c_in, c_out, kernel, stride, padding, dtype=np.float64, seed=seed)
    x = np.random.default_rng(seed).standard_normal((batch, c_in, *size))
    check_module(conv, x, seed=seed + 1).assert_ok(1e-6)


# -- construction -----------------------------------------------------------------------------------


def test_torch_default_initialization_bounds_and_seeding():
    conv = Conv1d(8, 5, 3, seed=0)
    bound = 1 / math.sqrt(8 * 3)
    assert conv.weight.shape == (5, 8, 3) and conv.bias.shape == (5,)
    assert np.abs(conv.weight.data).max() <= bound and np.abs(conv.bias.data).max() <= bound
    assert np.abs(conv.weight.data).max() > 0.8 * bound  # spread over the whole interval
    again = Conv1d(8, 5, 3, seed=0)
    np.testing.assert_array_equal(conv.weight.data, again.weight.data)
    assert not np.array_equal(conv.weight.data, Conv1d(8, 5, 3, seed=1).weight.data)
    assert Conv2d(2, 3, (2, 4), seed=0).weight.shape == (3, 2, 2, 4)
    assert Conv1d(2, 3, 2, bias=False).bias is None
    assert Conv1d(2, 3, 2, dtype=np.float64).weight.dtype == np.float64


def test_unbatched_input_gives_the_batched_result():
    rng = np.random.default_rng(0)
    conv = Conv1d(2, 3, 2, padding=1, dtype=np.float64, seed=0)
    x = rng.standard_normal((2, 6))
    dy = rng.standard_normal((3, 7))
    y = conv(x)
    dx = conv.backward(dy)
    ref = Conv1d(2, 3, 2, padding=1, dtype=np.float64, seed=0)
    np.testing.assert_array_equal(y, ref(x[None])[0])
    np.testing.assert_array_equal(dx, ref.backward(dy[None])[0])
    np.testing.assert_array_equal(conv.weight.grad, ref.weight.grad)


# -- bad input ---------------------------------------------------------------------------------------


def test_sequence_shorter_than_kernel_raises():
    conv = Conv1d(2, 3, 5, padding=1)
    with pytest.raises(ShapeError, match="shorter than the kernel"):
        conv(np.zeros((4, 2, 2), dtype=np.float32))  # 2 + 2·1 < 5
    conv(np.zeros((4, 2, 3), dtype=np.float32))  # 3 + 2 = 5 fits exactly once
    with pytest.raises(ShapeError, match="shorter than the kernel extent 5"):
        Conv1d(2, 3, 3, dilation=2)(np.zeros((1, 2, 4), dtype=np.float32))
    with pytest.raises(ShapeError, match="spatial axis 1"):
        Conv2d(1, 1, (2, 3))(np.zeros((1, 1, 4, 2), dtype=np.float32))


def test_bad_inputs_raise_clear_errors():
    conv = Conv1d(2, 3, 2)
    with pytest.raises(ShapeError, match="built for 2 input channels"):
        conv(np.zeros((4, 3, 5), dtype=np.float32))
    with pytest.raises(ShapeError, match="batch, channels, length"):
        conv(np.zeros((5,), dtype=np.float32))
    with pytest.raises(DTypeError, match="float32"):
        conv(np.zeros((4, 2, 5)))  # float64 into a float32 layer
    with pytest.raises(DTypeError):
        conv(np.zeros((4, 2, 5), dtype=np.int64))
    with pytest.raises(ShapeError, match="batch, channels, height, width"):
        Conv2d(2, 3, 2)(np.zeros((2, 5), dtype=np.float32))


def test_bad_backward_calls_raise():
    conv = Conv1d(2, 3, 2)
    with pytest.raises(BackwardBeforeForwardError, match="forward"):
        conv.backward(np.zeros((1, 3, 4), dtype=np.float32))
    conv(np.zeros((1, 2, 5), dtype=np.float32))
    with pytest.raises(ShapeError, match="grad_output of shape"):
        conv.backward(np.zeros((1, 3, 5), dtype=np.float32))
    with pytest.raises(DTypeError):
        conv.backward(np.zeros((1, 3, 4), dtype=np.float64))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(kernel_size=0), "kernel_size must be a positive int"),
        (dict(kernel_size=2.5), "kernel_size"),
        (dict(kernel_size=2, stride=0), "stride"),
        (dict(kernel_size=2, padding=-1), "padding must be a non-negative int"),
        (dict(kernel_size=(2, 2)), r"kernel_size must be a positive int, got \(2, 2\)"),
    ],
)
def test_bad_hyperparameters_raise(kwargs, match):
    with pytest.raises(ShapeError, match=match):
        Conv1d(2, 3, **kwargs)


def test_bad_dtype_and_seed_raise():
    with pytest.raises(DTypeError):
        Conv1d(2, 3, 2, dtype=np.int32)
    with pytest.raises(TypeError):
        Conv1d(2, 3, 2, seed="x")
