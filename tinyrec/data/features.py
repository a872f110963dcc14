"""Feature tables: typed per-user and per-item columns, aligned with the dense ids.

:class:`Interactions` keeps its side information in two :class:`FeatureTable` objects,
``user_meta`` (one row per dense user) and ``item_meta`` (one row per dense item). Both are shared,
not copied, by :meth:`~Interactions.subset` and so by every split: dense user ``u`` has the same
features in train and in test. A table is a read-only mapping ``name -> (n_rows,) array`` (so
``data.item_meta["title"][i]`` reads as it always did) whose columns also have a **kind**:

=============  =========================================  ==========================================
kind           values                                     missing (the documented rule)
=============  =========================================  ==========================================
categorical    one value per row: a string or an integer  ``""`` / ``None`` / NaN: the encoder's
               code (gender, occupation, zip code)        "unknown" slot, as a category unseen in
                                                          training
multi_hot      several values per row, joined by ``sep``  ``""``: an empty bag (the field adds
               in one string (``"Action|Comedy"``)        nothing); an unknown value: the
                                                          "unknown" slot
numeric        a number per row (age, release year)       NaN: the training mean (``inf`` is an
                                                          error, not a missing value)
text           free text (titles): shown, never encoded   —
=============  =========================================  ==========================================

A column may also carry a hint of how to encode it (``encoding="bucket"`` with ``edges`` for
MovieLens ages, ``"hash"`` for zip codes); :mod:`tinyrec.data.encoders` turns the columns into model
inputs, fitted on the training rows only. Every fill is counted: encoding reports how many values
of each column it filled (:class:`~tinyrec.data.encoders.FeatureEncoder`), and reading a feature
file reports the ids it filled or dropped (:class:`AlignmentReport`).

Kinds given as a dict (``Interactions(..., user_meta={"age": ages})``) are inferred by one rule:
a column of numbers is numeric, a column of text is categorical, or multi_hot when some value holds
the separator ``"|"``. Declare them instead with :meth:`FeatureTable.from_arrays`'s ``kinds=``
(or a :class:`Column`), as the loaders do.
"""

from __future__ import annotations

import csv
import io
import math
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from ..errors import ArgumentTypeError, DataError, DTypeError, NonFiniteError, ShapeError

__all__ = [
    "KINDS",
    "MISSING_TEXT",
    "Column",
    "FeatureTable",
    "AlignmentReport",
    "read_feature_file",
    "align_records",
    "is_missing",
]

KINDS = ("categorical", "multi_hot", "numeric", "text")
#: Text values that mean "missing" in a categorical or multi-hot column (compared stripped and
#: lower-cased), and in a numeric column of a file.
#: ("none" is not among them: ML-100K's occupation "none" is a category, not a missing value.)
MISSING_TEXT = frozenset({"", "na", "n/a", "nan", "null"})
_ENCODINGS = ("onehot", "multihot", "standard", "minmax", "bucket", "hash")


@dataclass(frozen=True, eq=False)
class Column:
    """One typed column of a :class:`FeatureTable`.

    Parameters
    ----------
    values : (n_rows,) array
        Numbers for ``numeric`` (NaN where missing), strings or integer codes otherwise.
    kind : {"categorical", "multi_hot", "numeric", "text"}
    sep : str
        The separator of a multi_hot column's values (``"|"``).
    encoding : str, optional
        How to encode it when a model does not say: ``"onehot"``, ``"multihot"``, ``"standard"``,
        ``"minmax"``, ``"bucket"`` (with ``edges``) or ``"hash"`` (with ``buckets``). None: by
        kind (categorical one-hot, multi_hot multi-hot, numeric standardized).
    edges : tuple of float, optional
        Bucket edges for ``encoding="bucket"`` (MovieLens ages: 18, 25, 35, 45, 50, 56).
    buckets : int, optional
        Hash buckets for ``encoding="hash"``.
    """

    values: np.ndarray = field(repr=False)
    kind: str = "categorical"
    sep: str = "|"
    encoding: str | None = None
    edges: tuple | None = None
    buckets: int | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"a column's kind must be one of {KINDS}, got {self.kind!r}")
        if self.encoding is not None and self.encoding not in _ENCODINGS:
            raise ValueError(
                f"a column's encoding must be one of {_ENCODINGS} or None, got {self.encoding!r}"
            )
        if not isinstance(self.sep, str) or not self.sep:
            raise ValueError(f"sep must be a non-empty string such as '|', got {self.sep!r}")
        values = np.array(self.values, copy=True)
        if values.ndim != 1:
            raise ShapeError(f"a column holds one value per row (1-D), got shape {values.shape}")
        if self.kind == "numeric":
            values = _numeric(values)
        values.setflags(write=False)
        object.__setattr__(self, "values", values)
        if self.edges is not None:
            object.__setattr__(self, "edges", tuple(float(e) for e in self.edges))

    def missing(self) -> np.ndarray:
        """``(n_rows,)`` bool: where the value is missing (by the kind's rule above)."""
        return is_missing(self.values, self.kind)

    def take(self, rows) -> Column:
        """The column at ``rows`` (positions or a mask), with the same kind and hints."""
        return Column(self.values[rows], self.kind, self.sep, self.encoding, self.edges, self.buckets)


