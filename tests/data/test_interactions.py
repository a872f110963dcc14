"""Interactions: construction, validation, id maps, CSR views, immutability."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyrec.data import Interactions
from tinyrec.errors import DataError, DTypeError, IndexOutOfRangeError, NonFiniteError, ShapeError


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
