"""Helpers the tests share: optional torch, real data sets.

``require_torch()`` and ``dataset_dir(name)`` skip when torch / a real data set is absent, but
**fail** instead when ``TINYREC_REQUIRE_TORCH`` / ``TINYREC_REQUIRE_DATA`` is set (``.ci/run``
sets both, so CI never passes by skipping).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def require_torch():
    """Import and return torch; skip the test when absent (fail when TINYREC_REQUIRE_TORCH=1)."""
    try:
        import torch
    except ImportError:
        if os.environ.get("TINYREC_REQUIRE_TORCH"):
            pytest.fail("torch is required here (TINYREC_REQUIRE_TORCH=1): pip install torch==2.13.0")
        pytest.skip("torch is not installed (pip install torch==2.13.0 for the parity tests)")
    torch.set_default_dtype(torch.float64)
    return torch


def dataset_dir(name: str, required_file: str | None = None) -> Path:
    """``$TINYREC_DATA/<name>``; skip when absent (fail when TINYREC_REQUIRE_DATA=1)."""
    root = os.environ.get("TINYREC_DATA")
    path = Path(root) / name if root else None
    ok = path is not None and path.is_dir() and (required_file is None or (path / required_file).exists())
    if not ok:
        why = f"real data set {name!r} not found (set TINYREC_DATA to a folder holding {name}/)"
        if os.environ.get("TINYREC_REQUIRE_DATA"):
            pytest.fail(why + " — required in CI (TINYREC_REQUIRE_DATA=1)")
        pytest.skip(why)
    return path
