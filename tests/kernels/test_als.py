"""Implicit ALS's CG kernel: the exact solve in d steps, the objective going down, and its NumPy twin."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyrec.kernels.als import als_cg_rows, als_cg_rows_numpy, row_sums


def _als_problem(rng, n_rows, n_cols, d, density):
    observed = rng.random((n_rows, n_cols)) < density
    indptr = np.concatenate([[0], np.cumsum(observed.sum(axis=1))]).astype(np.int64)
    indices = np.nonzero(observed)[1].astype(np.int32)  # row-major: one row's columns together
    confidence = 1.0 + rng.uniform(0.0, 5.0, len(indices))
    X = rng.normal(0, 0.5, (n_rows, d))
    Y = rng.normal(0, 0.5, (n_cols, d))
    return indptr, indices, confidence, X, Y


def numpy_als_rows(indptr, indices, confidence, Y, reg):
    """Exact ridge solution of every row: solve (YᵀY + λI + Σ (c−1) y yᵀ) x = Σ c y."""
    d = Y.shape[1]
    out = np.empty((len(indptr) - 1, d))
    for u in range(len(indptr) - 1):
        cols, c = indices[indptr[u] : indptr[u + 1]], confidence[indptr[u] : indptr[u + 1]]
        A = Y.T @ Y + reg * np.eye(d) + (Y[cols].T * (c - 1)) @ Y[cols]
        out[u] = np.linalg.solve(A, Y[cols].T @ c)
    return out


@settings(max_examples=30)
@given(
    n_rows=st.integers(1, 6),
    n_cols=st.integers(1, 8),
    d=st.integers(1, 5),
    density=st.sampled_from([0.0, 0.3, 1.0]),
    seed=st.integers(0, 2**31 - 1),
)
def test_als_cg_rows_with_d_steps_is_the_exact_solve(n_rows, n_cols, d, density, seed):
    rng = np.random.default_rng(seed)
    indptr, indices, confidence, X, Y = _als_problem(rng, n_rows, n_cols, d, density)
    reg = 0.5
    als_cg_rows(indptr, indices, confidence, X, Y, Y.T @ Y + reg * np.eye(d), d)  # CG is exact in d steps
    np.testing.assert_allclose(X, numpy_als_rows(indptr, indices, confidence, Y, reg), rtol=1e-7, atol=1e-9)


def test_als_cg_rows_few_steps_lower_the_row_objective():
    rng = np.random.default_rng(4)
    indptr, indices, confidence, X, Y = _als_problem(rng, 5, 12, 6, 0.4)
    reg = 0.1
    exact = numpy_als_rows(indptr, indices, confidence, Y, reg)

    def objective(x, u):  # Σ_all c (p − x·y)² + λ‖x‖², p = 1 and c = conf on observed pairs
        c = np.ones(len(Y))
        p = np.zeros(len(Y))
        cols = indices[indptr[u] : indptr[u + 1]]
        c[cols], p[cols] = confidence[indptr[u] : indptr[u + 1]], 1.0
        return np.sum(c * (p - Y @ x) ** 2) + reg * x @ x

    before = X.copy()
    als_cg_rows(indptr, indices, confidence, X, Y, Y.T @ Y + reg * np.eye(6), 2)
    for u in range(5):
        assert objective(exact[u], u) <= objective(X[u], u) + 1e-12 < objective(before[u], u)


def test_als_cg_rows_float32_tables():
    rng = np.random.default_rng(5)
    indptr, indices, confidence, X, Y = _als_problem(rng, 4, 7, 3, 0.5)
    X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
    als_cg_rows(indptr, indices, confidence, X32, Y32, Y32.astype(np.float64).T @ Y32 + 0.5 * np.eye(3), 3)
    assert X32.dtype == np.float32
    np.testing.assert_allclose(
        X32, numpy_als_rows(indptr, indices, confidence, Y32.astype(np.float64), 0.5), atol=1e-4
    )


@settings(max_examples=30, deadline=None)
@given(
    n_rows=st.integers(1, 6),
    n_cols=st.integers(1, 8),
    d=st.integers(1, 5),
    density=st.sampled_from([0.0, 0.3, 1.0]),
    cg_steps=st.integers(0, 4),
    seed=st.integers(0, 2**31 - 1),
)
def test_als_cg_rows_numpy_twin_equals_the_kernel(n_rows, n_cols, d, density, cg_steps, seed):
    rng = np.random.default_rng(seed)
    indptr, indices, confidence, X, Y = _als_problem(rng, n_rows, n_cols, d, density)
    gram = Y.T @ Y + 0.5 * np.eye(d)
    twin = X.copy()
    als_cg_rows(indptr, indices, confidence, X, Y, gram, cg_steps)
    als_cg_rows_numpy(indptr, indices, confidence, twin, Y, gram, cg_steps)
    np.testing.assert_allclose(twin, X, rtol=1e-9, atol=1e-11)


def test_row_sums_adds_repeated_rows_and_leaves_empty_rows_zero():
    values = np.arange(8.0).reshape(4, 2)
    summed = row_sums(values, np.array([2, 0, 2, 2]), 4)
    np.testing.assert_array_equal(summed, [[2, 3], [0, 0], [10, 13], [0, 0]])
