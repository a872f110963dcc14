"""Numerical gradient checks by central differences: is a hand-written ``backward`` right?

For a function ``ℒ(θ)`` of an array ``θ``, the central difference with step ``eps``

    ∂ℒ/∂θ_j  ≈  (ℒ(θ + eps e_j) − ℒ(θ − eps e_j)) / (2 eps)      (e_j: the j-th unit array)

has error O(eps²) from truncation plus O(δ·|ℒ|/eps) from round-off (δ ≈ 1.1e-16, the unit
round-off of float64); with eps = 1e-6 both are around 1e-10 relative, so an analytic gradient that
is right agrees to ~1e-8 and one that is wrong differs at order 1. Checks are therefore run in
**float64**.

A module's output ``Y`` is turned into the scalar ``ℒ = Σ Y ⊙ G`` with a fixed random ``G``
(seeded); then ``∂ℒ/∂Y = G`` is what ``backward`` receives, and every input and parameter gradient
it produces is compared with the numerical one.

The reported error of one array is the **normwise relative error**

    err = max_j |g_j − g̃_j| / max(max_j |g_j|, max_j |g̃_j|, 1e-30)

(``g``: analytic, ``g̃``: numerical). It is scale-free, and small gradient entries sitting in round-off
noise do not blow it up. A correct backward gives err < 1e-6 comfortably.

Usage (a student checking their own layer)::

    from tinyrec.gradcheck import check_module
    report = check_module(MyLayer(3, 2, dtype=np.float64), np.random.randn(4, 3))
    print(report)            # worst error per input and per parameter
    report.assert_ok(1e-6)   # raises AssertionError naming the worst offender

Integer inputs (indices) are passed through, not differentiated. A check that compared nothing
(every input an integer array and no parameter, or both kinds switched off) is not a pass: its
report says "nothing was checked", :meth:`GradcheckReport.ok` is False and
:meth:`GradcheckReport.assert_ok` raises, naming what was left out and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import DTypeError
from .nn.module import Module
from .validation import check_positive


def numerical_gradient(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of the scalar function ``f()`` with respect to ``x``.

    ``x`` is perturbed **in place**, one entry at a time, and restored; ``f`` takes no arguments
    and reads ``x`` itself (so ``x`` can be a parameter array inside a module). ``x`` is a float
    array (float64 for an accurate check: an integer array cannot hold ``x + eps``), and ``eps``
    a finite number > 0.
    """
    eps = check_positive(eps, "eps")
    if not (isinstance(x, np.ndarray) and x.dtype.kind == "f"):
        what = x.dtype if isinstance(x, np.ndarray) else type(x).__name__
        raise DTypeError(
            f"numerical_gradient needs a float array to perturb (float64 for an accurate check), got {what}"
        )
    grad = np.zeros(x.shape, dtype=np.float64)
    flat = x.reshape(-1)  # a view: writing flat[j] perturbs x
    if not np.shares_memory(flat, x):
        raise ValueError("numerical_gradient needs a contiguous array it can perturb in place")
    for j in range(flat.size):
        original = flat[j]
        flat[j] = original + eps
        f_plus = f()
        flat[j] = original - eps
        f_minus = f()
        flat[j] = original
        grad.reshape(-1)[j] = (f_plus - f_minus) / (2.0 * eps)
    return grad


def relative_error(analytic: np.ndarray, numerical: np.ndarray) -> float:
    """The normwise relative error defined in the module docstring."""
    analytic = np.asarray(analytic, dtype=np.float64)
    numerical = np.asarray(numerical, dtype=np.float64)
    if analytic.shape != numerical.shape:
        raise ValueError(f"shapes differ: analytic {analytic.shape}, numerical {numerical.shape}")
    if analytic.size == 0:
        return 0.0
    scale = max(np.abs(analytic).max(), np.abs(numerical).max(), 1e-30)
    return float(np.abs(analytic - numerical).max() / scale)


