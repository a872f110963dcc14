"""The prefetch hint changes nothing: not the table, not a kernel's result; and it is compiled in."""

import numpy as np
import pytest
from numba import config, njit

from tinyrec.kernels.embedding import GATHER_AHEAD, gather_rows
from tinyrec.kernels.optim import UPDATE_AHEAD, adam_rows
from tinyrec.kernels.prefetch import PREFETCH_MIN_BYTES, prefetch_row

from .test_optim import numpy_adam


@njit(cache=False)
def _prefetch_every_row_then_sum(table):
    """Prefetch each row (also the last ones, and with any row width), then read the whole table."""
    for r in range(table.shape[0]):
        prefetch_row(table, r)
    return table.sum()


def _tables():
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64, np.int64, np.int8):
        for dim in (1, 7, 16, 17, 64, 300):  # less than, exactly and more than a cache line per row
            yield rng.integers(-100, 100, size=(5, dim)).astype(dtype)
    wide = rng.integers(-100, 100, size=(6, 40)).astype(np.float64)  # whole numbers: exact sums
    yield wide[:, ::3]  # strided columns
    yield np.asfortranarray(wide)  # column-major
    yield wide[::-2]  # rows in reverse with a negative stride


@pytest.mark.parametrize("table", list(_tables()), ids=lambda t: f"{t.dtype}-{t.shape}-{t.strides}")
def test_prefetching_rows_changes_nothing(table):
    before = table.copy()
    assert _prefetch_every_row_then_sum(table) == table.sum()
    np.testing.assert_array_equal(table, before)


def test_plain_python_prefetch_is_a_no_op():
    table = np.arange(12.0).reshape(3, 4)
    assert prefetch_row(table, 1) is None
    np.testing.assert_array_equal(table, np.arange(12.0).reshape(3, 4))


@pytest.mark.skipif(config.DISABLE_JIT, reason="no compiled code under NUMBA_DISABLE_JIT=1")
def test_compiled_code_holds_the_prefetch_instruction():
    # the overload, not the no-op Python function, is what compiled kernels call
    _prefetch_every_row_then_sum(np.zeros((2, 3)))
    compiled = _prefetch_every_row_then_sum.inspect_llvm()  # one LLVM module per argument type
    assert compiled and all("llvm.prefetch" in llvm_ir for llvm_ir in compiled.values())


def _around(ahead: int) -> list[int]:
    """Batch lengths that put the last prefetched row before, at and after the end of the batch."""
    return sorted({0, 1, ahead - 1, ahead, ahead + 1, 3 * ahead})


#: rows of 64 float64 (512 bytes): tables of this many rows are large enough to be prefetched
BIG = PREFETCH_MIN_BYTES // 512 + 1


@pytest.mark.parametrize("n", _around(GATHER_AHEAD))
def test_gather_rows_around_its_prefetch_distance(n):
    rng = np.random.default_rng(n)
    table = rng.standard_normal((BIG, 64))
    assert table.nbytes >= PREFETCH_MIN_BYTES  # the kernel asks for rows ahead
    indices = rng.integers(0, BIG, size=n)
    np.testing.assert_array_equal(gather_rows(table, indices), table[indices])


@pytest.mark.parametrize("m", _around(UPDATE_AHEAD))
def test_adam_rows_around_its_prefetch_distance(m):
    rng = np.random.default_rng(m)
    table = rng.standard_normal((BIG, 64))
    assert table.nbytes >= PREFETCH_MIN_BYTES  # the kernel asks for rows ahead
    m1, m2 = rng.standard_normal((BIG, 64)), rng.uniform(0, 1, (BIG, 64))
    rows = rng.choice(BIG, size=m, replace=False)  # any order, as a RowGrad's unsorted rows
    grads = rng.standard_normal((m, 64))
    coefficients = (0.1, 0.001, 1e-8, 0.01, 0.0, 1.0)
    want_table, want_m1, want_m2 = table.copy(), m1.copy(), m2.copy()
    numpy_adam(want_table, want_m1, want_m2, rows, grads, coefficients)
    adam_rows(table, m1, m2, rows, grads, coefficients)
    for got, want in ((table, want_table), (m1, want_m1), (m2, want_m2)):
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)
