"""Kernels of Funk SVD (biased matrix factorization): the fused SGD epoch, plain and blocked.

(BPR's epoch is in :mod:`tinyrec.kernels.bpr`, implicit ALS's solver in :mod:`tinyrec.kernels.als`.)

Why a kernel: SGD updates the parameters after *every* rating, and each update reads what the
previous one wrote, so the epoch cannot be vectorized over ratings.
Run as plain Python, ``_funk_svd_epoch`` with 100 factors took about 0.6 ms per rating here (a
minute per epoch of ML-100K); compiled by Numba, the same loop takes a few milliseconds per epoch.

The SGD kernels update their arrays in place and return the epoch's training loss, so the
caller can keep a history. Learning rates and regularization strengths enter as small arrays (one
entry per parameter group) to keep the argument lists short.

One SGD step depends on the previous one only through the rows it shares with it, so the ratings
can be cut into blocks that share no user and no item and run on several threads at once
(``funk_svd_blocked_epoch``, distributed SGD); the result stays deterministic.
"""

import numpy as np
from numba import njit, prange

from . import entry


def _funk_svd_epoch(users, items, ratings, order, mu, bu, bi, P, Q, lr, reg):
    """One epoch of Funk SVD SGD over the ratings, in the given ``order``, updating in place.

    Parameters
    ----------
    users, items : (n,) int32 or int64
        The user and item of each rating.
    ratings : (n,) float
        ``r_ui`` of each rating.
    order : (n,) int64
        The visiting order (a permutation of ``range(n)``; ``arange(n)`` for the given order).
    mu : float
        The global mean ``μ`` (0 for an unbiased model).
    bu : (n_users,) float, bi : (n_items,) float
        User and item biases (updated in place).
    P : (n_users, d) float, Q : (n_items, d) float
        User and item factors ``p_u``, ``q_i`` (updated in place). ``d = 0`` gives the plain
        biased baseline ``μ + b_u + b_i`` trained by SGD.
    lr : (4,) float64
        Learning rates of ``b_u, b_i, p_u, q_i``; a zero rate freezes that group (an unbiased
        model passes zeros for the biases).
    reg : (4,) float64
        L2 strengths of ``b_u, b_i, p_u, q_i``.

    Returns
    -------
    sse : float
        ``Σ e_ui²`` over the epoch, each error measured just before its own update.

    Notes
    -----
    For each rating, exactly in the order of Surprise's ``SVD.sgd``::

        e_ui  = r_ui − (μ + b_u + b_i + p_u·q_i)
        b_u  += η_bu (e_ui − λ_bu b_u)
        b_i  += η_bi (e_ui − λ_bi b_i)
        for each factor f (both updates read the old values):
            p_uf += η_pu (e_ui q_if − λ_pu p_uf)
            q_if += η_qi (e_ui p_uf − λ_qi q_if)

    These are gradient steps on ``½ e_ui² + ½ λ (b_u² + b_i² + ‖p_u‖² + ‖q_i‖²)``.
    Arithmetic is in the dtype of ``P`` (float32 or float64); ``sse`` is accumulated in float64.
    """
    d = P.shape[1]
    # Scalars are read once, in the tables' dtype: inside the loop LLVM could not prove that
    # writing P leaves lr unchanged, and mixing float64 scalars into float32 rows costs conversions.
    cast = P.dtype.type
    mu = cast(mu)
    lr_bu, lr_bi, lr_pu, lr_qi = cast(lr[0]), cast(lr[1]), cast(lr[2]), cast(lr[3])
    reg_bu, reg_bi, reg_pu, reg_qi = cast(reg[0]), cast(reg[1]), cast(reg[2]), cast(reg[3])
    sse = 0.0
    for k in range(order.shape[0]):
        t = order[k]
        u = users[t]
        i = items[t]
        pu = P[u]  # row views: (d,)
        qi = Q[i]
        dot = cast(0)
        for f in range(d):
            dot += pu[f] * qi[f]
        err = cast(ratings[t]) - (mu + bu[u] + bi[i] + dot)
        sse += float(err) * float(err)
        bu[u] += lr_bu * (err - reg_bu * bu[u])
        bi[i] += lr_bi * (err - reg_bi * bi[i])
        for f in range(d):
            puf = pu[f]
            qif = qi[f]
            pu[f] = puf + lr_pu * (err * qif - reg_pu * puf)
            qi[f] = qif + lr_qi * (err * puf - reg_qi * qif)
    return sse


# Reassociating the sums lets LLVM use SIMD for the dot product (about 2x faster); no flag that
# assumes finite values is set, so a diverging run still shows its NaN.
_SIMD_MATH = {"reassoc", "contract", "nsz", "arcp"}
#: the compiled epoch, called by other kernels (nopython code cannot call the guarded entry)
funk_svd_epoch_compiled = njit(cache=True, fastmath=_SIMD_MATH)(_funk_svd_epoch)
funk_svd_epoch = entry(funk_svd_epoch_compiled, writes=("bu", "bi", "P", "Q"))


