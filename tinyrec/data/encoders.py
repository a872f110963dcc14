"""Encoders: feature columns as sparse model inputs, fitted on the training rows only.

A model reads each user (or item) as a **row of bags**, one bag per *field* (a column, or the id):
a bag is a list of ``(slot, weight)`` pairs, ``slot`` an index into the field's slots. With ``n``
rows and ``F`` fields a :class:`FeatureRows` stores them as CSR, bag ``r · F + f`` holding row
``r``'s entries of field ``f``; a factorization machine sums every entry of a row, a feature MLP
embeds each bag on its own (:class:`tinyrec.nn.EmbeddingBag`).

==============  ===============================  =============================================
encoder         slots                            a row's bag
==============  ===============================  =============================================
``onehot``      0 = unknown, then the categories  one slot, weight 1; missing or unseen in
                seen in training (sorted)         training: slot 0
``multihot``    0 = unknown, then the values      each distinct value, weight ``1 / count``;
                seen in training (sorted)         missing (``""``): no entry; unseen: slot 0
``standard``    one slot                          weight ``(x − mean) / std`` (train mean and
                                                  std; a constant column: std 1); missing: 0
``minmax``      one slot                          weight ``(x − low) / (high − low)`` (train low,
                                                  high); missing: the train mean, scaled
``bucket``      0 = unknown, then one per bucket  one slot: the bucket of ``x`` by ``edges``
                                                  (``edges[b-1] <= x < edges[b]``); missing: 0
``hash``        0 = missing, then ``buckets``     one slot, ``1 + blake2b(text, key=seed) mod
                                                  buckets``: high-cardinality columns (zip codes)
==============  ===============================  =============================================

Every statistic (vocabularies, mean, std, low, high, quantile bucket edges) comes from the rows
``fit`` is given, the training users or items, never from test rows; the hash seed and explicit
bucket edges are settings. :meth:`FeatureEncoder.state` writes what was fitted as plain JSON and
:meth:`FeatureEncoder.from_state` rebuilds it, so a model file encodes a new user's features at
``recommend`` time exactly as training did. Every filled value is counted (``report``).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..errors import ArgumentTypeError, DataError, ShapeError
from .features import Column, FeatureTable

__all__ = ["ENCODERS", "FeatureEncoder", "FeatureRows", "join_fields", "single_slot_field", "parse_request"]

#: The hash seed used unless a request says otherwise (``"zip:hash"``): part of the fitted state.
DEFAULT_HASH_SEED = 0
DEFAULT_HASH_BUCKETS = 64
DEFAULT_BUCKETS = 5  # quantile buckets when a bucket encoder has no edges


# ---------------------------------------------------------------------- rows of bags
@dataclass(frozen=True, eq=False)
class FeatureRows:
    """``n`` rows of ``n_fields`` bags each, as CSR over the bags.

    Attributes
    ----------
    indptr : (n · n_fields + 1,) int64
        Bag ``r · n_fields + f`` (row ``r``, field ``f``) is ``indices[indptr[b]:indptr[b + 1]]``.
    indices : (nnz,) int64
        Slots in ``[0, n_slots)``: field ``f``'s slots follow those of the fields before it.
    weights : (nnz,) float64
    n_fields, n_slots : int
    filled : dict of str -> int
        Missing values filled, per column (see :mod:`tinyrec.data.features`).
    """

    indptr: np.ndarray
    indices: np.ndarray
    weights: np.ndarray
    n_fields: int
    n_slots: int
    filled: dict = field(default_factory=dict)

    @property
    def n_rows(self) -> int:
        return (len(self.indptr) - 1) // max(self.n_fields, 1)

    def row_bounds(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where each of ``rows``' entries start and stop in ``indices`` (all its bags together)."""
        rows = np.asarray(rows, dtype=np.int64)
        return self.indptr[rows * self.n_fields], self.indptr[(rows + 1) * self.n_fields]

    def select(self, rows) -> FeatureRows:
        """The rows ``rows`` (positions, repeats allowed), in that order."""
        rows = np.asarray(rows, dtype=np.int64)
        bags = (rows[:, None] * self.n_fields + np.arange(self.n_fields)).reshape(-1)  # (len(rows) · F,)
        lengths = self.indptr[bags + 1] - self.indptr[bags]
        positions = ranges(self.indptr[bags], self.indptr[bags + 1])
        indptr = np.zeros(len(bags) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        return FeatureRows(
            indptr, self.indices[positions], self.weights[positions], self.n_fields, self.n_slots
        )

    def dense(self) -> np.ndarray:
        """``(n, n_slots)`` float64: row ``r``'s weight on each slot (small tables: tests, explain)."""
        out = np.zeros((self.n_rows, self.n_slots))
        row_of = np.repeat(np.arange(len(self.indptr) - 1), np.diff(self.indptr)) // max(self.n_fields, 1)
        np.add.at(out, (row_of, self.indices), self.weights)
        return out


def ranges(starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """The concatenation of ``arange(starts[r], stops[r])`` over ``r``, without a Python loop."""
    lengths = stops - starts
    offsets = np.repeat(np.cumsum(lengths) - lengths, lengths)  # where each segment starts in the output
    return np.repeat(starts, lengths) + (np.arange(int(lengths.sum())) - offsets)


def join_fields(*parts: FeatureRows) -> FeatureRows:
    """The fields of ``parts`` side by side (same number of rows): row ``r`` has ``parts[0]``'s bags,
    then ``parts[1]``'s, ...; the slots of each part follow those of the parts before it."""
    n = parts[0].n_rows
    if any(p.n_rows != n for p in parts):
        raise ShapeError(f"join_fields needs parts of one number of rows, got {[p.n_rows for p in parts]}")
    lengths = np.concatenate([np.diff(p.indptr).reshape(n, p.n_fields) for p in parts], axis=1)  # (n, F)
    indptr = np.zeros(lengths.size + 1, dtype=np.int64)
    np.cumsum(lengths.reshape(-1), out=indptr[1:])
    row_start = indptr[: -1 : lengths.shape[1]] if lengths.shape[1] else np.zeros(n, dtype=np.int64)
    indices = np.empty(indptr[-1], dtype=np.int64)
    weights = np.empty(indptr[-1], dtype=np.float64)
    before = np.zeros(n, dtype=np.int64)  # entries of the parts already placed, per row
    slot_offset, filled = 0, {}
    for p in parts:
        starts, stops = p.row_bounds(np.arange(n))
        count = stops - starts
        dest = ranges(row_start + before, row_start + before + count)
        src = ranges(starts, stops)
        indices[dest] = p.indices[src] + slot_offset
        weights[dest] = p.weights[src]
        before += count
        slot_offset += p.n_slots
        filled.update(p.filled)
    return FeatureRows(indptr, indices, weights, sum(p.n_fields for p in parts), slot_offset, filled)


def single_slot_field(slots: np.ndarray, n_slots: int) -> FeatureRows:
    """One field whose bag is the one slot ``slots[r]`` with weight 1 (a user's or an item's id);
    a negative slot gives an empty bag (an anonymous user)."""
    slots = np.asarray(slots, dtype=np.int64)
    present = slots >= 0
    indptr = np.zeros(len(slots) + 1, dtype=np.int64)
    np.cumsum(present, out=indptr[1:])
    return FeatureRows(indptr, slots[present], np.ones(int(present.sum())), 1, int(n_slots))


# ---------------------------------------------------------------------- one column's encoders
class _Encoder:
    """What every encoder does: ``fit`` on the training rows, ``encode`` any rows, ``state``."""

    name = ""
    #: how a missing value is encoded, in words ("the training mean"): the preprocessing report's rule
    fills_missing_with = ""

    def __init__(self, column: str):
        self.column = column

    def fit(self, column: Column, rows: np.ndarray) -> _Encoder:
        raise NotImplementedError

    def encode(self, column: Column):
        """``(lengths (n,), slots (nnz,), weights (nnz,), filled)`` of every row of ``column``."""
        raise NotImplementedError

    @property
    def size(self) -> int:
        raise NotImplementedError

    def labels(self) -> list[str]:
        raise NotImplementedError

    def state(self) -> dict:
        return {"column": self.column, "encoder": self.name}


class OneHot(_Encoder):
    """Categories seen in training, slot 0 for "unknown" (missing, or unseen in training)."""

    name = "onehot"
    fills_missing_with = "the 'unknown' slot"

    def __init__(self, column: str, vocabulary: Sequence[str] = ()):
        super().__init__(column)
        self.vocabulary = [str(v) for v in vocabulary]
        self._slot = {v: k + 1 for k, v in enumerate(self.vocabulary)}

    def fit(self, column, rows):
        values = column.values[rows][~column.missing()[rows]]
        self.__init__(self.column, sorted({_text(v) for v in values.tolist()}))
        return self

    def encode(self, column):
        missing = column.missing()
        slots = np.array(
            [
                0 if m else self._slot.get(_text(v), 0)
                for v, m in zip(column.values.tolist(), missing, strict=True)
            ],
            dtype=np.int64,
        )
        return np.ones(len(slots), dtype=np.int64), slots, np.ones(len(slots)), int(missing.sum())

    @property
    def size(self):
        return len(self.vocabulary) + 1

    def labels(self):
        return [f"{self.column}=<unknown>"] + [f"{self.column}={v}" for v in self.vocabulary]

    def state(self):
        return {**super().state(), "vocabulary": list(self.vocabulary)}


class MultiHot(OneHot):
    """Values split by ``sep``; each distinct value of a row weighs ``1 / count`` (their mean)."""

    name = "multihot"
    fills_missing_with = "an empty bag"

    def __init__(self, column: str, vocabulary: Sequence[str] = (), sep: str = "|"):
        super().__init__(column, vocabulary)
        self.sep = sep

    def _tags(self, value) -> list[str]:
        return sorted({t.strip() for t in _text(value).split(self.sep)} - {""})

    def fit(self, column, rows):
        missing = column.missing()
        tags = set()
        for value in column.values[rows][~missing[rows]].tolist():
            tags.update(self._tags(value))
        self.__init__(self.column, sorted(tags), self.sep)
        return self

    def encode(self, column):
        missing = column.missing()
        lengths, slots, weights = [], [], []
        for value, gone in zip(column.values.tolist(), missing, strict=True):
            tags = [] if gone else self._tags(value)
            lengths.append(len(tags))
            slots += [self._slot.get(t, 0) for t in tags]
            weights += [1.0 / len(tags)] * len(tags) if tags else []  # an empty bag: no entry
        return (
            np.array(lengths, dtype=np.int64),
            np.array(slots, dtype=np.int64),
            np.array(weights, dtype=np.float64),
            int(missing.sum()),
        )

    def state(self):
        return {**super().state(), "sep": self.sep}


class Standard(_Encoder):
    """``(x − mean) / std`` with the training mean and standard deviation; missing: 0 (the mean)."""

    name = "standard"
    fills_missing_with = "the training mean"

    def __init__(self, column: str, mean: float = 0.0, std: float = 1.0):
        super().__init__(column)
        self.mean, self.std = float(mean), float(std)

    def fit(self, column, rows):
        x = _train_numbers(column, rows, self.column)
        std = float(x.std()) if x.size else 1.0
        self.__init__(self.column, float(x.mean()) if x.size else 0.0, std if std > 0 else 1.0)
        return self

    def _weights(self, x):
        return (x - self.mean) / self.std

    def encode(self, column):
        x = np.asarray(column.values, dtype=np.float64)
        missing = np.isnan(x)
        weights = np.where(missing, self._weights(self.mean), self._weights(np.where(missing, 0.0, x)))
        n = len(x)
        return np.ones(n, dtype=np.int64), np.zeros(n, dtype=np.int64), weights, int(missing.sum())

    @property
    def size(self):
        return 1

    def labels(self):
        return [self.column]

    def state(self):
        return {**super().state(), "mean": self.mean, "std": self.std}


class MinMax(Standard):
    """``(x − low) / (high − low)`` with the training low and high; missing: the training mean."""

    name = "minmax"

    def __init__(self, column: str, low: float = 0.0, high: float = 1.0, mean: float = 0.0):
        _Encoder.__init__(self, column)
        self.low, self.high, self.mean = float(low), float(high), float(mean)

    def fit(self, column, rows):
        x = _train_numbers(column, rows, self.column)
        low, high = (float(x.min()), float(x.max())) if x.size else (0.0, 1.0)
        self.__init__(self.column, low, high, float(x.mean()) if x.size else low)
        return self

    def _weights(self, x):
        return (x - self.low) / (self.high - self.low) if self.high > self.low else x * 0.0

    def state(self):
        return {**_Encoder.state(self), "low": self.low, "high": self.high, "mean": self.mean}


class Bucket(_Encoder):
    """The bucket of ``x`` among ``edges`` (slot 0: missing); no edges: training quantiles."""

    name = "bucket"
    fills_missing_with = "the 'unknown' slot"

    def __init__(self, column: str, edges: Sequence[float] = (), n_buckets: int = DEFAULT_BUCKETS):
        super().__init__(column)
        self.edges = [float(e) for e in edges]
        self.n_buckets = int(n_buckets)

    def fit(self, column, rows):
        if not self.edges:  # quantile edges of the training values
            x = _train_numbers(column, rows, self.column)
            qs = np.quantile(x, np.arange(1, self.n_buckets) / self.n_buckets) if x.size else []
            self.edges = sorted({float(q) for q in qs})
        return self

    def encode(self, column):
        x = np.asarray(column.values, dtype=np.float64)
        missing = np.isnan(x)
        slots = np.where(missing, 0, np.searchsorted(self.edges, np.where(missing, 0.0, x), side="right") + 1)
        n = len(x)
        return np.ones(n, dtype=np.int64), slots.astype(np.int64), np.ones(n), int(missing.sum())

    @property
    def size(self):
        return len(self.edges) + 2

    def labels(self):
        e = self.edges
        whole = all(float(v).is_integer() for v in e)

        def show(v):
            return f"{int(v)}" if whole else f"{v:g}"

        if not e:
            return [f"{self.column}=<unknown>", f"{self.column}=any"]
        inner = [
            f"{show(a)}–{show(b - 1)}" if whole else f"[{show(a)}, {show(b)})"
            for a, b in zip(e, e[1:], strict=False)
        ]
        names = [f"<{show(e[0])}", *inner, f"{show(e[-1])}+"]
        return [f"{self.column}=<unknown>"] + [f"{self.column}={n}" for n in names]

    def state(self):
        return {**super().state(), "edges": list(self.edges)}


class Hash(_Encoder):
    """``1 + blake2b(value, key=seed) mod buckets``; slot 0 for a missing value."""

    name = "hash"
    fills_missing_with = "the 'missing' slot"

    def __init__(self, column: str, buckets: int = DEFAULT_HASH_BUCKETS, seed: int = DEFAULT_HASH_SEED):
        super().__init__(column)
        self.buckets, self.seed = int(buckets), int(seed)
        self._key = self.seed.to_bytes(8, "little")

    def fit(self, column, rows):
        return self  # nothing to learn: the seed and the number of buckets are settings

    def slot(self, value) -> int:
        digest = hashlib.blake2b(_text(value).encode("utf-8"), digest_size=8, key=self._key).digest()
        return 1 + int.from_bytes(digest, "little") % self.buckets

    def encode(self, column):
        missing = column.missing()
        slots = np.array(
            [0 if m else self.slot(v) for v, m in zip(column.values.tolist(), missing, strict=True)],
            dtype=np.int64,
        )
        return np.ones(len(slots), dtype=np.int64), slots, np.ones(len(slots)), int(missing.sum())

    @property
    def size(self):
        return self.buckets + 1

    def labels(self):
        return [f"{self.column}=<missing>"] + [f"{self.column}#{b}" for b in range(1, self.buckets + 1)]

    def state(self):
        return {**super().state(), "buckets": self.buckets, "seed": self.seed}


def _text(value) -> str:
    """A category as text: stripped; a whole float written as an integer (``25.0`` and ``"25"`` are one)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _train_numbers(column: Column, rows: np.ndarray, name: str) -> np.ndarray:
    """The non-missing numbers of ``column`` at the training ``rows`` (float64)."""
    if column.kind != "numeric":
        raise DataError(
            f"column {name!r} is {column.kind}, not numeric: encode it with onehot, multihot or hash"
        )
    x = np.asarray(column.values[rows], dtype=np.float64)
    return x[~np.isnan(x)]


#: encoder name -> class
ENCODERS = {cls.name: cls for cls in (OneHot, MultiHot, Standard, MinMax, Bucket, Hash)}
_DEFAULT = {"categorical": "onehot", "multi_hot": "multihot", "numeric": "standard"}
_FITS = {
    "onehot": ("categorical", "numeric"),
    "multihot": ("multi_hot", "categorical"),
    "hash": ("categorical", "numeric", "multi_hot"),
    "standard": ("numeric",),
    "minmax": ("numeric",),
    "bucket": ("numeric",),
}


# ---------------------------------------------------------------------- several columns
def parse_request(request, table: FeatureTable, what: str) -> list[tuple[str, str]]:
    """``[(column, encoder name), ...]`` from a request: ``"all"``, ``"none"`` or a sequence of
    ``"column"`` / ``"column:encoder"`` strings (``("age:bucket", "gender", "zip:hash")``).

    ``"all"``: every column of ``table`` that is not text, each with its hint or its kind's
    default; a named column of kind text, an unknown column or an encoder that does not fit the
    column's kind raise, naming the choices.
    """
    if isinstance(request, str) and request in ("all", "none"):
        names = [] if request == "none" else [n for n, kind in table.kinds.items() if kind != "text"]
        request = names
    out = []
    for item in request:
        name, _, encoder = str(item).partition(":")
        column = table.column(name) if name in table else None
        if column is None:
            fix = (
                f"pick one of {list(table)}" if len(table) else
                "this data has no feature columns on that side: read them with from_csv(..., "
                "user_features=PATH, item_features=PATH), or use a data set that has them (ml-100k)"
            )  # fmt: skip
            raise DataError(f"{what}: no column {name!r} in the data's features; {fix}")
        if column.kind == "text":
            raise DataError(f"{what}: column {name!r} is text (shown, not encoded); pick another column")
        encoder = encoder or column.encoding or _DEFAULT[column.kind]
        if encoder not in ENCODERS or column.kind not in _FITS[encoder]:
            fits = [e for e, kinds in _FITS.items() if column.kind in kinds]
            raise DataError(
                f"{what}: column {name!r} ({column.kind}) cannot be encoded by {encoder!r}; use one of {fits}"
            )
        out.append((name, encoder))
    return out


class FeatureEncoder:
    """The encoders of a side's columns (users or items), fitted together, encoded together.

    ``FeatureEncoder.for_table(table, ["age:bucket", "gender"])`` picks an encoder per column
    (:func:`parse_request`; hints such as a column's ``edges`` and ``buckets`` are used);
    :meth:`fit` learns from the training rows; :meth:`encode` gives the :class:`FeatureRows` of
    any rows, :meth:`encode_records` of new rows given as dicts (a new user's ``{"age": 25}``).
    """

    def __init__(self, encoders: Sequence[_Encoder] = ()):
        self.encoders = list(encoders)
        self.report: dict[str, int] = {}

    @classmethod
    def for_table(cls, table: FeatureTable, request="all", *, what: str = "features") -> FeatureEncoder:
        encoders = []
        for name, kind in parse_request(request, table, what):
            column = table.column(name)
            if kind == "bucket":
                encoders.append(Bucket(name, column.edges or ()))
            elif kind == "hash":
                encoders.append(Hash(name, column.buckets or DEFAULT_HASH_BUCKETS))
            elif kind == "multihot":
                encoders.append(MultiHot(name, sep=column.sep))
            else:
                encoders.append(ENCODERS[kind](name))
        return cls(encoders)

    @property
    def columns(self) -> list[str]:
        return [e.column for e in self.encoders]

    @property
    def field_sizes(self) -> list[int]:
        return [e.size for e in self.encoders]

    @property
    def n_slots(self) -> int:
        return sum(self.field_sizes)

    def fit(self, table: FeatureTable, rows) -> FeatureEncoder:
        """Fit every encoder on the rows ``rows`` (the training users or items) of ``table``.

        ``report`` then counts, per column, the missing values among those rows."""
        rows = np.flatnonzero(rows) if np.asarray(rows).dtype == bool else np.asarray(rows, dtype=np.int64)
        for encoder in self.encoders:
            column = table.column(encoder.column)
            encoder.fit(column, rows)
            self.report[encoder.column] = int(column.missing()[rows].sum())
        return self

    def encode(self, table: FeatureTable) -> FeatureRows:
        """Every row of ``table``, its fields in this encoder's order."""
        n = table.n_rows
        parts = []
        for encoder in self.encoders:
            lengths, slots, weights, filled = encoder.encode(table.column(encoder.column))
            indptr = np.zeros(n + 1, dtype=np.int64)
            np.cumsum(lengths, out=indptr[1:])
            parts.append(FeatureRows(indptr, slots, weights, 1, encoder.size, {encoder.column: filled}))
        if not parts:
            return FeatureRows(np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0), 0, 0)
        return join_fields(*parts)

    def encode_records(self, records: Sequence[Mapping], *, what: str = "features") -> FeatureRows:
        """Rows given as dicts ``{column: value}`` (a column left out is missing; a column this
        encoder does not use is refused, naming the columns it uses). Numbers may come as text
        (``"25"``); a numeric column given other text raises DataError."""
        return self.encode(self._record_table(records, what))

    def _record_table(self, records, what: str) -> FeatureTable:
        """The :class:`FeatureTable` of rows given as dicts, each column typed as its encoder reads it."""
        if isinstance(records, Mapping):
            records = [records]
        used = set(self.columns)
        for r, record in enumerate(records):
            if not isinstance(record, Mapping):
                raise ArgumentTypeError(
                    f"{what}[{r}] must be a dict of column -> value, got {type(record).__name__}"
                )
            unknown = sorted(set(record) - used)
            if unknown:
                raise DataError(
                    f"{what}[{r}] names {unknown}, which this model does not use; its columns are "
                    f"{sorted(used)}"
                )
        columns = {}
        for encoder in self.encoders:
            values = [record.get(encoder.column) for record in records]
            if isinstance(encoder, Standard | Bucket):  # numeric columns (MinMax is a Standard)
                columns[encoder.column] = Column(_numbers(values, encoder.column, what), "numeric")
            else:
                text = [
                    "" if v is None else "|".join(v) if isinstance(v, list | tuple) else str(v)
                    for v in values
                ]
                sep = getattr(encoder, "sep", "|")
                kind = "multi_hot" if isinstance(encoder, MultiHot) else "categorical"
                columns[encoder.column] = Column(np.array(text, dtype=str), kind, sep=sep)
        return FeatureTable(columns, len(records))

    def unseen(self, records: Sequence[Mapping], *, what: str = "features") -> dict[str, list[str]]:
        """Per column, the categories (or tags) of ``records`` that training never saw, which
        :meth:`encode_records` sends to the column's "unknown" slot: ``{"occupation": ["astronaut"]}``.
        Columns with none are left out; missing values and numeric columns are not listed."""
        table = self._record_table(records, what)
        out = {}
        for encoder in self.encoders:
            if not isinstance(encoder, OneHot):  # MultiHot is a OneHot too: its tags are looked up
                continue
            column = table.column(encoder.column)
            present = column.values[~column.missing()].tolist()
            if isinstance(encoder, MultiHot):
                given = [tag for value in present for tag in encoder._tags(value)]
            else:
                given = [_text(value) for value in present]
            never = sorted(set(given) - set(encoder.vocabulary))
            if never:
                out[encoder.column] = never
        return out

    def labels(self) -> list[str]:
        """A name for every slot, in slot order (``"age=25–34"``, ``"genres=Comedy"``)."""
        return [label for encoder in self.encoders for label in encoder.labels()]

    def state(self) -> list[dict]:
        """What was fitted, as JSON values: one dict per column (for the model file)."""
        return [encoder.state() for encoder in self.encoders]

    @classmethod
    def from_state(cls, state: Sequence[Mapping]) -> FeatureEncoder:
        """Rebuild from :meth:`state`; a ValueError names a missing or unknown entry."""
        encoders = []
        for entry in state:
            entry = dict(entry)
            name = entry.pop("encoder", None)
            if name not in ENCODERS:
                raise ValueError(f"unknown encoder {name!r}; the encoders are {list(ENCODERS)}")
            try:
                encoders.append(ENCODERS[name](**entry))
            except TypeError as exc:
                raise ValueError(
                    f"the {name} encoder's state {sorted(entry)} does not fit it: {exc}"
                ) from None
        return cls(encoders)


def _numbers(values: list, name: str, what: str) -> np.ndarray:
    out = np.empty(len(values), dtype=np.float64)
    for r, v in enumerate(values):
        if v is None or (isinstance(v, str) and not v.strip()):
            out[r] = np.nan
            continue
        try:
            out[r] = float(v)
        except (TypeError, ValueError):
            raise DataError(
                f"{what}[{r}]: {name} must be a number (or left out: missing), got {v!r}"
            ) from None
        if math.isinf(out[r]):
            raise DataError(f"{what}[{r}]: {name} is {v!r}; give a finite number, or leave it out (missing)")
    return out
