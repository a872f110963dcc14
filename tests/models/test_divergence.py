"""A factor model whose training diverges stops with NonFiniteError naming the epoch and a fix."""

from __future__ import annotations

import numpy as np
import pytest

from tinyrec.errors import NonFiniteError, NotFittedError
from tinyrec.models import ImplicitALS

from .contract import implicit_toy


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the plain Python body overflows loudly
@pytest.mark.parametrize("backend", ["numba", "python"])
def test_implicit_als_with_a_huge_init_std_stops_instead_of_recommending_nan(backend):
    """The case: ``ImplicitALS(init_std=1e30)`` trained to all-NaN scores, and recommend ranked them."""
    train, _ = implicit_toy()
    model = ImplicitALS(4, 3, init_std=1e30, backend=backend, seed=0)
    with pytest.raises(NonFiniteError, match=r"largest \|factor\| became nan at epoch 1 .*lower init_std"):
        model.fit(train)
    with pytest.raises(NotFittedError):
        model.recommend(np.array([0]))
