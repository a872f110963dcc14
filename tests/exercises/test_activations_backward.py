"""tinyrec.exercises.activations_backward: full marks for the reference, none for the stub, and
typical wrong backward passes lose marks with feedback naming the problem (never the answer)."""

from __future__ import annotations

import numpy as np
import pytest

from tinyrec.exercises import activations_backward as exercise
from tinyrec.exercises.activations_backward import Activations, MyReLU, MySigmoid, MyTanh
from tinyrec.exercises.checking import FAILED
from tinyrec.nn import ReLU, Sigmoid, Tanh

RIGHT = exercise.SOLUTION


def test_the_solution_gets_full_marks():
    report = exercise.check(RIGHT)
    assert report.ok and report.score == report.max_score == 12, str(report)


@pytest.mark.parametrize("index, layer", [(0, ReLU), (1, Sigmoid), (2, Tanh)])
def test_the_solution_is_tinyrec_s_activation(index, layer):
    rng = np.random.default_rng(index)
    x, dy = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    mine, reference = RIGHT[index](), layer()
    np.testing.assert_allclose(mine(x), reference(x), rtol=1e-14)
    np.testing.assert_allclose(mine.backward(dy), reference.backward(dy), rtol=1e-14)


def test_the_stub_scores_zero():
    report = exercise.check(exercise.STUB)
    assert report.score == 0 and not report.implemented


class ReLUOpenAtZero(MyReLU):
    def backward(self, grad_output):
        return grad_output * (self._x >= 0)


class SigmoidForgetsOneMinusY(MySigmoid):
    def backward(self, grad_output):
        return grad_output * self._y


class SigmoidFromX(MySigmoid):
    def forward(self, x):
        self._x = x
        return super().forward(x)

    def backward(self, grad_output):
        e = np.exp(-self._x)  # overflows at x = -1000
        return grad_output * e / (1 + e) ** 2


class TanhOneMinusY(MyTanh):
    def backward(self, grad_output):
        return grad_output * (1 - self._y)


class TanhWritesIntoDY(MyTanh):
    def backward(self, grad_output):
        grad_output *= 1 - self._y**2
        return grad_output


@pytest.mark.parametrize(
    "wrong, checks, words",
    [
        (Activations(ReLUOpenAtZero, *RIGHT[1:]),
         ["relu_gradient_at_zero_is_zero", "relu_matches_the_reference"], "the convention (torch's) is 0"),
        (Activations(RIGHT[0], SigmoidForgetsOneMinusY, RIGHT[2]), ["sigmoid_matches_the_reference"],
         "MySigmoid: dX is wrong"),
        (Activations(RIGHT[0], SigmoidFromX, RIGHT[2]), ["sigmoid_is_finite_where_it_saturates"],
         "not finite"),
        (Activations(*RIGHT[:2], TanhOneMinusY), ["tanh_matches_the_reference", "tanh_derivative_is_even"],
         "derivative is even"),
        (Activations(*RIGHT[:2], TanhWritesIntoDY), ["dy_is_not_modified"],
         "MyTanh.backward changed grad_output"),
    ],
    ids=["relu >= 0", "sigmoid y", "sigmoid overflow", "tanh 1-y", "tanh in place"],
)  # fmt: skip
def test_a_wrong_backward_loses_marks_with_a_message_naming_the_problem(wrong, checks, words):
    report = exercise.check(wrong)
    assert report.implemented and report.score < report.max_score
    for name in checks:
        assert report.result(name).status == FAILED, str(report)
    assert any(words in report.result(name).message for name in checks), str(report)
    for r in report.failures:  # a hint, never the answer
        assert not any(s in r.message for s in ("1 − Y", "(1 - ", "Y ⊙ (1", "_x > 0"))


@pytest.mark.parametrize("wrong", [SigmoidForgetsOneMinusY, TanhOneMinusY], ids=["sigmoid", "tanh"])
def test_the_layer_contract_catches_a_wrong_derivative(wrong):
    parts = list(RIGHT)
    parts[1 if issubclass(wrong, MySigmoid) else 2] = wrong
    assert exercise.check(Activations(*parts)).result("passes_the_layer_contract").status == FAILED
