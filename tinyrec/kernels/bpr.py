"""BPR-MF's SGD epoch: the Numba kernel, and its NumPy twin that reads like the math.

Why a kernel: every sampled triple's update reads what the previous one wrote (a user or an item
may come back in the next triple), so the epoch cannot be vectorized over triples. The kernel
writes each vector operation as a loop over the factors; :func:`bpr_epoch_numpy` is the same
epoch with one NumPy expression per line of the docstring's math (slower, the same numbers up to
the kernel's reassociated sums), which ``BPRMF(backend="numpy")`` runs.
"""

import numpy as np
from numba import njit

from . import entry

# Reassociating the sums lets LLVM use SIMD for the dot product (about 2x faster); no flag that
# assumes finite values is set, so a diverging run still shows its NaN.
_SIMD_MATH = {"reassoc", "contract", "nsz", "arcp"}


def _bpr_epoch(users, positives, negatives, P, Q, bi, lr, reg):
    """One epoch of BPR SGD over sampled triples ``(u, i, j)``, in order, updating in place.

    Parameters
    ----------
    users, positives, negatives : (n,) int64
        The triples: user ``u`` prefers item ``i`` (observed) to item ``j`` (not observed).
    P : (n_users, d) float, Q : (n_items, d) float
        User and item factors (updated in place).
    bi : (n_items,) float
        Item biases (updated in place; ``lr[2] = 0`` freezes them at zero).
    lr : (3,) float64
        Learning rates of ``p_u, q_i, b_i``.
    reg : (3,) float64
        L2 strengths of ``p_u, q_i, b_i``.

    Returns
    -------
    loss : float
        ``Σ −log σ(x_uij)`` over the epoch, each term measured just before its own update.

    Notes
    -----
    With ``x_uij = p_u·(q_i − q_j) + b_i − b_j`` and ``z = 1 − σ(x_uij) = σ(−x_uij)``, the
    gradient of ``−log σ(x_uij)`` is ``−z`` times that of ``x_uij``, so the ascent steps are::

        p_u += η_p (z (q_i − q_j) − λ_p p_u)
        q_i += η_q (z p_u − λ_q q_i)
        q_j += η_q (−z p_u − λ_q q_j)
        b_i += η_b (z − λ_b b_i)
        b_j += η_b (−z − λ_b b_j)

    All three vector updates read the old ``p_u, q_i, q_j``. Arithmetic is in the dtype of ``P``; the loss and
    ``z`` are computed in float64 (the loss as ``−log`` of running products of ``σ(x_uij)``, equal
    to the sum of the terms up to round-off). (Rendle et al., "BPR: Bayesian
    personalized ranking from implicit feedback", UAI 2009.)
    """
    d = P.shape[1]
    cast = P.dtype.type  # scalars in the tables' dtype, read once (see funk_svd_epoch)
    lr_p, lr_q, lr_b = cast(lr[0]), cast(lr[1]), cast(lr[2])
    reg_p, reg_q, reg_b = cast(reg[0]), cast(reg[1]), cast(reg[2])
    loss = 0.0
    product = 1.0  # Π σ(x) of the triples not yet in `loss`
    for t in range(users.shape[0]):
        u = users[t]
        i = positives[t]
        j = negatives[t]
        pu = P[u]  # row views: (d,)
        qi = Q[i]
        qj = Q[j]
        x = bi[i] - bi[j]
        for f in range(d):
            x += pu[f] * (qi[f] - qj[f])
        # s = σ(x) and z = σ(-x) = 1 - s from one exponential, finite for any x
        xf = float(x)
        if xf > 0:
            e = np.exp(-xf)
            s = 1.0 / (1.0 + e)
            z = cast(e * s)
        else:
            e = np.exp(xf)
            zf = 1.0 / (1.0 + e)
            s = e * zf
            z = cast(zf)
        # Σ -log σ(x) = -log Π σ(x): multiply the σ's into `product` and take its log only when
        # it gets small (every few hundred triples), instead of one log per triple (a fifth of
        # the kernel's time). A σ below 1e-100 (x < -230) is added directly, as -x + log(1 + e^x),
        # so the product never leaves [1e-250, 1].
        if s < 1e-100:
            loss += -xf + np.log1p(e)
        else:
            product *= s
            if product < 1e-150:
                loss -= np.log(product)
                product = 1.0
        bi[i] += lr_b * (z - reg_b * bi[i])
        bi[j] += lr_b * (-z - reg_b * bi[j])
        for f in range(d):
            puf = pu[f]
            qif = qi[f]
            qjf = qj[f]
            pu[f] = puf + lr_p * (z * (qif - qjf) - reg_p * puf)
            qi[f] = qif + lr_q * (z * puf - reg_q * qif)
            qj[f] = qjf + lr_q * (-z * puf - reg_q * qjf)
    return loss - np.log(product)


bpr_epoch = entry(njit(cache=True, fastmath=_SIMD_MATH)(_bpr_epoch), writes=("P", "Q", "bi"))


def _shuffle_triples(uniforms, users, positives, negatives):
    """Shuffle the triples in place (Fisher–Yates), the three arrays together.

    ``uniforms`` is ``(n,)`` in ``[0, 1)``, drawn by the caller's seeded generator: position ``k``
    swaps with ``⌊uniforms[k] · (k + 1)⌋``, for ``k`` from ``n − 1`` down to 1, so every order is
    equally likely. About half the cost of ``order = rng.permutation(n)`` followed by three
    gathers ``users[order], ...`` (0.5 against 1 ms for 100,000 triples here).

    NumPy twin: ``order = rng.permutation(n); users[:] = users[order]`` (and the two others).
    """
    for k in range(users.shape[0] - 1, 0, -1):
        j = min(int(uniforms[k] * (k + 1)), k)  # min: the product may round up to k + 1
        users[k], users[j] = users[j], users[k]
        positives[k], positives[j] = positives[j], positives[k]
        negatives[k], negatives[j] = negatives[j], negatives[k]


shuffle_triples = entry(njit(cache=True)(_shuffle_triples), writes=("users", "positives", "negatives"))


def bpr_epoch_numpy(users, positives, negatives, P, Q, bi, lr, reg):
    """The NumPy twin of :func:`bpr_epoch`: the same arguments, updates and returned loss.

    One triple at a time, in order, each line one line of ``bpr_epoch``'s Notes (vectors of length
    ``d`` instead of loops over the factors).
    """
    cast = P.dtype.type
    loss = 0.0
    for u, i, j in zip(users, positives, negatives, strict=True):
        x = float(P[u] @ (Q[i] - Q[j]) + bi[i] - bi[j])  # x_uij
        loss += np.logaddexp(0.0, -x)  # −log σ(x) = log(1 + e^(−x)), finite for any x
        z = cast(0.5 * (1.0 - np.tanh(0.5 * x)))  # z = σ(−x), without overflow
        p_u, q_i, q_j = P[u].copy(), Q[i].copy(), Q[j].copy()  # the updates read the old vectors
        P[u] += cast(lr[0]) * (z * (q_i - q_j) - cast(reg[0]) * p_u)
        Q[i] += cast(lr[1]) * (z * p_u - cast(reg[1]) * q_i)
        Q[j] += cast(lr[1]) * (-z * p_u - cast(reg[1]) * q_j)
        bi[i] += cast(lr[2]) * (z - cast(reg[2]) * bi[i])
        bi[j] += cast(lr[2]) * (-z - cast(reg[2]) * bi[j])
    return loss
