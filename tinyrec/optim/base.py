"""The optimizer base class: parameter groups, ``zero_grad`` and ``step``.

An optimizer holds its :class:`~tinyrec.nn.module.Parameter` objects in parameter groups (one
unless given several, as in torch), each group with its own hyperparameters, and, per parameter,
a small ``state`` dict (step count, moment estimates, ...) created at the parameter's first update.
``step()`` updates every parameter whose ``.grad`` is set, skipping those whose ``.grad`` is
``None`` (as torch does): a dense ``.grad`` gets the dense update, a
:class:`~tinyrec.nn.module.RowGrad` the **lazy** update of its rows only (a Numba kernel).

What an optimizer accepts is declared and checked in :mod:`tinyrec.optim.spec`; saving and loading
its state is :mod:`tinyrec.optim.state`.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable

import numpy as np

from ..nn.module import RowGrad
from ..validation import check_bool
from . import state as saving
from .spec import (
    SparseGradientError,
    check_gradient,
    check_group,
    check_group_params,
    check_parameters,
    check_params,
)

__all__ = ["Optimizer", "SparseGradientError"]


class Optimizer:
    """Base class: parameter groups, ``zero_grad``, ``step`` dispatch, state saving.

    ``params`` is an iterable of Parameters (one group), or of dicts, **parameter groups** as in
    torch: ``[{"params": model.body.parameters()}, {"params": model.head.parameters(), "lr": 0.1}]``;
    a hyperparameter a group does not set takes the constructor's value. ``param_groups`` holds
    those dicts themselves (filled in with the defaults), as torch does: change
    ``optimizer.param_groups[0]["lr"]`` between steps, or append a Parameter to a group's
    ``"params"``; ``optimizer.lr`` is not an attribute (each group has its own).

    A subclass declares

    * ``hyperparameters``: each name with the rule that checks it (:mod:`tinyrec.optim.spec`), and
      ``relations`` between them; the constructor passes the values as ``defaults``;
    * ``dense_only``: the options that have no lazy form, each with the fix to suggest;
    * ``_state_keys(group)``: the entries a parameter's state holds under ``group``'s values;

    and implements ``_update_dense(data, grad, state, group)`` and
    ``_update_rows(data, rows, values, state, group)`` (a RowGrad's distinct rows, in any order, and
    their gradients), reading the hyperparameters from ``group``. They
    receive checked values only: the hyperparameters and gradients are checked before.

    **Fused row-sparse steps.** ``Embedding.backward`` sums the repeats of its RowGrad at once, in
    the pass that copies its gradient (:meth:`RowGrad.from_indices`), and leaves the distinct rows
    in the order they first occur (``grad.unsorted``). With ``fused=True`` (the default) ``step``
    updates those rows as they are: one Numba kernel, no sort. With ``fused=False`` it reads
    ``grad.rows``/``grad.values`` (sorted) first: the readable path, to the same numbers (the tests
    compare them). Both call ``_update_rows(data, rows, values, state, group)``. ``fused`` has
    torch's name (``torch.optim.Adam(fused=...)``: fewer kernels for the same update).
    """

    hyperparameters: dict = {}
    relations: tuple = ()
    dense_only: dict = {}

    def __init__(self, params: Iterable, defaults: dict, *, fused: bool = True):
        self.defaults = dict(defaults)
        self.fused = check_bool(fused, "fused")
        self.param_groups: list[dict] = []
        self.params: list = []  # every parameter, group after group (state's order)
        self.state: list[dict] = []  # per parameter, created at its first update
        self._last_checked: list[dict] = []  # each group's values when last checked
        for group in check_params(params):
            self.add_param_group(group)

    def add_param_group(self, group: dict) -> None:
        """Add a group ``{"params": [...], hyperparameter: value, ...}``; unset values take the defaults.

        The dict itself is kept (and filled in), as torch does.
        """
        params = check_group_params(group)
        check_parameters([p for g in self.param_groups for p in g["params"]] + params)
        hyper = self._checked({**self.defaults, **group})  # raises before anything changes
        group.update(hyper, params=params)
        self.param_groups.append(group)
        self._sync()

    def _checked(self, group: dict) -> dict:
        """``group``'s hyperparameters (without ``"params"``), checked and normalised, in a new dict."""
        return check_group(type(self), {k: v for k, v in group.items() if k != "params"})

    def _recheck_changed_groups(self) -> None:
        """Check again the groups whose hyperparameters changed since the last check.

        A user may set ``param_groups[i]["lr"] = None`` between steps; the update would then fail
        deep inside NumPy. Checking every group at every step would cost about 20 µs per group (8%
        of a small embedding step), so only a group that differs from its copy made at its last
        check is checked (comparing two dicts costs well under 1 µs).
        """
        seen = self._last_checked
        del seen[len(self.param_groups) :]
        for i, group in enumerate(self.param_groups):
            if i < len(seen) and _same(group, seen[i]):
                continue
            group.update(self._checked(group))
            seen[i : i + 1] = [dict(group)]  # replaces seen[i], or appends it

    def _state_keys(self, group: dict) -> tuple[str, ...]:
        """The entries a parameter's (non-empty) state must hold under ``group``'s hyperparameters."""
        return ()

    def _sync(self) -> None:
        """Match ``params`` and ``state`` to the groups' parameter lists, which a user may extend."""
        flat = [p for g in self.param_groups for p in g["params"]]
        if len(flat) == len(self.params) and all(map(operator.is_, flat, self.params)):
            return
        check_parameters(flat)
        old = {id(p): s for p, s in zip(self.params, self.state, strict=True)}
        self.params = flat
        self.state = [old.get(id(p), {}) for p in flat]  # a new parameter starts with no state

    def __getattr__(self, name: str):  # only reached when the attribute does not exist
        if name in self.__dict__.get("defaults", {}):
            raise AttributeError(_per_group(self, name, "read"))
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value) -> None:
        if name in self.__dict__.get("defaults", {}):
            raise AttributeError(_per_group(self, name, "set"))
        super().__setattr__(name, value)

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to None (torch's ``set_to_none=True``)."""
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None

    def step(self) -> None:
        """Update every parameter that has a gradient; parameters with ``.grad = None`` are skipped.

        Every gradient is checked before any parameter moves (:func:`~tinyrec.optim.spec.check_gradient`).
        """
        self._sync()
        self._recheck_changed_groups()
        todo, i = [], 0  # i: the position of p in self.params and self.state
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    todo.append((p, self.state[i], group))
                i += 1
        for p, _, group in todo:
            check_gradient(self, p, group)
        for p, state, group in todo:
            grad = p.grad
            if isinstance(grad, RowGrad) and self.fused and grad.unsorted is not None:
                self._update_rows(p.data, *grad.unsorted, state, group)  # the rows as backward summed them
            elif isinstance(grad, RowGrad):
                self._update_rows(p.data, grad.rows, grad.values, state, group)  # sorted: the readable path
            else:
                self._update_dense(p.data, grad, state, group)

    def _update_dense(self, data: np.ndarray, grad: np.ndarray, state: dict, group: dict) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not implement _update_dense")

    def _update_rows(self, data: np.ndarray, rows: np.ndarray, values: np.ndarray, state: dict, group: dict):
        raise NotImplementedError(f"{type(self).__name__} does not implement _update_rows (for a RowGrad)")

    def state_dict(self) -> dict:
        """A plain dict: ``{"type", "param_groups": [...], "state": {i: {name: value}}}``.

        As torch's: each saved group holds its hyperparameters and, under ``"params"``, the
        positions of its parameters in the optimizer's order (group after group); ``state[i]``
        belongs to the ``i``-th parameter and holds numbers (``step``) and copies of arrays
        (``exp_avg``, ...); parameters not yet updated have no entry. See :mod:`tinyrec.optim.state`.
        """
        self._sync()
        return saving.save(self)

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore each group's hyperparameters and the per-parameter state saved by :meth:`state_dict`.

        The optimizer type, the number of groups, their sizes and the parameters' shapes must
        match; the hyperparameters are checked as the constructor checks them; a parameter's state
        must hold what the optimizer needs (``step`` an int >= 0, arrays of the parameter's shape);
        a state entry goes to the parameter whose id the saved group lists at that position (torch's
        rule); arrays are copied (cast to each parameter's dtype). Nothing changes when an error is
        raised.
        """
        self._sync()
        hypers, states = saving.load(self, state_dict)
        for group, hyper in zip(self.param_groups, hypers, strict=True):
            group.update(hyper)
        self.state = states

    def __repr__(self) -> str:
        def show(group):
            return ", ".join(f"{k}={v!r}" for k, v in group.items() if k != "params")

        if len(self.param_groups) == 1:
            return f"{type(self).__name__}({show(self.param_groups[0])})"
        groups = "; ".join(f"group {i}: {show(g)}" for i, g in enumerate(self.param_groups))
        return f"{type(self).__name__}({groups})"


def _same(group: dict, seen: dict) -> bool:
    """Whether ``group`` holds the values of ``seen`` (an array compared element-wise counts as changed)."""
    try:
        return group == seen
    except ValueError:
        return False


def _per_group(optimizer: Optimizer, name: str, verb: str) -> str:
    """Why ``optimizer.<name>`` (a hyperparameter) cannot be read or set: each group has its own."""
    where = f"optimizer.param_groups[i][{name!r}]"
    if verb == "read":
        fix = f"read {where} (as in torch)"
    else:
        fix = f"set {where} for each group i (as in torch); optimizer.{name} would change nothing"
    return f"{type(optimizer).__name__} keeps {name!r} per parameter group: {fix}"
