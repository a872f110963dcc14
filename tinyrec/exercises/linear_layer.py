"""Course exercise: a fully connected layer, forward and backward.

Task
----
Write ``MyLinear.forward`` and ``MyLinear.backward``. ``__init__`` is given: it creates the
parameters ``self.weight`` (``W``) and ``self.bias`` (``b``), each a
:class:`~tinyrec.nn.Parameter` holding ``.data`` and a gradient ``.grad`` (``None`` until a
backward adds one).

* ``forward(x)`` computes ``Y = X Wᵀ + b`` and keeps what ``backward`` will need.
* ``backward(grad_output)`` receives ``dY = ∂ℒ/∂Y``, **adds** ``dW = ∂ℒ/∂W`` and ``db = ∂ℒ/∂b``
  to the parameters' gradients with ``parameter.accumulate(g)`` (gradients add up over backward
  calls until ``zero_grad()``, as in torch), and returns ``dX = ∂ℒ/∂X``.

Shapes
------
``X : (..., in_features)`` with any number of leading axes (a batch ``(n, in)``, or sequences
``(batch, length, in)``); ``W : (out_features, in_features)``; ``b : (out_features,)``;
``Y, dY : (..., out_features)``; ``dX`` has ``X``'s shape. One dtype throughout.

Math
----
Write the leading axes as one axis of ``n`` rows. Entry by entry,
``Y[r, o] = Σ_i X[r, i] W[o, i] + b[o]``. By the chain rule, ``∂ℒ/∂θ = Σ_{r,o} dY[r, o] ·
∂Y[r, o]/∂θ`` for any number ``θ``: work out ``∂Y[r, o]/∂X[r, i]``, ``∂Y[r, o]/∂W[o, i]`` and
``∂Y[r, o]/∂b[o]``, then write each sum as one matrix product or one sum over an axis. The loss
is a function of all the rows, so every row contributes to ``dW`` and ``db``.

Checks
------
* ``output_has_the_right_shape`` (1 point): ``Y``'s shape and dtype, with and without leading
  axes;
* ``forward_matches_the_reference`` (2): ``Y`` on seeded random inputs;
* ``input_gradient_matches_the_reference`` (2): ``dX``;
* ``weight_gradient_matches_the_reference`` (2): ``dW``, summed over the rows of the batch;
* ``bias_gradient_matches_the_reference`` (1): ``db``;
* ``gradients_accumulate`` (1): a second backward adds to ``.grad``;
* ``leading_axes_are_rows`` (1): ``X : (batch, length, in)`` works like ``(batch · length, in)``;
* ``passes_the_layer_contract`` (2): :func:`tinyrec.testing.check_layer`, the contract every
  tinyrec layer follows (gradients against central differences in float64, accumulation,
  ``dY`` and ``X`` left unchanged, ``zero_grad``, float32 in and out).

``check(MyLinear)`` runs them all and returns a :class:`~tinyrec.exercises.checking.Report`.
"""

from __future__ import annotations

import numpy as np

from ..nn import Module, Parameter
from ..testing import check_layer
from .checking import describe_difference, expect, points, run_checks

NAME = "linear_layer"
TUTORIAL = None  # a course exercise: no tutorial shows it
SUBMIT = ("MyLinear",)  # what a submission defines


# -- the stub: what the student receives -------------------------------------------------------
class MyLinear(Module):
    def __init__(self, in_features, out_features, *, dtype=np.float64, seed=None):
        rng = np.random.default_rng(seed)
        bound = 1.0 / np.sqrt(in_features)
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(rng.uniform(-bound, bound, (out_features, in_features)).astype(dtype))
        self.bias = Parameter(rng.uniform(-bound, bound, out_features).astype(dtype))
        self._x = None

    def forward(self, x):
        raise NotImplementedError("your turn: return Y = X Wᵀ + b, of shape (..., out_features)")

    def backward(self, grad_output):
        raise NotImplementedError("your turn: accumulate dW and db into the parameters, return dX")


# -- the reference solution ---------------------------------------------------------------------
class SolutionLinear(MyLinear):
    """``Y = X Wᵀ + b``; ``dX = dY W``, ``dW = dYᵀ X``, ``db = Σ_r dY[r]``.

    ``∂Y[r, o]/∂X[r, i] = W[o, i]``, so ``dX[r, i] = Σ_o dY[r, o] W[o, i]``: ``dY W``.
    ``∂Y[r, o]/∂W[o, i] = X[r, i]`` for every row ``r``, so ``dW[o, i] = Σ_r dY[r, o] X[r, i]``:
    ``dYᵀ X``, a sum over the rows (not a mean: the loss is whatever sum ``dY`` came from).
    ``∂Y[r, o]/∂b[o] = 1``, so ``db[o] = Σ_r dY[r, o]``. The leading axes are flattened into rows
    first, so ``(batch, length, in)`` inputs work too.
    """

    def forward(self, x):
        self._x = x
        return x @ self.weight.data.T + self.bias.data

    def backward(self, grad_output):
        x2 = self._x.reshape(-1, self.in_features)  # (n, in)
        dy2 = grad_output.reshape(-1, self.out_features)  # (n, out)
        self.weight.accumulate(dy2.T @ x2)  # (out, in)
        self.bias.accumulate(dy2.sum(axis=0))  # (out,)
        return grad_output @ self.weight.data  # (..., in)


