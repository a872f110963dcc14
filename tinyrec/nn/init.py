"""Seeded weight initializers, with the formulas of ``torch.nn.init``.

Each function returns a new array of ``shape`` and ``dtype`` drawn from ``rng`` (a
``np.random.Generator``, or a seed). ``fan_in`` / ``fan_out`` follow torch: for a weight of shape
``(out, in, *kernel)``, ``fan_in = in * prod(kernel)`` and ``fan_out = out * prod(kernel)``.

================================  =========================================================
function                          distribution
================================  =========================================================
``uniform(shape, a, b)``          U(a, b)
``normal(shape, mean, std)``      N(mean, std²)
``zeros(shape)``                  0
``xavier_uniform(shape, gain)``   U(−a, a), a = gain · sqrt(6 / (fan_in + fan_out))
``xavier_normal(shape, gain)``    N(0, std²), std = gain · sqrt(2 / (fan_in + fan_out))
``kaiming_uniform(shape, a)``     U(−b, b), b = gain · sqrt(3 / fan_in), gain = sqrt(2 / (1 + a²))
``kaiming_normal(shape, a)``      N(0, std²), std = gain / sqrt(fan_in)
================================  =========================================================

``torch.nn.Linear`` initializes its weight with ``kaiming_uniform(a=sqrt(5))``, which is
U(−1/sqrt(in), 1/sqrt(in)), and its bias with U(−1/sqrt(in), 1/sqrt(in)).
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import ArgumentTypeError
from ..validation import as_generator, check_finite_real, check_int_at_least, check_nonnegative, resolve_dtype
from .spec import require


def _check_shape(shape) -> tuple[int, ...]:
    """``shape`` as a tuple of integers >= 0 (an int alone is a 1-D shape, as in NumPy)."""
    if isinstance(shape, (int, np.integer)):
        dims = (shape,)
    elif isinstance(shape, (tuple, list)):
        dims = tuple(shape)
    else:
        raise ArgumentTypeError(f"shape must be an int or a tuple of ints, got {shape!r}")
    return tuple(check_int_at_least(d, "each dimension of shape", 0) for d in dims)


def fan_in_and_fan_out(shape: tuple[int, ...]) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight of ``shape`` as torch computes them."""
    shape = _check_shape(shape)
    if len(shape) < 2:
        raise ValueError(f"fan in and fan out need a weight with at least 2 dimensions, got {shape}")
    receptive = math.prod(shape[2:]) if len(shape) > 2 else 1
    fan_in, fan_out = shape[1] * receptive, shape[0] * receptive
    require(fan_in > 0 and fan_out > 0, f"a weight of shape {shape} has no inputs or no outputs; every "
            f"dimension must be >= 1", ValueError)  # the scaled initializers would divide by zero
    return fan_in, fan_out


def uniform(shape, a: float = 0.0, b: float = 1.0, *, dtype=np.float32, seed=None) -> np.ndarray:
    a, b = check_finite_real(a, "a"), check_finite_real(b, "b")
    require(a <= b, f"uniform needs a <= b, got a={a}, b={b}", ValueError)
    if not np.isfinite(b - a):
        raise ValueError(f"uniform's interval [{a}, {b}] is too wide to sample (b - a overflows)")
    shape, rng = _check_shape(shape), as_generator(seed)
    return rng.uniform(a, b, size=shape).astype(resolve_dtype(dtype))


def normal(shape, mean: float = 0.0, std: float = 1.0, *, dtype=np.float32, seed=None) -> np.ndarray:
    mean, std = check_finite_real(mean, "mean"), check_nonnegative(std, "std")
    shape, rng = _check_shape(shape), as_generator(seed)
    return (mean + std * rng.standard_normal(size=shape)).astype(resolve_dtype(dtype))


def zeros(shape, *, dtype=np.float32) -> np.ndarray:
    return np.zeros(_check_shape(shape), dtype=resolve_dtype(dtype))


def xavier_uniform(shape, gain: float = 1.0, *, dtype=np.float32, seed=None) -> np.ndarray:
    gain = check_nonnegative(gain, "gain")
    fan_in, fan_out = fan_in_and_fan_out(shape)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform(shape, -a, a, dtype=dtype, seed=seed)


def xavier_normal(shape, gain: float = 1.0, *, dtype=np.float32, seed=None) -> np.ndarray:
    gain = check_nonnegative(gain, "gain")
    fan_in, fan_out = fan_in_and_fan_out(shape)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return normal(shape, 0.0, std, dtype=dtype, seed=seed)


def kaiming_uniform(shape, a: float = 0.0, *, dtype=np.float32, seed=None) -> np.ndarray:
    a = check_finite_real(a, "a")  # the negative slope of the leaky ReLU that follows
    fan_in, _ = fan_in_and_fan_out(shape)
    gain = math.sqrt(2.0 / (1.0 + a * a))
    bound = gain * math.sqrt(3.0 / fan_in)
    return uniform(shape, -bound, bound, dtype=dtype, seed=seed)


def kaiming_normal(shape, a: float = 0.0, *, dtype=np.float32, seed=None) -> np.ndarray:
    a = check_finite_real(a, "a")
    fan_in, _ = fan_in_and_fan_out(shape)
    gain = math.sqrt(2.0 / (1.0 + a * a))
    return normal(shape, 0.0, gain / math.sqrt(fan_in), dtype=dtype, seed=seed)
