"""Course exercise: the backward pass of causal scaled dot-product attention.

Task
----
Complete ``my_attention_backward(Q, K, V, dO)``. Its first lines (given) recompute the forward
pass of single-head scaled dot-product attention with a **causal mask** (position ``i`` attends to
positions ``j ≤ i`` only); write the rest: given ``dO = ∂ℒ/∂O``, return ``(dQ, dK, dV)``.

Shapes
------
``Q, K, V, dO : (N, L, d_k)`` floats (a batch of ``N`` sequences of length ``L``). Each gradient
has the shape of its input. ``A.swapaxes(-1, -2)`` transposes the last two axes of a batch, and
``@`` multiplies batch by batch.

Math
----
::

    S = Q Kᵀ / √d_k                      (N, L, L)
    S_ij = −∞ where j > i              (the causal mask)
    P = softmax(S) along each row      (so P_ij = 0 where j > i)
    O = P V                            (N, L, d_k)

Backward: ``O = P V`` gives ``dV`` and ``dP``; each row of the softmax gives
``dS_ij = P_ij (dP_ij − Σ_k P_ik dP_ik)`` (the backward of tutorial 05's exercise); masked entries
have ``P = 0`` and pass nothing on; then ``S = Q Kᵀ / √d_k`` gives ``dQ`` and ``dK``, each with the
``1/√d_k``. ``tinyrec.nn.MultiheadAttention`` (with ``causal_mask``) does the same, with projections
around it.

Checks
------
* ``returns_three_gradients`` (1 point): shapes;
* ``value_gradient`` (1): ``dV``;
* ``softmax_backward_subtracts_the_row_sum`` (2): ``dQ`` and ``dK``;
* ``scores_are_scaled`` (1): the ``1/√d_k`` reaches ``dQ`` and ``dK``;
* ``future_keys_get_nothing_from_the_past`` (1): a key receives gradient only from the queries that see it;
* ``matches_central_differences`` (3): every input, float64;
* ``inputs_are_not_modified`` (1).
"""

from __future__ import annotations

import numpy as np

from ..gradcheck import numerical_gradient, relative_error
from .checking import describe_difference, expect, points, run_checks

NAME = "attention_backward"
TUTORIAL = None
SUBMIT = ("my_attention_backward",)


# -- the stub: what the student receives -------------------------------------------------------
def my_attention_backward(Q, K, V, dO):
    """Gradients ``(dQ, dK, dV)`` of causal scaled dot-product attention ``O = softmax(QKᵀ/√d_k) V``."""
    L, d_k = Q.shape[1], Q.shape[2]
    S = Q @ K.swapaxes(-1, -2) / np.sqrt(d_k)  # (N, L, L)
    future = np.triu(np.ones((L, L), dtype=bool), k=1)  # True where j > i
    S = np.where(future, -np.inf, S)
    P = np.exp(S - S.max(axis=-1, keepdims=True))
    P /= P.sum(axis=-1, keepdims=True)  # (N, L, L), zero above the diagonal
    # O = P @ V
    raise NotImplementedError("your turn: return (dQ, dK, dV)")


# -- the reference solution ---------------------------------------------------------------------
def solution_attention_backward(Q, K, V, dO):
    """``dV = Pᵀ dO``, ``dP = dO Vᵀ``, ``dS = P ⊙ (dP − rowsum(P ⊙ dP))``, ``dQ = dS K / √d_k``,
    ``dK = dSᵀ Q / √d_k``; the masked entries of ``dS`` are 0 because ``P`` is."""
    L, d_k = Q.shape[1], Q.shape[2]
    S = Q @ K.swapaxes(-1, -2) / np.sqrt(d_k)  # (N, L, L)
    future = np.triu(np.ones((L, L), dtype=bool), k=1)  # True where j > i
    S = np.where(future, -np.inf, S)
    P = np.exp(S - S.max(axis=-1, keepdims=True))
    P /= P.sum(axis=-1, keepdims=True)  # (N, L, L), zero above the diagonal
    dV = P.swapaxes(-1, -2) @ dO
    dP = dO @ V.swapaxes(-1, -2)
    dS = P * (dP - (P * dP).sum(axis=-1, keepdims=True))
    dQ = dS @ K / np.sqrt(d_k)
    dK = dS.swapaxes(-1, -2) @ Q / np.sqrt(d_k)
    return dQ, dK, dV


STUB = my_attention_backward
SOLUTION = solution_attention_backward


# -- the checks -----------------------------------------------------------------------------------
def _case(seed, N=2, L=4, d_k=3):
    rng = np.random.default_rng(seed)
    return tuple(rng.standard_normal((N, L, d_k)) for _ in range(4))


def _forward(Q, K, V):
    L, d_k = Q.shape[1], Q.shape[2]
    S = np.where(np.triu(np.ones((L, L), dtype=bool), k=1), -np.inf, Q @ K.swapaxes(-1, -2) / np.sqrt(d_k))
    P = np.exp(S - S.max(axis=-1, keepdims=True))
    return (P / P.sum(axis=-1, keepdims=True)) @ V