def _numeric(values: np.ndarray) -> np.ndarray:
    """A numeric column's values: numbers (ints kept as they are, NaN allowed), never inf or text."""
    if values.dtype.kind == "O":  # Python objects: numbers and None (missing)
        try:
            values = np.array([np.nan if v is None else v for v in values.tolist()], dtype=np.float64)
        except (TypeError, ValueError):
            bad = next(v for v in values.tolist() if not isinstance(v, (int, float, type(None))))
            raise DTypeError(
                f"a numeric column holds {bad!r}; numbers only (None or NaN where missing)"
            ) from None
    if values.dtype.kind not in "iuf" or values.dtype.kind == "b":
        example = values[0] if values.size else ""
        raise DTypeError(
            f"a numeric column holds {values.dtype} values (e.g. {example!r}); numbers only (NaN where "
            f"missing): convert the text first, or declare the column categorical"
        )
    if values.dtype.kind == "f" and np.isinf(values).any():
        row = int(np.flatnonzero(np.isinf(values))[0])
        raise NonFiniteError(
            f"a numeric column holds {values[row]} at row {row}; inf is not a missing value (that is NaN): "
            f"fix or drop it"
        )
    return values


def is_missing(values: np.ndarray, kind: str) -> np.ndarray:
    """``(n,)`` bool: the missing entries of ``values`` in a column of ``kind``.

    numeric: NaN. categorical, multi_hot, text: None, NaN, or a string in :data:`MISSING_TEXT`
    (stripped, lower-cased: ``""``, ``"NA"``, ``"n/a"``, ``"nan"``, ``"null"``).
    """
    values = np.asarray(values)
    if values.dtype.kind in "iub":
        return np.zeros(values.shape[0], dtype=bool)
    if values.dtype.kind == "f":
        return np.isnan(values)
    out = np.empty(values.shape[0], dtype=bool)
    for r, v in enumerate(values.tolist()):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            out[r] = True
        else:
            out[r] = kind != "numeric" and str(v).strip().lower() in MISSING_TEXT
    return out


