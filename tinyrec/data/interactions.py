"""``Interactions``: an immutable table of (user, item, rating, timestamp) with its id maps.

Every recommender, split and sampler in tinyrec takes an :class:`Interactions`. It stores

* ``users``, ``items`` : (n,) int32 dense indices in ``[0, n_users)`` and ``[0, n_items)``;
* ``ratings`` : (n,) float32 (all ones for implicit feedback);
* ``timestamps`` : (n,) int64 or ``None``;
* ``user_ids``, ``item_ids`` : the raw ids, indexed by dense index (``user_ids[u]`` is the raw id of
  dense user ``u``); :meth:`Interactions.user_index` / :meth:`Interactions.item_index` go back;
* optional per-item metadata (``item_meta["title"]``, ``item_meta["genres"]``) and per-user
  metadata (``user_meta["age"]``, ...), each an array of length ``n_items`` / ``n_users``: two
  :class:`~tinyrec.data.features.FeatureTable` objects, whose columns have a kind (categorical,
  multi_hot, numeric, text) that the feature models encode (:mod:`tinyrec.data.encoders`).

Two tables built from one another with :meth:`Interactions.subset` (as every split does) share one
*index space*: the same ``n_users``, ``n_items``, id maps and metadata, so dense index ``u`` means
the same person in train and in test. :meth:`Interactions.same_index_space` checks it.
:meth:`Interactions.with_meta` replaces the feature tables, keeping everything else.

All arrays are read-only; the CSR views (:meth:`Interactions.to_csr`,
:meth:`Interactions.positives_csr`) are built once and cached. What the constructor accepts is
checked on the way in by :mod:`tinyrec.data.checks`.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from types import MappingProxyType

import numpy as np

from ..kernels.csr import csr_order, unique_in_rows
from ..validation import check_choice
from .checks import (
    MAX_INDEX_SPACE,
    check_dense_index,
    check_dense_size,
    check_float_column,
    check_found,
    check_id_map,
    check_indices,
    check_int_column,
    check_keyed_meta,
    check_length,
    check_lookup,
    check_meta,
    check_not_empty,
    check_raw_ids,
    check_rows,
    check_scalars,
    check_size,
)
from .features import FeatureTable

__all__ = ["Interactions", "MAX_INDEX_SPACE"]


def _readonly(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


class _Keep:
    """The default of :meth:`Interactions.rebuild`'s fields: keep the field as it is."""

    def __repr__(self) -> str:
        return "<keep>"


_KEEP = _Keep()


