"""Kernels for embedding tables: coalescing repeated rows of a sparse gradient.

Why: ``W[idx] += g`` drops repeated indices (only the last write survives), and ``np.add.at`` is
correct but slow. An embedding's gradient is a list of ``(row, vector)`` pairs in which a row can
repeat (a popular item appears many times in one batch); before it is applied, the vectors of each
repeated row must be summed. That is what :func:`coalesce_rows` does.
"""

import numpy as np
from numba import njit

from . import entry


def _coalesce_rows(indices, values):
    """Sum the rows of ``values`` that share an index.

    Parameters
    ----------
    indices : (n,) int64
        Row index of each gradient vector; may repeat, any order.
    values : (n, dim) float
        One gradient vector per index.

    Returns
    -------
    rows : (n_distinct,) int64
        The distinct indices, sorted ascending.
    summed : (n_distinct, dim) float, dtype of ``values``
        ``summed[j] = sum of values[i] over i with indices[i] == rows[j]``.

    NumPy twin: ``rows, inv = np.unique(indices, return_inverse=True)``;
    ``summed = zeros((len(rows), dim)); np.add.at(summed, inv, values)``.
    """
    n = indices.shape[0]
    dim = values.shape[1]
    order = np.argsort(indices, kind="mergesort")  # stable: equal rows summed in input order
    # count the distinct rows
    n_distinct = 0
    for k in range(n):
        if k == 0 or indices[order[k]] != indices[order[k - 1]]:
            n_distinct += 1
    rows = np.empty(n_distinct, dtype=np.int64)
    summed = np.zeros((n_distinct, dim), dtype=values.dtype)
    j = -1
    for k in range(n):
        i = order[k]
        if k == 0 or indices[i] != indices[order[k - 1]]:
            j += 1
            rows[j] = indices[i]
        for col in range(dim):
            summed[j, col] += values[i, col]
    return rows, summed


coalesce_rows = entry(njit(cache=True)(_coalesce_rows), writes=())


def _gather_rows(table, indices):
    """``out[i] = table[indices[i]]`` for a 1-D ``indices``; the twin of ``table[indices]``."""
    n = indices.shape[0]
    dim = table.shape[1]
    out = np.empty((n, dim), dtype=table.dtype)
    for i in range(n):
        r = indices[i]
        for col in range(dim):
            out[i, col] = table[r, col]
    return out


gather_rows = entry(njit(cache=True)(_gather_rows), writes=())
