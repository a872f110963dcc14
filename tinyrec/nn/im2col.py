"""Sliding windows over the spatial axes: im2col, col2im, and the window geometry conv and pooling share.

A convolution or pooling layer sees an input ``X : (batch, channels, *spatial)`` (one spatial axis:
NCL; two: NCHW) through windows of ``kernel`` positions moved by ``stride`` over the input
padded by ``padding`` on both sides of each spatial axis. Along one axis of length ``L``, padded
to ``L + 2·padding``, a kernel of ``kernel`` taps spans ``dilation · (kernel − 1) + 1`` positions
and fits at

    L_out = floor((L + 2·padding − dilation · (kernel − 1) − 1) / stride) + 1

positions (the formula of ``torch.nn.Conv1d``); window ``o`` reads the padded positions
``o · stride + j · dilation`` for ``j = 0 .. kernel − 1``.

**im2col** copies every window into one column of a matrix, so that a convolution becomes a
single matrix product::

    X_col : (channels · prod(kernel), batch · prod(out))
    X_col[(c, j), (n, o)] = X_padded[n, c, o · stride + j · dilation]

Rows are ordered ``(c, j_1, j_2, ...)``, one ``j`` per spatial axis (the order of a torch weight
``(out, in, *kernel)`` flattened), columns ``(n, o_1, o_2, ...)``. The copy is made with one strided
slice per kernel offset ``j`` (``prod(kernel)`` vectorized copies, no loop over the data).

**col2im** is its adjoint: it adds every entry of a column matrix back to the input position it
was copied from (positions covered by several windows receive the sum) and crops the padding.
It is exactly the gradient of im2col: if ``X_col = im2col(X)`` then ``dX = col2im(dX_col)``.
"""

from __future__ import annotations

import math
from numbers import Integral

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..errors import ShapeError


def as_tuple(value, d: int, name: str, *, minimum: int = 1) -> tuple[int, ...]:
    """``value`` (an int, or a sequence of ``d`` ints) as a ``d``-tuple of ints ``>= minimum``."""
    items = (value,) * d if isinstance(value, Integral) else value
    try:
        items = tuple(items)
    except TypeError:
        items = ()
    if (
        len(items) != d
        or not all(isinstance(v, Integral) and not isinstance(v, bool) for v in items)
        or any(v < minimum for v in items)
    ):
        kind = "positive" if minimum == 1 else "non-negative"
        form = f"a {kind} int" + (f" or a tuple of {d} {kind} ints" if d > 1 else "")
        raise ShapeError(f"{name} must be {form}, got {value!r}")
    return tuple(int(v) for v in items)


def output_shape(spatial, kernel, stride, padding, dilation) -> tuple[int, ...]:
    """Output spatial shape: ``floor((size + 2·padding − dilation·(kernel − 1) − 1) / stride) + 1`` per axis.

    The input is assumed long enough for one window (the layer's input spec,
    :class:`tinyrec.nn.spec.Windowed`, refuses shorter ones).
    """
    return tuple(
        (n + 2 * p - dl * (k - 1) - 1) // s + 1
        for n, k, s, p, dl in zip(spatial, kernel, stride, padding, dilation, strict=True)
    )


def batched(x: np.ndarray, d: int) -> tuple[np.ndarray, bool]:
    """``(X, unbatched)``: ``X`` with a leading batch axis of 1 added to an unbatched input, as torch."""
    unbatched = x.ndim == d + 1
    return (x[None] if unbatched else x), unbatched


def pad(x: np.ndarray, padding, value: float = 0.0) -> np.ndarray:
    """``x : (batch, channels, *spatial)`` padded by ``padding[i]`` on both sides of spatial axis i.

    Returns ``x`` itself (no copy) when every padding is 0.
    """
    if not any(padding):
        return x
    widths = [(0, 0), (0, 0)] + [(p, p) for p in padding]
    return np.pad(x, widths, mode="constant", constant_values=value)


