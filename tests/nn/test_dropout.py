"""Dropout: inverted scaling, mask statistics, seeding, evaluation mode, gradients, bad input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyrec.errors import BackwardBeforeForwardError, DTypeError, ShapeError
from tinyrec.gradcheck import check_module
from tinyrec.nn import Dropout


def test_survivors_scaled_by_inverse_keep_probability():
    layer = Dropout(0.25, seed=0)
    x = np.arange(1.0, 201.0).reshape(10, 20)
    y = layer(x)
    kept = y != 0
    np.testing.assert_allclose(y[kept], x[kept] / 0.75)
    # the backward uses the same mask and scale
    np.testing.assert_allclose(layer.backward(np.ones_like(x)), kept / 0.75)


def test_mask_statistics():
    p = 0.3
    y = Dropout(p, seed=1)(np.ones((200, 500)))
    dropped = np.mean(y == 0)
    # 100,000 Bernoulli(0.3) draws: the standard error of the rate is 0.0014
    assert abs(dropped - p) < 0.006
    assert abs(y.mean() - 1.0) < 0.02  # inverted dropout keeps the expectation


def test_seeded_masks_repeat_and_differ_between_calls():
    x = np.ones((8, 8))
    a, b = Dropout(0.5, seed=7), Dropout(0.5, seed=7)
    first = a(x)
    np.testing.assert_array_equal(first, b(x))
    assert not np.array_equal(first, a(x))  # a fresh mask at every forward
    # float32 and float64 layers with one seed drop the same elements
    np.testing.assert_array_equal(
        Dropout(0.5, seed=3)(x.astype(np.float32)) == 0, Dropout(0.5, seed=3)(x) == 0
    )


def test_eval_mode_is_identity():
    layer = Dropout(0.9, seed=0).eval()
    x = np.random.default_rng(0).standard_normal((3, 4))
    np.testing.assert_array_equal(layer(x), x)
    dy = np.ones((3, 4))
    np.testing.assert_array_equal(layer.backward(dy), dy)
    layer.train()
    assert np.mean(layer(x) == 0) > 0.5


def test_p_zero_and_one():
    x = np.ones((4, 4))
    np.testing.assert_array_equal(Dropout(0.0)(x), x)
    layer = Dropout(1.0, seed=0)
    np.testing.assert_array_equal(layer(x), 0.0)
    np.testing.assert_array_equal(layer.backward(x), 0.0)


@settings(max_examples=25, deadline=None)
@given(
    p=st.floats(0.0, 0.9),
    shape=st.lists(st.integers(1, 5), min_size=1, max_size=3),
    seed=st.integers(0, 2**31 - 1),
)
def test_gradcheck(p, shape, seed):
    rng = np.random.default_rng(seed)
    layer = Dropout(p, seed=seed)
    check_module(layer, rng.standard_normal(tuple(shape)), seed=seed).assert_ok(1e-6)


@pytest.mark.parametrize("p", [-0.1, 1.5, "0.5", True])
def test_bad_p(p):
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        Dropout(p)


def test_bad_input():
    layer = Dropout(0.5, seed=0)
    with pytest.raises(BackwardBeforeForwardError):
        layer.backward(np.ones((2, 2), dtype=np.float32))
    with pytest.raises(DTypeError, match="float array"):
        layer(np.ones((2, 2), dtype=np.int32))
    layer(np.ones((2, 2), dtype=np.float32))
    with pytest.raises(ShapeError):
        layer.backward(np.ones((2, 3), dtype=np.float32))
    with pytest.raises(DTypeError, match=r"astype\(np.float32\)"):  # dY in another dtype than Y
        layer.backward(np.ones((2, 2)))