@dataclass
class GradcheckReport:
    """Worst relative error for each checked input and parameter (``name -> error``).

    ``skipped`` names what was not compared, with the reason (``"input0": "int64 array: only float
    inputs are differentiated"``). A report with no error at all checked nothing, and is not a pass.
    """

    errors: dict[str, float] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def max_error(self) -> float:
        """The largest error; NaN when any error is NaN (a NaN gradient must never pass) or when
        nothing was checked (an empty check must never pass either)."""
        values = list(self.errors.values())
        if not values or any(np.isnan(v) for v in values):  # max() would skip a NaN that is not first
            return float("nan")
        return max(values)

    def ok(self, tol: float = 1e-6) -> bool:
        return self.max_error < tol  # False for NaN, and when nothing was checked

    def assert_ok(self, tol: float = 1e-6) -> None:
        if not self.errors:
            raise AssertionError(f"gradient check failed: {self._nothing_checked()}")
        if not self.ok(tol):
            nans = [name for name, error in self.errors.items() if np.isnan(error)]
            worst = nans[0] if nans else max(self.errors, key=self.errors.get)
            raise AssertionError(
                f"gradient check failed: {worst} has relative error {self.errors[worst]:.3e} "
                f"(tolerance {tol:.0e})\n{self}"
            )

    def _nothing_checked(self) -> str:
        left_out = "; ".join(f"{name} ({why})" for name, why in self.skipped.items())
        return (
            f"nothing was checked ({left_out or 'no float input and no parameter'}); a gradient check needs "
            "a float64 input or a parameter to differentiate"
        )

    def __str__(self) -> str:
        if not self.errors:
            return self._nothing_checked()
        width = max(len(k) for k in [*self.errors, *self.skipped, "name"])
        lines = [f"{'name':<{width}}  relative error"]
        lines += [f"{k:<{width}}  {v:.3e}" for k, v in self.errors.items()]
        lines += [f"{k:<{width}}  not checked: {why}" for k, why in self.skipped.items()]
        return "\n".join(lines)


def _flatten(structure):
    """Leaves of a nested tuple/list structure, in order."""
    if isinstance(structure, (tuple, list)):
        out = []
        for item in structure:
            out.extend(_flatten(item))
        return out
    return [structure]


def _like(structure, make):
    """A structure of the same nesting with ``make(leaf)`` at each leaf."""
    if isinstance(structure, (tuple, list)):
        return tuple(_like(item, make) for item in structure)
    return make(structure)


def _generators(module: Module):
    """Every np.random.Generator held by the module tree (e.g. Dropout's)."""
    gens = []
    for m in module.modules():
        gens.extend(v for v in vars(m).values() if isinstance(v, np.random.Generator))
    return gens


