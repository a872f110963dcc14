"""Inverted dropout, seeded, as ``torch.nn.Dropout``."""

from __future__ import annotations

import numbers

import numpy as np

from ..validation import as_generator, check_float_array, resolve_dtype
from ._checks import check_grad_output
from .module import Module


class Dropout(Module):
    """Zero each element with probability ``p`` in training; scale the survivors by ``1 / (1 − p)``.

    Parameters
    ----------
    p : float, default 0.5
        Probability of zeroing an element, in ``[0, 1]``.
    dtype : np.float32 (default) or np.float64
    seed : None, int or np.random.Generator
        Source of the masks: the same seed gives the same sequence of masks.

    Notes
    -----
    Shapes: ``(*)`` for ``X``, ``Y``, ``dY``, ``dX``.

    In training mode (after :meth:`Module.train`, the default), a fresh mask
    ``M_i ~ Bernoulli(1 − p)`` is drawn at each ``forward`` and

    * forward: ``Y = X ⊙ M / (1 − p)``
    * ``dX = dY ⊙ M / (1 − p)`` (the same mask; with ``p = 1`` everything is zeroed)

    "Inverted" dropout scales during training, so that ``E[Y] = X`` and evaluation needs no
    rescaling: in evaluation mode (:meth:`Module.eval`) ``Y = X`` and ``dX = dY``.
    The mask is drawn in float64 whatever ``dtype`` is, so float32 and float64 layers with the same
    seed drop the same elements. torch's ``inplace`` option is not provided.
    """

    def __init__(self, p: float = 0.5, *, dtype=np.float32, seed=None):
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability p must be a number in [0, 1], got {p!r}")
        self.p = float(p)
        self.dtype = resolve_dtype(dtype)
        self._rng = as_generator(seed)
        self._scaled_mask = None  # M / (1 - p) of the last training forward, or 1.0 in eval mode
        self._shape = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        check_float_array(x, "x", dtype=self.dtype)
        self._shape = x.shape
        if not self.training or self.p == 0.0:
            self._scaled_mask = 1.0  # identity: dX = dY
            return x
        keep = self._rng.random(x.shape) >= self.p  # True with probability 1 - p
        scale = 0.0 if self.p == 1.0 else 1.0 / (1.0 - self.p)
        self._scaled_mask = keep * self.dtype.type(scale)  # (*) in self.dtype
        return x * self._scaled_mask

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        mask, shape = self._require_cache("_scaled_mask", "_shape")
        dy = check_grad_output(grad_output, shape, self.dtype, "Dropout")
        if isinstance(mask, float):  # evaluation mode (or p = 0): the identity
            return dy
        return dy * mask

    def extra_repr(self) -> str:
        return f"p={self.p}, dtype={self.dtype.name}"
