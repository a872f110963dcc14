"""The optimizer base class and gradient clipping.

An optimizer holds a list of :class:`~tinyrec.nn.module.Parameter` and, per parameter, a small
``state`` dict (step count, moment estimates, ...) created at the parameter's first update.
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
    """Base class: parameter bookkeeping, ``zero_grad``, ``step`` dispatch, state saving.

    Subclasses set their hyperparameters as attributes (listed in ``_hyperparameters``, so that
    ``state_dict`` saves them and a scheduler can change ``optimizer.lr`` between steps) and
    implement ``_update_dense(data, grad, state)`` and ``_update_rows(data, grad, state)``.
    """

    _hyperparameters: tuple[str, ...] = ()

    def __init__(self, params: Iterable[Parameter]):
        if isinstance(params, Parameter):
            raise TypeError(
                "params must be an iterable of Parameters, e.g. model.parameters(); got one Parameter"
            )
        self.params = list(params)
        if not self.params:
            raise ValueError("optimizer got an empty parameter list; pass model.parameters()")
        for p in self.params:
            if not isinstance(p, Parameter):
                raise TypeError(f"optimizers take tinyrec Parameters, got {type(p).__name__}")
        if len({id(p) for p in self.params}) != len(self.params):
            raise ValueError("a Parameter appears twice in the optimizer's parameter list")
        self.state: list[dict] = [{} for _ in self.params]

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to None (torch's ``set_to_none=True``)."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        """Update every parameter that has a gradient; parameters with ``.grad = None`` are skipped."""
        for p, state in zip(self.params, self.state, strict=True):
            if p.grad is None:
                continue
            if isinstance(p.grad, RowGrad):
                _check_rows(p.grad, p.data)
                self._update_rows(p.data, p.grad, state)
            else:
                self._update_dense(p.data, p.grad, state)

    def _update_dense(self, data: np.ndarray, grad: np.ndarray, state: dict) -> None:
        raise NotImplementedError

    def _update_rows(self, data: np.ndarray, grad: RowGrad, state: dict) -> None:
        raise NotImplementedError

    # -- saving -------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """A plain dict: ``{"type", "hyperparameters": {name: number}, "state": {i: {name: value}}}``.

        ``state[i]`` belongs to the ``i``-th parameter (in the order given to the constructor) and
        holds numbers (``step``) and copies of arrays (``exp_avg``, ...); parameters not yet updated
        have no entry.
        """
        return {
            "type": type(self).__name__,
            "hyperparameters": {name: getattr(self, name) for name in self._hyperparameters},
            "state": {
                i: {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in s.items()}
                for i, s in enumerate(self.state)
                if s
            },
        }

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore hyperparameters and per-parameter state saved by :meth:`state_dict`.

        The optimizer type and the number and shapes of parameters must match; arrays are
        copied (cast to each parameter's dtype).
        """
        if state_dict.get("type") != type(self).__name__:
            raise ValueError(f"state_dict is from a {state_dict.get('type')}, not a {type(self).__name__}")
        hyper = state_dict.get("hyperparameters", {})
        unknown = sorted(set(hyper) - set(self._hyperparameters))
        if unknown:
            raise KeyError(f"unknown hyperparameters in state_dict: {unknown}")
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
        for name, value in hyper.items():
            setattr(self, name, tuple(value) if isinstance(value, list) else value)
        self.state = new_state

    def __repr__(self) -> str:
        hyper = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._hyperparameters)
        return f"{type(self).__name__}({hyper})"


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