def window_slices(offset, stride, dilation, out) -> tuple[slice, ...]:
    """Slices of the padded spatial axes that kernel offset ``offset`` reads across all windows.

    Along each axis: positions ``o · stride + j · dilation`` for ``o = 0 .. out − 1``.
    """
    return tuple(
        slice(j * dl, j * dl + s * (o - 1) + 1, s)
        for j, s, dl, o in zip(offset, stride, dilation, out, strict=True)
    )


def im2col(x: np.ndarray, kernel, stride, padding, dilation, out) -> np.ndarray:
    """The window matrix of ``x``: every window copied into one column.

    Parameters
    ----------
    x : (batch, channels, *spatial)
    kernel, stride, padding, dilation : tuples of ints, one per spatial axis
    out : tuple of ints, one per spatial axis
        The output spatial shape, from :func:`output_shape`.

    Returns
    -------
    X_col : (channels · prod(kernel), batch · prod(out)), C-contiguous
        ``X_col[(c, j), (n, o)] = X_padded[n, c, o · stride + j · dilation]``, rows ordered
        ``(c, j_1, j_2, ...)`` and columns ``(n, o_1, o_2, ...)``.
    """
    n, c = x.shape[:2]
    xp = pad(x, padding).swapaxes(0, 1)  # (channels, batch, *padded): a view, no copy
    cols = np.empty((c, *kernel, n, *out), dtype=x.dtype)
    for offset in np.ndindex(*kernel):  # prod(kernel) strided block copies
        read = window_slices(offset, stride, dilation, out)
        cols[(slice(None), *offset)] = xp[(slice(None), slice(None), *read)]
    return cols.reshape(c * math.prod(kernel), n * math.prod(out))  # contiguous


def col2im(cols: np.ndarray, x_shape, kernel, stride, padding, dilation, out) -> np.ndarray:
    """The adjoint of :func:`im2col`: each column entry added back to the position it was read from.

    Parameters
    ----------
    cols : (channels · prod(kernel), batch · prod(out))
        Laid out as :func:`im2col`'s result (typically ``dX_col = W_colᵀ @ dY_col``).
    x_shape : (batch, channels, *spatial)
        The shape of the unpadded input.
    kernel, stride, padding, dilation, out : tuples of ints, one per spatial axis
        As given to :func:`im2col`.

    Returns
    -------
    dX : x_shape
        ``dX_pad[n, c, o · stride + j · dilation] += cols[(c, j), (n, o)]`` over every ``(c, j, n, o)``
        (positions shared by overlapping windows receive the sum), with the padding cropped.
    """
    n, c, *spatial = x_shape
    padded = [s + 2 * p for s, p in zip(spatial, padding, strict=True)]
    cols = cols.reshape(c, *kernel, n, *out)  # (channels, *kernel, batch, *out)
    dxp = np.zeros((n, c, *padded), dtype=cols.dtype)
    dxp_t = dxp.swapaxes(0, 1)  # (channels, batch, *padded): a view that writes into dxp
    for offset in np.ndindex(*kernel):  # within one offset the windows hit distinct positions
        read = window_slices(offset, stride, dilation, out)
        dxp_t[(slice(None), slice(None), *read)] += cols[(slice(None), *offset)]
    crop = tuple(slice(p, p + s) for p, s in zip(padding, spatial, strict=True))
    return np.ascontiguousarray(dxp[(slice(None), slice(None), *crop)]) if any(padding) else dxp


def windows(xp: np.ndarray, kernel, stride) -> np.ndarray:
    """Read-only view ``(batch, channels, *out, *kernel)`` of the windows of a padded input.

    ``view[n, c, o, j] = xp[n, c, o · stride + j]`` (per spatial axis); no data is copied.
    """
    n_axes = len(kernel)
    # (N, channels, *(L − kernel + 1), *kernel)
    view = sliding_window_view(xp, kernel, axis=tuple(range(2, 2 + n_axes)))
    return view[(slice(None), slice(None), *(slice(None, None, s) for s in stride))]
