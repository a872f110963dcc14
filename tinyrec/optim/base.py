"""The optimizer base class and gradient clipping.

An optimizer holds its :class:`~tinyrec.nn.module.Parameter` objects in parameter groups (one
unless given several, as in torch), each group with its own hyperparameters, and, per parameter,
a small ``state`` dict (step count, moment estimates, ...) created at the parameter's first update.
``step()`` updates every parameter whose ``.grad`` is set, skipping those whose ``.grad`` is
``None`` (as torch does): a dense ``.grad`` gets the dense update, a
:class:`~tinyrec.nn.module.RowGrad` the **lazy** update of its rows only (a Numba kernel).
"""

from __future__ import annotations

import math
import numbers
import reprlib
from collections.abc import Iterable

import numpy as np

from ..errors import ArgumentTypeError, IndexOutOfRangeError, NonFiniteError, ShapeError, TinyrecError
from ..nn.module import Parameter, RowGrad
from ..validation import check_int_at_least, check_nonnegative


class SparseGradientError(TinyrecError, ValueError):
    """An optimizer option has no lazy (row-sparse) version, and a parameter has a RowGrad."""


class Optimizer:
    """Base class: parameter groups, ``zero_grad``, ``step`` dispatch, state saving.

    ``params`` is an iterable of Parameters (one group), or of dicts, **parameter groups** as in
    torch: ``[{"params": model.body.parameters()}, {"params": model.head.parameters(), "lr": 0.1}]``;
    a hyperparameter a group does not set takes the constructor's value. ``param_groups`` holds
    those dicts themselves (filled in with the defaults), as torch does: change
    ``optimizer.param_groups[0]["lr"]`` between steps, or append a Parameter to a group's
    ``"params"``; ``optimizer.lr`` is not an attribute (each group has its own).

    Subclasses pass their hyperparameters as ``defaults``, check one group's values in
    ``_check_group``, list the state a parameter needs in ``_state_keys`` and implement
    ``_update_dense(data, grad, state, group)`` and ``_update_rows(data, grad, state, group)``,
    reading the hyperparameters from ``group``.
    """

    def __init__(self, params: Iterable, defaults: dict):
        if isinstance(params, (Parameter, dict, set, frozenset)) or not isinstance(params, Iterable):
            raise TypeError(
                "params must be an ordered iterable of Parameters (e.g. model.parameters()) or of "
                f"parameter groups (dicts); got a {type(params).__name__}"
            )
        self.defaults = dict(defaults)
        items = list(params)
        if not items:
            raise ValueError("optimizer got an empty parameter list; pass model.parameters()")
        is_group = [isinstance(item, dict) for item in items]
        if any(is_group) and not all(is_group):
            raise TypeError("params mixes Parameters and parameter groups (dicts); use one or the other")
        self.param_groups: list[dict] = []
        self.params: list[Parameter] = []  # every parameter, group after group (state's order)
        self.state: list[dict] = []  # per parameter, created at its first update
        for group in items if all(is_group) else [{"params": items}]:
            self.add_param_group(group)

    def add_param_group(self, group: dict) -> None:
        """Add a group ``{"params": [...], hyperparameter: value, ...}``; unset values take the defaults.

        The dict itself is kept (and filled in), as torch does.
        """
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
        self._check_parameters([p for g in self.param_groups for p in g["params"]] + params)
        hyper = self._checked({**self.defaults, **group})  # raises before anything changes
        group.update(hyper)
        group["params"] = params
        self.param_groups.append(group)
        self._sync()

    def _checked(self, group: dict) -> dict:
        """``group``'s hyperparameters (without ``"params"``), checked and normalised, in a new dict."""
        hyper = {k: v for k, v in group.items() if k != "params"}
        unknown = sorted(set(hyper) - set(self.defaults))
        if unknown:
            raise ValueError(
                f"unknown hyperparameters {unknown} for {type(self).__name__}; known: {sorted(self.defaults)}"
            )
        missing = [k for k in self.defaults if k not in hyper]
        if missing:
            raise ValueError(f"a parameter group lacks {missing}; every group needs {sorted(self.defaults)}")
        self._check_group(hyper)
        return hyper

    def _recheck_changed_groups(self) -> None:
        """Check again the groups whose hyperparameters changed since the last check.

        A user may set ``param_groups[i]["lr"] = None`` between steps; the update would then fail
        deep inside NumPy. Checking every group at every step would cost about 20 µs per group (8%
        of a small embedding step), so only a group that differs from the values last checked is.
        """
        seen = getattr(self, "_last_checked", [])
        for i, group in enumerate(self.param_groups):
            hyper = {k: v for k, v in group.items() if k != "params"}
            if i >= len(seen) or hyper != seen[i]:
                group.update(self._checked(group))
        self._last_checked = [{k: v for k, v in g.items() if k != "params"} for g in self.param_groups]

    def _check_group(self, group: dict) -> None:
        """Validate (and normalise, in place) one group's hyperparameters; raise ValueError."""

    def _state_keys(self, group: dict) -> tuple[str, ...]:
        """The entries a parameter's (non-empty) state must hold under ``group``'s hyperparameters."""
        return ()

    @staticmethod
    def _check_parameters(params: list) -> None:
        for p in params:
            if not isinstance(p, Parameter):
                raise TypeError(f"optimizers take tinyrec Parameters, got {type(p).__name__}")
        if len({id(p) for p in params}) != len(params):
            raise ValueError("a Parameter appears twice in the optimizer's parameters (or in two groups)")

    def _sync(self) -> None:
        """Match ``params`` and ``state`` to the groups' parameter lists, which a user may extend."""
        flat = [p for g in self.param_groups for p in g["params"]]
        if len(flat) == len(self.params) and all(a is b for a, b in zip(flat, self.params, strict=True)):
            return
        self._check_parameters(flat)
        old = {id(p): s for p, s in zip(self.params, self.state, strict=True)}
        self.params = flat
        self.state = [old.get(id(p), {}) for p in flat]  # a new parameter starts with no state

    def __getattr__(self, name: str):  # only reached when the attribute does not exist
        if name in self.__dict__.get("defaults", {}):
            raise AttributeError(
                f"{type(self).__name__} keeps {name!r} per parameter group: read "
                f"optimizer.param_groups[i][{name!r}] (as in torch)"
            )
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value) -> None:
        if name in self.__dict__.get("defaults", {}):
            raise AttributeError(
                f"{type(self).__name__} keeps {name!r} per parameter group: set "
                f"optimizer.param_groups[i][{name!r}] for each group i (as in torch); "
                f"optimizer.{name} would change nothing"
            )
        super().__setattr__(name, value)

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to None (torch's ``set_to_none=True``)."""
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None

    def step(self) -> None:
        """Update every parameter that has a gradient; parameters with ``.grad = None`` are skipped."""
        self._sync()
        self._recheck_changed_groups()
        i = 0  # position of p in self.params and self.state
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[i]
                i += 1
                if p.grad is None:
                    continue
                if isinstance(p.grad, RowGrad):
                    _check_rows(p.grad, p.data)
                    self._update_rows(p.data, p.grad, state, group)
                else:
                    self._update_dense(p.data, p.grad, state, group)

    def _update_dense(self, data: np.ndarray, grad: np.ndarray, state: dict, group: dict) -> None:
        raise NotImplementedError

    def _update_rows(self, data: np.ndarray, grad: RowGrad, state: dict, group: dict) -> None:
        raise NotImplementedError

    # -- saving -------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """A plain dict: ``{"type", "param_groups": [...], "state": {i: {name: value}}}``.

        As torch's: each saved group holds its hyperparameters and, under ``"params"``, the
        positions of its parameters in the optimizer's order (group after group); ``state[i]``
        belongs to the ``i``-th parameter and holds numbers (``step``) and copies of arrays
        (``exp_avg``, ...); parameters not yet updated have no entry.
        """
        self._sync()
        groups, start = [], 0
        for group in self.param_groups:
            n = len(group["params"])
            hyper = {k: v for k, v in group.items() if k != "params"}
            groups.append({**hyper, "params": list(range(start, start + n))})
            start += n
        return {
            "type": type(self).__name__,
            "param_groups": groups,
            "state": {
                i: {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in s.items()}
                for i, s in enumerate(self.state)
                if s
            },
        }

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
        if not isinstance(state_dict, dict):
            raise ArgumentTypeError(
                "state_dict must be the dict an optimizer's state_dict() returns, "
                f"got a {type(state_dict).__name__}"
            )
        if "type" not in state_dict:
            raise ValueError(
                "state_dict has no 'type' entry: it is not from a tinyrec optimizer's state_dict() "
                "(a torch optimizer's state_dict needs a 'type' and tinyrec's hyperparameter names)"
            )
        if state_dict["type"] != type(self).__name__:
            raise ValueError(f"state_dict is from a {state_dict['type']}, not a {type(self).__name__}")
        saved_groups = state_dict.get("param_groups")
        if saved_groups is None and isinstance(state_dict.get("hyperparameters"), dict):  # before groups
            if len(self.param_groups) != 1:
                raise ValueError(
                    "an old state_dict (one 'hyperparameters' dict) fits one parameter group only"
                )
            saved_groups = [{**state_dict["hyperparameters"], "params": list(range(len(self.params)))}]
        if not isinstance(saved_groups, (list, tuple)):
            raise ArgumentTypeError(
                "state_dict['param_groups'] must be a list of dicts, one per parameter group (as "
                f"state_dict() saves it), got a {type(saved_groups).__name__}"
            )
        for g, saved in enumerate(saved_groups):
            if not isinstance(saved, dict) or not isinstance(saved.get("params"), (list, tuple)):
                raise ArgumentTypeError(
                    f"state_dict['param_groups'][{g}] must be a dict with a 'params' list of parameter "
                    f"ids (as state_dict() saves it), got {reprlib.repr(saved)}"
                )
        saved_sizes = [len(g["params"]) for g in saved_groups]
        sizes = [len(g["params"]) for g in self.param_groups]
        if saved_sizes != sizes:
            raise ValueError(
                f"state_dict has parameter groups of sizes {saved_sizes}, but the optimizer's groups "
                f"have sizes {sizes}"
            )
        hypers, position = [], {}  # position: saved parameter id -> index in self.params
        for g, (group, saved) in enumerate(zip(self.param_groups, saved_groups, strict=True)):
            saved_hyper = {k: (tuple(v) if isinstance(v, list) else v) for k, v in saved.items()}
            hypers.append(self._checked({**group, **saved_hyper}))
            for pid in saved["params"]:
                pid = _saved_id(pid, f"state_dict['param_groups'][{g}]['params']")
                if pid in position:
                    raise ValueError(
                        f"parameter id {pid} appears twice in state_dict['param_groups']; list each once"
                    )
                position[pid] = len(position)
        hyper_of = [
            hyper for hyper, group in zip(hypers, self.param_groups, strict=True) for _ in group["params"]
        ]
        saved_state = state_dict.get("state", {})
        if not isinstance(saved_state, dict):
            raise ArgumentTypeError(
                "state_dict['state'] must be a dict {parameter id: {name: value}} (as state_dict() "
                f"saves it), got a {type(saved_state).__name__}"
            )
        new_state: list[dict] = [{} for _ in self.params]
        for key, saved in saved_state.items():
            pid = _saved_id(key, "state_dict['state']")
            if pid not in position:
                raise KeyError(f"state_dict has state for parameter {key}, which none of its groups lists")
            i = position[pid]
            new_state[i] = self._load_param_state(
                saved, f"state_dict['state'][{key!r}]", self.params[i].data, hyper_of[i]
            )
        for group, hyper in zip(self.param_groups, hypers, strict=True):
            group.update(hyper)
        self.state = new_state

    def _load_param_state(self, saved, where: str, data: np.ndarray, group: dict) -> dict:
        """Check one parameter's saved state (``where`` names it in messages); return a copy for ``data``."""
        if not isinstance(saved, dict):
            raise ArgumentTypeError(
                f"{where} must be a dict {{name: value}} (as state_dict() saves it), "
                f"got a {type(saved).__name__}"
            )
        missing = [k for k in self._state_keys(group) if k not in saved]
        if saved and missing:
            raise ValueError(
                f"{where} lacks {missing}, which {type(self).__name__} needs with these hyperparameters; "
                "load the unchanged state_dict() of an optimizer with the same options"
            )
        state = {}
        for name, value in saved.items():
            if name == "step":
                state[name] = check_int_at_least(value, f"{where}['step']", 0)
            elif isinstance(value, np.ndarray) and value.dtype.kind in "fiu":
                if value.shape != data.shape:
                    raise ShapeError(
                        f"{where}[{name!r}] has shape {value.shape}, but the parameter has shape {data.shape}"
                    )
                state[name] = value.astype(data.dtype, copy=True)
            else:
                raise ArgumentTypeError(
                    f"{where}[{name!r}] must be a numeric array of the parameter's shape {data.shape}, "
                    f"got {reprlib.repr(value)}"
                )
        return state

    def __repr__(self) -> str:
        def show(group):
            return ", ".join(f"{k}={v!r}" for k, v in group.items() if k != "params")

        if len(self.param_groups) == 1:
            return f"{type(self).__name__}({show(self.param_groups[0])})"
        groups = "; ".join(f"group {i}: {show(g)}" for i, g in enumerate(self.param_groups))
        return f"{type(self).__name__}({groups})"


def _check_rows(grad: RowGrad, data: np.ndarray) -> None:
    """The row kernels write ``data[rows]`` unchecked: rows must be inside the table (O(1): sorted)."""
    if data.ndim != 2:
        raise ShapeError(f"a RowGrad needs a 2-D table, but the parameter has shape {data.shape}")
    rows = grad.rows
    if rows.size and (rows[0] < 0 or rows[-1] >= data.shape[0]):
        raise IndexOutOfRangeError(
            f"RowGrad rows span [{rows[0]}, {rows[-1]}], outside the table's rows [0, {data.shape[0]}); "
            "build it with RowGrad.from_indices from valid indices"
        )


def _saved_id(value, where: str) -> int:
    """A parameter id of a state_dict: an int (NumPy's count), not a bool or a string."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ArgumentTypeError(
            f"{where} holds the parameter id {value!r}; ids must be ints, as state_dict() saves them"
        )
    return int(value)


def _check_nonnegative(**values) -> None:
    """Each value must be a finite real number >= 0 (:func:`tinyrec.validation.check_nonnegative`)."""
    for name, value in values.items():
        check_nonnegative(value, name)


def _check_betas(betas) -> tuple[float, float]:
    if isinstance(betas, (str, bytes)) or np.ndim(betas) != 1 or len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    _check_nonnegative(**{"betas[0]": betas[0], "betas[1]": betas[1]})
    beta1, beta2 = (float(b) for b in betas)
    for i, b in enumerate((beta1, beta2)):
        if not 0.0 <= b < 1.0:
            raise ValueError(f"betas[{i}] must be in [0, 1), got {b}")
    return beta1, beta2


def clip_grad_norm_(
    params: Iterable[Parameter], max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False
) -> float:
    """Rescale gradients in place so that their joint norm is at most ``max_norm``; torch semantics.

    Parameters
    ----------
    params : iterable of Parameter
        Parameters with ``.grad = None`` are skipped. A RowGrad counts its ``values`` (the rows it
        does not hold are zero).
    max_norm : float
    norm_type : float, default 2.0
        ``p`` of the p-norm; ``float("inf")`` for the max-norm.
    error_if_nonfinite : bool, default False
        Raise :class:`~tinyrec.errors.NonFiniteError` when the total norm is NaN or inf.

    Returns
    -------
    float
        The total norm ``N`` of all gradients (viewed as one vector) **before** clipping.

    Notes
    -----
    ``N = (Σ_p ‖g_p‖_q^q)^{1/q}`` (``max_p max |g_p|`` for ``q = ∞``). Every gradient is then
    multiplied by ``min(1, max_norm / (N + 1e-6))``, as ``torch.nn.utils.clip_grad_norm_`` does.
    """
    norm_type = float(norm_type)
    grads = []
    for p in params:
        if p.grad is not None:
            grads.append(p.grad.values if isinstance(p.grad, RowGrad) else p.grad)
    if not grads:
        return 0.0
    if math.isinf(norm_type):
        total = max(float(np.abs(g).max(initial=0.0)) for g in grads)
    else:
        norms = [np.linalg.norm(g.reshape(-1).astype(np.float64, copy=False), ord=norm_type) for g in grads]
        total = float(np.linalg.norm(np.array(norms), ord=norm_type))
    if error_if_nonfinite and not math.isfinite(total):
        raise NonFiniteError(f"the total norm of the gradients is {total}; cannot clip them")
    coef = min(1.0, float(max_norm) / (total + 1e-6))
    for g in grads:
        g *= coef
    return total
