"""``check_layer``: the contract every layer follows, checked in one call, each property named.

A layer (a :class:`tinyrec.nn.Module`, or any object with ``forward``, ``backward`` and
``parameters()``) promises, as torch's modules do:

=========================  ==========================================================================
``gradients``              the gradients of every float input and every parameter agree with
                           central differences, in float64 (:func:`tinyrec.gradcheck.check_module`)
``parameter_gradients``    every parameter that the output depends on gets a gradient
``accumulate``             parameter gradients add up over two backward calls (``.grad += g``, not
                           ``.grad = g``); the input gradients of the two calls are the same
``grad_output_unchanged``  ``backward`` does not change the ``grad_output`` it receives
``inputs_unchanged``       ``forward`` and ``backward`` do not change the inputs
``zero_grad``              ``zero_grad()`` clears every gradient
``seeded``                 the same seed gives the same parameters, buffers and outputs (a random
                           layer: the same masks)
``state_dict``             a layer built with another seed, given the first one's ``state_dict``,
                           holds the same state and computes the same output
``float32``                float32 in gives float32 out: outputs, input and parameter gradients
``backward_first``         ``backward`` before any ``forward`` raises an error
=========================  ==========================================================================

:func:`check_layer` returns a :class:`LayerReport` naming each property that failed in words
("the weight gradient is overwritten, not accumulated"). A property that cannot be checked (no
parameters, no seed, no ``state_dict``) is *skipped*, with the reason; it does not fail.

Example::

    from tinyrec.testing import check_layer
    report = check_layer(lambda dtype, seed: MyLayer(4, 3, dtype=dtype, seed=seed), x)
    print(report)          # one line per property
    report.assert_ok()     # AssertionError listing the failed properties
"""

from __future__ import annotations

import copy
import inspect
from dataclasses import dataclass

import numpy as np

from ..gradcheck import (
    _copy,
    _flatten,
    _generators,
    _like,
    check_module,
    dense_grad,
    named_parameters_of,
    run_backward,
)

PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"

#: property name -> what it promises (the order of the report)
PROPERTIES = {
    "gradients": "gradients match central differences (float64)",
    "parameter_gradients": "every parameter gets a gradient",
    "accumulate": "gradients accumulate over two backward calls",
    "grad_output_unchanged": "backward leaves grad_output unchanged",
    "inputs_unchanged": "forward and backward leave the inputs unchanged",
    "zero_grad": "zero_grad clears every gradient",
    "seeded": "the same seed gives the same layer",
    "state_dict": "a state_dict round trip gives the same layer",
    "float32": "float32 in gives float32 out",
    "backward_first": "backward before forward raises an error",
}


@dataclass(frozen=True)
class PropertyResult:
    """One property: its name (a key of :data:`PROPERTIES`), status and what was found."""

    name: str
    status: str  # PASSED, FAILED or SKIPPED
    message: str = ""

    @property
    def passed(self) -> bool:
        return self.status == PASSED


@dataclass(frozen=True)
class LayerReport:
    """What :func:`check_layer` found: one :class:`PropertyResult` per property."""

    layer: str
    results: tuple[PropertyResult, ...]

    @property
    def ok(self) -> bool:
        """True when no property failed (skipped ones do not count)."""
        return not self.failures

    @property
    def failures(self) -> tuple[PropertyResult, ...]:
        return tuple(r for r in self.results if r.status == FAILED)

    def result(self, name: str) -> PropertyResult:
        """The result of the property ``name`` (a key of :data:`PROPERTIES`)."""
        for r in self.results:
            if r.name == name:
                return r
        raise KeyError(f"no property {name!r}; the properties are {list(PROPERTIES)}")

    def assert_ok(self) -> None:
        """Raise AssertionError naming every failed property and what was wrong."""
        if self.failures:
            lines = [f"{r.name}: {r.message}" for r in self.failures]
            raise AssertionError(f"{self.layer} breaks the layer contract:\n  " + "\n  ".join(lines))

    def __str__(self) -> str:
        failed, checked = len(self.failures), len(self.results) - self._skipped()
        summary = f"{failed} of {len(self.results)} properties failed" if failed else (
            f"all {checked} properties checked hold")  # fmt: skip
        lines = [f"{self.layer}: {summary}"]
        for r in self.results:
            text = f"  {r.status:<7}  {PROPERTIES[r.name]}"
            lines.append(text + (f": {r.message}" if r.message else ""))
        return "\n".join(lines)

    def _skipped(self) -> int:
        return sum(r.status == SKIPPED for r in self.results)


