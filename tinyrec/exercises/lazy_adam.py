"""Course exercise: one lazy (row-sparse) Adam step on an embedding table, as torch's SparseAdam.

Task
----
Write ``my_lazy_adam_step(theta, m, v, t, rows, values, lr=1e-3, beta1=0.9, beta2=0.999,
eps=1e-8)``. A batch touched the rows ``rows`` of the table ``theta`` (a row may appear several
times, in any order), and ``values[j]`` is the gradient that the ``j``-th occurrence sends to row
``rows[j]``. Update **only the rows present**: their moments ``m``, ``v`` and their parameters; every
other row of ``theta``, ``m`` and ``v`` keeps its value (that is what makes the step cheap on a
table of a million rows). Return the new ``(theta, m, v)`` as new arrays.

Shapes
------
``theta, m, v : (n_rows, d)`` floats; ``t >= 1`` the table's step count (this step included);
``rows : (n,)`` integer ids in ``[0, n_rows)``; ``values : (n, d)``.

Math
----
First sum the occurrences of each row: ``g_r = Σ_{j : rows[j] = r} values[j]``. Then, for each
present row ``r`` only::

    m_r ← β1 m_r + (1 − β1) g_r          v_r ← β2 v_r + (1 − β2) g_r²
    θ_r ← θ_r − lr · √(1 − β2^t) / (1 − β1^t) · m_r / (√v_r + eps)

(the bias corrections folded into the step size, ``eps`` left uncorrected, as in
``torch.optim.SparseAdam``). ``tinyrec.optim.Adam`` applies the same step to a ``RowGrad``.

Checks
------
* ``returns_three_new_tables`` (1 point);
* ``rows_not_present_keep_their_values`` (2): ``θ``, ``m`` and ``v`` alike;
* ``repeated_rows_are_summed`` (2);
* ``first_step_moves_present_rows_by_about_lr`` (1);
* ``eps_enters_as_torch_s_sparse_adam`` (1): for tiny gradients;
* ``matches_tinyrec_adam_on_a_rowgrad`` (2): ten steps on random batches;
* ``inputs_are_not_modified`` (1).
"""

from __future__ import annotations

import numpy as np

from ..nn import Parameter, RowGrad
from ..optim import Adam
from .checking import describe_difference, expect, points, run_checks

NAME = "lazy_adam"
TUTORIAL = None
SUBMIT = ("my_lazy_adam_step",)


