"""Layers joining two or more inputs, as two-tower and NCF models do: Concat, Multiply, Dot.

Each takes its inputs as positional arguments, ``forward(a, b, ...)``, and its ``backward``
returns a tuple with one gradient per input, in the same order. The returned gradients are new
arrays (never views of ``dY``), so a model may add to them in place where branches meet.
None has parameters: the inputs may be float32 or float64, all of one dtype, which the output has.
"""

from __future__ import annotations

import numpy as np

from ..validation import check_int
from .module import Module
from .spec import Floats, require


class Concat(Module):
    """Join arrays along one axis, as ``torch.cat(inputs, dim)``.

    Parameters
    ----------
    dim : int, default -1
        The axis along which the inputs are joined.

    Notes
    -----
    Shapes (``dim = -1``): inputs ``X_1 : (*, F_1)``, ``X_2 : (*, F_2)``, ... (equal leading axes),
    ``Y : (*, F_1 + F_2 + ...)``.

    * forward: ``Y = [X_1, X_2, ...]`` along ``dim``
    * ``dX_a`` = the slice of ``dY`` along ``dim`` where input ``X_a`` was placed (``F_a`` wide)
    """

    def __init__(self, dim: int = -1):
        self.dim = check_int(dim, "dim")

    def check_inputs(self, *inputs) -> tuple:
        require(len(inputs) > 0, "Concat needs at least one array", ValueError)
        inputs = _check_floats(self, inputs)
        shapes = [x.shape for x in inputs]
        ndim = inputs[0].ndim
        require(all(x.ndim == ndim for x in inputs),
                f"Concat needs inputs of the same number of dimensions, got shapes {shapes}")
        require(-ndim <= self.dim < ndim, f"Concat: dim={self.dim} is out of range for an input with "
                                          f"{ndim} dimension(s) (valid: {-ndim} to {ndim - 1})")
        axis = self.dim % ndim
        require(len({s[:axis] + s[axis + 1 :] for s in shapes}) == 1,
                f"Concat along dim={self.dim} needs equal sizes on every other axis, got shapes {shapes}")
        return inputs

    def forward(self, *inputs: np.ndarray) -> np.ndarray:
        """``Y = concatenate(inputs, dim)``; at least one input, all of the same rank."""
        self._sizes = [x.shape[self.dim] for x in inputs]
        return np.concatenate(inputs, axis=self.dim)

    def backward(self, grad_output: np.ndarray) -> tuple[np.ndarray, ...]:
        bounds = np.cumsum(self._sizes)[:-1]  # where each input's slice starts (after the first)
        return tuple(part.copy() for part in np.split(grad_output, bounds, axis=self.dim))

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Multiply(Module):
    """Element-wise product of two arrays, ``Y = A ⊙ B`` (GMF's ``p_u ⊙ q_i``).

    Notes
    -----
    Shapes: ``A`` and ``B`` broadcast against each other as in NumPy/torch (usually both
    ``(batch, d)``); ``Y`` has the broadcast shape.

    * forward: ``Y = A ⊙ B``
    * ``dA = dY ⊙ B``, ``dB = dY ⊙ A``, each summed over the axes along which its input was
      broadcast, so that ``dA`` has ``A``'s shape and ``dB`` has ``B``'s.
    """

    input_spec = (Floats("a"), Floats("b"))

    def check_inputs(self, a, b) -> tuple:
        a, b = super().check_inputs(a, b)
        require(_broadcastable(a.shape, b.shape),
                f"Multiply needs shapes that broadcast together, got a {a.shape} and b {b.shape}")
        return a, b

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self._a, self._b = a, b
        return a * b

    def backward(self, grad_output: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a, b, dy = self._a, self._b, grad_output
        return _unbroadcast(dy * b, a.shape), _unbroadcast(dy * a, b.shape)


class Dot(Module):
    """Row-wise inner product of two arrays, ``y_r = ⟨a_r, b_r⟩`` (a two-tower score ``p_uᵀ q_i``).

    Notes
    -----
    Shapes: ``A, B : (batch, d)`` (more generally ``(*, d)``, equal shapes), ``Y : (batch,)``
    (``(*)``).

    * forward: ``Y_r = Σ_f A[r, f] B[r, f]``
    * ``dA[r, f] = dY_r B[r, f]``, ``dB[r, f] = dY_r A[r, f]``
    """

    input_spec = (Floats("a", min_ndim=1), Floats("b", min_ndim=1))

    def check_inputs(self, a, b) -> tuple:
        a, b = super().check_inputs(a, b)
        require(a.shape == b.shape,
                f"Dot needs a and b of the same shape (batch, d), got a {a.shape} and b {b.shape}")
        return a, b

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self._a, self._b = a, b
        return np.einsum("...k,...k->...", a, b)

    def backward(self, grad_output: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        dy = grad_output[..., None]  # (*, 1): broadcast over the d axis
        return dy * self._b, dy * self._a


def _check_floats(layer, inputs: tuple) -> tuple:
    """Each input a float array, all of one dtype (the spec of a layer taking any number of them)."""
    return tuple(Floats(f"input{k}").check(x, layer, inputs[0].dtype if k else None)
                 for k, x in enumerate(inputs))


def _broadcastable(*shapes) -> bool:
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        return False
    return True


def _unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` over the axes that broadcasting added or stretched, down to ``shape``."""
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))  # leading axes that the input did not have
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad
