"""What the tests against other libraries share: importing a library, and drawing random cases.

``require(module, pip_name)`` imports a library or skips the test without it; with
``TINYREC_REQUIRE_LIBRARIES=1`` (set by .ci/run, which installs them) a missing library fails the test
instead, so CI never passes by skipping.

``random_case(rng, ties=...)`` draws ``scores, relevance`` of a few users: positive scores (some
libraries drop items scored <= 0), with ties (a few distinct levels) or without, binary or graded
relevance, and users with no relevant item.
"""

from __future__ import annotations

import importlib
import os

import numpy as np
import pytest

#: the cut-offs every comparison is made at: 1, inside the list, beyond it
CUTOFFS = (1, 3, 5, 12)


def require(module: str, pip_name: str):
    """Import ``module``; skip without it (fail when TINYREC_REQUIRE_LIBRARIES=1)."""
    try:
        return importlib.import_module(module)
    except ImportError:
        why = f"{module} is not installed (pip install {pip_name}, or tinyrec's 'reference' extra)"
        if os.environ.get("TINYREC_REQUIRE_LIBRARIES"):
            pytest.fail(why + " — required in CI (TINYREC_REQUIRE_LIBRARIES=1)")
        pytest.skip(why)


def random_case(
    rng: np.random.Generator, *, ties: bool, graded: bool = False, n_users: int = 6, n_cols: int = 8
):
    """``(scores, relevance)``, both ``(n_users, n_cols)`` float64; user 0 has no relevant item."""
    if ties:
        scores = rng.integers(1, 4, (n_users, n_cols)) / 4.0  # three levels: ties in every row
    else:
        scores = np.stack([rng.permutation(n_cols) + 1.0 for _ in range(n_users)]) / n_cols + rng.random(
            (n_users, 1)
        )
    top = 3 if graded else 1
    relevance = rng.integers(1, top + 1, (n_users, n_cols)) * (rng.random((n_users, n_cols)) < 0.4)
    relevance[0] = 0  # a user with no relevant item
    relevance[1, rng.integers(n_cols)] = 1  # and users with at least one
    return scores, relevance.astype(np.float64)


def cases(seed: int, n: int, **kwargs):
    """``n`` random cases drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    return [random_case(rng, **kwargs) for _ in range(n)]
