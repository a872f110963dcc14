"""Embedding: lookups of any shape, a row-sparse coalesced gradient, padding_idx, bad ids."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyrec.errors import BackwardBeforeForwardError, DTypeError, IndexOutOfRangeError, ShapeError
from tinyrec.gradcheck import check_module
from tinyrec.nn import Embedding, RowGrad


def _table(layer, values):
    layer.weight.data[...] = values
    return layer


def test_hand_computed_lookup_and_coalesced_gradient():
    layer = _table(Embedding(4, 2, dtype=np.float64), [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0], [6.0, 7.0]])
    ids = np.array([[3, 1], [3, 3]])
    y = layer(ids)
    assert y.shape == (2, 2, 2)
    np.testing.assert_array_equal(y, [[[6, 7], [2, 3]], [[6, 7], [6, 7]]])
    dy = np.array([[[1.0, 2.0], [10.0, 20.0]], [[100.0, 200.0], [1000.0, 2000.0]]])
    assert layer.backward(dy) is None
    grad = layer.weight.grad
    assert isinstance(grad, RowGrad)  # row-sparse, never the dense table
    np.testing.assert_array_equal(grad.rows, [1, 3])  # distinct rows only, sorted
    np.testing.assert_array_equal(grad.values, [[10, 20], [1101, 2202]])  # row 3 summed three times


def test_scalar_and_1d_ids():
    layer = Embedding(5, 3, dtype=np.float64, seed=0)
    np.testing.assert_array_equal(layer(np.array(2)), layer.weight.data[2])
    assert layer(np.array([4, 0, 4])).shape == (3, 3)
    assert layer(np.array([], dtype=np.int64)).shape == (0, 3)
    layer.backward(np.zeros((0, 3)))
    assert layer.weight.grad.rows.shape == (0,)


def test_gradient_accumulates_into_rowgrad_across_batches():
    layer = Embedding(6, 2, dtype=np.float64, seed=0)
    layer(np.array([1, 2]))
    layer.backward(np.ones((2, 2)))
    layer(np.array([2, 5]))
    layer.backward(np.full((2, 2), 3.0))
    np.testing.assert_array_equal(layer.weight.grad.rows, [1, 2, 5])
    np.testing.assert_array_equal(layer.weight.grad.values, [[1, 1], [4, 4], [3, 3]])


def test_padding_idx_row_is_zero_and_gets_no_gradient():
    layer = Embedding(5, 3, padding_idx=-1, dtype=np.float64, seed=0)  # -1 means row 4, as in torch
    assert layer.padding_idx == 4
    np.testing.assert_array_equal(layer.weight.data[4], 0.0)
    assert np.all(layer.weight.data[:4] != 0.0)
    layer(np.array([[4, 1], [4, 4]]))
    layer.backward(np.ones((2, 2, 3)))
    np.testing.assert_array_equal(layer.weight.grad.rows, [1])
    # a batch made only of padding gives an empty gradient
    layer.zero_grad()
    layer(np.array([4, 4]))
    layer.backward(np.ones((2, 3)))
    assert layer.weight.grad.rows.size == 0


@settings(max_examples=30, deadline=None)
@given(
    n_rows=st.integers(1, 6),
    dim=st.integers(1, 4),
    shape=st.lists(st.integers(0, 4), min_size=0, max_size=3),
    seed=st.integers(0, 2**31 - 1),
)
def test_gradcheck(n_rows, dim, shape, seed):
    rng = np.random.default_rng(seed)
    layer = Embedding(n_rows, dim, dtype=np.float64, seed=rng)
    ids = rng.integers(0, n_rows, size=tuple(shape))  # few rows: ids repeat
    check_module(layer, ids, seed=seed).assert_ok(1e-6)


@settings(max_examples=30, deadline=None)
@given(n_rows=st.integers(1, 8), n=st.integers(0, 40), seed=st.integers(0, 2**31 - 1))
def test_sparse_gradient_equals_dense_add_at(n_rows, n, seed):
    rng = np.random.default_rng(seed)
    layer = Embedding(n_rows, 3, dtype=np.float64, seed=rng)
    ids = rng.integers(0, n_rows, size=n)
    dy = rng.standard_normal((n, 3))
    layer(ids)
    layer.backward(dy)
    dense = np.zeros((n_rows, 3))
    np.add.at(dense, ids, dy)
    np.testing.assert_allclose(layer.weight.dense_grad(), dense, rtol=1e-12, atol=1e-12)


def test_initialization_standard_normal_and_seeded():
    layer = Embedding(2000, 50, seed=1)
    w = layer.weight.data
    assert w.dtype == np.float32 and w.shape == (2000, 50)
    assert abs(w.mean()) < 0.01 and abs(w.std() - 1.0) < 0.01
    np.testing.assert_array_equal(w, Embedding(2000, 50, seed=1).weight.data)


def test_ids_out_of_range_name_the_range():
    layer = Embedding(5, 2)
    with pytest.raises(IndexOutOfRangeError, match=r"\[0, 5\)"):
        layer(np.array([0, 5]))
    with pytest.raises(IndexOutOfRangeError, match="-1"):
        layer(np.array([-1, 2]))


def test_float_ids_rejected():
    with pytest.raises(DTypeError, match="integers"):
        Embedding(5, 2)(np.array([1.0, 2.0]))


def test_grad_output_checked():
    layer = Embedding(5, 2, dtype=np.float64)
    layer(np.array([[1, 2, 3]]))
    with pytest.raises(ShapeError, match=r"\(1, 3, 2\)"):
        layer.backward(np.ones((3, 2)))
    with pytest.raises(DTypeError):
        layer.backward(np.ones((1, 3, 2), dtype=np.float32))


def test_backward_before_forward():
    with pytest.raises(BackwardBeforeForwardError):
        Embedding(5, 2).backward(np.ones((1, 2), dtype=np.float32))


@pytest.mark.parametrize(
    "kwargs", [{"padding_idx": 5}, {"padding_idx": -6}, {"padding_idx": 1.0}, {"num_embeddings": 0}]
)
def test_bad_arguments(kwargs):
    args = {"num_embeddings": 5, "embedding_dim": 2, **kwargs}
    with pytest.raises(ValueError):
        Embedding(**args)
