"""tinyrec.exercises.item_biases: the solution passes, the stub is "not implemented", and typical
wrong forward and backward passes fail with a message that names the problem."""

from __future__ import annotations

import pytest

from tinyrec.exercises import item_biases as exercise
from tinyrec.exercises.checking import FAILED, NOT_IMPLEMENTED, PASSED
from tinyrec.exercises.item_biases import LayeredBiasedMF, LayeredMF


def test_the_solution_passes_every_check():
    report = exercise.check(exercise.SOLUTION)
    assert report.ok, str(report)


def test_the_stub_reports_not_implemented():
    report = exercise.check(exercise.STUB)
    assert not report.implemented
    assert all(r.status == NOT_IMPLEMENTED for r in report.results)
    assert "not implemented yet" in str(report)


class _RightForward(LayeredBiasedMF):
    def forward(self, users, items):
        return self.mu + self.B(items)[:, 0] + self.dot(self.P(users), self.Q(items))


def test_a_forward_without_a_backward_is_half_done():
    report = exercise.check(_RightForward)
    assert not report.implemented
    assert report.result("forward_adds_mu_and_the_item_bias").status == PASSED
    assert report.result("bias_table_gets_dy").status == NOT_IMPLEMENTED
    assert "[todo]" in str(report) and "[pass]" in str(report)


class ForgetsMu(LayeredBiasedMF):
    def forward(self, users, items):
        return self.B(items)[:, 0] + self.dot(self.P(users), self.Q(items))

    def backward(self, grad_output):
        LayeredMF.backward(self, grad_output)
        self.B.backward(grad_output[:, None])


class BiasColumnNotFlattened(_RightForward):
    def forward(self, users, items):
        return self.mu + self.B(items) + self.dot(self.P(users), self.Q(items))  # (batch, batch)

    def backward(self, grad_output):
        LayeredMF.backward(self, grad_output)
        self.B.backward(grad_output[:, None])


class NoBiasGradient(_RightForward):
    def backward(self, grad_output):
        LayeredMF.backward(self, grad_output)


class BiasGradientAsAVector(_RightForward):
    def backward(self, grad_output):
        LayeredMF.backward(self, grad_output)
        self.B.backward(grad_output)  # (batch,) for a (batch, 1) lookup


class BiasGradientAveraged(_RightForward):
    def backward(self, grad_output):
        LayeredMF.backward(self, grad_output)
        self.B.backward(grad_output[:, None] / len(grad_output))  # a mean over the batch, as for mu


class OnlyTheBias(_RightForward):
    def backward(self, grad_output):
        self.B.backward(grad_output[:, None])


@pytest.mark.parametrize(
    "wrong, check, words",
    [
        (ForgetsMu, "forward_adds_mu_and_the_item_bias", "leaves out the global mean"),
        (BiasColumnNotFlattened, "forward_returns_one_score_per_pair", "(batch, 1)"),
        (NoBiasGradient, "bias_table_gets_dy", "B received no gradient"),
        (BiasGradientAsAVector, "bias_table_gets_dy", "(6,), but the last forward returned shape (6, 1)"),
        (OnlyTheBias, "factor_tables_get_the_dot_gradients", "P received no gradient"),
    ],
    ids=["no mu", "not flattened", "no bias gradient", "bias gradient (batch,)", "no factor gradients"],
)
def test_a_wrong_model_fails_with_a_message_naming_the_problem(wrong, check, words):
    report = exercise.check(wrong)
    assert not report.ok and report.implemented
    result = report.result(check)
    assert result.status == FAILED, str(report)
    assert words in result.message
    assert report.result("trains_like_the_fused_loop").status == FAILED


def test_a_bias_gradient_averaged_over_the_batch_fails_the_gradient_check():
    # one rating at a time (the fused loop's steps) the mean is the sum: only a batch shows the mistake
    report = exercise.check(BiasGradientAveraged)
    result = report.result("matches_central_differences")
    assert result.status == FAILED, str(report)
    assert "gradient of B.weight disagrees" in result.message
    assert report.result("bias_table_gets_dy").status == FAILED
