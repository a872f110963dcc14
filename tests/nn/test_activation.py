"""Activations: hand-computed values, stability at extreme inputs, gradient checks, bad input."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyrec.errors import BackwardBeforeForwardError, DTypeError, ShapeError
from tinyrec.gradcheck import check_module
from tinyrec.nn import LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh


def _make(cls, *args):
    # activations have no parameters and no dtype of their own: they follow their input
    def make():
        return cls(*args)

    return make


ALL = [
    _make(ReLU),
    _make(LeakyReLU, 0.2),
    _make(Sigmoid),
    _make(Tanh),
    _make(Softmax),
    _make(Softmax, 0),
    _make(LogSoftmax),
    _make(LogSoftmax, 1),
]
IDS = ["ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "Softmax0", "LogSoftmax", "LogSoftmax1"]


def test_relu_hand_computed():
    layer = ReLU()
    np.testing.assert_array_equal(layer(np.array([-2.0, 0.0, 3.0])), [0.0, 0.0, 3.0])
    np.testing.assert_array_equal(layer.backward(np.array([5.0, 5.0, 5.0])), [0.0, 0.0, 5.0])  # 0 at x=0


def test_leaky_relu_hand_computed():
    layer = LeakyReLU()
    assert layer.negative_slope == 0.01  # torch's default
    np.testing.assert_allclose(layer(np.array([-2.0, 0.0, 3.0])), [-0.02, 0.0, 3.0])
    np.testing.assert_allclose(layer.backward(np.array([1.0, 1.0, 1.0])), [0.01, 0.01, 1.0])


def test_sigmoid_hand_computed_and_stable():
    layer = Sigmoid()
    y = layer(np.array([0.0, np.log(3.0), -np.log(3.0)]))
    np.testing.assert_allclose(y, [0.5, 0.75, 0.25])
    np.testing.assert_allclose(layer.backward(np.ones(3)), [0.25, 0.1875, 0.1875])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning
        y = Sigmoid()(np.array([-1000.0, 1000.0, -90.0], dtype=np.float32))
    np.testing.assert_array_equal(y[:2], [0.0, 1.0])
    assert y[2] > 0  # e^-90 ≈ 8e-40 survives as a float32 subnormal instead of underflowing 1/(1+e^90)


def test_tanh_hand_computed():
    layer = Tanh()
    x = np.array([0.0, 0.5])
    t = (np.e - 1) / (np.e + 1)  # tanh(x) = (e^2x − 1) / (e^2x + 1) at x = 0.5
    np.testing.assert_allclose(layer(x), [0.0, t])
    np.testing.assert_allclose(layer.backward(np.array([2.0, 1.0])), [2.0, 1 - t**2])


def test_softmax_hand_computed_and_stable():
    layer = Softmax()
    y = layer(np.array([[0.0, np.log(3.0)], [1000.0, 1000.0]]))  # 1000 would overflow e^x unshifted
    np.testing.assert_allclose(y, [[0.25, 0.75], [0.5, 0.5]])
    # dX = Y ⊙ (dY − Σ dY ⊙ Y): with dY = [1, 0], row 0 gives [.25·.75, −.75·.25]
    dx = layer.backward(np.array([[1.0, 0.0], [0.0, 0.0]]))
    np.testing.assert_allclose(dx, [[0.1875, -0.1875], [0.0, 0.0]])
    np.testing.assert_allclose(Softmax(0)(np.zeros((4, 2))), np.full((4, 2), 0.25))


def test_log_softmax_hand_computed_and_stable():
    layer = LogSoftmax()
    y = layer(np.array([[0.0, np.log(3.0)], [1000.0, 0.0]]))
    np.testing.assert_allclose(y, [[np.log(0.25), np.log(0.75)], [0.0, -1000.0]])
    assert np.all(np.isfinite(y))
    # dX = dY − softmax · Σ dY
    dx = layer.backward(np.array([[1.0, 1.0], [0.0, 1.0]]))
    np.testing.assert_allclose(dx, [[0.5, -0.5], [-1.0, 1.0]], atol=1e-300)
    np.testing.assert_allclose(np.exp(LogSoftmax()(np.array([[1.0, 2.0, 3.0]]))).sum(), 1.0)


@pytest.mark.parametrize("make", ALL, ids=IDS)
@settings(max_examples=20, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=2, max_size=3), seed=st.integers(0, 2**31 - 1))
def test_gradcheck(make, shape, seed):
    rng = np.random.default_rng(seed)
    x = 2 * rng.standard_normal(tuple(shape))
    # keep ReLU/LeakyReLU inputs away from the kink at 0, where the function is not differentiable
    x = np.where(np.abs(x) < 1e-3, 0.5, x)
    check_module(make(), x, seed=seed).assert_ok(1e-6)


@pytest.mark.parametrize("make", ALL, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_output_and_gradient_follow_the_input_dtype(make, dtype):
    layer = make()  # one layer takes either dtype, as torch's activations do
    y = layer(np.ones((2, 3), dtype=dtype))
    assert y.dtype == dtype
    assert layer.backward(np.ones((2, 3), dtype=dtype)).dtype == dtype


@pytest.mark.parametrize("make", ALL, ids=IDS)
def test_bad_input(make):
    layer = make()
    with pytest.raises(BackwardBeforeForwardError):
        layer.backward(np.ones((2, 3)))
    with pytest.raises(DTypeError, match="float array"):
        layer(np.ones((2, 3), dtype=np.int64))
    with pytest.raises(DTypeError, match="numpy array"):
        layer([[1.0, 2.0]])
    layer(np.ones((2, 3)))
    with pytest.raises(ShapeError, match=r"\(2, 3\)"):
        layer.backward(np.ones((3, 2)))
    with pytest.raises(DTypeError, match=r"astype\(np.float64\)"):  # dY in another dtype than Y
        layer.backward(np.ones((2, 3), dtype=np.float32))


@pytest.mark.parametrize("cls", [Softmax, LogSoftmax])
def test_softmax_dim_out_of_range(cls):
    with pytest.raises(ShapeError, match="dim=2"):
        cls(2)(np.ones((2, 3)))
    with pytest.raises(ValueError):
        cls(dim=1.5)


@pytest.mark.parametrize("bad", ["0.1", None, True, float("nan"), float("inf")])
def test_bad_negative_slope(bad):
    # torch accepts NaN and inf (every negative input becomes NaN or inf); tinyrec refuses them
    with pytest.raises(ValueError, match="negative_slope must be a finite number, got"):
        LeakyReLU(bad)
