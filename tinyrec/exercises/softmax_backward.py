"""Exercise of tutorial 05: the backward of the attention softmax.

Task
----
Write ``my_softmax_backward(P, dP)``. Attention turns its scores ``A`` into probabilities row by
row, ``P = softmax(A)`` along the last axis; given ``P`` and ``dP = ∂ℒ/∂P``, return
``dA = ∂ℒ/∂A``. Never build the ``L × L`` Jacobian of a row.

Shapes
------
``P, dP, dA : (N, L, L)``: ``N`` sequences, one row per query position, one column per key
position. A masked key (the causal mask's future) has ``P = 0``.

Math
----
Within one row, ``P_i = e^{A_i} / Σ_k e^{A_k}``, whose Jacobian is::

    ∂P_i / ∂A_j = P_i (δ_ij − P_j).

By the chain rule ``dA_j = Σ_i dP_i ∂P_i/∂A_j``: apply the Jacobian's transpose to ``dP`` and
simplify. The result needs only ``P``, ``dP``, an element-wise product and one sum over the last
axis (``keepdims=True``). Two properties to expect of it: adding a constant to a row of ``A`` does
not change ``P``, so each row of ``dA`` sums to 0; and every entry of the Jacobian of column ``j``
carries a factor ``P_j``, so a masked key gets ``dA = 0``.

Checks
------
* ``returns_the_shape_of_p``: ``dA`` has ``P``'s shape, for several ``(N, L, L)``;
* ``matches_the_reference``: the values, on seeded random masked cases;
* ``rows_of_da_sum_to_zero``: the softmax does not see a constant added to a row;
* ``zero_where_p_is_zero``: masked keys receive no gradient;
* ``inputs_are_not_modified``: ``P`` and ``dP`` are left as they were (attention still needs them);
* ``matches_central_differences``: :func:`tinyrec.gradcheck.check_module` on a causal softmax
  whose backward is the candidate, in float64.

``check(my_softmax_backward)`` runs them all; ``tinyrec.exercises.show_solution(
"softmax_backward")`` prints the reference solution.
"""

from __future__ import annotations

import numpy as np

from ..gradcheck import check_module
from ..nn import Module
from ..nn.attention import causal_mask
from .checking import describe_difference, expect, run_checks

NAME = "softmax_backward"
TUTORIAL = "05_sequence_layers"


# -- the stub: what the tutorial gives the student --------------------------------------------
def my_softmax_backward(P, dP):
    raise NotImplementedError("your turn: return dA, of the shape of P")


# -- the reference solution ---------------------------------------------------------------------
def solution_softmax_backward(P, dP):
    """``dA = P ⊙ (dP − rowsum(dP ⊙ P))``.

    ``dA_j = Σ_i dP_i P_i (δ_ij − P_j) = P_j dP_j − P_j Σ_i dP_i P_i = P_j (dP_j − Σ_i dP_i P_i)``:
    one product, one row sum, one subtraction. Where ``P = 0`` (a masked key) the result is
    exactly 0, which is why padding and the future receive no gradient.
    """
    return P * (dP - np.sum(dP * P, axis=-1, keepdims=True))


STUB = my_softmax_backward
SOLUTION = solution_softmax_backward
TUTORIAL_CODE = (my_softmax_backward,)


