"""Rating-prediction errors: MSE, RMSE, MAE over (true, predicted) pairs.

For ``n`` pairs ``(r_ui, r̂_ui)``, with the sums over the pairs:

* ``MSE  = (1/n) Σ (r̂_ui − r_ui)²``
* ``RMSE = √MSE``
* ``MAE  = (1/n) Σ |r̂_ui − r_ui|``

Every pair has weight ``1/n`` (a user with many test ratings weighs more, as in the Netflix-prize
RMSE and Surprise's ``accuracy.rmse``); computed in float64 whatever the input dtype.
"""

from __future__ import annotations

import numpy as np

from ..errors import DTypeError, NonFiniteError, ShapeError

__all__ = ["mse", "rmse", "mae"]


def _pairs(y_true, y_pred):
    arrays = []
    for name, x in (("y_true", y_true), ("y_pred", y_pred)):
        x = np.asarray(x)
        if x.dtype.kind not in "iuf":
            raise DTypeError(f"{name} must be numeric, got dtype {x.dtype}")
        x = x.astype(np.float64, copy=False)
        if not np.isfinite(x).all():
            raise NonFiniteError(f"{name} contains NaN or inf; a rating error needs finite values")
        arrays.append(x)
    y_true, y_pred = arrays
    if y_true.shape != y_pred.shape:
        raise ShapeError(
            f"y_true has shape {y_true.shape} but y_pred has shape {y_pred.shape}; they must match"
        )
    if y_true.size == 0:
        raise ShapeError("y_true and y_pred are empty; an error over no ratings is undefined")
    return y_true.ravel(), y_pred.ravel()


def mse(y_true, y_pred) -> float:
    """Mean squared error ``(1/n) Σ (r̂ − r)²`` over all pairs (any equal shapes, flattened)."""
    y_true, y_pred = _pairs(y_true, y_pred)
    return float(np.mean((y_pred - y_true) ** 2))


def rmse(y_true, y_pred) -> float:
    """Root mean squared error ``√((1/n) Σ (r̂ − r)²)``."""
    return float(np.sqrt(mse(y_true, y_pred)))


def mae(y_true, y_pred) -> float:
    """Mean absolute error ``(1/n) Σ |r̂ − r|``."""
    y_true, y_pred = _pairs(y_true, y_pred)
    return float(np.mean(np.abs(y_pred - y_true)))
