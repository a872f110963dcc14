"""How many threads tinyrec's work uses: NumPy's BLAS (matrix products) and Numba's parallel kernels.

The matrix products of a training batch or of a batch of users are small, and a BLAS library
wakes one thread per core for each of them by default: on a machine whose cores are busy with
other work, waking and synchronising those threads costs far more than the product (one
``(1024, 32) @ (32, 64)`` product took 60 ms on two busy cores with OpenBLAS's two threads, and
0.1 ms on one). So every training and evaluation path of tinyrec — ``Recommender.fit`` of every
model, :func:`tinyrec.train.fit`, :func:`tinyrec.models.training.fit_recommender` and
:func:`tinyrec.evaluate` — runs inside :func:`limit_blas`, with BLAS limited to **one thread**
(through ``threadpoolctl``, a dependency of tinyrec); BLAS's own setting is restored on the way
out. tinyrec's Numba kernels are single-threaded except where they say otherwise
(``BiasedMF(n_blocks=...)``).

Who decides, first match wins:

1. an explicit number: ``limit_blas(threads)``, ``fit_recommender(..., blas_threads=n)``, or
   :func:`set_threads` (``tinyrec --threads N`` on the command line), which also sets the
   threads of Numba's parallel kernels;
2. the environment: when one of :data:`USER_VARIABLES` (``OMP_NUM_THREADS``,
   ``OPENBLAS_NUM_THREADS``, ...) is set, BLAS is left as that says;
3. tinyrec's default: one BLAS thread.
"""

from __future__ import annotations

import contextlib
import os

from threadpoolctl import threadpool_limits

from .kernels import set_kernel_threads
from .validation import check_positive_int

#: environment variables by which a user sets BLAS's threads; any of them set (and no explicit
#: number given): tinyrec does not limit BLAS
USER_VARIABLES = (
    "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
)  # fmt: skip

_DEFAULT_BLAS_THREADS = 1
_chosen: int | None = None  # set_threads's number, which wins over the environment
_ALL_NUMBA_THREADS = 1 << 20  # set_kernel_threads caps it at NUMBA_NUM_THREADS: all of Numba's threads


def set_threads(threads: int | None) -> None:
    """Use ``threads`` threads for BLAS (while tinyrec trains and evaluates) and for Numba's kernels.

    An explicit choice: it wins over the environment's BLAS variables (:data:`USER_VARIABLES`).
    Numba gets at most the threads it started with (``NUMBA_NUM_THREADS``, the cores by default).
    ``None`` goes back to the defaults: BLAS as the module docstring says, Numba on all its threads.
    """
    global _chosen
    _chosen = None if threads is None else check_positive_int(threads, "threads")
    set_kernel_threads(_ALL_NUMBA_THREADS if _chosen is None else _chosen)


def user_set_blas_threads() -> bool:
    """Whether the environment sets BLAS's thread count (then tinyrec's default leaves BLAS alone)."""
    return any(os.environ.get(name) for name in USER_VARIABLES)


def blas_threads() -> int | None:
    """The BLAS threads tinyrec's work uses now; None when the environment decides (see the module)."""
    if _chosen is not None:
        return _chosen
    return None if user_set_blas_threads() else _DEFAULT_BLAS_THREADS


def describe() -> str:
    """The thread setting in words, for a report: ``"BLAS 1 thread (tinyrec's default)"``, ..."""
    if _chosen is not None:
        return f"BLAS and Numba {_chosen} thread{'s' * (_chosen > 1)} (set_threads / --threads)"
    if user_set_blas_threads():
        shown = ", ".join(f"{name}={os.environ[name]}" for name in USER_VARIABLES if os.environ.get(name))
        return f"BLAS as the environment sets it ({shown})"
    return "BLAS 1 thread (tinyrec's default)"


def limit_blas(threads: int | None = None):
    """A context in which BLAS uses ``threads`` threads (default: :func:`blas_threads`).

    Without ``threads`` and without :func:`set_threads`, it does nothing when the environment sets
    BLAS's threads (:data:`USER_VARIABLES`). On leaving the context, BLAS's previous thread counts
    are restored.
    """
    if threads is None:
        threads = blas_threads()
        if threads is None:
            return contextlib.nullcontext()
    return threadpool_limits(limits=check_positive_int(threads, "threads"), user_api="blas")
