"""Kernels for embedding tables: coalescing repeated rows of a sparse gradient.

Why: ``W[idx] += g`` drops repeated indices (only the last write survives), and ``np.add.at`` is
correct but slow. An embedding's gradient is a list of ``(row, vector)`` pairs in which a row can
repeat (a popular item appears many times in one batch); before it is applied, the vectors of each
repeated row must be summed. That is what :func:`coalesce_rows` does.
"""

import numpy as np
from numba import njit

from . import entry
from .prefetch import PREFETCH_MIN_BYTES, prefetch_row

#: How many rows ahead :func:`gather_rows` asks for (:mod:`~tinyrec.kernels.prefetch`); the best
#: of 2, 4, 8, 16 and 32 for the step of ``benchmarks/bench_embedding.py`` (rows of 64 float32).
GATHER_AHEAD = 16


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
        ``summed[j] = sum of values[i] over i with indices[i] == rows[j]``, added in input order,
        starting from the first of them.

    NumPy twin: ``rows, inv = np.unique(indices, return_inverse=True)``;
    ``summed = zeros((len(rows), dim)); np.add.at(summed, inv, values)``. (The twin starts each sum
    from 0, so where every term is −0.0 it gives 0.0 and this kernel −0.0: equal numbers.)
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
    summed = np.empty((n_distinct, dim), dtype=values.dtype)
    j = -1
    for k in range(n):
        i = order[k]
        if k == 0 or indices[i] != indices[order[k - 1]]:  # a new row: its sum starts as this vector
            j += 1
            rows[j] = indices[i]
            for col in range(dim):
                summed[j, col] = values[i, col]
        else:
            for col in range(dim):
                summed[j, col] += values[i, col]
    return rows, summed


coalesce_rows = entry(njit(cache=True)(_coalesce_rows), writes=())


def _gather_rows(table, indices):
    """``out[i] = table[indices[i]]`` for a 1-D ``indices``; the twin of ``table[indices]``."""
    n = indices.shape[0]
    dim = table.shape[1]
    out = np.empty((n, dim), dtype=table.dtype)
    prefetching = table.nbytes >= PREFETCH_MIN_BYTES
    for i in range(n):
        if prefetching and i + GATHER_AHEAD < n:  # a hint for a later row: changes nothing
            prefetch_row(table, indices[i + GATHER_AHEAD])
        r = indices[i]
        for col in range(dim):
            out[i, col] = table[r, col]
    return out


gather_rows = entry(njit(cache=True)(_gather_rows), writes=())


def _sum_repeats(indices, values):
    """Sum the rows of ``values`` that share an index, **without sorting**: :func:`coalesce_rows`'s
    sums, with the distinct rows in the order of their first occurrence.

    Parameters
    ----------
    indices : (n,) int64
        Row index of each gradient vector, ``>= 0``; may repeat, any order.
    values : (n, dim) float

    Returns
    -------
    rows : (n_distinct,) int64
        The distinct indices, in the order they first occur in ``indices`` (not sorted).
    summed : (n_distinct, dim) float, dtype of ``values``
        ``summed[j] = Σ values[i]`` over ``i`` with ``indices[i] == rows[j]``, added in input order:
        the same numbers, bit for bit, as :func:`coalesce_rows` gives for that row.

    How: a hash table (open addressing over ``2n`` to ``4n`` slots, linear probing) gives each
    index its group ``j`` in O(1), so grouping costs O(n) instead of sorting's O(n log n) (about
    8 µs against 50 µs for 1,024 ids); each vector is added to its group's sum as it is met, in
    the same pass. :meth:`RowGrad.from_indices <tinyrec.nn.module.RowGrad.from_indices>` calls it
    (an embedding's backward): the row updates that follow need no order.

    NumPy twin: ``rows, inverse = np.unique(indices, return_inverse=True)``;
    ``summed = zeros((len(rows), dim)); np.add.at(summed, inverse, values)`` (sorted rows).
    """
    n = indices.shape[0]
    size = 2
    while size < 2 * n:
        size *= 2
    mask = size - 1
    slot_row = np.full(size, -1, dtype=np.int64)  # the index held by each hash slot, -1: empty
    slot_group = np.empty(size, dtype=np.int64)  # that index's group j
    rows = np.empty(n, dtype=np.int64)  # room for n groups; the first n_distinct are returned
    summed = np.empty((n, values.shape[1]), dtype=values.dtype)
    n_distinct = 0
    for i in range(n):
        r = indices[i]
        h = (r * 2654435761) & mask  # Knuth's multiplicative hash spreads nearby indices apart
        while slot_row[h] != -1 and slot_row[h] != r:
            h = (h + 1) & mask
        if slot_row[h] == -1:  # first occurrence: a new group, whose sum starts as this vector
            slot_row[h] = r
            slot_group[h] = n_distinct
            rows[n_distinct] = r
            for col in range(values.shape[1]):
                summed[n_distinct, col] = values[i, col]
            n_distinct += 1
        else:
            j = slot_group[h]
            for col in range(values.shape[1]):
                summed[j, col] += values[i, col]
    return rows[:n_distinct].copy(), summed[:n_distinct]


sum_repeats = entry(njit(cache=True)(_sum_repeats), writes=())


def _index_span(indices):
    """``(indices.min(), indices.max())`` of a non-empty 1-D ``indices``, in one pass (NumPy needs two)."""
    low = high = indices[0]
    for i in range(1, indices.shape[0]):
        if indices[i] < low:
            low = indices[i]
        elif indices[i] > high:
            high = indices[i]
    return low, high


index_span = entry(njit(cache=True)(_index_span), writes=())
