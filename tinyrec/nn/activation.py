"""Activation functions: ReLU, LeakyReLU, Sigmoid, Tanh, Softmax, LogSoftmax (as ``torch.nn``).

None has parameters, so each computes in its input's dtype (float32 or float64), as torch's
activations do. In every ``Notes`` section ``X`` is the input, ``Y`` the output, ``dY`` the
gradient of the loss with respect to ``Y``, and ``⊙`` the element-wise product.
"""

from __future__ import annotations

import numpy as np

from ..validation import check_finite_real, check_int
from .module import Module
from .spec import Floats


class _Activation(Module):
    """An element-wise function of any float array."""

    input_spec = (Floats("x"),)


class ReLU(_Activation):
    """Rectified linear unit, element-wise.

    Notes
    -----
    Shapes: ``X``, ``Y``, ``dY``, ``dX`` all ``(*)``, any shape.

    * forward: ``Y = max(X, 0)``
    * ``dX = dY ⊙ [X > 0]`` (the derivative at 0 is taken as 0, as torch does)

    Caches ``Y`` (``Y > 0`` exactly where ``X > 0``).
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._y = np.maximum(x, 0)
        return self._y

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        return grad_output * (self._y > 0)


class LeakyReLU(_Activation):
    """Leaky rectified linear unit, element-wise.

    Parameters
    ----------
    negative_slope : float, default 0.01
        Slope for negative inputs; a finite number (torch also accepts NaN and inf).

    Notes
    -----
    Shapes: ``(*)`` for ``X``, ``Y``, ``dY``, ``dX``. With ``a = negative_slope``:

    * forward: ``Y = X`` where ``X > 0``, ``Y = a X`` elsewhere
    * ``dX = dY`` where ``X > 0``, ``dX = a dY`` elsewhere (at ``X = 0`` the slope is ``a``, as in torch)

    Caches ``X``.
    """

    def __init__(self, negative_slope: float = 0.01):
        self.negative_slope = check_finite_real(negative_slope, "negative_slope")

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._x = x
        return np.where(x > 0, x, x * x.dtype.type(self.negative_slope))

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        x, dy = self._x, grad_output
        return np.where(x > 0, dy, dy * x.dtype.type(self.negative_slope))

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Sigmoid(_Activation):
    """The logistic function ``σ(x) = 1 / (1 + e^(−x))``, element-wise, computed stably.

    Notes
    -----
    Shapes: ``(*)`` for ``X``, ``Y``, ``dY``, ``dX``.

    * forward: ``Y = σ(X)``, evaluated as ``1 / (1 + e^(−X))`` for ``X ≥ 0`` and as
      ``e^X / (1 + e^X)`` for ``X < 0``, so that ``e^(…)`` never overflows (``σ(±1000)`` is exactly
      1 and 0, without warnings).
    * ``dX = dY ⊙ Y ⊙ (1 − Y)``

    Caches ``Y``.
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        e = np.exp(-np.abs(x))  # in (0, 1]: e^(-x) for x >= 0, e^(x) for x < 0
        self._y = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
        return self._y

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        y = self._y
        return grad_output * y * (1 - y)


class Tanh(_Activation):
    """Hyperbolic tangent, element-wise.

    Notes
    -----
    Shapes: ``(*)`` for ``X``, ``Y``, ``dY``, ``dX``.

    * forward: ``Y = tanh(X)``
    * ``dX = dY ⊙ (1 − Y²)``

    Caches ``Y``.
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._y = np.tanh(x)
        return self._y

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        y = self._y
        return grad_output * (1 - y * y)


class Softmax(_Activation):
    """Softmax along one axis: each slice along ``dim`` becomes a probability vector.

    Parameters
    ----------
    dim : int, default -1
        The axis that sums to 1. (torch's ``Softmax`` has no default and guesses with a warning;
        tinyrec uses the last axis.)

    Notes
    -----
    Shapes: ``(*)`` for ``X``, ``Y``, ``dY``, ``dX``; sums below run over ``dim``.

    * forward: ``Y_i = e^(X_i − X_max) / Σ_j e^(X_j − X_max)`` with ``X_max = max_j X_j``
      (subtracting the maximum changes nothing mathematically and keeps ``e^(…) ≤ 1``, so nothing
      overflows)
    * ``dX_i = Y_i (dY_i − Σ_j dY_j Y_j)`` (the Jacobian ``diag(Y) − Y Yᵀ`` applied to ``dY``)

    Caches ``Y``.
    """

    input_spec = (Floats("x", axes=("dim",)),)

    def __init__(self, dim: int = -1):
        self.dim = check_int(dim, "dim")

    def forward(self, x: np.ndarray) -> np.ndarray:
        if x.shape[self.dim] == 0:  # a softmax over no entries is empty
            self._y = x.copy()
            return self._y
        e = np.exp(x - x.max(axis=self.dim, keepdims=True))
        self._y = e / e.sum(axis=self.dim, keepdims=True)
        return self._y

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        y, dy = self._y, grad_output
        return y * (dy - (dy * y).sum(axis=self.dim, keepdims=True))

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(_Activation):
    """The logarithm of :class:`Softmax`, computed directly by log-sum-exp (never ``log(0)``).

    Parameters
    ----------
    dim : int, default -1
        The axis normalized over. (torch's ``LogSoftmax`` defaults to ``dim=None`` and then
        guesses, e.g. axis 0 for a 3-D input, with a warning; tinyrec uses the last axis.)

    Notes
    -----
    Shapes: ``(*)`` for ``X``, ``Y``, ``dY``, ``dX``; sums below run over ``dim``.

    * forward: ``Y_i = X_i − X_max − log Σ_j e^(X_j − X_max)`` with ``X_max = max_j X_j``
      (log-sum-exp: finite for logits of any size, e.g. ``[1000, 0]`` gives ``[0, −1000]``)
    * ``dX_i = dY_i − softmax(X)_i Σ_j dY_j`` with ``softmax(X) = e^Y``

    Caches ``Y``.
    """

    input_spec = (Floats("x", axes=("dim",)),)

    def __init__(self, dim: int = -1):
        self.dim = check_int(dim, "dim")

    def forward(self, x: np.ndarray) -> np.ndarray:
        if x.shape[self.dim] == 0:  # normalizing over no entries leaves nothing
            self._y = x.copy()
            return self._y
        shifted = x - x.max(axis=self.dim, keepdims=True)
        self._y = shifted - np.log(np.exp(shifted).sum(axis=self.dim, keepdims=True))
        return self._y

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        y, dy = self._y, grad_output
        return dy - np.exp(y) * dy.sum(axis=self.dim, keepdims=True)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
