"""Convolution layers, Conv1d (NCL) and Conv2d (NCHW), computed as im2col + one matrix product.

With ``W_col = W.reshape(out_channels, in_channels · prod(kernel))`` and the window matrix
``X_col = im2col(X)`` of :mod:`tinyrec.nn.im2col`, a convolution (as in every deep learning
library, a cross-correlation: the kernel is not flipped) is

    Y_col = W_col @ X_col + b            Y_col : (out_channels, batch · prod(out))

and its three gradients are three more matrix products and one col2im:

    dW_col = dY_col @ X_colᵀ        db = Σ_columns dY_col        dX = col2im(W_colᵀ @ dY_col)
"""

from __future__ import annotations

import math

import numpy as np

from ..validation import as_generator, check_positive_int, resolve_dtype
from . import init
from .im2col import as_tuple, batched, col2im, im2col, output_shape
from .module import Module, Parameter
from .spec import Windowed


class _ConvNd(Module):
    """Shared body of Conv1d and Conv2d; ``_d`` is the number of spatial axes."""

    _d = 0

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        *,
        bias: bool = True,
        dtype=np.float32,
        seed=None,
    ):
        d = self._d
        self.in_channels = check_positive_int(in_channels, "in_channels")
        self.out_channels = check_positive_int(out_channels, "out_channels")
        self.kernel_size = as_tuple(kernel_size, d, "kernel_size")
        self.stride = as_tuple(stride, d, "stride")
        self.padding = as_tuple(padding, d, "padding", minimum=0)
        self.dilation = as_tuple(dilation, d, "dilation")
        self.dtype = resolve_dtype(dtype)
        rng = as_generator(seed)
        shape = (self.out_channels, self.in_channels, *self.kernel_size)
        # torch's default: kaiming_uniform(a=sqrt(5)) = U(±1/sqrt(fan_in)), bias U(±1/sqrt(fan_in))
        self.weight = Parameter(init.kaiming_uniform(shape, a=math.sqrt(5), dtype=self.dtype, seed=rng))
        bound = 1.0 / math.sqrt(self.in_channels * math.prod(self.kernel_size))
        self.bias = (
            Parameter(init.uniform((self.out_channels,), -bound, bound, dtype=self.dtype, seed=rng))
            if bias
            else None
        )
        self._cols = None  # X_col of the last forward
        self._geometry = None  # (x_shape, out, unbatched) of the last forward

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``Y_col = W_col @ X_col + b``, reshaped to ``(batch, C_out, *out)``."""
        x, unbatched = batched(x, self._d)  # (N, C_in, *spatial)
        n = x.shape[0]
        out = output_shape(x.shape[2:], self.kernel_size, self.stride, self.padding, self.dilation)
        # X_col : (C_in·K, N·prod(out)), with K = prod(kernel_size) taps per window
        cols = im2col(x, self.kernel_size, self.stride, self.padding, self.dilation, out)
        w_col = self.weight.data.reshape(self.out_channels, -1)  # W_col : (C_out, C_in·K)
        y_col = (w_col @ cols).reshape(self.out_channels, n, *out)  # (C_out, N, *out)
        y = np.empty((n, self.out_channels, *out), dtype=self.dtype)
        if self.bias is None:
            np.copyto(y, y_col.swapaxes(0, 1))  # (N, C_out, *out)
        else:
            b = self.bias.data.reshape(-1, *(1,) * self._d)  # (C_out, 1, ...) broadcasts over *out
            np.add(y_col.swapaxes(0, 1), b, out=y)
        self._cols = cols
        self._geometry = (x.shape, out, unbatched)
        return y[0] if unbatched else y

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        """``dW_col = dY_col X_colᵀ``, ``db = Σ dY_col``; returns ``dX = col2im(W_colᵀ dY_col)``."""
        cols, (x_shape, out, unbatched) = self._cols, self._geometry
        dy = grad_output.reshape(x_shape[0], self.out_channels, *out)  # adds back an unbatched input's axis
        # (N, C_out, *out) -> (C_out, N, *out) -> (C_out, N·prod(out)): a copy, the layout of Y_col
        dy_col = np.ascontiguousarray(dy.swapaxes(0, 1)).reshape(self.out_channels, -1)
        w_col = self.weight.data.reshape(self.out_channels, -1)  # (C_out, C_in·K)
        self.weight.accumulate((dy_col @ cols.T).reshape(self.weight.shape))  # dW_col = dY_col X_colᵀ
        if self.bias is not None:
            self.bias.accumulate(dy_col.sum(axis=1))  # db = Σ over batch and positions
        dcols = w_col.T @ dy_col  # (C_in·K, N·prod(out))
        dx = col2im(dcols, x_shape, self.kernel_size, self.stride, self.padding, self.dilation, out)
        return dx[0] if unbatched else dx

    def extra_repr(self) -> str:
        kernel = self.kernel_size[0] if self._d == 1 else self.kernel_size
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={kernel}, stride={self.stride}"
        if any(self.padding):
            text += f", padding={self.padding}"
        if any(v != 1 for v in self.dilation):
            text += f", dilation={self.dilation}"
        if self.bias is None:
            text += ", bias=False"
        return text + f", dtype={self.dtype.name}"


class Conv1d(_ConvNd):
    """1-D convolution over sequences, ``torch.nn.Conv1d`` semantics (NCL layout).

    Parameters
    ----------
    in_channels, out_channels : int
        ``C_in`` and ``C_out``.
    kernel_size : int
        The window length.
    stride : int, default 1
    padding : int, default 0
        Zeros added on both ends of the sequence.
    dilation : int, default 1
        Spacing between the kernel's taps.
    bias : bool, default True
        Keyword-only (torch's seventh positional argument is ``groups``, which tinyrec lacks).
    dtype : np.float32 (default) or np.float64
    seed : int or np.random.Generator, optional
        Seeds the initialization: ``weight`` and ``bias`` ~ U(−1/sqrt(fan_in), 1/sqrt(fan_in)),
        ``fan_in = C_in · kernel_size`` (torch's default; the weight is drawn first, then the bias).

    Attributes
    ----------
    weight : Parameter (C_out, C_in, kernel_size)
    bias : Parameter (C_out,) or None

    Notes
    -----
    Input ``X : (batch, C_in, L)`` (or ``(C_in, L)``), output ``Y : (batch, C_out, L_out)`` with
    ``L_out = floor((L + 2·padding − dilation·(kernel_size − 1) − 1) / stride) + 1``.

    Forward (cross-correlation, as torch)::

        Y[n, o, t] = b[o] + Σ_c Σ_j W[o, c, j] · X_pad[n, c, t·stride + j·dilation]

    computed as one product: ``X_col = im2col(X) : (C_in·kernel_size, batch·L_out)``,
    ``W_col = W.reshape(C_out, C_in·kernel_size)``, ``Y_col = W_col @ X_col + b : (C_out, batch·L_out)``,
    reshaped to ``(C_out, batch, L_out)`` and transposed to ``(batch, C_out, L_out)``.
    Cached: ``X_col`` and the shapes.

    Backward, with ``dY_col : (C_out, batch·L_out)`` the same reshaping of ``dY``::

        dW = (dY_col @ X_colᵀ).reshape(C_out, C_in, kernel_size)
        db = Σ_{n, t} dY[n, o, t]
        dX = col2im(W_colᵀ @ dY_col)      (each window's gradient added back where it was read)

    A sequence shorter than the kernel extent (after padding) raises :class:`ShapeError`.
    """

    _d = 1
    input_spec = (Windowed("x", d=1, channels="in_channels"),)


class Conv2d(_ConvNd):
    """2-D convolution over images or grids, ``torch.nn.Conv2d`` semantics (NCHW layout).

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int or (kH, kW)
    stride, padding, dilation : int or (int, int), defaults 1, 0, 1
        Integers only: torch's ``padding="same"``/``"valid"`` strings are not offered.
    bias : bool, default True
        Keyword-only, as in :class:`Conv1d` (torch's seventh argument is ``groups``, not offered).
    dtype : np.float32 (default) or np.float64
    seed : int or np.random.Generator, optional
        ``weight`` and ``bias`` ~ U(−1/sqrt(fan_in), 1/sqrt(fan_in)), ``fan_in = C_in·kH·kW``.

    Attributes
    ----------
    weight : Parameter (C_out, C_in, kH, kW)
    bias : Parameter (C_out,) or None

    Notes
    -----
    Input ``X : (batch, C_in, H_in, W_in)`` (or ``(C_in, H_in, W_in)``), output
    ``Y : (batch, C_out, H_out, W_out)``, each output size given by the Conv1d formula per axis.

    Forward::

        Y[n, o, h, w] = b[o] + Σ_c Σ_{i, j} W[o, c, i, j]
                               · X_pad[n, c, h·stride[0] + i·dilation[0], w·stride[1] + j·dilation[1]]

    as ``Y_col = W_col @ X_col + b`` with ``X_col = im2col(X) : (C_in·kH·kW, batch·H_out·W_out)``
    and ``W_col = W.reshape(C_out, C_in·kH·kW)``. Cached: ``X_col`` and the shapes.

    Backward::

        dW = (dY_col @ X_colᵀ).reshape(C_out, C_in, kH, kW)
        db = Σ_{n, h, w} dY[n, o, h, w]
        dX = col2im(W_colᵀ @ dY_col)
    """

    _d = 2
    input_spec = (Windowed("x", d=2, channels="in_channels"),)


__all__ = ["Conv1d", "Conv2d"]
