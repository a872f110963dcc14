"""Sequences: time order with leave_one_out's tie rule, padding, truncation, the training examples,
the validation split, and no held-out item ever in an input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyrec.data import Interactions
from tinyrec.data.sequences import Sequences, validation_split
from tinyrec.data.split import leave_one_out
from tinyrec.errors import DataError, DTypeError, IndexOutOfRangeError, ShapeError

from ..helpers import dataset_dir


def log(seed, n_users=8, n_items=12, density=0.5, n_times=4):
    """Distinct (user, item) pairs in a random row order, with few distinct timestamps (many ties)."""
    rng = np.random.default_rng(seed)
    mask = rng.random((n_users, n_items)) < density
    mask[0, :3] = True  # never empty; user 0 has at least three items
    users, items = np.nonzero(mask)
    perm = rng.permutation(len(users))
    times = rng.integers(0, n_times, len(users))
    return Interactions(users[perm], items[perm], None, times, n_users=n_users, n_items=n_items)


def by_hand(data):
    """Each user's items sorted by (timestamp, item): the reference the module must match."""
    out = []
    for u in range(data.n_users):
        rows = np.flatnonzero(data.users == u)
        pairs = sorted(zip(data.timestamps[rows].tolist(), data.items[rows].tolist(), strict=True))
        out.append([item for _, item in pairs])
    return out


@settings(max_examples=30)
@given(st.integers(0, 10_000))
def test_time_order_breaks_ties_by_the_smaller_item_first(seed):
    data = log(seed)
    seqs = Sequences.from_interactions(data)
    assert [seqs.of(u).tolist() for u in range(data.n_users)] == by_hand(data)
    assert np.array_equal(seqs.lengths(), data.user_counts())


@settings(max_examples=30)
@given(st.integers(0, 10_000))
def test_the_item_leave_one_out_holds_out_is_the_last_of_the_history(seed):
    data = log(seed)
    train, test = leave_one_out(data, by="time", drop_unseen=False)
    full = Sequences.from_interactions(data)
    for u, i in zip(test.users.tolist(), test.items.tolist(), strict=True):
        assert full.of(u)[-1] == i  # the same tie rule: the test item comes after every train item


@settings(max_examples=30)
@given(st.integers(0, 10_000), st.integers(1, 6))
def test_no_held_out_item_ever_appears_in_an_input(seed, max_len):
    """Neither the test item (leave_one_out) nor the validation item (validation_split) is in any
    input row a model trains or scores from: padded histories, next-item examples, windows."""
    data = log(seed, n_users=10, n_items=15, density=0.6)
    train, test = leave_one_out(data, by="time", drop_unseen=False)
    fit_part, valid = validation_split(train)
    for inputs_of, held_out in ((Sequences.from_interactions(train), test),
                                (Sequences.from_interactions(fit_part), valid)):  # fmt: skip
        held = dict(zip(held_out.users.tolist(), held_out.items.tolist(), strict=True))
        rows = {"padded": (np.arange(data.n_users), inputs_of.padded(None, max_len))}
        users, inputs, targets = inputs_of.next_item_examples(max_len)
        rows["inputs"], rows["targets"] = (users, inputs), (users, targets)
        w_users, w_inputs, w_targets = inputs_of.windows(2, 1)
        rows["windows"], rows["window targets"] = (w_users, w_inputs), (w_users, w_targets)
        for what, (row_users, row) in rows.items():
            for u, items in zip(row_users.tolist(), row, strict=True):
                assert held.get(u, -1) not in items.tolist(), f"user {u}'s held-out item is in its {what}"


def test_padded_keeps_the_most_recent_items_and_pads_either_side():
    data = Interactions([0, 0, 0, 0, 1], [5, 1, 2, 3, 4], None, [9, 1, 2, 3, 0], n_items=6)
    seqs = Sequences.from_interactions(data)  # user 0: 1, 2, 3, 5; user 1: 4
    np.testing.assert_array_equal(seqs.padded(max_len=3), [[2, 3, 5], [6, 6, 4]])  # oldest dropped
    np.testing.assert_array_equal(seqs.padded(max_len=5, side="right"), [[1, 2, 3, 5, 6], [4, 6, 6, 6, 6]])
    np.testing.assert_array_equal(seqs.padded([1], max_len=2, padding_id=-1), [[-1, 4]])


def test_next_item_examples_shift_by_one_and_skip_single_items():
    data = Interactions([0, 0, 0, 0, 1, 2, 2], [5, 1, 2, 3, 4, 0, 1], None, [9, 1, 2, 3, 0, 0, 1], n_items=6)
    seqs = Sequences.from_interactions(data)  # user 0: 1 2 3 5; user 1: 4 (no next item); user 2: 0 1
    users, inputs, targets = seqs.next_item_examples(max_len=2)
    np.testing.assert_array_equal(users, [0, 2])
    np.testing.assert_array_equal(inputs, [[2, 3], [6, 0]])  # the last 2 inputs of 1 2 3
    np.testing.assert_array_equal(targets, [[3, 5], [6, 1]])  # the item after each input
    _, inputs, targets = seqs.next_item_examples(max_len=4, side="right")
    np.testing.assert_array_equal(inputs, [[1, 2, 3, 6], [0, 6, 6, 6]])
    np.testing.assert_array_equal(targets, [[2, 3, 5, 6], [1, 6, 6, 6]])