STUB = MyLinear
SOLUTION = SolutionLinear


# -- the checks -----------------------------------------------------------------------------------
IN, OUT = 4, 3


def _pair(cls, seed, dtype=np.float64):
    """The candidate and the reference layer, with the same weights."""
    layer, reference = cls(IN, OUT, dtype=dtype, seed=seed), SOLUTION(IN, OUT, dtype=dtype, seed=seed)
    layer.weight.data = reference.weight.data.copy()
    layer.bias.data = reference.bias.data.copy()
    return layer, reference


def _run(layer, x, dy, calls=1):
    """Forward on ``x``, then ``calls`` backward passes with (a copy of) ``dy``; returns ``Y, dX``."""
    y = layer(x.copy())
    dx = None
    for _ in range(calls):
        dx = layer.backward(dy.copy())
    return y, dx


def _case(seed, rows=(5,), dtype=np.float64):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((*rows, IN)).astype(dtype), rng.standard_normal((*rows, OUT)).astype(dtype)


def _grad(parameter, name):
    expect(
        parameter.grad is not None,
        f"after backward, {name}.grad is still None: the {name} received no gradient. Hint: backward "
        f"must call self.{name}.accumulate(...) with ∂ℒ/∂{name}",
    )
    return np.asarray(parameter.grad)


@points(1)
def output_has_the_right_shape(cls):
    for rows in ((5,), (2, 3)):
        for dtype in (np.float64, np.float32):
            x, _ = _case(0, rows, dtype)
            y = cls(IN, OUT, dtype=dtype, seed=0)(x)
            expect(
                isinstance(y, np.ndarray) and y.shape == (*rows, OUT),
                f"for X of shape {x.shape}, forward returned {type(y).__name__} of shape {np.shape(y)}; "
                f"expected {(*rows, OUT)}. Hint: one output row per input row, out_features columns",
            )
            expect(y.dtype == dtype, f"for {x.dtype} X and parameters, Y is {y.dtype}; keep the dtype")


@points(2)
def forward_matches_the_reference(cls):
    for seed in (1, 2):
        layer, reference = _pair(cls, seed)
        x, _ = _case(seed)
        y, expected = layer(x.copy()), reference(x.copy())
        if not np.allclose(y, expected, rtol=1e-10, atol=1e-12):
            raise AssertionError(
                f"Y is wrong: {describe_difference(y, expected)}. Hint: W has shape (out, in) and each "
                f"output adds its bias; compare one entry Y[r, o] with the formula by hand"
            )


@points(2)
def input_gradient_matches_the_reference(cls):
    layer, reference = _pair(cls, 3)
    x, dy = _case(3)
    _, dx = _run(layer, x, dy)
    _, expected = _run(reference, x, dy)
    expect(
        isinstance(dx, np.ndarray) and dx.shape == x.shape,
        f"backward returned {type(dx).__name__} of shape {np.shape(dx)}; dX has X's shape {x.shape}. "
        f"Hint: backward returns ∂ℒ/∂X",
    )
    if not np.allclose(dx, expected, rtol=1e-10, atol=1e-12):
        raise AssertionError(
            f"dX is wrong: {describe_difference(dx, expected)}. Hint: Y[r, o] depends on X[r, i] through "
            f"W[o, i], for every output o"
        )


@points(2)
def weight_gradient_matches_the_reference(cls):
    layer, reference = _pair(cls, 4)
    x, dy = _case(4, rows=(6,))
    _run(layer, x, dy)
    _run(reference, x, dy)
    dw, expected = _grad(layer.weight, "weight"), reference.weight.grad
    expect(
        dw.shape == expected.shape,
        f"dW has shape {dw.shape}; W has shape {expected.shape} (out_features, in_features). Hint: the "
        f"gradient of a parameter has the parameter's shape",
    )
    if np.allclose(dw, expected, rtol=1e-10, atol=1e-12):
        return
    if np.allclose(dw * len(x), expected, rtol=1e-8):
        raise AssertionError(
            f"dW is the right gradient divided by the number of rows ({len(x)}): a mean over the batch "
            f"where a sum belongs. The loss behind dY already holds any 1/n; backward adds up every "
            f"row's contribution"
        )
    raise AssertionError(f"dW is wrong: {describe_difference(dw, expected)}. Hint: each row of the batch "
                         f"contributes to every entry of dW")  # fmt: skip


