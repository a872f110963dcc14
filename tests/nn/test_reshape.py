"""Identity and Flatten: shapes as in torch, gradients reshaped back, bad input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyrec.errors import BackwardBeforeForwardError, DTypeError, ShapeError
from tinyrec.gradcheck import check_module
from tinyrec.nn import Flatten, Identity


def test_identity_passes_the_same_array_both_ways():
    layer = Identity()
    x = np.arange(6.0).reshape(2, 3)
    assert layer(x) is x
    dy = np.ones((2, 3))
    assert layer.backward(dy) is dy


def test_flatten_hand_computed():
    x = np.arange(24.0).reshape(2, 3, 4)
    layer = Flatten()
    y = layer(x)
    assert y.shape == (2, 12)
    np.testing.assert_array_equal(y[1], np.arange(12.0, 24.0))  # row-major order
    dy = np.arange(24.0).reshape(2, 12) * 10
    np.testing.assert_array_equal(layer.backward(dy), x * 10)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [(1, -1, (2, 60)), (0, -1, (120,)), (1, 2, (2, 12, 5)), (-2, -1, (2, 3, 20)), (2, 2, (2, 3, 4, 5))],
)
def test_flatten_shapes_like_torch(start, end, expected):
    layer = Flatten(start, end)
    x = np.zeros((2, 3, 4, 5))
    assert layer(x).shape == expected
    assert layer.backward(np.zeros(expected)).shape == x.shape


@settings(max_examples=20, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=2, max_size=4), seed=st.integers(0, 2**31 - 1))
def test_gradcheck(shape, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(tuple(shape))
    check_module(Flatten(), x, seed=seed).assert_ok(1e-6)
    check_module(Identity(), x, seed=seed).assert_ok(1e-6)


def test_flatten_bad_dims():
    with pytest.raises(ShapeError, match="start_dim"):
        Flatten()(np.ones(3))  # a 1-d input has no axis 1, as in torch
    with pytest.raises(ValueError, match="comes after"):
        Flatten(2, 1)(np.ones((2, 3, 4)))
    with pytest.raises(ValueError):
        Flatten(1.0)


@pytest.mark.parametrize("cls", [Identity, Flatten])
def test_bad_input(cls):
    layer = cls()
    with pytest.raises(BackwardBeforeForwardError):
        layer.backward(np.ones((2, 3), dtype=np.float32))
    with pytest.raises(DTypeError, match="float array"):
        layer(np.ones((2, 3), dtype=np.int64))
    layer(np.ones((2, 3), dtype=np.float32))
    with pytest.raises(ShapeError):
        layer.backward(np.ones((3, 2), dtype=np.float32))
    with pytest.raises(DTypeError, match=r"astype\(np.float32\)"):  # dY in another dtype than Y
        layer.backward(np.ones((2, 3)))
