"""tinyrec.exercises.gru_cell_backward: full marks for the reference, none for the stub, and typical
wrong GRU backward passes lose marks with feedback naming the problem (never the answer)."""

from __future__ import annotations

import numpy as np
import pytest

from tinyrec.exercises import gru_cell_backward as exercise
from tinyrec.exercises.checking import FAILED
from tinyrec.nn import GRU


def test_the_solution_gets_full_marks():
    report = exercise.check(exercise.SOLUTION)
    assert report.ok and report.score == report.max_score == 10, str(report)


def test_the_solution_is_one_step_of_tinyrec_s_gru():
    rng = np.random.default_rng(0)
    x, h0, dh = rng.standard_normal((3, 4)), rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    gru = GRU(4, 2, batch_first=True, dtype=np.float64)
    W_ih, W_hh, b_ih, b_hh = (
        getattr(gru, f"{n}_l0").data for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    )
    gru.zero_grad()
    gru(x[:, None, :], h0[None])
    dx = gru.backward(None, dh[None])
    ours = exercise.SOLUTION(x, h0, W_ih, W_hh, b_ih, b_hh, dh)
    np.testing.assert_allclose(ours[0], dx[:, 0], rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(ours[1], gru.initial_state_grad[0], rtol=1e-10, atol=1e-13)
    for got, name in zip(ours[2:], ("weight_ih", "weight_hh", "bias_ih", "bias_hh"), strict=True):
        np.testing.assert_allclose(got, getattr(gru, f"{name}_l0").grad, rtol=1e-10, atol=1e-13)


def test_the_stub_scores_zero():
    assert exercise.check(exercise.STUB).score == 0


def _variant(x, h_prev, W_ih, W_hh, b_ih, b_hh, dh, *, direct=True, z_sign=1, scale_n=True, mean=False,
             sum_biases=True, reuse_dh=False):  # fmt: skip
    H = h_prev.shape[1]
    gi, gh = x @ W_ih.T + b_ih, h_prev @ W_hh.T + b_hh
    r = 1 / (1 + np.exp(-(gi[:, :H] + gh[:, :H])))
    z = 1 / (1 + np.exp(-(gi[:, H : 2 * H] + gh[:, H : 2 * H])))
    n = np.tanh(gi[:, 2 * H :] + r * gh[:, 2 * H :])
    da_z = z_sign * dh * (h_prev - n) * z * (1 - z)
    through_z = dh * z if direct else 0
    if reuse_dh:  # dh's memory reused for da_n: the caller's dh is overwritten
        da_n = dh
        da_n *= (1 - z) * (1 - n**2)
    else:
        da_n = dh * (1 - z) * (1 - n**2)
    da_r = da_n * gh[:, 2 * H :] * r * (1 - r)
    dgi = np.concatenate([da_r, da_z, da_n], axis=1)
    dgh = np.concatenate([da_r, da_z, da_n * r if scale_n else da_n], axis=1)
    k = 1 / len(x) if mean else 1
    dh_prev = dgh @ W_hh + through_z
    db_ih, db_hh = (k * dgi.sum(0), k * dgh.sum(0)) if sum_biases else (k * dgi, k * dgh)
    return dgi @ W_ih, dh_prev, k * dgi.T @ x, k * dgh.T @ h_prev, db_ih, db_hh


def no_direct_path(*args):
    return _variant(*args, direct=False)


def update_gate_sign_flipped(*args):
    return _variant(*args, z_sign=-1)


def reset_gate_forgotten(*args):
    return _variant(*args, scale_n=False)


def mean_over_the_batch(*args):
    return _variant(*args, mean=True)


def bias_gradients_per_row(*args):  # the bias is shared by the rows: its gradient sums over them
    return _variant(*args, sum_biases=False)


def reuses_dh_in_place(*args):
    return _variant(*args, reuse_dh=True)


@pytest.mark.parametrize(
    "wrong, check, words",
    [
        (no_direct_path, "input_and_state_gradients", "lacks the direct path"),
        (update_gate_sign_flipped, "update_gate_gradient", "wrong sign"),
        (reset_gate_forgotten, "reset_gate_scales_the_hidden_candidate", "multiplied by r"),
        (mean_over_the_batch, "weight_gradients_sum_over_the_batch", "a mean where a sum belongs"),
        (bias_gradients_per_row, "returns_six_gradients", "it has the shape of its input"),
        (reuses_dh_in_place, "inputs_are_not_modified", "changed its argument dh in place"),
    ],
    ids=["no direct path", "z sign", "r forgotten", "mean", "bias per row", "dh reused"],
)
def test_a_wrong_backward_loses_marks_with_a_message_naming_the_problem(wrong, check, words):
    report = exercise.check(wrong)
    assert report.implemented and report.score < report.max_score
    result = report.result(check)
    assert result.status == FAILED, str(report)
    assert words in result.message, result.message
    for r in report.failures:  # a hint, never the answer
        assert "np.concatenate" not in r.message


@pytest.mark.parametrize(
    "wrong", [no_direct_path, update_gate_sign_flipped, reset_gate_forgotten, mean_over_the_batch]
)
def test_central_differences_catch_it_too(wrong):
    assert exercise.check(wrong).result("matches_central_differences").status == FAILED