@points(1)
def bias_gradient_matches_the_reference(cls):
    layer, reference = _pair(cls, 5)
    x, dy = _case(5, rows=(6,))
    _run(layer, x, dy)
    _run(reference, x, dy)
    db, expected = _grad(layer.bias, "bias"), reference.bias.grad
    expect(db.shape == expected.shape, f"db has shape {db.shape}; b has shape {expected.shape}")
    if np.allclose(db * len(x), expected, rtol=1e-8) and not np.allclose(db, expected):
        raise AssertionError(f"db is the right gradient divided by the number of rows ({len(x)}): a mean "
                             f"where a sum belongs")  # fmt: skip
    if not np.allclose(db, expected, rtol=1e-10, atol=1e-12):
        raise AssertionError(
            f"db is wrong: {describe_difference(db, expected)}. Hint: ∂Y[r, o]/∂b[o] = 1 for every row r"
        )


@points(1)
def gradients_accumulate(cls):
    x, dy = _case(6)
    once, _ = _pair(cls, 6)
    twice, _ = _pair(cls, 6)
    _run(once, x, dy)
    _run(twice, x, dy, calls=2)
    for name in ("weight", "bias"):
        g1, g2 = _grad(getattr(once, name), name), _grad(getattr(twice, name), name)
        if np.allclose(g2, 2 * g1, rtol=1e-10, atol=1e-12):
            continue
        if np.allclose(g2, g1, rtol=1e-10, atol=1e-12):
            raise AssertionError(
                f"after two backward calls, {name}.grad holds one call's gradient: it is overwritten "
                f"(.grad = g) instead of accumulated. Hint: gradients add up until zero_grad(); use "
                f"self.{name}.accumulate(g)"
            )
        raise AssertionError(f"after two backward calls, {name}.grad is not twice one call's gradient")


@points(1)
def leading_axes_are_rows(cls):
    x, dy = _case(7, rows=(2, 3))  # (2, 3, in): 6 rows
    flat, _ = _pair(cls, 7)
    y_flat, dx_flat = _run(flat, x.reshape(6, IN), dy.reshape(6, OUT))
    layer, _ = _pair(cls, 7)
    try:
        y, dx = _run(layer, x, dy)
    except (ValueError, IndexError) as exc:  # NumPy's shape errors: name the usual cause
        raise AssertionError(
            f"for X of shape (2, 3, in) your layer raised {type(exc).__name__}: {exc}. Hint: flatten the "
            f"leading axes into rows first, X.reshape(-1, in_features), where a 2-D product is needed"
        ) from None
    same = (
        np.shape(y) == (2, 3, OUT) and np.allclose(np.reshape(y, (6, OUT)), y_flat)
        and np.shape(dx) == x.shape and np.allclose(np.reshape(dx, (6, IN)), dx_flat)
    )  # fmt: skip
    for name in ("weight", "bias"):
        mine, rows = _grad(getattr(layer, name), name), _grad(getattr(flat, name), name)
        same = same and mine.shape == rows.shape and np.allclose(mine, rows)
    expect(
        same,
        "X of shape (2, 3, in) must give what the same 6 rows give as X of shape (6, in): Y and dX reshaped, "
        "dW and db equal. Yours differ. Hint: flatten the leading axes into rows first, "
        "X.reshape(-1, in_features)",
    )


@points(2)
def passes_the_layer_contract(cls):
    x = np.random.default_rng(8).standard_normal((5, IN))
    _run(cls(IN, OUT, seed=8), x, np.ones((5, OUT)))  # the stub stops here, as "not implemented"
    report = check_layer(lambda dtype, seed: cls(IN, OUT, dtype=dtype, seed=seed), x)
    if not report.ok:
        named = "\n".join(f"{r.name}: {r.message}" for r in report.failures)
        raise AssertionError(f"tinyrec.testing.check_layer found:\n{named}")


CHECKS = (
    output_has_the_right_shape,
    forward_matches_the_reference,
    input_gradient_matches_the_reference,
    weight_gradient_matches_the_reference,
    bias_gradient_matches_the_reference,
    gradients_accumulate,
    leading_axes_are_rows,
    passes_the_layer_contract,
)


def check(candidate):
    """Run every check of this exercise on ``candidate`` (a class like ``MyLinear``)."""
    return run_checks(NAME, candidate, CHECKS)
