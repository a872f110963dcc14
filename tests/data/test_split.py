"""Splits: one index space, no overlap, rows conserved, seeded, the documented tie rules."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyrec.data import Interactions
from tinyrec.data.split import (
    cold_items,
    cold_users,
    finalize_split,
    kfold,
    leave_one_out,
    random_holdout,
    temporal_split,
)
from tinyrec.errors import ArgumentTypeError, DataError


def random_data(seed, n_users=8, n_items=10, density=0.5):
    """Distinct (user, item) pairs with random ratings and (often tied) timestamps."""
    rng = np.random.default_rng(seed)
    mask = rng.random((n_users, n_items)) < density
    mask[0, 0] = mask[0, 1] = True  # never empty
    users, items = np.nonzero(mask)
    perm = rng.permutation(len(users))
    return Interactions(
        users[perm],
        items[perm],
        rng.integers(1, 6, len(users)).astype(float),
        rng.integers(0, 5, len(users)),  # few distinct times: many ties
        n_users=n_users,
        n_items=n_items,
    )


def pair_keys(d):
    return set(zip(d.users.tolist(), d.items.tolist(), strict=True))


def check_split(data, train, test, report, drop_unseen=True):
    assert train.same_index_space(data) and test.same_index_space(data)
    assert train.user_ids is data.user_ids and test.item_ids is data.item_ids
    assert not pair_keys(train) & pair_keys(test)  # no overlap
    assert pair_keys(train) | pair_keys(test) <= pair_keys(data)
    assert len(train) + len(test) + report.dropped_unseen == len(data)  # every row accounted for
    if drop_unseen:  # the default: every test user and item occurs in train
        assert set(test.users.tolist()) <= set(train.users.tolist())
        assert set(test.items.tolist()) <= set(train.items.tolist())
    assert report.n_train == len(train) and report.n_test == len(test)


splits = st.sampled_from(["global", "user", "loo_time", "loo_random", "temporal"])


@settings(max_examples=40)
@given(seed=st.integers(0, 10**6), kind=splits)
def test_split_properties(seed, kind):
    data = random_data(seed, n_users=10, n_items=12, density=0.6)
    call = {
        "global": lambda s: random_holdout(data, 0.3, seed=s, return_report=True),
        "user": lambda s: random_holdout(data, 0.3, by="user", seed=s, return_report=True),
        "loo_time": lambda s: leave_one_out(data, return_report=True),
        "loo_random": lambda s: leave_one_out(data, by="random", seed=s, return_report=True),
        "temporal": lambda s: temporal_split(data, test_fraction=0.3, return_report=True),
    }[kind]
    try:
        train, test, report = call(seed)
    except DataError as exc:  # a tiny draw can leave test empty after dropping unseen items
        assert "empty" in str(exc)
        return
    check_split(data, train, test, report)
    again = call(seed)  # reproducible from the seed
    np.testing.assert_array_equal(again[1].users, test.users)
    np.testing.assert_array_equal(again[1].items, test.items)
    if kind.startswith("loo"):
        assert np.all(np.bincount(test.users) <= 1)


@settings(max_examples=20)
@given(seed=st.integers(0, 10**6), k=st.integers(2, 5))
def test_kfold_partitions_the_data(seed, k):
    data = random_data(seed, n_users=10, n_items=12, density=0.6)
    folds = kfold(data, k, seed=seed, drop_unseen=False, return_report=True)
    tested = set()
    for train, test, report in folds:
        check_split(data, train, test, report, drop_unseen=False)
        assert not tested & pair_keys(test)
        tested |= pair_keys(test)
    assert tested == pair_keys(data)
    sizes = [len(t) for _, t, _ in folds]
    assert max(sizes) - min(sizes) <= 1


def test_leave_one_out_latest_with_ties_broken_by_larger_item():
    # user 0: items 1 and 3 share the latest time 9 -> item 3; user 1: latest is item 0 (time 7);
    # user 2: items 2 and 0 tie at time 5 -> item 2. Every held-out item also occurs in train.
    data = Interactions(
        [0, 0, 0, 1, 1, 1, 2, 2],
        [1, 3, 2, 0, 2, 3, 2, 0],
        None,
        [9, 9, 1, 7, 2, 1, 5, 5],
    )
    train, test, report = leave_one_out(data, return_report=True)
    assert sorted(zip(test.users.tolist(), test.items.tolist(), strict=True)) == [(0, 3), (1, 0), (2, 2)]
    assert len(train) == 5 and report.dropped_unseen == 0


def test_leave_one_out_keeps_single_interaction_users_in_train():
    data = Interactions([0, 0, 1], [0, 1, 1], timestamps=[1, 2, 3])
    train, test, report = leave_one_out(data, return_report=True)
    assert test.users.tolist() == [0] and test.items.tolist() == [1]
    assert train.users.tolist().count(1) == 1 and report.dropped_unseen == 0


def test_drop_unseen_is_counted_and_optional():
    # item 2 occurs only in user 1's latest interaction: unseen in train
    data = Interactions([0, 0, 1, 1, 1], [0, 1, 1, 0, 2], timestamps=[1, 2, 0, 1, 2])
    train, test, report = leave_one_out(data, return_report=True)
    assert (report.dropped_unseen, report.dropped_items, report.dropped_users) == (1, 1, 0)
    assert test.items.tolist() == [1]
    train, test, report = leave_one_out(data, drop_unseen=False, return_report=True)
    assert report.kept_unseen == 1 and len(test) == 2
    assert "unseen" in str(report) and test.info["split"] is report and test.info["role"] == "test"


def test_temporal_split_respects_causality():
    data = random_data(3, n_users=10, n_items=12, density=0.7)
    train, test = temporal_split(data, at=3, drop_unseen=False)
    assert train.timestamps.max() < 3 <= test.timestamps.min()


# ------------------------------------------------------------------ bad input
def test_splits_refuse_duplicates():
    data = Interactions([0, 0, 1], [0, 0, 1], timestamps=[1, 2, 3])
    for call in (leave_one_out, random_holdout, kfold, temporal_split):
        with pytest.raises(DataError, match="drop_duplicates"):
            call(data)


def test_empty_split_raises():
    data = Interactions([0, 1, 2], [0, 1, 2], timestamps=[1, 2, 3])
    with pytest.raises(DataError, match="test split is empty"):
        leave_one_out(data)  # every user has one interaction
    with pytest.raises(DataError, match="test split is empty"):
        random_holdout(random_data(0), 0.001)
    with pytest.raises(DataError, match="empty"):
        random_holdout(Interactions([0, 1], [0, 1]), 0.6)  # the held-out items are unseen in train


def test_bad_arguments():
    data = random_data(0)
    with pytest.raises(ValueError, match="test_fraction"):
        random_holdout(data, 1.5)
    with pytest.raises(ValueError, match="by"):
        random_holdout(data, by="item")
    with pytest.raises(ValueError, match="by"):
        leave_one_out(data, by="rating")
    with pytest.raises(DataError, match="timestamps"):
        leave_one_out(Interactions([0, 0], [0, 1]))
    with pytest.raises(DataError, match="timestamps"):
        temporal_split(Interactions([0, 0], [0, 1]))
    with pytest.raises(ValueError, match="k must"):
        kfold(data, 1)
    for bad in (2.5, None, "3"):  # 2.5 was truncated to 2 folds; None and "3" failed inside int()
        with pytest.raises(ValueError, match="k must be a positive integer"):
            kfold(data, bad)
    for bad in ("0.2", None, float("nan"), True):
        with pytest.raises(ValueError, match=r"test_fraction must be a number in \(0, 1\)"):
            random_holdout(data, bad)
    timed = Interactions([0, 0, 1, 1], [0, 1, 0, 1], timestamps=[1, 2, 3, 4])
    with pytest.raises(ValueError, match=r"test_fraction must be a number in \(0, 1\)"):
        temporal_split(timed, test_fraction="0.5")
    with pytest.raises(TypeError):
        leave_one_out(np.zeros(3))
    for bad in ("2020", 2.5, 3.0, True):  # "2020" became the timestamp 2020 (Unix seconds: 1970)
        with pytest.raises(ArgumentTypeError, match="at must be an integer timestamp.*got"):
            temporal_split(timed, at=bad)
        with pytest.raises(ValueError, match="at must be an integer timestamp"):  # a ValueError too
            temporal_split(timed, at=bad)
    train, test = temporal_split(timed, at=np.int64(3), drop_unseen=False)
    assert test.timestamps.tolist() == [3, 4] and test.info["split"].method == "temporal_split(at=3)"
    with pytest.raises(DataError, match=r"train split would be empty, since the timestamps run from 1 to 4"):
        temporal_split(timed, at=1)
    with pytest.raises(DataError, match=r"the test split would be empty.*choose at in \(1, 4\]"):
        temporal_split(timed, at=5)


def test_finalize_split_detects_overlap_and_foreign_index_space():
    data = random_data(0)
    with pytest.raises(DataError, match="both train and test"):
        finalize_split(data, data.subset([0]), "manual", True, False)
    other = Interactions([0], [0])
    with pytest.raises(DataError, match="index space"):
        finalize_split(data, other, "manual", True, False)


# ------------------------------------------------------------------ cold start: whole users, whole items
@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([None, 1, 3]))
def test_cold_users_hold_out_whole_users_and_count_every_row(seed, max_per_user):
    data = random_data(seed, n_users=12, n_items=9)
    train, test, report = cold_users(data, 0.25, max_per_user=max_per_user, seed=seed, return_report=True)
    held = np.unique(test.users)
    assert not np.isin(train.users, held).any()  # no held-out user has a training row
    assert len(held) == round(0.25 * np.count_nonzero(data.user_counts()))
    assert report.n_train + report.n_test + report.held_out_unused == len(data)  # nothing silently lost
    assert report.kept_unseen == report.n_test and report.dropped_unseen == 0
    if max_per_user is not None:
        assert np.bincount(test.users).max() <= max_per_user
    known = test.info["known"]
    assert len(known) + len(test) == len(data) and not (pair_keys(known) & pair_keys(test))
    assert train.user_meta is data.user_meta and test.same_index_space(train)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000))
def test_cold_items_hold_out_whole_items_seeded(seed):
    data = random_data(seed, n_users=9, n_items=12)
    train, test = cold_items(data, 0.25, seed=seed)
    assert not np.isin(train.items, np.unique(test.items)).any()
    assert len(train) + len(test) == len(data)
    again_train, again_test = cold_items(data, 0.25, seed=seed)
    assert np.array_equal(again_test.items, test.items) and np.array_equal(again_test.users, test.users)
    assert "cold_items(0.25" in test.info["split"].method


def test_cold_splits_refuse_bad_arguments_and_empty_sides():
    data = random_data(0)
    for split in (cold_users, cold_items):
        with pytest.raises(ValueError, match=r"test_fraction must be a number in \(0, 1\)"):
            split(data, 1.5)
        with pytest.raises(ValueError, match="max_per_user"):
            split(data, 0.3, max_per_user=0)
    with pytest.raises(DataError, match="test split is empty"):
        cold_users(Interactions([0, 1], [0, 0]), 0.1)
    with pytest.raises(DataError, match="train split is empty"):
        cold_users(Interactions([0, 0], [0, 1]), 0.9)
