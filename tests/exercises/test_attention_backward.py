"""tinyrec.exercises.attention_backward: full marks for the reference, none for the stub, and typical
wrong attention backward passes lose marks with feedback naming the problem (never the answer)."""

from __future__ import annotations

import numpy as np
import pytest

from tinyrec.exercises import attention_backward as exercise
from tinyrec.exercises.checking import FAILED


def test_the_solution_gets_full_marks():
    report = exercise.check(exercise.SOLUTION)
    assert report.ok and report.score == report.max_score == 10, str(report)


def test_the_stub_scores_zero():
    assert exercise.check(exercise.STUB).score == 0


def _variant(Q, K, V, dO, *, mask=True, second_term=True, scale=True, transpose_p=True, mask_ds=False):
    L, d_k = Q.shape[1], Q.shape[2]
    S = Q @ K.swapaxes(-1, -2) / np.sqrt(d_k)
    if mask:
        S = np.where(np.triu(np.ones((L, L), dtype=bool), k=1), -np.inf, S)
    P = np.exp(S - S.max(axis=-1, keepdims=True))
    P /= P.sum(axis=-1, keepdims=True)
    dV = (P.swapaxes(-1, -2) if transpose_p else P) @ dO
    dP = dO @ V.swapaxes(-1, -2)
    dS = P * (dP - (P * dP).sum(axis=-1, keepdims=True)) if second_term else P * dP
    if mask_ds:  # masked like the scores, with −∞: dS must be 0 there, as P is
        dS = np.where(np.triu(np.ones((L, L), dtype=bool), k=1), -np.inf, dS)
    c = 1 / np.sqrt(d_k) if scale else 1.0
    return dS @ K * c, dS.swapaxes(-1, -2) @ Q * c, dV


def no_mask_in_the_backward(Q, K, V, dO):
    return _variant(Q, K, V, dO, mask=False)


def softmax_without_the_row_sum(Q, K, V, dO):
    return _variant(Q, K, V, dO, second_term=False)


def unscaled(Q, K, V, dO):
    return _variant(Q, K, V, dO, scale=False)


def p_not_transposed(Q, K, V, dO):
    return _variant(Q, K, V, dO, transpose_p=False)


def masks_ds_with_minus_infinity(Q, K, V, dO):
    with np.errstate(invalid="ignore"):  # −∞ · 0 in the products: the NaN the check names
        return _variant(Q, K, V, dO, mask_ds=True)


def scales_q_in_place(Q, K, V, dO):
    L, d_k = Q.shape[1], Q.shape[2]
    Q *= 1 / np.sqrt(d_k)  # 1/√d_k applied once, for S and dK alike, but to the caller's Q
    S = np.where(np.triu(np.ones((L, L), dtype=bool), k=1), -np.inf, Q @ K.swapaxes(-1, -2))
    P = np.exp(S - S.max(axis=-1, keepdims=True))
    P /= P.sum(axis=-1, keepdims=True)
    dP = dO @ V.swapaxes(-1, -2)
    dS = P * (dP - (P * dP).sum(axis=-1, keepdims=True))
    return dS @ K / np.sqrt(d_k), dS.swapaxes(-1, -2) @ Q, P.swapaxes(-1, -2) @ dO


@pytest.mark.parametrize(
    "wrong, check, words",
    [
        (no_mask_in_the_backward, "future_keys_get_nothing_from_the_past", "the causal mask holds"),
        (softmax_without_the_row_sum, "softmax_backward_subtracts_the_row_sum", "lacks its second term"),
        (unscaled, "scores_are_scaled", "the 1/√d_k reaches both"),
        (p_not_transposed, "value_gradient", "a transpose of P"),
        (masks_ds_with_minus_infinity, "returns_three_gradients", "NaN or inf"),
        (scales_q_in_place, "inputs_are_not_modified", "changed Q in place"),
    ],
    ids=["no mask", "no row sum", "unscaled", "P not transposed", "dS masked with -inf", "Q scaled in place"],
)
def test_a_wrong_backward_loses_marks_with_a_message_naming_the_problem(wrong, check, words):
    report = exercise.check(wrong)
    assert report.implemented and report.score < report.max_score
    result = report.result(check)
    assert result.status == FAILED, str(report)
    assert words in result.message, result.message
    for r in report.failures:  # a hint, never the answer
        assert "keepdims" not in r.message and "swapaxes(-1, -2) @ dO" not in r.message


@pytest.mark.parametrize(
    "wrong", [no_mask_in_the_backward, softmax_without_the_row_sum, unscaled, p_not_transposed]
)
def test_central_differences_catch_it_too(wrong):
    assert exercise.check(wrong).result("matches_central_differences").status == FAILED
