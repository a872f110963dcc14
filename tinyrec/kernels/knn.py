"""Kernels of the neighbourhood models: similarity top-k over CSR arrays, prediction, scoring.

Why: an item-item (or user-user) similarity needs, for every pair of rows, sums over the columns
they share. Forming the dense rating matrix and multiplying it wastes memory on the empty cells of
a matrix that is 94% (MovieLens 100K) to 99.4% (the embedded MovieTweetings) empty.
:func:`similarity_topk` instead walks, for one row ``a``, its columns ``c`` and then the rows
``b`` of column ``c`` (the transposed CSR), accumulating the co-rated sums of every ``b`` that
shares a column with ``a``.

The kernels are serial on purpose. Rows are independent, so ``prange`` over rows would be race
free, but on the 2-core machines tinyrec targets a parallel build took about 10 s more to compile
(paid on the first run of ``tinyrec quickstart``) for a gain below 2x on a shared machine.

Conventions shared by the kernels below:

* a "row" is the entity compared (an item for ItemKNN, a user for UserKNN); a "column" is the
  other side. ``row_*`` is the CSR of rows, ``col_*`` the CSR of columns (the transpose);
* ``x_a`` is row ``a``'s value in a shared column, ``x_b`` row ``b``'s;
* similarity kinds are small integers (``COSINE`` ...) so that a kernel takes no strings.
"""

import numpy as np
from numba import njit

from . import entry

COSINE = 0  # over co-rated columns only (Surprise's "cosine")
PEARSON = 1  # centred by the means over co-rated columns (Surprise's "pearson")
MSD = 2  # 1 / (mean squared difference + 1) (Surprise's "msd")
COSINE_FULL = 3  # with each row's full norm: the classic implicit item-KNN cosine

KINDS = {"cosine": COSINE, "pearson": PEARSON, "msd": MSD, "cosine_full": COSINE_FULL}


def _pair_similarity(kind, n, sx, sy, sxx, syy, sxy, norm_a, norm_b, shrinkage):
    """The similarity of two rows from their co-rated sums; 0 where it is undefined.

    ``n`` shared columns; ``sx = Σ x_a``, ``sy = Σ x_b``, ``sxx = Σ x_a²``, ``syy = Σ x_b²``,
    ``sxy = Σ x_a x_b`` over them; ``norm_a``, ``norm_b`` the full Euclidean norms of the rows.

    * COSINE: ``sxy / sqrt(sxx * syy)``
    * PEARSON: ``(n sxy - sx sy) / sqrt((n sxx - sx^2) (n syy - sy^2))``
    * MSD: ``1 / ((sxx + syy - 2 sxy) / n + 1)`` (the mean of ``(x_a - x_b)²``, floored at 0)
    * COSINE_FULL: ``sxy / (norm_a * norm_b)``

    then, when ``shrinkage > 0``, multiplied by ``(n - 1) / (n - 1 + shrinkage)`` (Surprise's
    form of the shrinkage of Koren 2010): a similarity backed by few shared columns is pulled
    toward 0.
    """
    sim = 0.0
    if kind == COSINE:
        den = np.sqrt(sxx * syy)
        if den > 0.0:
            sim = sxy / den
    elif kind == PEARSON:
        var = (n * sxx - sx * sx) * (n * syy - sy * sy)
        if var > 0.0:
            sim = (n * sxy - sx * sy) / np.sqrt(var)
    elif kind == MSD:
        sq = max(sxx + syy - 2.0 * sxy, 0.0)
        sim = 1.0 / (sq / n + 1.0)
    else:
        den = norm_a * norm_b
        if den > 0.0:
            sim = sxy / den
    if shrinkage > 0.0:
        sim *= (n - 1.0) / (n - 1.0 + shrinkage)
    return sim


pair_similarity = njit(cache=True)(_pair_similarity)


