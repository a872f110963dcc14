"""Exercise of tutorial 09: a purchase model's accuracy, precision, recall and F1 at a threshold.

Task
----
Write ``my_threshold_metrics(labels, probabilities, threshold)``. ``labels`` are the true outcomes
of some events (1: the user bought the item, 0: not), ``probabilities`` a purchase model's
``p_ui`` for the same events. Predict a purchase where ``p >= threshold`` (a probability equal to
the threshold counts as a purchase) and return a dict with the ``"accuracy"``, ``"precision"``,
``"recall"`` and ``"f1"`` of those predictions. A ratio with nothing to count (no predicted
purchase for precision, no true purchase for recall, precision and recall both 0 for F1) is 0,
never NaN.

Shapes
------
``labels : (n,)`` 0/1 ints, ``probabilities : (n,)`` floats in ``[0, 1]``, ``threshold`` a float;
returns a dict of four Python floats.

Math
----
With ``ŷ_n = 1[p_n >= threshold]``, ``TP = #{ŷ = 1, y = 1}``, ``FP = #{ŷ = 1, y = 0}``,
``FN = #{ŷ = 0, y = 1}``::

    accuracy  = mean_n [ŷ_n = y_n]
    precision = TP / (TP + FP)          (0 when TP + FP = 0)
    recall    = TP / (TP + FN)          (0 when TP + FN = 0)
    F1        = 2 · precision · recall / (precision + recall)   (0 when both are 0)

F1 is the harmonic mean of precision and recall, not their average: a model that predicts
"purchase" everywhere has recall 1 and a low precision, and its F1 stays low.
:mod:`tinyrec.metrics.classification` (``accuracy``, ``precision_recall_f1``) computes the same.

Checks
------
* ``returns_the_four_metrics``: a dict with the four keys, each a number;
* ``a_small_case_by_hand``: six events, worked out by hand;
* ``the_threshold_counts_as_a_purchase``: ``p == threshold`` is predicted a purchase;
* ``precision_and_recall_are_not_swapped``: a case where they differ;
* ``f1_is_the_harmonic_mean``: a model that predicts a purchase everywhere;
* ``nothing_predicted_gives_zero_not_nan``: no predicted purchase, no true purchase;
* ``matches_tinyrec_on_random_events``: :mod:`tinyrec.metrics.classification` on random data;
* ``inputs_are_not_modified``.

``check(my_threshold_metrics)`` runs them all; ``tinyrec.exercises.show_solution("threshold_metrics")``
prints the reference solution.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ..metrics.classification import accuracy, precision_recall_f1
from .checking import expect, run_checks

NAME = "threshold_metrics"
TUTORIAL = "09_shop_pipeline"
KEYS = ("accuracy", "precision", "recall", "f1")


# -- the stub: what the tutorial gives the student --------------------------------------------
def my_threshold_metrics(labels, probabilities, threshold):
    """``{"accuracy", "precision", "recall", "f1"}`` of predicting a purchase where ``p >= threshold``."""
    raise NotImplementedError("your turn: predict p >= threshold, count TP, FP, FN, and divide (0/0 is 0)")


# -- the reference solution ---------------------------------------------------------------------
def solution_threshold_metrics(labels, probabilities, threshold):
    """Count the three kinds of events, then divide, with 0 where there is nothing to divide.

    ``predicted`` and ``actual`` are boolean arrays; ``&`` and ``~`` count each cell of the
    confusion matrix in one line each.
    """
    actual = np.asarray(labels) == 1
    predicted = np.asarray(probabilities) >= threshold
    tp = int(np.sum(predicted & actual))
    fp = int(np.sum(predicted & ~actual))
    fn = int(np.sum(~predicted & actual))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "accuracy": float(np.mean(predicted == actual)),
        "precision": precision,
        "recall": recall,
        "f1": f1,
    }


STUB = my_threshold_metrics
SOLUTION = solution_threshold_metrics
TUTORIAL_CODE = (my_threshold_metrics,)


# -- the checks -----------------------------------------------------------------------------------
def _metrics(fn, labels, probabilities, threshold):
    """The candidate's four metrics as floats; anything else stops here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a 0/0 in NumPy warns; the NaN it gives is checked below
        out = fn(np.array(labels), np.array(probabilities, dtype=np.float64), threshold)
    expect(isinstance(out, dict), f"return a dict with the keys {KEYS}, got {type(out).__name__}")
    missing = [key for key in KEYS if key not in out]
    expect(not missing, f"the dict lacks {missing}; return all of {KEYS}")
    values = {}
    for key in KEYS:
        try:
            values[key] = float(out[key])
        except (TypeError, ValueError):
            raise AssertionError(f"{key} must be a number, got {out[key]!r}") from None
    return values


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def returns_the_four_metrics(fn):
    _metrics(fn, [1, 0, 1], [0.9, 0.2, 0.4], 0.5)


def a_small_case_by_hand(fn):
    # p >= 0.5 predicts [1, 1, 0, 0, 1, 0]: TP 2 (rows 0, 4), FP 1 (row 1), FN 1 (row 2), TN 2
    got = _metrics(fn, [1, 0, 1, 0, 1, 0], [0.9, 0.6, 0.3, 0.1, 0.7, 0.2], 0.5)
    want = {"accuracy": 4 / 6, "precision": 2 / 3, "recall": 2 / 3, "f1": 2 / 3}
    for key, value in want.items():
        expect(_close(got[key], value),
               f"labels [1, 0, 1, 0, 1, 0], probabilities [0.9, 0.6, 0.3, 0.1, 0.7, 0.2], threshold 0.5: "
               f"{key} must be {value:.4f}, got {got[key]:.4f}")  # fmt: skip


