"""Interactions: construction, validation, id maps, CSR views, immutability."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyrec.data import Interactions
from tinyrec.data.checks import _uniform_ids
from tinyrec.errors import (
    ArgumentTypeError,
    DataError,
    DTypeError,
    IndexOutOfRangeError,
    NonFiniteError,
    ShapeError,
)


def small():
    return Interactions.from_raw(
        ["bob", "ann", "ann", "cid", "bob"],
        [30, 10, 20, 10, 10],
        [4.0, 3.0, 5.0, 1.0, 2.0],
        [5, 1, 2, 3, 4],
        item_meta={"title": {10: "Ten", 20: "Twenty", 30: "Thirty"}},
    )


def test_from_raw_sorts_raw_ids_and_maps_both_ways():
    d = small()
    assert d.user_ids.tolist() == ["ann", "bob", "cid"]
    assert d.item_ids.tolist() == [10, 20, 30]
    assert d.users.tolist() == [1, 0, 0, 2, 1]
    assert d.items.tolist() == [2, 0, 1, 0, 0]
    assert d.users.dtype == np.int32 and d.items.dtype == np.int32
    assert d.ratings.dtype == np.float32 and d.timestamps.dtype == np.int64
    assert d.user_index(["cid", "ann"]).tolist() == [2, 0]
    assert d.item_index(30) == 2
    assert d.item_index([10, 99], missing="-1").tolist() == [0, -1]
    with pytest.raises(IndexOutOfRangeError, match="unknown raw item id 99"):
        d.item_index([99])
    assert d.titles.tolist() == ["Ten", "Twenty", "Thirty"]
    assert (d.n_users, d.n_items, len(d)) == (3, 3, 5)


@settings(max_examples=30)
@given(
    n=st.integers(1, 50),
    high=st.sampled_from([5, 10**4, 10**12]),  # small ids use a presence table, huge ones np.unique
    negative=st.booleans(),
    seed=st.integers(0, 10**6),
)
def test_from_raw_matches_np_unique(n, high, negative, seed):
    rng = np.random.default_rng(seed)
    raw = rng.integers(-high if negative else 0, high, n)
    d = Interactions.from_raw(raw, raw[::-1].copy())
    ids, inverse = np.unique(raw, return_inverse=True)
    np.testing.assert_array_equal(d.user_ids, ids)
    np.testing.assert_array_equal(d.users, inverse)
    np.testing.assert_array_equal(d.user_ids[d.users], raw)  # the round trip


def test_to_csr_sorted_by_item_within_user_and_cached():
    d = small()
    indptr, indices, data = d.to_csr()
    assert indptr.tolist() == [0, 2, 4, 5]
    assert indices.tolist() == [0, 1, 0, 2, 0]
    assert data.tolist() == [3.0, 5.0, 2.0, 4.0, 1.0]
    assert d.to_csr()[0] is indptr  # cached
    iptr, iind, _ = d.to_csr(by="item")
    assert iptr.tolist() == [0, 3, 4, 5] and iind.tolist() == [0, 1, 2, 0, 1]
    assert d.positives(1).tolist() == [0, 2]
    with pytest.raises(IndexOutOfRangeError):
        d.positives(3)


@settings(max_examples=30)
@given(n=st.integers(1, 60), n_users=st.integers(1, 6), n_items=st.integers(1, 8), seed=st.integers(0, 10**6))
def test_csr_and_positives_agree_with_dense(n, n_users, n_items, seed):
    rng = np.random.default_rng(seed)
    d = Interactions(
        rng.integers(0, n_users, n), rng.integers(0, n_items, n), n_users=n_users, n_items=n_items
    )
    indptr, indices, _ = d.to_csr()
    counts = np.zeros((n_users, n_items), dtype=np.int64)
    np.add.at(counts, (d.users, d.items), 1)
    for u in range(n_users):
        row = indices[indptr[u] : indptr[u + 1]]
        assert np.all(np.diff(row) >= 0)
        np.testing.assert_array_equal(np.bincount(row, minlength=n_items), counts[u])
        np.testing.assert_array_equal(d.positives(u), np.flatnonzero(counts[u]))
    assert d.has_duplicates() == bool((counts > 1).any())


def test_immutable():
    d = small()
    with pytest.raises(AttributeError, match="immutable"):
        d.n_users = 5
    with pytest.raises(ValueError):
        d.users[0] = 1
    with pytest.raises(ValueError):
        d.to_csr()[1][0] = 1
    with pytest.raises(TypeError):
        d.item_meta["title"] = None


def test_constructor_copies_its_input():
    users = np.array([0, 1])
    d = Interactions(users, np.array([0, 0]))
    users[0] = 1
    assert d.users.tolist() == [0, 1]


def test_subset_and_rebuild_share_the_index_space():
    d = small()
    sub = d.subset(d.users == 0)
    assert sub.same_index_space(d) and sub.user_ids is d.user_ids and sub.item_meta is d.item_meta
    assert (sub.n_users, sub.n_items, len(sub)) == (3, 3, 2)
    other = Interactions.from_raw(["ann"], [10])
    assert not other.same_index_space(d)
    with pytest.raises(TypeError, match="unexpected"):
        d.rebuild(rating=np.ones(5))


def test_repr_reports_counts_density_and_range():
    text = repr(small())
    assert "5 interactions" in text and "3 users x 3 items" in text
    assert "density 55.6%" in text and "ratings 1..5" in text and "title" in text
    assert "implicit" in repr(Interactions([0], [0]))


def test_counts_dense():
    d = small()
    assert d.user_counts().tolist() == [2, 2, 1]
    assert d.item_counts().tolist() == [3, 1, 1]
    dense = d.to_dense()
    assert dense.shape == (3, 3) and dense[1, 2] == 4.0 and dense[2, 1] == 0.0


# ------------------------------------------------------------------ bad input
def test_nonfinite_ratings():
    with pytest.raises(NonFiniteError, match="1 NaN or inf"):
        Interactions([0, 1], [0, 1], [1.0, np.nan])
    with pytest.raises(NonFiniteError):
        Interactions([0, 1], [0, 1], [np.inf, 1.0])
    # finite in float64 but inf once stored as float32: refused, not turned into inf
    with pytest.raises(DataError, match=r"beyond float32's range \(first: 1e\+200 at row 1\)"):
        Interactions([0, 1], [0, 1], [1.0, 1e200])


def test_negative_or_non_integer_indices():
    with pytest.raises(IndexOutOfRangeError, match="negative"):
        Interactions([0, -1], [0, 1])
    with pytest.raises(DTypeError, match="integer"):
        Interactions([0.0, 1.5], [0, 1])
    with pytest.raises(DTypeError, match="integer"):
        Interactions(["a", "b"], [0, 1])
    with pytest.raises(IndexOutOfRangeError, match="outside"):
        Interactions([0, 3], [0, 1], n_users=3)
    with pytest.raises(DTypeError, match="timestamps"):
        Interactions([0, 1], [0, 1], timestamps=[1.5, 2.0])
    with pytest.raises(DTypeError, match="non-integer"):
        Interactions.from_raw([1.0, 2.5], [1, 2])


def test_lengths_must_match():
    with pytest.raises(ShapeError, match="length"):
        Interactions([0, 1], [0])
    with pytest.raises(ShapeError, match="ratings"):
        Interactions([0, 1], [0, 1], [1.0])
    with pytest.raises(ShapeError, match="timestamps"):
        Interactions([0, 1], [0, 1], timestamps=[1])
    with pytest.raises(ShapeError):
        Interactions.from_raw([1, 2], [1])
    with pytest.raises(ShapeError, match="item_meta"):
        Interactions([0], [0], item_meta={"title": ["a", "b"]})


def test_empty_data_set():
    with pytest.raises(DataError, match="empty"):
        Interactions([], [])
    with pytest.raises(DataError, match="empty"):
        Interactions.from_raw([], [])
    with pytest.raises(DataError, match="empty"):
        small().subset(np.zeros(5, dtype=bool))


def test_missing_raw_ids():
    with pytest.raises(DataError, match="missing"):
        Interactions.from_raw(np.array(["a", None], dtype=object), [1, 2])
    with pytest.raises(DataError, match="missing"):
        Interactions.from_raw([1.0, np.nan], [1, 2])


def test_index_space_size_must_be_a_whole_number_in_range():
    # 5.5 passed the range check of user 5 but stored int(5.5) = 5: to_csr then wrote out of bounds
    for bad in (5.5, 6.0, True, "10"):
        with pytest.raises(ValueError, match="n_users must be a whole number .* leave n_users=None"):
            Interactions([0, 5, 5], [0, 1, 0], [1.0, 2.0, 3.0], n_users=bad)
    with pytest.raises(ValueError, match="n_items must be a whole number"):
        Interactions([0, 1], [0, 3], n_items=3.5)  # was stored as 3: item 3 silently ignored
    for bad in (2.0, "10", True):  # a wrong type: ArgumentTypeError, a TypeError and a ValueError
        with pytest.raises(ArgumentTypeError, match="n_users must be a whole number"):
            Interactions([0, 1], [0, 1], n_users=bad)
        with pytest.raises(TypeError):
            Interactions([0, 1], [0, 1], n_users=bad)
    # a typo that would make to_csr allocate terabytes of row pointers
    for bad in (10**12, 0, -1):
        with pytest.raises(ValueError, match=r"outside \[1, 2,147,483,647\] .* the real number of users"):
            Interactions([0, 0], [0, 1], n_users=bad)
    d = Interactions([0, 5], [0, 1], n_users=np.int64(6))  # NumPy integers are whole numbers
    assert d.n_users == 6 and type(d.n_users) is int and d.to_csr()[0].shape == (7,)


def test_raw_ids_must_be_distinct():
    with pytest.raises(DataError, match="user_ids repeats the raw id 5"):
        Interactions([0, 1], [0, 1], user_ids=[5, 5])
    with pytest.raises(DataError, match="item_ids repeats the raw id 'a'"):
        Interactions([0, 1], [0, 1], item_ids=["a", "a"])


def test_from_raw_refuses_ids_mixing_strings_and_numbers():
    # np.asarray(["1", 1]) makes two equal strings: "1" and 1 would merge into one user
    with pytest.raises(DTypeError, match=r"users mixes strings and numbers \(e\.g\. '1' and 1\)"):
        Interactions.from_raw(["1", 1], [1, 2])
    with pytest.raises(DTypeError, match="items mixes strings and numbers"):
        Interactions.from_raw([1, 2], np.array(["a", 1], dtype=object))
    # an object array of ints holds numbers: numeric ids, sorted as numbers
    d = Interactions.from_raw(np.array([10, 2], dtype=object), [1, 2])
    assert d.user_ids.tolist() == [2, 10] and d.user_ids.dtype == np.int64


def test_from_raw_metadata_is_keyed_by_raw_id():
    with pytest.raises(TypeError, match=r"metadata column 'title' must be a dict raw id -> value"):
        Interactions.from_raw([1, 2], [1, 2], item_meta={"title": ["x", "y"]})
    with pytest.raises(TypeError, match="metadata must be a dict of column name"):
        Interactions.from_raw([1, 2], [1, 2], item_meta=[("title", {1: "x"})])


def test_positives_needs_an_int_user():
    d = small()
    for bad in (0.5, 1.0, True, None):
        with pytest.raises(ArgumentTypeError, match=f"user must be an int dense index, got {bad}"):
            d.positives(bad)
    with pytest.raises(ArgumentTypeError, match="map raw ids with user_index"):
        d.positives("ann")
    with pytest.raises(TypeError):  # an ArgumentTypeError is a TypeError
        d.positives(0.5)
    with pytest.raises(IndexOutOfRangeError, match=r"user 3 is outside \[0, 3\)"):
        d.positives(3)
    assert d.positives(np.int32(1)).tolist() == [0, 2]


def test_subset_positions_must_be_rows():
    d = small()
    with pytest.raises(IndexOutOfRangeError, match=r"rows contains position 5, outside \[0, 5\)"):
        d.subset([5])
    with pytest.raises(IndexOutOfRangeError, match="position -1.*negative ones are not counted from the end"):
        d.subset([-1])  # used to wrap silently to the last row
    with pytest.raises(DataError, match="empty"):
        d.subset([])  # an empty list is no rows, not a float array
    with pytest.raises(DTypeError, match="1-D integer positions"):
        d.subset([[0, 1]])
    assert d.subset([4, 0]).ratings.tolist() == [2.0, 4.0]


def test_raw_id_maps_must_be_1d_arrays():
    # len(5) raised "object of type 'int' has no len()"
    expected = r"user_ids must be a 1-D array .* got the scalar 5; .* pass n_users="
    with pytest.raises(ShapeError, match=expected):
        Interactions([0, 1], [0, 1], user_ids=5)
    expected = r"item_ids must be a 1-D array .* got the scalar 'ab'.* pass n_items="
    with pytest.raises(ShapeError, match=expected):
        Interactions([0, 1], [0, 1], item_ids="ab")  # len("ab") == 2 passed
    expected = r"user_ids must be 1-D \(one raw id per dense index\), got shape \(1, 2\)"
    with pytest.raises(ShapeError, match=expected):
        Interactions([0, 1], [0, 1], user_ids=[[7, 8]])
    d = Interactions([0, 1], [0, 1], user_ids=("a", "b"), item_ids=np.array([5, 9]))
    assert d.n_users == 2 and d.user_ids.tolist() == ["a", "b"] and d.item_ids.tolist() == [5, 9]


def test_from_raw_metadata_values_must_be_scalars():
    # np.array([[1], [1, 2]]) raised numpy's "inhomogeneous shape"; equal lists made a 2-D column
    for meta in ({"t": {1: [1], 2: [1, 2]}}, {"t": {1: [1, 2], 2: [3, 4]}}, {"t": {2: np.arange(2)}}):
        with pytest.raises(
            DTypeError,
            match=r"item_meta\['t'\] holds a (list|ndarray) for raw id [12] .*"
            r"must be scalars .* '\|'\.join\(genres\)",
        ):
            Interactions.from_raw([1, 2], [1, 2], item_meta=meta)
    with pytest.raises(DTypeError, match=r"user_meta\['tags'\] holds a tuple for raw id 'bob'"):
        Interactions.from_raw(["ann", "bob"], [1, 2], user_meta={"tags": {"ann": "x", "bob": ("y", "z")}})
    d = Interactions.from_raw([1, 2], [1, 2], item_meta={"title": {1: "Heat"}, "year": {2: np.int64(1995)}})
    assert d.item_meta["title"].tolist() == ["Heat", ""] and d.item_meta["year"].tolist() == [0, 1995]


def test_uniform_ids_checks_types_without_a_python_loop_per_id():
    ids = [f"u{k}" for k in range(200_000)]
    assert _uniform_ids(ids, "users").dtype.kind == "U"
    assert _uniform_ids([np.str_("a"), "b"], "users").tolist() == ["a", "b"]  # str subclasses are text
    with pytest.raises(DTypeError, match=r"users mixes strings and numbers \(e\.g\. 'u0' and 7\)"):
        _uniform_ids([*ids, 7], "users")
    with pytest.raises(DataError, match=r"users contains missing \(None\) ids"):
        _uniform_ids(["a", None], "users")
    with pytest.raises(DataError, match=r"users contains missing \(None\) ids"):
        _uniform_ids([1, None], "users")


def test_values_beyond_int64_are_refused_not_wrapped():
    # uint64 values >= 2**63 used to wrap to negative int64 numbers; floats >= 2**63 to one id
    huge = np.array([2**64 - 1, 3], dtype=np.uint64)
    with pytest.raises(DataError, match="timestamps holds 18446744073709551615, beyond int64.* rescale"):
        Interactions([0, 1], [0, 1], timestamps=huge)
    with pytest.raises(DataError, match="user_ids holds 18446744073709551615, beyond int64's .* as strings"):
        Interactions([0, 1], [0, 1], user_ids=huge)
    with pytest.raises(DataError, match="users holds 18446744073709551615, beyond int64's range"):
        Interactions.from_raw(huge, [1, 2])
    with pytest.raises(DataError, match=r"users holds 1e\+30, beyond int64's range .* as strings"):
        Interactions.from_raw([1e30, 2e30, 3.0], [1, 2, 3])  # merged 1e30 and 2e30 into one user
    ok = np.array([2**63 - 1, 5], dtype=np.uint64)
    d = Interactions.from_raw(ok, [1, 2], timestamps=ok)
    assert d.user_ids.tolist() == [5, 2**63 - 1] and d.timestamps.tolist() == [2**63 - 1, 5]


def test_ratings_of_every_float_width_are_checked():
    for dtype in (np.float16, np.float32, np.float64):
        with pytest.raises(NonFiniteError, match=r"ratings contains 1 NaN or inf .* \(first at row 1\)"):
            Interactions([0, 1], [0, 1], np.array([1.0, np.inf], dtype=dtype))
    # NaN is reported first, wherever a too-large value is
    with pytest.raises(NonFiniteError):
        Interactions([0, 1, 2], [0, 1, 2], [1e200, 1.0, np.nan])
    with pytest.raises(DTypeError, match="ratings must be a 1-D numeric array, got dtype bool"):
        Interactions([0, 1], [0, 1], [True, False])
    d = Interactions([0, 1], [0, 1], np.array([5, 3], dtype=np.int64))
    assert d.ratings.dtype == np.float32 and d.ratings.tolist() == [5.0, 3.0]


def test_options_and_lookups_are_checked():
    d = small()
    with pytest.raises(ValueError, match=r"by must be one of \('user', 'item'\), got 'users'"):
        d.to_csr(by="users")
    with pytest.raises(ValueError, match=r"missing must be one of \('raise', '-1'\), got -1"):
        d.item_index([10], missing=-1)
    with pytest.raises(DTypeError, match="raw item ids of this data set are integers; got dtype float64"):
        d.item_index([10.5])
    with pytest.raises(IndexOutOfRangeError, match="unknown raw user id 'dan'"):
        d.user_index("dan")
    assert d.user_index(["dan", "bob"], missing="-1").tolist() == [-1, 1]


def test_rebuild_replaces_only_the_fields_it_is_given():
    d = small()
    new = d.rebuild(ratings=None, timestamps=None)  # None: implicit feedback, no timestamps
    assert new.ratings.tolist() == [1.0] * 5 and new.timestamps is None and new.users is not d.users
    np.testing.assert_array_equal(new.users, d.users)
    assert new.user_ids is d.user_ids and new.item_meta is d.item_meta
    with pytest.raises(TypeError):
        d.rebuild(np.ones(5))  # fields are named
    with pytest.raises(ShapeError, match="users has length 5 but ratings has length 2"):
        d.rebuild(ratings=[1.0, 2.0])


def test_to_dense_refuses_a_matrix_too_large_to_build():
    d = Interactions([0, 99_999], [0, 999], n_users=100_000, n_items=1_000)
    with pytest.raises(DataError, match=r"100000 x 1000 is too large for to_dense .* use to_csr\(\) instead"):
        d.to_dense()
    assert d.to_csr()[0].shape == (100_001,)


def test_checks_name_the_argument_that_sets_the_range():
    from tinyrec.data.checks import check_indices, check_length

    with pytest.raises(IndexOutOfRangeError, match=r"rows contains 7, outside \[0, 5\); pass a larger k"):
        check_indices([7], "rows", 5, size_name="k")
    with pytest.raises(ShapeError, match=r"items has length 2 but ratings has shape \(2, 1\); they"):
        check_length(np.ones((2, 1)), "ratings", 2, along="items")
    out = check_indices(np.array([1, 2], dtype=np.int64), "users", None)
    assert out.dtype == np.int32 and out.flags.writeable  # a new array: the caller decides to freeze it


def test_fingerprint_names_the_interactions_not_their_order_or_values():
    data = Interactions.from_raw(["ann", "bob", "ann", "cy"], [10, 10, 20, 30], [4.0, 3.0, 5.0, 1.0],
                                 [5, 6, 7, 8])  # fmt: skip
    fp = data.fingerprint()
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", fp) and data.fingerprint() is fp  # computed once
    shuffled = data.subset(np.array([3, 1, 0, 2]))
    assert shuffled.fingerprint() == fp  # the same interactions in another order
    assert data.with_ratings(np.ones(4)).fingerprint() == fp  # binarized: the same interactions
    assert data.with_info(name="x").fingerprint() == fp
    assert data.subset(np.arange(3)).fingerprint() != fp  # one interaction fewer
    moved = Interactions.from_raw(["ann", "bob", "ann", "cy"], [10, 20, 20, 30])
    assert moved.fingerprint() != fp  # bob's item differs
    renamed = Interactions.from_raw(["ann", "bob", "ann", "dee"], [10, 10, 20, 30])
    assert renamed.fingerprint() != fp  # the same pattern, other ids
    wide = Interactions(data.users, data.items, user_ids=data.user_ids.astype("<U20"), item_ids=data.item_ids)
    assert wide.fingerprint() == fp  # text ids: their text counts, not the array's width
    int32 = Interactions(data.users, data.items, user_ids=data.user_ids, item_ids=data.item_ids.astype("i4"))
    assert int32.fingerprint() == fp
