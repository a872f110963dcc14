"""Kernels for ranking: the top-k entries of every row of a score matrix.

Why: evaluating a recommender ranks every candidate item of every user (6,040 × 3,706 scores for
MovieLens-1M). Sorting each row costs ``O(n_cols log n_cols)``; only the first ``k`` positions
matter, and a bounded heap finds them in one pass, ``O(n_cols log k)`` (``O(n_cols)`` in practice:
most items lose against the heap's worst entry at the first comparison). For a long prefix (``k``
at least a quarter of the row) a full sort is faster, and is used.

The order is total and deterministic, so two runs (and the NumPy twin) give the same lists:
an entry ranks before another when its score is larger; among equal scores, when
``tie_sign * tie_key`` is larger; and among those, when its column index is smaller.
``tie_sign = 0`` gives the plain "equal scores: lower column first" rule; the metrics pass the
relevance with ``tie_sign = -1`` (pessimistic: a tied relevant item ranks last) or ``+1``
(optimistic).
"""

import numpy as np
from numba import njit

from . import entry


def _ranks_before(s, t, tie_sign, a, b):
    """True when column ``a`` ranks strictly before column ``b`` in a row with scores ``s`` and
    tie keys ``t`` (the order of the module docstring)."""
    if s[a] != s[b]:
        return s[a] > s[b]
    if tie_sign != 0 and t[a] != t[b]:
        return tie_sign * t[a] > tie_sign * t[b]
    return a < b


ranks_before = njit(cache=True)(_ranks_before)


def _sift_down(heap, size, pos, s, t, tie_sign):
    """Restore the heap below ``pos``; the heap's root is its *worst* entry (latest in the order)."""
    while True:
        child = 2 * pos + 1
        if child >= size:
            return
        # pick the worse of the two children
        if child + 1 < size and ranks_before(s, t, tie_sign, heap[child], heap[child + 1]):
            child += 1
        if ranks_before(s, t, tie_sign, heap[pos], heap[child]):
            heap[pos], heap[child] = heap[child], heap[pos]
            pos = child
        else:
            return


sift_down = njit(cache=True)(_sift_down)


def _top_k_rows(scores, k, tie_key, tie_sign):
    """Column indices of the ``k`` first entries of each row, in ranking order.

    Parameters
    ----------
    scores : (n_rows, n_cols) float32 or float64
        No NaN (the caller checks); ``-inf`` is allowed and ranks last.
    k : int
        Number of positions, ``1 <= k <= n_cols``.
    tie_key : (n_rows, n_cols) float
        Secondary key for equal scores (ignored when ``tie_sign == 0``; pass ``scores``).
    tie_sign : int
        -1, 0 or +1: equal scores are ordered by ``tie_sign * tie_key`` descending.

    Returns
    -------
    top : (n_rows, k) int64
        ``top[r, 0]`` is the first column of row ``r`` in the order of the module docstring,
        ``top[r, 1]`` the second, and so on.

    Notes
    -----
    When ``4 k >= n_cols`` each row is sorted completely (two stable merge sorts). Otherwise, per
    row: a max-heap of the ``k`` best columns seen so far, keyed so that its root is the worst of
    them. A new column replaces the root when it ranks before it (most columns are rejected by one
    comparison with the root's score). At the end, the heap is emptied from the root (worst first)
    into ``top[r, k-1], top[r, k-2], ...`` (heap sort).

    NumPy twin: ``np.lexsort((cols, -tie_sign * tie_key, -scores), axis=1)[:, :k]`` (a full sort:
    ``np.argpartition`` would pick among tied entries at the k-th position arbitrarily).
    """
    n_rows, n_cols = scores.shape
    top = np.empty((n_rows, k), dtype=np.int64)
    if 4 * k >= n_cols:  # a long prefix: sorting the whole row is cheaper than a big heap
        for row in range(n_rows):
            # two stable sorts: by the tie key, then by the score (equal scores keep the key order,
            # equal keys keep the column order)
            if tie_sign == 0:
                order = np.argsort(-scores[row], kind="mergesort")
            else:  # (tie_sign * tie_key would be 0 * -inf = NaN for excluded items when tie_sign == 0)
                order = np.argsort(-(tie_sign * tie_key[row]), kind="mergesort")
                order = order[np.argsort(-scores[row][order], kind="mergesort")]
            top[row] = order[:k]
        return top
    heap = np.empty(k, dtype=np.int64)
    for row in range(n_rows):
        s = scores[row]  # (n_cols,) views of this row
        key = tie_key[row]
        # fill with the first k columns, then heapify (root = worst)
        for j in range(k):
            heap[j] = j
        for pos in range(k // 2 - 1, -1, -1):
            sift_down(heap, k, pos, s, key, tie_sign)
        worst = s[heap[0]]
        for j in range(k, n_cols):
            if s[j] < worst:
                continue  # the common case: worse than the worst kept entry
            if ranks_before(s, key, tie_sign, j, heap[0]):
                heap[0] = j
                sift_down(heap, k, 0, s, key, tie_sign)
                worst = s[heap[0]]
        # heap sort: the root is the worst remaining entry
        for size in range(k, 0, -1):
            top[row, size - 1] = heap[0]
            heap[0] = heap[size - 1]
            sift_down(heap, size - 1, 0, s, key, tie_sign)
    return top


top_k_rows = entry(njit(cache=True)(_top_k_rows), writes=())
