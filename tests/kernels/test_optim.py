"""Row-wise optimizer kernels equal their vectorized NumPy twins (coalesced rows, empty, one row).

The NumPy twins below are the formulas of each kernel's docstring, applied with fancy indexing
(exact here because the rows are distinct, as a RowGrad's are).
"""

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyrec.kernels.embedding import coalesce_rows
from tinyrec.kernels.optim import (
    _adam_rows,
    adagrad_ids,
    adagrad_rows,
    adam_ids,
    adam_rows,
    sgd_ids,
    sgd_rows,
)


def numpy_sgd(table, rows, grads, lr):
    table[rows] -= lr * grads


def numpy_adam(table, exp_avg, exp_avg_sq, rows, grads, one_minus_beta1, one_minus_beta2, eps, step_size):
    m = exp_avg[rows] + (grads - exp_avg[rows]) * one_minus_beta1
    v = exp_avg_sq[rows] + (grads**2 - exp_avg_sq[rows]) * one_minus_beta2
    exp_avg[rows] = m
    exp_avg_sq[rows] = v
    table[rows] -= step_size * m / (np.sqrt(v) + eps)


def numpy_adagrad(table, state_sum, rows, grads, clr, eps):
    state_sum[rows] += grads**2
    table[rows] -= clr * grads / (np.sqrt(state_sum[rows]) + eps)


@st.composite
def row_batches(draw):
    """A table, optimizer state and a coalesced RowGrad: m distinct sorted rows (m may be 0 or 1)."""
    n_rows = draw(st.integers(1, 12))
    dim = draw(st.integers(1, 5))
    m = draw(st.integers(0, n_rows))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    rows = np.sort(rng.choice(n_rows, size=m, replace=False)).astype(np.int64)
    table = rng.standard_normal((n_rows, dim)).astype(dtype)
    grads = rng.standard_normal((m, dim)).astype(dtype)
    state1 = rng.standard_normal((n_rows, dim)).astype(dtype)
    state2 = rng.uniform(0, 2, (n_rows, dim)).astype(dtype)  # second moments / sums are >= 0
    return table, rows, grads, state1, state2


def _tol(dtype):
    return {"rtol": 1e-5, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-14}


@settings(max_examples=50, deadline=None)
@given(batch=row_batches(), lr=st.floats(1e-4, 1.0))
def test_sgd_rows_equals_numpy(batch, lr):
    table, rows, grads, _, _ = batch
    expected = table.copy()
    lr = table.dtype.type(lr)
    numpy_sgd(expected, rows, grads, lr)
    sgd_rows(table, rows, grads, lr)
    np.testing.assert_allclose(table, expected, **_tol(table.dtype))


@settings(max_examples=50, deadline=None)
@given(batch=row_batches(), t=st.integers(1, 50), beta1=st.floats(0.0, 0.99), beta2=st.floats(0.0, 0.9999))
def test_adam_rows_equals_numpy(batch, t, beta1, beta2):
    table, rows, grads, m, v = batch
    c = table.dtype.type  # scalars in the table's dtype, as the optimizer passes them
    lr = 1e-2
    scalars = (c(1 - beta1), c(1 - beta2), c(1e-8), c(lr * math.sqrt(1 - beta2**t) / (1 - beta1**t)))
    want = [table.copy(), m.copy(), v.copy()]
    numpy_adam(*want, rows, grads, *scalars)
    adam_rows(table, m, v, rows, grads, *scalars)
    for got, exp in zip((table, m, v), want, strict=True):
        assert got.dtype == exp.dtype
        np.testing.assert_allclose(got, exp, **_tol(table.dtype))


@settings(max_examples=50, deadline=None)
@given(batch=row_batches(), clr=st.floats(1e-4, 1.0))
def test_adagrad_rows_equals_numpy(batch, clr):
    table, rows, grads, _, s = batch
    clr, eps = table.dtype.type(clr), table.dtype.type(1e-10)
    want = [table.copy(), s.copy()]
    numpy_adagrad(*want, rows, grads, clr, eps)
    adagrad_rows(table, s, rows, grads, clr, eps)
    np.testing.assert_allclose(table, want[0], **_tol(table.dtype))
    np.testing.assert_allclose(s, want[1], **_tol(table.dtype))


def test_absent_rows_untouched_and_empty_batch():
    rng = np.random.default_rng(0)
    table, m = rng.standard_normal((2, 6, 2))
    v = rng.uniform(0, 1, (6, 2))  # second moments are >= 0
    before = [a.copy() for a in (table, m, v)]
    adam_rows(table, m, v, np.array([4], dtype=np.int64), np.ones((1, 2)), 0.1, 0.001, 1e-8, 0.1)
    for got, old in zip((table, m, v), before, strict=True):
        np.testing.assert_array_equal(np.delete(got, 4, axis=0), np.delete(old, 4, axis=0))
        assert not np.array_equal(got[4], old[4])
    # an empty RowGrad changes nothing
    snapshot = [a.copy() for a in (table, m, v)]
    adam_rows(table, m, v, np.zeros(0, dtype=np.int64), np.zeros((0, 2)), 0.1, 0.001, 1e-8, 0.1)
    for got, old in zip((table, m, v), snapshot, strict=True):
        np.testing.assert_array_equal(got, old)