def _sort_neighbours(cand, vals, n, scratch_c, scratch_v):
    """Sort ``cand[:n]`` and ``vals[:n]`` together, in place: by decreasing ``vals``, then by
    increasing ``cand``; ``scratch_c`` / ``scratch_v`` are work arrays of at least ``n`` entries.

    A bottom-up merge sort written out by hand: it compiles in a fraction of the time that
    Numba's ``np.argsort(kind="mergesort")`` takes, which the first ``tinyrec quickstart`` pays.

    NumPy twin: ``order = np.lexsort((cand[:n], -vals[:n]))``, then ``cand[:n] = cand[:n][order]``
    and ``vals[:n] = vals[:n][order]``.
    """
    src_c, src_v, dst_c, dst_v = cand, vals, scratch_c, scratch_v
    in_scratch = False  # where the current runs live
    width = 1
    while width < n:
        for lo in range(0, n, 2 * width):
            mid = min(lo + width, n)
            hi = min(lo + 2 * width, n)
            i, j = lo, mid
            for out in range(lo, hi):
                # take from the left run unless the right run's head comes first
                left = j >= hi or (
                    i < mid and (src_v[i] > src_v[j] or (src_v[i] == src_v[j] and src_c[i] < src_c[j]))
                )
                if left:
                    dst_c[out] = src_c[i]
                    dst_v[out] = src_v[i]
                    i += 1
                else:
                    dst_c[out] = src_c[j]
                    dst_v[out] = src_v[j]
                    j += 1
        src_c, src_v, dst_c, dst_v = dst_c, dst_v, src_c, src_v
        in_scratch = not in_scratch
        width *= 2
    if in_scratch:  # the sorted run ended in the scratch arrays
        for t in range(n):
            cand[t] = src_c[t]
            vals[t] = src_v[t]


sort_neighbours = njit(cache=True)(_sort_neighbours)


