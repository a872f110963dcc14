"""Validation of data arrays and id maps: the checks :class:`~tinyrec.data.Interactions` and the
data modules run on what a caller hands them.

A table of interactions is made of a few kinds of column, and each kind is checked by one
function here, whoever builds the table:

* an **index column**: 1-D integers in ``[0, size)``, stored as int32 (:func:`check_indices`), in
  an index space of a **size** in ``[1, MAX_INDEX_SPACE]`` (:func:`check_size`);
* a **value column** aligned with a key column: 1-D of the same length (:func:`check_length`),
  numeric, finite and within float32 (:func:`check_float_column`) or integer within int64
  (:func:`check_int_column`);
* **raw ids** given by a caller or a file: 1-D, all integers or all strings, none missing
  (:func:`check_raw_ids`); an **id map**: one distinct raw id per dense index
  (:func:`check_id_map`), and the raw ids looked up in it (:func:`check_lookup`,
  :func:`check_found`);
* a **metadata table**: columns of one entry per index (:func:`check_meta`), or, keyed by raw id,
  a dict of dicts of scalars (:func:`check_keyed_meta`, :func:`check_scalars`);
* a **row selector** over a table of ``n`` rows (:func:`check_rows`), one **dense index**
  (:func:`check_dense_index`), and a dense users x items matrix small enough to build
  (:func:`check_dense_size`).

A function that normalizes returns a **new** array (the caller may freeze it, as Interactions
does); every refusal is an error of :mod:`tinyrec.errors` that names the column, the problem and
the fix.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping

import numpy as np

from ..errors import (
    ArgumentTypeError,
    DataError,
    DTypeError,
    IndexOutOfRangeError,
    NonFiniteError,
    ShapeError,
)
from ..validation import check_int

__all__ = [
    "MAX_INDEX_SPACE",
    "MAX_DENSE_CELLS",
    "check_size",
    "check_indices",
    "check_length",
    "check_not_empty",
    "check_float_column",
    "check_int_column",
    "check_raw_ids",
    "check_id_map",
    "check_lookup",
    "check_found",
    "check_meta",
    "check_keyed_meta",
    "check_scalars",
    "check_rows",
    "check_dense_index",
    "check_dense_size",
]

#: The largest index space (``n_users`` / ``n_items``): indices are stored as int32, and a CSR
#: view allocates ``n + 1`` row pointers, so a mistyped ``n_users=10**12`` must fail here, not in
#: an allocation.
MAX_INDEX_SPACE = int(np.iinfo(np.int32).max)

#: The largest users x items matrix tinyrec builds densely (200 MB of float32).
MAX_DENSE_CELLS = 50_000_000

INT64_MAX = int(np.iinfo(np.int64).max)
_FLOAT32_MAX = float(np.finfo(np.float32).max)

#: The metadata values accepted per raw id: one string or number (a list would make NumPy build a
#: 2-D or ragged array, which a per-index column cannot hold).
_SCALARS = (str, bytes, numbers.Number, np.generic)


# ---------------------------------------------------------------------- index space
def check_size(value, name: str) -> int | None:
    """The size of an index space (``n_users``): None, or an int (not a bool) in ``[1, MAX_INDEX_SPACE]``."""
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


def check_indices(values, name: str, upper: int | None, *, size_name: str | None = None) -> np.ndarray:
    """An index column: 1-D integers in ``[0, upper)`` (``upper=None``: any int32), as a new int32 array.

    ``size_name`` is the argument that sets ``upper`` (default ``"n_" + name``), named in the fix.
    """
    a = np.asarray(values)
    if a.ndim != 1:
        raise ShapeError(f"{name} must be 1-D, got shape {a.shape}")
    if a.size == 0:
        a = a.astype(np.int64)  # an empty list has dtype float64; emptiness is the caller's to judge
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
                f"{name} contains {high}, outside [0, {upper}); pass a larger {size_name or 'n_' + name} "
                f"or fix the data"
            )
        if high > MAX_INDEX_SPACE:
            raise IndexOutOfRangeError(f"{name} contains {high}, too large for an int32 index")
    return a.astype(np.int32, copy=True)


def check_dense_index(value, name: str, n: int, *, fix: str) -> int:
    """One dense index: an int (Python's or NumPy's, not a bool or a float) in ``[0, n)``.

    ``fix`` ends the message for a value of another type (e.g. "map raw ids with user_index() first").
    """
    try:
        value = check_int(value, name)
    except ArgumentTypeError:
        raise ArgumentTypeError(f"{name} must be an int dense index, got {value!r}; {fix}") from None
    if not 0 <= value < n:
        raise IndexOutOfRangeError(f"{name} {value} is outside [0, {n})")
    return value


def check_dense_size(n_users: int, n_items: int, what: str, *, fix: str) -> None:
    """A dense ``n_users x n_items`` matrix has at most :data:`MAX_DENSE_CELLS` cells.

    ``what`` is the function that would build it, ``fix`` ends the message.
    """
    if n_users * n_items > MAX_DENSE_CELLS:
        raise DataError(
            f"{n_users} x {n_items} is too large for {what} (at most {MAX_DENSE_CELLS:,} user-item "
            f"cells); {fix}"
        )


def check_rows(rows, n: int) -> np.ndarray:
    """A row selector over a table of ``n`` rows: a boolean mask of shape ``(n,)``, or 1-D integer
    positions in ``[0, n)`` (negative ones are refused, not counted from the end)."""
    rows = np.asarray(rows)
    if rows.size == 0 and rows.dtype.kind == "f":
        rows = rows.astype(np.int64)  # an empty list has dtype float64
    if rows.dtype == np.bool_:
        if rows.shape != (n,):
            raise ShapeError(f"a boolean mask must have shape ({n},), got {rows.shape}")
    elif rows.dtype.kind not in "iu" or rows.ndim != 1:
        raise DTypeError(
            f"rows must be a boolean mask or 1-D integer positions, got dtype {rows.dtype}, "
            f"shape {rows.shape}"
        )
    elif rows.size and (rows.min() < 0 or rows.max() >= n):
        bad = rows.min() if rows.min() < 0 else rows.max()
        raise IndexOutOfRangeError(
            f"rows contains position {bad}, outside [0, {n}); positions are 0-based row numbers "
            f"(negative ones are not counted from the end)"
        )
    return rows


# ---------------------------------------------------------------------- value columns
def check_length(values: np.ndarray, name: str, n: int, *, along: str = "users") -> None:
    """``values`` is 1-D with ``n`` entries, one per row of the key column ``along``."""
    if values.ndim != 1 or values.shape[0] != n:
        size = f"length {values.shape[0]}" if values.ndim == 1 else f"shape {values.shape}"
        raise ShapeError(f"{along} has length {n} but {name} has {size}; they must match")


def check_not_empty(n: int) -> None:
    """A data set has at least one interaction."""
    if n == 0:
        raise DataError("the data set is empty (0 interactions); check the file or the filter")


def check_float_column(
    values,
    name: str,
    n: int,
    *,
    along: str = "users",
    fix: str = "drop them with tinyrec.data.preprocess.drop_invalid before building Interactions",
) -> np.ndarray:
    """A float column: 1-D numbers (not bools), ``n`` of them, finite and within float32's range,
    as a new float32 array. ``fix`` ends the message about NaN or inf."""
    a = np.asarray(values)
    if a.dtype.kind not in "iuf" or a.ndim != 1:
        raise DTypeError(f"{name} must be a 1-D numeric array, got dtype {a.dtype}, shape {a.shape}")
    check_length(a, name, n, along=along)
    if a.dtype.kind == "f":
        # one pass: NaN, inf and finite values beyond float32 (which would become inf) all fail it
        ok = np.abs(a) <= _FLOAT32_MAX if a.dtype.itemsize > 4 else np.isfinite(a)
        if not ok.all():
            finite = np.isfinite(a)
            if not finite.all():
                raise NonFiniteError(
                    f"{name} contains {int(np.count_nonzero(~finite))} NaN or inf value(s) (first at row "
                    f"{int(np.flatnonzero(~finite)[0])}); {fix}"
                )
            row = int(np.flatnonzero(~ok)[0])
            raise DataError(
                f"{name} has {int(np.count_nonzero(~ok))} value(s) beyond float32's range (first: "
                f"{float(a[row])!r} at row {row}); {name} are stored as float32: rescale or drop them"
            )
    return a.astype(np.float32, copy=True)


def check_int_column(values, name: str, n: int, *, along: str = "users", what: str = "") -> np.ndarray:
    """An integer column (e.g. timestamps): 1-D integers, ``n`` of them, within int64, as a new
    int64 array. ``what`` follows "integer array" in the message (e.g. ``" (e.g. Unix seconds)"``)."""
    a = np.asarray(values)
    if a.dtype.kind not in "iu" or a.ndim != 1:
        raise DTypeError(
            f"{name} must be a 1-D integer array{what}, got dtype {a.dtype}; convert with .astype(np.int64)"
        )
    check_length(a, name, n, along=along)
    _check_fits_int64(a, name, "rescale them (e.g. to Unix seconds)")
    return a.astype(np.int64, copy=True)


def _check_fits_int64(a: np.ndarray, name: str, fix: str) -> None:
    """uint64 values of 2**63 and more would wrap to negative numbers in int64."""
    if a.dtype == np.uint64 and a.size and int(a.max()) > INT64_MAX:
        raise DataError(
            f"{name} holds {int(a.max())}, beyond int64's range (values are stored as int64, which "
            f"would wrap it to a negative number); {fix}"
        )


# ---------------------------------------------------------------------- raw ids and id maps
def check_raw_ids(raw, name: str) -> np.ndarray:
    """Raw ids of the rows (one per interaction): 1-D, not empty, all integers or all strings, none
    missing. Returns an integer array (whole floats become int64) or a unicode array."""
    a = np.asarray(raw)
    if a.ndim != 1:
        raise ShapeError(f"{name} must be 1-D, got shape {a.shape}")
    check_not_empty(a.size)
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
        if not np.all(np.abs(a) < 2.0**63):  # astype(int64) would merge them into one id
            raise DataError(
                f"{name} holds {a[np.abs(a) >= 2.0**63][0].item()!r}, beyond int64's range (integer ids are "
                f"stored as int64); pass the ids as strings"
            )
        a = a.astype(np.int64)
    elif a.dtype.kind == "b" or a.dtype.kind not in "iuU":
        raise DTypeError(f"{name} must hold integer or string ids, got dtype {a.dtype}")
    _check_fits_int64(a, name, "pass the ids as strings")
    return a


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


def check_id_map(ids, name: str, n: int | None) -> np.ndarray | None:
    """An id map (``user_ids``): None, or one raw id per dense index, ``n`` of them (any number
    when ``n`` is None), integers or strings, all distinct. Returns a new int64 or unicode array."""
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
    if n is not None and a.shape[0] != n:
        raise ShapeError(f"{name} must be 1-D of length {n} (one raw id per index), got shape {a.shape}")
    if a.dtype.kind in "iu":
        _check_fits_int64(a, name, "pass the ids as strings")
        a = a.astype(np.int64, copy=True)
    elif a.dtype.kind in "UO":
        a = a.astype(str)
    else:
        raise DTypeError(f"{name} must hold integers or strings, got dtype {a.dtype}")
    distinct, counts = np.unique(a, return_counts=True)
    if distinct.shape[0] != a.shape[0]:  # two dense indices with one raw id: no way back
        raise DataError(
            f"{name} repeats the raw id {distinct[counts > 1][0].item()!r}; each dense index needs its "
            f"own raw id (build from raw ids with Interactions.from_raw to merge them)"
        )
    return a


def check_lookup(raw: np.ndarray, ids: np.ndarray, kind: str) -> np.ndarray:
    """Raw ``kind`` ids to look up in the id map ``ids``: as strings when the map holds strings,
    else integers (a float or a string cannot name an integer id)."""
    if ids.dtype.kind == "U":
        return raw.astype(str)
    if raw.dtype.kind not in "iu":
        raise DTypeError(f"raw {kind} ids of this data set are integers; got dtype {raw.dtype}")
    return raw


def check_found(found: np.ndarray, raw: np.ndarray, kind: str) -> None:
    """Every looked-up raw id is in the id map (``found``, aligned with ``raw``)."""
    if not np.all(found):
        raise IndexOutOfRangeError(
            f"unknown raw {kind} id {raw[~found][0].item()!r} ({int((~found).sum())} unknown); pass "
            f"missing='-1' to get -1 for unknown ids"
        )


# ---------------------------------------------------------------------- metadata
def check_meta(meta, name: str, n: int) -> dict:
    """A metadata table in dense order: ``{column: array}``, each of length ``n`` (one entry per
    index). Returns ``{str(column): new array}``; ``None`` gives ``{}``."""
    out = {}
    for key, value in ({} if meta is None else dict(meta)).items():
        a = np.asarray(value)
        if a.shape[:1] != (n,):
            raise ShapeError(f"{name}[{key!r}] must have length {n} (one entry per index), got {a.shape}")
        out[str(key)] = a.copy()
    return out


def check_keyed_meta(meta) -> None:
    """A metadata table keyed by raw id: a dict of column name -> dict raw id -> value."""
    if not isinstance(meta, Mapping):
        raise TypeError(
            f"metadata must be a dict of column name -> {{raw id: value}}, got {type(meta).__name__}"
        )
    for key, mapping in meta.items():
        if not isinstance(mapping, Mapping):
            raise TypeError(
                f"metadata column {key!r} must be a dict raw id -> value (e.g. {{10: 'Heat'}}), got "
                f"{type(mapping).__name__}; from_raw keys metadata by raw id. For arrays already in "
                f"dense index order, pass them to Interactions(...) instead"
            )


def check_scalars(values: list, name: str, raw_ids: list) -> None:
    """Metadata values (``None`` for an absent id) are scalars, a string or a number each."""
    bad = [t for t in set(map(type, values)) if t is not type(None) and not issubclass(t, _SCALARS)]
    if bad:
        k = next(k for k, v in enumerate(values) if type(v) in bad)
        raise DTypeError(
            f"{name} holds a {type(values[k]).__name__} for raw id {raw_ids[k]!r} ({values[k]!r}); "
            f"metadata values must be scalars (a string or a number), one per id: join a list into "
            f"one string first (e.g. '|'.join(genres), as the genres column does)"
        )
