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

Beyond the numbers, :func:`check_module` names three mistakes that central differences alone
would miss or leave unexplained: a parameter gradient that is **overwritten** instead of
accumulated (a second backward must double it), a ``backward`` that **changes** ``grad_output``
in place, and a parameter that got **no gradient**. Each fails the check with its own sentence.
A float32 module, and a gradient off by a constant factor everywhere (a mean where a sum
belongs), get a note with the likely cause. Any object with ``forward``, ``backward`` and
``parameters()`` can be checked, not only a :class:`~tinyrec.nn.Module`; the layer contract as a
whole (gradients, accumulation, ``zero_grad``, seeds, ``state_dict``) is
:func:`tinyrec.testing.check_layer`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import DTypeError
from .nn.module import RowGrad
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
    """Worst relative error for each checked input and parameter (``name -> error``), and what else
    the check found.

    ``skipped`` names what was not compared, with the reason (``"input0": "int64 array: only float
    inputs are differentiated"``). ``problems`` names what is wrong beyond a number (``"weight":
    "the gradient is overwritten, not accumulated ..."``, ``"grad_output": "backward changed ..."``):
    any problem fails the check. ``notes`` are hints about the numbers (a float32 module, a gradient
    off by a constant factor). A report with no error at all checked nothing, and is not a pass.
    """

    errors: dict[str, float] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def max_error(self) -> float:
        """The largest error; NaN when any error is NaN (a NaN gradient must never pass) or when
        nothing was checked (an empty check must never pass either)."""
        values = list(self.errors.values())
        if not values or any(np.isnan(v) for v in values):  # max() would skip a NaN that is not first
            return float("nan")
        return max(values)

    def ok(self, tol: float = 1e-6) -> bool:
        """True when every error is below ``tol`` and nothing else is wrong (False for NaN, and when
        nothing was checked)."""
        return not self.problems and self.max_error < tol

    def assert_ok(self, tol: float = 1e-6) -> None:
        if not self.errors:
            raise AssertionError(f"gradient check failed: {self._nothing_checked()}")
        if self.problems:
            named = "; ".join(f"{name}: {what}" for name, what in self.problems.items())
            raise AssertionError(f"gradient check failed: {named}\n{self}")
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
            lines = [self._nothing_checked()]
        else:
            width = max(len(k) for k in [*self.errors, *self.skipped, "name"])
            lines = [f"{'name':<{width}}  relative error"]
            lines += [f"{k:<{width}}  {v:.3e}" for k, v in self.errors.items()]
            lines += [f"{k:<{width}}  not checked: {why}" for k, why in self.skipped.items()]
        lines += [f"problem: {name}: {what}" for name, what in self.problems.items()]
        lines += [f"note: {note}" for note in self.notes]
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


def _copy(structure):
    """A copy of a nested structure of arrays (None stays None)."""
    return _like(structure, lambda a: None if a is None else np.array(a, copy=True))


# -- what a layer offers: tinyrec Modules, or any object with forward/backward/parameters() --------
def _submodules(module) -> list:
    """The module and its descendants (``modules()``), or the object alone for a duck-typed layer."""
    return list(module.modules()) if hasattr(module, "modules") else [module]


def _generators(module) -> list:
    """Every np.random.Generator held by the module tree (e.g. Dropout's)."""
    gens = []
    for m in _submodules(module):
        gens.extend(v for v in vars(m).values() if isinstance(v, np.random.Generator))
    return gens


def named_parameters_of(module) -> list:
    """``[(name, parameter)]``: ``named_parameters()``, else ``parameters()`` named ``param0``, ...

    Anything with ``.data`` (an array) and ``.grad`` counts as a parameter.
    """
    if hasattr(module, "named_parameters"):
        return list(module.named_parameters())
    if hasattr(module, "parameters"):
        return [(f"param{i}", p) for i, p in enumerate(module.parameters())]
    return []


def dense_grad(param) -> np.ndarray | None:
    """A parameter's ``.grad`` as a dense array (a :class:`~tinyrec.nn.RowGrad` expanded), or None."""
    grad = param.grad
    if grad is None:
        return None
    if isinstance(grad, RowGrad):
        return grad.to_dense(param.data.shape)
    return np.asarray(grad)


