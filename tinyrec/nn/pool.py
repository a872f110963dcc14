"""Pooling layers: MaxPool1d/2d, AvgPool1d/2d and AdaptiveMaxPool1d (torch semantics, no parameters).

Inputs are ``(batch, channels, *spatial)`` (or unbatched ``(channels, *spatial)``) and every
channel is pooled on its own over windows of ``kernel_size`` moved by ``stride`` (default: the
kernel size, non-overlapping windows), after ``padding`` on both sides of each spatial axis.
Output sizes follow torch (``ceil_mode=False``):
``L_out = floor((L + 2·padding − kernel_size) / stride) + 1``.
torch's ``ceil_mode``, ``dilation``, ``return_indices`` and ``divisor_override`` are not offered;
arguments after ``padding`` are keyword-only, so a torch call that passes them by position fails
instead of meaning something else.

No pool has parameters: each computes in its input's dtype (float32 or float64), as torch's do.
The windows are a strided view of the padded input (:func:`tinyrec.nn.im2col.windows`); there
is no loop over the data. Gradients of max pooling are scattered back with ``np.bincount``
(windows may overlap when ``stride < kernel_size``, so a plain fancy-index assignment would drop
repeated positions).
"""

from __future__ import annotations

import math

import numpy as np

from ..validation import check_bool
from .im2col import as_tuple, batched, output_shape, pad, window_slices, windows
from .module import Module
from .spec import Windowed, require


