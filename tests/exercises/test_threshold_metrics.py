"""tinyrec.exercises.threshold_metrics: the solution gets full marks, the stub is "not implemented",
and the usual mistakes with a threshold, precision, recall and F1 lose points, each named."""

from __future__ import annotations

import numpy as np
import pytest

from tinyrec.exercises import threshold_metrics as exercise
from tinyrec.exercises.checking import FAILED, NOT_IMPLEMENTED


def test_the_solution_gets_full_marks():
    report = exercise.check(exercise.SOLUTION)
    assert report.ok, str(report)
    assert report.score == report.max_score == len(exercise.CHECKS)


def test_the_stub_reports_not_implemented():
    report = exercise.check(exercise.STUB)
    assert not report.implemented and report.score == 0
    assert all(r.status == NOT_IMPLEMENTED for r in report.results)
    assert "not implemented yet" in str(report)


def _counts(labels, predicted):
    actual = np.asarray(labels) == 1
    tp = np.sum(predicted & actual)
    return tp, np.sum(predicted & ~actual), np.sum(~predicted & actual), np.mean(predicted == actual)


def strict_threshold(labels, probabilities, threshold):  # p > threshold: the threshold itself is "no"
    tp, fp, fn, acc = _counts(labels, np.asarray(probabilities) > threshold)
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"accuracy": acc, "precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


def swapped(labels, probabilities, threshold):  # precision and recall exchanged
    out = exercise.SOLUTION(labels, probabilities, threshold)
    return {**out, "precision": out["recall"], "recall": out["precision"]}


def arithmetic_f1(labels, probabilities, threshold):  # F1 as the plain mean of precision and recall
    out = exercise.SOLUTION(labels, probabilities, threshold)
    return {**out, "f1": (out["precision"] + out["recall"]) / 2}


def nan_on_nothing(labels, probabilities, threshold):  # NumPy's 0/0: NaN
    tp, fp, fn, acc = _counts(labels, np.asarray(probabilities) >= threshold)
    p, r = np.float64(tp) / (tp + fp), np.float64(tp) / (tp + fn)
    return {"accuracy": acc, "precision": p, "recall": r, "f1": 2 * p * r / (p + r)}


def a_tuple(labels, probabilities, threshold):  # the numbers without their names
    out = exercise.SOLUTION(labels, probabilities, threshold)
    return out["precision"], out["recall"], out["f1"]


def accuracy_of_hits_only(labels, probabilities, threshold):  # forgets the true negatives
    out = exercise.SOLUTION(labels, probabilities, threshold)
    predicted, actual = np.asarray(probabilities) >= threshold, np.asarray(labels) == 1
    return {**out, "accuracy": float(np.mean(predicted & actual))}


def threshold_fixed_at_half(labels, probabilities, threshold):  # ignores the threshold it is given
    return exercise.SOLUTION(labels, probabilities, 0.5)


def misreads_the_threshold(labels, probabilities, threshold):  # uses the threshold as a percentage
    return exercise.SOLUTION(labels, probabilities, threshold / 100)


def sorts_in_place(labels, probabilities, threshold):  # changes the caller's arrays
    probabilities.sort()
    return exercise.SOLUTION(labels, probabilities, threshold)


@pytest.mark.parametrize(
    "wrong, check, words",
    [
        (strict_threshold, "the_threshold_counts_as_a_purchase", "equal to the threshold"),
        (swapped, "precision_and_recall_are_not_swapped", "swapped"),
        (arithmetic_f1, "f1_is_the_harmonic_mean", "harmonic mean"),
        (nan_on_nothing, "nothing_predicted_gives_zero_not_nan", "NaN"),
        (sorts_in_place, "inputs_are_not_modified", "changed the labels or probabilities"),
        (a_tuple, "returns_the_four_metrics", "return a dict with the keys"),
        (accuracy_of_hits_only, "a_small_case_by_hand", "accuracy must be 0.6667"),
        (threshold_fixed_at_half, "matches_tinyrec_on_random_events", "are those of threshold 0.5"),
        (misreads_the_threshold, "matches_tinyrec_on_random_events", "must be"),
    ],
    ids=[
        "p > threshold",
        "swapped",
        "arithmetic F1",
        "NaN on 0/0",
        "in place",
        "tuple",
        "accuracy of hits",
        "threshold 0.5",
        "threshold / 100",
    ],
)
def test_a_wrong_solution_loses_points_with_a_message_naming_the_mistake(wrong, check, words):
    report = exercise.check(wrong)
    assert report.implemented and not report.ok
    assert report.score < report.max_score
    result = report.result(check)
    assert result.status == FAILED, str(report)
    assert words in result.message
