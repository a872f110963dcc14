"""Encoders: slots, the unknown slot, statistics from train only, state round trips, rows of bags."""

import json
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyrec.data import Column, FeatureTable, Interactions
from tinyrec.data.encoders import (
    ENCODERS,
    FeatureEncoder,
    FeatureRows,
    join_fields,
    parse_request,
    ranges,
    single_slot_field,
)
from tinyrec.data.split import cold_users
from tinyrec.errors import DataError, ShapeError


def table(**columns):
    return FeatureTable(columns)


def people():
    return table(
        age=Column(np.array([15.0, 22.0, 30.0, np.nan, 61.0, 40.0]), "numeric"),
        gender=Column(np.array(["F", "M", "", "F", "M", "X"]), "categorical"),
        genres=Column(np.array(["a|b", "b", "", "c|a|a", "b|z", "a"]), "multi_hot"),
        zip=Column(np.array(["10001", "94110", "10001", "", "60601", "02139"]), "categorical"),
    )


TRAIN = np.array([0, 1, 2, 3])  # rows 4 and 5 play the test users


def encode_one(request, rows=TRAIN, data=None):
    data = people() if data is None else data
    encoder = FeatureEncoder.for_table(data, [request]).fit(data, rows)
    return encoder, encoder.encode(data)


# ------------------------------------------------------------------ one encoder at a time
def test_onehot_has_an_unknown_slot_for_missing_and_unseen_values():
    encoder, rows = encode_one("gender")
    assert encoder.state() == [{"column": "gender", "encoder": "onehot", "vocabulary": ["F", "M"]}]
    assert encoder.labels() == ["gender=<unknown>", "gender=F", "gender=M"]
    assert rows.indices.tolist() == [1, 2, 0, 1, 2, 0]  # "" (missing) and "X" (unseen in train): slot 0
    assert rows.weights.tolist() == [1.0] * 6 and rows.filled == {"gender": 1}
    assert encoder.report == {"gender": 1}  # the training rows' missing values, counted


def test_multihot_weights_each_distinct_value_by_one_over_the_bag():
    encoder, rows = encode_one("genres")
    assert encoder.state()[0]["vocabulary"] == ["a", "b", "c"]
    dense = rows.dense()
    np.testing.assert_allclose(dense[0], [0, 0.5, 0.5, 0])
    assert not dense[2].any()  # an empty bag adds nothing
    np.testing.assert_allclose(dense[3], [0, 0.5, 0, 0.5])  # "c|a|a": a and c once each
    np.testing.assert_allclose(dense[4], [0.5, 0, 0.5, 0])  # "z" unseen in train: the unknown slot


def test_standard_and_minmax_use_the_training_rows_and_fill_the_mean():
    encoder, rows = encode_one("age:standard")
    train = np.array([15.0, 22.0, 30.0])
    mean, std = train.mean(), train.std()
    state = encoder.state()[0]
    assert state["mean"] == pytest.approx(mean) and state["std"] == pytest.approx(std)
    np.testing.assert_allclose(rows.weights, [(15 - mean) / std, (22 - mean) / std, (30 - mean) / std, 0.0,
                                              (61 - mean) / std, (40 - mean) / std])  # fmt: skip
    assert rows.filled == {"age": 1}
    encoder, rows = encode_one("age:minmax")
    np.testing.assert_allclose(rows.weights, [0, 7 / 15, 1, (mean - 15) / 15, 46 / 15, 25 / 15])


def test_a_constant_column_is_not_divided_by_zero():
    data = table(x=Column(np.array([2.0, 2.0, 5.0]), "numeric"))
    for request in ("x:standard", "x:minmax"):
        _, rows = encode_one(request, np.array([0, 1]), data)
        assert np.isfinite(rows.weights).all()


def test_bucket_edges_given_or_from_training_quantiles():
    data = table(age=Column(np.array([15.0, 18.0, 24.0, 25.0, np.nan]), "numeric", encoding="bucket",
                            edges=(18, 25)))  # fmt: skip
    encoder, rows = encode_one("age", np.arange(5), data)
    assert rows.indices.tolist() == [1, 2, 2, 3, 0]  # <18, 18–24, 18–24, 25+, missing
    assert encoder.labels() == ["age=<unknown>", "age=<18", "age=18–24", "age=25+"]
    encoder, _ = encode_one("age:bucket")
    assert encoder.state()[0]["edges"] == np.quantile([15.0, 22.0, 30.0], [0.2, 0.4, 0.6, 0.8]).tolist()


