"""Softmax cross-entropy over classes: :class:`CrossEntropyLoss`."""

from __future__ import annotations

import numpy as np

from ..validation import check_in_range, check_int
from .base import Loss
from .checks import Classes, Logits, check_weight


def _log_softmax(x: np.ndarray) -> np.ndarray:
    """``log p = x − log Σ_c exp(x_c)`` along axis 1 (the class axis), shifted by the maximum first."""
    log_p = x - x.max(axis=1, keepdims=True)  # (N, C, d1, …) - (N, 1, d1, …): exp never overflows
    log_p -= np.log(np.exp(log_p).sum(axis=1, keepdims=True))
    return log_p


def _along_classes(w: np.ndarray, ndim: int) -> np.ndarray:
    """Per-class ``w : (C,)`` as ``(C, 1, …, 1)``: it broadcasts along axis 1 of ``(N, C, d1, …)``."""
    return w.reshape((-1,) + (1,) * (ndim - 2))


def _subtract_at_targets(dx: np.ndarray, y: np.ndarray, a: np.ndarray) -> None:
    """``dx[n, y_n] −= a_n`` along axis 1, in place: a one-hot term without building the one-hot."""
    y = y[:, None]  # (N, 1, d1, …)
    np.put_along_axis(dx, y, np.take_along_axis(dx, y, axis=1) - a[:, None], axis=1)


