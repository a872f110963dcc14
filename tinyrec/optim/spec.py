"""What an optimizer accepts, declared once, and the checks that enforce it at its boundary.

An optimizer's update (``_update_dense``, ``_update_rows``) holds its math alone: every value it
reads was checked before, here, by :class:`~tinyrec.optim.base.Optimizer`.

* **Hyperparameters.** A subclass declares each one with the function that checks it, and the
  rules that relate several::

      class SGD(Optimizer):
          hyperparameters = {"lr": check_nonnegative, "dampening": in_range(0, 1), ...}
          relations = (Relation(lambda g: ..., "Nesterov momentum requires momentum > 0 ..."),)

  A rule takes ``(value, name)`` and returns the value normalised (``lr=1`` becomes ``1.0``) or
  raises an error naming it (:mod:`tinyrec.validation`). :func:`check_group` applies them to a
  parameter group: at construction, in ``add_param_group``, in ``load_state_dict`` and at ``step()``
  for a group changed since its last check.
* **Parameters.** :func:`check_params`, :func:`check_group_params` and :func:`check_parameters` read
  the ``params`` argument (Parameters or parameter groups, torch's forms).
* **Gradients.** :func:`check_gradient` refuses, before any parameter moves, a ``.grad`` the update
  would misread: the wrong shape or type, a RowGrad that does not fit its table, or a RowGrad under
  an option the subclass lists in ``dense_only`` (it has no lazy form).
* **Loaded containers.** :class:`Record`, :class:`ListOf`, :class:`DictOf`, :class:`Id`,
  :class:`Count`, :class:`Array` and :class:`Equal` describe a nested dict (the ``state_dict``
  layout of :mod:`tinyrec.optim.state`); :func:`check_layout` checks a value against such a
  description and names the entry at fault by its path (``state_dict['state'][0]['step']``).
"""

from __future__ import annotations

import numbers
import reprlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from ..errors import ArgumentTypeError, DTypeError, IndexOutOfRangeError, ShapeError, TinyrecError
from ..nn.module import Parameter, RowGrad
from ..validation import check_in_range, check_int_at_least, check_nonnegative


class SparseGradientError(TinyrecError, ValueError):
    """An optimizer option has no lazy (row-sparse) version, and a parameter has a RowGrad."""


# -- hyperparameters ----------------------------------------------------------------------------
class Relation(NamedTuple):
    """A rule between hyperparameters: ``holds(group)`` must be true, else ``ValueError(message)``."""

    holds: Callable[[dict], bool]
    message: str


def in_range(low: float, high: float) -> Callable:
    """The rule "a finite number in ``[low, high]``" (:func:`tinyrec.validation.check_in_range`)."""
    return lambda value, name: check_in_range(value, name, low, high)


def check_betas(value, name: str) -> tuple[float, float]:
    """The rule of Adam's ``betas``: a pair of numbers in ``[0, 1)``, returned as a tuple of floats."""
    if isinstance(value, (str, bytes)) or _ndim(value) != 1 or len(value) != 2:
        raise ValueError(f"{name} must be a pair (beta1, beta2), got {value!r}")
    betas = tuple(check_nonnegative(b, f"{name}[{i}]") for i, b in enumerate(value))
    for i, b in enumerate(betas):
        if b >= 1.0:
            raise ValueError(f"{name}[{i}] must be in [0, 1), got {b}")
    return betas


def _ndim(value) -> int:
    """``np.ndim(value)``, or -1 where NumPy cannot tell (a ragged list)."""
    try:
        return np.ndim(value)
    except ValueError:
        return -1


def check_group(optimizer_class: type, hyper: dict) -> dict:
    """``hyper`` (one group's hyperparameters) checked against the class's declared rules.

    Returns a new dict of the normalised values; raises naming the first value at fault.
    """
    rules = optimizer_class.hyperparameters
    unknown = sorted(set(hyper) - set(rules))
    if unknown:
        raise ValueError(
            f"unknown hyperparameters {unknown} for {optimizer_class.__name__}; known: {sorted(rules)}"
        )
    missing = [name for name in rules if name not in hyper]
    if missing:
        raise ValueError(f"a parameter group lacks {missing}; every group needs {sorted(rules)}")
    checked = {name: rule(hyper[name], name) for name, rule in rules.items()}
    for relation in optimizer_class.relations:
        if not relation.holds(checked):
            raise ValueError(relation.message)
    return checked