class FeatureTable(Mapping):
    """Typed columns of one row per dense index (users or items): a read-only mapping of arrays.

    ``table["age"]`` is the column's ``(n_rows,)`` array (read-only), ``table.column("age")`` the
    :class:`Column` with its kind; ``len(table)`` counts the columns, ``table.n_rows`` the rows.
    Build one with :meth:`from_arrays` (dense order) or from a file (:func:`read_feature_file`).
    """

    __slots__ = ("_columns", "n_rows")

    def __init__(self, columns: Mapping[str, Column] | None = None, n_rows: int | None = None):
        columns = dict(columns or {})
        for name, col in columns.items():
            if not isinstance(name, str) or not isinstance(col, Column):
                raise TypeError(
                    f"a FeatureTable maps column names (str) to Columns, got {name!r}: {col!r:.60}"
                )
        lengths = {len(col.values) for col in columns.values()}
        if n_rows is None:
            n_rows = lengths.pop() if len(lengths) == 1 else 0
            if lengths:
                raise ShapeError(
                    "the columns of a FeatureTable have different lengths; pass n_rows to say which"
                )
        for name, col in columns.items():
            if len(col.values) != n_rows:
                raise ShapeError(
                    f"column {name!r} has {len(col.values)} rows, the table {n_rows}: one per index"
                )
        self._columns, self.n_rows = columns, int(n_rows)

    @classmethod
    def from_arrays(
        cls, arrays: Mapping | None, n_rows: int | None = None, *, kinds: Mapping | None = None, **hints
    ) -> FeatureTable:
        """A table from ``{name: (n_rows,) array}`` in dense order; an already typed table is kept.

        ``kinds`` maps column names to a kind or a :class:`Column` (its values then ignored, its
        hints kept); other columns get a kind by the rule of the module docstring. ``hints``:
        ``{name: {"encoding": ..., "edges": ...}}`` (keyword-per-column), e.g.
        ``age={"encoding": "bucket", "edges": (18, 25)}``.
        """
        if isinstance(arrays, FeatureTable) and not kinds and not hints:
            return arrays
        kinds = dict(kinds or {})
        columns = {}
        for name, values in dict(arrays or {}).items():
            if isinstance(values, Column):
                columns[str(name)] = values
                continue
            values = np.asarray(values)
            kind = kinds.get(name) or infer_kind(values)
            extra = dict(hints.get(name, {}))
            if isinstance(kind, Column):
                extra = {
                    "sep": kind.sep,
                    "encoding": kind.encoding,
                    "edges": kind.edges,
                    "buckets": kind.buckets,
                }
                kind = kind.kind
            columns[str(name)] = Column(values, kind, **extra)
        unknown = sorted(set(kinds) - set(columns))
        if unknown:
            raise KeyError(f"kinds names columns {unknown} that the table does not have ({sorted(columns)})")
        return cls(columns, n_rows)

    # -- the mapping ------------------------------------------------------------------------------
    def __getitem__(self, name: str) -> np.ndarray:
        return self._columns[name].values

    def __iter__(self):
        return iter(self._columns)

    def __len__(self) -> int:
        return len(self._columns)

    def column(self, name: str) -> Column:
        """The :class:`Column` ``name`` (KeyError naming the columns there are)."""
        if name not in self._columns:
            raise KeyError(f"no feature column {name!r}; the columns are {list(self._columns)}")
        return self._columns[name]

    @property
    def kinds(self) -> dict[str, str]:
        """``{name: kind}`` of every column."""
        return {name: col.kind for name, col in self._columns.items()}

    def take(self, rows) -> FeatureTable:
        """The rows ``rows`` (positions or a boolean mask) of every column, as a new table."""
        rows = np.asarray(rows)
        n = int(rows.sum()) if rows.dtype == bool else len(rows)
        return FeatureTable({name: col.take(rows) for name, col in self._columns.items()}, n)

    def with_columns(self, **columns) -> FeatureTable:
        """A new table with ``columns`` (Columns or arrays, kinds inferred) added or replaced."""
        new = dict(self._columns)
        for name, col in columns.items():
            new[name] = (
                col if isinstance(col, Column) else Column(np.asarray(col), infer_kind(np.asarray(col)))
            )
        return FeatureTable(new, self.n_rows)

    def __eq__(self, other) -> bool:
        if isinstance(other, Mapping) and not other and not self:  # the empty table is {} (as before)
            return True
        return self is other

    __hash__ = None

    def __repr__(self) -> str:
        parts = ", ".join(f"{name}: {col.kind}" for name, col in self._columns.items())
        return f"FeatureTable({self.n_rows:,} rows; {parts or 'no columns'})"


def infer_kind(values: np.ndarray) -> str:
    """The kind of an undeclared column: numbers numeric, text categorical (multi_hot with ``"|"``)."""
    values = np.asarray(values)
    if values.dtype.kind in "iuf":
        return "numeric"
    if values.dtype.kind == "U" and values.size and np.char.find(values, "|").max() >= 0:
        return "multi_hot"
    return "categorical"


# ---------------------------------------------------------------------- feature files
@dataclass
class AlignmentReport:
    """What aligning a feature file (or records keyed by raw id) with a data set's ids did.

    ``n_rows``: rows read; ``matched``: ids of the data found in it; ``filled``: ids of the data
    absent from it (every column missing: filled by the kinds' rules); ``dropped``: rows whose id
    is not in the data (ignored); ``examples``: a few ids of each.
    """

    source: str
    n_rows: int = 0
    matched: int = 0
    filled: int = 0
    dropped: int = 0
    examples: dict = field(default_factory=dict)

    def __str__(self) -> str:
        text = f"{self.source}: {self.n_rows:,} rows, {self.matched:,} ids matched"
        if self.filled:
            example = self.examples["filled"]
            text += f"; {self.filled:,} ids of the data have no row (filled as missing, e.g. {example})"
        if self.dropped:
            text += (
                f"; {self.dropped:,} rows name ids not in the data (dropped, e.g. {self.examples['dropped']})"
            )
        return text