class _Skip(Exception):
    """Raised by a property that cannot be checked for this layer (the reason is the message)."""


def check_layer(
    factory,
    *inputs,
    forward_kwargs: dict | None = None,
    gradcheck_inputs: tuple | None = None,
    seed: int = 0,
    tol: float = 1e-6,
) -> LayerReport:
    """Check the layer contract (the module docstring's table) and report each property.

    Parameters
    ----------
    factory : callable or layer
        ``factory(dtype=..., seed=...)`` builds the layer (a class, a ``functools.partial``, a
        lambda); ``dtype``/``seed`` are passed only if it takes them (a layer without parameters
        follows its input's dtype). A layer instance is accepted too: it is copied
        (``copy.deepcopy``) for each property and converted with ``.to(dtype)`` where it has one;
        the ``seeded`` property is then skipped, and the report says so.
    *inputs : arrays (or ints)
        The positional inputs of ``forward``. Float arrays are cast to float64 (float32 for the
        ``float32`` property); integer arrays (ids) are passed as they are. The same array given
        twice (self-attention's ``x, x, x``) stays one array, whose gradient is the sum.
    forward_kwargs : dict, optional
        Keyword arguments of ``forward`` (masks).
    gradcheck_inputs : tuple, optional
        Other inputs for the central-difference check only (an Embedding's ``padding_idx`` row
        gets no gradient by definition, which a central difference would see).
    seed : int
        The seed the layer is built with, and of the random ``grad_output``.
    tol : float
        The largest relative error of a gradient that passes (see :mod:`tinyrec.gradcheck`).

    Returns
    -------
    LayerReport
    """
    layer = _Layer(factory, inputs, forward_kwargs or {}, seed, gradcheck_inputs)
    checks = {
        "gradients": lambda: _gradients(layer, tol),
        "parameter_gradients": lambda: _parameter_gradients(layer),
        "accumulate": lambda: _accumulate(layer),
        "grad_output_unchanged": lambda: _grad_output_unchanged(layer),
        "inputs_unchanged": lambda: _inputs_unchanged(layer),
        "zero_grad": lambda: _zero_grad(layer),
        "seeded": lambda: _seeded(layer),
        "state_dict": lambda: _state_dict(layer),
        "float32": lambda: _float32(layer),
        "backward_first": lambda: _backward_first(layer),
    }
    results = []
    for name, check in checks.items():
        try:
            message = check()
            results.append(PropertyResult(name, PASSED, message or ""))
        except _Skip as skip:
            results.append(PropertyResult(name, SKIPPED, str(skip)))
        except AssertionError as failure:
            results.append(PropertyResult(name, FAILED, str(failure)))
        except Exception as exc:  # the layer itself raised: that fails the property, saying what
            results.append(PropertyResult(name, FAILED, f"raised {type(exc).__name__}: {exc}"))
    return LayerReport(layer.name, tuple(results))


