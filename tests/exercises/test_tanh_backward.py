"""tinyrec.exercises.tanh_backward: the solution passes, the stub is "not implemented", and typical
wrong backward passes fail with a message that names the problem."""

from __future__ import annotations

import numpy as np
import pytest

from tinyrec.exercises import tanh_backward as exercise
from tinyrec.exercises.checking import FAILED, NOT_IMPLEMENTED
from tinyrec.exercises.tanh_backward import MyTanh
from tinyrec.nn import Tanh


def test_the_solution_passes_every_check():
    report = exercise.check(exercise.SOLUTION)
    assert report.ok, str(report)
    assert [r.name for r in report.results] == [c.__name__ for c in exercise.CHECKS]


def test_the_solution_is_tinyrec_s_tanh():
    x = np.random.default_rng(0).standard_normal((3, 4))
    dy = np.random.default_rng(1).standard_normal((3, 4))
    mine, reference = exercise.SOLUTION(), Tanh()
    mine(x)
    reference(x)
    np.testing.assert_allclose(mine.backward(dy), reference.backward(dy), rtol=1e-15)


def test_the_stub_reports_not_implemented():
    report = exercise.check(exercise.STUB)
    assert not report.ok and not report.implemented
    assert all(r.status == NOT_IMPLEMENTED for r in report.results)
    assert "not implemented yet" in str(report)
    assert "your turn" in str(report)


class OneMinusY(MyTanh):
    def backward(self, grad_output):
        return grad_output * (1 - self._y)  # the square forgotten


class ForgetsDY(MyTanh):
    def backward(self, grad_output):
        return 1 - self._y**2  # the local derivative alone


class ReturnsDY(MyTanh):
    def backward(self, grad_output):
        return grad_output  # as if tanh were the identity


class WritesIntoDY(MyTanh):
    def backward(self, grad_output):
        grad_output *= 1 - self._y**2
        return grad_output


class TanhOfTheOutput(MyTanh):
    def backward(self, grad_output):
        return grad_output * (1 - np.tanh(self._y) ** 2)  # tanh taken twice: _y is already tanh(x)


class MakesFloat64(MyTanh):
    def backward(self, grad_output):
        return grad_output * (np.ones(grad_output.shape) - self._y**2)


@pytest.mark.parametrize(
    "wrong, check, words",
    [
        (OneMinusY, "dx_is_even_in_x", "derivative is even"),
        (OneMinusY, "dx_vanishes_where_tanh_is_flat", "flat"),
        (ForgetsDY, "dx_is_proportional_to_dy", "does not scale with dY"),
        (ReturnsDY, "dx_vanishes_where_tanh_is_flat", "must be multiplied into dY"),
        (WritesIntoDY, "dy_is_not_modified", "in place"),
        (MakesFloat64, "dx_has_the_shape_and_dtype_of_x", "float32 input, dX is float64"),
        (TanhOfTheOutput, "dx_matches_the_reference", "dX is wrong"),
    ],
    ids=["1-Y: odd", "1-Y: not flat", "no dY", "dY unchanged", "dY written", "float64", "tanh of Y"],
)
def test_a_wrong_backward_fails_with_a_message_naming_the_problem(wrong, check, words):
    report = exercise.check(wrong)
    assert not report.ok and report.implemented
    result = report.result(check)
    assert result.status == FAILED, str(report)
    assert words in result.message
    for r in report.failures:  # a hint, never the answer
        assert "1 − Y²" not in r.message and "y**2" not in r.message.lower()


@pytest.mark.parametrize("wrong", [OneMinusY, ForgetsDY, ReturnsDY])
def test_a_wrong_backward_fails_the_gradient_check(wrong):
    assert exercise.check(wrong).result("matches_central_differences").status == FAILED


def test_a_check_raises_assertion_error_and_passes_quietly():
    with pytest.raises(AssertionError, match="even"):
        exercise.dx_is_even_in_x(OneMinusY)
    assert exercise.dx_is_even_in_x(exercise.SOLUTION) is None
