"""Layers that move no numbers: Identity and Flatten (as ``torch.nn``)."""

from __future__ import annotations

import math
import numbers

import numpy as np

from ..validation import check_float_array, resolve_dtype
from ._checks import check_grad_output, check_seed, normalize_dim
from .module import Module


class Identity(Module):
    """``Y = X``: a placeholder (e.g. where a model optionally has a layer).

    Parameters
    ----------
    dtype : np.float32 (default) or np.float64
        The dtype the input must have.
    seed : None, int or np.random.Generator
        Accepted for a uniform constructor signature; nothing is random.

    Notes
    -----
    Shapes: ``(*)`` for ``X``, ``Y``, ``dY``, ``dX``.

    * forward: ``Y = X``
    * ``dX = dY``

    As in torch, the very same array is passed through (no copy), in both directions.
    """

    def __init__(self, *, dtype=np.float32, seed=None):
        self.dtype = resolve_dtype(dtype)
        check_seed(seed)
        self._shape = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        check_float_array(x, "x", dtype=self.dtype)
        self._shape = x.shape
        return x

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        shape = self._require_cache("_shape")
        return check_grad_output(grad_output, shape, self.dtype, "Identity")

    def extra_repr(self) -> str:
        return f"dtype={self.dtype.name}"


class Flatten(Module):
    """Merge the axes ``start_dim .. end_dim`` (inclusive) into one, as ``torch.nn.Flatten``.

    Parameters
    ----------
    start_dim : int, default 1
        First axis merged (axis 0, the batch, is kept by default). Negative counts from the end.
    end_dim : int, default -1
        Last axis merged, inclusive.
    dtype : np.float32 (default) or np.float64
    seed : None, int or np.random.Generator
        Accepted for a uniform constructor signature; nothing is random.

    Notes
    -----
    Shapes: ``X : (d_0, ..., d_{k-1})`` gives
    ``Y : (d_0, ..., d_{s-1}, d_s · ... · d_e, d_{e+1}, ..., d_{k-1})`` with ``s = start_dim``,
    ``e = end_dim``; e.g. ``(batch, 3, 4) -> (batch, 12)`` with the defaults.

    * forward: ``Y = reshape(X, shape(Y))`` (row-major order, so a view when ``X`` is contiguous)
    * ``dX = reshape(dY, shape(X))``
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1, *, dtype=np.float32, seed=None):
        for name, value in (("start_dim", start_dim), ("end_dim", end_dim)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise ValueError(f"{name} must be an int, got {value!r}")
        self.start_dim = int(start_dim)
        self.end_dim = int(end_dim)
        self.dtype = resolve_dtype(dtype)
        check_seed(seed)
        self._in_shape = None
        self._out_shape = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        check_float_array(x, "x", dtype=self.dtype)
        ndim = max(x.ndim, 1)  # torch treats a 0-d input as 1-d here
        start = normalize_dim(self.start_dim, ndim, "Flatten start_dim")
        end = normalize_dim(self.end_dim, ndim, "Flatten end_dim")
        if start > end:
            raise ValueError(
                f"Flatten: start_dim={self.start_dim} comes after end_dim={self.end_dim} "
                f"for an input of shape {x.shape}"
            )
        shape = x.shape if x.ndim else (1,)
        out_shape = shape[:start] + (math.prod(shape[start : end + 1]),) + shape[end + 1 :]
        self._in_shape, self._out_shape = x.shape, out_shape
        return x.reshape(out_shape)

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        in_shape, out_shape = self._require_cache("_in_shape", "_out_shape")
        dy = check_grad_output(grad_output, out_shape, self.dtype, "Flatten")
        return dy.reshape(in_shape)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}, dtype={self.dtype.name}"
