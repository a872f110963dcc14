"""Course exercise: the backward passes of ReLU, Sigmoid and Tanh.

Task
----
Write ``backward`` in ``MyReLU``, ``MySigmoid`` and ``MyTanh``. Each ``forward`` is given and
caches what its backward needs (``X`` for ReLU, ``Y`` for the other two). ``backward(grad_output)``
receives ``dY = ∂ℒ/∂Y`` and returns ``dX = ∂ℒ/∂X``; it must not change ``grad_output``.

Shapes
------
``X, Y, dY, dX`` all have one shape, any shape ``(*)``, and one dtype.

Math
----
Each activation acts on every entry alone, so the chain rule is a product entry by entry,
``dX_k = dY_k · f'(X_k)``, with:

* ReLU, ``f(x) = max(x, 0)``: its slope on each side of 0. At ``x = 0`` exactly, where ReLU has
  no derivative, use 0 (torch's convention).
* Sigmoid, ``σ(x) = 1 / (1 + e⁻ˣ)``: differentiate, then write ``σ'`` with ``Y = σ(X)`` itself.
  Never exponentiate again: ``e⁻ˣ`` overflows at ``x = −1000``.
* Tanh, ``tanh(x) = (eˣ − e⁻ˣ) / (eˣ + e⁻ˣ)``: likewise, with ``Y = tanh(X)``.

Checks
------
* ``relu_matches_the_reference`` (2 points), ``sigmoid_matches_the_reference`` (2),
  ``tanh_matches_the_reference`` (2): ``dX`` on seeded random inputs of several shapes;
* ``relu_gradient_at_zero_is_zero`` (1): the convention at the kink;
* ``sigmoid_is_finite_where_it_saturates`` (1): at ``|x| = 1000``, ``dX`` is finite and about 0;
* ``tanh_derivative_is_even`` (1): ``x`` and ``−x`` get the same ``dX``;
* ``dy_is_not_modified`` (1): by any of the three;
* ``passes_the_layer_contract`` (2): :func:`tinyrec.testing.check_layer` on each (gradients
  against central differences in float64, float32 in and out, ...).

``check(Activations(MyReLU, MySigmoid, MyTanh))`` runs them all; a submission defines the three
classes, and the grader puts them together.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..nn import Module
from ..testing import check_layer
from .checking import describe_difference, expect, points, run_checks

NAME = "activations_backward"
TUTORIAL = None
SUBMIT = ("MyReLU", "MySigmoid", "MyTanh")


class Activations(NamedTuple):
    """The three classes of a submission, as one candidate."""

    MyReLU: type
    MySigmoid: type
    MyTanh: type


CANDIDATE = Activations  # builds the candidate from the objects named in SUBMIT, in that order


# -- the stub: what the student receives -------------------------------------------------------
class MyReLU(Module):
    def forward(self, x):
        self._x = x
        return np.maximum(x, 0)

    def backward(self, grad_output):
        raise NotImplementedError("your turn: return dX for ReLU, from grad_output and self._x")


class MySigmoid(Module):
    def forward(self, x):
        e = np.exp(-np.abs(x))  # never overflows: |x| >= 0
        self._y = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
        return self._y

    def backward(self, grad_output):
        raise NotImplementedError("your turn: return dX for Sigmoid, from grad_output and self._y")


class MyTanh(Module):
    def forward(self, x):
        self._y = np.tanh(x)
        return self._y

    def backward(self, grad_output):
        raise NotImplementedError("your turn: return dX for Tanh, from grad_output and self._y")


# -- the reference solution ---------------------------------------------------------------------
class SolutionReLU(MyReLU):
    """``dX = dY ⊙ [X > 0]``: slope 1 where ``x > 0``, 0 elsewhere (0 at the kink too)."""

    def backward(self, grad_output):
        return grad_output * (self._x > 0)


class SolutionSigmoid(MySigmoid):
    """``dX = dY ⊙ Y ⊙ (1 − Y)``: ``σ'(x) = e⁻ˣ / (1 + e⁻ˣ)² = σ(x) (1 − σ(x))``, no exponential."""

    def backward(self, grad_output):
        return grad_output * self._y * (1 - self._y)


class SolutionTanh(MyTanh):
    """``dX = dY ⊙ (1 − Y²)``: the quotient rule gives ``tanh' = 1 − tanh²``."""

    def backward(self, grad_output):
        return grad_output * (1 - self._y**2)


STUB = Activations(MyReLU, MySigmoid, MyTanh)
SOLUTION = Activations(SolutionReLU, SolutionSigmoid, SolutionTanh)


# -- the checks -----------------------------------------------------------------------------------
_SHAPES = ((7,), (4, 3), (2, 3, 5))
_HINTS = {
    "MyReLU": "the slope of max(x, 0) is 1 on one side of 0 and 0 on the other",
    "MySigmoid": "differentiate σ, then write σ' with Y alone",
    "MyTanh": "differentiate tanh with the quotient rule, then write tanh' with Y alone",
}


