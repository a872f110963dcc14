"""Checks shared by the layers of :mod:`tinyrec.nn` (input dtype/shape, ``dY`` against the output)."""

from __future__ import annotations

import numpy as np

from ..errors import DTypeError, ShapeError
from ..validation import check_positive_int, check_seed

__all__ = ["check_grad_output", "check_positive_int", "check_seed"]


def check_grad_output(grad_output, shape: tuple[int, ...], dtype: np.dtype, layer: str) -> np.ndarray:
    """Check that ``dY`` is an ndarray of the layer's output ``shape`` and ``dtype``; return it.

    Raises :class:`DTypeError` for a non-array or another dtype, :class:`ShapeError` when the
    shape differs from the output of the last ``forward``.
    """
    if not isinstance(grad_output, np.ndarray):
        raise DTypeError(
            f"{layer}.backward needs grad_output as a numpy array, got {type(grad_output).__name__}"
        )
    if grad_output.dtype != dtype:
        raise DTypeError(
            f"{layer}.backward got grad_output of dtype {grad_output.dtype} but the layer computes in "
            f"{dtype}; cast it with .astype(np.{np.dtype(dtype).name})"
        )
    if grad_output.shape != tuple(shape):
        raise ShapeError(
            f"{layer}.backward got grad_output of shape {grad_output.shape}, but the last forward "
            f"returned shape {tuple(shape)}; they must match"
        )
    return grad_output


def normalize_dim(dim: int, ndim: int, what: str) -> int:
    """``dim`` as a non-negative axis of an array with ``ndim`` dimensions (negative counts back)."""
    if not -ndim <= dim < ndim:
        raise ShapeError(
            f"{what}: dim={dim} is out of range for an input with {ndim} dimension(s) "
            f"(valid: {-ndim} to {ndim - 1})"
        )
    return dim % ndim