def test_plain_function_equals_jitted():
    """The readable plain function is the same computation as the compiled kernel."""
    rng = np.random.default_rng(1)
    args = [rng.standard_normal((5, 3)), rng.standard_normal((5, 3)), rng.uniform(0, 1, (5, 3))]
    copies = [a.copy() for a in args]
    rows, grads = np.array([0, 2, 4], dtype=np.int64), rng.standard_normal((3, 3))
    adam_rows(*args, rows, grads, 0.1, 0.001, 1e-8, 0.01)
    _adam_rows(*copies, rows, grads, 0.1, 0.001, 1e-8, 0.01)
    for a, b in zip(args, copies, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-13)


# -- fused kernels: summing repeated ids and the row update in one call --------------------------
@st.composite
def id_batches(draw):
    """A table, optimizer state, repeated ids in any order (n may be 0) and one vector per id."""
    n_rows = draw(st.integers(1, 10))
    dim = draw(st.integers(1, 5))
    n = draw(st.integers(0, 3 * n_rows))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    ids = rng.integers(0, n_rows, size=n).astype(np.int64)  # few rows: many repeats
    table = rng.standard_normal((n_rows, dim)).astype(dtype)
    grads = rng.standard_normal((n, dim)).astype(dtype)
    state1 = rng.standard_normal((n_rows, dim)).astype(dtype)
    state2 = rng.uniform(0, 2, (n_rows, dim)).astype(dtype)
    return table, ids, grads, state1, state2


def two_pass(table, ids, grads, weight_decay, decay=1.0):
    """The twin's first pass: coalesce (sorted), decay the rows, add the L2 term, as the optimizers do."""
    rows, summed = coalesce_rows(ids, grads)
    if decay != 1:
        table[rows] *= decay
    if weight_decay:
        summed = summed + weight_decay * table[rows]
    return rows, summed


@settings(max_examples=60, deadline=None)
@given(batch=id_batches(), lr=st.floats(1e-4, 1.0), weight_decay=st.sampled_from([0.0, 0.1]))
def test_sgd_ids_equals_coalesce_then_sgd_rows(batch, lr, weight_decay):
    table, ids, grads, _, _ = batch
    c = table.dtype.type
    expected = table.copy()
    sgd_rows(expected, *two_pass(expected, ids, grads, c(weight_decay)), c(lr))
    sgd_ids(table, ids, grads, c(lr), c(weight_decay))
    np.testing.assert_array_equal(table, expected)  # the same sums and arithmetic: bit for bit


@settings(max_examples=60, deadline=None)
@given(
    batch=id_batches(),
    t=st.integers(1, 50),
    decay_kind=st.sampled_from(["none", "l2", "decoupled"]),
)
def test_adam_ids_equals_coalesce_then_adam_rows(batch, t, decay_kind):
    table, ids, grads, m, v = batch
    c = table.dtype.type
    beta1, beta2, lr, wd = 0.9, 0.999, 1e-2, 0.05
    l2, decay = {"none": (0.0, 1.0), "l2": (wd, 1.0), "decoupled": (0.0, 1.0 - lr * wd)}[decay_kind]
    scalars = (c(1 - beta1), c(1 - beta2), c(1e-8), c(lr * math.sqrt(1 - beta2**t) / (1 - beta1**t)))
    want = [table.copy(), m.copy(), v.copy()]
    rows, summed = two_pass(want[0], ids, grads, c(l2), c(decay))
    adam_rows(*want, rows, summed, *scalars)
    adam_ids(table, m, v, ids, grads, (*scalars, c(l2), c(decay)))
    for got, exp in zip((table, m, v), want, strict=True):
        assert got.dtype == exp.dtype
        np.testing.assert_array_equal(got, exp)


@settings(max_examples=60, deadline=None)
@given(batch=id_batches(), clr=st.floats(1e-4, 1.0), weight_decay=st.sampled_from([0.0, 0.1]))
def test_adagrad_ids_equals_coalesce_then_adagrad_rows(batch, clr, weight_decay):
    table, ids, grads, _, s = batch
    c = table.dtype.type
    want = [table.copy(), s.copy()]
    adagrad_rows(*want, *two_pass(want[0], ids, grads, c(weight_decay)), c(clr), c(1e-10))
    adagrad_ids(table, s, ids, grads, c(clr), c(1e-10), c(weight_decay))
    np.testing.assert_array_equal(table, want[0])
    np.testing.assert_array_equal(s, want[1])


def test_fused_kernels_leave_absent_rows_alone_and_an_empty_batch_changes_nothing():
    rng = np.random.default_rng(3)
    table, m = rng.standard_normal((2, 6, 2))
    v = rng.uniform(0, 1, (6, 2))
    before = [a.copy() for a in (table, m, v)]
    coefficients = (0.1, 0.001, 1e-8, 0.1, 0.01, 0.99)
    adam_ids(table, m, v, np.array([4, 1, 4], dtype=np.int64), np.ones((3, 2)), coefficients)
    for got, old in zip((table, m, v), before, strict=True):
        np.testing.assert_array_equal(np.delete(got, [1, 4], axis=0), np.delete(old, [1, 4], axis=0))
    snapshot = [a.copy() for a in (table, m, v)]
    adam_ids(table, m, v, np.zeros(0, dtype=np.int64), np.zeros((0, 2)), coefficients)
    for got, old in zip((table, m, v), snapshot, strict=True):
        np.testing.assert_array_equal(got, old)
