"""Kernels that build compressed sparse row (CSR) arrays from coordinate lists, without scipy.

A ratings table is a list of ``(row, col)`` pairs (users and items). Its CSR form groups the pairs
by row: the columns of row ``r`` are ``indices[indptr[r]:indptr[r + 1]]``. :func:`csr_order` finds
the permutation that sorts the pairs by row, then by column, with two stable counting sorts
(``O(n + n_rows + n_cols)``, no comparison sort): first by column, then by row. Because the second
pass is stable, pairs of one row stay sorted by column, and equal pairs keep their input order.
"""

import numpy as np
from numba import njit

from . import entry


def _csr_order(rows, cols, n_rows, n_cols):
    """Sort coordinate pairs by ``(row, col)`` with two stable counting sorts.

    Parameters
    ----------
    rows : (n,) int32 or int64
        Row of each pair, in ``[0, n_rows)``.
    cols : (n,) int32 or int64
        Column of each pair, in ``[0, n_cols)``.
    n_rows, n_cols : int
        Number of rows and columns.

    Returns
    -------
    indptr : (n_rows + 1,) int64
        ``indptr[r]`` is the position of row ``r``'s first pair in the sorted order.
    order : (n,) int64
        The permutation: ``rows[order]`` is non-decreasing and, within a row, ``cols[order]`` is
        non-decreasing; equal pairs keep their input order (the sort is stable).

    NumPy twin: ``order = np.lexsort((cols, rows))``;
    ``indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n_rows))])``.
    """
    n = rows.shape[0]
    # pass 1: stable counting sort by column
    col_start = np.zeros(n_cols + 1, dtype=np.int64)
    for k in range(n):
        col_start[cols[k] + 1] += 1
    for c in range(n_cols):
        col_start[c + 1] += col_start[c]
    by_col = np.empty(n, dtype=np.int64)
    for k in range(n):
        c = cols[k]
        by_col[col_start[c]] = k
        col_start[c] += 1
    # pass 2: stable counting sort of that order by row
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    for k in range(n):
        indptr[rows[k] + 1] += 1
    for r in range(n_rows):
        indptr[r + 1] += indptr[r]
    fill = indptr[:n_rows].copy()
    order = np.empty(n, dtype=np.int64)
    for j in range(n):
        k = by_col[j]
        r = rows[k]
        order[fill[r]] = k
        fill[r] += 1
    return indptr, order


csr_order = entry(njit(cache=True)(_csr_order), writes=())


def _unique_in_rows(indptr, indices):
    """Drop repeated columns inside each row of a CSR whose rows are sorted by column.

    Parameters
    ----------
    indptr : (n_rows + 1,) int64
    indices : (nnz,) int32 or int64, sorted within each row.

    Returns
    -------
    new_indptr : (n_rows + 1,) int64
    keep : (nnz,) bool
        ``keep[k]`` is False when ``indices[k]`` equals the previous column of the same row.

    NumPy twin: ``keep = ones; keep[1:] = indices[1:] != indices[:-1]; keep[indptr[:-1]] = True``
    (for non-empty rows), ``new_indptr = concatenate([[0], cumsum(add.reduceat(keep, ...))])``.
    """
    n_rows = indptr.shape[0] - 1
    keep = np.ones(indices.shape[0], dtype=np.bool_)
    new_indptr = np.zeros(n_rows + 1, dtype=np.int64)
    for r in range(n_rows):
        count = 0
        for k in range(indptr[r], indptr[r + 1]):
            if k > indptr[r] and indices[k] == indices[k - 1]:
                keep[k] = False
            else:
                count += 1
        new_indptr[r + 1] = new_indptr[r] + count
    return new_indptr, keep


unique_in_rows = entry(njit(cache=True)(_unique_in_rows), writes=())
