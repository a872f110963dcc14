"""Every Numba kernel of tinyrec, by topic. No other part of tinyrec imports numba.

Each kernel is written as a plain Python function over plain arrays (``_name``), then compiled in
one line. A kernel that the rest of tinyrec calls (an **entry**) is compiled and guarded::

    als_cg_rows = entry(njit(cache=True)(_als_cg_rows), writes=("X",))

while a helper that only other kernels call stays a plain compiled function
(``contains = njit(cache=True)(_contains)``): nopython code cannot call the guard. The plain
function stays importable and readable; with ``NUMBA_DISABLE_JIT=1`` ``njit`` returns it unchanged
(the guard then wraps the plain function), so everything still runs.

Why the guard: a compiled kernel reads an array's memory as the dtype it was compiled for, and
Numba's quick lookup of a compiled version ignores the byte order of an array inside a tuple
argument. A big-endian array (from a file written on another machine, or crafted) then reuses the
native compilation: the kernel reads ``1`` as ``72057594037927936``, and an index read that way
can make it read or write out of bounds. Outside a tuple, Numba refuses it with a typing traceback.
So :func:`entry` looks at every array argument (also inside tuples) before Numba does:

* its dtype must be bool, a signed or unsigned integer, float32 or float64, else
  :class:`~tinyrec.errors.DTypeError` (object, structured, string, complex, float16 arrays);
* in the machine's byte order it goes straight through (the usual case: one set lookup per array);
* in the other byte order, an argument the kernel only reads is converted to a native copy (the
  same numbers, so the same result), and an argument the kernel writes into (listed in
  ``writes``) is refused with DTypeError: the writes would land in a copy and be lost.

``tests/kernels/test_entry.py`` calls every entry with each argument swapped, after a native call
(so a stale compiled version would be hit), and checks each ``writes`` list by running the kernel
with every other argument read-only.
"""

from __future__ import annotations

import inspect

import numpy as np

from ..errors import DTypeError

#: What a classic model's ``backend=`` may be: the compiled kernels, or their plain Python bodies.
BACKENDS = ("numba", "python")

#: The array dtypes a kernel accepts, in the machine's byte order.
KERNEL_DTYPES = frozenset(
    np.dtype(t)
    for t in (np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64,
              np.float32, np.float64)
)  # fmt: skip


def select(kernel, backend: str):
    """``kernel`` itself (``backend="numba"``), or the plain Python function it was compiled from.

    The plain body (``"python"``) computes the same numbers, about a thousand times slower, and can
    be stepped through in a debugger; unlike ``NUMBA_DISABLE_JIT=1`` it changes one model, not the
    whole process. (Under ``NUMBA_DISABLE_JIT=1`` the kernel already runs its plain body, behind the
    same guard.) The plain body reads arrays of either byte order correctly, so it needs no guard.
    """
    return getattr(kernel, "py_func", kernel) if backend == "python" else kernel


def set_kernel_threads(threads: int) -> None:
    """Let Numba's parallel kernels use ``threads`` threads (at most ``NUMBA_NUM_THREADS``, the cores)."""
    from numba import config, set_num_threads

    set_num_threads(min(int(threads), config.NUMBA_NUM_THREADS))


def entry(kernel, *, writes: tuple[str, ...]):
    """``kernel`` (a compiled kernel) behind a guard on the arrays it is given; see the module docstring.

    ``writes`` names the arguments the kernel writes into (``()`` for none). The result is called
    like the kernel, with the arguments by position or by name; it has the kernel's docstring and
    signature, ``.py_func`` (the plain Python function) and ``.kernel`` (what it guards).
    """
    py_func = getattr(kernel, "py_func", kernel)
    signature = inspect.signature(py_func)
    names = tuple(signature.parameters)
    if not set(writes) <= set(names):
        raise ValueError(f"{py_func.__name__} has no argument {sorted(set(writes) - set(names))}")
    public = py_func.__name__.lstrip("_")
    where = f"{py_func.__module__}.{public}"
    written = frozenset(writes)

    def guarded(*args, **kwargs):
        if kwargs:
            args = signature.bind(*args, **kwargs).args
        for a in args:
            if (isinstance(a, np.ndarray) and a.dtype not in KERNEL_DTYPES) or (
                isinstance(a, tuple) and not _acceptable(a)
            ):
                return kernel(*_converted(args, names, written, where))
        return kernel(*args)

    guarded.__name__ = guarded.__qualname__ = public
    guarded.__module__, guarded.__doc__ = py_func.__module__, py_func.__doc__
    guarded.__signature__ = signature
    guarded.py_func, guarded.kernel, guarded.writes = py_func, kernel, tuple(writes)
    return guarded


def _converted(args: tuple, names: tuple, written: frozenset, where: str) -> tuple:
    """``args`` with non-native arrays the kernel only reads converted; DTypeError for the others."""
    n = min(len(args), len(names))
    pairs = zip(names[:n], args[:n], strict=True)
    return (*(_native(value, name, name in written, where) for name, value in pairs), *args[n:])


def _acceptable(values: tuple) -> bool:
    """True when every array in ``values`` (a tuple argument, nested tuples included) passes as is."""
    for v in values:
        if isinstance(v, np.ndarray) and v.dtype not in KERNEL_DTYPES:
            return False
        if isinstance(v, tuple) and not _acceptable(v):
            return False
    return True


def _native(value, name: str, written: bool, where: str):
    """``value`` with its arrays in native byte order (converted copies), or DTypeError."""
    if isinstance(value, tuple):
        return tuple(_native(v, f"{name}[{i}]", written, where) for i, v in enumerate(value))
    if not isinstance(value, np.ndarray) or value.dtype in KERNEL_DTYPES:
        return value
    native = value.dtype.newbyteorder("=")
    if native not in KERNEL_DTYPES:
        raise DTypeError(
            f"{where}: argument {name} has dtype {value.dtype}; tinyrec's compiled kernels take arrays of "
            f"bool, integers, float32 or float64: convert it with .astype (e.g. .astype(np.float64))"
        )
    if written:
        raise DTypeError(
            f"{where}: argument {name} is in non-native byte order ({value.dtype.str}) and the kernel "
            f"writes into it, so a converted copy would lose the writes; convert it first with "
            f"{name} = {name}.astype({name}.dtype.newbyteorder('=')) and pass the converted array"
        )
    return value.astype(native)
