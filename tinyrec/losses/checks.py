"""What a loss accepts, declared once, and the checks that enforce it at ``loss(prediction, target)``.

A loss lists its two inputs in the class attribute ``input_spec``::

    class BCELoss(Loss):
        input_spec = (Scores("prediction", within=(0, 1), weights=("weight",)),
                      Target("target", within=(0, 1)))

and :meth:`Loss.__call__ <tinyrec.losses.base.Loss.__call__>` checks every call against it before
``forward`` runs, so ``forward`` and ``backward`` hold the math alone. ``loss.forward(...)`` called
directly skips the checks (a training loop whose targets are right by construction).

The kinds of input, shared by every loss:

* :class:`Scores`: a NumPy float32 or float64 array. ``within=(low, high)`` asks every value to
  lie in ``[low, high]`` (NaN is refused); ``weights`` names the loss's weight attributes
  (``"weight"``, ``"pos_weight"``), which must broadcast to it without enlarging it.
* :class:`Target`: the second input, of the first one's shape, any float array (a list of floats
  too), returned in the first input's dtype; ``scores=True`` asks for a NumPy float array like
  the first (BPR's negative scores).
* :class:`Logits` and :class:`Classes`: ``(C,)``, ``(N, C)`` or ``(N, C, d1, …)`` logits, and
  class indices (an integer array of the loss shape, in ``[0, C)`` except ``ignore_index``) or
  class probabilities (finite, >= 0, of the logits' shape).

The constructor arguments (:func:`check_reduction`, :func:`check_weight`) are checked when the
loss is built, and the ``grad_output`` of ``backward`` by :func:`check_grad_output`, which the
base class wraps around every loss's ``backward``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ArgumentTypeError, BackwardBeforeForwardError, DataError, DTypeError, ShapeError
from ..validation import check_choice, check_float_array, check_index_array, check_same_shape

REDUCTIONS = ("mean", "sum", "none")


# -- the inputs of forward -------------------------------------------------------------------
@dataclass(frozen=True)
class Scores:
    """A float array the loss differentiates: a prediction, logits or scores."""

    name: str
    within: tuple[float, float] | None = None
    hint: str = ""  # appended to the range message: what to pass instead
    weights: tuple[str, ...] = ()

    def check(self, x, loss, first=None) -> np.ndarray:
        check_float_array(x, self.name)
        _check_within(x, self.within, f"{_name(loss)} {self.name}", self.hint)
        for attribute in self.weights:
            _check_fits(getattr(loss, attribute), attribute, x)
        return x


@dataclass(frozen=True)
class Target:
    """The second input: the first input's shape, returned in its dtype."""

    name: str = "target"
    within: tuple[float, float] | None = None
    scores: bool = False  # a float NumPy array like the first (BPR's neg_scores), not any float array

    def check(self, y, loss, first) -> np.ndarray:
        if self.scores:
            check_float_array(y, self.name)
        y = np.asarray(y)
        if y.dtype.kind != "f":
            raise DTypeError(
                f"{self.name} has dtype {y.dtype}; {_name(loss)} needs a float {self.name}, "
                f"e.g. {self.name}.astype(np.{first.dtype.name})"
            )
        check_same_shape(first, y, _first_name(loss), self.name)
        y = y.astype(first.dtype, copy=False)
        _check_within(y, self.within, f"{_name(loss)} {self.name}", "")
        return y


@dataclass(frozen=True)
class Logits:
    """``(C,)``, ``(N, C)`` or ``(N, C, d1, …)`` logits: the class axis is axis 1 (0 unbatched)."""

    name: str = "prediction"
    weight: str = "weight"  # the loss's per-class weight attribute: None or C entries

    def check(self, x, loss, first=None) -> np.ndarray:
        check_float_array(x, self.name)
        if x.ndim == 0:
            raise ShapeError(f"{self.name} must be (C,), (N, C) or (N, C, d1, ...) logits, got a scalar")
        c = _class_count(x)
        if c == 0:
            raise ShapeError(f"{self.name} {x.shape} has no classes (C = 0); it needs C >= 1 logits")
        weight = getattr(loss, self.weight)
        if weight is not None and weight.shape != (c,):
            raise ShapeError(f"{self.weight} has {weight.shape[0]} entries but {self.name} has {c} classes")
        return x


@dataclass(frozen=True)
class Classes:
    """Class indices (an integer dtype) or class probabilities (a float dtype) for :class:`Logits`."""

    name: str = "target"
    ignore: str = "ignore_index"  # the loss attribute holding the index that marks ignored samples

    def check(self, y, loss, logits) -> np.ndarray:
        y = np.asarray(y)
        if y.dtype.kind in "iu":
            shape = _loss_shape(logits.shape)
            if y.shape != shape:
                raise ShapeError(
                    f"class-index {self.name} must have shape {shape} for prediction {logits.shape}, "
                    f"got {y.shape}"
                )
            kept = y[y != getattr(loss, self.ignore)]
            check_index_array(kept, f"{self.name} class index", _class_count(logits))
            return y.astype(np.int64, copy=False)
        if y.dtype.kind != "f":
            raise DTypeError(
                f"{self.name} has dtype {y.dtype}; give class indices (int64) or class probabilities (float)"
            )
        check_same_shape(logits, y, _first_name(loss), f"{self.name} (class probabilities)")
        if not (np.isfinite(y).all() and (y >= 0).all()):  # rows need not sum to 1 (torch)
            raise DataError(
                f"{_name(loss)} class-probability {self.name} must be finite and >= 0, got values in "
                f"[{y.min()}, {y.max()}]; pass probabilities, or class indices as ints"
            )
        return y.astype(logits.dtype, copy=False)


