"""tinyrec.exercises.bce_with_logits: full marks for the reference, none for the stub, and typical
wrong losses lose marks with feedback naming the problem (never the answer)."""

from __future__ import annotations

import numpy as np
import pytest

from tinyrec.exercises import bce_with_logits as exercise
from tinyrec.exercises.checking import FAILED
from tinyrec.losses import BCEWithLogitsLoss


def test_the_solution_gets_full_marks():
    report = exercise.check(exercise.SOLUTION)
    assert report.ok and report.score == report.max_score == 11, str(report)


def test_the_solution_is_tinyrec_s_bce_with_logits():
    rng = np.random.default_rng(0)
    logits, targets = 5 * rng.standard_normal((4, 3)), rng.random((4, 3))
    loss, grad = exercise.SOLUTION(logits, targets)
    reference = BCEWithLogitsLoss()
    np.testing.assert_allclose(loss, reference(logits, targets), rtol=1e-13)
    np.testing.assert_allclose(grad, reference.backward(), rtol=1e-12, atol=1e-15)


def test_the_stub_scores_zero():
    assert exercise.check(exercise.STUB).score == 0


def naive_log_of_sigmoid(logits, targets):
    p = 1 / (1 + np.exp(-logits))  # 1.0 at 1000: log(1 - p) = -inf
    loss = -(targets * np.log(p) + (1 - targets) * np.log(1 - p))
    return float(loss.mean()), (p - targets) / logits.size


def clipped_probabilities(logits, targets):
    p = np.clip(1 / (1 + np.exp(-logits)), 1e-7, 1 - 1e-7)
    loss = -(targets * np.log(p) + (1 - targets) * np.log(1 - p))
    return float(loss.mean()), (p - targets) / logits.size


def summed_loss(logits, targets):
    loss, grad = exercise.SOLUTION(logits, targets)
    return loss * logits.size, grad * logits.size


def gradient_of_the_sum(logits, targets):
    loss, grad = exercise.SOLUTION(logits, targets)
    return loss, grad * logits.size


def gradient_sign_flipped(logits, targets):
    loss, grad = exercise.SOLUTION(logits, targets)
    return loss, -grad


def hard_targets_only(logits, targets):
    return exercise.SOLUTION(logits, (targets > 0.5).astype(logits.dtype))


def forgets_the_minus(logits, targets):
    loss, grad = exercise.SOLUTION(logits, targets)
    return -loss, grad  # the mean of y log p + (1 − y) log(1 − p), not its negative


def signed_logits_in_place(logits, targets):
    z = logits  # a second name, not a copy
    z *= 2 * targets - 1  # ±x, so that each loss is log(1 + e^(−z)) (hard targets)
    return float(np.logaddexp(0, -z).mean()), -(2 * targets - 1) / (1 + np.exp(z)) / z.size


@pytest.mark.parametrize(
    "wrong, check, words",
    [
        (naive_log_of_sigmoid, "stable_at_large_logits", "log(1 − σ(1000)) is log 0"),
        (clipped_probabilities, "stable_at_large_logits", "clipped"),
        (summed_loss, "loss_matches_tinyrec", "a sum where the mean belongs"),
        (gradient_of_the_sum, "gradient_matches_tinyrec", "remember the 1/M"),
        (gradient_sign_flipped, "gradient_matches_tinyrec", "wrong sign"),
        (hard_targets_only, "soft_targets_count", "a soft target weighs both terms"),
        (forgets_the_minus, "returns_a_loss_and_a_gradient", "a cross-entropy is a finite number > 0"),
        (forgets_the_minus, "loss_matches_tinyrec", "the minus sign in front of"),
        (forgets_the_minus, "stable_at_large_logits", "the minus sign in front of"),
        (forgets_the_minus, "soft_targets_count", "the minus sign in front of"),
        (summed_loss, "soft_targets_count", "a sum where the mean belongs"),
        (gradient_of_the_sum, "soft_targets_count", "remember the 1/M"),
        (gradient_sign_flipped, "soft_targets_count", "wrong sign"),
        (summed_loss, "loss_is_a_mean", "a mean does not change when the batch is repeated"),
        (gradient_sign_flipped, "matches_central_differences", "disagrees with central differences"),
        (signed_logits_in_place, "inputs_are_not_modified", "changed its inputs in place"),
    ],
    ids=[
        "naive",
        "clipped",
        "sum",
        "gradient of the sum",
        "sign",
        "hard targets",
        "no minus",
        "no minus vs tinyrec",
        "no minus at large logits",
        "no minus, soft targets",
        "sum, soft targets",
        "gradient of the sum, soft targets",
        "sign, soft targets",
        "sum vs mean",
        "sign vs numbers",
        "in place",
    ],
)
def test_a_wrong_bce_loses_marks_with_a_message_naming_the_problem(wrong, check, words):
    report = exercise.check(wrong)
    assert report.implemented and report.score < report.max_score
    result = report.result(check)
    assert result.status == FAILED, str(report)
    assert words in result.message, result.message
    for r in report.failures:  # a hint, never the answer
        assert "log1p" not in r.message and "max(x, 0)" not in r.message


def test_the_naive_loss_and_its_gradient_disagree_nowhere_else():
    # the naive formula is right at moderate logits: only the large-logit check may catch it
    report = exercise.check(naive_log_of_sigmoid)
    assert [r.name for r in report.failures] == ["stable_at_large_logits"]
