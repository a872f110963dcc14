"""tinyrec.exercises.next_item_pairs: the solution passes, the stub is "not implemented", and typical
wrong training rows fail with a message that names the problem."""

from __future__ import annotations

import numpy as np
import pytest

from tinyrec.exercises import next_item_pairs as exercise
from tinyrec.exercises.checking import FAILED, NOT_IMPLEMENTED


def test_the_solution_passes_every_check():
    report = exercise.check(exercise.SOLUTION)
    assert report.ok, str(report)


def test_the_stub_reports_not_implemented():
    report = exercise.check(exercise.STUB)
    assert not report.implemented
    assert all(r.status == NOT_IMPLEMENTED for r in report.results)
    assert "not implemented yet" in str(report)


def _pad(row, max_len, padding_id, left=True):
    fill = np.full(max_len - len(row), padding_id, dtype=np.int64)
    return np.concatenate([fill, row] if left else [row, fill]).astype(np.int64)


def no_shift(items, max_len, padding_id):  # the targets are the inputs themselves
    row = np.asarray(items)[:-1][-max_len:]
    return _pad(row, max_len, padding_id), _pad(row, max_len, padding_id)


def right_padded(items, max_len, padding_id):
    items = np.asarray(items)
    return (_pad(items[:-1][-max_len:], max_len, padding_id, left=False),
            _pad(items[1:][-max_len:], max_len, padding_id, left=False))  # fmt: skip


def keeps_the_oldest(items, max_len, padding_id):
    items = np.asarray(items)
    return _pad(items[:-1][:max_len], max_len, padding_id), _pad(items[1:][:max_len], max_len, padding_id)


def cuts_after_shifting_differently(items, max_len, padding_id):  # the targets one step too far
    items = np.asarray(items)
    return _pad(items[:-1][-max_len:], max_len, padding_id), _pad(items[2:][-max_len:], max_len, padding_id)


def pads_with_zeros_plus_the_id(items, max_len, padding_id):  # np.zeros is float: so is the row
    items = np.asarray(items)
    inputs, targets = items[:-1][-max_len:], items[1:][-max_len:]
    pad = np.zeros(max_len - len(inputs)) + padding_id
    return np.concatenate([pad, inputs]), np.concatenate([pad, targets])


def pads_before_shifting(items, max_len, padding_id):  # the first item becomes a target of padding
    padded = _pad(np.asarray(items)[-(max_len + 1) :], max_len + 1, padding_id)
    return padded[:-1], padded[1:]


def pads_in_place(items, max_len, padding_id):  # overwrites the caller's array
    items[0] = padding_id
    return exercise.SOLUTION(items, max_len, padding_id)


@pytest.mark.parametrize(
    "wrong, check, words",
    [
        (no_shift, "each_target_is_the_next_item", "targets equal inputs"),
        (right_padded, "padding_on_the_left", "padding is on the right"),
        (keeps_the_oldest, "keeps_the_most_recent_items", "oldest items were kept"),
        (cuts_after_shifting_differently, "each_target_is_the_next_item", "targets must be [1, 4, 5]"),
        (pads_in_place, "items_are_not_modified", "changed the items"),
        (pads_with_zeros_plus_the_id, "returns_two_rows", "must hold item ids (integers)"),
        (pads_before_shifting, "one_item_gives_only_padding", "nothing to predict"),
    ],
    ids=[
        "no shift",
        "right padding",
        "oldest kept",
        "shift of two",
        "in place",
        "float padding",
        "pad then shift",
    ],
)
def test_a_wrong_row_fails_with_a_message_naming_the_problem(wrong, check, words):
    report = exercise.check(wrong)
    assert not report.ok and report.implemented
    result = report.result(check)
    assert result.status == FAILED, str(report)
    assert words in result.message
    assert report.result("matches_tinyrec_on_random_histories").status == FAILED or wrong is pads_in_place