class CrossEntropyLoss(Loss):
    """Softmax + negative log-likelihood over classes, as ``torch.nn.CrossEntropyLoss``.

    Parameters
    ----------
    weight : array (C,), optional
        A weight ``w_c >= 0`` per class (default all ones), as torch's ``weight`` (torch also
        accepts negative weights; tinyrec refuses them).
    ignore_index : int, default -100
        Samples whose class index equals it contribute neither loss nor gradient, and the mean
        is taken over the other samples (class-index targets only). When every sample is
        ignored, the mean is NaN (0/0) and the gradient is zero, as in torch. An int: ``1.7``
        is refused, not rounded.
    reduction : {"mean", "sum", "none"}, default "mean"
    label_smoothing : float in [0, 1], default 0.0
        The target becomes ``(1 − ε) · target + ε / C``.

    Notes
    -----
    ``prediction : (N, C)`` raw logits (or ``(C,)`` for one sample, or ``(N, C, d1, …, dK)``:
    a class distribution at every position, e.g. the next item at each step of a sequence);
    ``target`` is either class indices ``(N,)`` / ``(N, d1, …, dK)`` of an integer dtype, or class
    probabilities of the prediction's shape and a float dtype (finite and >= 0; the rows need not
    sum to 1, as in torch). Every position counts as a sample ``n`` below, and all the math runs
    along axis 1, the class axis, so the K-dimensional case needs no reshaping;
    ``reduction="none"`` returns ``(N, d1, …, dK)``.
    With ``log p_nc = x_nc − log Σ_k exp(x_nk)`` (computed after subtracting the maximum, so it
    never overflows) and ``t_nc`` the (smoothed) target distribution,

        ℓ_n = −Σ_c τ_nc log p_nc,   τ_nc = w_c t_nc.

    For class indices ``y_n``, ``t_n`` is the one-hot row smoothed to ``(1 − ε) 1[c = y_n] + ε/C``,
    so without ever building it

        ℓ_n = −(1 − ε) w_{y_n} log p_{n,y_n} − (ε/C) Σ_c w_c log p_nc,
        Σ_c τ_nc = (1 − ε) w_{y_n} + (ε/C) Σ_c w_c,

    and ``ℓ_n = 0`` for an ignored sample. The mean divides by ``Σ_n w_{y_n}`` over the
    non-ignored samples for class indices (their number when unweighted), by the number of
    samples (``N · d1 ⋯ dK``) for probability targets, as torch does.

    Gradient: ``∂ℓ_n/∂x_nc = p_nc Σ_k τ_nk − τ_nc`` (``= p_nc − t_nc`` when unweighted and ``t_n``
    sums to 1), and zero for ignored samples. For class indices ``τ_n`` is a dense row
    ``(ε/C) w`` plus ``(1 − ε) w_{y_n}`` at ``y_n``, subtracted by a scatter: the memory is the
    ``(N, C, …)`` of ``log p`` and of the gradient, nothing more.
    """

    input_spec = (Logits("prediction", weight="weight"), Classes("target", ignore="ignore_index"))

    def __init__(
        self, weight=None, *, ignore_index: int = -100, reduction: str = "mean", label_smoothing: float = 0.0
    ):
        super().__init__(reduction=reduction)
        self.label_smoothing = check_in_range(label_smoothing, "label_smoothing", 0.0, 1.0)
        self.ignore_index = check_int(ignore_index, "ignore_index")
        self.weight = check_weight(weight, "CrossEntropyLoss", ndim=1)

    def forward(self, prediction: np.ndarray, target: np.ndarray):
        one = prediction.ndim == 1  # one sample: (C,) logits, a scalar index or (C,) probabilities
        x, t = (prediction[None], target[None]) if one else (prediction, target)  # (N, C, d1, …)
        w = np.ones(x.shape[1], x.dtype) if self.weight is None else self.weight.astype(x.dtype)  # (C,)
        log_p = _log_softmax(x)
        if t.dtype.kind == "f":
            losses, count = self._class_probabilities(log_p, t, w)
        else:
            losses, count = self._class_indices(log_p, t, w)
        self._log_p, self._shape = log_p, prediction.shape
        return self._reduce(losses.reshape(()) if one else losses, count)

    def backward(self, grad_output=None) -> np.ndarray:
        g = np.where(self._keep, self._upstream(grad_output), 0.0)  # (N, d1, …); 0 where ignored (torch)
        dx = np.exp(self._log_p)  # p_nc
        dx *= self._tau_sum[:, None]  # p_nc Σ_k τ_nk
        if self._tau_dense is not None:
            dx -= self._tau_dense  # − τ_nc: its dense part ...
        if self._y is not None:
            _subtract_at_targets(dx, self._y, self._a)  # ... and its one-hot part
        dx *= g[:, None]
        return dx.reshape(self._shape)

    def _class_indices(self, log_p: np.ndarray, y: np.ndarray, w: np.ndarray):
        """Losses and mean count for class indices ``y : (N, d1, …)``; caches ``τ`` in its two parts."""
        smoothing, c = self.label_smoothing, log_p.shape[1]
        keep = y != self.ignore_index
        y = np.where(keep, y, 0)  # any valid class at ignored samples: their τ is zero
        a = (1 - smoothing) * w[y] * keep  # τ's one-hot part, (1 − ε) w_{y_n}
        losses = -a * np.take_along_axis(log_p, y[:, None], axis=1)[:, 0]
        if smoothing:  # label smoothing: τ's dense part (ε/C) w_c on every kept sample
            losses -= smoothing / c * keep * np.einsum("nc...,c->n...", log_p, w)
        self._keep, self._y, self._a = keep, y, a
        self._tau_sum = a + smoothing / c * keep * w.sum()
        self._tau_dense = smoothing / c * _along_classes(w, log_p.ndim) if smoothing else None
        return losses, float(w[y[keep]].sum())  # the mean divides by Σ w_{y_n} over kept samples

    def _class_probabilities(self, log_p: np.ndarray, t: np.ndarray, w: np.ndarray):
        """Losses and mean count for probabilities ``t : (N, C, d1, …)``; caches ``τ`` (dense)."""
        smoothing, c = self.label_smoothing, log_p.shape[1]
        tau = (t * (1 - smoothing) + smoothing / c) * _along_classes(w, t.ndim)
        losses = -(tau * log_p).sum(axis=1)
        self._keep, self._y, self._a = np.ones(losses.shape, bool), None, None
        self._tau_sum, self._tau_dense = tau.sum(axis=1), tau
        return losses, None  # the mean divides by the number of samples

    def extra_repr(self) -> str:
        smoothing = f"label_smoothing={self.label_smoothing}"
        weight = "" if self.weight is None else f", weight={self.weight.tolist()}"
        return f"{super().extra_repr()}, ignore_index={self.ignore_index}, {smoothing}{weight}"