# -- the stub: what the student receives -------------------------------------------------------
def my_lazy_adam_step(theta, m, v, t, rows, values, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """One lazy Adam step on the rows ``rows`` of ``theta``; returns the new ``(theta, m, v)``."""
    raise NotImplementedError("your turn: return the new (theta, m, v), only the present rows changed")


# -- the reference solution ---------------------------------------------------------------------
def solution_lazy_adam_step(theta, m, v, t, rows, values, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """``np.unique(..., return_inverse=True)`` numbers the distinct rows; ``np.add.at`` sums each
    row's occurrences into its slot (a plain ``g[inverse] += values`` would keep one of them).
    Then the distinct rows are read, updated and written back once each.
    """
    present, inverse = np.unique(rows, return_inverse=True)
    g = np.zeros((len(present), theta.shape[1]), dtype=theta.dtype)
    np.add.at(g, inverse.reshape(-1), values)
    theta, m, v = theta.copy(), m.copy(), v.copy()
    m[present] = beta1 * m[present] + (1 - beta1) * g
    v[present] = beta2 * v[present] + (1 - beta2) * g**2
    step = lr * np.sqrt(1 - beta2**t) / (1 - beta1**t)
    theta[present] -= step * m[present] / (np.sqrt(v[present]) + eps)
    return theta, m, v


STUB = my_lazy_adam_step
SOLUTION = solution_lazy_adam_step


# -- the checks -----------------------------------------------------------------------------------
def _state(seed, n_rows=8, d=3):
    rng = np.random.default_rng(seed)
    return (
        rng.standard_normal((n_rows, d)),
        0.1 * rng.standard_normal((n_rows, d)),
        0.1 * rng.random((n_rows, d)),
    )


def _step(fn, theta, m, v, t, rows, values, **hyper):
    rows = np.asarray(rows, dtype=np.int64)
    with np.errstate(all="ignore"):  # a division by zero is reported by the checks, in words
        out = fn(theta.copy(), m.copy(), v.copy(), t, rows.copy(), values.copy(), **hyper)
    expect(
        isinstance(out, tuple) and len(out) == 3,
        f"my_lazy_adam_step returned {type(out).__name__}, not the three tables (theta, m, v)",
    )
    for name, array in zip(("theta", "m", "v"), out, strict=True):
        expect(
            isinstance(array, np.ndarray) and array.shape == theta.shape,
            f"the new {name} is {type(array).__name__} of shape {np.shape(array)}; expected the whole table, "
            f"{theta.shape}",
        )
    return out


@points(1)
def returns_three_new_tables(fn):
    theta, m, v = _state(0)
    out = _step(fn, theta, m, v, 3, [1, 4], np.ones((2, 3)))
    expect(all(np.all(np.isfinite(a)) for a in out), "my_lazy_adam_step returned non-finite values at step 3")


@points(2)
def rows_not_present_keep_their_values(fn):
    theta, m, v = _state(1)
    rows = np.array([6, 2, 2])
    out = _step(fn, theta, m, v, 5, rows, np.random.default_rng(1).standard_normal((3, 3)))
    absent = np.setdiff1d(np.arange(len(theta)), rows)
    for name, new, old in zip(("theta", "m", "v"), out, (theta, m, v), strict=True):
        if not np.array_equal(new[absent], old[absent]):
            raise AssertionError(
                f"rows {absent.tolist()} were not in the batch, yet their {name} changed: "
                f"{describe_difference(new[absent], old[absent])}. A lazy step leaves them alone (a dense "
                f"step with a zero gradient would still decay m and v and move theta). Hint: index the "
                f"tables with the present rows only"
            )


@points(2)
def repeated_rows_are_summed(fn):
    theta, m, v = _state(2)
    rows = np.array([3, 0, 3, 3, 5, 0])
    values = np.random.default_rng(2).standard_normal((6, 3))
    new_theta, new_m, new_v = _step(fn, theta, m, v, 2, rows, values)
    _, want_m, want_v = SOLUTION(theta, m, v, 2, rows, values)
    if not (np.allclose(new_m, want_m, rtol=1e-12) and np.allclose(new_v, want_v, rtol=1e-12)):
        raise AssertionError(
            f"with row 3 three times and row 0 twice in the batch, the new m is wrong: "
            f"{describe_difference(new_m, want_m)}. Each row's gradient is the sum of its occurrences; "
            f"m[rows] = ... (or +=) with a repeated row keeps only one occurrence. Hint: sum per distinct "
            f"row first (np.unique, np.add.at)"
        )


@points(1)
def first_step_moves_present_rows_by_about_lr(fn):
    theta, zeros = np.zeros((4, 2)), np.zeros((4, 2))
    rows, values = np.array([1, 2]), np.array([[1e-3, -5.0], [300.0, 0.5]])
    new, _, _ = _step(fn, theta, zeros, zeros, 1, rows, values)
    moved = np.abs(new[rows] - theta[rows])
    expect(
        np.allclose(moved, 1e-3, rtol=1e-3),
        f"on the first step (t = 1, m = v = 0) the present entries moved by {moved.min():.3g} to "
        f"{moved.max():.3g}; Adam's first step is about lr = 1e-3 per entry, whatever the gradient's scale. "
        f"Hint: the bias corrections use t",
    )


@points(1)
def eps_enters_as_torch_s_sparse_adam(fn):
    theta, zeros = np.zeros((2, 3)), np.zeros((2, 3))
    rows, values = np.array([0]), np.full((1, 3), 1e-9)
    new, _, _ = _step(fn, theta, zeros, zeros, 1, rows, values)
    expected, _, _ = SOLUTION(theta, zeros, zeros, 1, rows, values)
    expect(
        np.allclose(new, expected, rtol=1e-9),
        f"for a first gradient of 1e-9 theta moves by {float(np.abs(new).max()):.3g}, expected "
        f"{float(np.abs(expected).max()):.3g}. Hint: SparseAdam folds both bias corrections into the step "
        f"size and adds eps to √v itself",
    )


@points(2)
def matches_tinyrec_adam_on_a_rowgrad(fn):
    rng = np.random.default_rng(3)
    hyper = dict(lr=0.01, beta1=0.8, beta2=0.99, eps=1e-6)
    param = Parameter(rng.standard_normal((10, 4)))
    optimizer = Adam([param], lr=0.01, betas=(0.8, 0.99), eps=1e-6)
    theta, m, v = param.data.copy(), np.zeros((10, 4)), np.zeros((10, 4))
    for t in range(1, 11):
        rows = rng.integers(0, 10, 6)  # repeats, and rows missing from most batches
        values = rng.standard_normal((6, 4))
        param.grad = RowGrad.from_indices(rows, values)
        optimizer.step()
        theta, m, v = _step(fn, theta, m, v, t, rows, values, **hyper)
        if not np.allclose(theta, param.data, rtol=1e-10, atol=1e-12):
            raise AssertionError(
                f"after step {t} (lr=0.01, beta1=0.8, beta2=0.99, eps=1e-6) theta differs from tinyrec.optim."
                f"Adam's on the same RowGrad: {describe_difference(theta, param.data)}. Hint: use every "
                f"hyperparameter you are given, and t as given"
            )


@points(1)
def inputs_are_not_modified(fn):
    theta, m, v = _state(4)
    rows, values = np.array([2, 0, 2]), np.ones((3, 3))
    kept = [a.copy() for a in (theta, m, v, rows, values)]
    fn(theta, m, v, 2, rows, values)
    for name, now, before in zip(("theta", "m", "v", "rows", "values"), (theta, m, v, rows, values), kept,
                                 strict=True):  # fmt: skip
        expect(
            np.array_equal(now, before),
            f"my_lazy_adam_step changed its argument {name} in place. Hint: copy the tables, then update the "
            f"copies",
        )


CHECKS = (
    returns_three_new_tables,
    rows_not_present_keep_their_values,
    repeated_rows_are_summed,
    first_step_moves_present_rows_by_about_lr,
    eps_enters_as_torch_s_sparse_adam,
    matches_tinyrec_adam_on_a_rowgrad,
    inputs_are_not_modified,
)


def check(candidate):
    """Run every check of this exercise on ``candidate`` (a function like ``my_lazy_adam_step``)."""
    return run_checks(NAME, candidate, CHECKS)
