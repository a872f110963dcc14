"""The KNN kernels against their NumPy twins on small random CSR data (with ties and shrinkage)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyrec.kernels.csr import csr_order
from tinyrec.kernels.knn import (
    COSINE,
    COSINE_FULL,
    KINDS,
    MSD,
    PEARSON,
    knn_estimate,
    similarity_topk,
    sort_neighbours,
    weighted_row_sums,
)


def random_matrix(rng, n_rows, n_cols, density, levels=3):
    """A dense (n_rows, n_cols) matrix with few distinct values (so similarities tie) and 0 = empty."""
    mask = rng.random((n_rows, n_cols)) < density
    values = rng.integers(1, levels + 1, size=(n_rows, n_cols)).astype(np.float64)
    return np.where(mask, values, 0.0)


def to_csr(dense):
    """(row CSR, column CSR) of the non-zero entries of ``dense``, built with NumPy only."""
    rows, cols = np.nonzero(dense)
    vals = dense[rows, cols]
    n_rows, n_cols = dense.shape
    r_indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n_rows))]).astype(np.int64)
    order = np.lexsort((rows, cols))
    c_indptr = np.concatenate([[0], np.cumsum(np.bincount(cols, minlength=n_cols))]).astype(np.int64)
    row_csr = (r_indptr, cols.astype(np.int32), vals)
    col_csr = (c_indptr, rows[order].astype(np.int32), vals[order])
    return row_csr, col_csr


def dense_similarity(R, kind, shrinkage, min_support, M=None):
    """The NumPy twin: every pairwise similarity from matrix products of the dense matrix.

    ``M`` marks the present entries (default ``R != 0``); absent entries of ``R`` must be 0.
    """
    M = (R != 0).astype(np.float64) if M is None else M.astype(np.float64)
    N = M @ M.T
    SX = R @ M.T  # SX[a, b] = sum of a's values over the columns shared with b
    SY = SX.T
    SXX = (R**2) @ M.T
    SYY = SXX.T
    SXY = R @ R.T
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == COSINE:
            den = np.sqrt(SXX * SYY)
            S = np.where(den > 0, SXY / den, 0.0)
        elif kind == PEARSON:
            var = (N * SXX - SX**2) * (N * SYY - SY**2)
            S = np.where(var > 0, (N * SXY - SX * SY) / np.sqrt(np.maximum(var, 1e-300)), 0.0)
        elif kind == MSD:
            D2 = (R**2) @ M.T + M @ (R**2).T - 2 * SXY  # sum over shared columns of (x - y)^2
            S = np.where(N > 0, 1.0 / (D2 / np.maximum(N, 1) + 1.0), 0.0)
        else:
            norms = np.sqrt((R**2).sum(axis=1))
            den = np.outer(norms, norms)
            S = np.where(den > 0, SXY / den, 0.0)
        if shrinkage > 0:
            S = S * (N - 1) / (N - 1 + shrinkage)
    S[N < max(min_support, 1)] = 0.0
    np.fill_diagonal(S, 0.0)
    return S


def twin_topk(S, k):
    nbrs, sims = [], []
    for a in range(S.shape[0]):
        idx = np.arange(S.shape[1])
        order = np.lexsort((idx, -S[a]))  # by decreasing similarity, then by index
        order = order[S[a, order] > 1e-12][:k]
        nbrs.append(order)
        sims.append(S[a, order])
    return nbrs, sims


@settings(max_examples=40, deadline=None)
@given(
    n_rows=st.integers(1, 12),
    n_cols=st.integers(1, 15),
    density=st.sampled_from([0.2, 0.5, 0.9]),
    kind=st.sampled_from(sorted(KINDS.values())),
    k=st.integers(1, 12),
    shrinkage=st.sampled_from([0.0, 2.5, 100.0]),
    min_support=st.sampled_from([1, 2, 3]),
    seed=st.integers(0, 2**31 - 1),
)
def test_similarity_topk_matches_numpy(n_rows, n_cols, density, kind, k, shrinkage, min_support, seed):
    R = random_matrix(np.random.default_rng(seed), n_rows, n_cols, density)
    row_csr, col_csr = to_csr(R)
    rows = np.arange(n_rows, dtype=np.int64)
    nbr, sim, count = similarity_topk(row_csr, col_csr, rows, kind, k, shrinkage, min_support)
    S = dense_similarity(R, kind, shrinkage, min_support)
    want_nbr, want_sim = twin_topk(S, k)
    assert nbr.shape == (n_rows, k) and sim.shape == (n_rows, k)
    for a in range(n_rows):
        c = count[a]
        # values first (robust to round-off), then the order including the tie-break
        np.testing.assert_allclose(sim[a, :c], want_sim[a], rtol=1e-9, atol=1e-12)
        np.testing.assert_array_equal(nbr[a, :c], want_nbr[a])
        assert np.all(nbr[a, c:] == -1) and np.all(sim[a, c:] == 0.0)


def test_ties_are_broken_by_smaller_index():
    # rows 1, 2, 3 are identical copies of row 0: all similarities 1, kept in index order
    R = np.tile(np.array([[1.0, 2.0, 0.0, 3.0]]), (4, 1))
    row_csr, col_csr = to_csr(R)
    nbr, sim, count = similarity_topk(row_csr, col_csr, np.array([2], dtype=np.int64), COSINE_FULL, 2, 0.0, 1)
    assert count[0] == 2
    np.testing.assert_array_equal(nbr[0], [0, 1])
    np.testing.assert_allclose(sim[0], [1.0, 1.0])


def test_shrinkage_pulls_weakly_supported_pairs_down():
    # pair (0, 1) shares 2 columns, pair (0, 2) shares 5; both have co-rated cosine 1
    R = np.array(
        [[1, 2, 1, 2, 1, 0], [1, 2, 0, 0, 0, 0], [1, 2, 1, 2, 1, 3]],
        dtype=np.float64,
    )
    row_csr, col_csr = to_csr(R)
    rows = np.array([0], dtype=np.int64)
    _, plain, _ = similarity_topk(row_csr, col_csr, rows, COSINE, 2, 0.0, 1)
    nbr, shrunk, _ = similarity_topk(row_csr, col_csr, rows, COSINE, 2, 10.0, 1)
    np.testing.assert_allclose(plain[0], [1.0, 1.0])
    np.testing.assert_array_equal(nbr[0], [2, 1])
    np.testing.assert_allclose(shrunk[0], [4 / 14, 1 / 11])


def test_empty_rows_and_single_row_block():
    R = np.array([[0, 0, 0], [1, 0, 2], [0, 0, 0], [3, 1, 0]], dtype=np.float64)
    row_csr, col_csr = to_csr(R)
    nbr, sim, count = similarity_topk(row_csr, col_csr, np.array([0, 3], dtype=np.int64), PEARSON, 3, 0, 1)
    assert count[0] == 0 and np.all(nbr[0] == -1)
    nbr, sim, count = similarity_topk(row_csr, col_csr, np.array([], dtype=np.int64), COSINE, 3, 0, 1)
    assert nbr.shape == (0, 3) and count.shape == (0,)


def test_float32_values_and_csr_order_inputs():
    # the models feed float32 ratings and int32 indices from csr_order: same numbers as float64
    rng = np.random.default_rng(3)
    R = random_matrix(rng, 9, 11, 0.5)
    rows, cols = np.nonzero(R)
    ip, o = csr_order(rows, cols, 9, 11)
    cp, o2 = csr_order(cols, rows, 11, 9)
    row_csr = (ip, cols[o].astype(np.int32), R[rows, cols][o].astype(np.float32))
    col_csr = (cp, rows[o2].astype(np.int32), R[rows, cols][o2].astype(np.float32))
    all_rows = np.arange(9, dtype=np.int64)
    got = similarity_topk(row_csr, col_csr, all_rows, PEARSON, 8, 1.0, 1)
    want = similarity_topk(*to_csr(R), all_rows, PEARSON, 8, 1.0, 1)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-6)
    np.testing.assert_array_equal(got[2], want[2])


def sorted_sim_csr(S):
    """Each row's positive similarities as a CSR sorted by decreasing similarity, then index."""
    nbrs, sims = twin_topk(S, S.shape[1])
    indptr = np.concatenate([[0], np.cumsum([len(n) for n in nbrs])]).astype(np.int64)
    return indptr, np.concatenate(nbrs).astype(np.int32), np.concatenate(sims)


