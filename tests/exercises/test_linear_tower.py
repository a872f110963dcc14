"""tinyrec.exercises.linear_tower: the solution passes, the stub is "not implemented", and typical
wrong tower backward passes fail with a message that names the problem."""

from __future__ import annotations

import pytest

from tinyrec.exercises import linear_tower as exercise
from tinyrec.exercises.checking import FAILED, NOT_IMPLEMENTED
from tinyrec.exercises.linear_tower import LinearTower


def test_the_solution_passes_every_check():
    report = exercise.check(exercise.SOLUTION)
    assert report.ok, str(report)


def test_the_stub_reports_not_implemented():
    report = exercise.check(exercise.STUB)
    assert not report.implemented
    assert all(r.status == NOT_IMPLEMENTED for r in report.results)
    assert "not implemented yet" in str(report)


class ForgetsTheItemHalf(LinearTower):
    def backward(self, grad_output):
        self.user_embedding.backward(grad_output[:, : self.dim])
        return None, None


class SwapsTheHalves(LinearTower):
    def backward(self, grad_output):
        self.user_embedding.backward(grad_output[:, self.dim :])
        self.item_embedding.backward(grad_output[:, : self.dim])
        return None, None


class SendsTheWholeGradient(LinearTower):
    def backward(self, grad_output):
        self.user_embedding.backward(grad_output)
        self.item_embedding.backward(grad_output)
        return None, None


class ResetsTheGradients(LinearTower):
    def backward(self, grad_output):
        self.user_embedding.weight.zero_grad()  # as if each call started afresh
        self.item_embedding.weight.zero_grad()
        self.user_embedding.backward(grad_output[:, : self.dim])
        self.item_embedding.backward(grad_output[:, self.dim :])
        return None, None


@pytest.mark.parametrize(
    "wrong, check, words, gradcheck_fails",
    [
        (ForgetsTheItemHalf, "item_table_gets_its_half", "item table received no gradient", True),
        (SwapsTheHalves, "user_table_gets_its_half", "belong to the other vector", True),
        (SendsTheWholeGradient, "user_table_gets_its_half", "grad_output of shape (6, 4)", True),
        # gradcheck runs backward twice and names an overwritten gradient too (tinyrec.gradcheck)
        (ResetsTheGradients, "gradients_accumulate", "must add up until zero_grad", True),
    ],
    ids=["forgetful", "swapped", "whole dh", "resets"],
)
def test_a_wrong_tower_fails_with_a_message_naming_the_problem(wrong, check, words, gradcheck_fails):
    report = exercise.check(wrong)
    assert not report.ok and report.implemented
    result = report.result(check)
    assert result.status == FAILED, str(report)
    assert words in result.message
    gradcheck = report.result("matches_central_differences_in_neumf")
    assert (gradcheck.status == FAILED) == gradcheck_fails
