"""Course exercise: the backward pass of one GRU step (torch's gate order and equations).

Task
----
Complete ``my_gru_cell_backward(x, h_prev, W_ih, W_hh, b_ih, b_hh, dh)``. Its first lines (given)
recompute the forward pass of one step of a GRU; write the rest: given ``dh = ∂ℒ/∂h`` for the new
state ``h``, return the gradients of ``ℒ`` with respect to every input, as the tuple
``(dx, dh_prev, dW_ih, dW_hh, db_ih, db_hh)``.

Shapes
------
``x : (N, D)``, ``h_prev : (N, H)``; the weights stack the three gates r, z, n (in that order):
``W_ih : (3H, D)``, ``W_hh : (3H, H)``, ``b_ih, b_hh : (3H,)``; ``dh : (N, H)``. Each gradient has
the shape of its input; the batch's gradients add up in the weights' and biases'.

Math
----
With ``σ`` the logistic function and ``⊙`` the elementwise product, ``gi = x W_ihᵀ + b_ih`` and
``gh = h_prev W_hhᵀ + b_hh`` cut into their r, z, n thirds::

    r = σ(gi_r + gh_r)        z = σ(gi_z + gh_z)        n = tanh(gi_n + r ⊙ gh_n)
    h = (1 − z) ⊙ n + z ⊙ h_prev

Work backwards from ``dh``: to ``n`` and ``z`` first (``h_prev`` also receives ``dh`` directly),
through ``tanh`` and ``σ`` (``tanh' = 1 − tanh²``, ``σ' = σ (1 − σ)``), then to ``r`` (it multiplies
``gh_n``). The pre-activations' gradients, stacked in gate order, give ``dgi`` and ``dgh``; note that
``gh_n`` reaches the state through ``r``, so its gradient is not ``gi_n``'s. Then ``dW_ih = dgiᵀ x``,
``db_ih = Σ_rows dgi``, ``dx = dgi W_ih``, and the same for the hidden side. ``tinyrec.nn.GRU``'s
backward follows these steps over a whole sequence.

Checks
------
* ``returns_six_gradients`` (1 point): shapes;
* ``input_and_state_gradients`` (2): ``dx`` and ``dh_prev``;
* ``update_gate_gradient`` (1): through ``z``;
* ``reset_gate_scales_the_hidden_candidate`` (2): ``db_hh``'s and ``db_ih``'s n-thirds differ by ``r``;
* ``weight_gradients_sum_over_the_batch`` (1);
* ``matches_central_differences`` (2): every input, float64;
* ``inputs_are_not_modified`` (1).
"""

from __future__ import annotations

import numpy as np

from ..gradcheck import numerical_gradient, relative_error
from .checking import describe_difference, expect, points, run_checks

NAME = "gru_cell_backward"
TUTORIAL = None
SUBMIT = ("my_gru_cell_backward",)


# -- the stub: what the student receives -------------------------------------------------------
def my_gru_cell_backward(x, h_prev, W_ih, W_hh, b_ih, b_hh, dh):
    """Gradients of one GRU step: ``(dx, dh_prev, dW_ih, dW_hh, db_ih, db_hh)``."""
    H = h_prev.shape[1]
    gi = x @ W_ih.T + b_ih  # (N, 3H): the input's part of the gates r, z, n
    gh = h_prev @ W_hh.T + b_hh  # (N, 3H): the state's part
    r = 1 / (1 + np.exp(-(gi[:, :H] + gh[:, :H])))
    z = 1 / (1 + np.exp(-(gi[:, H : 2 * H] + gh[:, H : 2 * H])))  # noqa: F841 (yours to use)
    n = np.tanh(gi[:, 2 * H :] + r * gh[:, 2 * H :])  # noqa: F841 (yours to use)
    # the new state is h = (1 - z) * n + z * h_prev
    raise NotImplementedError("your turn: return (dx, dh_prev, dW_ih, dW_hh, db_ih, db_hh)")


