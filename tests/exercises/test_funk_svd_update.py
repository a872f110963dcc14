"""tinyrec.exercises.funk_svd_update: full marks for the reference, none for the stub, and typical
wrong updates lose marks with feedback naming the problem (never the answer)."""

from __future__ import annotations

import numpy as np
import pytest

from tinyrec.exercises import funk_svd_update as exercise
from tinyrec.exercises.checking import FAILED
from tinyrec.kernels.mf import funk_svd_epoch


def test_the_solution_gets_full_marks():
    report = exercise.check(exercise.SOLUTION)
    assert report.ok and report.score == report.max_score == 10, str(report)


def test_the_solution_is_one_step_of_the_fused_kernel():
    rng = np.random.default_rng(0)
    bu, bi, P, Q = (
        rng.standard_normal(1),
        rng.standard_normal(1),
        rng.standard_normal((1, 3)),
        rng.standard_normal((1, 3)),
    )
    err, new_bu, new_bi, new_pu, new_qi = exercise.SOLUTION(
        4.0, 3.0, bu[0], bi[0], P[0].copy(), Q[0].copy(), 0.1, 0.2
    )
    zero = np.zeros(1, dtype=np.int64)
    sse = funk_svd_epoch(
        zero, zero, np.array([4.0]), zero, 3.0, bu, bi, P, Q, np.full(4, 0.1), np.full(4, 0.2)
    )
    assert sse == pytest.approx(err**2, rel=1e-12)
    np.testing.assert_allclose([new_bu, new_bi], [bu[0], bi[0]], rtol=1e-12)
    np.testing.assert_allclose(np.vstack([new_pu, new_qi]), np.vstack([P[0], Q[0]]), rtol=1e-12)


def test_the_stub_scores_zero():
    assert exercise.check(exercise.STUB).score == 0


def new_pu_for_qi(r, mu, bu, bi, pu, qi, lr, reg):
    err = r - (mu + bu + bi + pu @ qi)
    pu = pu + lr * (err * qi - reg * pu)
    qi = qi + lr * (err * pu - reg * qi)  # reads the p_u just written
    return float(err), bu + lr * (err - reg * bu), bi + lr * (err - reg * bi), pu, qi


def error_the_other_way(r, mu, bu, bi, pu, qi, lr, reg):
    err = (mu + bu + bi + pu @ qi) - r
    return (float(err), bu + lr * (err - reg * bu), bi + lr * (err - reg * bi),
            pu + lr * (err * qi - reg * pu), qi + lr * (err * pu - reg * qi))  # fmt: skip


def biases_not_regularized(r, mu, bu, bi, pu, qi, lr, reg):
    err, _, _, new_pu, new_qi = exercise.SOLUTION(r, mu, bu, bi, pu, qi, lr, reg)
    return err, bu + lr * err, bi + lr * err, new_pu, new_qi


def regularization_added(r, mu, bu, bi, pu, qi, lr, reg):
    err = r - (mu + bu + bi + pu @ qi)
    return (float(err), bu + lr * (err + reg * bu), bi + lr * (err + reg * bi),
            pu + lr * (err * qi + reg * pu), qi + lr * (err * pu + reg * qi))  # fmt: skip


def in_place(r, mu, bu, bi, pu, qi, lr, reg):
    err, new_bu, new_bi, new_pu, new_qi = exercise.SOLUTION(r, mu, bu, bi, pu, qi, lr, reg)
    pu[...], qi[...] = new_pu, new_qi
    return err, new_bu, new_bi, pu, qi


def forgets_the_error(r, mu, bu, bi, pu, qi, lr, reg):
    return exercise.SOLUTION(r, mu, bu, bi, pu, qi, lr, reg)[1:]  # the parameters, without err


@pytest.mark.parametrize(
    "wrong, check, words",
    [
        (new_pu_for_qi, "factors_use_the_old_values", "updated with the new p_u"),
        (error_the_other_way, "error_is_measured_before_the_update", "e is r − r̂"),
        (biases_not_regularized, "biases_move_with_the_error", "ignores the regularization"),
        (regularization_added, "regularization_shrinks_every_parameter", "should shrink"),
        (in_place, "inputs_are_not_modified", "in place"),
        (
            forgets_the_error,
            "returns_the_error_and_new_parameters",
            "not the five values (err, bu, bi, pu, qi)",
        ),
    ],
    ids=["new p_u", "error sign", "biases unregularized", "regularization grows", "in place", "no err"],
)
def test_a_wrong_update_loses_marks_with_a_message_naming_the_problem(wrong, check, words):
    report = exercise.check(wrong)
    assert report.implemented and report.score < report.max_score
    result = report.result(check)
    assert result.status == FAILED, str(report)
    assert words in result.message, result.message
    for r in report.failures:  # a hint, never the answer
        assert "err * qi - reg * pu" not in r.message


@pytest.mark.parametrize(
    "wrong", [new_pu_for_qi, error_the_other_way, biases_not_regularized, regularization_added]
)
def test_the_fused_kernel_catches_it_too(wrong):
    assert exercise.check(wrong).result("matches_funk_svd_epoch").status == FAILED
