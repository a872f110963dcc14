"""tinyrec.exercises.lazy_adam: full marks for the reference, none for the stub, and typical wrong
lazy Adam steps lose marks with feedback naming the problem (never the answer)."""

from __future__ import annotations

import numpy as np
import pytest

from tinyrec.exercises import lazy_adam as exercise
from tinyrec.exercises.checking import FAILED


def test_the_solution_gets_full_marks():
    report = exercise.check(exercise.SOLUTION)
    assert report.ok and report.score == report.max_score == 10, str(report)


def test_the_stub_scores_zero():
    assert exercise.check(exercise.STUB).score == 0


def dense_step(theta, m, v, t, rows, values, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    g = np.zeros_like(theta)
    np.add.at(g, rows, values)
    m = beta1 * m + (1 - beta1) * g  # every row's moments decay, present or not
    v = beta2 * v + (1 - beta2) * g**2
    return theta - lr * np.sqrt(1 - beta2**t) / (1 - beta1**t) * m / (np.sqrt(v) + eps), m, v


def last_occurrence_wins(theta, m, v, t, rows, values, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    theta, m, v = theta.copy(), m.copy(), v.copy()
    m[rows] = beta1 * m[rows] + (1 - beta1) * values  # a repeated row keeps its last occurrence
    v[rows] = beta2 * v[rows] + (1 - beta2) * values**2
    theta[rows] -= lr * np.sqrt(1 - beta2**t) / (1 - beta1**t) * m[rows] / (np.sqrt(v[rows]) + eps)
    return theta, m, v


def dense_adam_eps(theta, m, v, t, rows, values, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    present, inverse = np.unique(rows, return_inverse=True)
    g = np.zeros((len(present), theta.shape[1]))
    np.add.at(g, inverse, values)
    theta, m, v = theta.copy(), m.copy(), v.copy()
    m[present] = beta1 * m[present] + (1 - beta1) * g
    v[present] = beta2 * v[present] + (1 - beta2) * g**2
    m_hat, v_hat = m[present] / (1 - beta1**t), v[present] / (1 - beta2**t)
    theta[present] -= lr * m_hat / (np.sqrt(v_hat) + eps)  # torch.optim.Adam's eps, not SparseAdam's
    return theta, m, v


def no_bias_correction(theta, m, v, t, rows, values, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    return exercise.SOLUTION(theta, m, v, 10**6, rows, values, lr, beta1, beta2, eps)  # as if t were huge


def updates_in_place(theta, m, v, t, rows, values, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    new = exercise.SOLUTION(theta, m, v, t, rows, values, lr, beta1, beta2, eps)
    for old, now in zip((theta, m, v), new, strict=True):
        old[...] = now
    return theta, m, v


def returns_the_touched_rows(theta, m, v, t, rows, values, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    present = np.unique(rows)
    theta, m, v = exercise.SOLUTION(theta, m, v, t, rows, values, lr, beta1, beta2, eps)
    return theta[present], m[present], v[present]  # the rows it updated, not the tables


@pytest.mark.parametrize(
    "wrong, check, words",
    [
        (dense_step, "rows_not_present_keep_their_values", "were not in the batch"),
        (last_occurrence_wins, "repeated_rows_are_summed", "keeps only one occurrence"),
        (dense_adam_eps, "eps_enters_as_torch_s_sparse_adam", "adds eps to √v itself"),
        (no_bias_correction, "first_step_moves_present_rows_by_about_lr", "the bias corrections use t"),
        (updates_in_place, "inputs_are_not_modified", "in place"),
        (returns_the_touched_rows, "returns_three_new_tables", "expected the whole table"),
    ],
    ids=["dense", "last wins", "dense eps", "no bias correction", "in place", "rows only"],
)
def test_a_wrong_lazy_adam_loses_marks_with_a_message_naming_the_problem(wrong, check, words):
    report = exercise.check(wrong)
    assert report.implemented and report.score < report.max_score
    result = report.result(check)
    assert result.status == FAILED, str(report)
    assert words in result.message, result.message
    for r in report.failures:  # a hint, never the answer
        assert "return_inverse" not in r.message and "np.sqrt(1 - beta2" not in r.message


@pytest.mark.parametrize("wrong", [dense_step, last_occurrence_wins, dense_adam_eps, no_bias_correction])
def test_tinyrec_s_adam_on_a_rowgrad_catches_it_too(wrong):
    assert exercise.check(wrong).result("matches_tinyrec_adam_on_a_rowgrad").status == FAILED