# -- the reference solution ---------------------------------------------------------------------
def solution_gru_cell_backward(x, h_prev, W_ih, W_hh, b_ih, b_hh, dh):
    """``dn = dh ⊙ (1 − z)``, ``dz = dh ⊙ (h_prev − n)``, ``dr = da_n ⊙ gh_n``; the hidden side's
    n-third is ``da_n ⊙ r``; ``dh_prev`` adds the direct path ``dh ⊙ z`` to ``dgh W_hh``."""
    H = h_prev.shape[1]
    gi = x @ W_ih.T + b_ih  # (N, 3H): the input's part of the gates r, z, n
    gh = h_prev @ W_hh.T + b_hh  # (N, 3H): the state's part
    r = 1 / (1 + np.exp(-(gi[:, :H] + gh[:, :H])))
    z = 1 / (1 + np.exp(-(gi[:, H : 2 * H] + gh[:, H : 2 * H])))
    n = np.tanh(gi[:, 2 * H :] + r * gh[:, 2 * H :])
    da_n = dh * (1 - z) * (1 - n**2)  # through h = (1 − z) n + ..., then tanh
    da_z = dh * (h_prev - n) * z * (1 - z)
    da_r = da_n * gh[:, 2 * H :] * r * (1 - r)
    dgi = np.concatenate([da_r, da_z, da_n], axis=1)  # (N, 3H)
    dgh = np.concatenate([da_r, da_z, da_n * r], axis=1)
    dx = dgi @ W_ih
    dh_prev = dgh @ W_hh + dh * z
    return dx, dh_prev, dgi.T @ x, dgh.T @ h_prev, dgi.sum(axis=0), dgh.sum(axis=0)


STUB = my_gru_cell_backward
SOLUTION = solution_gru_cell_backward
NAMES = ("dx", "dh_prev", "dW_ih", "dW_hh", "db_ih", "db_hh")


# -- the checks -----------------------------------------------------------------------------------
def _case(seed, N=4, D=3, H=2):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((N, D)), rng.standard_normal((N, H)), 0.7 * rng.standard_normal((3 * H, D)),
            0.7 * rng.standard_normal((3 * H, H)), 0.3 * rng.standard_normal(3 * H),
            0.3 * rng.standard_normal(3 * H), rng.standard_normal((N, H)))  # fmt: skip


