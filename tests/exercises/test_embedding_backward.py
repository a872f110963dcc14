"""tinyrec.exercises.embedding_backward: full marks for the reference, none for the stub, and
typical wrong backward passes lose marks with feedback naming the problem (never the answer)."""

from __future__ import annotations

import numpy as np
import pytest

from tinyrec.exercises import embedding_backward as exercise
from tinyrec.exercises.checking import FAILED
from tinyrec.exercises.embedding_backward import MyEmbedding
from tinyrec.nn import Embedding, RowGrad


def test_the_solution_gets_full_marks():
    report = exercise.check(exercise.SOLUTION)
    assert report.ok and report.score == report.max_score == 10, str(report)


def test_the_solution_is_tinyrec_s_embedding():
    ids = np.array([[3, 1, 3], [0, 3, 1]])
    dy = np.random.default_rng(0).standard_normal((2, 3, 4))
    mine, reference = exercise.SOLUTION(5, 4, seed=0), Embedding(5, 4, dtype=np.float64)
    reference.weight.data = mine.weight.data.copy()
    np.testing.assert_array_equal(mine(ids), reference(ids))
    mine.backward(dy)
    reference.backward(dy)
    np.testing.assert_array_equal(mine.weight.grad.rows, reference.weight.grad.rows)
    np.testing.assert_allclose(mine.weight.grad.values, reference.weight.grad.values, rtol=1e-15)


def test_the_stub_scores_zero():
    assert exercise.check(exercise.STUB).score == 0


def test_from_indices_is_restored_after_its_check():
    original = RowGrad.__dict__["from_indices"]
    exercise.check(UsesFromIndices)
    assert RowGrad.__dict__["from_indices"] is original


class LastRepeatWins(MyEmbedding):
    def backward(self, grad_output):
        dy = grad_output.reshape(-1, self.dim)
        rows, inverse = np.unique(self._ids, return_inverse=True)
        values = np.zeros((len(rows), self.dim))
        values[inverse] += dy  # buffered: one of the repeats survives
        self.weight.accumulate(RowGrad(rows, values))


class DenseGradient(MyEmbedding):
    def backward(self, grad_output):
        dense = np.zeros_like(self.weight.data)
        np.add.at(dense, self._ids, grad_output.reshape(-1, self.dim))
        self.weight.accumulate(dense)


class OverwritesGrad(MyEmbedding):
    def backward(self, grad_output):
        dy = grad_output.reshape(-1, self.dim)
        rows, inverse = np.unique(self._ids, return_inverse=True)
        values = np.zeros((len(rows), self.dim))
        np.add.at(values, inverse, dy)
        self.weight.grad = RowGrad(rows, values)


class FlatOnly(MyEmbedding):
    def backward(self, grad_output):
        rows, inverse = np.unique(self._ids, return_inverse=True)
        values = np.zeros((len(rows), self.dim))
        np.add.at(values, inverse, grad_output)  # (batch, length, dim) is not flattened
        self.weight.accumulate(RowGrad(rows, values))


class UsesFromIndices(MyEmbedding):
    def backward(self, grad_output):
        self.weight.accumulate(RowGrad.from_indices(self._ids, grad_output.reshape(-1, self.dim)))


class SumsRepeatsIntoGradOutput(MyEmbedding):
    def backward(self, grad_output):
        dy = grad_output.reshape(-1, self.dim)  # a view: writing into dy writes into grad_output
        rows, first, inverse = np.unique(self._ids, return_index=True, return_inverse=True)
        repeat = np.arange(len(dy)) != first[inverse]
        np.add.at(dy, first[inverse[repeat]], dy[repeat])  # each repeat added to its first occurrence
        self.weight.accumulate(RowGrad(rows, dy[first]))


class GroupsBySorting(MyEmbedding):
    def backward(self, grad_output):
        order = np.argsort(self._ids, kind="stable")
        ids, dy = self._ids[order], grad_output.reshape(-1, self.dim)[order]
        starts = np.r_[0, np.flatnonzero(np.diff(ids)) + 1]  # the first group starts at 0: one id at least
        self.weight.accumulate(RowGrad(ids[starts], np.add.reduceat(dy, starts, axis=0)))


@pytest.mark.parametrize(
    "wrong, check, words",
    [
        (LastRepeatWins, "repeated_ids_are_summed", "keeps one of repeated indices"),
        (DenseGradient, "gradient_is_row_sparse", "a dense ndarray"),
        (OverwritesGrad, "gradients_accumulate", "overwritten"),
        (FlatOnly, "ids_of_any_shape", "flatten dY's leading axes"),
        (UsesFromIndices, "builds_the_rows_itself", "RowGrad.from_indices"),
        (SumsRepeatsIntoGradOutput, "grad_output_is_not_modified", "changed grad_output in place"),
        (GroupsBySorting, "an_empty_batch_touches_no_row", "raised IndexError"),
        (GroupsBySorting, "an_empty_batch_touches_no_row", "without reading a first or last element"),
    ],
    ids=["last wins", "dense", "overwritten", "2-D ids", "from_indices", "dY written", "empty batch", "hint"],
)
def test_a_wrong_backward_loses_marks_with_a_message_naming_the_problem(wrong, check, words):
    report = exercise.check(wrong)
    assert report.implemented and report.score < report.max_score
    result = report.result(check)
    assert result.status == FAILED, str(report)
    assert words in result.message
    for r in report.failures:  # a hint, never the answer
        assert "return_inverse" not in r.message and "np.add.at(values" not in r.message


def test_the_layer_contract_catches_a_lost_repeat():
    assert exercise.check(LastRepeatWins).result("passes_the_layer_contract").status == FAILED