class Interactions:
    """An immutable table of user-item interactions in a dense index space.

    Parameters
    ----------
    users : (n,) int array
        Dense user index of each interaction, in ``[0, n_users)``.
    items : (n,) int array
        Dense item index of each interaction, in ``[0, n_items)``.
    ratings : (n,) float array, optional
        Explicit ratings; ``None`` means implicit feedback (all ones). Stored as float32.
    timestamps : (n,) int array, optional
        Unix seconds (or any integer clock); stored as int64.
    n_users, n_items : int, optional
        Size of the index space; default ``max(index) + 1`` (or ``len(user_ids)`` when given).
        A whole number (not a float or a bool), larger than every index and at most
        :data:`MAX_INDEX_SPACE` (2**31 - 1: indices are int32).
    user_ids, item_ids : (n_users,) / (n_items,) array of int or str, optional
        Raw id of each dense index, all distinct; default ``arange`` (raw ids equal dense indices).
    user_meta, item_meta : FeatureTable, or dict of str -> array, optional
        Per-user / per-item columns (e.g. ``{"title": ..., "genres": ...}``), each of length
        ``n_users`` / ``n_items``; a dict's columns get their kinds by the rule of
        :mod:`tinyrec.data.features` (numbers numeric, text categorical).
    info : dict, optional
        Free-form provenance (data set name, split report, planted model of a synthetic set).

    Raises
    ------
    ShapeError
        Arrays of different lengths, or not 1-D (``user_ids`` / ``item_ids`` included).
    DTypeError
        Non-integer indices or timestamps, non-numeric ratings.
    ArgumentTypeError
        ``n_users`` / ``n_items`` not a whole number (a TypeError and a ValueError at once).
    ValueError
        ``n_users`` / ``n_items`` outside ``[1, MAX_INDEX_SPACE]``.
    IndexOutOfRangeError
        A negative index, or one outside ``[0, n_users)`` / ``[0, n_items)``.
    NonFiniteError
        NaN or inf in ``ratings``.
    DataError
        No interactions at all; a raw id repeated in ``user_ids`` / ``item_ids``; a rating beyond
        float32's range; a uint64 timestamp or raw id beyond int64's.

    The checks are those of :mod:`tinyrec.data.checks`, one function per kind of column.

    Notes
    -----
    Density is ``n / (n_users * n_items)``. Repeated ``(user, item)`` pairs are allowed here (an
    event log may repeat); splits refuse them, and :func:`tinyrec.data.preprocess.drop_duplicates`
    removes them.

    Examples
    --------
    >>> data = Interactions.from_raw(["ann", "bob", "ann"], [10, 10, 20], [4.0, 3.0, 5.0])
    >>> data.n_users, data.n_items, data.user_ids.tolist()
    (2, 2, ['ann', 'bob'])
    """

    __slots__ = (
        "users",
        "items",
        "ratings",
        "timestamps",
        "n_users",
        "n_items",
        "user_ids",
        "item_ids",
        "user_meta",
        "item_meta",
        "info",
        "_cache",
    )

    def __init__(
        self,
        users,
        items,
        ratings=None,
        timestamps=None,
        *,
        n_users: int | None = None,
        n_items: int | None = None,
        user_ids=None,
        item_ids=None,
        user_meta=None,
        item_meta=None,
        info=None,
    ):
        n_users, n_items = check_size(n_users, "n_users"), check_size(n_items, "n_items")
        user_ids = check_id_map(user_ids, "user_ids", n_users)
        item_ids = check_id_map(item_ids, "item_ids", n_items)
        if n_users is None and user_ids is not None:
            n_users = len(user_ids)
        if n_items is None and item_ids is not None:
            n_items = len(item_ids)
        users = check_indices(users, "users", n_users)
        items = check_indices(items, "items", n_items)
        n = len(users)
        check_length(items, "items", n)
        check_not_empty(n)
        if ratings is None:
            ratings = np.ones(n, dtype=np.float32)  # implicit feedback
        else:
            ratings = check_float_column(ratings, "ratings", n)
        if timestamps is not None:
            timestamps = check_int_column(timestamps, "timestamps", n, what=" (e.g. Unix seconds)")
        n_users = int(users.max()) + 1 if n_users is None else n_users
        n_items = int(items.max()) + 1 if n_items is None else n_items
        user_ids = np.arange(n_users, dtype=np.int64) if user_ids is None else user_ids
        item_ids = np.arange(n_items, dtype=np.int64) if item_ids is None else item_ids
        user_meta = _feature_table(user_meta, "user_meta", n_users)
        item_meta = _feature_table(item_meta, "item_meta", n_items)
        set_ = object.__setattr__
        set_(self, "users", _readonly(users))
        set_(self, "items", _readonly(items))
        set_(self, "ratings", _readonly(ratings))
        set_(self, "timestamps", None if timestamps is None else _readonly(timestamps))
        set_(self, "n_users", n_users)
        set_(self, "n_items", n_items)
        set_(self, "user_ids", _readonly(user_ids))
        set_(self, "item_ids", _readonly(item_ids))
        set_(self, "user_meta", user_meta)  # FeatureTables: read-only mappings of read-only columns
        set_(self, "item_meta", item_meta)
        set_(self, "info", MappingProxyType(dict(info or {})))
        set_(self, "_cache", {})

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_raw(
        cls, users, items, ratings=None, timestamps=None, *, user_meta=None, item_meta=None, info=None
    ) -> Interactions:
        """Build from raw ids (ints or strings): dense indices follow the sorted distinct raw ids.

        Parameters
        ----------
        users, items : (n,) array-like of int or str
            Raw ids, all integers or all strings: a mix (``"1"`` and ``1``) is refused, since
            converting would merge or split ids. Missing values (``None``, NaN) are refused: clean
            them first with :func:`tinyrec.data.preprocess.drop_invalid`.
        ratings, timestamps : see :class:`Interactions`.
        user_meta, item_meta : dict of str -> (dict raw id -> value), optional
            Metadata keyed by raw id (``{"title": {10: "Heat"}}``), since the dense order is only
            known after sorting the ids; ids absent from the dict get ``""`` (or 0 for numbers).
            Each value is a scalar (a string or a number): a list or an array is refused with
            :class:`~tinyrec.errors.DTypeError` (join genres into one ``"A|B"`` string).
            Arrays already in dense order go to the constructor instead.

        Returns
        -------
        Interactions
            ``user_ids`` = sorted distinct raw users, ``users[k]`` = position of raw user k.
        """
        user_ids, u = _factorize(check_raw_ids(users, "users"))
        item_ids, i = _factorize(check_raw_ids(items, "items"))
        return cls(
            u,
            i,
            ratings,
            timestamps,
            user_ids=user_ids,
            item_ids=item_ids,
            user_meta=_meta_from_dicts(user_meta, user_ids, "user_meta"),
            item_meta=_meta_from_dicts(item_meta, item_ids, "item_meta"),
            info=info,
        )

    def subset(self, rows) -> Interactions:
        """The interactions at ``rows`` (a boolean mask or integer positions), in the same index space.

        Positions are 0-based row numbers in ``[0, len(self))``; negative positions are refused
        (not counted from the end). ``n_users``, ``n_items``, the id maps and the metadata are
        shared, so the result can be compared with ``self`` index for index (this is how every
        split builds train and test).
        """
        rows = check_rows(rows, len(self))
        return self.rebuild(
            users=self.users[rows],
            items=self.items[rows],
            ratings=self.ratings[rows],
            timestamps=None if self.timestamps is None else self.timestamps[rows],
        )

    def with_ratings(self, ratings) -> Interactions:
        """The same interactions with new ratings (e.g. centered, or binarized); same index space."""
        return self.rebuild(ratings=ratings)

    def with_info(self, **info) -> Interactions:
        """The same table (arrays, index space and cached CSR shared) with ``info`` updated."""
        new = object.__new__(Interactions)
        for name in Interactions.__slots__:
            object.__setattr__(new, name, getattr(self, name))  # read-only arrays: sharing is safe
        object.__setattr__(new, "info", MappingProxyType({**self.info, **info}))
        return new

    def with_meta(self, *, user_meta=_KEEP, item_meta=_KEEP) -> Interactions:
        """The same interactions (index space and cached CSR shared) with new feature tables.

        Each is a :class:`~tinyrec.data.features.FeatureTable` or a dict of dense-ordered arrays
        (as the constructor takes), of ``n_users`` / ``n_items`` rows; the one not given is kept.
        Every table built from the result by :meth:`subset` (every split) shares them.
        """
        new = object.__new__(Interactions)
        for name in Interactions.__slots__:
            object.__setattr__(new, name, getattr(self, name))  # read-only arrays: sharing is safe
        if user_meta is not _KEEP:
            object.__setattr__(new, "user_meta", _feature_table(user_meta, "user_meta", self.n_users))
        if item_meta is not _KEEP:
            object.__setattr__(new, "item_meta", _feature_table(item_meta, "item_meta", self.n_items))
        return new

    def rebuild(self, *, users=_KEEP, items=_KEEP, ratings=_KEEP, timestamps=_KEEP) -> Interactions:
        """A new table in the same index space, with some of ``users``, ``items``, ``ratings``,
        ``timestamps`` replaced (the others are kept; they must keep matching lengths).

        ``n_users``, ``n_items``, the id maps, the metadata and ``info`` are shared. As in the
        constructor, ``ratings=None`` means implicit feedback and ``timestamps=None`` no timestamps.
        """
        new = Interactions(
            self.users if users is _KEEP else users,
            self.items if items is _KEEP else items,
            self.ratings if ratings is _KEEP else ratings,
            self.timestamps if timestamps is _KEEP else timestamps,
            n_users=self.n_users,
            n_items=self.n_items,
        )
        # share (not copy) the index space: maps and metadata are read-only
        for name in ("user_ids", "item_ids", "user_meta", "item_meta", "info"):
            object.__setattr__(new, name, getattr(self, name))
        return new

    def __setattr__(self, name, value):
        raise AttributeError(
            f"Interactions is immutable; build a new one (subset, with_ratings) instead of setting {name!r}"
        )

    # ------------------------------------------------------------------ id maps
    def user_index(self, raw_ids, *, missing: str = "raise") -> np.ndarray:
        """Dense indices of raw user ids; ``missing="raise"`` (default) or ``"-1"`` for unknown ids."""
        return _lookup(self.user_ids, raw_ids, "user", missing, self._sorter("user_ids"))

    def item_index(self, raw_ids, *, missing: str = "raise") -> np.ndarray:
        """Dense indices of raw item ids; ``missing="raise"`` (default) or ``"-1"`` for unknown ids."""
        return _lookup(self.item_ids, raw_ids, "item", missing, self._sorter("item_ids"))

    def _sorter(self, field: str) -> np.ndarray:
        key = "sorter_" + field
        if key not in self._cache:
            self._cache[key] = np.argsort(getattr(self, field), kind="stable")
        return self._cache[key]

    def same_index_space(self, other: Interactions) -> bool:
        """True when ``other`` has the same ``n_users``, ``n_items`` and raw-id maps."""
        return (
            self.n_users == other.n_users
            and self.n_items == other.n_items
            and (self.user_ids is other.user_ids or np.array_equal(self.user_ids, other.user_ids))
            and (self.item_ids is other.item_ids or np.array_equal(self.item_ids, other.item_ids))
        )

    def fingerprint(self) -> str:
        """``"sha256:<64 hex digits>"``: which users interacted with which items, in this index space.

        A SHA-256 of the id maps (``user_ids``, ``item_ids``) and of each user's distinct items
        (:meth:`positives_csr`), so the same interactions give the same fingerprint whatever their
        row order, their rating values or timestamps (binarizing or centering the ratings keeps
        it), and a table with one interaction more or less, or read with other ids, gets another.
        A model records the fingerprint of its training data (``model.provenance_``, saved in its
        file); ``tinyrec evaluate`` compares it with the split it is asked for. Computed once per
        table (cached): 0.3 ms for MovieLens 100K once its :meth:`positives_csr` is built (as ``fit``
        builds it anyway).
        """
        if "fingerprint" not in self._cache:
            digest = hashlib.sha256(b"tinyrec interactions 1\n")
            for ids in (self.user_ids, self.item_ids):
                if ids.dtype.kind == "U":  # text ids: their UTF-8 bytes, whatever the array's width
                    digest.update(b"text %d\n" % len(ids) + "\0".join(ids.tolist()).encode("utf-8"))
                else:
                    digest.update(b"int %d\n" % len(ids) + ids.astype("<i8").tobytes())
            indptr, indices = self.positives_csr()
            digest.update(indptr.astype("<i8").tobytes() + indices.astype("<i4").tobytes())
            self._cache["fingerprint"] = "sha256:" + digest.hexdigest()
        return self._cache["fingerprint"]

    # ------------------------------------------------------------------ metadata shortcuts
    @property
    def titles(self):
        """Item titles (``item_meta["title"]``) or ``None`` when the source has none."""
        return self.item_meta.get("title")

    @property
    def genres(self):
        """Item genres as ``"A|B"`` strings (``item_meta["genres"]``) or ``None``."""
        return self.item_meta.get("genres")

    # ------------------------------------------------------------------ CSR views
    def to_csr(self, *, by: str = "user"):
        """Compressed sparse rows, users × items (``by="user"``) or items × users (``by="item"``).

        Returns
        -------
        indptr : (n_rows + 1,) int64
        indices : (nnz,) int32
            Column indices; sorted ascending within each row.
        data : (nnz,) float32
            The ratings, aligned with ``indices``.

        Row ``r``'s entries are ``indices[indptr[r]:indptr[r + 1]]``. Repeated pairs stay
        repeated (in input order). Built once with a counting sort and cached; read-only.
        """
        check_choice(by, "by", ("user", "item"))
        key = "csr_" + by
        if key not in self._cache:
            rows, cols = (self.users, self.items) if by == "user" else (self.items, self.users)
            n_rows, n_cols = (self.n_users, self.n_items) if by == "user" else (self.n_items, self.n_users)
            indptr, order = csr_order(rows, cols, n_rows, n_cols)
            self._cache[key] = (
                _readonly(indptr),
                _readonly(cols[order]),
                _readonly(self.ratings[order]),
            )
        return self._cache[key]

    def positives_csr(self):
        """Each user's distinct interacted items as CSR ``(indptr, indices)``, sorted within a user.

        This is "what user ``u`` has seen": exclude it when recommending (``exclude_seen``) and
        never sample a negative from it. ``indices[indptr[u]:indptr[u + 1]]`` is sorted ascending
        without repeats, so membership is a binary search.
        """
        if "positives" not in self._cache:
            indptr, indices, _ = self.to_csr()
            new_indptr, keep = unique_in_rows(indptr, indices)
            self._cache["positives"] = (_readonly(new_indptr), _readonly(indices[keep]))
        return self._cache["positives"]

    def positives(self, user: int) -> np.ndarray:
        """The sorted distinct items of dense user ``user`` (an int; a read-only view).

        Raises :class:`~tinyrec.errors.ArgumentTypeError` when ``user`` is not an integer (map raw
        ids with :meth:`user_index`), :class:`~tinyrec.errors.IndexOutOfRangeError` outside
        ``[0, n_users)``.
        """
        user = check_dense_index(user, "user", self.n_users, fix="map raw ids with user_index() first")
        indptr, indices = self.positives_csr()
        return indices[indptr[user] : indptr[user + 1]]

    # ------------------------------------------------------------------ summaries
    def user_counts(self) -> np.ndarray:
        """(n_users,) int64: number of interactions of each user."""
        return np.bincount(self.users, minlength=self.n_users)

    def item_counts(self) -> np.ndarray:
        """(n_items,) int64: number of interactions of each item (its popularity)."""
        return np.bincount(self.items, minlength=self.n_items)

    @property
    def density(self) -> float:
        """``len(self) / (n_users * n_items)``."""
        return len(self) / (self.n_users * self.n_items)

    def has_duplicates(self) -> bool:
        """True when some ``(user, item)`` pair occurs more than once."""
        return int(self.positives_csr()[1].shape[0]) != len(self)

    def to_dense(self, fill: float = 0.0) -> np.ndarray:
        """(n_users, n_items) float32 matrix of ratings, ``fill`` elsewhere (small data only).

        A repeated pair keeps its last rating.
        """
        check_dense_size(self.n_users, self.n_items, "to_dense", fix="use to_csr() instead")
        dense = np.full((self.n_users, self.n_items), fill, dtype=np.float32)
        dense[self.users, self.items] = self.ratings
        return dense

    def __len__(self) -> int:
        return int(self.users.shape[0])

    def __repr__(self) -> str:
        name = self.info.get("name")
        head = f"Interactions({name!r}, " if name else "Interactions("
        parts = [
            f"{len(self):,} interactions",
            f"{self.n_users:,} users x {self.n_items:,} items",
            f"density {100 * self.density:.3g}%",
        ]
        lo, hi = float(self.ratings.min()), float(self.ratings.max())
        parts.append("implicit (all 1)" if lo == hi == 1.0 else f"ratings {lo:g}..{hi:g}")
        if self.timestamps is not None:
            t0, t1 = int(self.timestamps.min()), int(self.timestamps.max())
            if 0 <= t0 and t1 < 4_102_444_800:  # looks like Unix seconds before 2100
                fmt = "%Y-%m-%d"
                d0 = _dt.datetime.fromtimestamp(t0, _dt.timezone.utc).strftime(fmt)
                d1 = _dt.datetime.fromtimestamp(t1, _dt.timezone.utc).strftime(fmt)
                parts.append(f"time {d0}..{d1}")
            else:
                parts.append(f"time {t0}..{t1}")
        if self.item_meta:
            parts.append("item meta: " + ", ".join(self.item_meta))
        if self.user_meta:
            parts.append("user meta: " + ", ".join(self.user_meta))
        return head + ", ".join(parts) + ")"