def _call(fn, case):
    with np.errstate(all="ignore"):  # a NaN is reported by the checks, in words
        out = fn(*(a.copy() for a in case))
    expect(
        isinstance(out, tuple) and len(out) == 3,
        f"my_attention_backward returned {type(out).__name__}, not (dQ, dK, dV)",
    )
    for name, grad, like in zip(("dQ", "dK", "dV"), out, case[:3], strict=True):
        expect(
            isinstance(grad, np.ndarray) and grad.shape == like.shape,
            f"{name} is {type(grad).__name__} of shape {np.shape(grad)}; expected {like.shape}",
        )
    return [np.asarray(g, dtype=np.float64) for g in out]


@points(1)
def returns_three_gradients(fn):
    out = _call(fn, _case(0))
    expect(
        all(np.all(np.isfinite(g)) for g in out),
        "a gradient holds NaN or inf: 0 · (−∞) at a masked entry? Hint: use P (0 there), not S",
    )


@points(1)
def value_gradient(fn):
    case = _case(1)
    dV = _call(fn, case)[2]
    expected = SOLUTION(*case)[2]
    expect(
        np.allclose(dV, expected, rtol=1e-9, atol=1e-12),
        f"dV is wrong: {describe_difference(dV, expected)}. Hint: O = P V, so value j collects dO_i from "
        f"every query i, weighted by P_ij (a transpose of P)",
    )


@points(2)
def softmax_backward_subtracts_the_row_sum(fn):
    case = _case(2)
    dQ, dK, _ = _call(fn, case)
    want_Q, want_K, _ = SOLUTION(*case)
    Q, K, V, dO = case
    L, d_k = Q.shape[1], Q.shape[2]
    P = _forward(Q, K, np.eye(L)[None].repeat(len(Q), 0))  # O with V = I is P itself
    dS_plain = P * (dO @ V.swapaxes(-1, -2))
    if np.allclose(dQ, dS_plain @ K / np.sqrt(d_k), rtol=1e-9):
        raise AssertionError(
            "dQ is P ⊙ dP pushed through K: the softmax backward lacks its second term. Every P_ik of a row "
            "depends on every score S_ij of that row, so dS_ij = P_ij (dP_ij − Σ_k P_ik dP_ik)"
        )
    for name, yours, want in (("dQ", dQ, want_Q), ("dK", dK, want_K)):
        expect(
            np.allclose(yours, want, rtol=1e-9, atol=1e-12),
            f"{name} is wrong: {describe_difference(yours, want)}. Hint: dQ = dS K and dK = dSᵀ Q, each "
            f"scaled as S is",
        )


@points(1)
def scores_are_scaled(fn):
    case = _case(3, d_k=4)
    dQ, dK, _ = _call(fn, case)
    want_Q, want_K, _ = SOLUTION(*case)
    if np.allclose(dQ, want_Q * 2, rtol=1e-9) or np.allclose(dK, want_K * 2, rtol=1e-9):
        raise AssertionError(
            "with d_k = 4, dQ or dK is twice the right gradient: S = Q Kᵀ / √d_k, so the 1/√d_k reaches both"
        )
    expect(
        np.allclose(dQ, want_Q, rtol=1e-9, atol=1e-12) and np.allclose(dK, want_K, rtol=1e-9, atol=1e-12),
        "with d_k = 4, dQ or dK is wrong",
    )


@points(1)
def future_keys_get_nothing_from_the_past(fn):
    Q, K, V, dO = _case(4, N=1, L=5)
    dO = np.zeros_like(dO)
    dO[:, 1] = 1.0  # only query 1 has a gradient: it sees keys 0 and 1
    dQ, dK, dV = _call(fn, (Q, K, V, dO))
    later = np.abs(dK[:, 2:]).max() + np.abs(dV[:, 2:]).max()
    expect(
        later == 0.0,
        f"only query 1 sends gradient (dO is 0 elsewhere), yet keys or values 2 to 4, which query 1 may "
        f"not see, receive {later:.3g}. Hint: the causal mask holds in the backward pass too (recompute P "
        f"with it)",
    )


@points(3)
def matches_central_differences(fn):
    case = list(_case(5, N=1, L=3, d_k=2))
    dO = case[3]
    grads = _call(fn, tuple(case))
    for index, name in enumerate(("dQ", "dK", "dV")):
        numerical = numerical_gradient(lambda: float(np.sum(dO * _forward(*case[:3]))), case[index])
        error = relative_error(grads[index], numerical)
        expect(
            error < 1e-6,
            f"{name} disagrees with central differences of Σ dO ⊙ O: relative error {error:.2e} (a right "
            f"gradient gives about 1e-9)",
        )


@points(1)
def inputs_are_not_modified(fn):
    case = _case(6)
    kept = [a.copy() for a in case]
    fn(*case)
    for name, now, before in zip(("Q", "K", "V", "dO"), case, kept, strict=True):
        expect(
            np.array_equal(now, before),
            f"my_attention_backward changed {name} in place. Hint: build new arrays",
        )


CHECKS = (
    returns_three_gradients,
    value_gradient,
    softmax_backward_subtracts_the_row_sum,
    scores_are_scaled,
    future_keys_get_nothing_from_the_past,
    matches_central_differences,
    inputs_are_not_modified,
)


def check(candidate):
    """Run every check of this exercise on ``candidate`` (a function like ``my_attention_backward``)."""
    return run_checks(NAME, candidate, CHECKS)