def test_hash_is_seeded_stable_and_keeps_slot_zero_for_missing():
    encoder, rows = encode_one("zip:hash")
    slots = rows.indices.tolist()
    assert slots[0] == slots[2] and slots[3] == 0 and all(1 <= s <= 64 for s in slots[:3])
    assert encoder.state() == [{"column": "zip", "encoder": "hash", "buckets": 64, "seed": 0}]
    other = FeatureEncoder.from_state([{"column": "zip", "encoder": "hash", "buckets": 64, "seed": 7}])
    assert other.encode(people()).indices.tolist() != slots  # the seed is part of the fitted state


# ------------------------------------------------------------------ no statistic comes from test
def _with_test_rows_changed(data: FeatureTable, test_rows) -> FeatureTable:
    columns = {}
    for name in data:
        column = data.column(name)
        values = np.array(column.values, dtype=object if column.kind != "numeric" else float)
        values[test_rows] = 1e6 if column.kind == "numeric" else "only-in-test|other-test-value"
        columns[name] = Column(values.astype(float if column.kind == "numeric" else str), column.kind)
    return FeatureTable(columns)


@pytest.mark.parametrize(
    "request_, missing_row",
    [
        ("gender", 2),
        ("genres", 2),
        ("age:standard", 3),
        ("age:minmax", 3),
        ("age:bucket", 3),
        ("zip:hash", 3),
    ],
)
def test_each_encoder_fills_a_missing_value_as_it_says(request_, missing_row):
    """``fills_missing_with`` (what the preprocessing report prints) is what ``encode`` does."""
    encoder, rows = encode_one(request_)
    fills = type(encoder.encoders[0]).fills_missing_with
    assert set(ENCODERS) == {"onehot", "multihot", "standard", "minmax", "bucket", "hash"}
    got = rows.dense()[missing_row]
    if fills == "an empty bag":
        assert not got.any()
    elif fills == "the training mean":
        age = np.array(people()["age"], dtype=np.float64)
        age[missing_row] = np.nanmean(age[TRAIN])
        mean_row = encoder.encode(table(age=Column(age, "numeric"))).dense()[missing_row]
        np.testing.assert_allclose(got, mean_row)
    else:
        slot = re.fullmatch(r"the '(\w+)' slot", fills).group(1)
        assert got.tolist() == [1.0] + [0.0] * (len(got) - 1)  # slot 0, weight 1
        assert encoder.labels()[0].endswith(f"=<{slot}>")


@pytest.mark.parametrize(
    "request_", ["age:standard", "age:minmax", "age:bucket", "gender", "genres", "zip:hash", "age:onehot"]
)
def test_no_statistic_comes_from_the_test_rows(request_):
    fitted, _ = encode_one(request_)
    changed = _with_test_rows_changed(people(), [4, 5])
    refitted, _ = encode_one(request_, data=changed)
    assert json.dumps(refitted.state()) == json.dumps(fitted.state())
    # and the training rows encode the same either way
    train_rows = fitted.encode(people()).select(TRAIN)
    again = refitted.encode(changed).select(TRAIN)
    assert np.array_equal(train_rows.indices, again.indices)
    assert np.allclose(train_rows.weights, again.weights)


def test_on_a_cold_user_split_the_encoders_see_the_training_users_only():
    rng = np.random.default_rng(0)
    n_users, n_items = 30, 12
    users, items = np.divmod(rng.choice(n_users * n_items, 150, replace=False), n_items)
    meta = {"age": rng.integers(15, 70, n_users).astype(float), "job": rng.choice(["a", "b", "c"], n_users)}
    data = Interactions(users, items, n_users=n_users, n_items=n_items, user_meta=meta)
    train, test = cold_users(data, 0.3, seed=1)
    held = np.unique(test.users)
    seen = np.unique(train.users)
    encoder = FeatureEncoder.for_table(data.user_meta, ["age:standard", "job"]).fit(data.user_meta, seen)
    changed = _with_test_rows_changed(data.user_meta, held)
    other = FeatureEncoder.for_table(changed, ["age:standard", "job"]).fit(changed, seen)
    assert json.dumps(other.state()) == json.dumps(encoder.state())
    assert encoder.state()[0]["mean"] == pytest.approx(meta["age"][seen].mean())


# ------------------------------------------------------------------ several columns, state, new rows
def test_state_round_trips_through_json_and_encodes_identically():
    data = people()
    encoder = FeatureEncoder.for_table(data, ["age:bucket", "gender", "genres", "zip:hash", "age:minmax"])
    encoder.fit(data, TRAIN)
    again = FeatureEncoder.from_state(json.loads(json.dumps(encoder.state())))
    a, b = encoder.encode(data), again.encode(data)
    assert np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)
    assert np.array_equal(a.weights, b.weights) and again.labels() == encoder.labels()
    assert a.n_fields == 5 and a.n_slots == len(encoder.labels()) == sum(encoder.field_sizes)


