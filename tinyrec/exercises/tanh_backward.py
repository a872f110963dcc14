"""Exercise of tutorial 01: the backward pass of tanh.

Task
----
Write ``MyTanh.backward``. ``forward`` is given: it computes ``Y = tanh(X)`` element-wise and
caches ``Y`` in ``self._y``. ``backward(grad_output)`` receives ``dY = ∂ℒ/∂Y`` and returns
``dX = ∂ℒ/∂X``.

Shapes
------
``X, Y, dY, dX`` all have one shape, any shape ``(*)``, and one dtype (float32 in, float32 out).

Math
----
tanh acts on each entry alone, so ``Y_k`` depends on ``X_k`` only and the chain rule is a product,
entry by entry::

    dX_k = dY_k · tanh'(X_k)

Find ``tanh'`` by differentiating ``tanh(x) = (eˣ − e⁻ˣ) / (eˣ + e⁻ˣ)`` with the quotient rule, and
write it with ``Y = tanh(X)`` itself, which ``forward`` caches: then ``backward`` needs no ``exp``.

Checks
------
* ``dx_has_the_shape_and_dtype_of_x``: one ``dX`` entry per ``X`` entry, in ``X``'s dtype;
* ``dx_matches_the_reference``: the values, on seeded random inputs of several shapes;
* ``dx_is_proportional_to_dy``: doubling ``dY`` doubles ``dX`` and ``dY = 0`` gives ``dX = 0``;
* ``dx_is_even_in_x``: tanh is odd, so ``tanh'`` is even: ``x`` and ``−x`` get the same ``dX``;
* ``dx_vanishes_where_tanh_is_flat``: at ``|x| = 8`` tanh is flat, so ``dX`` is almost 0;
* ``dy_is_not_modified``: ``backward`` leaves its argument as it found it;
* ``matches_central_differences``: :func:`tinyrec.gradcheck.check_module`, in float64.

``check(MyTanh)`` runs them all; ``tinyrec.exercises.show_solution("tanh_backward")`` prints the
reference solution.
"""

from __future__ import annotations

import numpy as np

from ..gradcheck import check_module
from ..nn import Module
from .checking import describe_difference, expect, run_checks

NAME = "tanh_backward"
TUTORIAL = "01_backprop_by_hand"


# -- the stub: what the tutorial gives the student --------------------------------------------
class MyTanh(Module):
    def __init__(self):
        self._y = None

    def forward(self, x):
        self._y = np.tanh(x)
        return self._y

    def backward(self, grad_output):
        y = self._y  # Y = tanh(X), cached by forward
        raise NotImplementedError(f"your turn: return dX {y.shape}, computed from grad_output and y")


# -- the reference solution ---------------------------------------------------------------------
class SolutionTanh(MyTanh):
    """``dX = dY ⊙ (1 − Y²)``.

    The quotient rule gives, with ``s = eˣ − e⁻ˣ`` and ``c = eˣ + e⁻ˣ`` (so ``s' = c``, ``c' = s``),
    ``tanh'(x) = (c·c − s·s) / c² = 1 − (s/c)² = 1 − tanh²(x)``: the local derivative is
    ``1 − Y²``, read from the output that ``forward`` cached. It is 1 at ``x = 0`` and tends to 0
    where tanh saturates.
    """

    def backward(self, grad_output):
        return grad_output * (1 - self._y**2)


STUB = MyTanh
SOLUTION = SolutionTanh
TUTORIAL_CODE = (MyTanh,)  # the code that tutorial 01 shows, character for character


# -- the checks -----------------------------------------------------------------------------------
def _dx(cls, x, dy):
    """Run ``cls()`` forward on ``x``, then backward on ``dy``; return ``dX``."""
    layer = cls()
    layer(x)
    return layer.backward(dy.copy())  # a copy: a backward that writes into dY fails one check, not all


