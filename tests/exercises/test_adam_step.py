"""tinyrec.exercises.adam_step: full marks for the reference, none for the stub, and typical wrong
Adam steps lose marks with feedback naming the problem (never the answer)."""

from __future__ import annotations

import numpy as np
import pytest

from tinyrec.exercises import adam_step as exercise
from tinyrec.exercises.checking import FAILED

RIGHT = exercise.SOLUTION


def test_the_solution_gets_full_marks():
    report = exercise.check(RIGHT)
    assert report.ok and report.score == report.max_score == 10, str(report)


def test_the_stub_scores_zero():
    assert exercise.check(exercise.STUB).score == 0


def no_bias_correction(theta, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    return theta - lr * m / (np.sqrt(v) + eps), m, v


def first_moment_of_the_gradient_for_v(theta, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * np.abs(grad)  # the gradient's size, not its square
    return theta - lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps), m, v


def counts_steps_from_zero(theta, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    return RIGHT(theta, grad, m, v, t - 1, lr, beta1, beta2, eps)


def eps_under_the_root(theta, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    return theta - lr * (m / (1 - beta1**t)) / np.sqrt(v / (1 - beta2**t) + eps), m, v


def ignores_the_hyperparameters(theta, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    return RIGHT(theta, grad, m, v, t)


def updates_in_place(theta, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m *= beta1
    m += (1 - beta1) * grad
    v *= beta2
    v += (1 - beta2) * grad**2
    theta -= lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
    return theta, m, v


def returns_theta_only(theta, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    theta, m[...], v[...] = RIGHT(theta, grad, m, v, t, lr, beta1, beta2, eps)  # m, v kept in place
    return theta


def forgets_eps(theta, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    return theta - lr * (m / (1 - beta1**t)) / np.sqrt(v / (1 - beta2**t)), m, v


@pytest.mark.parametrize(
    "wrong, check, words",
    [
        (no_bias_correction, "first_step_moves_by_about_lr", "biased towards it until corrected"),
        (first_moment_of_the_gradient_for_v, "moments_are_moving_averages", "entry-wise square"),
        (counts_steps_from_zero, "first_step_moves_by_about_lr", "1 − β^0 = 0"),
        (eps_under_the_root, "eps_is_added_to_the_root", "not to v̂ under the root"),
        (ignores_the_hyperparameters, "matches_tinyrec_adam_over_ten_steps", "not the defaults"),
        (updates_in_place, "inputs_are_not_modified", "in place"),
        (returns_theta_only, "returns_three_new_arrays", "not the three arrays (theta, m, v)"),
        (forgets_eps, "a_zero_gradient_from_rest_stays_put", "a 0/0 somewhere?"),
    ],
    ids=[
        "no bias correction",
        "v of g",
        "t from 0",
        "eps in root",
        "defaults",
        "in place",
        "theta only",
        "no eps",
    ],
)
def test_a_wrong_step_loses_marks_with_a_message_naming_the_problem(wrong, check, words):
    report = exercise.check(wrong)
    assert report.implemented and report.score < report.max_score
    result = report.result(check)
    assert result.status == FAILED, str(report)
    assert words in result.message
    for r in report.failures:  # a hint, never the answer
        assert "(1 - beta1**t)" not in r.message and "np.sqrt(v_hat)" not in r.message
