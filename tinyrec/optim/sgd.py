"""Stochastic gradient descent with momentum, Nesterov momentum and weight decay (torch semantics)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..kernels.optim import sgd_rows
from ..nn.module import Parameter
from ..validation import check_bool, check_nonnegative
from .base import Optimizer
from .spec import Relation, in_range


class SGD(Optimizer):
    """SGD, as ``torch.optim.SGD``.

    Parameters
    ----------
    params : iterable of Parameter, or of parameter groups (dicts)
        E.g. ``model.parameters()``; see :class:`~tinyrec.optim.base.Optimizer` for groups.
    lr : float, default 1e-3
        Learning rate ``η`` (torch's default since 2.0).
    momentum : float, default 0
        Momentum factor.
    dampening : float in [0, 1], default 0
        Dampening of the momentum.
    weight_decay : float, default 0
        L2 penalty ``λ`` added to the gradient.
    nesterov : bool, default False
        Nesterov momentum (needs ``momentum > 0`` and ``dampening = 0``).

    Notes
    -----
    For a parameter ``θ`` with gradient ``g`` at step ``t`` (dense gradient)::

        g ← g + λ θ
        buf ← g                     at the first step,   buf ← momentum · buf + (1 − dampening) g   after
        g ← g + momentum · buf  (nesterov)     or   g ← buf   (momentum > 0)
        θ ← θ − η g

    (``buf`` the momentum buffer. torch's documentation writes ``μ``, ``τ`` and ``b`` for
    ``momentum``, ``dampening`` and ``buf``; in tinyrec ``μ`` is the global mean rating and ``b`` a
    bias, see ``docs/notation.md``.)

    **Row-sparse gradients** (:class:`~tinyrec.nn.module.RowGrad`): only the present rows are
    updated, ``θ_r ← θ_r − η (g_r + λ θ_r)`` (a Numba kernel). The weight decay is thus applied
    lazily, to the rows in the batch only (torch raises for weight decay with sparse gradients).
    Momentum has no lazy form (torch's sparse momentum buffer keeps moving every row it has ever
    seen, which is the dense update), so ``momentum > 0`` with a RowGrad raises
    :class:`~tinyrec.optim.spec.SparseGradientError`: use ``momentum=0`` or :class:`Adam` there.
    ``fused`` (keyword, default True): an embedding's RowGrad is applied as its backward summed it,
    unsorted (:class:`~tinyrec.optim.base.Optimizer`); ``fused=False`` sorts it first, same numbers.
    """

    hyperparameters = {
        "lr": check_nonnegative,
        "momentum": check_nonnegative,
        "dampening": in_range(0, 1),
        "weight_decay": check_nonnegative,
        "nesterov": check_bool,
    }
    relations = (
        Relation(
            lambda g: not g["nesterov"] or (g["momentum"] > 0 and g["dampening"] == 0),
            "Nesterov momentum requires momentum > 0 and dampening = 0",
        ),
    )
    dense_only = {
        "momentum": "use SGD(momentum=0) or Adam for embedding tables (or a parameter group of its own "
        "with momentum 0)"
    }

    def __init__(
        self,
        params: Iterable[Parameter] | Iterable[dict],
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        fused: bool = True,
    ):
        defaults = dict(
            lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov, weight_decay=weight_decay
        )
        super().__init__(params, defaults, fused=fused)

    def _state_keys(self, group: dict) -> tuple[str, ...]:
        return ()  # a state without "momentum_buffer" starts a new one, as at the first step

    def _update_dense(self, data: np.ndarray, grad: np.ndarray, state: dict, group: dict) -> None:
        momentum = group["momentum"]
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * data
        if momentum:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.array(grad, dtype=data.dtype, copy=True)
            else:
                buf *= momentum
                buf += (1.0 - group["dampening"]) * grad
            grad = grad + momentum * buf if group["nesterov"] else buf
        data -= group["lr"] * grad

    def _update_rows(self, data: np.ndarray, rows: np.ndarray, values: np.ndarray, state: dict, group: dict):
        c = data.dtype.type  # scalars in the table's dtype keep the kernel's arithmetic in it
        sgd_rows(data, rows, values.astype(data.dtype, copy=False), c(group["lr"]), c(group["weight_decay"]))