def check_module(
    module: Module,
    *inputs,
    grad_output=None,
    eps: float = 1e-6,
    seed: int = 0,
    check_inputs: bool = True,
    check_parameters: bool = True,
    forward_kwargs: dict | None = None,
) -> GradcheckReport:
    """Compare ``module.backward`` with central differences for every float input and parameter.

    Parameters
    ----------
    module : Module
        Built with ``dtype=np.float64``.
    *inputs : arrays
        Positional inputs of ``forward``; integer arrays (indices) are passed through unchecked.
    grad_output : array or nested tuple, optional
        ``dY`` to feed ``backward``; by default a seeded standard normal of the output's
        structure (for ``(output, h_n)`` outputs, ``backward`` receives one ``dY`` per output).
    forward_kwargs : dict, optional
        Keyword arguments of ``forward`` (masks, for example).

    eps : float
        The central-difference step, a finite number > 0.

    Returns
    -------
    GradcheckReport
        ``input0``, ``input1``, ... and each parameter's dotted name, with its relative error;
        what was not compared (integer inputs, switched-off kinds) in ``skipped``.

    Random layers (Dropout) are handled by restoring every Generator in the module to the same
    state before each forward, so all evaluations see the same mask.
    """
    eps = check_positive(eps, "eps")  # before the module runs: eps=0 divided by zero
    forward_kwargs = forward_kwargs or {}
    rng = np.random.default_rng(seed)
    generators = _generators(module)
    saved_states = [g.bit_generator.state for g in generators]

    def run_forward():
        for g, state in zip(generators, saved_states, strict=True):
            g.bit_generator.state = state
        return module.forward(*inputs, **forward_kwargs)

    output = run_forward()
    if grad_output is None:
        grad_output = _like(output, lambda y: rng.standard_normal(np.shape(y)))
    grad_leaves = [np.asarray(g, dtype=np.float64) for g in _flatten(grad_output)]

    def loss() -> float:
        leaves = _flatten(run_forward())
        return float(
            sum(np.sum(np.asarray(y, dtype=np.float64) * g) for y, g in zip(leaves, grad_leaves, strict=True))
        )

    # analytic gradients
    module.zero_grad()
    run_forward()
    if isinstance(output, (tuple, list)):
        grad_inputs = module.backward(*grad_output)
    else:
        grad_inputs = module.backward(grad_output)
    if not isinstance(grad_inputs, tuple):
        grad_inputs = (grad_inputs,)
    analytic_params = {name: p.dense_grad() for name, p in module.named_parameters()}

    report = GradcheckReport()
    for i, x in enumerate(inputs):
        if not check_inputs:
            report.skipped[f"input{i}"] = "check_inputs=False"
            continue
        if not (isinstance(x, np.ndarray) and x.dtype.kind == "f"):
            kind = f"{x.dtype} array" if isinstance(x, np.ndarray) else type(x).__name__
            report.skipped[f"input{i}"] = f"{kind}: only float inputs are differentiated"
            continue
        analytic = grad_inputs[i] if i < len(grad_inputs) else None
        if analytic is None:
            analytic = np.zeros_like(x)
        report.errors[f"input{i}"] = relative_error(analytic, numerical_gradient(loss, x, eps))
    for name, param in module.named_parameters():
        if not check_parameters:
            report.skipped[name] = "check_parameters=False"
            continue
        analytic = analytic_params[name]
        if analytic is None:
            analytic = np.zeros_like(param.data)
        report.errors[name] = relative_error(analytic, numerical_gradient(loss, param.data, eps))
    return report


def check_loss(loss, prediction: np.ndarray, target, *, eps: float = 1e-6) -> GradcheckReport:
    """Compare ``loss.backward()`` with central differences with respect to ``prediction``.

    ``loss`` is a loss object (``forward(prediction, target) -> float``, ``backward() -> grad``).
    For ``reduction="none"`` the per-element losses are summed with a seeded random weight.
    For a loss taking two score arrays (BPRLoss: ``forward(pos, neg)``), ``target`` is the second
    array and both gradients are checked (``input0``, ``input1``).
    """
    eps = check_positive(eps, "eps")
    two_inputs = isinstance(target, np.ndarray) and target.dtype.kind == "f" and _has_two_grads(loss)
    weights = None

    def scalar(value) -> float:
        nonlocal weights
        value = np.asarray(value, dtype=np.float64)
        if value.ndim == 0:
            return float(value)
        if weights is None:
            weights = np.random.default_rng(0).standard_normal(value.shape)
        return float(np.sum(value * weights))

    def f() -> float:
        return scalar(loss.forward(prediction, target))

    f()  # fixes `weights` for reduction="none"
    value = loss.forward(prediction, target)
    scalar(value)
    if np.ndim(value) == 0:
        grads = loss.backward()
    else:
        grads = loss.backward(weights)
    report = GradcheckReport()
    if two_inputs:
        report.errors["input0"] = relative_error(grads[0], numerical_gradient(f, prediction, eps))
        report.errors["input1"] = relative_error(grads[1], numerical_gradient(f, target, eps))
    else:
        report.errors["input0"] = relative_error(grads, numerical_gradient(f, prediction, eps))
    return report


def _has_two_grads(loss) -> bool:
    """True for losses whose backward returns a gradient for both arguments (BPRLoss)."""
    return bool(getattr(loss, "differentiable_target", False))


__all__ = [
    "GradcheckReport",
    "check_loss",
    "check_module",
    "numerical_gradient",
    "relative_error",
]