# -- building and running the layer under test ------------------------------------------------------
class _Layer:
    """How to build the layer under test and feed it (from a factory, or copies of an instance)."""

    def __init__(self, factory, inputs: tuple, kwargs: dict, seed: int, gradcheck_inputs):
        self.instance = None if isinstance(factory, type) or not hasattr(factory, "backward") else factory
        self.factory, self.inputs, self.kwargs, self.seed = factory, inputs, kwargs, seed
        self.gradcheck_inputs, self._report = gradcheck_inputs, None
        taken = _parameters_of(factory) if self.instance is None else set()
        self.takes_dtype, self.takes_seed = "dtype" in taken, "seed" in taken
        try:
            self.name = type(self.build(np.float64)).__name__
        except Exception:  # the factory itself fails: every property will say how
            self.name = getattr(factory, "__name__", type(factory).__name__)

    def gradcheck(self):
        """The central-difference check of a float64 layer (:func:`check_module`), run once."""
        if self._report is None:
            built = self.build(np.float64)
            inputs, kwargs = self.feed(np.float64, self.gradcheck_inputs)
            self._report = (built, check_module(built, *inputs, forward_kwargs=kwargs, seed=self.seed + 2))
        return self._report

    def build(self, dtype, seed=None):
        """A fresh layer in ``dtype`` (when it can be chosen), built with ``seed`` (default: the check's)."""
        if self.instance is not None:
            layer = copy.deepcopy(self.instance)
            return layer.to(dtype) if hasattr(layer, "to") else layer
        seed = self.seed if seed is None else seed
        extra = {k: v for k, v in (("dtype", dtype), ("seed", seed)) if getattr(self, f"takes_{k}")}
        return self.factory(**extra)

    def feed(self, dtype, inputs=None) -> tuple[tuple, dict]:
        """The inputs (or ``inputs``) and keyword arguments with float arrays cast to ``dtype``; an
        array given several times stays one array."""
        cast: dict[int, np.ndarray] = {}

        def convert(x):
            if isinstance(x, np.ndarray) and x.dtype.kind == "f":
                return cast.setdefault(id(x), x.astype(dtype))
            return x

        inputs = self.inputs if inputs is None else inputs
        return tuple(convert(x) for x in inputs), {k: convert(v) for k, v in self.kwargs.items()}

    def run(self, dtype, seed=None):
        """Build, forward (through ``__call__``, the checked door, when there is one); returns
        ``(layer, inputs, kwargs, output, grad_output, rng_states)``."""
        layer = self.build(dtype, seed)
        states = [g.bit_generator.state for g in _generators(layer)]
        inputs, kwargs = self.feed(dtype)
        output = _call(layer, inputs, kwargs)
        grad_output = _random_like(output, np.random.default_rng(self.seed + 1), dtype)
        return layer, inputs, kwargs, output, grad_output, states


def _random_like(output, rng, dtype=np.float64):
    """A standard normal array of each output's shape (None for a None output): a ``dY``."""
    return _like(output, lambda y: None if y is None else rng.standard_normal(np.shape(y)).astype(dtype))


def _parameters_of(factory) -> set[str]:
    try:
        return set(inspect.signature(factory).parameters)
    except (TypeError, ValueError):  # a builtin or C callable: assume it takes both
        return {"dtype", "seed"}


def _call(layer, inputs, kwargs):
    return layer(*inputs, **kwargs) if callable(layer) else layer.forward(*inputs, **kwargs)


def _rewind(layer, states) -> None:
    for g, state in zip(_generators(layer), states, strict=True):
        g.bit_generator.state = state


def _params(layer) -> list:
    return named_parameters_of(layer)


def _state(layer) -> dict[str, np.ndarray]:
    """``state_dict()``, or the parameters' data for a layer without one."""
    if hasattr(layer, "state_dict"):
        return {k: np.asarray(v) for k, v in layer.state_dict().items()}
    return {name: np.array(p.data, copy=True) for name, p in _params(layer)}


def _need_parameters(layer) -> None:
    if not _params(layer):
        raise _Skip("the layer has no parameters")


def _differ(a, b) -> str:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return f"shapes {a.shape} and {b.shape}"
    return f"largest difference {np.nanmax(np.abs(a - b), initial=0.0):.3g}"


# -- the properties: each returns (a message), raises AssertionError (failed) or _Skip -------------
def _gradients(layer: _Layer, tol: float) -> str:
    _, report = layer.gradcheck()
    if not report.errors:
        raise AssertionError(str(report))
    wrong = {name: e for name, e in report.errors.items() if not e < tol}
    if wrong:
        parts = [f"the {name} gradient differs from central differences (relative error {e:.2e})"
                 for name, e in wrong.items()]  # fmt: skip
        hints = [f"hint: {note}" for note in report.notes]
        raise AssertionError("; ".join(parts + hints) + f" (tolerance {tol:.0e})")
    return f"largest relative error {report.max_error:.1e}"


def _parameter_gradients(layer: _Layer) -> None:
    built, report = layer.gradcheck()
    _need_parameters(built)
    missing = [name for name, what in report.problems.items() if what.startswith("no gradient")]
    if missing:
        raise AssertionError("; ".join(
            f"the {name} gradient is missing: {name}.grad is still None after backward, though the output "
            f"depends on it" for name in missing))  # fmt: skip