def _forward_h(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.shape[1]
    gi, gh = x @ W_ih.T + b_ih, h_prev @ W_hh.T + b_hh
    r = 1 / (1 + np.exp(-(gi[:, :H] + gh[:, :H])))
    z = 1 / (1 + np.exp(-(gi[:, H : 2 * H] + gh[:, H : 2 * H])))
    n = np.tanh(gi[:, 2 * H :] + r * gh[:, 2 * H :])
    return (1 - z) * n + z * h_prev


def _call(fn, case):
    out = fn(*(a.copy() for a in case))
    expect(
        isinstance(out, tuple) and len(out) == 6,
        f"my_gru_cell_backward returned {type(out).__name__}, not the six gradients {NAMES}",
    )
    for name, grad, like in zip(NAMES, out, case[:6], strict=True):
        expect(
            isinstance(grad, np.ndarray) and grad.shape == like.shape,
            f"{name} is {type(grad).__name__} of shape {np.shape(grad)}; it has the shape of its input, "
            f"{like.shape}",
        )
    return [np.asarray(g, dtype=np.float64) for g in out]


def _compare(fn, case, names):
    yours, expected = _call(fn, case), SOLUTION(*case)
    return {n: (yours[i], expected[i]) for i, n in enumerate(NAMES) if n in names}


@points(1)
def returns_six_gradients(fn):
    out = _call(fn, _case(0))
    expect(all(np.all(np.isfinite(g)) for g in out), "some gradient holds non-finite values")


@points(2)
def input_and_state_gradients(fn):
    case = _case(1)
    pairs = _compare(fn, case, ("dx", "dh_prev"))
    dh_prev, expected = pairs["dh_prev"]
    H = case[1].shape[1]  # the direct path of h_prev into h is dh ⊙ z: recompute z
    gi, gh = case[0] @ case[2].T + case[4], case[1] @ case[3].T + case[5]
    z = 1 / (1 + np.exp(-(gi[:, H : 2 * H] + gh[:, H : 2 * H])))
    if np.allclose(dh_prev, expected - case[6] * z, rtol=1e-9):
        raise AssertionError(
            "dh_prev lacks the direct path: h = (1 − z) ⊙ n + z ⊙ h_prev holds h_prev itself, besides "
            "through the gates. Hint: add what flows through the z ⊙ h_prev term"
        )
    for name, (yours, want) in pairs.items():
        expect(
            np.allclose(yours, want, rtol=1e-9, atol=1e-12),
            f"{name} is wrong: {describe_difference(yours, want)}. Hint: {name} collects the gradients of "
            f"all three gates' pre-activations, through W_{'ih' if name == 'dx' else 'hh'}",
        )


@points(1)
def update_gate_gradient(fn):
    case = _case(2)
    ((db_ih, want),) = _compare(fn, case, ("db_ih",)).values()
    H = case[1].shape[1]
    z_part = slice(H, 2 * H)
    if np.allclose(db_ih[z_part], -want[z_part], rtol=1e-9):
        raise AssertionError(
            "the z-third of db_ih has the wrong sign: ∂h/∂z = h_prev − n (z weighs the old state, 1 − z "
            "the new candidate)"
        )
    expect(
        np.allclose(db_ih[z_part], want[z_part], rtol=1e-9, atol=1e-12),
        f"the z-third of db_ih is wrong: {describe_difference(db_ih[z_part], want[z_part])}",
    )


@points(2)
def reset_gate_scales_the_hidden_candidate(fn):
    case = _case(3)
    pairs = _compare(fn, case, ("db_ih", "db_hh", "dW_hh"))
    H = case[1].shape[1]
    n_part = slice(2 * H, 3 * H)
    db_ih, db_hh = pairs["db_ih"][0], pairs["db_hh"][0]
    if np.allclose(db_hh[n_part], db_ih[n_part], rtol=1e-9) and not np.allclose(
        pairs["db_hh"][1][n_part], pairs["db_ih"][1][n_part], rtol=1e-9
    ):
        raise AssertionError(
            "the n-third of db_hh equals that of db_ih: but gh_n enters n multiplied by r, so its gradient "
            "is r times the pre-activation's. Hint: n = tanh(gi_n + r ⊙ gh_n)"
        )
    for name, (yours, want) in pairs.items():
        expect(
            np.allclose(yours, want, rtol=1e-9, atol=1e-12),
            f"{name} is wrong: {describe_difference(yours, want)}. Hint: the reset gate r receives "
            f"da_n ⊙ gh_n",
        )


@points(1)
def weight_gradients_sum_over_the_batch(fn):
    case = _case(4, N=5)
    pairs = _compare(fn, case, ("dW_ih", "dW_hh", "db_ih", "db_hh"))
    for name, (yours, want) in pairs.items():
        if np.allclose(yours * 5, want, rtol=1e-9):
            raise AssertionError(
                f"{name} is the right gradient divided by the batch size (5): a mean where a sum belongs. "
                f"The loss behind dh already holds any 1/N"
            )
        expect(
            np.allclose(yours, want, rtol=1e-9, atol=1e-12),
            f"{name} is wrong: {describe_difference(yours, want)}",
        )


@points(2)
def matches_central_differences(fn):
    case = list(_case(5, N=3, D=2, H=2))
    dh = case[6]
    grads = _call(fn, tuple(case))
    for index, name in enumerate(NAMES):
        target = case[index]
        numerical = numerical_gradient(lambda: float(np.sum(dh * _forward_h(*case[:6]))), target)
        error = relative_error(grads[index], numerical)
        expect(
            error < 1e-6,
            f"{name} disagrees with central differences of Σ dh ⊙ h: relative error {error:.2e} (a right "
            f"gradient gives about 1e-9)",
        )


@points(1)
def inputs_are_not_modified(fn):
    case = _case(6)
    kept = [a.copy() for a in case]
    fn(*case)
    for name, now, before in zip(
        ("x", "h_prev", "W_ih", "W_hh", "b_ih", "b_hh", "dh"), case, kept, strict=True
    ):
        expect(
            np.array_equal(now, before),
            f"my_gru_cell_backward changed its argument {name} in place. Hint: build new arrays",
        )


CHECKS = (
    returns_six_gradients,
    input_and_state_gradients,
    update_gate_gradient,
    reset_gate_scales_the_hidden_candidate,
    weight_gradients_sum_over_the_batch,
    matches_central_differences,
    inputs_are_not_modified,
)


def check(candidate):
    """Run every check of this exercise on ``candidate`` (a function like ``my_gru_cell_backward``)."""
    return run_checks(NAME, candidate, CHECKS)
