"""The embedding kernels equal their vectorized NumPy twins (repeated rows, empty, one row)."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from tinyrec.kernels.embedding import coalesce_rows, gather_rows


def numpy_coalesce(indices, values):
    rows, inverse = np.unique(indices, return_inverse=True)
    summed = np.zeros((len(rows), values.shape[1]), dtype=values.dtype)
    np.add.at(summed, inverse, values)
    return rows, summed


@given(
    n=st.integers(0, 60),
    n_rows=st.integers(1, 8),
    dim=st.integers(1, 5),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**31 - 1),
)
def test_coalesce_rows_equals_unique_add_at(n, n_rows, dim, dtype, seed):
    rng = np.random.default_rng(seed)
    indices = rng.integers(0, n_rows, size=n).astype(np.int64)  # few rows: many repeats
    values = rng.standard_normal((n, dim)).astype(dtype)
    rows, summed = coalesce_rows(indices, values)
    ref_rows, ref_summed = numpy_coalesce(indices, values)
    np.testing.assert_array_equal(rows, ref_rows)
    assert summed.dtype == dtype
    np.testing.assert_allclose(summed, ref_summed, rtol=1e-6 if dtype == np.float32 else 1e-12)


def test_coalesce_rows_hand_example():
    indices = np.array([3, 1, 3, 3], dtype=np.int64)
    values = np.array([[1.0, 2.0], [10.0, 20.0], [100.0, 200.0], [1000.0, 2000.0]])
    rows, summed = coalesce_rows(indices, values)
    np.testing.assert_array_equal(rows, [1, 3])
    np.testing.assert_array_equal(summed, [[10.0, 20.0], [1101.0, 2202.0]])


def test_coalesce_rows_empty_and_single():
    rows, summed = coalesce_rows(np.zeros(0, dtype=np.int64), np.zeros((0, 4)))
    assert rows.shape == (0,) and summed.shape == (0, 4)
    rows, summed = coalesce_rows(np.array([7], dtype=np.int64), np.ones((1, 2)))
    np.testing.assert_array_equal(rows, [7])
    np.testing.assert_array_equal(summed, [[1.0, 1.0]])


@given(n=st.integers(0, 30), n_rows=st.integers(1, 10), dim=st.integers(1, 4), seed=st.integers(0, 10**6))
def test_gather_rows_equals_fancy_indexing(n, n_rows, dim, seed):
    rng = np.random.default_rng(seed)
    table = rng.standard_normal((n_rows, dim)).astype(np.float32)
    indices = rng.integers(0, n_rows, size=n).astype(np.int64)
    np.testing.assert_array_equal(gather_rows(table, indices), table[indices])
