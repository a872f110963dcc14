"""Squared-error losses: :class:`MSELoss` and :class:`MaskedMSELoss` (observed entries only)."""

from __future__ import annotations

import numpy as np

from .base import Loss


class MSELoss(Loss):
    """Mean squared error, as ``torch.nn.MSELoss``.

    Parameters
    ----------
    reduction : {"mean", "sum", "none"}, default "mean"

    Notes
    -----
    For ``prediction ŷ`` and ``target y`` of the same (any) shape, ``ℓ_n = (ŷ_n − y_n)²`` for each
    element ``n``, and ``ℒ = mean_n ℓ_n`` (mean over all the elements), ``Σ_n ℓ_n`` (sum) or ``ℓ``
    (none).

    Gradient: ``∂ℓ_n/∂ŷ_n = 2 (ŷ_n − y_n)``, so ``dŷ = 2 (ŷ − y) · g``.
    """

    def forward(self, prediction: np.ndarray, target: np.ndarray):
        self._diff = prediction - target
        return self._reduce(self._diff * self._diff)

    def backward(self, grad_output=None) -> np.ndarray:
        return 2.0 * self._diff * self._upstream(grad_output)


class MaskedMSELoss(Loss):
    """Mean squared error over the observed entries only: ``NaN`` in the target means "not observed".

    Parameters
    ----------
    reduction : {"mean", "sum", "none"}, default "mean"

    Notes
    -----
    For ``prediction ŷ`` and ``target y`` of the same (any) shape, let ``O`` be the set of entries
    where ``y`` is not NaN (the observed ratings of a partly observed rating matrix, e.g. AutoRec's
    input rows). Then ``ℓ_n = (ŷ_n − y_n)²`` for ``n ∈ O`` and ``ℓ_n = 0`` elsewhere, and
    ``ℒ = (1/|O|) Σ_{n∈O} ℓ_n`` (mean over the **observed** entries; NaN when none is observed, as
    torch's mean of nothing), ``Σ_{n∈O} ℓ_n`` (sum) or ``ℓ`` (none, zeros at unobserved entries).

    Gradient: ``∂ℓ_n/∂ŷ_n = 2 (ŷ_n − y_n)`` on ``O`` and ``0`` elsewhere, so
    ``dŷ = 2 (ŷ − y) ⊙ 1[n ∈ O] · g`` (``g = grad_output / |O|`` for the mean).
    With no NaN in the target it equals :class:`MSELoss`. The prediction must be finite where the
    target is unobserved too (an infinite prediction there would be a bug upstream).
    """

    def forward(self, prediction: np.ndarray, target: np.ndarray):
        observed = ~np.isnan(target)  # O
        self._diff = np.where(observed, prediction - target, 0).astype(prediction.dtype, copy=False)
        return self._reduce(self._diff * self._diff, count=int(observed.sum()))

    def backward(self, grad_output=None) -> np.ndarray:
        return 2.0 * self._diff * self._upstream(grad_output)
