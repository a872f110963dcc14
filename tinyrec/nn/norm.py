"""Normalization layers: LayerNorm and BatchNorm1d, with torch's arguments, defaults and statistics.

Both standardize ``X`` over some axes ``A`` and then scale and shift it::

    X̄ = mean_A(X)      var = mean_A((X − X̄)²)      (the biased variance)
    X̂ = (X − X̄) · r,   r = 1 / sqrt(var + eps)
    Y = γ ⊙ X̂ + β

LayerNorm takes ``A`` = the trailing ``normalized_shape`` axes of each sample; BatchNorm1d takes
``A`` = the batch (and length) axes of each channel. Their backward passes share one formula.
With ``g = dY ⊙ γ`` and ``m`` the number of elements averaged over::

    dX = r · (g − mean_A(g) − X̂ ⊙ mean_A(g ⊙ X̂))

(``X̄`` and ``var`` depend on every element of ``X`` they average, which gives the two subtracted
terms: ``−mean_A(g)`` through the mean, and ``−X̂ ⊙ mean_A(g ⊙ X̂)`` through the variance).
"""

from __future__ import annotations

import numpy as np

from ..validation import (
    check_bool,
    check_in_range,
    check_positive,
    check_positive_int,
    check_seed,
    resolve_dtype,
)
from .module import Module, Parameter
from .spec import Floats, require


def _standardize(x: np.ndarray, axes: tuple[int, ...], eps: float):
    """``(X̂, r, X̄, var)`` of ``x`` over ``axes`` (kept as size-1 axes for broadcasting)."""
    mean = x.mean(axis=axes, keepdims=True)
    centered = x - mean
    var = np.mean(centered * centered, axis=axes, keepdims=True)  # biased, as torch normalizes
    rstd = 1.0 / np.sqrt(var + eps)
    return centered * rstd, rstd, mean, var


def _standardize_backward(g: np.ndarray, xhat: np.ndarray, rstd: np.ndarray, axes) -> np.ndarray:
    """``dX = r · (g − mean_A(g) − X̂ ⊙ mean_A(g ⊙ X̂))``, the gradient through the mean and variance."""
    mean_g = g.mean(axis=axes, keepdims=True)
    mean_gx = (g * xhat).mean(axis=axes, keepdims=True)
    return rstd * (g - mean_g - xhat * mean_gx)


