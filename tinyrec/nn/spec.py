"""What a layer accepts, declared once, and the checks that enforce it at the public boundary.

A layer lists its positional (and keyword) inputs in the class attribute ``input_spec``::

    class Linear(Module):
        input_spec = (Floats("x", min_ndim=1, last="in_features"),)

and :meth:`Module.__call__ <tinyrec.nn.module.Module.__call__>` checks every call against it before
``forward`` runs, so ``forward`` and ``backward`` hold the math alone. Calling ``forward`` directly
skips the checks: composites do that for the children they built themselves, whose inputs are
right by construction, so one batch is checked once, where it enters.

The rules, shared by every layer:

* a float input is a NumPy array of float32 or float64; a layer with parameters (it has a
  ``dtype`` attribute) takes only its own dtype, a layer without follows its input, and all the
  float inputs of one call share one dtype (``Multiply(a32, b64)`` is refused);
* ``ndim`` / ``min_ndim`` bound the number of axes; ``last`` names the layer attribute that the size
  of the last axis must equal (``"in_features"``); ``axes`` names attributes that must be valid
  axes of the input (Softmax's ``dim``); ``nonempty`` asks for at least one element;
* an id input holds integers in ``[0, bound)``, ``bound`` a layer attribute (``"num_embeddings"``);
  lists are accepted and come back as int64 arrays;
* an optional input may be None.

A layer whose inputs relate to each other (attention's key and value shapes) adds those rules in
its own ``check_inputs``, after the declared ones, reading every argument by name with
:func:`call_arguments`; boolean masks are checked by :func:`check_mask`. Convolutions and pools
declare a :class:`Windowed` input (NCL / NCHW, long enough for one window). The gradient that
``backward`` receives is checked by :mod:`tinyrec.nn.module` against the output ``forward`` returned.
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass

import numpy as np

from ..errors import DTypeError, ShapeError
from ..validation import check_float_array, check_index_array, check_ndim


@dataclass(frozen=True)
class Floats:
    """A float array input; see the module docstring for the meaning of each field."""

    name: str
    ndim: int | tuple[int, ...] | None = None
    min_ndim: int = 0
    last: str | None = None
    axes: tuple[str, ...] = ()
    nonempty: bool = False
    optional: bool = False

    def check(self, x, layer, dtype: np.dtype | None) -> np.ndarray:
        """Return ``x`` (never copied) or raise; ``dtype`` is the dtype the call must use, if fixed."""
        where = f"{_name(layer)} input {self.name}"
        check_float_array(x, self.name, where=where)
        if dtype is not None and x.dtype != dtype:
            raise DTypeError(_dtype_message(where, x.dtype, dtype, layer))
        check_ndim(x, where, self.ndim, self.min_ndim)
        if self.last is not None and x.shape[-1] != getattr(layer, self.last):
            size = getattr(layer, self.last)
            raise ShapeError(
                f"{_name(layer)} got {self.name} of shape {x.shape}; its last axis must have size "
                f"{self.last}={size}"
            )
        for attribute in self.axes:
            axis = getattr(layer, attribute)
            if not -x.ndim <= axis < x.ndim:
                raise ShapeError(
                    f"{_name(layer)}: {attribute}={axis} is out of range for an input with {x.ndim} "
                    f"dimension(s) (valid: {-x.ndim} to {x.ndim - 1})"
                )
        if self.nonempty and x.size == 0:
            raise ShapeError(f"{where} of shape {x.shape} is empty; every axis needs length >= 1")
        return x


@dataclass(frozen=True)
class Ids:
    """An integer array of ids in ``[0, layer.<bound>)``, returned as int64."""

    name: str
    bound: str
    ndim: int | tuple[int, ...] | None = None
    optional: bool = False

    def check(self, ids, layer, dtype=None) -> np.ndarray:
        where = f"{_name(layer)} input {self.name}"
        return check_index_array(ids, where, getattr(layer, self.bound), ndim=self.ndim)


@dataclass(frozen=True)
class Windowed:
    """Floats ``(batch, channels, *spatial)``, or unbatched ``(channels, *spatial)``, ``d`` spatial axes.

    Each spatial axis must hold one window of the layer's ``kernel_size`` after ``padding`` (with
    ``dilation``, when the layer has one); ``channels`` names the layer attribute that the channel
    axis must equal (a convolution's ``"in_channels"``).
    """

    name: str
    d: int
    channels: str | None = None
    optional: bool = False

    def check(self, x, layer, dtype: np.dtype | None) -> np.ndarray:
        x = Floats(self.name).check(x, layer, dtype)
        d, name = self.d, _name(layer)
        layout = "(batch, channels, length)" if d == 1 else "(batch, channels, height, width)"
        require(x.ndim in (d + 1, d + 2),
                f"{name} expects an input of shape {layout} or the same without batch; got shape {x.shape}")
        if self.channels is not None:
            want = getattr(layer, self.channels)
            require(x.shape[-d - 1] == want, f"{name} was built for {want} input channels but the input of "
                    f"shape {x.shape} has {x.shape[-d - 1]}; channels come right after the batch axis "
                    f"(NCL / NCHW layout)")
        if not hasattr(layer, "kernel_size"):  # adaptive pooling: the windows follow the input
            return x
        dilation = getattr(layer, "dilation", (1,) * d)
        sizes = zip(x.shape[-d:], layer.kernel_size, layer.padding, dilation, strict=True)
        for axis, (n, k, p, dl) in enumerate(sizes):
            where = "length" if d == 1 else f"size along spatial axis {axis}"
            extent = dl * (k - 1) + 1
            require(n + 2 * p >= extent, f"{name}: input {where} {n} (+ 2 × padding {p}) is shorter than the "
                    f"kernel extent {extent}; use longer (or padded) inputs, more padding, or a smaller "
                    f"kernel_size")
        return x


def check_inputs(layer, inputs: tuple, kwargs: dict) -> tuple:
    """Check ``inputs`` (positional) and ``kwargs`` against ``layer.input_spec``; return the inputs.

    Positional inputs beyond the spec and keywords it does not name are passed through (flags such
    as ``need_weights``), as are optional inputs given as None.
    """
    spec = type(layer).input_spec
    dtype = getattr(layer, "dtype", None)  # a layer with parameters fixes the dtype of its inputs
    checked = []
    for position, value in enumerate(inputs):
        item = spec[position] if position < len(spec) else None
        checked.append(_check_one(item, value, layer, dtype))
        if dtype is None and isinstance(item, Floats) and value is not None:
            dtype = value.dtype  # the first float input fixes the dtype of the others
    for item in spec[len(inputs) :]:
        if item.name in kwargs:
            _check_one(item, kwargs[item.name], layer, dtype)
        elif not item.optional:
            raise TypeError(f"{_name(layer)} needs the input {item.name!r}")
    return tuple(checked)


def _check_one(item, value, layer, dtype):
    if item is None or (value is None and item.optional):
        return value
    return item.check(value, layer, dtype)


def call_arguments(layer, inputs: tuple, kwargs: dict) -> dict:
    """The arguments of ``layer.forward(*inputs, **kwargs)`` by name, defaults filled in.

    For a ``check_inputs`` whose rules relate inputs that may come by position or by keyword.
    """
    bound = _signature(type(layer)).bind(layer, *inputs, **kwargs)
    bound.apply_defaults()
    return bound.arguments


@functools.cache
def _signature(cls) -> inspect.Signature:
    return inspect.signature(cls.forward)


def check_mask(mask, where: str, shapes) -> np.ndarray:
    """``mask``, a boolean array (True = masked) of one of ``shapes``, or raise naming ``where``."""
    if not isinstance(mask, np.ndarray) or mask.dtype != np.bool_:
        got = mask.dtype if isinstance(mask, np.ndarray) else type(mask).__name__
        raise DTypeError(f"{where} must be a boolean array (True = masked), got {got}; an additive float "
                         f"mask converts with mask == -np.inf")
    want = " or ".join(str(tuple(s)) for s in shapes)
    require(mask.shape in [tuple(s) for s in shapes], f"{where} has shape {mask.shape}; expected {want}")
    return mask


def check_row_gradient(indices, values) -> tuple[np.ndarray, np.ndarray]:
    """``RowGrad.from_indices``' arguments checked: ``(indices, values)`` as flat int64 ``(n,)`` and
    ``(n, dim)`` (float16 and long double values as float64, the widths the kernels add in)."""
    indices, values = np.asarray(indices), np.asarray(values)
    if indices.size and indices.dtype.kind not in "iu":
        raise DTypeError(
            f"RowGrad.from_indices needs integer indices (rows of a table); got dtype {indices.dtype}"
        )
    require(
        values.ndim > 0 and values.shape[:-1] in (indices.shape, (indices.size,)),
        f"RowGrad.from_indices needs one gradient vector per index, values of shape indices.shape + (dim,); "
        f"got indices of shape {indices.shape} and values of shape {values.shape}",
    )
    if values.dtype.kind not in "fiu":
        raise DTypeError(
            f"RowGrad.from_indices needs real gradients; got values of dtype {values.dtype}: cast them with "
            f".astype(np.float32) or .astype(np.float64)"
        )
    if values.dtype.kind == "f" and values.dtype.itemsize not in (4, 8):
        values = values.astype(np.float64)
    indices = indices.astype(np.int64, copy=False).reshape(-1)
    # (n, dim) even for an empty batch, where reshape(0, -1) cannot infer dim
    return indices, values.reshape(indices.shape[0], values.shape[-1])


def require(condition: bool, message: str, error: type[Exception] = ShapeError) -> None:
    """Raise ``error(message)`` unless ``condition``: one line per relation in ``check_inputs``."""
    if not condition:
        raise error(message)


def _name(layer) -> str:
    return type(layer).__name__


def _dtype_message(where: str, got: np.dtype, want: np.dtype, layer) -> str:
    convert = ".double()" if got == np.float64 else ".float()"
    return (
        f"{where} has dtype {got} but {_name(layer)} computes in {want}; cast the input with "
        f".astype(np.{want.name}) or convert the layer with {convert}"
    )
