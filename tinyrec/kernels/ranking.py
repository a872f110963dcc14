"""Kernels for ranking: the top-k entries of every row of a score matrix.

Why: evaluating a recommender ranks every candidate item of every user (6,040 × 3,706 scores for
MovieLens-1M). Sorting each row costs ``O(n log n)``; only the first ``k`` positions matter, and a
bounded heap finds them in one pass, ``O(n log k)`` (``O(n)`` in practice: most items lose against
the heap's worst entry at the first comparison).

The order is total and deterministic, so two runs (and the NumPy twin) give the same lists:
an entry ranks before another when its score is larger; among equal scores, when
``tie_sign * tie_key`` is larger; and among those, when its column index is smaller.
``tie_sign = 0`` gives the plain "equal scores: lower column first" rule; the metrics pass the
relevance with ``tie_sign = -1`` (pessimistic: a tied relevant item ranks last) or ``+1``
(optimistic).
"""

import numpy as np
from numba import njit


def _ranks_before(scores, tie_key, tie_sign, row, a, b):
    """True when column ``a`` of ``row`` ranks strictly before column ``b`` (the order above)."""
    sa = scores[row, a]
    sb = scores[row, b]
    if sa != sb:
        return sa > sb
    if tie_sign != 0:
        ka = tie_sign * tie_key[row, a]
        kb = tie_sign * tie_key[row, b]
        if ka != kb:
            return ka > kb
    return a < b


ranks_before = njit(cache=True)(_ranks_before)


def _sift_down(heap, size, pos, scores, tie_key, tie_sign, row):
    """Restore the heap below ``pos``; the heap's root is its *worst* entry (latest in the order)."""
    while True:
        child = 2 * pos + 1
        if child >= size:
            return
        # pick the worse of the two children
        if child + 1 < size and ranks_before(scores, tie_key, tie_sign, row, heap[child], heap[child + 1]):
            child += 1
        if ranks_before(scores, tie_key, tie_sign, row, heap[pos], heap[child]):
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
    Per row: a max-heap of the ``k`` best columns seen so far, keyed so that its root is the worst of
    them. A new column replaces the root when it ranks before it. At the end, the heap is emptied
    from the root (worst first) into ``top[r, k-1], top[r, k-2], ...`` (heap sort).

    NumPy twin: ``np.lexsort((cols, -tie_sign * tie_key, -scores), axis=1)[:, :k]``.
    """
    n_rows, n_cols = scores.shape
    top = np.empty((n_rows, k), dtype=np.int64)
    heap = np.empty(k, dtype=np.int64)
    for row in range(n_rows):
        # fill with the first k columns, then heapify (root = worst)
        for j in range(k):
            heap[j] = j
        for pos in range(k // 2 - 1, -1, -1):
            sift_down(heap, k, pos, scores, tie_key, tie_sign, row)
        for j in range(k, n_cols):
            if ranks_before(scores, tie_key, tie_sign, row, j, heap[0]):
                heap[0] = j
                sift_down(heap, k, 0, scores, tie_key, tie_sign, row)
        # heap sort: the root is the worst remaining entry
        for size in range(k, 0, -1):
            top[row, size - 1] = heap[0]
            heap[0] = heap[size - 1]
            sift_down(heap, size - 1, 0, scores, tie_key, tie_sign, row)
    return top


top_k_rows = njit(cache=True)(_top_k_rows)
