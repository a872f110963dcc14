"""How many threads tinyrec's work uses: NumPy's BLAS (matrix products) and Numba's parallel kernels.

The matrix products of a training batch or of a batch of users are small, and a BLAS library
wakes one thread per core for each of them by default: on a machine whose cores are busy with
other work, waking and synchronising those threads costs far more than the product. So tinyrec
trains and evaluates with BLAS limited to **one thread** (through ``threadpoolctl``), and its
own kernels are single-threaded except where they say otherwise (``BiasedMF(n_blocks=...)``).

A user setting wins: when one of ``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``,
``MKL_NUM_THREADS``, ``BLIS_NUM_THREADS`` or ``VECLIB_MAXIMUM_THREADS`` is set, BLAS is left as
that says. :func:`set_threads` (``tinyrec --threads N`` on the command line) sets the number of
threads for BLAS and for Numba's parallel kernels alike.
"""

from __future__ import annotations

import contextlib
import os

from threadpoolctl import threadpool_limits

from .kernels import set_kernel_threads
from .validation import check_positive_int

#: environment variables by which a user sets BLAS's threads; any of them set: tinyrec does not limit
USER_VARIABLES = (
    "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
)  # fmt: skip

_blas_threads = 1  # what training and evaluation limit BLAS to; set_threads changes it


def set_threads(threads: int) -> None:
    """Use ``threads`` threads for BLAS (while tinyrec trains and evaluates) and for Numba's kernels."""
    global _blas_threads
    _blas_threads = check_positive_int(threads, "threads")
    set_kernel_threads(_blas_threads)


def user_set_blas_threads() -> bool:
    """Whether the environment sets BLAS's thread count (then tinyrec leaves BLAS alone)."""
    return any(os.environ.get(name) for name in USER_VARIABLES)


def limit_blas(threads: int | None = None):
    """A context in which BLAS uses ``threads`` threads (default: :func:`set_threads`'s, 1).

    Does nothing when the environment sets BLAS's threads (:data:`USER_VARIABLES`). On leaving the
    context, BLAS's previous thread counts are restored.
    """
    if user_set_blas_threads():
        return contextlib.nullcontext()
    return threadpool_limits(limits=_blas_threads if threads is None else threads, user_api="blas")