# -- the checks -----------------------------------------------------------------------------------
def _softmax(A):
    e = np.exp(A - A.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _case(seed, shape, *, masked=True):
    """``(P, dP)``: the causal softmax of random scores, and a random ``dP``."""
    rng = np.random.default_rng(seed)
    A = 1.5 * rng.standard_normal(shape)
    if masked:
        A = np.where(causal_mask(shape[-1]), -np.inf, A)
    return _softmax(A), rng.standard_normal(shape)


_SHAPES = ((2, 5, 5), (3, 3, 3), (1, 1, 1), (4, 2, 2))


class CausalSoftmax(Module):
    """``P = softmax(A + M)`` along the last axis, with the causal mask ``M``; backward by ``fn``."""

    def __init__(self, fn):
        self.fn = fn

    def forward(self, A):
        self._p = _softmax(np.where(causal_mask(A.shape[-1]), -np.inf, A))
        return self._p

    def backward(self, grad_output):
        return self.fn(self._p, grad_output)


def returns_the_shape_of_p(fn):
    for seed, shape in enumerate(_SHAPES):
        P, dP = _case(seed, shape)
        try:
            dA = fn(P, dP)
        except ValueError as exc:  # NumPy's broadcasting error: name the usual cause
            raise AssertionError(
                f"for P of shape {shape}: {exc}. Hint: a sum over the last axis drops that axis; "
                f"keepdims=True keeps it, so that the sum broadcasts back over the row"
            ) from None
        expect(
            isinstance(dA, np.ndarray) and dA.shape == P.shape,
            f"for P of shape {shape} you return {type(dA).__name__} of shape {np.shape(dA)}. Hint: dA has "
            f"one entry per score; a row sum needs keepdims=True to broadcast back over the row",
        )


def matches_the_reference(fn):
    for seed, shape in enumerate(_SHAPES, start=10):
        for masked in (True, False):
            P, dP = _case(seed, shape, masked=masked)
            dA, expected = fn(P.copy(), dP.copy()), SOLUTION(P, dP)
            expect(np.shape(dA) == P.shape, f"dA has shape {np.shape(dA)}, P has shape {shape}")
            if not np.allclose(dA, expected, rtol=1e-10, atol=1e-12):
                raise AssertionError(
                    f"on a random {'masked ' if masked else ''}case of shape {shape}, dA is wrong: "
                    f"{describe_difference(dA, expected)}. Hint: dA_j = Σ_i dP_i ∂P_i/∂A_j, summed "
                    f"over the row i of the same query"
                )


def rows_of_da_sum_to_zero(fn):
    P, dP = _case(20, (2, 5, 5))
    sums = np.asarray(fn(P.copy(), dP.copy()), dtype=np.float64).sum(axis=-1)
    worst = float(np.abs(sums).max())
    expect(
        worst < 1e-10,
        f"a row of dA sums to {worst:.3g}, not 0. Adding a constant to every score of a row leaves "
        f"P unchanged, so the gradient along that direction, the row sum of dA, must be 0. Hint: "
        f"each P_i depends on every A_j of its row (the last axis), so dA_j sums over that row",
    )


def zero_where_p_is_zero(fn):
    P, dP = _case(30, (2, 5, 5))
    dA = np.asarray(fn(P.copy(), dP.copy()), dtype=np.float64)
    masked = np.broadcast_to(causal_mask(5), P.shape)
    worst = float(np.abs(dA[masked]).max())
    expect(
        worst == 0.0,
        f"a masked key (P = 0, above the diagonal) gets dA of size {worst:.3g}; it must get exactly 0, "
        f"or the future would receive gradient. Hint: every entry of column j of the Jacobian has a "
        f"factor P_j",
    )


def inputs_are_not_modified(fn):
    P, dP = _case(40, (2, 5, 5))
    kept_p, kept_dp = P.copy(), dP.copy()
    fn(P, dP)
    expect(
        np.array_equal(P, kept_p),
        "my_softmax_backward changed P in place; attention's backward still needs P (for dV). Hint: "
        "build dA as a new array",
    )
    expect(
        np.array_equal(dP, kept_dp),
        "my_softmax_backward changed dP in place; the caller may still need it. Hint: build dA as a "
        "new array instead of with -= or *=",
    )


def matches_central_differences(fn):
    A = np.random.default_rng(50).standard_normal((2, 4, 4))
    report = check_module(CausalSoftmax(fn), A)
    error = report.errors["input0"]
    expect(
        report.ok(1e-6),
        f"dA disagrees with central differences: relative error {error:.2e} (a right backward gives "
        f"about 1e-10). Hint: the numerical gradient perturbs each score and watches ℒ = Σ P ⊙ dP",
    )


CHECKS = (
    returns_the_shape_of_p,
    matches_the_reference,
    rows_of_da_sum_to_zero,
    zero_where_p_is_zero,
    inputs_are_not_modified,
    matches_central_differences,
)


def check(candidate):
    """Run every check of this exercise on ``candidate`` (a function like ``my_softmax_backward``)."""
    return run_checks(NAME, candidate, CHECKS)
