"""Row-wise optimizer updates for row-sparse gradients (lazy SGD, Adam, Adagrad).

An embedding table ``W : (n_rows, dim)`` receives a :class:`~tinyrec.nn.module.RowGrad`: distinct
rows ``rows : (n,)`` and their gradients ``grads : (n, dim)``, with ``n`` (the rows of a batch) much
smaller than ``n_rows``. These kernels update **only those rows** of the table and of the optimizer's
per-row state, in place, in one pass; the rest of the table is never read.

``rows`` must be distinct (coalesced: :func:`tinyrec.kernels.embedding.coalesce_rows`); a repeated
row would be updated twice. Scalars that depend only on the step count (bias corrections, the
decayed learning rate) are computed once by the caller and passed in, **as scalars of the table's
dtype** (``np.float32(lr)`` for a float32 table): the arithmetic then stays in that dtype, as torch
computes a float32 parameter's update in float32 (and a float64 one in float64). Mixing in a
Python float would promote every element to float64, which is about 5x slower here.

**Fused kernels** (``sgd_ids``, ``adam_ids``, ``adagrad_ids``): the same updates, given the
*uncoalesced* ids of a batch and one gradient vector per id (what ``Embedding.backward`` produces
before summing repeats). In one call, each sums the vectors of repeated ids
(:func:`~tinyrec.kernels.embedding.sum_repeats`: a hash table instead of a sort, the rows in the
order they first occur), adds the weight decay and runs the row update above. The two-pass form
(``coalesce_rows``, then the ``*_rows`` kernel) is their twin: the same sums in the same order and
the same per-row arithmetic, so the two agree to the last bit; the fused form saves the sort
(about 50 µs of a 1,024-id batch), a call and the Python between the two.

The kernels that divide are compiled with ``error_model="numpy"``: a division by zero gives inf or
NaN as in NumPy (their twins) instead of raising, which lets LLVM vectorize the inner loop over
``dim`` (about 3x faster here than Numba's default Python error model).

Each row update asks for the rows it will reach ``UPDATE_AHEAD`` iterations later
(:mod:`~tinyrec.kernels.prefetch`): the rows are scattered over tables too large for the caches,
and the hint lets their memory load while earlier rows are computed. It changes no value.
"""

import numpy as np
from numba import njit

from . import entry
from .embedding import sum_repeats
from .prefetch import prefetch_row

#: How many rows ahead the row updates ask for their rows (:mod:`~tinyrec.kernels.prefetch`): each
#: row is in two or three tables, so fewer rows than a gather's keep as many bytes on the way;
#: measured best among 2, 4, 8 and 16 for lazy Adam on rows of 64 float32.
UPDATE_AHEAD = 4


def _sgd_rows(table, rows, grads, lr):
    """``W[r] -= lr · g_r`` for each distinct row ``r``.

    NumPy twin: ``table[rows] -= lr * grads``.
    """
    dim = table.shape[1]
    for j in range(rows.shape[0]):
        if j + UPDATE_AHEAD < rows.shape[0]:  # a hint for a later row: no effect on the result
            prefetch_row(table, rows[j + UPDATE_AHEAD])
        r = rows[j]
        for col in range(dim):
            table[r, col] -= lr * grads[j, col]


sgd_rows = entry(njit(cache=True)(_sgd_rows), writes=("table",))


def _adam_rows(table, exp_avg, exp_avg_sq, rows, grads, one_minus_beta1, one_minus_beta2, eps, step_size):
    """Lazy Adam on the present rows, exactly as ``torch.optim.SparseAdam`` orders the arithmetic.

    For each distinct row ``r`` with gradient ``g`` (element-wise over ``dim``)::

        m_r ← m_r + (1 − β1)(g − m_r)
        v_r ← v_r + (1 − β2)(g² − v_r)
        W_r ← W_r − step_size · m_r / (√v_r + eps)

    with ``step_size = lr · √(1 − β2^t) / (1 − β1^t)`` computed by the caller from the
    parameter's own step count ``t``. ``exp_avg`` (m) and ``exp_avg_sq`` (v) have the table's shape;
    ``one_minus_beta1 = 1 − β1`` and ``one_minus_beta2 = 1 − β2`` are passed precomputed.

    NumPy twin::

        m = exp_avg[rows] + (grads - exp_avg[rows]) * one_minus_beta1; exp_avg[rows] = m
        v = exp_avg_sq[rows] + (grads**2 - exp_avg_sq[rows]) * one_minus_beta2; exp_avg_sq[rows] = v
        table[rows] -= step_size * m / (np.sqrt(v) + eps)
    """
    dim = table.shape[1]
    for j in range(rows.shape[0]):
        if j + UPDATE_AHEAD < rows.shape[0]:  # a hint for a later row: no effect on the result
            for state in (table, exp_avg, exp_avg_sq):
                prefetch_row(state, rows[j + UPDATE_AHEAD])
        r = rows[j]
        for col in range(dim):
            g = grads[j, col]
            m = exp_avg[r, col] + (g - exp_avg[r, col]) * one_minus_beta1
            v = exp_avg_sq[r, col] + (g * g - exp_avg_sq[r, col]) * one_minus_beta2
            exp_avg[r, col] = m
            exp_avg_sq[r, col] = v
            table[r, col] -= step_size * (m / (np.sqrt(v) + eps))


adam_rows = entry(
    njit(cache=True, error_model="numpy")(_adam_rows), writes=("table", "exp_avg", "exp_avg_sq")
)


