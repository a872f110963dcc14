"""How much memory a file or a hyperparameter may make tinyrec allocate, checked before allocating.

A model file, a data file or a hyperparameter can ask for an array of any size: a crafted file
may declare a member of a terabyte, and ``BiasedMF(n_factors=10**9)`` asks for ``n_users`` rows
of a billion floats. Where a size comes from such input, tinyrec checks it against one bound
before the allocation, and refuses with :class:`~tinyrec.errors.AllocationError` (a
``ValueError`` and a ``MemoryError``), naming what asked, how much, and how to raise the bound.

The bound: **half the machine's physical memory** per request (the whole of it, for a request
that never holds the data twice, is not safer than half: NumPy often needs a temporary of the
same size). ``TINYREC_MAX_BYTES`` sets another bound, as bytes or with a suffix: ``64G``,
``512M``, ``2T``. The bound is read at each check, so a running program can change it.
"""

from __future__ import annotations

import math
import os

import numpy as np

from .errors import AllocationError

ENVIRONMENT_VARIABLE = "TINYREC_MAX_BYTES"
_SUFFIXES = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
_FALLBACK_MEMORY = 8 << 30  # when the machine's memory cannot be read


def physical_memory() -> int:
    """The machine's physical memory in bytes (8 GiB where the system does not say)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, OSError, ValueError):  # not POSIX, or the value is unavailable
        return _FALLBACK_MEMORY


def max_bytes() -> int:
    """The bound on one allocation: ``TINYREC_MAX_BYTES`` if set, else half the physical memory."""
    text = os.environ.get(ENVIRONMENT_VARIABLE, "").strip().upper().removesuffix("B")
    if not text:
        return physical_memory() // 2
    number, suffix = (text[:-1], text[-1]) if text[-1] in _SUFFIXES else (text, "")
    try:
        value = float(number) * _SUFFIXES[suffix]
    except ValueError:
        raise AllocationError(
            f"{ENVIRONMENT_VARIABLE}={os.environ[ENVIRONMENT_VARIABLE]!r} is not a size; write bytes, "
            f"or a number with K, M, G or T (e.g. 64G)"
        ) from None
    if not math.isfinite(value) or value <= 0:
        raise AllocationError(f"{ENVIRONMENT_VARIABLE} must be a positive size, got {value}")
    return int(value)


def check_allocation(shape, dtype, what: str) -> None:
    """Raise AllocationError unless an array of ``shape`` and ``dtype`` fits the bound.

    ``shape`` is a tuple of non-negative ints (Python ints: the product never overflows);
    ``what`` names the array and what asked for it, e.g. ``"BiasedMF's user factors
    (n_users x n_factors)"``.
    """
    elements = math.prod(int(n) for n in shape)
    check_bytes(elements * np.dtype(dtype).itemsize, what, shape=tuple(int(n) for n in shape))


def check_bytes(n_bytes: int, what: str, *, shape: tuple | None = None) -> None:
    """Raise AllocationError unless ``n_bytes`` fits the bound (see :func:`check_allocation`)."""
    bound = max_bytes()
    if n_bytes > bound:
        size = f" of shape {shape}" if shape is not None else ""
        raise AllocationError(
            f"{what}{size} would take {format_bytes(n_bytes)}, more than tinyrec's bound of "
            f"{format_bytes(bound)}; if that is intended and the machine has the memory, raise the bound "
            f"with {ENVIRONMENT_VARIABLE} (e.g. {ENVIRONMENT_VARIABLE}=64G), else ask for less"
        )


def format_bytes(n_bytes: float) -> str:
    """``1536`` -> ``"1.5 KiB"``: a size for a message."""
    units = ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB")
    power = 0
    while n_bytes >= 1024 and power < len(units) - 1:
        n_bytes /= 1024
        power += 1
    return f"{n_bytes:.0f} bytes" if power == 0 else f"{n_bytes:.1f} {units[power]}"
