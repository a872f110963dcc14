"""tinyrec.exercises.linear_layer: the reference gets full marks, the stub none, and typical wrong
layers lose marks with feedback naming the problem (never the answer)."""

from __future__ import annotations

import numpy as np
import pytest

from tinyrec.exercises import linear_layer as exercise
from tinyrec.exercises.checking import FAILED
from tinyrec.exercises.linear_layer import MyLinear
from tinyrec.nn import Linear


def test_the_solution_gets_full_marks():
    report = exercise.check(exercise.SOLUTION)
    assert report.ok and report.score == report.max_score == 12, str(report)


def test_the_solution_is_tinyrec_s_linear():
    rng = np.random.default_rng(0)
    x, dy = rng.standard_normal((5, 4)), rng.standard_normal((5, 3))
    mine, reference = exercise.SOLUTION(4, 3, seed=0), Linear(4, 3, dtype=np.float64)
    reference.weight.data, reference.bias.data = mine.weight.data.copy(), mine.bias.data.copy()
    np.testing.assert_allclose(mine(x), reference(x), rtol=1e-14)
    np.testing.assert_allclose(mine.backward(dy), reference.backward(dy), rtol=1e-14)
    np.testing.assert_allclose(mine.weight.grad, reference.weight.grad, rtol=1e-14)
    np.testing.assert_allclose(mine.bias.grad, reference.bias.grad, rtol=1e-14)


def test_the_stub_scores_zero():
    report = exercise.check(exercise.STUB)
    assert report.score == 0 and not report.implemented


class _Forward(MyLinear):
    def forward(self, x):
        self._x = x
        return x @ self.weight.data.T + self.bias.data


class MeanWeightGradient(_Forward):
    def backward(self, grad_output):
        x2, dy2 = self._x.reshape(-1, self.in_features), grad_output.reshape(-1, self.out_features)
        self.weight.accumulate(dy2.T @ x2 / len(x2))  # a mean where a sum belongs
        self.bias.accumulate(dy2.sum(axis=0))
        return grad_output @ self.weight.data


class NoBiasGradient(_Forward):
    def backward(self, grad_output):
        x2, dy2 = self._x.reshape(-1, self.in_features), grad_output.reshape(-1, self.out_features)
        self.weight.accumulate(dy2.T @ x2)
        return grad_output @ self.weight.data


class OverwritesGrad(_Forward):
    def backward(self, grad_output):
        x2, dy2 = self._x.reshape(-1, self.in_features), grad_output.reshape(-1, self.out_features)
        self.weight.grad = dy2.T @ x2  # overwritten, not accumulated
        self.bias.grad = dy2.sum(axis=0)
        return grad_output @ self.weight.data


class TwoDimensionalOnly(_Forward):
    def backward(self, grad_output):
        self.weight.accumulate(grad_output.T @ self._x)  # no flattening of the leading axes
        self.bias.accumulate(grad_output.sum(axis=0))
        return grad_output @ self.weight.data


class ForgetsTheBias(MyLinear):
    def forward(self, x):
        self._x = x
        return x @ self.weight.data.T

    def backward(self, grad_output):
        x2, dy2 = self._x.reshape(-1, self.in_features), grad_output.reshape(-1, self.out_features)
        self.weight.accumulate(dy2.T @ x2)
        self.bias.accumulate(dy2.sum(axis=0))
        return grad_output @ self.weight.data


class FlattensTheRows(MyLinear):
    def forward(self, x):
        self._x = x.reshape(-1, self.in_features)  # flattened, and Y never gets X's leading axes back
        return self._x @ self.weight.data.T + self.bias.data

    def backward(self, grad_output):
        dy2 = grad_output.reshape(-1, self.out_features)
        self.weight.accumulate(dy2.T @ self._x)
        self.bias.accumulate(dy2.sum(axis=0))
        return dy2 @ self.weight.data


class InputGradientFromTheWeightGradient(_Forward):
    def backward(self, grad_output):
        x2, dy2 = self._x.reshape(-1, self.in_features), grad_output.reshape(-1, self.out_features)
        self.weight.accumulate(dy2.T @ x2)
        self.bias.accumulate(dy2.sum(axis=0))
        return grad_output @ self.weight.grad  # weight.grad where weight.data belongs


@pytest.mark.parametrize(
    "wrong, check, words",
    [
        (
            MeanWeightGradient,
            "weight_gradient_matches_the_reference",
            "a mean over the batch where a sum belongs",
        ),
        (NoBiasGradient, "bias_gradient_matches_the_reference", "the bias received no gradient"),
        (OverwritesGrad, "gradients_accumulate", "overwritten"),
        (TwoDimensionalOnly, "leading_axes_are_rows", "flatten the leading axes"),
        (ForgetsTheBias, "forward_matches_the_reference", "each output adds its bias"),
        (FlattensTheRows, "output_has_the_right_shape", "expected (2, 3, 3)"),
        (InputGradientFromTheWeightGradient, "input_gradient_matches_the_reference", "dX is wrong"),
    ],
    ids=["mean", "no bias grad", "overwritten", "3-D input", "no bias", "rows flattened", "dX from grad"],
)
def test_a_wrong_layer_loses_marks_with_a_message_naming_the_problem(wrong, check, words):
    report = exercise.check(wrong)
    assert report.implemented and report.score < report.max_score
    result = report.result(check)
    assert result.status == FAILED and result.score == 0, str(report)
    assert words in result.message
    for r in report.failures:  # a hint, never the answer
        assert "dY W" not in r.message and "dYᵀ X" not in r.message and ".T @" not in r.message


@pytest.mark.parametrize("wrong", [MeanWeightGradient, NoBiasGradient, OverwritesGrad])
def test_the_layer_contract_catches_it_too(wrong):
    report = exercise.check(wrong)
    assert report.result("passes_the_layer_contract").status == FAILED
