"""The allocation bound: read from TINYREC_MAX_BYTES or the machine, refusing with a clear error."""

import numpy as np
import pytest

from tinyrec import limits
from tinyrec.errors import AllocationError


def test_default_bound_is_half_the_physical_memory(monkeypatch):
    monkeypatch.delenv(limits.ENVIRONMENT_VARIABLE, raising=False)
    assert limits.max_bytes() == limits.physical_memory() // 2 > 0


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1024", 1024),
        ("2K", 2048),
        ("1.5M", 3 << 19),
        ("64G", 64 << 30),
        ("1t", 1 << 40),
        ("8GB", 8 << 30),
        (" 512m ", 512 << 20),
    ],
)
def test_the_environment_variable_sets_the_bound(monkeypatch, text, expected):
    monkeypatch.setenv(limits.ENVIRONMENT_VARIABLE, text)
    assert limits.max_bytes() == expected


@pytest.mark.parametrize("text", ["lots", "-1G", "0", "nanG", "inf"])
def test_a_bad_bound_is_refused_by_name(monkeypatch, text):
    monkeypatch.setenv(limits.ENVIRONMENT_VARIABLE, text)
    with pytest.raises(AllocationError, match=limits.ENVIRONMENT_VARIABLE):
        limits.max_bytes()


def test_an_allocation_over_the_bound_is_refused_before_it_happens(monkeypatch):
    monkeypatch.setenv(limits.ENVIRONMENT_VARIABLE, "1M")
    limits.check_allocation((128, 1024), np.float64, "a table")  # exactly 1 MiB: allowed
    with pytest.raises(
        AllocationError, match=r"a table of shape \(129, 1024\) would take 1\.0 MiB.*1\.0 MiB"
    ):
        limits.check_allocation((129, 1024), np.float64, "a table")
    huge = (10**9, 10**9, 10**9)  # far beyond any int64: Python ints never overflow
    with pytest.raises(MemoryError, match="TINYREC_MAX_BYTES"):
        limits.check_allocation(huge, np.float32, "a crafted shape")
    with pytest.raises(ValueError):  # an AllocationError is a ValueError too
        limits.check_bytes(2 << 20, "a request")


def test_sizes_read_well():
    assert limits.format_bytes(0) == "0 bytes"
    assert limits.format_bytes(1023) == "1023 bytes"
    assert limits.format_bytes(1536) == "1.5 KiB"
    assert limits.format_bytes(3 << 40) == "3.0 TiB"
    assert limits.format_bytes(2**70) == "1048576.0 PiB"