def align_records(
    ids: np.ndarray,
    records: dict,
    kinds: Mapping,
    *,
    source: str = "features",
    missing_ids: str = "fill",
    extra_ids: str = "drop",
    hints: Mapping | None = None,
):
    """Dense-ordered columns from ``records`` (``{raw id: {column: value}}``) for the raw ``ids``.

    Returns ``(FeatureTable, AlignmentReport)``. An id of ``ids`` without a record gets missing
    values (``missing_ids="fill"``, counted and warned about) or a DataError (``"raise"``); a
    record whose id is not in ``ids`` is dropped (``extra_ids="drop"``, counted and warned about)
    or a DataError (``"raise"``). ``kinds``: each column's kind (a :class:`Column` keeps its hints).
    """
    for name, value, choices in (
        ("missing_ids", missing_ids, ("fill", "raise")),
        ("extra_ids", extra_ids, ("drop", "raise")),
    ):
        if value not in choices:
            raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    raw = ids.tolist()
    wanted = set(raw)
    report = AlignmentReport(source, n_rows=len(records))
    extra = [key for key in records if key not in wanted]
    absent = [key for key in raw if key not in records]
    report.matched, report.filled, report.dropped = len(raw) - len(absent), len(absent), len(extra)
    report.examples = {"filled": absent[:3], "dropped": extra[:3]}
    if extra and extra_ids == "raise":
        raise DataError(
            f"{source}: {len(extra):,} rows name ids not in the data (e.g. {extra[:3]}); "
            f"remove them, or pass extra_ids='drop' to drop them (counted)"
        )
    if absent and missing_ids == "raise":
        raise DataError(
            f"{source}: {len(absent):,} ids of the data have no row (e.g. {absent[:3]}); add "
            f"them, or pass missing_ids='fill' to treat their features as missing (counted)"
        )
    if extra or absent:
        warnings.warn(str(report), UserWarning, stacklevel=3)
    columns = {}
    for name, kind in kinds.items():
        column_kind = kind.kind if isinstance(kind, Column) else kind
        values = [records[key].get(name) if key in records else None for key in raw]
        if column_kind == "numeric":
            values = _parse_numbers(values, name, source)
        else:
            values = np.array(["" if v is None else str(v) for v in values], dtype=str)
        extra_hints = dict((hints or {}).get(name, {}))
        if isinstance(kind, Column):
            extra_hints = {
                "sep": kind.sep,
                "encoding": kind.encoding,
                "edges": kind.edges,
                "buckets": kind.buckets,
            }
        columns[name] = Column(values, column_kind, **extra_hints)
    return FeatureTable(columns, len(raw)), report


def _parse_numbers(values: list, name: str, source: str, rows: list | None = None) -> np.ndarray:
    """Numbers from file text: missing markers become NaN; text raises, naming the value and row."""
    out = np.empty(len(values), dtype=np.float64)
    for r, v in enumerate(values):
        if v is None or (isinstance(v, str) and v.strip().lower() in MISSING_TEXT):
            out[r] = np.nan
            continue
        try:
            out[r] = float(v)
        except (TypeError, ValueError):
            where = f"line {rows[r]}" if rows is not None else f"row {r}"
            raise DataError(
                f"{source}: column {name!r} is numeric but holds the text {v!r} ({where}); fix the value, "
                f"leave it empty (missing: filled with the training mean), or declare the column categorical"
            ) from None
        if math.isinf(out[r]):
            raise NonFiniteError(
                f"{source}: column {name!r} holds {v!r}; inf is not a missing value (that is "
                f"an empty field): fix or drop it"
            )
    return out