# -- parameters ---------------------------------------------------------------------------------
def check_params(params) -> list:
    """The constructor's ``params`` as a list of groups: its dicts, or one group of its Parameters."""
    if isinstance(params, (Parameter, dict, set, frozenset)) or not isinstance(params, Iterable):
        raise TypeError(
            "params must be an ordered iterable of Parameters (e.g. model.parameters()) or of "
            f"parameter groups (dicts); got a {type(params).__name__}"
        )
    items = list(params)
    if not items:
        raise ValueError("optimizer got an empty parameter list; pass model.parameters()")
    is_group = [isinstance(item, dict) for item in items]
    if any(is_group) and not all(is_group):
        raise TypeError("params mixes Parameters and parameter groups (dicts); use one or the other")
    return items if all(is_group) else [{"params": items}]


def check_group_params(group) -> list:
    """The ``"params"`` entry of a parameter group, as a non-empty list."""
    if not isinstance(group, dict) or "params" not in group:
        raise TypeError('a parameter group is a dict with a "params" entry')
    params = group["params"]
    if isinstance(params, (set, frozenset)):
        raise TypeError("a group's params must be an ordered collection (a list), not a set")
    if not isinstance(params, (Parameter, Iterable)):
        raise TypeError(
            f"a group's params must be a Parameter or a list of Parameters, got a {type(params).__name__}"
        )
    params = [params] if isinstance(params, Parameter) else list(params)
    if not params:
        raise ValueError("a parameter group has an empty parameter list")
    return params


def check_parameters(params: list) -> None:
    """Every item is a Parameter, and none appears twice (in one group or in two)."""
    for p in params:
        if not isinstance(p, Parameter):
            raise TypeError(f"optimizers take tinyrec Parameters, got {type(p).__name__}")
    if len({id(p) for p in params}) != len(params):
        raise ValueError("a Parameter appears twice in the optimizer's parameters (or in two groups)")


# -- gradients ----------------------------------------------------------------------------------
def check_gradient(optimizer, p: Parameter, group: dict) -> None:
    """Refuse ``p.grad`` (of a parameter of ``optimizer``, in ``group``) if the update would misread it.

    A dense gradient is a real array of the parameter's shape (never broadcast). A RowGrad belongs
    to a 2-D table of its width, its rows (sorted, as RowGrad keeps them) inside the table, and
    needs every option of ``optimizer.dense_only`` off in ``group``. The data is not read, only
    shapes, dtypes and the first and last row (of a RowGrad not yet sorted, the smallest and
    largest row, which :meth:`RowGrad.from_indices` found).
    """
    grad, data = p.grad, p.data
    if isinstance(grad, RowGrad):
        if data.ndim != 2 or grad.dim != data.shape[1]:
            raise ShapeError(
                f"{_where(optimizer, p)} has a RowGrad of width {grad.dim}; a RowGrad needs a 2-D "
                "table of that width (an embedding table): give other parameters a dense gradient"
            )
        span = grad.span()  # (first, last) row; an unsorted RowGrad's min and max row
        if span is not None and (span[0] < 0 or span[1] >= data.shape[0]):
            raise IndexOutOfRangeError(
                f"RowGrad rows span [{span[0]}, {span[1]}], outside the table's rows [0, {data.shape[0]}) "
                f"of {_where(optimizer, p)}; build it with RowGrad.from_indices from valid indices"
            )
        for option, fix in optimizer.dense_only.items():
            if group[option]:
                raise SparseGradientError(
                    f"{type(optimizer).__name__}'s {option}={group[option]!r} has no lazy row-sparse "
                    f"version, and {_where(optimizer, p)} has a RowGrad (an embedding table); {fix}"
                )
    elif not isinstance(grad, np.ndarray):
        raise ArgumentTypeError(
            f"{_where(optimizer, p)} has a .grad of type {type(grad).__name__}; set it to a NumPy array "
            "of the parameter's shape (np.asarray), a RowGrad for an embedding table, or None to skip it"
        )
    elif grad.shape != data.shape:
        raise ShapeError(
            f"{_where(optimizer, p)} has a .grad of shape {grad.shape}; a gradient has the parameter's "
            "shape (sum it over the batch; it is never broadcast)"
        )
    if grad.dtype.kind not in "fiu":
        raise DTypeError(
            f"{_where(optimizer, p)} has a .grad of dtype {grad.dtype}; a gradient holds real numbers: "
            f"cast it with .astype(np.{data.dtype.name})"
        )


