"""Adagrad, dense and lazy row-sparse (torch semantics)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..kernels.optim import adagrad_rows
from ..nn.module import Parameter, RowGrad
from .base import Optimizer, _check_nonnegative


class Adagrad(Optimizer):
    """Adagrad (Duchi, Hazan & Singer, JMLR 2011), as ``torch.optim.Adagrad``.

    Parameters
    ----------
    params : iterable of Parameter
        E.g. ``model.parameters()``.
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
    """

    _hyperparameters = ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps")

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
    ):
        _check_nonnegative(
            lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value, eps=eps,
        )  # fmt: skip
        super().__init__(params)
        self.lr = float(lr)
        self.lr_decay = float(lr_decay)
        self.weight_decay = float(weight_decay)
        self.initial_accumulator_value = float(initial_accumulator_value)
        self.eps = float(eps)

    def _begin_step(self, data: np.ndarray, state: dict) -> float:
        """Create the state at the first update; return this step's learning rate ``η_t``."""
        if not state:
            state["step"] = 0
            state["sum"] = np.full_like(data, self.initial_accumulator_value)
        state["step"] += 1
        return self.lr / (1.0 + (state["step"] - 1) * self.lr_decay)

    def _update_dense(self, data: np.ndarray, grad: np.ndarray, state: dict) -> None:
        clr = self._begin_step(data, state)
        if self.weight_decay:
            grad = grad + self.weight_decay * data
        s = state["sum"]
        s += grad * grad
        data -= clr * (grad / (np.sqrt(s) + self.eps))

    def _update_rows(self, data: np.ndarray, grad: RowGrad, state: dict) -> None:
        clr = self._begin_step(data, state)
        values = grad.values
        if self.weight_decay:
            values = values + self.weight_decay * data[grad.rows]  # (m, dim)
        c = data.dtype.type  # scalars in the table's dtype keep the kernel's arithmetic in it
        adagrad_rows(data, state["sum"], grad.rows, values, c(clr), c(self.eps))