def _accumulate(layer: _Layer) -> None:
    built, inputs, kwargs, output, grad_output, states = layer.run(np.float64)
    first = _copy(run_backward(built, output, _copy(grad_output)))
    once = {name: _copy(dense_grad(p)) for name, p in _params(built)}
    _rewind(built, states)  # a random layer draws the same mask again
    _call(built, inputs, kwargs)
    second = run_backward(built, output, _copy(grad_output))
    problems = []
    for name, p in _params(built):
        g1, g2 = once[name], dense_grad(p)
        doubled = g2 is not None and np.allclose(g2, 2 * g1, rtol=1e-12, atol=1e-12)
        if g1 is None or not np.any(g1) or doubled:
            continue
        if g2 is not None and np.array_equal(g2, g1):
            problems.append(
                f"the {name} gradient is overwritten, not accumulated: after two backward calls it equals "
                f"one call's (write {name}.grad += g, or param.accumulate(g))"
            )
        else:
            problems.append(f"after two backward calls the {name} gradient is not twice that of one call "
                            f"({_differ(g2, 2 * g1)})")  # fmt: skip
    for i, (a, b) in enumerate(zip(_flatten(first), _flatten(second), strict=True)):
        if (a is None) != (b is None) or (a is not None and not np.array_equal(a, b)):
            problems.append(f"the gradient of input{i} differs between two identical backward calls")
    if problems:
        raise AssertionError("; ".join(problems))


def _grad_output_unchanged(layer: _Layer) -> None:
    built, inputs, kwargs, output, grad_output, states = layer.run(np.float64)
    saved = _copy(grad_output)
    run_backward(built, output, grad_output)
    for i, (a, b) in enumerate(zip(_flatten(grad_output), _flatten(saved), strict=True)):
        if a is not None and not np.array_equal(a, b, equal_nan=True):
            which = "" if i == 0 else f" of output {i}"
            raise AssertionError(
                f"backward changed grad_output (dY{which}) in place: {_differ(a, b)}; compute into a new "
                f"array (dy = grad_output * mask), not grad_output *= mask"
            )


def _inputs_unchanged(layer: _Layer) -> None:
    built = layer.build(np.float64)
    inputs, kwargs = layer.feed(np.float64)
    saved = _copy(inputs)
    output = _call(built, inputs, kwargs)
    changed = [i for i, (a, b) in enumerate(zip(inputs, saved, strict=True))
               if isinstance(a, np.ndarray) and not np.array_equal(a, b, equal_nan=True)]  # fmt: skip
    if changed:
        raise AssertionError(f"forward changed input{changed[0]} in place")
    run_backward(built, output, _random_like(output, np.random.default_rng(layer.seed + 1)))
    changed = [i for i, (a, b) in enumerate(zip(inputs, saved, strict=True))
               if isinstance(a, np.ndarray) and not np.array_equal(a, b, equal_nan=True)]  # fmt: skip
    if changed:
        raise AssertionError(f"backward changed input{changed[0]} in place")


def _zero_grad(layer: _Layer) -> None:
    built, inputs, kwargs, output, grad_output, states = layer.run(np.float64)
    _need_parameters(built)
    if not hasattr(built, "zero_grad"):
        raise _Skip("the layer has no zero_grad method")
    run_backward(built, output, grad_output)
    if all(p.grad is None for _, p in _params(built)):
        raise _Skip("backward gave no parameter a gradient: nothing for zero_grad to clear")
    built.zero_grad()
    left = [name for name, p in _params(built) if p.grad is not None and np.any(dense_grad(p))]
    if left:
        raise AssertionError(f"after zero_grad, {', '.join(left)} still hold a gradient")


def _seeded(layer: _Layer) -> None:
    if layer.instance is not None:
        raise _Skip("a layer instance was given, not a factory: the seed check needs "
                    "factory(dtype=..., seed=...)")
    if not layer.takes_seed:
        raise _Skip("the factory takes no seed")
    a, b = layer.build(np.float32, 123), layer.build(np.float32, 123)
    state_a, state_b = _state(a), _state(b)
    if state_a.keys() != state_b.keys():
        raise AssertionError(
            f"two layers built with seed=123 hold different names: {sorted(state_a)}, {sorted(state_b)}"
        )
    differ = [name for name in state_a if not np.array_equal(state_a[name], state_b[name], equal_nan=True)]
    if differ:
        first = _differ(state_a[differ[0]], state_b[differ[0]])
        raise AssertionError(
            f"two layers built with seed=123 differ: {', '.join(differ)} ({first}); draw the initial values "
            f"from the seed (np.random.default_rng(seed)), not from a global generator"
        )
    inputs, kwargs = layer.feed(np.float32)
    for call in ("first", "second"):  # a random layer's second mask too
        ya, yb = _flatten(_call(a, inputs, kwargs)), _flatten(_call(b, inputs, kwargs))
        for y1, y2 in zip(ya, yb, strict=True):
            if y1 is not None and not np.array_equal(y1, y2, equal_nan=True):
                raise AssertionError(
                    f"two layers built with seed=123 give different outputs at the {call} call "
                    f"({_differ(y1, y2)}); random masks must come from the seed"
                )


