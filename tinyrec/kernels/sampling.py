"""Kernels for negative sampling: draw items a user has never interacted with.

A user's positives are a sorted, repeat-free slice ``indices[indptr[u]:indptr[u + 1]]`` of a CSR
(``Interactions.positives_csr()``), so "is item ``j`` a positive of ``u``?" is a binary search.
Each kernel draws candidates from the wanted distribution and rejects positives until it has
enough. :func:`uniform_negatives` and :func:`weighted_negatives` consume a block of uniforms
drawn beforehand in one vectorized ``rng.random(n_uniforms)`` call (cheaper than one generator
call per candidate inside Numba); they report how many they used and whether the block ran out, and the
caller (:class:`tinyrec.data.sampling.NegativeSampler`) draws a fresh block and resumes. While
consecutive rows belong to one user they test membership in a dense mask of that user's
positives instead of binary searching (on ML-100K, with rows grouped by user, this was most of
the speed-up: about 30 ns → 7 ns per candidate). :func:`distinct_negatives` takes the ``np.random.Generator``
itself (Numba reads and advances its state and draws the same numbers as NumPy). Either way the
jitted and plain versions agree bit for bit.

Callers must make sure every requested user has at least one allowed item (otherwise rejection
would never stop); :mod:`tinyrec.data.sampling` checks it before calling.
"""

import numpy as np
from numba import njit

from . import entry

# A run of consecutive rows of one user with at least |I_u| / 8 slots loads the user's positives
# I_u into a dense mask: O(1) lookups then replace the binary searches (log2 |I_u| steps each), for
# the price of setting and clearing |I_u| entries. Only the speed depends on it.
_RUN_PER_POSITIVE = 8


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


def _fill_negatives(indptr, indices, users, n_items, cum_weights, uniforms, out, filled):
    """Fill ``out`` with negatives by rejection, consuming pre-drawn uniforms; see :func:`uniform_negatives`.

    ``cum_weights`` of length 0 draws candidates uniformly (``floor(U * n_items)``), otherwise
    by weight (``searchsorted(cum_weights, U * total, side="right")``).

    Whether an item is a positive is a binary search in the user's sorted slice, or, during a
    run of consecutive rows of one user that is long enough to pay for it (at least
    ``|I_u| / (8 n_neg)`` rows), a lookup in a dense mask of the user's positives ``I_u``. Both answer
    the same, so the draws do not depend on which is used.
    """
    n, n_neg = out.shape
    weighted = cum_weights.shape[0] > 0
    total = cum_weights[n_items - 1] if weighted else 0.0
    n_uniforms = uniforms.shape[0]
    used = 0
    mask = np.zeros(n_items, dtype=np.bool_)
    masked = -1  # the user whose positives are set in mask
    no_mask_until = 0  # rows before this one belong to a run found too short for the mask
    k = filled // n_neg
    j = filled - k * n_neg
    while k < n:
        u = users[k]
        start, end = indptr[u], indptr[u + 1]
        if u != masked and k >= no_mask_until:
            need = (end - start) // (_RUN_PER_POSITIVE * n_neg) + 1  # rows that pay for the mask
            r = 1
            while r < need and k + r < n and users[k + r] == u:
                r += 1
            if r >= need:
                if masked >= 0:
                    for t in range(indptr[masked], indptr[masked + 1]):
                        mask[indices[t]] = False
                for t in range(start, end):
                    mask[indices[t]] = True
                masked = u
            else:
                no_mask_until = k + r
        use_mask = u == masked
        while j < n_neg:
            while True:
                if used == n_uniforms:
                    return k * n_neg + j, used
                if weighted:
                    x = uniforms[used] * total  # item = searchsorted(cum_weights, x, side="right")
                    lo, hi = 0, n_items
                    while lo < hi:
                        mid = (lo + hi) >> 1
                        if cum_weights[mid] <= x:
                            lo = mid + 1
                        else:
                            hi = mid
                    item = lo
                else:
                    item = int(uniforms[used] * n_items)
                used += 1
                if item >= n_items:  # guard against round-up to n_items
                    item = n_items - 1
                if use_mask:
                    if not mask[item]:
                        break
                elif not contains(indices, start, end, item):
                    break
            out[k, j] = item
            j += 1
        j = 0
        k += 1
    return n * n_neg, used


fill_negatives = njit(cache=True)(_fill_negatives)


def _uniform_negatives(indptr, indices, users, n_items, uniforms, out, filled):
    """Fill ``out`` with items uniform over each user's non-positives, consuming pre-drawn uniforms.

    Parameters
    ----------
    indptr : (n_users + 1,) int64
    indices : (nnz,) int32, sorted without repeats within each user
    users : (n,) int64
        The users to sample for (may repeat). Rows of one user next to each other (e.g. users
        sorted) are fastest.
    n_items : int
    uniforms : (n_uniforms,) float64
        Independent draws, uniform on [0, 1) (``rng.random(n_uniforms)``), used in order, one per
        candidate.
    out : (n, n_neg) int32
        Filled in place, slot by slot in row-major order (``out.ravel()``).
    filled : int
        Number of slots already filled by an earlier call; filling resumes there.

    Returns
    -------
    filled : int
        Slots filled so far (``n * n_neg`` when done).
    used : int
        Entries of ``uniforms`` consumed. When ``filled < n * n_neg`` the uniforms ran out
        (``used == n_uniforms``): call again with a fresh block and the returned ``filled``.

    Notes
    -----
    The candidate of a uniform ``U`` is ``floor(U * n_items)`` (clamped to ``n_items - 1``
    against rounding up); a positive of the slot's user is rejected and the next uniform is
    tried. So ``out[k, j]`` is uniform over ``{0..n_items-1} minus positives(users[k])``, and
    the draws are independent (with replacement). A rejected candidate has consumed its
    uniform, so resuming from a fresh block keeps the draws independent.

    NumPy twin (rejection, slot by slot): ``int(uniforms[t] * n_items)`` for ``t = 0, 1, ...``,
    skipping positives.
    """
    return fill_negatives(indptr, indices, users, n_items, np.empty(0), uniforms, out, filled)


uniform_negatives = entry(njit(cache=True)(_uniform_negatives), writes=("out",))


def _weighted_negatives(indptr, indices, users, cum_weights, uniforms, out, filled):
    """Fill ``out`` with items drawn proportionally to a weight, excluding positives.

    ``cum_weights`` : (n_items,) float64, the cumulative sum of non-negative item weights (e.g.
    popularity), ``n_items >= 1``. The other arguments and the return value are those of
    :func:`uniform_negatives`. The candidate of a uniform ``U`` is
    ``searchsorted(cum_weights, U * total, side="right")``: item ``j`` comes with probability
    ``w_j / total``; positives are rejected, so the result follows
    ``w_j / sum of w over non-positives``.
    """
    n_items = cum_weights.shape[0]
    return fill_negatives(indptr, indices, users, n_items, cum_weights, uniforms, out, filled)


weighted_negatives = entry(njit(cache=True)(_weighted_negatives), writes=("out",))


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


distinct_negatives = entry(njit(cache=True)(_distinct_negatives), writes=())