def _class_count(shape_or_array) -> int:
    """``C``: the length of axis 1 of batched logits, of axis 0 of one sample's ``(C,)``."""
    shape = np.shape(shape_or_array)
    return shape[0] if len(shape) == 1 else shape[1]


def _loss_shape(shape: tuple) -> tuple:
    """The per-sample loss shape of logits of ``shape``: the class axis removed."""
    return () if len(shape) == 1 else (shape[0], *shape[2:])


def check_inputs(loss, inputs: tuple, named: dict) -> tuple:
    """Check ``inputs`` (then the keywords, by name) against ``loss.input_spec``; return them.

    Each input is returned as ``forward`` computes with it: a target in the prediction's dtype,
    class indices as int64.
    """
    spec = type(loss).input_spec
    inputs = inputs + tuple(named.pop(item.name) for item in spec[len(inputs) :] if item.name in named)
    if named or len(inputs) != len(spec):
        expected = ", ".join(item.name for item in spec)
        raise TypeError(
            f"{_name(loss)} takes ({expected}), got {len(inputs)} input(s)"
            + (f" and the unknown keyword(s) {sorted(named)}" if named else "")
        )
    first = spec[0].check(inputs[0], loss)
    rest = (item.check(value, loss, first) for item, value in zip(spec[1:], inputs[1:], strict=True))
    return (first, *rest)


def _check_within(x: np.ndarray, within, where: str, hint: str) -> None:
    if within is not None and x.size and not (x.min() >= within[0] and x.max() <= within[1]):  # NaN too
        raise DataError(
            f"{where} must lie in [{within[0]}, {within[1]}]; got values in [{x.min()}, {x.max()}]" + hint
        )


def _check_fits(weight, name: str, x: np.ndarray) -> None:
    """``weight`` (or None) must broadcast to ``x`` and leave its shape as it is.

    A weight that would enlarge the loss (a ``(3, 1)`` weight against a ``(3,)`` prediction) is
    refused: the gradient could not have the prediction's shape.
    """
    if weight is None:
        return
    try:
        fits = np.broadcast_shapes(weight.shape, x.shape) == x.shape
    except ValueError:
        fits = False
    if not fits:
        raise ShapeError(
            f"{name} of shape {weight.shape} does not broadcast to prediction {x.shape} "
            f"(it may have fewer axes or axes of length 1, not more)"
        )


# -- the constructor's arguments -------------------------------------------------------------
def check_reduction(reduction) -> str:
    """``reduction`` if it is one of ``"mean"``, ``"sum"``, ``"none"``."""
    return check_choice(reduction, "reduction", REDUCTIONS)


def check_weight(weight, owner: str, what: str = "weight", *, ndim: int | None = None):
    """A loss's optional weight array (``weight`` or ``pos_weight``) as float64, finite and >= 0.

    torch accepts negative and NaN weights; they make the loss unbounded below or NaN, so tinyrec
    refuses them. ``ndim`` fixes the number of axes (1: one weight per class).
    """
    if weight is None:
        return None
    if isinstance(weight, str):
        # the first positional argument is weight (as in torch): a string there is a reduction
        raise TypeError(
            f"{owner}'s {what} must be an array of numbers, got {weight!r}; a reduction is passed by "
            f"keyword: {owner}(reduction={weight!r})"
        )
    try:
        weight = np.asarray(weight, dtype=np.float64)
    except (TypeError, ValueError):  # ragged lists, text, objects
        raise ArgumentTypeError(
            f"{owner}'s {what} must be a number or a rectangular array of numbers, got {weight!r}"
        ) from None
    if not np.all(np.isfinite(weight)):
        raise DataError(f"{owner} {what} must be finite, got {weight.tolist()}")
    if np.any(weight < 0):
        raise DataError(
            f"{owner} {what} must be >= 0 (a negative weight rewards errors), got {weight.tolist()}"
        )
    if ndim is not None and weight.ndim != ndim:
        raise ShapeError(f"{what} must be a {ndim}-D array of one weight per class, got shape {weight.shape}")
    return weight


# -- the gradient that backward receives -----------------------------------------------------
def check_grad_output(loss, grad_output, output_shape: tuple | None):
    """``grad_output`` as ``backward``'s body uses it: a float (mean, sum) or an array (none).

    ``output_shape`` is the shape of what the last forward returned (None: no forward yet). The
    default None means 1.0: the loss is the objective itself.
    """
    if output_shape is None:
        raise BackwardBeforeForwardError(
            f"{_name(loss)}.backward called before forward; call loss(prediction, target) first"
        )
    if grad_output is None:
        return 1.0
    if loss.reduction == "none":
        grad_output = np.asarray(grad_output)
        if grad_output.dtype.kind not in "biuf":
            raise ArgumentTypeError(f"grad_output must hold numbers, got dtype {grad_output.dtype}")
        if grad_output.shape != output_shape:
            raise ShapeError(
                f"{_name(loss)}(reduction='none').backward got grad_output of shape {grad_output.shape}; "
                f"it must have the per-element loss shape {output_shape}"
            )
        return grad_output
    if np.size(grad_output) != 1:
        raise ShapeError(f"grad_output of a reduced loss must be a number, got shape {np.shape(grad_output)}")
    try:
        return float(np.asarray(grad_output).reshape(-1)[0])
    except (TypeError, ValueError):
        raise ArgumentTypeError(f"grad_output must be a number, got {grad_output!r}") from None


def _name(loss) -> str:
    return type(loss).__name__


def _first_name(loss) -> str:
    return type(loss).input_spec[0].name
