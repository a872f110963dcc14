"""Every Numba kernel of tinyrec, by topic. No other part of tinyrec imports numba.

Each kernel is written as a plain Python function over plain arrays (``_name``), then jitted in
one line (``name = njit(cache=True)(_name)``). The plain function stays importable and readable;
with ``NUMBA_DISABLE_JIT=1`` the jitted name *is* the plain function, so everything still runs.
"""

#: What a classic model's ``backend=`` may be: the compiled kernels, or their plain Python bodies.
BACKENDS = ("numba", "python")


def select(kernel, backend: str):
    """``kernel`` itself (``backend="numba"``), or the plain Python function it was compiled from.

    The plain body (``"python"``) computes the same numbers, about a thousand times slower, and can
    be stepped through in a debugger; unlike ``NUMBA_DISABLE_JIT=1`` it changes one model, not the
    whole process. (Under ``NUMBA_DISABLE_JIT=1`` the kernel already is the plain function.)
    """
    return getattr(kernel, "py_func", kernel) if backend == "python" else kernel


def set_kernel_threads(threads: int) -> None:
    """Let Numba's parallel kernels use ``threads`` threads (at most ``NUMBA_NUM_THREADS``, the cores)."""
    from numba import config, set_num_threads

    set_num_threads(min(int(threads), config.NUMBA_NUM_THREADS))