def _similarity_topk(row_csr, col_csr, rows, kind, k, shrinkage, min_support):
    """For each row in ``rows``, its ``k`` most similar other rows with a positive similarity.

    Parameters
    ----------
    row_csr : tuple (indptr (n_rows + 1,) int64, cols (nnz,) int32, vals (nnz,) float)
        The rows: row ``a``'s columns are ``cols[indptr[a]:indptr[a + 1]]`` with values ``vals``.
        A column must not repeat inside a row.
    col_csr : tuple (indptr (n_cols + 1,) int64, rows (nnz,) int32, vals (nnz,) float)
        The same entries grouped by column (the transpose of ``row_csr``).
    rows : (n,) int64
        The rows to compute (all of them, or one block when memory is tight).
    kind : int
        ``COSINE``, ``PEARSON``, ``MSD`` or ``COSINE_FULL`` (see :func:`_pair_similarity`).
    k : int
        Neighbours kept per row (``n_rows - 1`` keeps every positive similarity).
    shrinkage : float
        ``>= 0``; 0 disables it.
    min_support : int
        A pair sharing fewer than ``min_support`` columns gets similarity 0.

    Returns
    -------
    nbr : (n, k) int32
        ``nbr[r, :count[r]]`` are the neighbours of ``rows[r]``, by decreasing similarity, ties
        broken by the smaller row index; ``-1`` pads the rest.
    sim : (n, k) float64
        Their similarities (``> 0``); 0 pads the rest.
    count : (n,) int64
        Number of neighbours found (``<= k``).

    Notes
    -----
    The candidates are ordered by :func:`sort_neighbours`. A row is never its own neighbour.
    Pairs with no shared column have similarity 0 and, like every non-positive similarity, are
    left out: the estimators of Surprise's KNNWithMeans / KNNBaseline skip ``sim <= 0``, and
    ranking scores add similarities, so they never count.

    NumPy twin: with the dense rows × columns matrix ``V`` of the values (0 where empty; ``R`` or
    its transpose) and the mask ``M = V != 0``, ``n_shared = M @ M.T``, ``SXY = V @ V.T``,
    ``SX = V @ M.T``, ``SXX = V**2 @ M.T``; evaluate the formula on those arrays, zero the
    diagonal, ``n_shared < min_support`` and non-positive entries, then
    ``np.lexsort((index, -sim))`` each row and keep the first ``k``.
    """
    r_indptr, r_cols, r_vals = row_csr
    c_indptr, c_rows, c_vals = col_csr
    n_rows = r_indptr.shape[0] - 1
    n = rows.shape[0]
    norms = np.zeros(n_rows, dtype=np.float64)
    for a in range(n_rows):
        s = 0.0
        for p in range(r_indptr[a], r_indptr[a + 1]):
            s += r_vals[p] * r_vals[p]
        norms[a] = np.sqrt(s)
    nbr = np.full((n, k), -1, dtype=np.int32)
    sim = np.zeros((n, k), dtype=np.float64)
    count = np.zeros(n, dtype=np.int64)
    # acc[b] = (n_shared, sx, sy, sxx, syy, sxy) of the current row with row b: one cache line per b.
    # It is all zeros between rows: only the `touched` entries are written, and reset after use.
    acc = np.zeros((n_rows, 6), dtype=np.float64)
    touched = np.empty(n_rows, dtype=np.int64)
    cand = np.empty(n_rows, dtype=np.int64)
    vals = np.empty(n_rows, dtype=np.float64)
    scratch_c = np.empty(n_rows, dtype=np.int64)
    scratch_v = np.empty(n_rows, dtype=np.float64)
    for r in range(n):
        a = rows[r]
        n_touched = 0
        for p in range(r_indptr[a], r_indptr[a + 1]):
            c = r_cols[p]
            x_a = np.float64(r_vals[p])
            for q in range(c_indptr[c], c_indptr[c + 1]):
                b = c_rows[q]
                if b == a:
                    continue
                x_b = np.float64(c_vals[q])
                if acc[b, 0] == 0.0:
                    touched[n_touched] = b
                    n_touched += 1
                acc[b, 0] += 1.0
                acc[b, 1] += x_a
                acc[b, 2] += x_b
                acc[b, 3] += x_a * x_a
                acc[b, 4] += x_b * x_b
                acc[b, 5] += x_a * x_b
        n_cand = 0
        for t in range(n_touched):
            b = touched[t]
            n_shared = acc[b, 0]
            s = 0.0
            if n_shared >= min_support:
                s = pair_similarity(kind, n_shared, acc[b, 1], acc[b, 2], acc[b, 3], acc[b, 4], acc[b, 5],
                                    norms[a], norms[b], shrinkage)  # fmt: skip
            for j in range(6):
                acc[b, j] = 0.0
            if s > 0.0:
                cand[n_cand] = b
                vals[n_cand] = s
                n_cand += 1
        sort_neighbours(cand, vals, n_cand, scratch_c, scratch_v)
        kept = min(k, n_cand)
        for t in range(kept):
            nbr[r, t] = cand[t]
            sim[r, t] = vals[t]
        count[r] = kept
    return nbr, sim, count


similarity_topk = entry(njit(cache=True)(_similarity_topk), writes=())


