"""tinyrec.nn.init: fans as torch computes them, distributions with the documented bounds/std, seeding."""

import math

import numpy as np
import pytest

from tinyrec.errors import DTypeError
from tinyrec.nn import init


@pytest.mark.parametrize(
    ("shape", "fans"),
    [((5, 3), (3, 5)), ((8, 4, 3, 3), (36, 72)), ((2, 6, 5), (30, 10))],
)
def test_fan_in_and_fan_out(shape, fans):
    assert init.fan_in_and_fan_out(shape) == fans


def test_fan_needs_two_dimensions():
    with pytest.raises(ValueError, match="at least 2"):
        init.fan_in_and_fan_out((5,))


SHAPE = (400, 250)  # fan_in 250, fan_out 400; 100,000 draws: std estimated to about 0.3 %
FAN_IN, FAN_OUT = 250, 400


@pytest.mark.parametrize(
    ("name", "make", "bound", "std"),
    [
        ("uniform", lambda s: init.uniform(SHAPE, -2.0, 2.0, seed=s), 2.0, 2.0 / math.sqrt(3)),
        ("normal", lambda s: init.normal(SHAPE, 0.0, 0.5, seed=s), None, 0.5),
        (
            "xavier_uniform",
            lambda s: init.xavier_uniform(SHAPE, gain=2.0, seed=s),
            2.0 * math.sqrt(6 / (FAN_IN + FAN_OUT)),
            2.0 * math.sqrt(2 / (FAN_IN + FAN_OUT)),
        ),
        (
            "xavier_normal",
            lambda s: init.xavier_normal(SHAPE, seed=s),
            None,
            math.sqrt(2 / (FAN_IN + FAN_OUT)),
        ),
        (
            "kaiming_uniform",
            lambda s: init.kaiming_uniform(SHAPE, seed=s),
            math.sqrt(6 / FAN_IN),
            math.sqrt(2 / FAN_IN),
        ),
        (
            "kaiming_uniform_sqrt5",  # torch.nn.Linear's choice: U(-1/sqrt(in), 1/sqrt(in))
            lambda s: init.kaiming_uniform(SHAPE, a=math.sqrt(5), seed=s),
            1 / math.sqrt(FAN_IN),
            1 / math.sqrt(3 * FAN_IN),
        ),
        ("kaiming_normal", lambda s: init.kaiming_normal(SHAPE, seed=s), None, math.sqrt(2 / FAN_IN)),
    ],
)
def test_distribution_bounds_std_and_seed(name, make, bound, std):
    w = make(0)
    assert w.shape == SHAPE and w.dtype == np.float32, name
    assert abs(w.mean()) < 0.02 * std, name  # six standard errors
    assert abs(w.std() / std - 1) < 0.02, name
    if bound is not None:
        assert np.abs(w).max() <= bound * (1 + 1e-6), name
        assert np.abs(w).max() > 0.99 * bound, name  # the whole interval is used
    np.testing.assert_array_equal(w, make(0), err_msg=name)
    assert not np.array_equal(w, make(1)), name


def test_normal_mean_and_zeros():
    w = init.normal((1000,), mean=3.0, std=0.1, dtype=np.float64, seed=0)
    assert w.dtype == np.float64 and abs(w.mean() - 3.0) < 0.02
    z = init.zeros((2, 3), dtype=np.float64)
    assert z.dtype == np.float64 and not z.any()


def test_generator_seed_continues_the_stream():
    rng = np.random.default_rng(5)
    a = init.uniform((3,), seed=rng)
    b = init.uniform((3,), seed=rng)
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(np.concatenate([a, b]), init.uniform((6,), seed=5))


def test_bad_dtype():
    with pytest.raises(DTypeError):
        init.normal((2, 2), dtype=np.int64)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: init.uniform((2, 3), 1.0, 0.0), "a <= b"),
        (lambda: init.uniform((2, 3), float("nan"), 1.0), "a must be a finite number"),
        (lambda: init.normal((2, 3), std=-1.0), "std must be a finite number >= 0"),
        (lambda: init.normal((2, 3), mean=None), "mean must be a finite number"),
        (lambda: init.xavier_uniform((2, 3), gain=float("inf")), "gain must be a finite number >= 0"),
        (lambda: init.kaiming_uniform((2, 3), a="5"), "a must be a finite number"),
        (lambda: init.kaiming_normal((4, 0)), "no inputs or no outputs"),
        (lambda: init.zeros((2, -1)), "each dimension of shape must be an integer >= 0"),
        (lambda: init.normal((2, 2.5)), "each dimension of shape must be an integer >= 0"),
        (lambda: init.zeros(None), "shape must be an int or a tuple of ints"),
        (lambda: init.zeros(np.array(3)), "shape must be an int or a tuple of ints"),
        (lambda: init.uniform((2,), -1e308, 1e308), "too wide"),
    ],
)
def test_bad_arguments_name_themselves(call, message):
    with pytest.raises(ValueError, match=message):
        call()