def _funk_svd_blocked_epoch(users, items, ratings, block_starts, strata, mu, bu, bi, P, Q, lr, reg):
    """One epoch of blocked ("distributed") SGD for Funk SVD: the blocks of a stratum run in parallel.

    Parameters
    ----------
    users, items, ratings : (n,)
        The ratings, sorted by block: with ``n_blocks = len(strata)`` user groups and ``n_blocks``
        item groups, block ``(g, h)`` (users of group ``g`` rating items of group ``h``) is the
        slice ``block_starts[g · n_blocks + h] : block_starts[g · n_blocks + h + 1]``.
    block_starts : (n_blocks² + 1,) int64
    strata : (n_blocks,) int64
        The order of the strata, a permutation of ``range(n_blocks)``.
    mu, bu, bi, P, Q, lr, reg
        As in :func:`funk_svd_epoch` (updated in place).

    Returns
    -------
    sse : float
        ``Σ e_ui²`` over the epoch, summed block by block in a fixed order.

    Notes
    -----
    Stratum ``s`` is the ``n_blocks`` blocks ``(g, (g + s) mod n_blocks)``,
    ``g = 0 … n_blocks − 1``: no two of them share a user or an item, so they touch disjoint rows of
    ``P``, ``Q``, ``bu`` and ``bi`` and can run on different threads without locks and without
    races. Each block runs :func:`funk_svd_epoch` over its ratings in their stored order; the strata
    run one after another, so every rating is visited once per epoch. The result does not depend on
    the number of threads or on their timing: the same inputs give the same numbers, bit for bit.
    (Gemulla, Nijkamp, Haas, Sismanis, "Large-scale matrix factorization with distributed stochastic
    gradient descent", KDD 2011.)
    """
    n_blocks = strata.shape[0]
    sse = np.zeros(n_blocks * n_blocks)
    for s in strata:
        for g in prange(n_blocks):  # the blocks of one stratum share no row: safe in parallel
            block = g * n_blocks + (g + s) % n_blocks
            start, stop = block_starts[block], block_starts[block + 1]
            sse[block] = funk_svd_epoch_compiled(
                users[start:stop],
                items[start:stop],
                ratings[start:stop],
                np.arange(stop - start),
                mu,
                bu,
                bi,
                P,
                Q,
                lr,
                reg,
            )
    total = 0.0
    for block in range(n_blocks * n_blocks):  # a plain loop: `sse.sum()` would be split across threads
        total += sse[block]
    return total


funk_svd_blocked_epoch = entry(
    njit(cache=True, parallel=True)(_funk_svd_blocked_epoch), writes=("bu", "bi", "P", "Q")
)


def _shuffle_within_blocks(block_starts, uniforms, users, items, ratings):
    """Shuffle the ratings of each block in place (Fisher–Yates), the three arrays together.

    ``uniforms`` is ``(n,)`` in ``[0, 1)``, drawn by the caller's seeded generator: position ``k``
    of a block starting at ``start`` swaps with ``start + ⌊uniforms[k] · (k − start + 1)⌋``, for
    ``k`` from the block's end down. Every order of a block is
    equally likely, and each block's ratings stay inside the block. Blocks are shuffled in parallel;
    the result does not depend on the threads, since every swap is fixed by ``uniforms``.
    """
    for block in prange(block_starts.shape[0] - 1):
        start = block_starts[block]
        for k in range(block_starts[block + 1] - 1, start, -1):
            j = min(start + int(uniforms[k] * (k - start + 1)), k)  # min: the product may round up to k + 1
            users[k], users[j] = users[j], users[k]
            items[k], items[j] = items[j], items[k]
            ratings[k], ratings[j] = ratings[j], ratings[k]


shuffle_within_blocks = entry(
    njit(cache=True, parallel=True)(_shuffle_within_blocks), writes=("users", "items", "ratings")
)


def _user_block_order(user_starts, user_order, users_per_block, uniforms):
    """An epoch's visiting order: user blocks in a random order, each block's ratings shuffled.

    Parameters
    ----------
    user_starts : (n_users + 1,) int64
        The ratings are stored grouped by user: user ``u``'s are positions
        ``user_starts[u] : user_starts[u + 1]``.
    user_order : (n_users,) int64
        A permutation of ``range(n_users)``, drawn by the caller's seeded generator.
    users_per_block : int
        ``B``: users ``user_order[0 : B]`` form block 0, the next ``B`` users block 1, and so on.
    uniforms : (n,) float64 in [0, 1)
        Drawn by the caller; they fix the shuffle inside each block.

    Returns
    -------
    order : (n,) int64
        Every rating's position once: block 0's ratings (those of its ``B`` users) in a random
        order, then block 1's, ...

    Within a block the ratings are shuffled by Fisher–Yates, as :func:`shuffle_within_blocks`
    does: position ``k`` of a block starting at ``start`` swaps with
    ``start + ⌊uniforms[k] · (k − start + 1)⌋``, for ``k`` from the block's end down.

    NumPy twin: ``blocks = [np.concatenate([np.arange(user_starts[u], user_starts[u + 1]) for u in
    user_order[b : b + B]]) for b in range(0, n_users, B)]``, each block then permuted.
    """
    n_users = user_order.shape[0]
    order = np.empty(user_starts[-1], dtype=np.int64)
    k = 0
    for first in range(0, n_users, users_per_block):
        start = k
        for position in range(first, min(first + users_per_block, n_users)):
            u = user_order[position]
            for t in range(user_starts[u], user_starts[u + 1]):
                order[k] = t
                k += 1
        for m in range(k - 1, start, -1):  # Fisher-Yates inside the block [start, k)
            j = min(start + int(uniforms[m] * (m - start + 1)), m)  # min: the product may round up
            order[m], order[j] = order[j], order[m]
    return order


user_block_order = entry(njit(cache=True)(_user_block_order), writes=())