def _knn_estimate(sim_csr, ctx_csr, targets, contexts, k):
    """Weighted residual sums of the k most similar rated neighbours (Surprise's estimator core).

    For query ``q`` with target row ``t = targets[q]`` (the item for ItemKNN, the user for
    UserKNN) and context ``c = contexts[q]`` (the user for ItemKNN, the item for UserKNN): walk
    ``t``'s neighbours by decreasing similarity, keep those present in context ``c``'s row, stop
    after ``k`` of them, and sum over the kept ``(j, s_tj)``:

    ``num[q] = Σ s_tj resid_cj``,  ``den[q] = Σ s_tj``,  ``used[q] = number kept``

    where ``resid_cj`` is the residual stored for ``(c, j)`` in ``ctx_csr`` (``r_cj − μ_j`` or
    ``r_cj − b_cj``: the rating minus the mean or the baseline ``b_ui`` of row ``j``).

    Parameters
    ----------
    sim_csr : tuple (indptr (n_rows + 1,) int64, nbr (nnz,) int32, sim (nnz,) float)
        Neighbours of each row, sorted by decreasing similarity, all similarities ``> 0``.
    ctx_csr : tuple (indptr (n_ctx + 1,) int64, rows (nnz,) int32, resid (nnz,) float)
        For each context, the rows it rated and the residual of that rating.
    targets, contexts : (n,) int64
        The queries; every value in range.
    k : int
        Maximum number of neighbours per query.

    Returns
    -------
    num, den : (n,) float64
    used : (n,) int64

    NumPy twin: ``mask = isin(nbr_row, rated_rows)``; take the first ``k`` masked entries of the
    sorted neighbour row; ``num = sum(sim * resid)``, ``den = sum(sim)``.
    """
    s_indptr, s_nbr, s_sim = sim_csr
    c_indptr, c_rows, c_res = ctx_csr
    n_rows = s_indptr.shape[0] - 1
    n = targets.shape[0]
    num = np.zeros(n, dtype=np.float64)
    den = np.zeros(n, dtype=np.float64)
    used = np.zeros(n, dtype=np.int64)
    # scratch[j] is the residual of the current context for row j, NaN when it did not rate j
    scratch = np.full(n_rows, np.nan, dtype=np.float64)
    for q in range(n):
        t = targets[q]
        c = contexts[q]
        for p in range(c_indptr[c], c_indptr[c + 1]):
            scratch[c_rows[p]] = c_res[p]
        for p in range(s_indptr[t], s_indptr[t + 1]):
            if used[q] >= k:
                break
            e = scratch[s_nbr[p]]
            if not np.isnan(e):
                num[q] += s_sim[p] * e
                den[q] += s_sim[p]
                used[q] += 1
        for p in range(c_indptr[c], c_indptr[c + 1]):
            scratch[c_rows[p]] = np.nan
    return num, den, used


knn_estimate = entry(njit(cache=True)(_knn_estimate), writes=())


def _weighted_row_sums(query_csr, rows_csr, queries, n_cols):
    """``out[b] = sum over (r, w) in query row queries[b] of w * rows[r]``, rows given as CSR.

    This is ``A[queries] @ B`` for two sparse matrices ``A``, ``B`` with a dense result, the ranking
    score of both neighbourhood models: ItemKNN takes ``A`` = the users' items (weight 1) and ``B`` = the
    transposed top-k similarity (``score(u, j) = Σ_{i ∈ I_u} s_ji [i ∈ N_k(j)]``); UserKNN takes
    ``A`` = the users' top-k neighbours weighted by similarity and ``B`` = the users' items
    (``score(u, j) = Σ_{v ∈ N_k(u), j ∈ I_v} s_uv``).

    Parameters
    ----------
    query_csr : tuple (indptr, indices int32, weights float)
    rows_csr : tuple (indptr, indices int32, values float)
    queries : (n,) int64
    n_cols : int

    Returns
    -------
    out : (n, n_cols) float64

    NumPy twin: densify both and compute ``A_dense[queries] @ B_dense``.
    """
    q_indptr, q_idx, q_w = query_csr
    r_indptr, r_idx, r_val = rows_csr
    n = queries.shape[0]
    out = np.zeros((n, n_cols), dtype=np.float64)
    for t in range(n):
        q = queries[t]
        for p in range(q_indptr[q], q_indptr[q + 1]):
            r = q_idx[p]
            w = q_w[p]
            for s in range(r_indptr[r], r_indptr[r + 1]):
                out[t, r_idx[s]] += w * r_val[s]
    return out


weighted_row_sums = entry(njit(cache=True)(_weighted_row_sums), writes=())