def _dx(cls, x, dy):
    layer = cls()
    layer(x)
    return layer.backward(dy.copy())


def _case(seed, shape):
    rng = np.random.default_rng(seed)
    x = 2 * rng.standard_normal(shape)
    x.reshape(-1)[::4] = 0.0  # exact zeros: ReLU's kink
    return x, rng.standard_normal(shape)


def _matches(candidate, index):
    cls, reference, name = candidate[index], SOLUTION[index], Activations._fields[index]
    for seed, shape in enumerate(_SHAPES):
        x, dy = _case(seed, shape)
        dx, expected = _dx(cls, x, dy), _dx(reference, x, dy)
        expect(
            isinstance(dx, np.ndarray) and dx.shape == x.shape,
            f"{name}.backward returned {type(dx).__name__} of shape {np.shape(dx)} for X of shape {shape}. "
            f"Hint: one dX entry per X entry",
        )
        if not np.allclose(dx, expected, rtol=1e-10, atol=1e-12):
            raise AssertionError(
                f"{name}: dX is wrong on a random X of shape {shape}: {describe_difference(dx, expected)}. "
                f"Hint: dX = dY ⊙ f'(X); {_HINTS[name]}"
            )


@points(2)
def relu_matches_the_reference(candidate):
    _matches(candidate, 0)


@points(2)
def sigmoid_matches_the_reference(candidate):
    _matches(candidate, 1)


@points(2)
def tanh_matches_the_reference(candidate):
    _matches(candidate, 2)


@points(1)
def relu_gradient_at_zero_is_zero(candidate):
    dx = np.asarray(_dx(candidate.MyReLU, np.array([-1.0, 0.0, 1.0]), np.array([5.0, 5.0, 5.0])))
    expect(
        dx.shape == (3,) and dx[1] == 0.0,
        f"at x = 0 your ReLU passes dX = {dx[1] if dx.shape == (3,) else dx}; ReLU has no derivative "
        f"there and the convention (torch's) is 0. Hint: which comparison includes 0?",
    )


@points(1)
def sigmoid_is_finite_where_it_saturates(candidate):
    x, dy = np.array([-1000.0, -40.0, 40.0, 1000.0]), np.ones(4)
    with np.errstate(all="ignore"):  # an overflow is what this check reports, in its own words
        dx = np.asarray(_dx(candidate.MySigmoid, x, dy), dtype=np.float64)
    expect(
        np.all(np.isfinite(dx)),
        f"at x = {x.tolist()} your Sigmoid's dX is {dx.tolist()}: not finite. Exponentials of large "
        f"|x| overflow. Hint: forward cached Y = σ(X); write σ' with Y only",
    )
    expect(
        np.all(np.abs(dx) < 1e-15), f"where the sigmoid is flat (|x| >= 40) dX should be about 0, got {dx}"
    )


@points(1)
def tanh_derivative_is_even(candidate):
    x, dy = _case(30, (4, 3))
    plus = np.asarray(_dx(candidate.MyTanh, x, dy), dtype=np.float64)
    minus = np.asarray(_dx(candidate.MyTanh, -x, dy), dtype=np.float64)
    expect(
        np.allclose(plus, minus, rtol=1e-10, atol=1e-12),
        "your Tanh gives different dX at x and at -x for the same dY. tanh is odd, so its derivative "
        "is even: the local derivative must not change when Y changes sign. Hint: " + _HINTS["MyTanh"],
    )


@points(1)
def dy_is_not_modified(candidate):
    for name, cls in zip(Activations._fields, candidate, strict=True):
        x, dy = _case(40, (4, 3))
        kept = dy.copy()
        layer = cls()
        layer(x)
        layer.backward(dy)
        expect(
            np.array_equal(dy, kept),
            f"{name}.backward changed grad_output in place; the caller may still need dY. Hint: compute "
            f"dX as a new array, not with *= or out=",
        )


@points(2)
def passes_the_layer_contract(candidate):
    x, dy = _case(50, (4, 3))
    for cls in candidate:
        _dx(cls, x, dy)  # the stub stops here, as "not implemented"
    found = []
    for name, cls in zip(Activations._fields, candidate, strict=True):
        report = check_layer(cls, x + 0.1)  # off the kink: central differences straddle no corner
        found += [f"{name}: {r.name}: {r.message}" for r in report.failures]
    expect(not found, "tinyrec.testing.check_layer found:\n" + "\n".join(found))


CHECKS = (
    relu_matches_the_reference,
    sigmoid_matches_the_reference,
    tanh_matches_the_reference,
    relu_gradient_at_zero_is_zero,
    sigmoid_is_finite_where_it_saturates,
    tanh_derivative_is_even,
    dy_is_not_modified,
    passes_the_layer_contract,
)


def check(candidate):
    """Run every check of this exercise on ``candidate``, an :class:`Activations` of three classes."""
    return run_checks(NAME, candidate, CHECKS)