def _case(seed, shape, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return 2 * rng.standard_normal(shape).astype(dtype), rng.standard_normal(shape).astype(dtype)


_SHAPES = ((7,), (4, 3), (2, 3, 5))


def dx_has_the_shape_and_dtype_of_x(cls):
    for seed, shape in enumerate(_SHAPES):
        for dtype in (np.float64, np.float32):
            x, dy = _case(seed, shape, dtype)
            dx = _dx(cls, x, dy)
            expect(
                isinstance(dx, np.ndarray),
                f"backward returned {type(dx).__name__}, not an array. Hint: return dX, an array of "
                f"X's shape",
            )
            expect(
                dx.shape == x.shape,
                f"for X of shape {x.shape}, backward returned dX of shape {dx.shape}. Hint: tanh acts on "
                f"each entry alone, so dX has one entry per entry of X",
            )
            expect(
                dx.dtype == x.dtype,
                f"for {x.dtype} input, dX is {dx.dtype}. Hint: compute from grad_output and the cached "
                f"output only, so that the dtype is kept",
            )


def dx_matches_the_reference(cls):
    for seed, shape in enumerate(_SHAPES, start=10):
        x, dy = _case(seed, shape)
        dx, expected = _dx(cls, x, dy), _dx(SOLUTION, x, dy)
        expect(np.shape(dx) == expected.shape, f"dX has shape {np.shape(dx)}, X has shape {shape}")
        if not np.allclose(dx, expected, rtol=1e-10, atol=1e-12):
            raise AssertionError(
                f"on a random X of shape {shape}, dX is wrong: {describe_difference(dx, expected)}. "
                f"Hint: dX = dY ⊙ tanh'(X), entry by entry; write tanh' with Y"
            )


def dx_is_proportional_to_dy(cls):
    x, dy = _case(20, (4, 3))
    dx = np.asarray(_dx(cls, x, dy), dtype=np.float64)
    twice = np.asarray(_dx(cls, x, 2 * dy), dtype=np.float64)
    zero = np.asarray(_dx(cls, x, np.zeros_like(dy)), dtype=np.float64)
    expect(
        np.allclose(twice, 2 * dx, rtol=1e-10, atol=1e-12) and np.allclose(zero, 0.0, atol=1e-12),
        "dX does not scale with dY: doubling dY must double dX, and dY = 0 must give dX = 0. By the "
        "chain rule dX is dY times the local derivative. Hint: is grad_output in your formula?",
    )


def dx_is_even_in_x(cls):
    x, dy = _case(30, (4, 3))
    plus = np.asarray(_dx(cls, x, dy), dtype=np.float64)
    minus = np.asarray(_dx(cls, -x, dy), dtype=np.float64)
    if not np.allclose(plus, minus, rtol=1e-10, atol=1e-12):
        k = np.unravel_index(int(np.argmax(np.abs(plus - minus))), x.shape)
        raise AssertionError(
            f"dX at -x differs from dX at x for the same dY (x = {x[k]:.4g}, dY = {dy[k]:.4g}: dX is "
            f"{plus[k]:.4g} at x and {minus[k]:.4g} at -x). tanh is odd, tanh(-x) = -tanh(x), so its "
            f"derivative is even: the local derivative must not change when Y changes sign. Hint: "
            f"derive tanh' once more, and write the result with Y"
        )


def dx_vanishes_where_tanh_is_flat(cls):
    x = np.array([-8.0, 8.0])
    dy = np.array([1.5, -2.0])
    dx = np.asarray(_dx(cls, x, dy), dtype=np.float64)
    expect(
        np.all(np.abs(dx) < 1e-5),
        f"at x = ±8, where tanh is flat (Y = ±0.99999977), dX should be almost 0, but for dY = {dy} "
        f"your dX is {dx}. Hint: the local derivative of a flat function is near 0, and must be "
        f"multiplied into dY",
    )


def dy_is_not_modified(cls):
    x, dy = _case(40, (4, 3))
    kept = dy.copy()
    layer = cls()
    layer(x)
    layer.backward(dy)
    expect(
        np.array_equal(dy, kept),
        "backward changed grad_output in place. The caller may still need dY (a network that uses one "
        "output twice does). Hint: compute dX as a new array instead of with *= or out=",
    )


def matches_central_differences(cls):
    x = np.random.default_rng(50).standard_normal((4, 3))
    report = check_module(cls(), x)
    error = report.errors["input0"]
    expect(
        report.ok(1e-6),
        f"dX disagrees with central differences: relative error {error:.2e} (a right backward gives "
        f"about 1e-10). Hint: the numerical gradient perturbs each X entry by ±1e-6 and watches "
        f"ℒ = Σ Y ⊙ dY change; your backward must return that slope",
    )


CHECKS = (
    dx_has_the_shape_and_dtype_of_x,
    dx_matches_the_reference,
    dx_is_proportional_to_dy,
    dx_is_even_in_x,
    dx_vanishes_where_tanh_is_flat,
    dy_is_not_modified,
    matches_central_differences,
)


def check(candidate):
    """Run every check of this exercise on ``candidate`` (a class like ``MyTanh``); a :class:`Report`."""
    return run_checks(NAME, candidate, CHECKS)