def zero_grads(module, params) -> None:
    """``module.zero_grad()``, or ``.grad = None`` for each parameter of a layer without one."""
    if hasattr(module, "zero_grad"):
        module.zero_grad()
    else:
        for _, p in params:
            p.grad = None


def run_backward(module, output, grad_output) -> tuple:
    """``module.backward`` with one ``dY`` per output (several for a tuple); returns the input gradients
    as a tuple."""
    if isinstance(output, (tuple, list)):
        result = module.backward(*grad_output)
    else:
        result = module.backward(grad_output)
    return result if isinstance(result, tuple) else (result,)


def _precision_note(inputs, params) -> str | None:
    """A hint when the module or its inputs are not float64 (central differences need float64)."""
    dtypes = {np.asarray(p.data).dtype for _, p in params}
    dtypes |= {x.dtype for x in inputs if isinstance(x, np.ndarray) and x.dtype.kind == "f"}
    low = sorted(str(d) for d in dtypes if d.kind == "f" and d != np.float64)
    if not low:
        return None
    return (
        f"the module or its inputs compute in {', '.join(low)}: central differences need float64 (a step of "
        f"1e-6 is below float32's resolution), so the errors above mean little. Build the layer with "
        f"dtype=np.float64 (or call .double()) and pass float64 inputs"
    )


def _factor_note(name: str, analytic: np.ndarray, numerical: np.ndarray) -> str | None:
    """A hint when ``analytic`` is a constant multiple of ``numerical`` (a factor left out or added)."""
    a, n = analytic.reshape(-1), numerical.reshape(-1)
    if not (np.any(a) and np.any(n)) or not np.all(np.isfinite(a)):
        return None
    scale = float(a @ n) / float(a @ a)  # the best c in  c·analytic ≈ numerical
    if abs(scale - 1.0) < 1e-3 or scale == 0.0 or relative_error(scale * a, n) > 1e-5:
        return None
    factor = 1.0 / scale
    what = "a sign error" if abs(factor + 1.0) < 1e-3 else (
        "a mean where a sum belongs, or a factor left out" if factor < 1.0 else
        "a sum where a mean belongs, or a factor counted twice")  # fmt: skip
    return f"{name}: the analytic gradient is {factor:.4g} times the numerical one everywhere: {what}?"