def _adagrad_rows(table, state_sum, rows, grads, clr, eps):
    """Lazy Adagrad on the present rows, as torch's Adagrad does with a sparse gradient.

    For each distinct row ``r`` with gradient ``g``::

        s_r ← s_r + g²
        W_r ← W_r − clr · g / (√s_r + eps)

    with ``clr = lr / (1 + (t − 1) · lr_decay)`` computed by the caller.

    NumPy twin::

        state_sum[rows] += grads**2
        table[rows] -= clr * grads / (np.sqrt(state_sum[rows]) + eps)
    """
    dim = table.shape[1]
    for j in range(rows.shape[0]):
        if j + UPDATE_AHEAD < rows.shape[0]:  # a hint for a later row: no effect on the result
            for state in (table, state_sum):
                prefetch_row(state, rows[j + UPDATE_AHEAD])
        r = rows[j]
        for col in range(dim):
            g = grads[j, col]
            s = state_sum[r, col] + g * g
            state_sum[r, col] = s
            table[r, col] -= clr * (g / (np.sqrt(s) + eps))


adagrad_rows = entry(njit(cache=True, error_model="numpy")(_adagrad_rows), writes=("table", "state_sum"))


def _add_weight_decay(table, rows, summed, weight_decay, decay):
    """Before a row update: ``W_r ← decay · W_r`` (decoupled, AdamW), then ``g_r ← g_r + λ W_r`` (L2).

    A helper of the fused kernels; ``decay = 1`` and ``weight_decay = 0`` (``λ``) leave everything
    as it is (and are skipped, so an inf in the table does not become a NaN through ``0 · inf``).
    """
    if decay == 1 and weight_decay == 0:
        return
    for j in range(rows.shape[0]):
        r = rows[j]
        for col in range(table.shape[1]):
            table[r, col] *= decay
            if weight_decay != 0:
                summed[j, col] += weight_decay * table[r, col]


add_weight_decay = njit(cache=True)(_add_weight_decay)
_sgd_rows_jit = njit(cache=True)(_sgd_rows)
_adam_rows_jit = njit(cache=True, error_model="numpy")(_adam_rows)
_adagrad_rows_jit = njit(cache=True, error_model="numpy")(_adagrad_rows)


def _sgd_ids(table, ids, grads, lr, weight_decay):
    """Fused lazy SGD: ``W[r] -= lr · (Σ_{i: ids[i]=r} grads[i] + λ W[r])`` for each distinct id ``r``.

    ``ids : (n,)`` may repeat, ``grads : (n, dim)`` one vector per id; ``lr`` and ``weight_decay``
    (``λ``) are scalars of the table's dtype.

    Twin (two passes): ``rows, summed = coalesce_rows(ids, grads)``;
    ``summed += λ · table[rows]`` (when ``λ ≠ 0``); ``sgd_rows(table, rows, summed, lr)``.
    """
    rows, summed = sum_repeats(ids, grads)
    add_weight_decay(table, rows, summed, weight_decay, 1)
    _sgd_rows_jit(table, rows, summed, lr)


sgd_ids = entry(njit(cache=True)(_sgd_ids), writes=("table",))


def _adam_ids(table, exp_avg, exp_avg_sq, ids, grads, coefficients):
    """Fused lazy Adam: sum the gradients of repeated ``ids``, then :func:`adam_rows`'s update.

    ``coefficients = (1 − β1, 1 − β2, eps, step_size, λ, decay)``, scalars of the table's dtype.
    For each distinct id ``r``::

        W_r ← decay · W_r                          (AdamW's decoupled decay; decay = 1 for Adam)
        g_r = Σ_{i: ids[i]=r} grads[i] + λ W_r      (Adam's L2 term; λ = 0 for AdamW)
        m_r, v_r, W_r updated as in adam_rows

    Twin (two passes): ``rows, summed = coalesce_rows(ids, grads)``; ``table[rows] *= decay``;
    ``summed += λ · table[rows]``; ``adam_rows(table, exp_avg, exp_avg_sq, rows, summed, ...)``.
    """
    one_minus_beta1, one_minus_beta2, eps, step_size, weight_decay, decay = coefficients
    rows, summed = sum_repeats(ids, grads)
    add_weight_decay(table, rows, summed, weight_decay, decay)
    _adam_rows_jit(table, exp_avg, exp_avg_sq, rows, summed, one_minus_beta1, one_minus_beta2, eps, step_size)


adam_ids = entry(njit(cache=True)(_adam_ids), writes=("table", "exp_avg", "exp_avg_sq"))


def _adagrad_ids(table, state_sum, ids, grads, clr, eps, weight_decay):
    """Fused lazy Adagrad: sum the gradients of repeated ``ids``, then :func:`adagrad_rows`'s update.

    ``g_r = Σ_{i: ids[i]=r} grads[i] + λ W_r`` for each distinct id ``r``, then ``s_r`` and ``W_r``
    as in :func:`adagrad_rows`. Twin: ``coalesce_rows``, ``summed += λ · table[rows]``,
    ``adagrad_rows``.
    """
    rows, summed = sum_repeats(ids, grads)
    add_weight_decay(table, rows, summed, weight_decay, 1)
    _adagrad_rows_jit(table, state_sum, rows, summed, clr, eps)


adagrad_ids = entry(njit(cache=True)(_adagrad_ids), writes=("table", "state_sum"))
