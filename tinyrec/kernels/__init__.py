"""Every Numba kernel of tinyrec, by topic. No other part of tinyrec imports numba.

Each kernel is written as a plain Python function over plain arrays (``_name``), then jitted in
one line (``name = njit(cache=True)(_name)``). The plain function stays importable and readable;
with ``NUMBA_DISABLE_JIT=1`` the jitted name *is* the plain function, so everything still runs.
"""
