"""``Interactions``: an immutable table of (user, item, rating, timestamp) with its id maps.

Every recommender, split and sampler in tinyrec takes an :class:`Interactions`. It stores

* ``users``, ``items`` : (n,) int32 dense indices in ``[0, n_users)`` and ``[0, n_items)``;
* ``ratings`` : (n,) float32 (all ones for implicit feedback);
* ``timestamps`` : (n,) int64 or ``None``;
* ``user_ids``, ``item_ids`` : the raw ids, indexed by dense index (``user_ids[u]`` is the raw id of
  dense user ``u``); :meth:`Interactions.user_index` / :meth:`Interactions.item_index` go back;
* optional per-item metadata (``item_meta["title"]``, ``item_meta["genres"]``) and per-user
  metadata (``user_meta["age"]``, ...), each an array of length ``n_items`` / ``n_users``.

Two tables built from one another with :meth:`Interactions.subset` (as every split does) share one
*index space*: the same ``n_users``, ``n_items``, id maps and metadata, so dense index ``u`` means
the same person in train and in test. :meth:`Interactions.same_index_space` checks it.

All arrays are read-only; the CSR views (:meth:`Interactions.to_csr`,
:meth:`Interactions.positives_csr`) are built once and cached.
"""

from __future__ import annotations

import datetime as _dt
import numbers
from collections.abc import Mapping
from types import MappingProxyType

import numpy as np

from ..errors import (
    ArgumentTypeError,
    DataError,
    DTypeError,
    IndexOutOfRangeError,
    NonFiniteError,
    ShapeError,
)
from ..kernels.csr import csr_order, unique_in_rows
from ..validation import check_int

__all__ = ["Interactions"]

#: The largest ``n_users`` / ``n_items``: indices are stored as int32, and ``to_csr`` allocates
#: ``n + 1`` row pointers, so a mistyped ``n_users=10**12`` must fail here, not in an allocation.
MAX_INDEX_SPACE = int(np.iinfo(np.int32).max)