class LayerNorm(Module):
    """Layer normalization over the last dimensions of each sample, ``torch.nn.LayerNorm``.

    Parameters
    ----------
    normalized_shape : int or tuple of int
        The trailing shape normalized over (``prod(normalized_shape)`` elements per sample).
    eps : float, default 1e-5
        Added to the variance; a finite number > 0 (torch does not check, and accepts 0 or inf).
    elementwise_affine : bool, default True
        Learn ``weight`` γ (ones) and ``bias`` β (zeros) of shape ``normalized_shape``.
    bias : bool, default True
        With ``elementwise_affine``, whether β is learned (torch's ``bias=``).
    dtype : np.float32 (default) or np.float64
    seed : int or np.random.Generator, optional
        Accepted (and type-checked) like every constructor; the initialization is deterministic.

    Notes
    -----
    ``X : (*, *normalized_shape)`` → ``Y`` of the same shape; statistics are over the
    ``normalized_shape`` axes ``A`` of each sample.

    Forward::

        X̄ = mean_A(X),  var = mean_A((X − X̄)²),  r = 1 / sqrt(var + eps)
        X̂ = (X − X̄) · r,   Y = γ ⊙ X̂ + β

    Cached: ``X̂`` and ``r``.

    Backward (sums over every leading axis ``*``, means over ``A``)::

        dγ = Σ_* dY ⊙ X̂            dβ = Σ_* dY
        g  = dY ⊙ γ
        dX = r · (g − mean_A(g) − X̂ ⊙ mean_A(g ⊙ X̂))
    """

    input_spec = (Floats("x"),)

    def __init__(
        self,
        normalized_shape,
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        *,
        dtype=np.float32,
        seed=None,
    ):
        check_seed(seed)  # validated for a uniform signature; the initialization is not random
        shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else normalized_shape
        shape = tuple(shape)
        require(len(shape) > 0 and all(isinstance(s, (int, np.integer)) and s > 0 for s in shape),
                f"normalized_shape must be a positive int or a tuple of them, got {normalized_shape!r}")
        self.normalized_shape = tuple(int(s) for s in shape)
        self.eps = check_positive(eps, "eps")
        self.elementwise_affine = check_bool(elementwise_affine, "elementwise_affine")
        self.dtype = resolve_dtype(dtype)
        self.weight = Parameter(np.ones(shape, dtype=self.dtype)) if elementwise_affine else None
        self.bias = Parameter(np.zeros(shape, dtype=self.dtype)) if elementwise_affine and bias else None
        self._cache = None

    def check_inputs(self, x) -> tuple:
        (x,) = super().check_inputs(x)
        k, shape = len(self.normalized_shape), self.normalized_shape
        require(x.shape[-k:] == shape and x.ndim >= k, f"LayerNorm{shape} needs an input whose last {k} "
                f"dimension(s) are {shape}; got shape {x.shape}")
        return (x,)

    def forward(self, x: np.ndarray) -> np.ndarray:
        axes = tuple(range(x.ndim - len(self.normalized_shape), x.ndim))  # the normalized axes A
        xhat, rstd, _, _ = _standardize(x, axes, self.eps)  # rstd : (*, 1, ..., 1)
        self._cache = (xhat, rstd)
        y = xhat.copy()  # never hand out the cached array
        if self.weight is not None:
            y = y * self.weight.data
        if self.bias is not None:
            y = y + self.bias.data
        return y

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        xhat, rstd = self._cache
        dy = g = grad_output
        batch_axes = tuple(range(xhat.ndim - len(self.normalized_shape)))
        if self.weight is not None:
            self.weight.accumulate((dy * xhat).sum(axis=batch_axes))  # dγ = Σ_* dY ⊙ X̂
            g = dy * self.weight.data
        if self.bias is not None:
            self.bias.accumulate(dy.sum(axis=batch_axes))  # dβ = Σ_* dY
        axes = tuple(range(len(batch_axes), xhat.ndim))
        return _standardize_backward(g, xhat, rstd, axes)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
            f"dtype={self.dtype.name}"
        )


