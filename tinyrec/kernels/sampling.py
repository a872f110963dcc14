"""Kernels for negative sampling: draw items a user has never interacted with.

A user's positives are a sorted, repeat-free slice ``indices[indptr[u]:indptr[u + 1]]`` of a CSR
(``Interactions.positives_csr()``), so "is item ``j`` a positive of ``u``?" is a binary search.
Each kernel draws candidates from the wanted distribution and rejects positives until it has
enough. Randomness enters as a ``np.random.Generator`` (Numba reads and advances its state, and
draws the same numbers as NumPy, so the jitted and plain versions agree bit for bit).

Callers must make sure every requested user has at least one allowed item (otherwise rejection
would never stop); :mod:`tinyrec.data.sampling` checks it before calling.
"""

import numpy as np
from numba import njit


def _contains(indices, start, end, x):
    """True when ``x`` is in the sorted slice ``indices[start:end]`` (binary search)."""
    lo, hi = start, end
    while lo < hi:
        mid = (lo + hi) >> 1
        if indices[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo < end and indices[lo] == x


contains = njit(cache=True)(_contains)


def _uniform_negatives(indptr, indices, users, n_items, n_neg, rng):
    """``n_neg`` items per user, uniform over the items that are not the user's positives.

    Parameters
    ----------
    indptr : (n_users + 1,) int64
    indices : (nnz,) int32, sorted without repeats within each user
    users : (n,) int64
        The users to sample for (may repeat).
    n_items : int
    n_neg : int
    rng : np.random.Generator

    Returns
    -------
    (n, n_neg) int32
        ``out[k, j]`` is uniform over ``{0..n_items-1} minus positives(users[k])``, independent
        draws (with replacement).

    NumPy twin (rejection, row by row): draw ``rng.integers(n_items)`` until not in ``positives``.
    """
    n = users.shape[0]
    out = np.empty((n, n_neg), dtype=np.int32)
    for k in range(n):
        u = users[k]
        start, end = indptr[u], indptr[u + 1]
        for j in range(n_neg):
            while True:
                item = int(rng.random() * n_items)
                if item >= n_items:  # guard against round-up to n_items
                    item = n_items - 1
                if not contains(indices, start, end, item):
                    break
            out[k, j] = item
    return out


uniform_negatives = njit(cache=True)(_uniform_negatives)


def _weighted_negatives(indptr, indices, users, cum_weights, n_neg, rng):
    """``n_neg`` items per user, with probability proportional to a weight, excluding positives.

    ``cum_weights`` : (n_items,) float64, the cumulative sum of non-negative item weights (e.g.
    popularity). A candidate is ``searchsorted(cum_weights, U * total, side="right")`` with
    ``U`` uniform on [0, 1): item ``j`` comes with probability ``w_j / total``; positives are
    rejected, so the result follows ``w_j / sum of w over non-positives``.
    """
    n = users.shape[0]
    n_items = cum_weights.shape[0]
    total = cum_weights[n_items - 1]
    out = np.empty((n, n_neg), dtype=np.int32)
    for k in range(n):
        u = users[k]
        start, end = indptr[u], indptr[u + 1]
        for j in range(n_neg):
            while True:
                item = np.searchsorted(cum_weights, rng.random() * total, side="right")
                if item >= n_items:
                    item = n_items - 1
                if not contains(indices, start, end, item):
                    break
            out[k, j] = item
    return out


weighted_negatives = njit(cache=True)(_weighted_negatives)


def _distinct_negatives(indptr, indices, users, n_items, n_neg, rng):
    """``n_neg`` **distinct** non-positive items per user, uniform (sampling without replacement).

    Used for the fixed candidate sets of sampled evaluation. Requires ``n_neg`` not larger than
    the number of non-positives of each user. Each row is a uniformly random ``n_neg``-subset of
    the allowed items, in the order drawn.
    """
    n = users.shape[0]
    out = np.empty((n, n_neg), dtype=np.int32)
    for k in range(n):
        u = users[k]
        start, end = indptr[u], indptr[u + 1]
        for j in range(n_neg):
            while True:
                item = int(rng.random() * n_items)
                if item >= n_items:
                    item = n_items - 1
                if contains(indices, start, end, item):
                    continue
                repeated = False
                for m in range(j):
                    if out[k, m] == item:
                        repeated = True
                        break
                if not repeated:
                    break
            out[k, j] = item
    return out


distinct_negatives = njit(cache=True)(_distinct_negatives)
