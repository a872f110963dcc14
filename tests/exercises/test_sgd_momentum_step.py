"""tinyrec.exercises.sgd_momentum_step: full marks for the reference, none for the stub, and typical
wrong steps lose marks with feedback naming the problem (never the answer)."""

from __future__ import annotations

import pytest

from tinyrec.exercises import sgd_momentum_step as exercise
from tinyrec.exercises.checking import FAILED


def test_the_solution_gets_full_marks():
    report = exercise.check(exercise.SOLUTION)
    assert report.ok and report.score == report.max_score == 10, str(report)


def test_the_stub_scores_zero():
    assert exercise.check(exercise.STUB).score == 0


def dampened(theta, grad, buf, lr, momentum=0.9, weight_decay=0.0, nesterov=False):
    g = grad + weight_decay * theta
    buf = momentum * buf + (1 - momentum) * g  # an exponential average: not torch's buffer
    return theta - lr * (g + momentum * buf if nesterov else buf), buf


def steps_along_the_old_buffer(theta, grad, buf, lr, momentum=0.9, weight_decay=0.0, nesterov=False):
    g = grad + weight_decay * theta
    new = theta - lr * (g + momentum * buf if nesterov else buf)
    return new, momentum * buf + g


def decoupled_decay(theta, grad, buf, lr, momentum=0.9, weight_decay=0.0, nesterov=False):
    new, buf = exercise.SOLUTION(theta, grad, buf, lr, momentum, 0.0, nesterov)
    return new - lr * weight_decay * theta, buf


def ignores_nesterov(theta, grad, buf, lr, momentum=0.9, weight_decay=0.0, nesterov=False):
    return exercise.SOLUTION(theta, grad, buf, lr, momentum, weight_decay)


def in_place(theta, grad, buf, lr, momentum=0.9, weight_decay=0.0, nesterov=False):
    new, new_buf = exercise.SOLUTION(theta, grad, buf, lr, momentum, weight_decay, nesterov)
    theta[...], buf[...] = new, new_buf
    return theta, buf


def returns_theta_only(theta, grad, buf, lr, momentum=0.9, weight_decay=0.0, nesterov=False):
    new_theta, buf[...] = exercise.SOLUTION(theta, grad, buf, lr, momentum, weight_decay, nesterov)
    return new_theta  # buf updated in place, as torch's optimizers keep their state


@pytest.mark.parametrize(
    "wrong, check, words",
    [
        (dampened, "first_step_is_plain_sgd", "scaled by (1 − momentum)"),
        (steps_along_the_old_buffer, "buffer_accumulates_the_gradient", "moved along the old buffer"),
        (decoupled_decay, "weight_decay_enters_the_buffer", "decoupled"),
        (ignores_nesterov, "nesterov_looks_ahead", "nesterov is ignored"),
        (in_place, "inputs_are_not_modified", "in place"),
        (returns_theta_only, "returns_two_new_arrays", "not the two arrays (theta, buf)"),
    ],
    ids=["dampened", "old buffer", "decoupled decay", "no nesterov", "in place", "theta only"],
)
def test_a_wrong_step_loses_marks_with_a_message_naming_the_problem(wrong, check, words):
    report = exercise.check(wrong)
    assert report.implemented and report.score < report.max_score
    result = report.result(check)
    assert result.status == FAILED, str(report)
    assert words in result.message, result.message
    for r in report.failures:  # a hint, never the answer
        assert "momentum * buf + g" not in r.message


@pytest.mark.parametrize("wrong", [dampened, steps_along_the_old_buffer, decoupled_decay, ignores_nesterov])
def test_ten_steps_against_tinyrec_catch_it_too(wrong):
    assert exercise.check(wrong).result("matches_tinyrec_sgd_over_ten_steps").status == FAILED