# ---------------------------------------------------------------------- helpers
def _factorize(raw: np.ndarray):
    """Sorted distinct raw ids and each row's dense index (its rank among them), as int32."""
    if raw.dtype.kind in "iu" and raw.min() >= 0 and raw.max() < max(8 * raw.size, 1 << 20):
        # small non-negative ints: a presence table is O(n + max) instead of np.unique's sort
        present = np.zeros(int(raw.max()) + 1, dtype=bool)
        present[raw] = True
        ids = np.flatnonzero(present)
        dense = np.cumsum(present, dtype=np.int64) - 1  # dense[raw] = rank of raw among present ids
        return ids, dense[raw].astype(np.int32)
    ids, inverse = np.unique(raw, return_inverse=True)
    return ids, inverse.reshape(-1).astype(np.int32)


def _feature_table(meta, name: str, n: int) -> FeatureTable:
    """``meta`` (None, a dict of arrays, or a FeatureTable) as a FeatureTable of ``n`` rows."""
    if isinstance(meta, FeatureTable):
        check_length(np.empty(meta.n_rows), name, n, along="the index space")
        return meta
    return FeatureTable.from_arrays(check_meta(meta, name, n), n)


def _meta_from_dicts(meta, ids, name: str):
    """``{column: {raw id: value}}`` as ``{column: array in dense order}``; absent ids get "" or 0."""
    if meta is None:
        return None
    check_keyed_meta(meta)
    raw_ids = ids.tolist()
    out = {}
    for key, mapping in meta.items():
        values = [mapping.get(raw) for raw in raw_ids]
        check_scalars(values, f"{name}[{key!r}]", raw_ids)
        sample = next((v for v in values if v is not None), "")
        default = 0 if isinstance(sample, (int, float, np.integer, np.floating)) else ""
        out[key] = np.array([default if v is None else v for v in values])
    return out


def _lookup(ids: np.ndarray, raw, kind: str, missing: str, sorter: np.ndarray) -> np.ndarray:
    """Dense indices of the raw ids ``raw`` in the id map ``ids`` (``sorter`` sorts it); -1 if unknown."""
    check_choice(missing, "missing", ("raise", "-1"))
    raw = np.asarray(raw)
    scalar = raw.ndim == 0
    raw = check_lookup(raw.reshape(-1), ids, kind)
    pos = np.minimum(np.searchsorted(ids, raw, sorter=sorter), len(ids) - 1)
    index = sorter[pos]
    found = ids[index] == raw
    if missing == "raise":
        check_found(found, raw, kind)
    index = np.where(found, index, -1).astype(np.int64)
    return index[0] if scalar else index
