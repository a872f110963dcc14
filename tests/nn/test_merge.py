"""Concat, Multiply, Dot: hand-computed values, tuple gradients, broadcasting, bad input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyrec.errors import BackwardBeforeForwardError, DTypeError, ShapeError
from tinyrec.gradcheck import check_module
from tinyrec.nn import Concat, Dot, Multiply


def test_concat_hand_computed():
    layer = Concat()
    a, b = np.array([[1.0], [2.0]]), np.array([[3.0, 4.0], [5.0, 6.0]])
    np.testing.assert_array_equal(layer(a, b), [[1, 3, 4], [2, 5, 6]])
    dy = np.array([[10.0, 20.0, 30.0], [40.0, 50.0, 60.0]])
    da, db = layer.backward(dy)
    np.testing.assert_array_equal(da, [[10], [40]])
    np.testing.assert_array_equal(db, [[20, 30], [50, 60]])
    da += 1  # gradients are fresh arrays: adding to them in place leaves dY alone
    np.testing.assert_array_equal(dy[:, 0], [10, 40])


def test_concat_three_inputs_along_dim0():
    layer = Concat(0)
    parts = [np.ones((1, 2)), 2 * np.ones((2, 2)), 3 * np.ones((3, 2))]
    assert layer(*parts).shape == (6, 2)
    grads = layer.backward(np.arange(12.0).reshape(6, 2))
    assert [g.shape for g in grads] == [(1, 2), (2, 2), (3, 2)]
    np.testing.assert_array_equal(grads[2], [[6, 7], [8, 9], [10, 11]])


def test_multiply_hand_computed_and_broadcast():
    layer = Multiply()
    a, b = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[10.0, 100.0]])  # b broadcast over rows
    np.testing.assert_array_equal(layer(a, b), [[10, 200], [30, 400]])
    da, db = layer.backward(np.ones((2, 2)))
    np.testing.assert_array_equal(da, [[10, 100], [10, 100]])
    np.testing.assert_array_equal(db, [[4, 6]])  # summed over the broadcast axis
    assert db.shape == b.shape


def test_dot_hand_computed():
    layer = Dot()
    a, b = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[5.0, 6.0], [7.0, 8.0]])
    np.testing.assert_array_equal(layer(a, b), [17.0, 53.0])
    da, db = layer.backward(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(da, [[5, 6], [14, 16]])
    np.testing.assert_array_equal(db, [[1, 2], [6, 8]])


@settings(max_examples=25, deadline=None)
@given(
    batch=st.integers(1, 5),
    widths=st.lists(st.integers(1, 4), min_size=1, max_size=3),
    seed=st.integers(0, 2**31 - 1),
)
def test_concat_gradcheck(batch, widths, seed):
    rng = np.random.default_rng(seed)
    parts = [rng.standard_normal((batch, w)) for w in widths]
    check_module(Concat(), *parts, seed=seed).assert_ok(1e-6)


@settings(max_examples=25, deadline=None)
@given(
    batch=st.integers(1, 5),
    dim=st.integers(1, 4),
    broadcast=st.sampled_from(["none", "row", "leading"]),
    seed=st.integers(0, 2**31 - 1),
)
def test_multiply_gradcheck(batch, dim, broadcast, seed):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((batch, dim))
    b_shape = {"none": (batch, dim), "row": (1, dim), "leading": (dim,)}[broadcast]
    b = rng.standard_normal(b_shape)
    check_module(Multiply(), a, b, seed=seed).assert_ok(1e-6)
    check_module(Multiply(), b, a, seed=seed).assert_ok(1e-6)


@settings(max_examples=25, deadline=None)
@given(
    lead=st.lists(st.integers(1, 4), min_size=1, max_size=2),
    dim=st.integers(1, 5),
    seed=st.integers(0, 2**31 - 1),
)
def test_dot_gradcheck(lead, dim, seed):
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal((*lead, dim)), rng.standard_normal((*lead, dim))
    check_module(Dot(), a, b, seed=seed).assert_ok(1e-6)


def test_shape_errors():
    with pytest.raises(ShapeError, match="other axis"):
        Concat()(np.ones((2, 3)), np.ones((3, 3)))
    with pytest.raises(ShapeError, match="number of dimensions"):
        Concat()(np.ones((2, 3)), np.ones(3))
    with pytest.raises(ShapeError, match="dim=2"):
        Concat(2)(np.ones((2, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="at least one"):
        Concat()()
    with pytest.raises(ShapeError, match="broadcast"):
        Multiply()(np.ones((2, 3)), np.ones((2, 4)))
    with pytest.raises(ShapeError, match="same shape"):
        Dot()(np.ones((2, 3)), np.ones((2, 4)))


@pytest.mark.parametrize("cls", [Concat, Multiply, Dot])
def test_bad_input(cls):
    layer = cls()
    with pytest.raises(BackwardBeforeForwardError):
        layer.backward(np.ones(2, dtype=np.float32))
    with pytest.raises(DTypeError, match=r"(b|input1) has dtype float64"):
        layer(np.ones((2, 3), dtype=np.float32), np.ones((2, 3)))
    y = layer(np.ones((2, 3), dtype=np.float32), np.ones((2, 3), dtype=np.float32))
    with pytest.raises(ShapeError):
        layer.backward(np.ones(y.shape + (1,), dtype=np.float32))
    with pytest.raises(DTypeError):
        layer.backward(np.ones(y.shape))