def the_threshold_counts_as_a_purchase(fn):
    got = _metrics(fn, [1, 0, 1, 0], [0.5, 0.5, 0.2, 0.1], 0.5)
    if _close(got["recall"], 0.0):
        raise AssertionError(
            "a probability equal to the threshold was not predicted a purchase. "
            "Hint: the rule is p >= threshold"
        )
    expect(_close(got["recall"], 0.5) and _close(got["precision"], 0.5),
           f"labels [1, 0, 1, 0], probabilities [0.5, 0.5, 0.2, 0.1], threshold 0.5: precision and recall "
           f"must both be 0.5, got {got['precision']:.4f} and {got['recall']:.4f}")  # fmt: skip


def precision_and_recall_are_not_swapped(fn):
    # predicted [1, 1, 1, 0]: TP 1, FP 2, FN 1 -> precision 1/3, recall 1/2
    got = _metrics(fn, [1, 0, 0, 1], [0.8, 0.7, 0.9, 0.1], 0.5)
    if _close(got["precision"], 0.5) and _close(got["recall"], 1 / 3):
        raise AssertionError(
            "precision and recall are swapped. Hint: precision divides by the predicted purchases (TP + FP), "
            "recall by the true ones (TP + FN)"
        )
    expect(_close(got["precision"], 1 / 3) and _close(got["recall"], 0.5),
           f"labels [1, 0, 0, 1], probabilities [0.8, 0.7, 0.9, 0.1], threshold 0.5: precision must be 1/3 "
           f"and recall 1/2, got {got['precision']:.4f} and {got['recall']:.4f}")  # fmt: skip


def f1_is_the_harmonic_mean(fn):
    # a purchase predicted everywhere: precision 1/5, recall 1
    got = _metrics(fn, [1, 0, 0, 0, 0], [0.9, 0.8, 0.7, 0.6, 0.55], 0.5)
    if _close(got["f1"], 0.6):
        raise AssertionError(
            "F1 is the mean of precision and recall here; it is their harmonic mean, "
            "2 · precision · recall / (precision + recall), which stays low when either is low"
        )
    expect(_close(got["f1"], 1 / 3),
           f"predicting a purchase for all 5 events, 1 of them a purchase: precision 1/5, recall 1, F1 must "
           f"be 1/3, got {got['f1']:.4f}")  # fmt: skip


def nothing_predicted_gives_zero_not_nan(fn):
    for labels, probabilities, what in (
        ([1, 1, 0], [0.1, 0.2, 0.3], "no probability reaches the threshold"),
        ([0, 0, 0], [0.9, 0.1, 0.2], "no event is a purchase"),
    ):
        got = _metrics(fn, labels, probabilities, 0.5)
        nan = [key for key, value in got.items() if math.isnan(value)]
        expect(not nan, f"{what}: {nan} came out NaN. Hint: a ratio with nothing to count is 0 (0/0 is 0)")
        for key in ("precision", "recall", "f1"):
            expect(_close(got[key], 0.0), f"{what}: {key} must be 0, got {got[key]:.4f}")


def _reference(labels, probabilities, threshold) -> dict:
    predicted = (np.asarray(probabilities) >= threshold).astype(int)
    precision, recall, f1 = precision_recall_f1(labels, predicted)
    return {"accuracy": accuracy(labels, predicted), "precision": precision, "recall": recall, "f1": f1}


def matches_tinyrec_on_random_events(fn):
    rng = np.random.default_rng(9)
    for _ in range(20):
        n = int(rng.integers(5, 60))
        labels = rng.integers(0, 2, n)
        probabilities = np.round(rng.random(n), 2)  # rounded: some equal the threshold
        threshold = float(rng.choice([0.2, 0.5, 0.73]))
        want = _reference(labels, probabilities, threshold)
        got = _metrics(fn, labels, probabilities, threshold)
        wrong = [key for key, value in want.items() if not _close(got[key], value)]
        if wrong and threshold != 0.5:
            at_half = _reference(labels, probabilities, 0.5)
            if all(_close(got[key], at_half[key]) for key in KEYS):
                raise AssertionError(
                    f"{n} random events, threshold {threshold}: the metrics are those of threshold 0.5. "
                    "Hint: compare the probabilities with the threshold you are given, not with 0.5"
                )
        if wrong:
            key = wrong[0]
            raise AssertionError(
                f"{n} random events, threshold {threshold}: {key} must be {want[key]:.4f} "
                f"(tinyrec.metrics.classification), got {got[key]:.4f}"
            )


def inputs_are_not_modified(fn):
    labels, probabilities = np.array([1, 0, 1, 0]), np.array([0.9, 0.4, 0.6, 0.1])
    kept = labels.copy(), probabilities.copy()
    fn(labels, probabilities, 0.5)
    expect(np.array_equal(labels, kept[0]) and np.array_equal(probabilities, kept[1]),
           "the function changed the labels or probabilities it was given; work on a copy")  # fmt: skip


CHECKS = (
    returns_the_four_metrics,
    a_small_case_by_hand,
    the_threshold_counts_as_a_purchase,
    precision_and_recall_are_not_swapped,
    f1_is_the_harmonic_mean,
    nothing_predicted_gives_zero_not_nan,
    matches_tinyrec_on_random_events,
    inputs_are_not_modified,
)


def check(candidate):
    """Run every check of this exercise on ``candidate`` (a function like ``my_threshold_metrics``)."""
    return run_checks(NAME, candidate, CHECKS)
