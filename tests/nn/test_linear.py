"""Linear: a hand-computed case, gradient checks, initialization, bad input."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyrec.errors import BackwardBeforeForwardError, DTypeError, ShapeError
from tinyrec.gradcheck import check_module
from tinyrec.nn import Linear


def _set(layer, weight, bias=None):
    layer.weight.data[...] = weight
    if bias is not None:
        layer.bias.data[...] = bias
    return layer


def test_hand_computed_forward_and_gradients():
    layer = _set(Linear(2, 3, dtype=np.float64), [[1.0, 2.0], [0.0, -1.0], [3.0, 0.5]], [0.5, 0.0, -1.0])
    x = np.array([[1.0, 1.0], [2.0, -1.0]])
    # row 1: [1+2+0.5, 0-1+0, 3+0.5-1] ; row 2: [2-2+0.5, 0+1+0, 6-0.5-1]
    np.testing.assert_allclose(layer(x), [[3.5, -1.0, 2.5], [0.5, 1.0, 4.5]])
    dy = np.array([[1.0, 0.0, 2.0], [0.0, 1.0, -1.0]])
    dx = layer.backward(dy)
    # dX = dY W
    np.testing.assert_allclose(dx, [[1 + 6, 2 + 1], [0 - 3, -1 - 0.5]])
    # dW = dYᵀ X
    np.testing.assert_allclose(layer.weight.grad, [[1.0, 1.0], [2.0, -1.0], [2 - 2, 2 + 1]])
    np.testing.assert_allclose(layer.bias.grad, [1.0, 1.0, 1.0])


def test_leading_axes_and_1d_input_like_torch():
    layer = Linear(3, 2, dtype=np.float64, seed=0)
    x = np.random.default_rng(0).standard_normal((2, 4, 3))
    y = layer(x)
    assert y.shape == (2, 4, 2)
    np.testing.assert_allclose(y[1, 2], layer.weight.data @ x[1, 2] + layer.bias.data)
    assert layer.backward(np.ones_like(y)).shape == x.shape
    assert layer(x[0, 0]).shape == (2,)
    assert layer.backward(np.ones(2)).shape == (3,)


def test_no_bias():
    layer = Linear(3, 2, bias=False, dtype=np.float64, seed=0)
    assert layer.bias is None
    assert [name for name, _ in layer.named_parameters()] == ["weight"]
    x = np.ones((1, 3))
    np.testing.assert_allclose(layer(x), x @ layer.weight.data.T)


@settings(max_examples=30, deadline=None)
@given(
    batch=st.integers(1, 5),
    lead=st.integers(0, 2),
    n_in=st.integers(1, 5),
    n_out=st.integers(1, 5),
    bias=st.booleans(),
    seed=st.integers(0, 2**31 - 1),
)
def test_gradcheck(batch, lead, n_in, n_out, bias, seed):
    rng = np.random.default_rng(seed)
    layer = Linear(n_in, n_out, bias=bias, dtype=np.float64, seed=rng)
    x = rng.standard_normal((2,) * lead + (batch, n_in))  # 0 to 2 extra leading axes
    check_module(layer, x, seed=seed).assert_ok(1e-6)


def test_initialization_bounds_and_seed():
    layer = Linear(16, 300, seed=3)
    bound = 1 / math.sqrt(16)
    assert layer.weight.shape == (300, 16) and layer.bias.shape == (300,)
    assert layer.weight.dtype == np.float32
    assert np.abs(layer.weight.data).max() <= bound and np.abs(layer.bias.data).max() <= bound
    # uniform on [-b, b]: the standard deviation is b / sqrt(3)
    assert abs(layer.weight.data.std() - bound / math.sqrt(3)) < 0.01
    np.testing.assert_array_equal(layer.weight.data, Linear(16, 300, seed=3).weight.data)
    assert not np.array_equal(layer.weight.data, Linear(16, 300, seed=4).weight.data)
    assert Linear(2, 2, dtype=np.float64).weight.dtype == np.float64


def test_wrong_dtype_names_the_fix():
    layer = Linear(3, 2)
    with pytest.raises(DTypeError, match=r"astype\(np.float32\)"):
        layer(np.ones((2, 3)))  # float64 into a float32 layer
    with pytest.raises(DTypeError):
        layer(np.ones((2, 3), dtype=np.int64))
    with pytest.raises(DTypeError):
        layer([[1.0, 2.0, 3.0]])


def test_wrong_shape():
    layer = Linear(3, 2, dtype=np.float64)
    with pytest.raises(ShapeError, match="in_features=3"):
        layer(np.ones((2, 4)))
    with pytest.raises(ShapeError):
        layer(np.ones(()))  # a 0-d array has no feature axis
    layer(np.ones((2, 3)))
    with pytest.raises(ShapeError, match=r"\(2, 2\)"):
        layer.backward(np.ones((3, 2)))
    with pytest.raises(DTypeError):
        layer.backward(np.ones((2, 2), dtype=np.float32))


def test_backward_before_forward():
    with pytest.raises(BackwardBeforeForwardError, match="forward first"):
        Linear(3, 2).backward(np.ones((1, 2), dtype=np.float32))


@pytest.mark.parametrize("args", [(0, 2), (2, 0), (2.5, 2), (True, 2)])
def test_bad_sizes(args):
    with pytest.raises(ValueError, match="positive integer"):
        Linear(*args)


def test_bad_dtype_and_seed():
    with pytest.raises(DTypeError):
        Linear(2, 2, dtype=np.int32)
    with pytest.raises(TypeError):
        Linear(2, 2, seed="zero")