def _scatter_add(flat_positions: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """``out[flat_positions[i]] += values[i]`` over a flat array of ``size`` zeros (repeats summed)."""
    total = np.bincount(flat_positions.ravel(), weights=values.ravel(), minlength=size)
    return total.astype(values.dtype, copy=False)  # bincount sums in float64


class _PoolNd(Module):
    """Shared constructor and geometry of the fixed-window pools; ``_d`` spatial axes."""

    _d = 0

    def __init__(self, kernel_size, stride=None, padding=0):
        d = self._d
        self.kernel_size = as_tuple(kernel_size, d, "kernel_size")
        self.stride = self.kernel_size if stride is None else as_tuple(stride, d, "stride")
        self.padding = as_tuple(padding, d, "padding", minimum=0)
        for size, margin in zip(self.kernel_size, self.padding, strict=True):  # no window of padding only
            require(margin <= size // 2, f"{type(self).__name__}: padding {margin} is more than half the "
                    f"kernel size {size}; "
                    f"use padding <= kernel_size // 2 (as torch requires)")
        self._cache = None

    def _out(self, x: np.ndarray) -> tuple[int, ...]:
        """The output spatial shape for a batched ``x``."""
        return output_shape(x.shape[2:], self.kernel_size, self.stride, self.padding, (1,) * self._d)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _MaxPoolNd(_PoolNd):
    """Max over each window; padding is ``−inf`` and never wins (not even over a real ``−inf``).

    Ties: the gradient goes to the **first** maximal element of the window in row-major order
    (the one ``np.argmax`` returns), as torch's CPU kernel does. A NaN in a window is its max.
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        x, unbatched = batched(x, self._d)  # (N, channels, *spatial)
        n, c = x.shape[:2]
        out = self._out(x)
        xp = pad(x, self.padding, -np.inf)  # (N, channels, *padded)
        win = windows(xp, self.kernel_size, self.stride)  # (N, channels, *out, *kernel), a view
        # (N, channels, *out, K): a copy, windows flattened row-major (K written out: N may be 0)
        flat = win.reshape(n, c, *out, math.prod(self.kernel_size))
        arg = np.argmax(flat, axis=-1)  # (N, channels, *out): first maximum of each window
        y = np.take_along_axis(flat, arg[..., None], axis=-1)[..., 0]
        if any(self.padding) and np.isneginf(y).any():
            # every real element of such a window is −inf, so argmax may have picked the padding;
            # torch never considers padding: the first real element wins (and gets the gradient)
            real = pad(np.ones((1, 1, *x.shape[2:]), dtype=x.dtype), self.padding)  # 1 = real
            first_real = np.argmax(
                windows(real, self.kernel_size, self.stride).reshape(1, 1, *out, -1), axis=-1
            )
            arg = np.where(np.isneginf(y), first_real, arg)
        # where each maximum sits in the padded input, as a flat index into (N, channels, *padded)
        offsets = np.unravel_index(arg, self.kernel_size)  # per-axis offset inside the window
        grid = np.indices(out, sparse=True)  # per-axis window index, broadcastable to *out
        coords = [g * s + o for g, s, o in zip(grid, self.stride, offsets, strict=True)]
        within = np.ravel_multi_index(coords, xp.shape[2:])  # (N, channels, *out): flat index into *padded
        rows = np.arange(n * c).reshape(n, c, *(1,) * self._d)  # (N, channels, 1, ...): the (n, c) row
        where = rows * math.prod(xp.shape[2:]) + within  # (N, channels, *out): flat index into xp
        self._cache = (where, x.shape, xp.shape)
        self._unbatched = unbatched
        return y[0] if unbatched else y

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        where, x_shape, xp_shape = self._cache
        dxp = _scatter_add(where, grad_output, math.prod(xp_shape)).reshape(xp_shape)
        crop = tuple(slice(p, p + s) for p, s in zip(self.padding, x_shape[2:], strict=True))
        dx = np.ascontiguousarray(dxp[(slice(None), slice(None), *crop)])  # (N, channels, *spatial)
        return dx[0] if self._unbatched else dx


class MaxPool1d(_MaxPoolNd):
    """Max over windows along the sequence, ``torch.nn.MaxPool1d(kernel_size, stride, padding)``.

    Parameters
    ----------
    kernel_size : int
    stride : int, optional
        Defaults to ``kernel_size``.
    padding : int, default 0
        ``−inf`` added on both ends; at most ``kernel_size // 2``.

    Notes
    -----
    ``X : (batch, channels, L)`` (or ``(channels, L)``) → ``Y : (batch, channels, L_out)``,
    ``L_out = floor((L + 2·padding − kernel_size) / stride) + 1``.

    Forward: ``Y[n, c, t] = max_j X_pad[n, c, t·stride + j]``; cached: the position
    ``a[n, c, t]`` of that maximum in the padded input (the first one on ties, as torch).

    Backward: ``dX[n, c, i] = Σ_{t : a[n, c, t] = i} dY[n, c, t]`` — each output's gradient goes
    to the element that won its window; an element winning several overlapping windows gets the
    sum.
    """

    _d = 1
    input_spec = (Windowed("x", d=1),)


class MaxPool2d(_MaxPoolNd):
    """Max over 2-D windows, ``torch.nn.MaxPool2d(kernel_size, stride, padding)``.

    Parameters
    ----------
    kernel_size : int or (kH, kW)
    stride : int or (int, int), optional
        Defaults to ``kernel_size``.
    padding : int or (int, int), default 0
        ``−inf`` on both sides of each axis; at most half the kernel along that axis.

    Notes
    -----
    ``X : (batch, channels, H_in, W_in)`` → ``Y : (batch, channels, H_out, W_out)``.
    Forward: ``Y[n, c, h, w] = max_{i, j} X_pad[n, c, h·stride[0] + i, w·stride[1] + j]``; ties go to the
    first maximum in row-major window order (torch's CPU kernel scans rows, then columns).
    Backward: ``dX`` receives ``dY[n, c, h, w]`` at the position of that maximum (summed over
    overlapping windows), zero elsewhere.
    """

    _d = 2
    input_spec = (Windowed("x", d=2),)


class _AvgPoolNd(_PoolNd):
    """Mean over each window; zero padding, counted in the divisor or not (``count_include_pad``)."""

    def __init__(
        self,
        kernel_size,
        stride=None,
        padding=0,
        *,
        count_include_pad: bool = True,
    ):
        super().__init__(kernel_size, stride, padding)
        self.count_include_pad = check_bool(count_include_pad, "count_include_pad")

    def _divisor(self, spatial, out, dtype) -> np.ndarray:
        """``(*out)`` number of elements each window averages (padding counted or not)."""
        if self.count_include_pad or not any(self.padding):
            return np.full(out, math.prod(self.kernel_size), dtype=dtype)
        real = pad(np.ones((1, 1, *spatial), dtype=dtype), self.padding)  # 1 = real, 0 = padding
        return windows(real, self.kernel_size, self.stride).sum(axis=tuple(range(-self._d, 0)))[0, 0]

    def forward(self, x: np.ndarray) -> np.ndarray:
        x, unbatched = batched(x, self._d)  # (N, channels, *spatial)
        out = self._out(x)
        win = windows(pad(x, self.padding), self.kernel_size, self.stride)  # (N, channels, *out, *kernel)
        divisor = self._divisor(x.shape[2:], out, x.dtype)  # (*out)
        y = win.sum(axis=tuple(range(-self._d, 0))) / divisor
        self._cache = (x.shape, out, divisor)
        self._unbatched = unbatched
        return y[0] if unbatched else y

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        x_shape, out, divisor = self._cache
        n, c, *spatial = x_shape
        dy = grad_output.reshape(n, c, *out)  # adds back the batch axis of an unbatched input
        share = dy / divisor  # (N, channels, *out): what each element of a window receives
        padded = [s + 2 * p for s, p in zip(spatial, self.padding, strict=True)]
        dxp = np.zeros((n, c, *padded), dtype=dy.dtype)
        for offset in np.ndindex(*self.kernel_size):  # prod(kernel) vectorized adds
            reach = window_slices(offset, self.stride, (1,) * self._d, out)
            dxp[(slice(None), slice(None), *reach)] += share
        crop = tuple(slice(p, p + s) for p, s in zip(self.padding, spatial, strict=True))
        dx = np.ascontiguousarray(dxp[(slice(None), slice(None), *crop)])  # (N, channels, *spatial)
        return dx[0] if self._unbatched else dx

    def extra_repr(self) -> str:
        return super().extra_repr() + f", count_include_pad={self.count_include_pad}"


class AvgPool1d(_AvgPoolNd):
    """Mean over windows along the sequence, ``torch.nn.AvgPool1d`` (``ceil_mode=False``).

    Parameters
    ----------
    kernel_size : int
    stride : int, optional
        Defaults to ``kernel_size``.
    padding : int, default 0
        Zeros on both ends; at most ``kernel_size // 2``.
    count_include_pad : bool, default True, keyword-only (torch's fourth argument is ``ceil_mode``)
        Divide by ``kernel_size`` (True) or by the number of non-padding elements in the window (False).

    Notes
    -----
    ``X : (batch, channels, L)`` → ``Y : (batch, channels, L_out)``.
    Forward: ``Y[n, c, t] = (1 / m_t) Σ_j X_pad[n, c, t·stride + j]`` with ``m_t`` the divisor.
    Cached: the shapes and ``m``.
    Backward: ``dX_pad[n, c, t·stride + j] += dY[n, c, t] / m_t`` for every ``j``, padding cropped.
    """

    _d = 1
    input_spec = (Windowed("x", d=1),)


class AvgPool2d(_AvgPoolNd):
    """Mean over 2-D windows, ``torch.nn.AvgPool2d`` (``ceil_mode=False``, no ``divisor_override``).

    Parameters as :class:`AvgPool1d`, with ints or ``(int, int)`` pairs.

    Notes
    -----
    Forward: ``Y[n, c, h, w] = (1 / m_hw) Σ_{i, j} X_pad[n, c, h·stride[0] + i, w·stride[1] + j]``.
    Backward: every element of window ``(h, w)`` receives ``dY[n, c, h, w] / m_hw``.
    """

    _d = 2
    input_spec = (Windowed("x", d=2),)


class AdaptiveMaxPool1d(Module):
    """Max over ``output_size`` bins covering the sequence, ``torch.nn.AdaptiveMaxPool1d``.

    ``AdaptiveMaxPool1d(1)`` is the max over time of Caser's horizontal convolutions.

    Parameters
    ----------
    output_size : int
        ``L_out``, the number of bins.

    Notes
    -----
    ``X : (batch, channels, L)`` (or ``(channels, L)``) → ``Y : (batch, channels, L_out)``. Bin
    ``t`` covers positions ``start_t = floor(t·L / L_out)`` to ``end_t = ceil((t + 1)·L / L_out)``
    (exclusive), as torch; bins overlap when ``L_out`` does not divide ``L``.

    Forward: ``Y[n, c, t] = max_{start_t <= i < end_t} X[n, c, i]``; cached: the position of that
    maximum (the first one on ties, as torch).
    Backward: ``dX[n, c, i] = Σ_{t : argmax = i} dY[n, c, t]``.
    """

    input_spec = (Windowed("x", d=1),)

    def __init__(self, output_size: int):
        self.output_size = as_tuple(output_size, 1, "output_size")[0]
        self._cache = None

    def check_inputs(self, x) -> tuple:
        (x,) = super().check_inputs(x)
        require(x.shape[-1] > 0, "AdaptiveMaxPool1d: the input sequence is empty; it needs length >= 1")
        return (x,)

    def forward(self, x: np.ndarray) -> np.ndarray:
        x, unbatched = batched(x, 1)  # (N, channels, L)
        n, c, length = x.shape
        t = np.arange(self.output_size)
        start = (t * length) // self.output_size
        end = -((-(t + 1) * length) // self.output_size)  # ceil division
        # (L_out, m) positions of each bin, the last one repeated to pad short bins to the longest
        # (a repeat never changes the max nor which position wins first)
        idx = np.minimum(start[:, None] + np.arange((end - start).max()), end[:, None] - 1)
        gathered = x[:, :, idx]  # (N, channels, L_out, m)
        arg = np.argmax(gathered, axis=-1)  # (N, channels, L_out)
        y = np.take_along_axis(gathered, arg[..., None], axis=-1)[..., 0]
        position = idx[t, arg]  # (N, channels, L_out): index into L of each maximum
        rows = np.arange(n * c).reshape(n, c, 1)
        self._cache = (rows * length + position, x.shape)
        self._unbatched = unbatched
        return y[0] if unbatched else y

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        where, x_shape = self._cache
        dx = _scatter_add(where, grad_output, math.prod(x_shape)).reshape(x_shape)
        return dx[0] if self._unbatched else dx

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


__all__ = ["AdaptiveMaxPool1d", "AvgPool1d", "AvgPool2d", "MaxPool1d", "MaxPool2d"]
