"""tinyrec.exercises.cross_entropy: full marks for the reference, none for the stub, and typical
wrong losses lose marks with feedback naming the problem (never the answer)."""

from __future__ import annotations

import numpy as np
import pytest

from tinyrec.exercises import cross_entropy as exercise
from tinyrec.exercises.checking import FAILED
from tinyrec.losses import CrossEntropyLoss


def test_the_solution_gets_full_marks():
    report = exercise.check(exercise.SOLUTION)
    assert report.ok and report.score == report.max_score == 11, str(report)


def test_the_solution_is_tinyrec_s_cross_entropy():
    rng = np.random.default_rng(0)
    logits, targets = 3 * rng.standard_normal((6, 4)), rng.integers(0, 4, 6)
    loss, grad = exercise.SOLUTION(logits, targets)
    reference = CrossEntropyLoss()
    np.testing.assert_allclose(loss, reference(logits, targets), rtol=1e-13)
    np.testing.assert_allclose(grad, reference.backward(), rtol=1e-12, atol=1e-15)


def test_the_stub_scores_zero():
    assert exercise.check(exercise.STUB).score == 0


def naive_softmax(logits, targets):
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)  # overflows at 1000
    n = len(targets)
    grad = p.copy()
    grad[np.arange(n), targets] -= 1
    return float(-np.log(p[np.arange(n), targets]).mean()), grad / n


def summed_loss(logits, targets):
    loss, grad = exercise.SOLUTION(logits, targets)
    return loss * len(targets), grad * len(targets)


def gradient_without_one_over_n(logits, targets):
    loss, grad = exercise.SOLUTION(logits, targets)
    return loss, grad * len(targets)


def forgets_the_target(logits, targets):
    loss, _ = exercise.SOLUTION(logits, targets)
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    return loss, p / len(targets)


def log_of_a_clipped_softmax(logits, targets):
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    n = len(targets)
    grad = p.copy()
    grad[np.arange(n), targets] -= 1
    return float(-np.log(np.maximum(p[np.arange(n), targets], 1e-12)).mean()), grad / n


def shifts_in_place(logits, targets):
    logits -= logits.max(axis=1, keepdims=True)
    return exercise.SOLUTION(logits, targets)


def forgets_the_minus(logits, targets):
    loss, grad = exercise.SOLUTION(logits, targets)
    return -loss, grad  # the mean of log p, not of -log p


@pytest.mark.parametrize(
    "wrong, check, words",
    [
        (naive_softmax, "stable_at_large_logits", "e^1000 overflows"),
        (summed_loss, "loss_matches_the_reference", "a sum over the rows where the mean belongs"),
        (summed_loss, "loss_is_a_mean_over_rows", "a mean over rows does not change"),
        (gradient_without_one_over_n, "gradient_matches_the_reference", "remember the 1/N"),
        (forgets_the_target, "gradient_rows_sum_to_zero", "target class's entry"),
        (log_of_a_clipped_softmax, "stable_at_large_logits", "compute log p without taking the log of p"),
        (shifts_in_place, "inputs_are_not_modified", "changed its inputs in place"),
        (forgets_the_minus, "returns_a_loss_and_a_gradient", "a cross-entropy is a finite number > 0"),
    ],
    ids=[
        "overflow",
        "sum loss",
        "sum vs mean",
        "grad x N",
        "no one-hot",
        "clipped log",
        "in place",
        "no minus",
    ],
)
def test_a_wrong_loss_loses_marks_with_a_message_naming_the_problem(wrong, check, words):
    report = exercise.check(wrong)
    assert report.implemented and report.score < report.max_score
    result = report.result(check)
    assert result.status == FAILED, str(report)
    assert words in result.message
    for r in report.failures:  # a hint, never the answer
        assert "p − onehot" not in r.message and "logsumexp" not in r.message.lower()


@pytest.mark.parametrize("wrong", [gradient_without_one_over_n, forgets_the_target])
def test_central_differences_catch_a_wrong_gradient(wrong):
    assert exercise.check(wrong).result("matches_central_differences").status == FAILED
