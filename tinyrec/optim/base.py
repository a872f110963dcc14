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
from collections.abc import Iterable

import numpy as np

from ..errors import IndexOutOfRangeError, NonFiniteError, ShapeError, TinyrecError
from ..nn.module import Parameter, RowGrad


class SparseGradientError(TinyrecError, ValueError):
    """An optimizer option has no lazy (row-sparse) version, and a parameter has a RowGrad."""


class Optimizer:
    """Base class: parameter groups, ``zero_grad``, ``step`` dispatch, state saving.

    ``params`` is an iterable of Parameters (one group), or of dicts, **parameter groups** as in
    torch: ``[{"params": model.body.parameters()}, {"params": model.head.parameters(), "lr": 0.1}]``;
    a hyperparameter a group does not set takes the constructor's value. ``param_groups`` is the
    list of groups (each a dict of ``"params"`` and every hyperparameter), where a scheduler or
    the user changes, say, ``optimizer.param_groups[0]["lr"]`` between steps.

    Subclasses pass their hyperparameters as ``defaults``, check a group's values in
    ``_check_group`` and implement ``_update_dense(data, grad, state, group)`` and
    ``_update_rows(data, grad, state, group)``, reading the hyperparameters from ``group``.
    """

    def __init__(self, params: Iterable, defaults: dict):
        if isinstance(params, (Parameter, dict)):
            raise TypeError(
                "params must be an iterable of Parameters (e.g. model.parameters()) or of parameter "
                f"groups (dicts); got one {type(params).__name__}"
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
        """Add a group ``{"params": [...], hyperparameter: value, ...}``; unset values take the defaults."""
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError('a parameter group is a dict with a "params" entry')
        unknown = sorted(set(group) - set(self.defaults) - {"params"})
        if unknown:
            raise ValueError(
                f"unknown hyperparameters {unknown} in a parameter group of {type(self).__name__}; "
                f"known: {sorted(self.defaults)}"
            )
        group_params = [group["params"]] if isinstance(group["params"], Parameter) else list(group["params"])
        if not group_params:
            raise ValueError("a parameter group has an empty parameter list")
        seen = {id(p) for p in self.params}
        for p in group_params:
            if not isinstance(p, Parameter):
                raise TypeError(f"optimizers take tinyrec Parameters, got {type(p).__name__}")
            if id(p) in seen:
                raise ValueError("a Parameter appears twice in the optimizer's parameters (or in two groups)")
            seen.add(id(p))
        full = {**self.defaults, **{k: v for k, v in group.items() if k != "params"}}
        self._check_group(full)
        full["params"] = group_params
        self.param_groups.append(full)
        self.params.extend(group_params)
        self.state.extend({} for _ in group_params)

    def _check_group(self, group: dict) -> None:
        """Validate (and normalise, in place) one group's hyperparameters; raise ValueError."""

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to None (torch's ``set_to_none=True``)."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        """Update every parameter that has a gradient; parameters with ``.grad = None`` are skipped."""
        states = iter(self.state)
        for group in self.param_groups:
            for p in group["params"]:
                state = next(states)
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
        match; arrays are copied (cast to each parameter's dtype).
        """
        if state_dict.get("type") != type(self).__name__:
            raise ValueError(f"state_dict is from a {state_dict.get('type')}, not a {type(self).__name__}")
        saved_groups = state_dict.get("param_groups", [])
        sizes = [len(g["params"]) for g in self.param_groups]
        saved_sizes = [len(g.get("params", [])) for g in saved_groups]
        if saved_sizes != sizes:
            raise ValueError(
                f"state_dict has parameter groups of sizes {saved_sizes}, but the optimizer's groups "
                f"have sizes {sizes}"
            )
        hypers = []
        for saved in saved_groups:
            hyper = {k: (tuple(v) if isinstance(v, list) else v) for k, v in saved.items() if k != "params"}
            unknown = sorted(set(hyper) - set(self.defaults))
            if unknown:
                raise KeyError(f"unknown hyperparameters in state_dict: {unknown}")
            hypers.append(hyper)
        new_state: list[dict] = [{} for _ in self.params]
        for key, saved in state_dict.get("state", {}).items():
            i = int(key)
            if not 0 <= i < len(self.params):
                raise KeyError(
                    f"state_dict has state for parameter {i}, but the optimizer has {len(self.params)}"
                )
            data = self.params[i].data
            for name, value in saved.items():
                if isinstance(value, np.ndarray):
                    if value.shape != data.shape:
                        raise ShapeError(
                            f"state {name!r} of parameter {i} has shape {value.shape}, "
                            f"but the parameter has shape {data.shape}"
                        )
                    value = value.astype(data.dtype, copy=True)
                new_state[i][name] = value
        for group, hyper in zip(self.param_groups, hypers, strict=True):
            group.update(hyper)
        self.state = new_state

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


def _check_nonnegative(**values: float) -> None:
    for name, value in values.items():
        if not value >= 0.0:  # also rejects NaN
            raise ValueError(f"{name} must be >= 0, got {value}")


def _check_betas(betas) -> tuple[float, float]:
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
