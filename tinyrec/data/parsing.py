"""Reading ratings files: the fast numeric table reader and :func:`from_csv`.

Numeric columns are parsed from the raw bytes by the :func:`tinyrec.kernels.parse.parse_fields`
kernel (one pass, no Python object per field). A malformed line raises
:class:`~tinyrec.errors.DataError` naming the file and the 1-based line number.
"""

from __future__ import annotations

import csv
import io
import os

import numpy as np

from ..errors import DataError
from ..kernels.parse import parse_fields
from .interactions import Interactions

__all__ = ["read_numeric_table", "from_csv"]


def _split_header(raw: bytes) -> tuple[bytes, bytes]:
    cut = raw.find(b"\n")
    if cut < 0:
        return raw, b""
    return raw[:cut].rstrip(b"\r"), raw[cut + 1 :]


def read_numeric_table(
    raw: bytes, *, sep: str, n_fields: int | None, columns, source: str, first_line: int = 1
) -> np.ndarray:
    """Parse the numeric ``columns`` of delimited text ``raw``.

    Parameters
    ----------
    raw : bytes
        File contents without the header line.
    sep : str
        Field separator (``","``, ``"\\t"``, ``"::"``, ...).
    n_fields : int or None
        Fields per line; ``None`` counts them on the first non-empty line.
    columns : sequence of int
        The 0-based fields to parse, in output order; other fields are skipped unparsed.
    source : str
        File name used in error messages.
    first_line : int
        The 1-based line number of ``raw``'s first line in the file (2 after a header).

    Returns
    -------
    values : (n_rows, len(columns)) float64
    """
    sep_bytes = np.frombuffer(sep.encode("utf-8"), dtype=np.uint8)
    if len(sep_bytes) == 0:
        raise ValueError("sep must not be empty")
    if n_fields is None:
        stripped = raw.lstrip(b"\r\n")
        first = stripped.split(b"\n", 1)[0].rstrip(b"\r")
        n_fields = first.count(sep.encode("utf-8")) + 1 if first else 0
    columns = [int(c) for c in columns]
    if n_fields == 0:
        raise DataError(f"{source}: no data lines (the file is empty)")
    for c in columns:
        if not 0 <= c < n_fields:
            raise DataError(f"{source}: column {c} requested but the lines have {n_fields} fields")
    out_col = np.full(n_fields, -1, dtype=np.int64)
    for j, c in enumerate(columns):
        out_col[c] = j
    buf = np.frombuffer(raw, dtype=np.uint8)
    values, bad_line, bad_field = parse_fields(buf, sep_bytes, n_fields, out_col)
    if bad_line >= 0:
        lines = raw.split(b"\n", bad_line + 1)
        text = lines[bad_line].rstrip(b"\r").decode("utf-8", errors="replace")[:120]
        raise DataError(
            f"{source}, line {first_line + bad_line}: malformed (expected {n_fields} numeric fields "
            f"separated by {sep!r}; field {bad_field + 1} is wrong): {text!r}"
        )
    if values.shape[0] == 0:
        raise DataError(f"{source}: no data lines (the file is empty)")
    return values


def as_int_ids(column: np.ndarray, source: str, what: str) -> np.ndarray:
    """Float64 values parsed from a file as int64 ids; non-integers raise naming the first bad row."""
    ids = column.astype(np.int64)
    bad = ids != column
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(f"{source}: {what} ids must be integers; data row {row + 1} has {column[row]!r}")
    return ids


def _resolve_column(spec, names: list[str] | None, role: str, source: str):
    if spec is None:
        return None
    if isinstance(spec, str):
        if names is None:
            raise ValueError(f"{role}={spec!r} names a column, but the file has no header; pass an index")
        if spec not in names:
            raise DataError(f"{source}: no column named {spec!r} for {role}; the header has {names}")
        return names.index(spec)
    return int(spec)


