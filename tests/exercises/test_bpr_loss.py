"""tinyrec.exercises.bpr_loss: full marks for the reference, none for the stub, and typical wrong BPR
losses and gradients lose marks with feedback naming the problem (never the answer)."""

from __future__ import annotations

import numpy as np
import pytest

from tinyrec.exercises import bpr_loss as exercise
from tinyrec.exercises.checking import FAILED
from tinyrec.losses import BPRLoss


def test_the_solution_gets_full_marks():
    report = exercise.check(exercise.SOLUTION)
    assert report.ok and report.score == report.max_score == 12, str(report)


def test_the_solution_is_tinyrec_s_bpr_loss_through_the_tables():
    rng = np.random.default_rng(0)
    P, Q = rng.standard_normal((4, 3)), rng.standard_normal((6, 3))
    users, pos, neg = rng.integers(0, 4, 9), rng.integers(0, 6, 9), rng.integers(0, 6, 9)
    loss, dP, dQ = exercise.SOLUTION(P, Q, users, pos, neg)
    reference = BPRLoss()
    assert loss == pytest.approx(float(reference((P[users] * Q[pos]).sum(1), (P[users] * Q[neg]).sum(1))))
    d_pos, d_neg = reference.backward()  # (B,) each: chain them into the tables by hand
    want_P, want_Q = np.zeros_like(P), np.zeros_like(Q)
    for b in range(9):
        want_P[users[b]] += d_pos[b] * Q[pos[b]] + d_neg[b] * Q[neg[b]]
        want_Q[pos[b]] += d_pos[b] * P[users[b]]
        want_Q[neg[b]] += d_neg[b] * P[users[b]]
    np.testing.assert_allclose(dP, want_P, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(dQ, want_Q, rtol=1e-12, atol=1e-15)


def test_the_stub_scores_zero():
    assert exercise.check(exercise.STUB).score == 0


def _parts(P, Q, users, pos, neg):
    pu, qi, qj = P[users], Q[pos], Q[neg]
    x = np.sum(pu * (qi - qj), axis=1)
    return pu, qi, qj, x


def naive_log_sigmoid(P, Q, users, pos, neg):
    _, dP, dQ = exercise.SOLUTION(P, Q, users, pos, neg)
    x = _parts(P, Q, users, pos, neg)[3]
    return float(np.mean(np.log(1 + np.exp(-x)))), dP, dQ  # overflows at x = −1000


def summed(P, Q, users, pos, neg):
    loss, dP, dQ = exercise.SOLUTION(P, Q, users, pos, neg)
    return loss * len(users), dP * len(users), dQ * len(users)


def gradient_of_the_sum(P, Q, users, pos, neg):
    loss, dP, dQ = exercise.SOLUTION(P, Q, users, pos, neg)
    return loss, dP * len(users), dQ


def item_signs_swapped(P, Q, users, pos, neg):
    loss, dP, dQ = exercise.SOLUTION(P, Q, users, pos, neg)
    return loss, dP, -dQ  # q_i gets −g p_u and q_j +g p_u


def fancy_index_assignment(P, Q, users, pos, neg):
    pu, qi, qj, x = _parts(P, Q, users, pos, neg)
    loss = exercise.SOLUTION(P, Q, users, pos, neg)[0]
    g = (-1 / (1 + np.exp(x)) / len(x))[:, None]
    dP, dQ = np.zeros_like(P), np.zeros_like(Q)
    dP[users] += g * (qi - qj)  # a repeated id keeps one term
    dQ[pos] += g * pu
    dQ[neg] -= g * pu
    return loss, dP, dQ


def forgets_the_negative_rows(P, Q, users, pos, neg):
    pu, qi, qj, x = _parts(P, Q, users, pos, neg)
    loss, dP, _ = exercise.SOLUTION(P, Q, users, pos, neg)
    dQ = np.zeros_like(Q)
    np.add.at(dQ, pos, (-1 / (1 + np.exp(x)) / len(x))[:, None] * pu)
    return loss, dP, dQ


def forgets_the_minus(P, Q, users, pos, neg):
    loss, dP, dQ = exercise.SOLUTION(P, Q, users, pos, neg)
    return -loss, dP, dQ  # the mean of log σ(x), not of −log σ(x)


def sigmoid_of_x_for_minus_x(P, Q, users, pos, neg):
    pu, qi, qj, x = _parts(P, Q, users, pos, neg)
    loss = exercise.SOLUTION(P, Q, users, pos, neg)[0]
    g = (-1 / (1 + np.exp(-x)) / len(x))[:, None]  # −σ(x) / B, where −σ(−x) / B belongs
    dP, dQ = np.zeros_like(P), np.zeros_like(Q)
    np.add.at(dP, users, g * (qi - qj))
    np.add.at(dQ, pos, g * pu)
    np.add.at(dQ, neg, -g * pu)
    return loss, dP, dQ


def takes_the_sgd_step_too(P, Q, users, pos, neg):
    loss, dP, dQ = exercise.SOLUTION(P.copy(), Q.copy(), users, pos, neg)
    P -= 0.05 * dP  # the update belongs to the optimizer, on the caller's side
    Q -= 0.05 * dQ
    return loss, dP, dQ


@pytest.mark.parametrize(
    "wrong, check, words",
    [
        (naive_log_sigmoid, "loss_is_stable_at_large_margins", "e^1000 overflows"),
        (summed, "loss_matches_tinyrec", "a sum where the mean belongs"),
        (gradient_of_the_sum, "user_gradient_is_right", "the gradient of the sum"),
        (item_signs_swapped, "item_gradients_have_opposite_signs", "signs swapped"),
        (fancy_index_assignment, "repeated_ids_are_summed", "keeps only one term per repeated id"),
        (forgets_the_negative_rows, "item_gradients_have_opposite_signs", "the negatives' rows"),
        (forgets_the_minus, "returns_a_loss_and_two_gradients", "a finite number > 0"),
        (sigmoid_of_x_for_minus_x, "matches_central_differences", "disagrees with central differences"),
        (takes_the_sgd_step_too, "inputs_are_not_modified", "changed its argument P in place"),
    ],
    ids=[
        "naive",
        "sum",
        "gradient of the sum",
        "signs swapped",
        "fancy +=",
        "no negative rows",
        "no minus",
        "sigma(x)",
        "steps",
    ],
)
def test_a_wrong_bpr_loses_marks_with_a_message_naming_the_problem(wrong, check, words):
    report = exercise.check(wrong)
    assert report.implemented and report.score < report.max_score
    result = report.result(check)
    assert result.status == FAILED, str(report)
    assert words in result.message, result.message
    for r in report.failures:  # a hint, never the answer
        assert "log1p" not in r.message and "σ(−x) / B" not in r.message
