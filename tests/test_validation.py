"""The shared integer checks of tinyrec.validation, and the models that call them."""

import numpy as np
import pytest

from tinyrec.models import BPRMF, BiasedMF, ImplicitALS, ItemKNN
from tinyrec.validation import check_int_at_least, check_positive_int


def test_integer_checks_accept_integers_at_or_above_the_minimum():
    assert check_int_at_least(0, "n", 0) == 0 and check_int_at_least(np.int64(3), "n", 1) == 3
    assert isinstance(check_int_at_least(np.int32(2), "n", 0), int)
    assert check_positive_int(1, "n") == 1


@pytest.mark.parametrize("bad", [-1, 1.5, True, "2", None])
def test_integer_checks_name_the_argument(bad):
    with pytest.raises(ValueError, match=r"n_epochs must be an integer >= 0"):
        check_int_at_least(bad, "n_epochs", 0)
    with pytest.raises(ValueError, match=r"k must be a positive integer"):
        check_positive_int(bad, "k")


@pytest.mark.parametrize(
    "build, name",
    [
        (lambda: BiasedMF(n_epochs=-1), "n_epochs must be an integer >= 0"),
        (lambda: BPRMF(n_factors=2.5), "n_factors must be an integer >= 0"),
        (lambda: BPRMF(lr=float("nan")), "lr must be a finite number >= 0"),
        (lambda: ImplicitALS(cg_steps=0), "cg_steps must be an integer >= 1"),
        (lambda: ItemKNN(k=True), "k must be an integer >= 1"),
    ],
)
def test_model_constructors_use_them(build, name):
    with pytest.raises(ValueError, match=name):
        build()