def from_csv(
    path,
    *,
    user=0,
    item=1,
    rating=2,
    timestamp=None,
    sep: str = ",",
    header="infer",
    string_ids: bool = False,
    encoding: str = "utf-8",
) -> Interactions:
    """Load any delimited ratings file as :class:`Interactions`.

    Parameters
    ----------
    path : str or path-like
    user, item, rating, timestamp : int or str or None
        The column of each role: a 0-based index, or a header name. ``rating=None`` gives
        implicit feedback (all ones); ``timestamp=None`` gives no timestamps.
    sep : str
        The separator (several characters allowed, e.g. ``"::"``).
    header : {"infer", True, False}
        Whether the first line holds column names. ``"infer"``: yes when one of the user / item
        fields on the first line is not a number.
    string_ids : bool
        ``False`` (default): every used column is numeric and is parsed by the fast byte-level
        kernel; user and item ids must be integers. ``True``: user and item ids are read as
        strings with Python's ``csv`` module (quoted fields allowed; slower).
    encoding : str
        Text encoding, used for the header and for string ids.

    Returns
    -------
    Interactions
        Dense indices follow the sorted distinct raw ids (``data.user_ids``, ``data.item_ids``).

    Raises
    ------
    DataError
        Missing file, empty file, a malformed line (the message names the file and line number),
        an unknown column name.
    NonFiniteError
        A NaN or inf rating.
    """
    path = os.fspath(path)
    source = os.path.basename(path)
    if not os.path.isfile(path):
        raise DataError(f"{path}: no such file")
    with open(path, "rb") as fh:
        raw = fh.read()
    first, rest = _split_header(raw)
    first_fields = first.decode(encoding, errors="replace").split(sep)
    if header == "infer":
        probe = [first_fields[c] for c in (user, item) if isinstance(c, int) and c < len(first_fields)]
        header = any(isinstance(c, str) for c in (user, item)) or any(not _is_number(f) for f in probe)
    names = [f.strip().strip('"') for f in first_fields] if header else None
    body, first_line = (rest, 2) if header else (raw, 1)
    cols = [
        _resolve_column(c, names, r, source)
        for c, r in ((user, "user"), (item, "item"), (rating, "rating"), (timestamp, "timestamp"))
    ]
    if cols[0] is None or cols[1] is None:
        raise ValueError("user and item columns are required")
    if string_ids:
        return _from_csv_strings(body, cols, sep, encoding, source, first_line)
    used = [c for c in cols if c is not None]
    values = read_numeric_table(
        body, sep=sep, n_fields=None, columns=used, source=source, first_line=first_line
    )
    pos = {c: j for j, c in enumerate(used)}
    users = as_int_ids(values[:, pos[cols[0]]], source, "user")
    items = as_int_ids(values[:, pos[cols[1]]], source, "item")
    ratings = None if cols[2] is None else values[:, pos[cols[2]]]
    stamps = None if cols[3] is None else as_int_ids(values[:, pos[cols[3]]], source, "timestamp")
    return Interactions.from_raw(users, items, ratings, stamps, info={"name": source})


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _from_csv_strings(body: bytes, cols, sep: str, encoding: str, source: str, first_line: int):
    text = body.decode(encoding)
    if len(sep) == 1:
        rows = csv.reader(io.StringIO(text), delimiter=sep)
    else:
        rows = (line.split(sep) for line in text.splitlines())
    users, items, ratings, stamps = [], [], [], []
    width = max(c for c in cols if c is not None) + 1
    for k, fields in enumerate(rows):
        if not fields or fields == [""]:
            continue
        if len(fields) < width:
            raise DataError(
                f"{source}, line {first_line + k}: {len(fields)} fields, expected at least {width}"
            )
        users.append(fields[cols[0]])
        items.append(fields[cols[1]])
        try:
            if cols[2] is not None:
                ratings.append(float(fields[cols[2]]))
            if cols[3] is not None:
                stamps.append(int(fields[cols[3]]))
        except ValueError as exc:
            raise DataError(f"{source}, line {first_line + k}: malformed number ({exc})") from None
    if not users:
        raise DataError(f"{source}: no data lines (the file is empty)")
    return Interactions.from_raw(
        np.array(users),
        np.array(items),
        None if cols[2] is None else np.array(ratings),
        None if cols[3] is None else np.array(stamps, dtype=np.int64),
        info={"name": source},
    )
