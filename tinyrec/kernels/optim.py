"""Row-wise optimizer updates for row-sparse gradients (lazy SGD, Adam, Adagrad).

An embedding table ``W : (n_rows, dim)`` receives a :class:`~tinyrec.nn.module.RowGrad`: distinct
rows ``rows : (n,)`` and their gradients ``grads : (n, dim)``, with ``n`` (the rows of a batch) much
smaller than ``n_rows``. These kernels update **only those rows** of the table and of the optimizer's
per-row state, in place, in one pass; the rest of the table is never read.

``rows`` must be distinct (the repeats of a batch summed first:
:func:`~tinyrec.kernels.embedding.sum_repeats`); a repeated row would be updated twice. Weight
decay, where set, applies to these rows only (lazily, like the update). Scalars that depend only
on the step count (bias corrections, the decayed learning rate) are computed once by the caller
and passed in, **as scalars of the table's dtype** (``np.float32(lr)`` for a float32 table): the
arithmetic then stays in that dtype, as torch computes a float32 parameter's update in float32
(and a float64 one in float64). Mixing in a Python float would promote every element to float64,
which is about 5x slower here.

``rows`` need not be sorted: an optimizer's default (fused) step passes them in the order
:meth:`RowGrad.from_indices <tinyrec.nn.module.RowGrad.from_indices>` summed them (the order they
first occur in the batch), the readable path sorted; each row is updated on its own, so the order
changes no number.

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
from .prefetch import PREFETCH_MIN_BYTES, prefetch_row

#: How many rows ahead the row updates ask for their rows (:mod:`~tinyrec.kernels.prefetch`): each
#: row is in two or three tables, so fewer rows than a gather's keep as many bytes on the way;
#: the best of 2, 4, 8, 16 and 32 for lazy Adam on rows of 64 float32.
UPDATE_AHEAD = 4


def _sgd_rows(table, rows, grads, lr, weight_decay):
    """``W_r ← W_r − lr · (g_r + λ W_r)`` for each distinct row ``r``, ``λ = weight_decay``.

    NumPy twin: ``table[rows] -= lr * (grads + weight_decay * table[rows])``.
    """
    dim = table.shape[1]
    prefetching = table.nbytes >= PREFETCH_MIN_BYTES
    for j in range(rows.shape[0]):
        if prefetching and j + UPDATE_AHEAD < rows.shape[0]:  # a hint for a later row: changes nothing
            prefetch_row(table, rows[j + UPDATE_AHEAD])
        r = rows[j]
        for col in range(dim):
            g = grads[j, col]
            if weight_decay != 0:  # skipped at 0, so an inf in the table does not become 0 · inf = NaN
                g += weight_decay * table[r, col]
            table[r, col] -= lr * g


sgd_rows = entry(njit(cache=True)(_sgd_rows), writes=("table",))


def _adam_rows(table, exp_avg, exp_avg_sq, rows, grads, coefficients):
    """Lazy Adam on the present rows, exactly as ``torch.optim.SparseAdam`` orders the arithmetic.

    ``coefficients = (1 − β1, 1 − β2, eps, step_size, λ, decay)``. For each distinct row ``r``
    with gradient ``g`` (element-wise over ``dim``)::

        W_r ← decay · W_r                      (AdamW's decoupled decay; decay = 1 for Adam)
        g ← g + λ W_r                          (Adam's L2 term; λ = 0 for AdamW and SparseAdam)
        m_r ← m_r + (1 − β1)(g − m_r)
        v_r ← v_r + (1 − β2)(g² − v_r)
        W_r ← W_r − step_size · m_r / (√v_r + eps)

    with ``step_size = lr · √(1 − β2^t) / (1 − β1^t)`` computed by the caller from the
    parameter's own step count ``t``. ``exp_avg`` (m) and ``exp_avg_sq`` (v) have the table's shape.

    NumPy twin::

        table[rows] *= decay; g = grads + weight_decay * table[rows]
        m = exp_avg[rows] + (g - exp_avg[rows]) * one_minus_beta1; exp_avg[rows] = m
        v = exp_avg_sq[rows] + (g**2 - exp_avg_sq[rows]) * one_minus_beta2; exp_avg_sq[rows] = v
        table[rows] -= step_size * m / (np.sqrt(v) + eps)
    """
    one_minus_beta1, one_minus_beta2, eps, step_size, weight_decay, decay = coefficients
    dim = table.shape[1]
    prefetching = table.nbytes >= PREFETCH_MIN_BYTES
    for j in range(rows.shape[0]):
        if prefetching and j + UPDATE_AHEAD < rows.shape[0]:  # a hint for a later row: changes nothing
            for state in (table, exp_avg, exp_avg_sq):
                prefetch_row(state, rows[j + UPDATE_AHEAD])
        r = rows[j]
        for col in range(dim):
            w = table[r, col] * decay  # decay = 1 leaves every value as it is, inf and NaN too
            g = grads[j, col]
            if weight_decay != 0:  # skipped at 0, so an inf in the table does not become 0 · inf = NaN
                g += weight_decay * w
            m = exp_avg[r, col] + (g - exp_avg[r, col]) * one_minus_beta1
            v = exp_avg_sq[r, col] + (g * g - exp_avg_sq[r, col]) * one_minus_beta2
            exp_avg[r, col] = m
            exp_avg_sq[r, col] = v
            table[r, col] = w - step_size * (m / (np.sqrt(v) + eps))


adam_rows = entry(
    njit(cache=True, error_model="numpy")(_adam_rows), writes=("table", "exp_avg", "exp_avg_sq")
)


def _adagrad_rows(table, state_sum, rows, grads, clr, eps, weight_decay):
    """Lazy Adagrad on the present rows, as torch's Adagrad does with a sparse gradient.

    For each distinct row ``r`` with gradient ``g``, ``λ = weight_decay``::

        g ← g + λ W_r
        s_r ← s_r + g²
        W_r ← W_r − clr · g / (√s_r + eps)

    with ``clr = lr / (1 + (t − 1) · lr_decay)`` computed by the caller.

    NumPy twin::

        g = grads + weight_decay * table[rows]
        state_sum[rows] += g**2
        table[rows] -= clr * g / (np.sqrt(state_sum[rows]) + eps)
    """
    dim = table.shape[1]
    prefetching = table.nbytes >= PREFETCH_MIN_BYTES
    for j in range(rows.shape[0]):
        if prefetching and j + UPDATE_AHEAD < rows.shape[0]:  # a hint for a later row: changes nothing
            for state in (table, state_sum):
                prefetch_row(state, rows[j + UPDATE_AHEAD])
        r = rows[j]
        for col in range(dim):
            g = grads[j, col]
            if weight_decay != 0:  # skipped at 0, so an inf in the table does not become 0 · inf = NaN
                g += weight_decay * table[r, col]
            s = state_sum[r, col] + g * g
            state_sum[r, col] = s
            table[r, col] -= clr * (g / (np.sqrt(s) + eps))


adagrad_rows = entry(njit(cache=True, error_model="numpy")(_adagrad_rows), writes=("table", "state_sum"))