def read_feature_file(
    path,
    ids: np.ndarray,
    *,
    id_column=0,
    sep: str = ",",
    kinds: Mapping | None = None,
    missing_ids: str = "fill",
    extra_ids: str = "drop",
    encoding: str = "utf-8",
):
    """Read a feature file (a header line, then one row per raw id) aligned with the raw ``ids``.

    Parameters
    ----------
    path : str or path-like
        A delimited text file whose first line names the columns (``user_id,age,gender``).
    ids : (n_rows,) array
        The raw ids of the data, in dense order (``data.user_ids``): the table's rows follow them.
        A file id is compared as text with them (``"7"`` matches the integer id 7).
    id_column : int or str
        The column holding the raw id (a 0-based index or its header name).
    sep : str
    kinds : dict of str -> kind or Column, optional
        The kind of some columns; the others by the rule: a column whose every non-missing value
        is a number is numeric, a text column categorical, multi_hot when a value holds ``"|"``.
        A column declared numeric that holds text is a DataError naming the value and its line.
    missing_ids, extra_ids : see :func:`align_records`.

    Returns
    -------
    (FeatureTable, AlignmentReport)

    Raises
    ------
    DataError
        Missing or empty file, no header, a repeated id, a line with another number of fields, a
        numeric column holding text.
    """
    path = os.fspath(path)
    source = os.path.basename(path)
    if not os.path.isfile(path):
        raise DataError(f"{path}: no such feature file")
    try:
        with open(path, encoding=encoding, newline="") as fh:
            text = fh.read()
    except UnicodeDecodeError as exc:
        raise DataError(f"{source}: not valid {encoding} text ({exc.reason}); pass encoding=") from None
    lines = (
        list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=sep))
        if len(sep) == 1
        else [line.split(sep) for line in text.splitlines()]
    )
    lines = [(k + 1, row) for k, row in enumerate(lines) if row and row != [""]]
    if len(lines) < 2:
        raise DataError(f"{source}: a feature file needs a header line and at least one row")
    names = [n.strip() for n in lines[0][1]]
    key = names.index(id_column) if isinstance(id_column, str) and id_column in names else id_column
    if not isinstance(key, int) or not 0 <= key < len(names):
        raise DataError(f"{source}: no id column {id_column!r}; the header has {names}")
    if kinds is not None and not isinstance(kinds, Mapping):
        raise ArgumentTypeError(f"kinds must be a dict {{column: kind}}, got {type(kinds).__name__}")
    text_ids = {str(raw): raw for raw in ids.tolist()}
    records, line_of, kinds = {}, {}, dict(kinds or {})
    for number, row in lines[1:]:
        if len(row) != len(names):
            raise DataError(f"{source}, line {number}: {len(row)} fields, but the header names {len(names)}")
        raw = text_ids.get(row[key].strip(), row[key].strip())
        if raw in records:
            raise DataError(
                f"{source}, line {number}: the id {raw!r} has a row already (line "
                f"{line_of[raw]}); one row per id"
            )
        records[raw] = {n: v.strip() for n, v in zip(names, row, strict=True)}
        line_of[raw] = number
    columns = [n for j, n in enumerate(names) if j != key]
    unknown = sorted(set(kinds) - set(columns))
    if unknown:
        raise KeyError(f"{source}: kinds names columns {unknown} that the file does not have ({columns})")
    for name in columns:
        if name not in kinds:
            kinds[name] = _infer_text_kind([r[name] for r in records.values()], name, source, line_of)
        elif (kinds[name].kind if isinstance(kinds[name], Column) else kinds[name]) == "numeric":
            file_rows = list(records)
            _parse_numbers(
                [records[r][name] for r in file_rows], name, source, [line_of[r] for r in file_rows]
            )
    return align_records(ids, records, kinds, source=source, missing_ids=missing_ids, extra_ids=extra_ids)


def _infer_text_kind(values: list[str], name: str, source: str, line_of: dict) -> str:
    """The kind of a file column: numeric when every non-missing value parses, categorical or
    multi_hot when none does; a DataError when most do and a few do not (a typo, not a category)."""
    present = [v for v in values if v.strip().lower() not in MISSING_TEXT]
    numbers = [v for v in present if _is_number(v)]
    if present and len(numbers) == len(present):
        return "numeric"
    if numbers and len(numbers) >= 0.9 * len(present):
        bad = next(v for v in present if not _is_number(v))
        raise DataError(
            f"{source}: column {name!r} holds numbers and the text {bad!r}; fix the value, leave it empty "
            f"(missing), or declare the column's kind (kinds={{{name!r}: 'categorical'}})"
        )
    return "multi_hot" if any("|" in v for v in present) else "categorical"


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False
