"""Binary cross-entropy: :class:`BCELoss` on probabilities, :class:`BCEWithLogitsLoss` on raw scores."""

from __future__ import annotations

import numpy as np

from .base import Loss
from .checks import Scores, Target, check_weight


def _log_sigmoid(x: np.ndarray) -> np.ndarray:
    """``log σ(x) = -softplus(-x) = min(x, 0) - log(1 + exp(-|x|))``, finite for any finite x."""
    return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """``σ(x) = 1 / (1 + exp(-x))`` without overflow: ``exp`` only ever sees ``-|x|``."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


_RAW_SCORES = "; pass raw scores to BCEWithLogitsLoss instead"


def _in_dtype(weight, dtype):
    """An optional weight array in ``dtype``; ``1.0`` (no rescaling) when there is none."""
    return 1.0 if weight is None else weight.astype(dtype)


class BCELoss(Loss):
    """Binary cross-entropy on probabilities, as ``torch.nn.BCELoss``.

    Parameters
    ----------
    weight : array, optional
        A rescaling weight ``w_n >= 0`` of each element's loss, broadcast against the prediction,
        as torch's ``weight`` (e.g. ``(n_outputs,)`` for ``(batch, n_outputs)``); torch also
        accepts negative weights, tinyrec refuses them. It may not enlarge the prediction's shape.
    reduction : {"mean", "sum", "none"}, default "mean"

    Notes
    -----
    For probabilities ``p ∈ [0, 1]`` and targets ``y ∈ [0, 1]`` of the same shape,

        ℓ_n = −[ y_n · max(log p_n, −100) + (1 − y_n) · max(log(1 − p_n), −100) ]

    (the logs are clamped at −100 as torch does, so ``p = 0`` or ``1`` gives a finite loss), times
    ``w_n`` when ``weight`` is given; the mean divides by the number of elements either way.

    Gradient, exactly as torch computes it:
    ``∂ℓ_n/∂p_n = w_n (p_n − y_n) / max(p_n (1 − p_n), eps)`` with ``eps`` = 1e-12 rounded to
    float32 (torch's constant is a C ``float``).
    Prefer :class:`BCEWithLogitsLoss` on raw scores: it is exact where this one saturates.
    """

    input_spec = (
        Scores("prediction", within=(0, 1), hint=_RAW_SCORES, weights=("weight",)),
        Target("target", within=(0, 1)),
    )
    _EPS = float(np.float32(1e-12))  # 9.99999996e-13, as torch

    def __init__(self, weight=None, *, reduction: str = "mean"):
        super().__init__(reduction=reduction)
        self.weight = check_weight(weight, "BCELoss")

    def forward(self, prediction: np.ndarray, target: np.ndarray):
        p, y, w = prediction, target, _in_dtype(self.weight, prediction.dtype)
        with np.errstate(divide="ignore"):
            log_p = np.maximum(np.log(p), -100)
            log_1mp = np.maximum(np.log1p(-p), -100)
        self._p, self._y, self._w = p, y, w
        return self._reduce(-(y * log_p + (1 - y) * log_1mp) * w)

    def backward(self, grad_output=None) -> np.ndarray:
        p, y, w = self._p, self._y, self._w
        return (p - y) / np.maximum(p * (1 - p), self._EPS) * w * self._upstream(grad_output)

    def extra_repr(self) -> str:
        weight = "" if self.weight is None else f", weight={self.weight.tolist()}"
        return super().extra_repr() + weight


class BCEWithLogitsLoss(Loss):
    """Sigmoid + binary cross-entropy in one stable step, as ``torch.nn.BCEWithLogitsLoss``.

    Parameters
    ----------
    weight : array, optional
        A rescaling weight ``w_n >= 0`` of each element's loss, broadcast against the prediction,
        as torch's ``weight``; the mean still divides by the number of elements.
    reduction : {"mean", "sum", "none"}, default "mean"
    pos_weight : array or float, optional
        Weight ``w⁺ >= 0`` of the positive term, broadcast against the last axis as in torch
        (``pos_weight : (n_outputs,)`` for ``prediction : (batch, n_outputs)``). torch also
        accepts negative or NaN weights (``weight`` and ``pos_weight``); tinyrec refuses them.
        Neither weight may enlarge the prediction's shape (torch's would make a larger loss).

    Notes
    -----
    For logits ``x`` and targets ``y ∈ [0, 1]`` of the same shape, with ``σ`` the sigmoid,

        ℓ_n = −[ w⁺ y_n log σ(x_n) + (1 − y_n) log(1 − σ(x_n)) ]
            = (1 − y_n) x_n − (1 + (w⁺ − 1) y_n) · log σ(x_n),

    using ``log(1 − σ(x)) = log σ(x) − x``; ``log σ(x) = min(x, 0) − log(1 + e^{−|x|})`` never
    overflows, so logits of ±1e4 give finite losses and gradients. Without ``pos_weight``
    (``w⁺ = 1``) this is ``ℓ_n = max(x_n, 0) − x_n y_n + log(1 + e^{−|x_n|})``.

    Gradient: ``∂ℓ_n/∂x_n = σ(x_n) (1 + (w⁺ − 1) y_n) − w⁺ y_n``, which is ``σ(x_n) − y_n`` when
    ``w⁺ = 1``. With ``weight``, both ``ℓ_n`` and its gradient are multiplied by ``w_n``.
    """

    input_spec = (Scores("prediction", weights=("weight", "pos_weight")), Target("target", within=(0, 1)))

    def __init__(self, weight=None, *, reduction: str = "mean", pos_weight=None):
        super().__init__(reduction=reduction)
        self.weight = check_weight(weight, "BCEWithLogitsLoss")
        self.pos_weight = check_weight(pos_weight, "BCEWithLogitsLoss", "pos_weight")

    def forward(self, prediction: np.ndarray, target: np.ndarray):
        x, y, w = prediction, target, _in_dtype(self.weight, prediction.dtype)
        if self.pos_weight is None:
            losses = np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x)))
        else:
            pw = self.pos_weight.astype(x.dtype)
            losses = (1 - y) * x - (1 + (pw - 1) * y) * _log_sigmoid(x)
        self._x, self._y, self._w = x, y, w
        return self._reduce((losses * w).astype(x.dtype, copy=False))

    def backward(self, grad_output=None) -> np.ndarray:
        x, y, w = self._x, self._y, self._w
        if self.pos_weight is None:
            dx = _sigmoid(x) - y
        else:
            pw = self.pos_weight.astype(x.dtype)
            dx = _sigmoid(x) * (1 + (pw - 1) * y) - pw * y
        return dx * w * self._upstream(grad_output)

    def extra_repr(self) -> str:
        weight = "" if self.weight is None else f", weight={self.weight.tolist()}"
        pw = "" if self.pos_weight is None else f", pos_weight={self.pos_weight.tolist()}"
        return super().extra_repr() + weight + pw