def _where(optimizer, p: Parameter) -> str:
    i = next(i for i, q in enumerate(optimizer.params) if q is p)
    return f"parameter {i} (optimizer.params[{i}], shape {p.data.shape})"


# -- loaded containers --------------------------------------------------------------------------
def check_layout(node, value, where: str):
    """``value`` checked against ``node`` (None: anything), normalised; ``where`` names it in errors."""
    return value if node is None else node.check(value, where)


def _wrong(where: str, what: str, value) -> ArgumentTypeError:
    return ArgumentTypeError(f"{where} must be {what}, got a {type(value).__name__}: {reprlib.repr(value)}")


@dataclass(frozen=True)
class Record:
    """A dict holding the ``required`` entries, and maybe the ``optional`` ones: each checked by its node.

    The other entries are checked by ``rest`` (None: kept as they are). ``what`` describes the dict
    in messages.
    """

    what: str
    required: dict = field(default_factory=dict)
    optional: dict = field(default_factory=dict)
    rest: object = None

    def check(self, value, where: str) -> dict:
        if not isinstance(value, dict):
            raise _wrong(where, self.what, value)
        missing = [name for name in self.required if name not in value]
        if missing:
            raise ArgumentTypeError(f"{where} must be {self.what}; it lacks {missing}")
        nodes = {**self.required, **self.optional}
        return {k: check_layout(nodes.get(k, self.rest), v, f"{where}[{k!r}]") for k, v in value.items()}


@dataclass(frozen=True)
class ListOf:
    """A list (or tuple) of items, each checked by ``item``; returned as a list."""

    item: object
    what: str

    def check(self, value, where: str) -> list:
        if not isinstance(value, (list, tuple)):
            raise _wrong(where, self.what, value)
        return [check_layout(self.item, v, f"{where}[{i}]") for i, v in enumerate(value)]


@dataclass(frozen=True)
class DictOf:
    """A dict whose keys are checked by ``key`` and values by ``value``."""

    key: object
    value: object
    what: str

    def check(self, value, where: str) -> dict:
        if not isinstance(value, dict):
            raise _wrong(where, self.what, value)
        keys = [check_layout(self.key, k, f"a key of {where}") for k in value]
        pairs = zip(keys, value.values(), strict=True)
        return {k: check_layout(self.value, v, f"{where}[{k!r}]") for k, v in pairs}


@dataclass(frozen=True)
class Id:
    """A parameter id: an int (Python's or NumPy's), not a bool, a float or a string."""

    def check(self, value, where: str) -> int:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
            raise ArgumentTypeError(
                f"{where} is the parameter id {value!r}; ids must be ints, as state_dict() saves them"
            )
        return int(value)


@dataclass(frozen=True)
class Equal:
    """The one value ``value`` (``why`` says what it means)."""

    value: object
    why: str

    def check(self, value, where: str):
        if type(value) is not type(self.value) or value != self.value:
            raise ValueError(f"{where} must be {self.value!r} ({self.why}), got {value!r}")
        return value


@dataclass(frozen=True)
class Count:
    """An int >= 0 (a step count)."""

    def check(self, value, where: str) -> int:
        return check_int_at_least(value, where, 0)


@dataclass(frozen=True)
class Array:
    """A numeric array of ``shape``, returned as a copy in ``dtype``."""

    shape: tuple
    dtype: np.dtype

    def check(self, value, where: str) -> np.ndarray:
        if not isinstance(value, np.ndarray) or value.dtype.kind not in "fiu":
            raise ArgumentTypeError(
                f"{where} must be a numeric array of the parameter's shape {self.shape}, "
                f"got {reprlib.repr(value)}"
            )
        if value.shape != self.shape:
            raise ShapeError(f"{where} has shape {value.shape}, but the parameter has shape {self.shape}")
        return value.astype(self.dtype, copy=True)
