"""Preprocessing: invalid rows, duplicates, k-core fixed point, implicit, centering, reindex; raw event
rows of mixed types cleaned by clean_events, and its report."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyrec.data import Interactions
from tinyrec.data.features import Column, FeatureTable
from tinyrec.data.preprocess import (
    DROP_REASONS,
    PreprocessReport,
    _read_stamps,
    center_by_user,
    clean_events,
    drop_duplicates,
    drop_invalid,
    k_core,
    parse_ids,
    parse_numbers,
    preprocess,
    reindex,
    to_implicit,
    uncenter,
)
from tinyrec.errors import ArgumentTypeError, DataError, IndexOutOfRangeError, ShapeError


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


# ---------------------------------------------------------------------- raw events (clean_events)


def test_parse_numbers_reads_mixed_types_and_flags_the_rest():
    raw = [4, 4.0, "4", " 4.5 ", None, float("nan"), "", "n/a", "NULL", "five", True, float("inf"), [4]]
    parsed = parse_numbers(raw, "ratings")
    assert parsed.values[:4].tolist() == [4.0, 4.0, 4.0, 4.5]
    assert np.isnan(parsed.values[4:]).all()
    assert parsed.missing.tolist() == [False] * 4 + [True] * 5 + [False] * 4
    assert parsed.unreadable.tolist() == [False] * 9 + [True] * 4
    assert parsed.from_text.tolist() == [False, False, True, True] + [False] * 9


def test_parse_numbers_flags_an_int_beyond_a_float_s_range_as_unreadable():
    parsed = parse_numbers([10**400, 1, "1e400"], "ratings")  # float(10**400) raises OverflowError
    assert parsed.unreadable.tolist() == [True, False, True]
    assert parsed.values[1] == 1.0 and np.isnan(parsed.values[[0, 2]]).all()


def test_parse_numbers_refuses_a_table():
    with pytest.raises(ShapeError, match="1-D"):
        parse_numbers([[1, 2], [3, 4]], "ratings")


def test_parse_ids_are_integers_when_every_id_is_one_and_text_otherwise():
    ints = parse_ids([196, "196", 7.0, " 8 ", None, "n/a", True, 3.5])
    assert ints.values.dtype == np.int64
    assert ints.values.tolist() == [196, 196, 7, 8, -1, -1, -1, -1]
    assert ints.missing.tolist() == [False] * 4 + [True, True, False, False]
    assert ints.unreadable.tolist() == [False] * 6 + [True, True]
    assert ints.from_text.tolist() == [False, True, False, True] + [False] * 4
    text = parse_ids(["u7", 7, "7", None])
    assert text.values.tolist() == ["u7", "7", "7", ""]
    assert text.missing.tolist() == [False, False, False, True]


@pytest.mark.parametrize(
    "raw, text",
    [
        ([1e20, 2], ["100000000000000000000", "2"]),  # whole, but beyond int64
        ([2**70, 2], ["1180591620717411303424", "2"]),
        (["99999999999999999999", "2"], ["99999999999999999999", "2"]),
        ([np.uint64(2**63 + 5), 1], ["9223372036854775813", "1"]),
        (["--5", "2"], ["--5", "2"]),  # not an integer: text
        (["²", "2"], ["²", "2"]),  # a Unicode digit is no ASCII integer
        (["١٢", 12], ["١٢", "12"]),
    ],
)
def test_parse_ids_reads_an_id_beyond_int64_or_not_an_ascii_integer_as_text_without_raising(raw, text):
    parsed = parse_ids(raw)
    assert parsed.values.tolist() == text
    assert not parsed.missing.any() and not parsed.unreadable.any()
    data, report = clean_events(raw, [1, 1])  # no OverflowError, no ValueError
    assert report.rows_out == len(data) == 2


def test_an_id_is_read_by_itself_whatever_the_other_rows_hold():
    same = ["01", 1, " 1 ", 1.0, "1.0", np.int64(1), "-0", 0]
    assert parse_ids(same).values.tolist() == [1] * 6 + [0, 0]
    assert parse_ids([*same, "abc"]).values.tolist() == ["1"] * 6 + ["0", "0", "abc"]
    assert parse_ids(["196.0", 196.0, 5]).values.tolist() == [196, 196, 5]
    assert clean_events(["01", 1, "abc"], [5, 6, 7])[0].user_ids.tolist() == ["1", "abc"]
    # the catalogue is read by the same rule: "01" there is user 1, even beside a text id
    _, report = clean_events([1, 2], [1, 1], known_users=["01", "2", "x"])
    assert report.removed("unknown user") == 0
    _, report = clean_events(["01", "u2"], [1, 1], known_users=[1])
    assert report.removed("unknown user") == 1


def test_timestamps_are_read_as_integers_exactly():
    ns = 1_700_000_000_000_000_000  # nanoseconds, beyond float64's 53 bits
    data, report = clean_events([1, 1], [1, 1], [4, 4], [ns + 1, ns])
    assert report.removed("exact duplicate") == 0 and report.removed("older duplicate") == 1
    assert data.timestamps.tolist() == [ns + 1]
    data, _ = clean_events([1, 1], [1, 1], [2, 5], [str(ns + 200), ns])
    assert data.timestamps.tolist() == [ns + 200] and data.ratings.tolist() == [2.0]
    data, report = clean_events([1, 2, 3, 4], [1, 1, 1, 1], timestamps=[2**63 - 1, "7", 8.0, "9e2"])
    assert report.removed("bad timestamp") == 0
    assert sorted(data.timestamps.tolist()) == [7, 8, 900, 2**63 - 1]
    _, report = clean_events([1, 2, 3, 4, 5], [1, 1, 1, 1, 1], timestamps=[2**63, 7.5, "1e300", "x", 5])
    assert report.removed("bad timestamp") == 4


def _feed():
    """Twelve raw rows, one per fault, and three clean ones (the last of which a pair's newer rating)."""
    users = [1, None, 1, 1, 1, 1, 1, 99, 1, "2", 2, 1, 2, True, 1]
    items = [10, 10, "", 11, 12, 13, 14, 10, 77, 10, 10, 10, 11, 10, 3.5]
    ratings = [4, 5, 5, None, "five", 44, 3, 3, 3, " 5 ", " 5 ", 2, "4.0", 4, 4]
    stamps = [100, 100, 100, 100, 100, 100, None, 100, 100, 300, 300, 50, 200, 100, 100]
    return users, items, ratings, stamps


def test_clean_events_counts_every_row_under_one_reason():
    data, report = clean_events(*_feed(), rating_range=(1, 5), known_users=[1, 2], known_items=[10, 11, 12])
    removed = {name: before - after for name, before, after in report.steps}
    assert [name for name, _, _ in report.steps] == [*DROP_REASONS, "exact duplicate", "older duplicate"]
    assert removed == {"missing user": 1, "unreadable user": 1, "missing item": 1, "unreadable item": 1,
                       "missing rating": 1, "unreadable rating": 1, "rating out of range": 1,
                       "bad timestamp": 1, "unknown user": 1, "unknown item": 1, "exact duplicate": 1,
                       "older duplicate": 1}  # fmt: skip
    assert report.rows_in == 15 and report.rows_out == len(data) == 3
    report.check_counts()
    rows = sorted(zip(data.user_ids[data.users].tolist(), data.item_ids[data.items].tolist(),
                      data.ratings.tolist(), data.timestamps.tolist(), strict=True))  # fmt: skip
    assert rows == [(1, 10, 4.0, 100), (2, 10, 5.0, 300), (2, 11, 4.0, 200)]
    # rows 10 and 11 (" 5 ") are exact duplicates: one of them is kept, with row 13's "4.0"
    assert dict(report.notes)['ratings read from text, such as " 5 " (rows not dropped)'] == 2
    assert dict(report.notes)['ids read from text, such as "196" (rows not dropped)'] == 1
    assert "rows kept" in str(report) and "rating out of range" in str(report)


def test_clean_events_keeps_the_first_of_a_pair_on_request_and_compares_text_ids_with_a_text_catalogue():
    data, report = clean_events(["a", "a", "b"], [1, 1, 2], [1, 5, 3], [10, 20, 5], duplicates="first",
                                known_users=["a", "b"])  # fmt: skip
    assert report.removed("older duplicate") == 1 and report.removed("unknown user") == 0
    assert data.ratings[data.user_index(["a"])[0] == data.users].tolist() == [1.0]


def test_clean_events_refuses_columns_of_other_lengths_and_an_unknown_rule():
    with pytest.raises(ShapeError, match="one value per event row"):
        clean_events([1, 2], [1], [4, 5])
    with pytest.raises(ValueError, match="duplicates"):
        clean_events([1], [1], [4], duplicates="newest")
    for bad in ((5, 1), (1,), "1-5", "15", ("1", "5"), (True, 5), (1, np.nan), None.__class__):
        with pytest.raises(ValueError, match="rating_range must be two numbers"):
            clean_events([1], [1], [4], rating_range=bad)


def test_clean_events_says_when_no_row_was_given():
    with pytest.raises(DataError, match="no event rows were given"):
        clean_events([], [])


def test_the_catalogue_may_be_any_iterable_of_ids_but_not_a_string():
    for known in ({1, 2}, (1, 2), np.array([1, 2]), {1: "a", 2: "b"}, range(1, 3)):
        _, report = clean_events([1, 2, 3], [1, 1, 1], known_users=known)
        assert report.removed("unknown user") == 1
    for bad in ("12", 12):
        with pytest.raises(ArgumentTypeError, match="known_users must be a list, set or array of ids"):
            clean_events([1, 2], [1, 1], known_users=bad)


def test_clean_events_says_what_it_dropped_when_nothing_is_left():
    with pytest.raises(DataError, match="missing rating"):
        clean_events([1, 2], [1, 2], [None, "n/a"])


def test_the_report_adds_up_and_refuses_steps_that_do_not():
    report = PreprocessReport()
    report.add("a", 10, 7)
    report.add("b", 7, 7)
    report.check_counts()
    assert report.rows_in - report.removed("a") - report.removed("b") == report.rows_out == 7
    report.add("c", 6, 5)  # starts from 6 rows, where b left 7
    with pytest.raises(DataError, match="do not add up"):
        report.check_counts()


def test_add_features_notes_each_column_s_missing_values_and_its_fill_rule():
    table = FeatureTable(
        {
            "age": Column(np.array([20.0, np.nan, 40.0]), "numeric", encoding="bucket", edges=(18, 25)),
            "job": Column(np.array(["x", "", "n/a"]), "categorical"),
            "genres": Column(np.array(["A|B", "", "A"]), "multi_hot"),
            "year": Column(np.array([1990.0, np.nan, np.nan]), "numeric"),
            "title": Column(np.array(["t", "", "u"]), "text"),
        }
    )
    report = PreprocessReport()
    report.add_features("items", table)
    assert report.notes == [
        ("items: age missing, filled with the 'unknown' slot", 1),
        ("items: job missing, filled with the 'unknown' slot", 2),
        ("items: genres missing, filled with an empty bag", 1),
        ("items: year missing, filled with the training mean", 2),
    ]
    with pytest.raises(TypeError, match="FeatureTable"):
        report.add_features("items", {"age": [1]})


def test_add_features_states_the_fill_rule_of_the_encoder_the_model_uses():
    table = FeatureTable(
        {
            "zip": Column(np.array([10001.0, np.nan, 10002.0]), "numeric", encoding="onehot"),
            "tags": Column(np.array(["a", "", "b"]), "categorical", encoding="multihot"),
            "age": Column(np.array([20.0, np.nan, 40.0]), "numeric"),
        }
    )
    report = PreprocessReport()
    report.add_features("users", table)
    assert report.notes == [
        ("users: zip missing, filled with the 'unknown' slot", 1),
        ("users: tags missing, filled with an empty bag", 1),
        ("users: age missing, filled with the training mean", 1),
    ]
    report = PreprocessReport()
    report.add_features("users", table, request=("age:bucket", "zip:hash"))  # a model's override
    assert report.notes == [
        ("users: age missing, filled with the 'unknown' slot", 1),
        ("users: zip missing, filled with the 'missing' slot", 1),
    ]


@pytest.mark.parametrize(
    "column",
    [
        np.array([196, 0, -3, 2**62], dtype=np.int64),
        np.array([4.0, np.nan, np.inf, -np.inf, 2.5]),
        np.array([1, 250, 7], dtype=np.uint8),
        np.array([2**63 + 5, 1], dtype=np.uint64),  # beyond int64: read one by one
        np.array([True, False]),  # bools are no numbers: read one by one, flagged
    ],
    ids=["int64", "float64 with nan and inf", "uint8", "uint64 beyond int64", "bool"],
)
def test_a_numeric_array_is_read_in_one_pass_as_each_value_would_be(column):
    """The vectorized reading of a NumPy column gives what reading its values one by one gives."""
    one_by_one = np.array(column.tolist(), dtype=object)
    for read in (parse_numbers, parse_ids):
        fast, slow = read(column), read(one_by_one)
        for a, b in zip(fast, slow, strict=True):
            np.testing.assert_array_equal(a, b)
    if column.dtype.kind in "iu":  # timestamps too (read as ints, exactly)
        for a, b in zip(_read_stamps(column), _read_stamps(one_by_one), strict=True):
            np.testing.assert_array_equal(a, b)
