"""Thread settings: BLAS limited while tinyrec works, a user's setting respected, set_threads for both."""

import contextlib

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from tinyrec import threads


def _blas_threads():
    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]


def test_limit_blas_limits_inside_and_restores_after(monkeypatch):
    for name in threads.USER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    before = _blas_threads()
    with threads.limit_blas():
        assert all(n == 1 for n in _blas_threads())
        np.ones((64, 64)) @ np.ones((64, 64))
    assert _blas_threads() == before
    with threads.limit_blas(2):
        assert all(n <= 2 for n in _blas_threads())


@pytest.mark.parametrize("name", threads.USER_VARIABLES)
def test_a_user_setting_wins(monkeypatch, name):
    monkeypatch.setenv(name, "4")
    before = _blas_threads()
    with threads.limit_blas():
        assert _blas_threads() == before


def test_set_threads_sets_blas_and_numba_alike(monkeypatch):
    import numba

    for name in threads.USER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    try:
        threads.set_threads(1)
        assert numba.get_num_threads() == 1
        with threads.limit_blas():
            assert all(n == 1 for n in _blas_threads())
        threads.set_threads(10**6)  # more than the cores: Numba takes what it has
        assert numba.get_num_threads() == numba.config.NUMBA_NUM_THREADS
        assert threads.blas_threads() == 10**6 and "10" in threads.describe()
    finally:
        threads.set_threads(None)  # back to the defaults
    assert numba.get_num_threads() == numba.config.NUMBA_NUM_THREADS
    assert threads.blas_threads() == 1 and threads.describe() == "BLAS 1 thread (tinyrec's default)"
    for bad in (0, -1, 1.5, "2", True):
        with pytest.raises(ValueError, match="threads"):
            threads.set_threads(bad)


def test_an_explicit_number_wins_over_the_environment(monkeypatch):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    assert threads.blas_threads() is None and "OPENBLAS_NUM_THREADS=2" in threads.describe()
    with threads.limit_blas(1):  # an argument
        assert all(n == 1 for n in _blas_threads())
    try:
        threads.set_threads(1)  # tinyrec --threads 1
        with threads.limit_blas():
            assert all(n == 1 for n in _blas_threads())
    finally:
        threads.set_threads(None)
    assert isinstance(threads.limit_blas(), contextlib.nullcontext)  # the environment decides again
