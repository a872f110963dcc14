"""Layers joining two or more inputs, as two-tower and NCF models do: Concat, Multiply, Dot.

Each takes its inputs as positional arguments, ``forward(a, b, ...)``, and its ``backward``
returns a tuple with one gradient per input, in the same order. The returned gradients are new
arrays (never views of ``dY``), so a model may add to them in place where branches meet.
"""

from __future__ import annotations

import numbers

import numpy as np

from ..errors import ShapeError
from ..validation import check_float_array, resolve_dtype
from ._checks import check_grad_output, check_seed, normalize_dim
from .module import Module


class _Merge(Module):
    def __init__(self, *, dtype=np.float32, seed=None):
        self.dtype = resolve_dtype(dtype)
        check_seed(seed)

    def _check_inputs(self, inputs, names) -> None:
        for x, name in zip(inputs, names, strict=True):
            check_float_array(x, name, dtype=self.dtype)

    def extra_repr(self) -> str:
        return f"dtype={self.dtype.name}"


class Concat(_Merge):
    """Join arrays along one axis, as ``torch.cat(inputs, dim)``.

    Parameters
    ----------
    dim : int, default -1
        The axis along which the inputs are joined.
    dtype : np.float32 (default) or np.float64
    seed : None, int or np.random.Generator
        Accepted for a uniform constructor signature; nothing is random.

    Notes
    -----
    Shapes (``dim = -1``): ``X_k : (*, d_k)`` for ``k = 1..K`` (equal leading axes),
    ``Y : (*, d_1 + ... + d_K)``.

    * forward: ``Y = [X_1, X_2, ..., X_K]`` along ``dim``
    * ``dX_k`` = the slice of ``dY`` along ``dim`` where ``X_k`` was placed (``d_k`` wide)
    """

    def __init__(self, dim: int = -1, *, dtype=np.float32, seed=None):
        super().__init__(dtype=dtype, seed=seed)
        if isinstance(dim, bool) or not isinstance(dim, numbers.Integral):
            raise ValueError(f"dim must be an int, got {dim!r}")
        self.dim = int(dim)
        self._sizes = None
        self._out_shape = None

    def forward(self, *inputs: np.ndarray) -> np.ndarray:
        """``Y = concatenate(inputs, dim)``; at least one input, all of the same rank."""
        if not inputs:
            raise ValueError("Concat.forward needs at least one array")
        self._check_inputs(inputs, [f"input{k}" for k in range(len(inputs))])
        ndim = inputs[0].ndim
        if any(x.ndim != ndim for x in inputs):
            raise ShapeError(
                "Concat needs inputs of the same number of dimensions, "
                f"got shapes {[x.shape for x in inputs]}"
            )
        axis = normalize_dim(self.dim, ndim, "Concat")
        others = {x.shape[:axis] + x.shape[axis + 1 :] for x in inputs}
        if len(others) > 1:
            raise ShapeError(
                f"Concat along dim={self.dim} needs equal sizes on every other axis, "
                f"got shapes {[x.shape for x in inputs]}"
            )
        out = np.concatenate(inputs, axis=axis)
        self._sizes = [x.shape[axis] for x in inputs]
        self._out_shape = out.shape
        return out

    def backward(self, grad_output: np.ndarray) -> tuple[np.ndarray, ...]:
        sizes, out_shape = self._require_cache("_sizes", "_out_shape")
        dy = check_grad_output(grad_output, out_shape, self.dtype, "Concat")
        axis = normalize_dim(self.dim, dy.ndim, "Concat")
        bounds = np.cumsum(sizes)[:-1]  # where each input's slice starts (after the first)
        return tuple(part.copy() for part in np.split(dy, bounds, axis=axis))

    def extra_repr(self) -> str:
        return f"dim={self.dim}, dtype={self.dtype.name}"


class Multiply(_Merge):
    """Element-wise product of two arrays, ``Y = A ⊙ B`` (GMF's ``p_u ⊙ q_i``).

    Parameters
    ----------
    dtype : np.float32 (default) or np.float64
        The dtype both inputs must have.
    seed : None, int or np.random.Generator
        Accepted for a uniform constructor signature; nothing is random.

    Notes
    -----
    Shapes: ``A`` and ``B`` broadcast against each other as in NumPy/torch (usually both
    ``(batch, d)``); ``Y`` has the broadcast shape.

    * forward: ``Y = A ⊙ B``
    * ``dA = dY ⊙ B``, ``dB = dY ⊙ A``, each summed over the axes along which its input was
      broadcast, so that ``dA`` has ``A``'s shape and ``dB`` has ``B``'s.
    """

    def __init__(self, *, dtype=np.float32, seed=None):
        super().__init__(dtype=dtype, seed=seed)
        self._a = None
        self._b = None
        self._out_shape = None

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self._check_inputs((a, b), ("a", "b"))
        try:
            out_shape = np.broadcast_shapes(a.shape, b.shape)
        except ValueError as exc:
            raise ShapeError(
                f"Multiply needs shapes that broadcast together, got a {a.shape} and b {b.shape}"
            ) from exc
        self._a, self._b, self._out_shape = a, b, out_shape
        return a * b

    def backward(self, grad_output: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a, b, out_shape = self._require_cache("_a", "_b", "_out_shape")
        dy = check_grad_output(grad_output, out_shape, self.dtype, "Multiply")
        return _unbroadcast(dy * b, a.shape), _unbroadcast(dy * a, b.shape)


class Dot(_Merge):
    """Row-wise inner product of two arrays, ``y_r = ⟨a_r, b_r⟩`` (a two-tower score ``p_uᵀ q_i``).

    Parameters
    ----------
    dtype : np.float32 (default) or np.float64
        The dtype both inputs must have.
    seed : None, int or np.random.Generator
        Accepted for a uniform constructor signature; nothing is random.

    Notes
    -----
    Shapes: ``A, B : (batch, d)`` (more generally ``(*, d)``, equal shapes), ``Y : (batch,)``
    (``(*)``).

    * forward: ``Y_r = Σ_k A[r, k] B[r, k]``
    * ``dA[r, k] = dY_r B[r, k]``, ``dB[r, k] = dY_r A[r, k]``
    """

    def __init__(self, *, dtype=np.float32, seed=None):
        super().__init__(dtype=dtype, seed=seed)
        self._a = None
        self._b = None

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self._check_inputs((a, b), ("a", "b"))
        if a.shape != b.shape or a.ndim < 1:
            raise ShapeError(
                f"Dot needs a and b of the same shape (batch, d), got a {a.shape} and b {b.shape}"
            )
        self._a, self._b = a, b
        return np.einsum("...k,...k->...", a, b)

    def backward(self, grad_output: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a, b = self._require_cache("_a", "_b")
        dy = check_grad_output(grad_output, a.shape[:-1], self.dtype, "Dot")
        dy = dy[..., None]  # (*, 1): broadcast over the d axis
        return dy * b, dy * a


def _unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` over the axes that broadcasting added or stretched, down to ``shape``."""
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))  # leading axes that the input did not have
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad
