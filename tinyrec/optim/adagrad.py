"""Adagrad, dense and lazy row-sparse (torch semantics)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..kernels.optim import adagrad_rows
from ..nn.module import Parameter
from ..validation import check_nonnegative
from .base import Optimizer


class Adagrad(Optimizer):
    """Adagrad (Duchi, Hazan & Singer, JMLR 2011), as ``torch.optim.Adagrad``.

    Parameters
    ----------
    params : iterable of Parameter, or of parameter groups (dicts)
        E.g. ``model.parameters()``; see :class:`~tinyrec.optim.base.Optimizer` for groups.
    lr : float, default 1e-2
        Learning rate ``η``.
    lr_decay : float, default 0
        The learning rate at step ``t`` is ``η_t = η / (1 + (t − 1) · lr_decay)``.
    weight_decay : float, default 0
        L2 penalty ``λ`` added to the gradient.
    initial_accumulator_value : float, default 0
        Starting value of the sum of squared gradients ``s``.
    eps : float, default 1e-10
        Added to the denominator.

    Notes
    -----
    Each parameter keeps its step count ``t`` and ``s`` (same shape as ``θ``). Dense gradient::

        t ← t + 1;   g ← g + λ θ;   s ← s + g²;   θ ← θ − η_t · g / (√s + eps)

    **Row-sparse gradients** (:class:`~tinyrec.nn.module.RowGrad`), as torch's sparse Adagrad: the
    same update on the present rows only (a Numba kernel); ``t`` counts the parameter's steps. A
    nonzero ``weight_decay`` adds ``λ θ_r`` to the present rows only (torch raises there).
    ``fused`` (keyword, default True): an embedding's RowGrad is applied as its backward summed it,
    unsorted (:class:`~tinyrec.optim.base.Optimizer`); ``fused=False`` sorts it first, same numbers.

    With parameter groups, ``s`` starts at the group's ``initial_accumulator_value``; torch
    creates every ``s`` in its constructor from the constructor's value and ignores a group's.
    """

    hyperparameters = {
        "lr": check_nonnegative,
        "lr_decay": check_nonnegative,
        "weight_decay": check_nonnegative,
        "initial_accumulator_value": check_nonnegative,
        "eps": check_nonnegative,
    }

    def __init__(
        self,
        params: Iterable[Parameter] | Iterable[dict],
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        *,
        fused: bool = True,
    ):
        defaults = dict(
            lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value, eps=eps,
        )  # fmt: skip
        super().__init__(params, defaults, fused=fused)

    def _state_keys(self, group: dict) -> tuple[str, ...]:
        return ("step", "sum")

    @staticmethod
    def _begin_step(data: np.ndarray, state: dict, group: dict) -> float:
        """Create the state at the first update; return this step's learning rate ``η_t``."""
        if not state:
            state["step"] = 0
            state["sum"] = np.full_like(data, group["initial_accumulator_value"])
        state["step"] += 1
        return group["lr"] / (1.0 + (state["step"] - 1) * group["lr_decay"])

    def _update_dense(self, data: np.ndarray, grad: np.ndarray, state: dict, group: dict) -> None:
        clr = self._begin_step(data, state, group)
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * data
        s = state["sum"]
        s += grad * grad
        data -= clr * (grad / (np.sqrt(s) + group["eps"]))

    def _update_rows(self, data: np.ndarray, rows: np.ndarray, values: np.ndarray, state: dict, group: dict):
        clr = self._begin_step(data, state, group)
        c = data.dtype.type  # scalars in the table's dtype keep the kernel's arithmetic in it
        adagrad_rows(data, state["sum"], rows, values.astype(data.dtype, copy=False), c(clr), c(group["eps"]),
                     c(group["weight_decay"]))  # fmt: skip
