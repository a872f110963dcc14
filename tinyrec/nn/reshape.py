"""Layers that move no numbers: Identity and Flatten (as ``torch.nn``).

Neither has parameters: both pass their input's dtype through.
"""

from __future__ import annotations

import math

import numpy as np

from ..validation import check_int
from .module import Module
from .spec import Floats, require


class Identity(Module):
    """``Y = X``: a placeholder (e.g. where a model optionally has a layer).

    Notes
    -----
    Shapes: ``(*)`` for ``X``, ``Y``, ``dY``, ``dX``.

    * forward: ``Y = X``
    * ``dX = dY``

    As in torch, the very same array is passed through (no copy), in both directions.
    """

    input_spec = (Floats("x"),)

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        return grad_output


class Flatten(Module):
    """Merge the axes ``start_dim .. end_dim`` (inclusive) into one, as ``torch.nn.Flatten``.

    Parameters
    ----------
    start_dim : int, default 1
        First axis merged (axis 0, the batch, is kept by default). Negative counts from the end.
    end_dim : int, default -1
        Last axis merged, inclusive.

    Notes
    -----
    Shapes (torch's notation): ``X : (*, S_start, ..., S_end, *)`` gives
    ``Y : (*, S_start · ... · S_end, *)``, ``S_start`` the size of axis ``start_dim`` and ``S_end``
    that of axis ``end_dim``; e.g. ``(batch, 3, 4) -> (batch, 12)`` with the defaults. A 0-d input counts
    as 1-d, as in torch.

    * forward: ``Y = reshape(X, shape(Y))`` (row-major order, so a view when ``X`` is contiguous)
    * ``dX = reshape(dY, shape(X))``
    """

    input_spec = (Floats("x"),)

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        self.start_dim = check_int(start_dim, "start_dim")
        self.end_dim = check_int(end_dim, "end_dim")

    def check_inputs(self, x) -> tuple:
        (x,) = super().check_inputs(x)
        ndim = max(np.ndim(x), 1)
        for name, dim in (("start_dim", self.start_dim), ("end_dim", self.end_dim)):
            require(-ndim <= dim < ndim, f"Flatten {name}: dim={dim} is out of range for an input with "
                                         f"{ndim} dimension(s) (valid: {-ndim} to {ndim - 1})")
        require(self.start_dim % ndim <= self.end_dim % ndim, f"Flatten: start_dim={self.start_dim} comes "
                f"after end_dim={self.end_dim} for an input of shape {x.shape}", ValueError)
        return (x,)

    def forward(self, x: np.ndarray) -> np.ndarray:
        shape = x.shape if x.ndim else (1,)
        start, end = self.start_dim % len(shape), self.end_dim % len(shape)  # negative axes count back
        self._in_shape = x.shape
        return x.reshape(shape[:start] + (math.prod(shape[start : end + 1]),) + shape[end + 1 :])

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        return grad_output.reshape(self._in_shape)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