def test_from_state_refuses_unknown_or_ill_fitting_entries():
    with pytest.raises(ValueError, match="unknown encoder 'pickle'"):
        FeatureEncoder.from_state([{"column": "a", "encoder": "pickle"}])
    with pytest.raises(ValueError, match="does not fit it"):
        FeatureEncoder.from_state([{"column": "a", "encoder": "onehot", "mean": 3.0}])


def test_new_rows_from_records_unknown_categories_and_bad_numbers():
    data = people()
    encoder = FeatureEncoder.for_table(data, ["age:standard", "gender", "genres"]).fit(data, TRAIN)
    rows = encoder.encode_records([{"age": "25", "gender": "astronaut", "genres": ["a", "c"]}, {}])
    expected = encoder.encode(table(
        age=Column(np.array([25.0, np.nan]), "numeric"), gender=Column(np.array(["", ""]), "categorical"),
        genres=Column(np.array(["a|c", ""]), "multi_hot")))  # fmt: skip
    np.testing.assert_allclose(rows.dense(), expected.dense())
    assert rows.filled == {"age": 1, "gender": 1, "genres": 1}
    # what went to an "unknown" slot although given: named per column (missing values are not)
    vocabulary = set(encoder.encoders[2].vocabulary)
    assert "a" in vocabulary and "zzz" not in vocabulary
    given = [{"age": "25", "gender": "astronaut", "genres": ["a", "zzz"]}, {"gender": "NA"}]
    assert encoder.unseen(given) == {"gender": ["astronaut"], "genres": ["zzz"]}
    assert encoder.unseen({"gender": encoder.encoders[1].vocabulary[0]}) == {}
    with pytest.raises(DataError, match="names \\['zip'\\], which this model does not use"):
        encoder.encode_records([{"zip": "10001"}])
    with pytest.raises(DataError, match="age must be a number.*got 'old'"):
        encoder.encode_records({"age": "old"})
    with pytest.raises(DataError, match="finite number"):
        encoder.encode_records({"age": "inf"})
    with pytest.raises(TypeError, match="must be a dict"):
        encoder.encode_records([("age", 3)])


def test_requests_name_the_columns_and_the_encoders_that_fit():
    data = people().with_columns(title=Column(np.array(list("abcdef")), "text"))
    assert [c for c, _ in parse_request("all", data, "users")] == ["age", "gender", "genres", "zip"]
    assert parse_request("none", data, "users") == []
    with pytest.raises(DataError, match="no column 'height'"):
        parse_request(["height"], data, "users")
    with pytest.raises(DataError, match="is text"):
        parse_request(["title"], data, "users")
    with pytest.raises(DataError, match="cannot be encoded by 'standard'; use one of"):
        parse_request(["gender:standard"], data, "users")


# ------------------------------------------------------------------ rows of bags
@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 6), st.integers(1, 3))
def test_select_and_join_fields_agree_with_dense_rows(seed, n, n_parts):
    rng = np.random.default_rng(seed)
    parts = []
    for _ in range(n_parts):
        lengths = rng.integers(0, 3, n)
        n_slots = int(rng.integers(1, 5))
        indptr = np.concatenate([[0], np.cumsum(lengths)])
        slots, weights = rng.integers(0, n_slots, indptr[-1]), rng.standard_normal(indptr[-1])
        parts.append(FeatureRows(indptr, slots, weights, 1, n_slots))
    joined = join_fields(*parts)
    np.testing.assert_allclose(joined.dense(), np.hstack([p.dense() for p in parts]))
    assert joined.n_fields == n_parts and joined.n_rows == n
    pick = rng.integers(0, n, 5)
    np.testing.assert_allclose(joined.select(pick).dense(), joined.dense()[pick])


def test_ranges_ids_as_a_field_and_mismatched_parts():
    assert ranges(np.array([2, 7, 7]), np.array([4, 7, 9])).tolist() == [2, 3, 7, 8]
    ids = single_slot_field(np.array([2, -1, 0]), 3)
    np.testing.assert_allclose(ids.dense(), [[0, 0, 1], [0, 0, 0], [1, 0, 0]])  # -1: an anonymous row
    with pytest.raises(ShapeError, match="one number of rows"):
        join_fields(ids, single_slot_field(np.array([0]), 3))


def test_ranges_concatenates_aranges():
    starts, stops = np.array([2, 0, 5, 7]), np.array([4, 0, 8, 8])
    np.testing.assert_array_equal(ranges(starts, stops), [2, 3, 5, 6, 7, 7])
    assert ranges(np.array([], dtype=np.int64), np.array([], dtype=np.int64)).shape == (0,)