@settings(max_examples=40)
@given(st.integers(0, 10_000), st.integers(1, 4), st.integers(1, 3))
def test_windows_are_every_window_of_caser_reference_code(seed, length, n_targets):
    data = log(seed, n_users=6, n_items=12, density=0.6)
    seqs = Sequences.from_interactions(data)
    users, inputs, targets = seqs.windows(length, n_targets)
    expected = []
    for u, items in enumerate(by_hand(data)):
        n = len(items)
        if n >= length + n_targets:  # every window of length + n_targets items
            for j in range(n - length - n_targets + 1):
                expected.append((u, items[j : j + length], items[j + length : j + length + n_targets]))
        elif n > n_targets:  # one window, left-padded
            head = items[: n - n_targets]
            expected.append((u, [12] * (length - len(head)) + head, items[n - n_targets :]))
    got = list(zip(users.tolist(), inputs.tolist(), targets.tolist(), strict=True))
    assert got == [(u, list(a), list(b)) for u, a, b in expected]


def test_a_padding_id_that_is_a_real_item_is_refused():
    seqs = Sequences.from_interactions(log(0))
    with pytest.raises(ValueError, match="padding_id=3 is a real item"):
        seqs.padded(max_len=4, padding_id=3)
    with pytest.raises(ValueError, match="is a real item"):
        seqs.next_item_examples(padding_id=0)
    assert seqs.padded(max_len=40, padding_id=-1).min() == -1  # any id outside [0, n_items) works


def test_bad_arguments_and_data_are_refused():
    data = log(1)
    seqs = Sequences.from_interactions(data)
    with pytest.raises(ValueError, match="max_len"):
        seqs.padded(max_len=0)
    with pytest.raises(ValueError, match="side"):
        seqs.padded(max_len=3, side="middle")
    no_time = Interactions([0, 1], [1, 0])
    with pytest.raises(DataError, match="no timestamps"):
        Sequences.from_interactions(no_time)
    with pytest.raises(DataError, match="no timestamps"):
        validation_split(no_time)
    with pytest.raises(ShapeError, match="indptr"):
        Sequences([0, 3], [1, 2], n_items=5)
    with pytest.raises(IndexOutOfRangeError, match="items"):
        Sequences([0, 2], [1, 5], n_items=5)
    with pytest.raises(DTypeError, match="indptr must hold integers"):
        Sequences([0, 1.5, 2], [1, 2], n_items=5)  # would be cut to 1 without a word
    with pytest.raises(IndexOutOfRangeError, match=rf"users contains -1, outside .*{seqs.n_users}"):
        seqs.padded([-1], max_len=3)  # would read indptr[-1]: a row of padding
    with pytest.raises(DTypeError, match="users must hold integers"):
        seqs.padded([0.5], max_len=3)
    with pytest.raises(IndexOutOfRangeError, match="user=.* is outside"):
        seqs.of(seqs.n_users)


def test_arrays_are_read_only_copies():
    indptr, items = np.array([0, 2]), np.array([1, 0])
    seqs = Sequences(indptr, items, n_items=2)
    items[0] = 0
    assert seqs.of(0).tolist() == [1, 0]
    with pytest.raises(ValueError):
        seqs.items[0] = 1


def test_validation_split_holds_out_each_users_last_train_item():
    data = log(3, n_users=10, n_items=15, density=0.6)
    train, _ = leave_one_out(data, by="time", drop_unseen=False)
    fit_part, valid = validation_split(train)
    history = Sequences.from_interactions(train)
    for u, i in zip(valid.users.tolist(), valid.items.tolist(), strict=True):
        assert history.of(u)[-1] == i
    merged = Sequences.from_interactions(fit_part, valid)  # what a model reads after fit(..., valid=valid)
    kept = np.isin(np.arange(train.n_users), valid.users)  # users whose valid item was not dropped
    for u in np.flatnonzero(kept):
        assert merged.of(u).tolist() == history.of(u).tolist()


def test_no_test_item_in_an_input_on_movielens():
    """The same property on ML-100K (the README split)."""
    from tinyrec.data import movielens

    dataset_dir("ml-100k", "u.data")
    data = movielens("100k")
    train, test = leave_one_out(data, by="time")
    rows = Sequences.from_interactions(train).padded(test.users, max_len=200)
    assert not np.any(rows == test.items[:, None])
    fit_part, valid = validation_split(train)
    rows = Sequences.from_interactions(fit_part).padded(valid.users, max_len=200)
    assert not np.any(rows == valid.items[:, None])
