"""tinyrec.exercises.softmax_backward: the solution passes, the stub is "not implemented", and
typical wrong softmax backward passes fail with a message that names the problem."""

from __future__ import annotations

import numpy as np
import pytest

from tinyrec.exercises import softmax_backward as exercise
from tinyrec.exercises.checking import FAILED, NOT_IMPLEMENTED
from tinyrec.nn import Softmax


def test_the_solution_passes_every_check():
    report = exercise.check(exercise.SOLUTION)
    assert report.ok, str(report)


def test_the_solution_is_tinyrec_s_softmax_backward():
    rng = np.random.default_rng(0)
    A, dP = rng.standard_normal((3, 4, 4)), rng.standard_normal((3, 4, 4))
    layer = Softmax(dim=-1)
    P = layer(A)
    np.testing.assert_allclose(exercise.SOLUTION(P, dP), layer.backward(dP), rtol=1e-13, atol=1e-15)


def test_the_stub_reports_not_implemented():
    report = exercise.check(exercise.STUB)
    assert not report.implemented
    assert all(r.status == NOT_IMPLEMENTED for r in report.results)
    assert "not implemented yet" in str(report)


def elementwise(P, dP):
    return P * dP  # softmax treated as if it acted entry by entry


def without_the_factor_p(P, dP):
    return dP - np.sum(dP * P, axis=-1, keepdims=True)


def sum_over_the_wrong_axis(P, dP):
    return P * (dP - np.sum(dP * P, axis=-2, keepdims=True))


def without_keepdims(P, dP):
    return P * (dP - np.sum(dP * P, axis=-1))


def p_left_out_of_the_row_sum(P, dP):
    return P * (dP - np.sum(dP, axis=-1, keepdims=True))  # Σ_i dP_i, not Σ_i dP_i P_i


def writes_into_dp(P, dP):
    dP -= np.sum(dP * P, axis=-1, keepdims=True)
    dP *= P
    return dP


@pytest.mark.parametrize(
    "wrong, check, words",
    [
        (elementwise, "rows_of_da_sum_to_zero", "must be 0"),
        (without_the_factor_p, "zero_where_p_is_zero", "masked key"),
        (sum_over_the_wrong_axis, "rows_of_da_sum_to_zero", "the last axis"),
        (without_keepdims, "returns_the_shape_of_p", "keepdims=True"),
        (writes_into_dp, "inputs_are_not_modified", "changed dP in place"),
        (p_left_out_of_the_row_sum, "matches_the_reference", "summed over the row i of the same query"),
    ],
    ids=["P*dP", "no factor P", "wrong axis", "no keepdims", "in place", "row sum without P"],
)
def test_a_wrong_backward_fails_with_a_message_naming_the_problem(wrong, check, words):
    report = exercise.check(wrong)
    assert not report.ok and report.implemented
    result = report.result(check)
    assert result.status == FAILED, str(report)
    assert words in result.message
    assert report.result("matches_central_differences").status == FAILED
    for r in report.failures:  # a hint, never the answer
        assert "dP − rowsum" not in r.message and "P * (dP" not in r.message
