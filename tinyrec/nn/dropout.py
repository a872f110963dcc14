"""Inverted dropout, seeded, as ``torch.nn.Dropout``."""

from __future__ import annotations

import numpy as np

from ..validation import as_generator, check_in_range
from .module import Module
from .spec import Floats


class Dropout(Module):
    """Zero each element with probability ``p`` in training; scale the survivors by ``1 / (1 − p)``.

    Parameters
    ----------
    p : float, default 0.5
        Probability of zeroing an element, in ``[0, 1]``.
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
    No parameters: the output has the input's dtype. The mask is drawn in float64 whatever that
    dtype is, so float32 and float64 inputs with the same seed lose the same elements. torch's
    ``inplace`` option is not provided.
    """

    input_spec = (Floats("x"),)

    def __init__(self, p: float = 0.5, *, seed=None):
        self.p = check_in_range(p, "dropout probability p", 0, 1)
        self._rng = as_generator(seed)
        self._scaled_mask = None  # M / (1 - p) of the last training forward, or 1.0 in eval mode

    def forward(self, x: np.ndarray) -> np.ndarray:
        if not self.training or self.p == 0.0:
            self._scaled_mask = 1.0  # identity: dX = dY
            return x
        keep = self._rng.random(x.shape) >= self.p  # True with probability 1 - p
        scale = 0.0 if self.p == 1.0 else 1.0 / (1.0 - self.p)
        self._scaled_mask = keep * x.dtype.type(scale)  # (*) in the input's dtype
        return x * self._scaled_mask

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        if isinstance(self._scaled_mask, float):  # evaluation mode (or p = 0): the identity
            return grad_output
        return grad_output * self._scaled_mask

    def extra_repr(self) -> str:
        return f"p={self.p}"