def _state_dict(layer: _Layer) -> None:
    a = layer.build(np.float64, layer.seed)
    if not (hasattr(a, "state_dict") and hasattr(a, "load_state_dict")):
        raise _Skip("the layer has no state_dict/load_state_dict")
    inputs, kwargs = layer.feed(np.float64)
    rng = np.random.default_rng(layer.seed + 3)
    for _, p in _params(a):  # away from a deterministic start (LayerNorm's ones and zeros)
        p.data[...] = rng.standard_normal(p.data.shape)
    _call(a, inputs, kwargs)  # a training forward moves the buffers (BatchNorm's running statistics)
    b = layer.build(np.float64, layer.seed + 1)
    if layer.instance is not None:  # copies of one instance start equal: move b away first
        for _, p in _params(b):
            p.data[...] = rng.standard_normal(p.data.shape)
    b.load_state_dict(a.state_dict())
    state_a, state_b = _state(a), _state(b)
    if state_a.keys() != state_b.keys():
        raise AssertionError(
            f"the state_dict keys differ after loading: {sorted(state_a)} and {sorted(state_b)}"
        )
    for name, value in state_a.items():
        if not np.array_equal(state_b[name], value, equal_nan=True):
            raise AssertionError(
                f"after load_state_dict, {name} differs from the saved one ({_differ(state_b[name], value)})"
            )
    for m in (a, b):
        if hasattr(m, "eval"):
            m.eval()  # no random masks: the output depends on the state alone
    ya, yb = _flatten(_call(a, inputs, kwargs)), _flatten(_call(b, inputs, kwargs))
    for y1, y2 in zip(ya, yb, strict=True):
        if y1 is not None and not np.array_equal(y1, y2, equal_nan=True):
            raise AssertionError(
                f"a layer given another's state_dict computes another output ({_differ(y1, y2)}): some state "
                f"is missing from the state_dict"
            )


def _float32(layer: _Layer) -> None:
    if layer.instance is not None and not hasattr(layer.instance, "to"):
        raise _Skip("the layer instance has no .to(dtype) to build a float32 copy")
    if layer.instance is None and not layer.takes_dtype and _params(layer.build(np.float32)):
        raise _Skip("the factory takes no dtype, and the layer has parameters: it cannot be built in "
                    "float32")
    built, inputs, kwargs, output, grad_output, states = layer.run(np.float32)
    wrong = [f"output {i} is {y.dtype}" for i, y in enumerate(_flatten(output))
             if isinstance(y, np.ndarray) and y.dtype.kind == "f" and y.dtype != np.float32]  # fmt: skip
    grads = run_backward(built, output, grad_output)
    wrong += [f"an input gradient is {g.dtype}" for g in _flatten(grads)
              if isinstance(g, np.ndarray) and g.dtype != np.float32]  # fmt: skip
    for name, p in _params(built):
        if p.data.dtype != np.float32:
            wrong.append(f"{name} is {p.data.dtype}")
        elif p.grad is not None and dense_grad(p).dtype != np.float32:
            wrong.append(f"the {name} gradient is {dense_grad(p).dtype}")
    if wrong:
        raise AssertionError(
            f"float32 in, but {', '.join(wrong)}; compute in the input's (and the layer's) dtype"
        )


def _backward_first(layer: _Layer) -> str:
    if layer.instance is not None and "_last_output" in vars(layer.instance):
        raise _Skip("the layer instance given has already run forward")
    built, inputs, kwargs, output, grad_output, states = layer.run(np.float64)
    fresh = layer.build(np.float64)
    try:
        run_backward(fresh, output, grad_output)
    except Exception as exc:
        return f"raised {type(exc).__name__}"
    raise AssertionError("backward ran before any forward without an error; it should raise one "
                         "(tinyrec's layers raise BackwardBeforeForwardError)")  # fmt: skip


__all__ = ["FAILED", "PASSED", "PROPERTIES", "SKIPPED", "LayerReport", "PropertyResult", "check_layer"]
