"""Adam and AdamW, dense and lazy row-sparse (``torch.optim.SparseAdam`` semantics)."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from ..kernels.optim import adam_rows
from ..nn.module import Parameter
from ..validation import check_bool, check_nonnegative
from .base import Optimizer
from .spec import check_betas


class Adam(Optimizer):
    """Adam (Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015), as ``torch.optim.Adam``.

    Parameters
    ----------
    params : iterable of Parameter, or of parameter groups (dicts)
        E.g. ``model.parameters()``; see :class:`~tinyrec.optim.base.Optimizer` for groups.
    lr : float, default 1e-3
        Learning rate ``η``.
    betas : (float, float), default (0.9, 0.999)
        Decay rates ``β1, β2`` of the first and second moment estimates.
    eps : float, default 1e-8
        Added to the denominator.
    weight_decay : float, default 0
        L2 penalty ``λ`` added to the gradient (see :class:`AdamW` for the decoupled form).
    amsgrad : bool, default False
        Use the running maximum of ``v`` in the denominator (dense gradients only).

    Notes
    -----
    Each parameter keeps its own step count ``t`` and moments ``m``, ``v`` (zeros at first).
    Dense gradient ``g``::

        t ← t + 1;   g ← g + λ θ
        m ← β1 m + (1 − β1) g;        v ← β2 v + (1 − β2) g²
        θ ← θ − (η / (1 − β1^t)) · m / (√v / √(1 − β2^t) + eps)

    **Row-sparse gradients** (:class:`~tinyrec.nn.module.RowGrad`): the lazy update of
    ``torch.optim.SparseAdam``. Only the present rows of ``m``, ``v`` and ``θ`` change; ``t`` is the
    parameter's step count (incremented once per ``step``, whatever rows are present)::

        m_r ← β1 m_r + (1 − β1) g_r;  v_r ← β2 v_r + (1 − β2) g_r²
        θ_r ← θ_r − η √(1 − β2^t) / (1 − β1^t) · m_r / (√v_r + eps)

    (``eps`` enters unscaled by the bias correction there, as in torch). A nonzero
    ``weight_decay`` adds ``λ θ_r`` to the present rows' gradients only (SparseAdam has no weight
    decay). ``amsgrad`` with a RowGrad raises :class:`~tinyrec.optim.spec.SparseGradientError`.
    ``fused`` (keyword, default True): an embedding's RowGrad is applied as its backward summed it,
    unsorted (:class:`~tinyrec.optim.base.Optimizer`); ``fused=False`` sorts it first, same numbers.
    """

    hyperparameters = {
        "lr": check_nonnegative,
        "betas": check_betas,
        "eps": check_nonnegative,
        "weight_decay": check_nonnegative,
        "amsgrad": check_bool,
    }
    dense_only = {
        "amsgrad": "use amsgrad=False for parameters with a RowGrad (torch.optim.SparseAdam has no "
        "amsgrad either)"
    }
    _decoupled = False  # AdamW: True

    def __init__(
        self,
        params: Iterable[Parameter] | Iterable[dict],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        fused: bool = True,
    ):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)
        super().__init__(params, defaults, fused=fused)

    def _state_keys(self, group: dict) -> tuple[str, ...]:
        return ("step", "exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if group["amsgrad"] else ())

    @staticmethod
    def _begin_step(data: np.ndarray, state: dict, amsgrad: bool) -> int:
        """Create the state at the first update; count the step and return ``t``."""
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(data)
            state["exp_avg_sq"] = np.zeros_like(data)
            if amsgrad:
                state["max_exp_avg_sq"] = np.zeros_like(data)
        state["step"] += 1
        return state["step"]

    def _update_dense(self, data: np.ndarray, grad: np.ndarray, state: dict, group: dict) -> None:
        lr, weight_decay, amsgrad = group["lr"], group["weight_decay"], group["amsgrad"]
        t = self._begin_step(data, state, amsgrad)
        beta1, beta2 = group["betas"]
        if self._decoupled and weight_decay:
            data *= 1.0 - lr * weight_decay
        elif weight_decay:
            grad = grad + weight_decay * data
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m += (grad - m) * (1.0 - beta1)
        v *= beta2
        v += (1.0 - beta2) * grad * grad
        if amsgrad:
            np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]
        step_size = lr / (1.0 - beta1**t)
        denom = np.sqrt(v) / math.sqrt(1.0 - beta2**t) + group["eps"]
        data -= step_size * (m / denom)

    def _update_rows(self, data: np.ndarray, rows: np.ndarray, values: np.ndarray, state: dict, group: dict):
        lr, weight_decay = group["lr"], group["weight_decay"]
        t = self._begin_step(data, state, False)
        beta1, beta2 = group["betas"]
        decay, l2 = (1.0 - lr * weight_decay, 0.0) if self._decoupled else (1.0, weight_decay)
        step_size = lr * math.sqrt(1.0 - beta2**t) / (1.0 - beta1**t)
        c = data.dtype.type  # scalars in the table's dtype keep the kernel's arithmetic in it
        coefficients = (c(1.0 - beta1), c(1.0 - beta2), c(group["eps"]), c(step_size), c(l2), c(decay))
        adam_rows(data, state["exp_avg"], state["exp_avg_sq"], rows, values.astype(data.dtype, copy=False),
                  coefficients)  # fmt: skip


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, ICLR 2019), as ``torch.optim.AdamW``.

    Parameters are those of :class:`Adam`, except ``weight_decay`` defaults to ``1e-2``.

    Notes
    -----
    Before the Adam update (of :class:`Adam`, with ``λ = 0`` in the gradient), the parameter
    decays: ``θ ← θ (1 − η λ)``. With a RowGrad only the present rows decay (lazily).
    """

    _decoupled = True

    def __init__(
        self,
        params: Iterable[Parameter] | Iterable[dict],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        fused: bool = True,
    ):
        super().__init__(
            params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, fused=fused
        )
