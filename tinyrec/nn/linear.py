"""The fully connected layer ``Y = X Wᵀ + b``, as ``torch.nn.Linear``."""

from __future__ import annotations

import math

import numpy as np

from ..validation import as_generator, check_positive_int, resolve_dtype
from . import init
from .module import Module, Parameter
from .spec import Floats


class Linear(Module):
    """Affine map of the last axis: ``Y = X Wᵀ + b``.

    Parameters
    ----------
    in_features : int
        Size of the last axis of the input.
    out_features : int
        Size of the last axis of the output.
    bias : bool, default True
        Whether to learn the additive bias ``b``.
    dtype : np.float32 (default) or np.float64
        dtype of the parameters; inputs must have the same dtype.
    seed : None, int or np.random.Generator
        Source of the initial weights (the same int gives the same weights).

    Attributes
    ----------
    weight : Parameter, (out_features, in_features)
        Initialized as torch does (``kaiming_uniform(a=√5)``), i.e. from U(−1/√in, 1/√in).
    bias : Parameter, (out_features,), or None
        Initialized from U(−1/√in, 1/√in).

    Notes
    -----
    Shapes: ``X : (..., in_features)``, ``Y : (..., out_features)``; any number of leading axes,
    as in torch. With the leading axes flattened into ``n`` rows (``X : (n, in)``, ``dY : (n, out)``):

    * forward: ``Y = X Wᵀ + b``, i.e. ``Y[r, o] = Σ_i X[r, i] W[o, i] + b[o]``
    * ``dX = dY W``        — ``(n, out) @ (out, in) -> (n, in)``
    * ``dW = dYᵀ X``       — ``(out, n) @ (n, in) -> (out, in)``, summed over all rows
    * ``db = Σ_r dY[r]``   — ``(out,)``

    ``forward`` caches ``X`` (needed by ``dW``); ``backward`` adds ``dW`` and ``db`` to the
    parameters' ``.grad`` and returns ``dX``.

    Examples
    --------
    >>> layer = Linear(3, 2, seed=0)
    >>> layer(np.ones((4, 3), dtype=np.float32)).shape
    (4, 2)
    """

    input_spec = (Floats("x", min_ndim=1, last="in_features"),)

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True, *, dtype=np.float32, seed=None
    ):
        self.in_features = check_positive_int(in_features, "in_features")
        self.out_features = check_positive_int(out_features, "out_features")
        self.dtype = resolve_dtype(dtype)
        rng = as_generator(seed)
        shape = (self.out_features, self.in_features)
        self.weight = Parameter(init.kaiming_uniform(shape, a=math.sqrt(5.0), dtype=self.dtype, seed=rng))
        if bias:
            bound = 1.0 / math.sqrt(self.in_features)
            self.bias = Parameter(
                init.uniform((self.out_features,), -bound, bound, dtype=self.dtype, seed=rng)
            )
        else:
            self.bias = None
        self._x = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``Y = X Wᵀ + b`` for ``X : (..., in_features)``; returns ``(..., out_features)``."""
        self._x = x
        y = x @ self.weight.data.T
        if self.bias is not None:
            y += self.bias.data  # (..., out) + (out,) broadcasts over the leading axes
        return y

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        """Accumulate ``dW``, ``db``; return ``dX : (..., in_features)``."""
        x2 = self._x.reshape(-1, self.in_features)  # (n, in), n = product of the leading axes
        dy2 = grad_output.reshape(-1, self.out_features)  # (n, out)
        self.weight.accumulate(dy2.T @ x2)  # (out, in)
        if self.bias is not None:
            self.bias.accumulate(dy2.sum(axis=0))  # (out,)
        return grad_output @ self.weight.data  # (..., in)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}, dtype={self.dtype.name}"
        )