class BatchNorm1d(Module):
    """Batch normalization of each channel, ``torch.nn.BatchNorm1d``, for ``(N, channels[, L])``.

    Parameters
    ----------
    num_features : int
        The number of channels.
    eps : float, default 1e-5
        Added to the variance; a finite number > 0 (torch does not check, and accepts 0 or inf).
    momentum : float or None, default 0.1
        Weight of the new batch in the running averages; ``None`` gives the cumulative average
        (factor ``1 / num_batches_tracked``), as torch.
    affine : bool, default True
        Learn ``weight`` γ (ones) and ``bias`` β (zeros), each ``(num_features,)``.
    track_running_stats : bool, default True
        Keep ``running_mean`` (zeros), ``running_var`` (ones) and ``num_batches_tracked`` buffers
        and use them in eval mode. Without them, batch statistics are used in both modes.
    dtype : np.float32 (default) or np.float64
    seed : int or np.random.Generator, optional
        Accepted (and type-checked) like every constructor; the initialization is deterministic.

    Notes
    -----
    ``X : (N, channels)`` or ``(N, channels, L)`` → ``Y`` of the same shape. ``A`` = the axes ``N``
    (and ``L``), ``m = N·L`` values per channel.

    Training mode (or no running statistics)::

        X̄_c = mean_A(X[:, c]),  var_c = mean_A((X[:, c] − X̄_c)²),  r_c = 1 / sqrt(var_c + eps)
        X̂ = (X − X̄) · r,   Y = γ ⊙ X̂ + β
        running_mean ← (1 − f) · running_mean + f · X̄
        running_var  ← (1 − f) · running_var  + f · var · m / (m − 1)      (unbiased, as torch)

    with ``f = momentum``. Training needs ``m > 1``. Backward (the mean and variance depend on the
    batch)::

        dγ = Σ_A dY ⊙ X̂      dβ = Σ_A dY      g = dY ⊙ γ
        dX = r · (g − mean_A(g) − X̂ ⊙ mean_A(g ⊙ X̂))

    Eval mode with running statistics: ``r = 1 / sqrt(running_var + eps)``,
    ``X̂ = (X − running_mean) · r``, ``Y = γ ⊙ X̂ + β``; the statistics are constants, so
    ``dX = dY ⊙ γ · r`` (and ``dγ``, ``dβ`` as above). Cached in both modes: ``X̂``, ``r``.
    """

    input_spec = (Floats("x"),)

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        *,
        dtype=np.float32,
        seed=None,
    ):
        check_seed(seed)  # validated for a uniform signature; the initialization is not random
        self.eps = check_positive(eps, "eps")
        if momentum is not None:  # None: the cumulative average
            check_in_range(momentum, "momentum", 0.0, 1.0)
        self.num_features = check_positive_int(num_features, "num_features")
        self.momentum = momentum
        self.affine = check_bool(affine, "affine")
        self.track_running_stats = check_bool(track_running_stats, "track_running_stats")
        self.dtype = resolve_dtype(dtype)
        self.weight = Parameter(np.ones(self.num_features, dtype=self.dtype)) if affine else None
        self.bias = Parameter(np.zeros(self.num_features, dtype=self.dtype)) if affine else None
        if self.track_running_stats:
            self.register_buffer("running_mean", np.zeros(self.num_features, dtype=self.dtype))
            self.register_buffer("running_var", np.ones(self.num_features, dtype=self.dtype))
            self.register_buffer("num_batches_tracked", np.zeros((), dtype=np.int64))
        else:  # as torch: the attributes exist but are None and not saved
            self.running_mean = self.running_var = self.num_batches_tracked = None
        self._cache = None

    def check_inputs(self, x) -> tuple:
        (x,) = super().check_inputs(x)
        channels, batch_statistics = self.num_features, self.training or not self.track_running_stats
        require(x.ndim in (2, 3) and x.shape[1] == channels, f"BatchNorm1d({channels}) needs an input of "
                f"shape (batch, {channels}) or (batch, {channels}, length); got shape {x.shape}")
        require(not batch_statistics or x.size // channels > 1,
                "BatchNorm1d needs more than 1 value per channel "
                f"in training mode, got input shape {x.shape}; use a larger batch or call .eval()")
        return (x,)

    def forward(self, x: np.ndarray) -> np.ndarray:
        axes = (0,) if x.ndim == 2 else (0, 2)
        stat_shape = (1, -1) if x.ndim == 2 else (1, -1, 1)  # broadcasts a (channels,) vector over X
        use_batch = self.training or not self.track_running_stats
        if use_batch:
            m = x.size // self.num_features  # values per channel
            xhat, rstd, mean, var = _standardize(x, axes, self.eps)
            if self.training and self.track_running_stats:
                self._update_running_stats(mean.reshape(-1), var.reshape(-1), m)
        else:
            rstd = (1.0 / np.sqrt(self.running_var + self.eps)).reshape(stat_shape)
            xhat = (x - self.running_mean.reshape(stat_shape)) * rstd
        self._cache = (xhat, rstd, axes, use_batch)
        if not self.affine:
            return xhat.copy()  # never hand out the cached array
        return xhat * self.weight.data.reshape(stat_shape) + self.bias.data.reshape(stat_shape)

    def _update_running_stats(self, mean: np.ndarray, var: np.ndarray, m: int) -> None:
        """Exponential (or cumulative, when momentum is None) averages, updated in place."""
        self.num_batches_tracked += 1
        f = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
        self.running_mean *= 1.0 - f
        self.running_mean += f * mean
        self.running_var *= 1.0 - f
        self.running_var += f * var * (m / (m - 1))  # the unbiased variance, as torch stores it

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        xhat, rstd, axes, use_batch = self._cache
        dy = g = grad_output
        if self.affine:
            self.weight.accumulate((dy * xhat).sum(axis=axes))  # dγ = Σ_A dY ⊙ X̂
            self.bias.accumulate(dy.sum(axis=axes))  # dβ = Σ_A dY
            g = dy * self.weight.data.reshape(rstd.shape)
        if not use_batch:  # running statistics are constants
            return g * rstd
        return _standardize_backward(g, xhat, rstd, axes)

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"track_running_stats={self.track_running_stats}, dtype={self.dtype.name}"
        )


__all__ = ["BatchNorm1d", "LayerNorm"]