def check_module(
    module,
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
    module : Module, or any object with ``forward``, ``backward`` and ``parameters()``
        Built with ``dtype=np.float64`` (a float32 module gets a note saying so).
    *inputs : arrays
        Positional inputs of ``forward``; integer arrays (indices) are passed through unchecked.
        An array passed at several positions (self-attention's ``x, x, x``) is checked once, at
        the first, against the sum of its gradients.
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
        what was not compared (integer inputs, switched-off kinds) in ``skipped``; and, in
        ``problems``, what fails the check beyond a number: a parameter whose gradient is
        overwritten instead of accumulated (a second forward and backward must double it), a
        ``backward`` that changes ``grad_output`` in place, a parameter that got no gradient.

    Random layers (Dropout) are handled by restoring every Generator in the module to the same
    state before each forward, so all evaluations see the same mask. The module's gradients are
    left as the two backward calls of the accumulation check made them.
    """
    eps = check_positive(eps, "eps")  # before the module runs: eps=0 divided by zero
    forward_kwargs = forward_kwargs or {}
    rng = np.random.default_rng(seed)
    generators = _generators(module)
    saved_states = [g.bit_generator.state for g in generators]
    params = named_parameters_of(module)

    def run_forward():
        for g, state in zip(generators, saved_states, strict=True):
            g.bit_generator.state = state
        return module.forward(*inputs, **forward_kwargs)

    output = run_forward()
    if grad_output is None:
        grad_output = _like(output, lambda y: None if y is None else rng.standard_normal(np.shape(y)))
    # the loss keeps its own copy of dY: a backward that changes grad_output cannot change the loss
    weights = [None if g is None else np.array(g, dtype=np.float64) for g in _flatten(grad_output)]

    def loss() -> float:
        pairs = zip(_flatten(run_forward()), weights, strict=True)
        return float(sum(np.sum(np.asarray(y, dtype=np.float64) * g) for y, g in pairs if g is not None))

    report = GradcheckReport()
    note = _precision_note(inputs, params)
    if note:
        report.notes.append(note)

    # analytic gradients, from zero
    zero_grads(module, params)
    run_forward()
    given = _copy(grad_output)
    grad_inputs = run_backward(module, output, given)
    changed = [a is not None and not np.array_equal(a, b, equal_nan=True)
               for a, b in zip(_flatten(given), _flatten(grad_output), strict=True)]  # fmt: skip
    if any(changed):
        report.problems["grad_output"] = (
            "backward changed grad_output (dY) in place; the caller may still need it (a shared layer, a "
            "residual branch). Compute into a new array, e.g. dy = grad_output * mask, not "
            "grad_output *= mask"
        )
    analytic_params = {name: dense_grad(p) for name, p in params}
    analytic_params = {k: None if v is None else v.copy() for k, v in analytic_params.items()}
    _check_accumulation(module, params, analytic_params, run_forward, output, grad_output, report)

    for i, x in enumerate(inputs):
        name = f"input{i}"
        first = next(j for j, y in enumerate(inputs) if y is x)
        if not check_inputs:
            report.skipped[name] = "check_inputs=False"
        elif not (isinstance(x, np.ndarray) and x.dtype.kind == "f"):
            kind = f"{x.dtype} array" if isinstance(x, np.ndarray) else type(x).__name__
            report.skipped[name] = f"{kind}: only float inputs are differentiated"
        elif first != i:
            report.skipped[name] = f"the same array as input{first}: its gradients are summed there"
        else:
            parts = [grad_inputs[j] if j < len(grad_inputs) else None for j, y in enumerate(inputs) if y is x]
            parts = [np.asarray(g) for g in parts if g is not None]
            analytic = sum(parts) if parts else np.zeros_like(x)
            _compare(report, name, analytic, numerical_gradient(loss, x, eps))
    for name, param in params:
        if not check_parameters:
            report.skipped[name] = "check_parameters=False"
            continue
        numerical = numerical_gradient(loss, param.data, eps)
        analytic = analytic_params[name]
        if analytic is None:
            if np.any(numerical):
                report.problems.setdefault(name, (
                    "no gradient: .grad is still None after backward, but the output depends on it; "
                    "backward must accumulate into every parameter it uses"))  # fmt: skip
            analytic = np.zeros_like(param.data)
        _compare(report, name, analytic, numerical)
    return report


def _compare(report: GradcheckReport, name: str, analytic: np.ndarray, numerical: np.ndarray) -> None:
    """Record ``name``'s relative error, and a note when the two differ by a constant factor."""
    report.errors[name] = relative_error(analytic, numerical)
    if report.errors[name] > 1e-4:
        note = _factor_note(name, np.asarray(analytic, dtype=np.float64), numerical)
        if note:
            report.notes.append(note)


def _check_accumulation(module, params, once, run_forward, output, grad_output, report) -> None:
    """A second forward and backward must double every parameter gradient (they add up until
    ``zero_grad``, as in torch); a gradient that stays the same was overwritten."""
    if not any(g is not None and np.any(g) for g in once.values()):
        return
    run_forward()
    run_backward(module, output, _copy(grad_output))
    for name, p in params:
        first, second = once[name], dense_grad(p)
        if first is None or not np.any(first) or name in report.problems:
            continue
        if second is not None and relative_error(second, 2 * first) < 1e-6:
            continue
        if second is not None and relative_error(second, first) < 1e-6:
            what = ("the gradient is overwritten, not accumulated: after two backward calls it equals one "
                    "call's")
        else:
            what = "after two backward calls the gradient is not twice that of one call"
        report.problems[name] = (
            f"{what}; gradients must add up until zero_grad (param.accumulate(g), or grad += g, not grad = g)"
        )


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
    "dense_grad",
    "named_parameters_of",
    "numerical_gradient",
    "relative_error",
]
