"""Preprocessing: invalid rows, duplicates, k-core fixed point, implicit, centering, reindex."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyrec.data import Interactions
from tinyrec.data.preprocess import (
    center_by_user,
    drop_duplicates,
    drop_invalid,
    k_core,
    preprocess,
    reindex,
    to_implicit,
    uncenter,
)
from tinyrec.errors import DataError, IndexOutOfRangeError, ShapeError


def test_drop_invalid_counts_missing_and_nonfinite():
    arrays, n_dropped = drop_invalid(
        np.array(["a", "", "b", "c", None], dtype=object),
        [1, 2, 3, 4, 5],
        [1.0, 2.0, np.nan, np.inf, 3.0],
    )
    assert n_dropped == 4
    assert arrays["users"].tolist() == ["a"] and arrays["ratings"].tolist() == [1.0]
    data = Interactions.from_raw(arrays["users"], arrays["items"], arrays["ratings"])
    assert len(data) == 1
    arrays, n_dropped = drop_invalid([1.0, np.nan], [1, 2], timestamps=[5.0, 6.0])
    assert n_dropped == 1 and arrays["timestamps"].dtype == np.int64
    with pytest.raises(ShapeError):
        drop_invalid([1, 2], [1])


def test_drop_duplicates_keep_rules():
    # pair (0, 0) three times at times 5, 1, 9 with ratings 1, 2, 3
    d = Interactions([0, 0, 1, 0], [0, 0, 1, 0], [1.0, 2.0, 4.0, 3.0], [5, 1, 2, 9])
    assert drop_duplicates(d, "last").ratings.tolist() == [3.0, 4.0]
    assert drop_duplicates(d, "first").ratings.tolist() == [2.0, 4.0]
    assert drop_duplicates(d, "mean").ratings.tolist() == [2.0, 4.0]
    out = drop_duplicates(d, "max")
    assert out.ratings.tolist() == [3.0, 4.0] and out.timestamps.tolist() == [9, 2]
    assert not out.has_duplicates() and out.same_index_space(d)
    no_time = Interactions([0, 0], [1, 1], [1.0, 2.0])
    assert drop_duplicates(no_time).ratings.tolist() == [2.0]  # last by position
    with pytest.raises(ValueError, match="keep"):
        drop_duplicates(d, "median")


@settings(max_examples=30)
@given(seed=st.integers(0, 10**6), k_user=st.integers(1, 4), k_item=st.integers(1, 4))
def test_k_core_is_the_largest_fixed_point(seed, k_user, k_item):
    rng = np.random.default_rng(seed)
    d = Interactions(rng.integers(0, 12, 60), rng.integers(0, 15, 60), n_users=12, n_items=15)
    d = drop_duplicates(d)
    try:
        core = k_core(d, k_user, k_item, reindex_ids=False)
    except DataError:
        core = None
    if core is not None:
        assert core.user_counts()[core.user_counts() > 0].min() >= k_user
        assert core.item_counts()[core.item_counts() > 0].min() >= k_item
        assert len(k_core(core, k_user, k_item, reindex_ids=False)) == len(core)  # fixed point
    # largest: no surviving-set superset qualifies -> check against a brute-force peel
    keep = np.ones(len(d), bool)
    changed = True
    while changed:
        uc = np.bincount(d.users[keep], minlength=12)
        ic = np.bincount(d.items[keep], minlength=15)
        bad = keep & ((uc[d.users] < k_user) | (ic[d.items] < k_item))
        changed = bad.any()
        keep &= ~bad
    assert (core is None and not keep.any()) or len(core) == keep.sum()


def test_k_core_reindexes_raw_ids_and_metadata():
    d = Interactions.from_raw([1, 1, 2, 2, 3], [7, 8, 7, 8, 9], item_meta={"title": {7: "a", 8: "b", 9: "c"}})
    core = k_core(d, 2, 2)
    assert (core.n_users, core.n_items) == (2, 2)
    assert core.user_ids.tolist() == [1, 2] and core.item_ids.tolist() == [7, 8]
    assert core.titles.tolist() == ["a", "b"]
    with pytest.raises(DataError, match="removed every"):
        k_core(d, 5, 5)


def test_to_implicit_and_reindex():
    d = Interactions.from_raw([1, 2, 3], [5, 6, 7], [5.0, 2.0, 4.0])
    imp = to_implicit(d, 4.0)
    assert imp.ratings.tolist() == [1.0, 1.0] and imp.n_users == 3
    small = reindex(imp)
    assert small.user_ids.tolist() == [1, 3] and small.item_ids.tolist() == [5, 7]
    with pytest.raises(DataError, match=">= 6"):
        to_implicit(d, 6)


def test_center_by_user_and_its_inverse():
    d = Interactions([0, 0, 1, 1, 1], [0, 1, 0, 1, 2], [1.0, 3.0, 2.0, 4.0, 6.0], n_users=3)
    centered, means = center_by_user(d)
    np.testing.assert_allclose(means, [2.0, 4.0, 0.0])
    np.testing.assert_allclose(centered.ratings, [-1, 1, -2, 0, 2])
    np.testing.assert_allclose(uncenter(centered.ratings, d.users, means), d.ratings)
    scores = np.zeros((2, 3))  # (users, candidates)
    np.testing.assert_allclose(uncenter(scores, [0, 1], means), [[2, 2, 2], [4, 4, 4]])


def test_preprocess_report():
    d = Interactions.from_raw([1, 1, 1, 2, 2, 3], [1, 1, 2, 1, 2, 3], [5, 4, 5, 5, 2, 5], [1, 2, 3, 4, 5, 6])
    out, report = preprocess(d, min_user=2, min_item=1, implicit_threshold=4)
    # dedup keeps (1, 1) at time 2; implicit drops (2, 2) rated 2; 2-core by user keeps user 1 only
    assert report.removed("duplicates") == 1 and report.removed("implicit") == 1
    assert report.removed("k_core") == 2
    assert (out.n_users, out.n_items, len(out)) == (1, 2, 2) and out.user_ids.tolist() == [1]
    assert "k_core" in str(report)


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    "call",
    [
        lambda: k_core([1, 2], 5, 5),
        lambda: drop_duplicates([1, 2]),
        lambda: center_by_user([1]),
        lambda: reindex(None),
        lambda: to_implicit("data"),
        lambda: preprocess({"users": [1]}),
    ],
)
def test_steps_need_interactions(call):
    with pytest.raises(TypeError, match=r"expects an Interactions, got \w+; build one with Interactions"):
        call()


@pytest.mark.parametrize("step", [k_core, lambda d, **kw: preprocess(d, **kw)])
@pytest.mark.parametrize("bad", [-1, 2.5, True, None])
def test_k_core_limits_must_be_counts(step, bad):
    data = Interactions([0, 0, 1, 1], [0, 1, 0, 1])
    with pytest.raises(ValueError, match="min_user must be an integer >= 0"):
        step(data, min_user=bad)
    with pytest.raises(ValueError, match="min_item must be an integer >= 0"):
        step(data, min_item=bad)


def test_uncenter_and_drop_invalid_bad_input():
    with pytest.raises(IndexOutOfRangeError, match=r"users contains 9, outside the valid range \[0, 5\)"):
        uncenter(np.zeros((2, 3)), np.array([0, 9]), np.zeros(5))
    with pytest.raises(ShapeError, match="scores has shape"):
        uncenter(np.zeros((2, 3)), np.array([0, 1, 2]), np.zeros(5))
    with pytest.raises(ShapeError, match=r"users must be a 1-D array of raw ids .* got shape \(\)"):
        drop_invalid(1, 2)
    with pytest.raises(DataError, match="timestamps holds 1e.30, not a whole number within int64"):
        drop_invalid([1, 2], [1, 2], timestamps=[np.nan, 1e30])  # was cast to a garbage int64
