"""The CSR kernels equal their NumPy twins (lexsort + bincount; unique within rows)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyrec.kernels.csr import _csr_order, csr_order, unique_in_rows


def numpy_csr(rows, cols, n_rows):
    order = np.lexsort((cols, rows))
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n_rows))])
    return indptr, order


@settings(max_examples=40)
@given(n=st.integers(0, 80), n_rows=st.integers(1, 7), n_cols=st.integers(1, 9), seed=st.integers(0, 10**6))
def test_csr_order_equals_lexsort(n, n_rows, n_cols, seed):
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, n_rows, n).astype(np.int32)  # few rows/cols: many repeated pairs
    cols = rng.integers(0, n_cols, n).astype(np.int32)
    indptr, order = csr_order(rows, cols, n_rows, n_cols)
    ref_indptr, ref_order = numpy_csr(rows, cols, n_rows)
    np.testing.assert_array_equal(indptr, ref_indptr)
    np.testing.assert_array_equal(order, ref_order)  # both stable: identical permutations


def test_csr_order_plain_python_matches_jit():
    rows = np.array([2, 0, 2, 1, 0], dtype=np.int64)
    cols = np.array([1, 3, 0, 0, 3], dtype=np.int64)
    a = csr_order(rows, cols, 3, 4)
    b = _csr_order(rows, cols, 3, 4)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(a[0], [0, 2, 3, 5])
    np.testing.assert_array_equal(a[1], [1, 4, 3, 2, 0])  # (0,3),(0,3) in input order, (1,0), (2,0), (2,1)


def test_csr_order_empty_rows():
    indptr, order = csr_order(np.array([3], np.int32), np.array([0], np.int32), 5, 1)
    np.testing.assert_array_equal(indptr, [0, 0, 0, 0, 1, 1])
    np.testing.assert_array_equal(order, [0])


@settings(max_examples=40)
@given(n=st.integers(0, 60), n_rows=st.integers(1, 6), n_cols=st.integers(1, 6), seed=st.integers(0, 10**6))
def test_unique_in_rows_equals_numpy(n, n_rows, n_cols, seed):
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, n_rows, n)
    cols = rng.integers(0, n_cols, n)
    indptr, order = numpy_csr(rows, cols, n_rows)
    indices = cols[order]
    new_indptr, keep = unique_in_rows(indptr.astype(np.int64), indices)
    pairs = np.unique(np.stack([rows, cols], axis=1), axis=0)
    ref_indptr = np.concatenate([[0], np.cumsum(np.bincount(pairs[:, 0], minlength=n_rows))])
    np.testing.assert_array_equal(new_indptr, ref_indptr)
    np.testing.assert_array_equal(indices[keep], pairs[:, 1])