@settings(max_examples=30, deadline=None)
@given(
    n_rows=st.integers(1, 10),
    n_ctx=st.integers(1, 10),
    k=st.integers(1, 6),
    n_queries=st.integers(0, 15),
    seed=st.integers(0, 2**31 - 1),
)
def test_knn_estimate_matches_numpy(n_rows, n_ctx, k, n_queries, seed):
    rng = np.random.default_rng(seed)
    S = np.round(rng.random((n_rows, n_rows)), 1) - 0.3  # ties and non-positive entries
    np.fill_diagonal(S, 0.0)
    sim_csr = sorted_sim_csr(S)
    E = np.where(rng.random((n_ctx, n_rows)) < 0.5, rng.normal(size=(n_ctx, n_rows)), np.nan)
    rated_ctx, rated_row = np.nonzero(~np.isnan(E))
    ctx_indptr = np.concatenate([[0], np.cumsum(np.bincount(rated_ctx, minlength=n_ctx))]).astype(np.int64)
    ctx_csr = (ctx_indptr, rated_row.astype(np.int32), E[rated_ctx, rated_row])
    targets = rng.integers(0, n_rows, n_queries).astype(np.int64)
    contexts = rng.integers(0, n_ctx, n_queries).astype(np.int64)
    num, den, used = knn_estimate(sim_csr, ctx_csr, targets, contexts, k)
    for q in range(n_queries):
        row = sim_csr[1][sim_csr[0][targets[q]] : sim_csr[0][targets[q] + 1]]
        s = sim_csr[2][sim_csr[0][targets[q]] : sim_csr[0][targets[q] + 1]]
        keep = np.flatnonzero(~np.isnan(E[contexts[q], row]))[:k]
        assert used[q] == len(keep)
        np.testing.assert_allclose(den[q], s[keep].sum(), atol=1e-12)
        np.testing.assert_allclose(num[q], (s[keep] * E[contexts[q], row[keep]]).sum(), atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(
    n_q=st.integers(1, 8),
    n_r=st.integers(1, 8),
    n_cols=st.integers(1, 9),
    batch=st.integers(0, 10),
    seed=st.integers(0, 2**31 - 1),
)
def test_weighted_row_sums_matches_dense_product(n_q, n_r, n_cols, batch, seed):
    rng = np.random.default_rng(seed)
    Q = np.where(rng.random((n_q, n_r)) < 0.4, rng.normal(size=(n_q, n_r)), 0.0)
    Rm = np.where(rng.random((n_r, n_cols)) < 0.4, rng.normal(size=(n_r, n_cols)), 0.0)
    q_csr, _ = to_csr(Q)
    r_csr, _ = to_csr(Rm)
    queries = rng.integers(0, n_q, batch).astype(np.int64)  # repeated queries allowed
    out = weighted_row_sums(q_csr, r_csr, queries, n_cols)
    assert out.shape == (batch, n_cols)
    np.testing.assert_allclose(out, Q[queries] @ Rm, atol=1e-12)


@pytest.mark.parametrize("density", [0.02, 0.9])  # few rows touched (sorted list) / most (dense scan)
def test_sparse_and_dense_neighbourhoods(density):
    R = random_matrix(np.random.default_rng(7), 60, 50, density)
    rows = np.arange(60, dtype=np.int64)
    nbr, sim, count = similarity_topk(*to_csr(R), rows, PEARSON, 59, 0.0, 1)
    want_nbr, want_sim = twin_topk(dense_similarity(R, PEARSON, 0.0, 1), 59)
    for a in range(60):
        np.testing.assert_array_equal(nbr[a, : count[a]], want_nbr[a])
        np.testing.assert_allclose(sim[a, : count[a]], want_sim[a], rtol=1e-9)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 70), extra=st.integers(0, 3), seed=st.integers(0, 2**31 - 1))
def test_sort_neighbours_matches_lexsort(n, extra, seed):
    rng = np.random.default_rng(seed)
    cand = rng.permutation(n + extra).astype(np.int64)  # distinct indices, any order
    vals = np.round(rng.random(n + extra), 1)  # few distinct values: many ties
    order = np.lexsort((cand[:n], -vals[:n]))
    want_c, want_v = cand[:n][order], vals[:n][order]
    tail_c, tail_v = cand[n:].copy(), vals[n:].copy()
    sort_neighbours(cand, vals, n, np.empty(n + extra, np.int64), np.empty(n + extra))
    np.testing.assert_array_equal(cand[:n], want_c)
    np.testing.assert_array_equal(vals[:n], want_v)
    np.testing.assert_array_equal(cand[n:], tail_c)  # entries past n are left alone
    np.testing.assert_array_equal(vals[n:], tail_v)
