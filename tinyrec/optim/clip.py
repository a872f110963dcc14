"""Gradient clipping by the joint norm of all gradients (``torch.nn.utils.clip_grad_norm_``)."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from ..errors import NonFiniteError
from ..nn.module import Parameter, RowGrad


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
        The total norm ``total`` of all gradients (viewed as one vector) **before** clipping.

    Notes
    -----
    ``total = (Σ_θ ‖g_θ‖_p^p)^{1/p}`` over the parameters ``θ`` with their gradients ``g_θ``
    (``max_θ max |g_θ|`` for ``p = ∞``). Every gradient is then multiplied by
    ``min(1, max_norm / (total + 1e-6))``, as ``torch.nn.utils.clip_grad_norm_`` does.
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