def _readonly(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


def _as_index(x, name: str, upper: int | None) -> np.ndarray:
    """Validate dense indices: 1-D integers in ``[0, upper)``; returned as read-only int32."""
    a = np.asarray(x)
    if a.ndim != 1:
        raise ShapeError(f"{name} must be 1-D, got shape {a.shape}")
    if a.size == 0:
        a = a.astype(np.int64)  # an empty list has dtype float64; emptiness is reported later
    if a.dtype.kind not in "iu":
        raise DTypeError(
            f"{name} must hold integer indices, got dtype {a.dtype}; cast whole numbers with "
            f".astype(np.int64), or build from raw ids (strings, sparse numbers) with Interactions.from_raw"
        )
    if a.size:
        low, high = int(a.min()), int(a.max())
        if low < 0:
            raise IndexOutOfRangeError(f"{name} contains the negative index {low}; indices start at 0")
        if upper is not None and high >= upper:
            raise IndexOutOfRangeError(
                f"{name} contains {high}, outside [0, {upper}); pass a larger n_{name} or fix the data"
            )
        if high > np.iinfo(np.int32).max:
            raise IndexOutOfRangeError(f"{name} contains {high}, too large for an int32 index")
    return _readonly(a.astype(np.int32, copy=True))


def _as_size(value, name: str) -> int | None:
    """``n_users`` / ``n_items``: None, or an int (not a bool) in ``[1, MAX_INDEX_SPACE]``."""
    if value is None:
        return None
    try:
        value = check_int(value, name)
    except ArgumentTypeError:
        raise ArgumentTypeError(
            f"{name} must be a whole number (the size of the index space), got {value!r}; pass an "
            f"int, or leave {name}=None to use the largest index + 1"
        ) from None
    if not 1 <= value <= MAX_INDEX_SPACE:
        raise ValueError(
            f"{name}={value} is outside [1, {MAX_INDEX_SPACE:,}] (indices are int32, and to_csr "
            f"allocates {name} + 1 row pointers); pass the real number of {name[2:]}"
        )
    return value


def _ids_array(ids, name: str) -> np.ndarray | None:
    """``user_ids`` / ``item_ids`` as a 1-D array (``None`` stays None), before its length is used."""
    if ids is None:
        return None
    a = np.asarray(ids)
    if a.ndim == 0:
        raise ShapeError(
            f"{name} must be a 1-D array with one raw id per dense index (e.g. {name}=['a', 'b']), "
            f"got the scalar {ids!r}; to set the size of the index space, pass n_{name[:-4]}s= instead"
        )
    if a.ndim != 1:
        raise ShapeError(f"{name} must be 1-D (one raw id per dense index), got shape {a.shape}")
    return a


def _as_ids(ids, name: str, n: int) -> np.ndarray:
    """Raw ids as a read-only 1-D array of ``n`` distinct values (int64 or unicode); ``None``: arange."""
    if ids is None:
        return _readonly(np.arange(n, dtype=np.int64))
    a = np.asarray(ids)
    if a.ndim != 1 or a.shape[0] != n:
        raise ShapeError(f"{name} must be 1-D of length {n} (one raw id per index), got shape {a.shape}")
    if a.dtype.kind in "iu":
        a = a.astype(np.int64, copy=True)
    elif a.dtype.kind in "UO":
        a = a.astype(str)
    else:
        raise DTypeError(f"{name} must hold integers or strings, got dtype {a.dtype}")
    distinct, counts = np.unique(a, return_counts=True)
    if distinct.shape[0] != n:  # two dense indices with one raw id: user_index could not go back
        raise DataError(
            f"{name} repeats the raw id {distinct[counts > 1][0].item()!r}; each dense index needs its "
            f"own raw id (build from raw ids with Interactions.from_raw to merge them)"
        )
    return _readonly(a)


def _as_meta(meta, name: str, n: int):
    if meta is None:
        return MappingProxyType({})
    out = {}
    for key, value in dict(meta).items():
        a = np.asarray(value)
        if a.shape[:1] != (n,):
            raise ShapeError(f"{name}[{key!r}] must have length {n} (one entry per index), got {a.shape}")
        out[str(key)] = _readonly(a.copy())
    return MappingProxyType(out)


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
    user_meta, item_meta : dict of str -> array, optional
        Per-user / per-item columns (e.g. ``{"title": ..., "genres": ...}``), each of length
        ``n_users`` / ``n_items``.
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
        No interactions at all; a raw id repeated in ``user_ids`` / ``item_ids``.

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
        n_users, n_items = _as_size(n_users, "n_users"), _as_size(n_items, "n_items")
        user_ids, item_ids = _ids_array(user_ids, "user_ids"), _ids_array(item_ids, "item_ids")
        if n_users is None and user_ids is not None:
            n_users = user_ids.shape[0]
        if n_items is None and item_ids is not None:
            n_items = item_ids.shape[0]
        u = _as_index(users, "users", n_users)
        i = _as_index(items, "items", n_items)
        n = u.shape[0]
        if i.shape[0] != n:
            raise ShapeError(f"users has length {n} but items has length {i.shape[0]}; they must match")
        if n == 0:
            raise DataError("the data set is empty (0 interactions); check the file or the filter")
        if ratings is None:
            r = np.ones(n, dtype=np.float32)
        else:
            r = np.asarray(ratings)
            if r.dtype.kind not in "iuf" or r.ndim != 1:
                raise DTypeError(f"ratings must be a 1-D numeric array, got dtype {r.dtype}, shape {r.shape}")
            if r.shape[0] != n:
                raise ShapeError(f"users has length {n} but ratings has length {r.shape[0]}; they must match")
            if not np.all(np.isfinite(r)):
                bad = int(np.count_nonzero(~np.isfinite(r)))
                first = int(np.flatnonzero(~np.isfinite(r))[0])
                raise NonFiniteError(
                    f"ratings contains {bad} NaN or inf value(s) (first at row {first}); drop them with "
                    f"tinyrec.data.preprocess.drop_invalid before building Interactions"
                )
            too_large = np.abs(r) > np.finfo(np.float32).max  # would become inf in float32
            if np.any(too_large):
                row = int(np.flatnonzero(too_large)[0])
                raise DataError(
                    f"ratings has {int(too_large.sum())} value(s) beyond float32's range (first: "
                    f"{float(r[row])!r} at row {row}); ratings are stored as float32: rescale or drop them"
                )
            r = r.astype(np.float32, copy=True)
        if timestamps is None:
            t = None
        else:
            t = np.asarray(timestamps)
            if t.dtype.kind not in "iu" or t.ndim != 1:
                raise DTypeError(
                    f"timestamps must be a 1-D integer array (e.g. Unix seconds), got dtype {t.dtype}; "
                    f"convert with .astype(np.int64)"
                )
            if t.shape[0] != n:
                raise ShapeError(f"users has length {n} but timestamps has length {t.shape[0]}")
            t = _readonly(t.astype(np.int64, copy=True))
        n_users = int(u.max()) + 1 if n_users is None else n_users
        n_items = int(i.max()) + 1 if n_items is None else n_items
        set_ = object.__setattr__
        set_(self, "users", u)
        set_(self, "items", i)
        set_(self, "ratings", _readonly(r))
        set_(self, "timestamps", t)
        set_(self, "n_users", n_users)
        set_(self, "n_items", n_items)
        set_(self, "user_ids", _as_ids(user_ids, "user_ids", n_users))
        set_(self, "item_ids", _as_ids(item_ids, "item_ids", n_items))
        set_(self, "user_meta", _as_meta(user_meta, "user_meta", n_users))
        set_(self, "item_meta", _as_meta(item_meta, "item_meta", n_items))
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
        user_ids, u = _factorize(users, "users")
        item_ids, i = _factorize(items, "items")
        if u.shape[0] != i.shape[0]:
            raise ShapeError(f"users has length {u.shape[0]} but items has length {i.shape[0]}")
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
        rows = np.asarray(rows)
        if rows.size == 0 and rows.dtype.kind == "f":
            rows = rows.astype(np.int64)  # an empty list has dtype float64
        if rows.dtype == np.bool_:
            if rows.shape != (len(self),):
                raise ShapeError(f"a boolean mask must have shape ({len(self)},), got {rows.shape}")
        elif rows.dtype.kind not in "iu" or rows.ndim != 1:
            raise DTypeError(
                f"rows must be a boolean mask or 1-D integer positions, got dtype {rows.dtype}, "
                f"shape {rows.shape}"
            )
        elif rows.size and (rows.min() < 0 or rows.max() >= len(self)):
            bad = rows.min() if rows.min() < 0 else rows.max()
            raise IndexOutOfRangeError(
                f"rows contains position {bad}, outside [0, {len(self)}); positions are 0-based row "
                f"numbers (negative ones are not counted from the end)"
            )
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

    def rebuild(self, **arrays) -> Interactions:
        """A new table in the same index space, with some of ``users``, ``items``, ``ratings``,
        ``timestamps`` replaced (the others are kept; they must keep matching lengths).

        ``n_users``, ``n_items``, the id maps, the metadata and ``info`` are shared.
        """
        unknown = set(arrays) - {"users", "items", "ratings", "timestamps"}
        if unknown:
            raise TypeError(f"rebuild() got unexpected field(s) {sorted(unknown)}")
        fields = dict(users=self.users, items=self.items, ratings=self.ratings, timestamps=self.timestamps)
        fields.update(arrays)
        new = Interactions(
            fields["users"],
            fields["items"],
            fields["ratings"],
            fields["timestamps"],
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
        if by not in ("user", "item"):
            raise ValueError(f"by must be 'user' or 'item', got {by!r}")
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
        try:
            user = check_int(user, "user")
        except ArgumentTypeError:
            raise ArgumentTypeError(
                f"user must be an int dense index, got {user!r}; map raw ids with user_index() first"
            ) from None
        if not 0 <= user < self.n_users:
            raise IndexOutOfRangeError(f"user {user} is outside [0, {self.n_users})")
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
        if self.n_users * self.n_items > 50_000_000:
            raise DataError(
                f"to_dense would allocate {self.n_users} x {self.n_items} floats; use to_csr() instead"
            )
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
def _factorize(raw, name: str):
    a = np.asarray(raw)
    if a.ndim != 1:
        raise ShapeError(f"{name} must be 1-D, got shape {a.shape}")
    if a.size == 0:
        raise DataError("the data set is empty (0 interactions); check the file or the filter")
    already_strings = isinstance(raw, np.ndarray) and a.dtype.kind == "U"  # one type by construction
    if a.dtype.kind in "UO" and not already_strings:
        # a list or an object array may mix types, and np.asarray turns ["1", 1] into two equal
        # strings: check the original values instead
        a = _uniform_ids(a.tolist() if isinstance(raw, np.ndarray) else list(raw), name)
    if a.dtype.kind == "f":
        if not np.all(np.isfinite(a)):
            raise DataError(f"{name} contains missing (NaN) ids; drop them with preprocess.drop_invalid")
        if not np.all(a == np.round(a)):
            raise DTypeError(
                f"{name} holds non-integer numbers (e.g. {a[a != np.round(a)][0]}); ids must be "
                f"integers or strings"
            )
        a = a.astype(np.int64)
    elif a.dtype.kind == "b" or a.dtype.kind not in "iuU":
        raise DTypeError(f"{name} must hold integer or string ids, got dtype {a.dtype}")
    if a.dtype.kind in "iu" and a.min() >= 0 and a.max() < max(8 * a.size, 1 << 20):
        # small non-negative ints: a presence table is O(n + max) instead of np.unique's sort
        present = np.zeros(int(a.max()) + 1, dtype=bool)
        present[a] = True
        ids = np.flatnonzero(present)
        dense = np.cumsum(present, dtype=np.int64) - 1  # dense[raw] = rank of raw among present ids
        return ids, dense[a].astype(np.int32)
    ids, inverse = np.unique(a, return_inverse=True)
    return ids, inverse.reshape(-1).astype(np.int32)


def _uniform_ids(values: list, name: str) -> np.ndarray:
    """Raw ids given as Python objects: all strings, or all numbers; a mix is refused.

    The types are collected with ``set(map(type, values))``, which runs in C: a per-value Python
    test costs ~0.1 s per million ids. Only a mix pays for finding an example of each kind.
    """
    types = set(map(type, values))
    if type(None) in types:
        raise DataError(f"{name} contains missing (None) ids; drop them with preprocess.drop_invalid")
    text_types = {t for t in types if issubclass(t, str)}  # str, np.str_
    if text_types == types:
        return np.array(values, dtype=str)
    if text_types:
        text = next(v for v in values if isinstance(v, str))
        other = next(v for v in values if not isinstance(v, str))
        raise DTypeError(
            f'{name} mixes strings and numbers (e.g. {text!r} and {other!r}), which would merge "1" '
            f"with 1 or sort them apart; convert them all to str or all to int first"
        )
    return np.asarray(values)  # numbers only (e.g. an object array of ints): checked by the caller


#: The metadata values from_raw accepts: one string or number per id (a list would make NumPy
#: build a 2-D or ragged array, which the per-index columns cannot hold).
_SCALARS = (str, bytes, numbers.Number, np.generic)


def _meta_from_dicts(meta, ids, name: str):
    """``{column: {raw id: value}}`` as ``{column: array in dense order}``; values must be scalars."""
    if meta is None:
        return None
    if not isinstance(meta, Mapping):
        raise TypeError(
            f"metadata must be a dict of column name -> {{raw id: value}}, got {type(meta).__name__}"
        )
    out = {}
    for key, mapping in meta.items():
        if not isinstance(mapping, Mapping):
            raise TypeError(
                f"metadata column {key!r} must be a dict raw id -> value (e.g. {{10: 'Heat'}}), got "
                f"{type(mapping).__name__}; from_raw keys metadata by raw id. For arrays already in "
                f"dense index order, pass them to Interactions(...) instead"
            )
        raw_ids = ids.tolist()
        values = [mapping.get(raw) for raw in raw_ids]
        bad = [t for t in set(map(type, values)) if t is not type(None) and not issubclass(t, _SCALARS)]
        if bad:
            k = next(k for k, v in enumerate(values) if type(v) in bad)
            raise DTypeError(
                f"{name}[{key!r}] holds a {type(values[k]).__name__} for raw id {raw_ids[k]!r} "
                f"({values[k]!r}); metadata values must be scalars (a string or a number), one per id: "
                f"join a list into one string first (e.g. '|'.join(genres), as the genres column does)"
            )
        sample = next((v for v in values if v is not None), "")
        default = 0 if isinstance(sample, (int, float, np.integer, np.floating)) else ""
        out[key] = np.array([default if v is None else v for v in values])
    return out


def _lookup(ids: np.ndarray, raw, kind: str, missing: str, sorter: np.ndarray) -> np.ndarray:
    if missing not in ("raise", "-1"):
        raise ValueError(f"missing must be 'raise' or '-1', got {missing!r}")
    raw = np.asarray(raw)
    scalar = raw.ndim == 0
    raw = raw.reshape(-1)
    if ids.dtype.kind == "U":
        raw = raw.astype(str)
    elif raw.dtype.kind not in "iu":
        raise DTypeError(f"raw {kind} ids of this data set are integers; got dtype {raw.dtype}")
    pos = np.searchsorted(ids, raw, sorter=sorter)
    pos = np.minimum(pos, len(ids) - 1)
    index = sorter[pos]
    found = ids[index] == raw
    if not np.all(found):
        if missing == "raise":
            raise IndexOutOfRangeError(
                f"unknown raw {kind} id {raw[~found][0].item()!r} ({int((~found).sum())} unknown); pass "
                f"missing='-1' to get -1 for unknown ids"
            )
        index = np.where(found, index, -1)
    index = index.astype(np.int64)
    return index[0] if scalar else index
