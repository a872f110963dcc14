"""Row-wise optimizer kernels equal their vectorized NumPy twins (coalesced rows, empty, one row).

The NumPy twins below are the formulas of each kernel's docstring, applied with fancy indexing
(exact here because the rows are distinct, as a RowGrad's are).
"""

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyrec.kernels.embedding import coalesce_rows, sum_repeats
from tinyrec.kernels.optim import _adam_rows, adagrad_rows, adam_rows, sgd_rows


def numpy_sgd(table, rows, grads, lr, weight_decay):
    table[rows] -= lr * (grads + weight_decay * table[rows])


def numpy_adam(table, exp_avg, exp_avg_sq, rows, grads, coefficients):
    one_minus_beta1, one_minus_beta2, eps, step_size, weight_decay, decay = coefficients
    table[rows] *= decay
    g = grads + weight_decay * table[rows]
    m = exp_avg[rows] + (g - exp_avg[rows]) * one_minus_beta1
    v = exp_avg_sq[rows] + (g**2 - exp_avg_sq[rows]) * one_minus_beta2
    exp_avg[rows] = m
    exp_avg_sq[rows] = v
    table[rows] -= step_size * m / (np.sqrt(v) + eps)


def numpy_adagrad(table, state_sum, rows, grads, clr, eps, weight_decay):
    g = grads + weight_decay * table[rows]
    state_sum[rows] += g**2
    table[rows] -= clr * g / (np.sqrt(state_sum[rows]) + eps)


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


WEIGHT_DECAY = st.sampled_from([0.0, 0.1])


@settings(max_examples=50, deadline=None)
@given(batch=row_batches(), lr=st.floats(1e-4, 1.0), weight_decay=WEIGHT_DECAY)
def test_sgd_rows_equals_numpy(batch, lr, weight_decay):
    table, rows, grads, _, _ = batch
    expected = table.copy()
    c = table.dtype.type
    numpy_sgd(expected, rows, grads, c(lr), c(weight_decay))
    sgd_rows(table, rows, grads, c(lr), c(weight_decay))
    np.testing.assert_allclose(table, expected, **_tol(table.dtype))


@settings(max_examples=50, deadline=None)
@given(
    batch=row_batches(),
    t=st.integers(1, 50),
    beta1=st.floats(0.0, 0.99),
    beta2=st.floats(0.0, 0.9999),
    decay_kind=st.sampled_from(["none", "l2", "decoupled"]),
)
def test_adam_rows_equals_numpy(batch, t, beta1, beta2, decay_kind):
    table, rows, grads, m, v = batch
    c = table.dtype.type  # scalars in the table's dtype, as the optimizer passes them
    lr, wd = 1e-2, 0.05
    l2, decay = {"none": (0.0, 1.0), "l2": (wd, 1.0), "decoupled": (0.0, 1.0 - lr * wd)}[decay_kind]
    step_size = lr * math.sqrt(1 - beta2**t) / (1 - beta1**t)
    coefficients = (c(1 - beta1), c(1 - beta2), c(1e-8), c(step_size), c(l2), c(decay))
    want = [table.copy(), m.copy(), v.copy()]
    numpy_adam(*want, rows, grads, coefficients)
    adam_rows(table, m, v, rows, grads, coefficients)
    for got, exp in zip((table, m, v), want, strict=True):
        assert got.dtype == exp.dtype
        np.testing.assert_allclose(got, exp, **_tol(table.dtype))


@settings(max_examples=50, deadline=None)
@given(batch=row_batches(), clr=st.floats(1e-4, 1.0), weight_decay=WEIGHT_DECAY)
def test_adagrad_rows_equals_numpy(batch, clr, weight_decay):
    table, rows, grads, _, s = batch
    c = table.dtype.type
    want = [table.copy(), s.copy()]
    numpy_adagrad(*want, rows, grads, c(clr), c(1e-10), c(weight_decay))
    adagrad_rows(table, s, rows, grads, c(clr), c(1e-10), c(weight_decay))
    np.testing.assert_allclose(table, want[0], **_tol(table.dtype))
    np.testing.assert_allclose(s, want[1], **_tol(table.dtype))


def test_no_weight_decay_keeps_an_inf_in_the_table_an_inf():
    # at weight_decay 0 the L2 term is skipped: 0 * inf would be NaN
    no_decay = (0.1, 0.001, 1e-8, 0.1, 0.0, 1.0)  # Adam's coefficients with λ = 0 and decay = 1
    for update in (
        lambda W, rows, g: sgd_rows(W, rows, g, 0.1, 0.0),
        lambda W, rows, g: adam_rows(W, np.zeros_like(W), np.zeros_like(W), rows, g, no_decay),
        lambda W, rows, g: adagrad_rows(W, np.zeros_like(W), rows, g, 0.1, 1e-10, 0.0),
    ):
        table = np.array([[np.inf, 1.0], [2.0, 3.0]])
        update(table, np.array([0], dtype=np.int64), np.ones((1, 2)))
        assert table[0, 0] == np.inf and np.isfinite(table[0, 1])


def test_absent_rows_untouched_and_empty_batch():
    rng = np.random.default_rng(0)
    table, m = rng.standard_normal((2, 6, 2))
    v = rng.uniform(0, 1, (6, 2))  # second moments are >= 0
    before = [a.copy() for a in (table, m, v)]
    coefficients = (0.1, 0.001, 1e-8, 0.1, 0.0, 1.0)
    adam_rows(table, m, v, np.array([4], dtype=np.int64), np.ones((1, 2)), coefficients)
    for got, old in zip((table, m, v), before, strict=True):
        np.testing.assert_array_equal(np.delete(got, 4, axis=0), np.delete(old, 4, axis=0))
        assert not np.array_equal(got[4], old[4])
    # an empty RowGrad changes nothing
    snapshot = [a.copy() for a in (table, m, v)]
    adam_rows(table, m, v, np.zeros(0, dtype=np.int64), np.zeros((0, 2)), coefficients)
    for got, old in zip((table, m, v), snapshot, strict=True):
        np.testing.assert_array_equal(got, old)


def test_plain_function_equals_jitted():
    """The readable plain function is the same computation as the compiled kernel."""
    rng = np.random.default_rng(1)
    args = [rng.standard_normal((5, 3)), rng.standard_normal((5, 3)), rng.uniform(0, 1, (5, 3))]
    copies = [a.copy() for a in args]
    rows, grads = np.array([0, 2, 4], dtype=np.int64), rng.standard_normal((3, 3))
    coefficients = (0.1, 0.001, 1e-8, 0.01, 0.02, 0.99)
    adam_rows(*args, rows, grads, coefficients)
    _adam_rows(*copies, rows, grads, coefficients)
    for a, b in zip(args, copies, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-13)


# -- rows in the order RowGrad.from_indices sums them (first occurrence), or sorted ---------------
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


def _both_orders(update, arrays, ids, grads):
    """``update`` applied to copies of ``arrays`` with the rows of ``sum_repeats`` (first occurrence)
    and with those of ``coalesce_rows`` (sorted): the optimizers' fused and readable paths."""
    results = []
    for summing in (sum_repeats, coalesce_rows):
        copies = [a.copy() for a in arrays]
        update(*copies, *summing(ids, grads))
        results.append(copies)
    return results


@settings(max_examples=60, deadline=None)
@given(
    batch=id_batches(),
    lr=st.floats(1e-4, 1.0),
    t=st.integers(1, 50),
    clr=st.floats(1e-4, 1.0),
    weight_decay=WEIGHT_DECAY,
)
def test_row_updates_give_the_same_numbers_in_either_order_of_the_rows(batch, lr, t, clr, weight_decay):
    table, ids, grads, state1, state2 = batch
    c = table.dtype.type
    beta1, beta2 = 0.9, 0.999
    step_size = lr * math.sqrt(1 - beta2**t) / (1 - beta1**t)
    adam = (c(1 - beta1), c(1 - beta2), c(1e-8), c(step_size), c(weight_decay), c(1 - lr * weight_decay))
    adagrad = (c(clr), c(1e-10), c(weight_decay))
    cases = (
        (lambda W, rows, g: sgd_rows(W, rows, g, c(lr), c(weight_decay)), [table]),
        (lambda W, m, v, rows, g: adam_rows(W, m, v, rows, g, adam), [table, state1, state2]),
        (lambda W, s, rows, g: adagrad_rows(W, s, rows, g, *adagrad), [table, state2]),
    )
    for update, arrays in cases:
        first_occurrence, ascending = _both_orders(update, arrays, ids, grads)
        for got, want in zip(first_occurrence, ascending, strict=True):
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)  # the same sums, each row updated alone: bit for bit
