"""Reading ratings files: the fast numeric table reader and :func:`from_csv`.

Numeric columns are parsed from the raw bytes by the :func:`tinyrec.kernels.parse.parse_fields`
kernel (one pass, no Python object per field). A malformed line raises
:class:`~tinyrec.errors.DataError` naming the file and the 1-based line number.

The kernel parses every number as float64, which holds each integer below 2**53 exactly; an id
or timestamp at or beyond it could be rounded into its neighbour, so :func:`as_int_ids` refuses
it instead of merging two ids.
"""

from __future__ import annotations

import codecs
import csv
import io
import os

import numpy as np

from ..errors import ArgumentTypeError, DataError
from ..kernels.parse import parse_fields
from ..validation import check_int
from .features import read_feature_file
from .interactions import Interactions

__all__ = ["read_numeric_table", "from_csv"]


class _TextReaderNeeded(DataError):
    """The numeric reader met what the text reader (``string_ids=True``) reads: an id that is not a
    decimal integer below 2**53, or a quoted field. ``from_csv(..., string_ids="auto")`` then reads
    the file again as text; to every other caller it is a DataError like the rest."""


def _split_header(raw: bytes) -> tuple[bytes, bytes]:
    cut = raw.find(b"\n")
    if cut < 0:
        return raw, b""
    return raw[:cut].rstrip(b"\r"), raw[cut + 1 :]


def read_numeric_table(
    raw: bytes,
    *,
    sep: str,
    n_fields: int | None,
    columns,
    source: str,
    first_line: int = 1,
    text_fixes: dict[int, str] | None = None,
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
    text_fixes : dict of int to str, optional
        Field index -> the fix to name when that field of a malformed line holds text that is not
        a number (:func:`from_csv` names ``string_ids=True`` for its id columns).

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
        hint = ""
        fields = text.split(sep)
        field = fields[bad_field].strip() if 0 <= bad_field < len(fields) else ""
        needs_text = '"' in text or (not _is_number(field) and bad_field in (text_fixes or {}))
        if '"' in text:
            hint = (
                "; quoted fields are not read by the fast numeric reader: remove the quotes, or "
                "pass string_ids=True (Python's csv module, which reads quotes)"
            )
        elif bad_field < len(fields) and not field:
            hint = f"; field {bad_field + 1} is empty"
        elif not _is_number(field) and bad_field in (text_fixes or {}):
            hint = f"; field {bad_field + 1} ({field!r}) is not a number: {text_fixes[bad_field]}"
        raise (_TextReaderNeeded if needs_text else DataError)(
            f"{source}, line {first_line + bad_line}: malformed (expected {n_fields} numeric fields "
            f"separated by {sep!r}; field {bad_field + 1} is wrong): {text!r}{hint}"
        )
    if values.shape[0] == 0:
        raise DataError(f"{source}: no data lines (the file is empty)")
    return values


#: The range of a timestamp (stored as int64).
INT64_MIN, INT64_MAX = int(np.iinfo(np.int64).min), int(np.iinfo(np.int64).max)

#: float64 holds every integer of magnitude below this exactly (and not all of those above).
EXACT_INT_LIMIT = 2**53


_TEXT_IDS_FIX = (
    "the user and item ids (columns {user} and {item}) must be decimal integers, unless read as text "
    "with from_csv(..., string_ids=True)"
)
_STRING_IDS_FIX = (
    "read the file with from_csv(..., string_ids=True), which keeps ids as text and parses "
    "timestamps as exact integers"
)


def as_int_ids(
    column: np.ndarray,
    source: str,
    what: str,
    *,
    raw: bytes | None = None,
    first_line: int = 1,
    too_large_fix: str = _STRING_IDS_FIX,
) -> np.ndarray:
    """Float64 values parsed from a file as int64 ids (or timestamps).

    Raises :class:`DataError` on the first non-integer, and on the first value of magnitude
    ``>= 2**53``, which the float64 parse may have rounded (two distinct ids would merge); that
    message ends with ``too_large_fix`` (a data set loader says to re-download instead). Pass
    the ``raw`` bytes given to :func:`read_numeric_table` (and its ``first_line``) to have the
    message name the file's line; otherwise it names the data row.
    """
    name = what if what == "timestamp" else f"{what} id"  # "user id", "timestamp"
    error = DataError if what == "timestamp" else _TextReaderNeeded  # text ids read any id exactly
    too_large = ~(np.abs(column) < EXACT_INT_LIMIT)  # also true for inf
    if too_large.any():
        row = int(np.flatnonzero(too_large)[0])
        raise error(
            f"{source}, {_locate(raw, row, first_line)}: the {name} is too large to be read exactly "
            f"(magnitude >= 2**53); {too_large_fix}"
        )
    ids = column.astype(np.int64)
    bad = ids != column
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        where = _locate(raw, row, first_line)
        raise error(f"{source}, {where}: {name}s must be integers, got {float(column[row])!r}")
    return ids


def _locate(raw: bytes | None, row: int, first_line: int) -> str:
    """Where data row ``row`` is: ``"line N: 'text'"`` from ``raw`` (the kernel skips empty lines)."""
    if raw is None:
        return f"data row {row + 1}"
    seen = -1
    for k, line in enumerate(raw.split(b"\n")):
        line = line.rstrip(b"\r")
        if line:
            seen += 1
            if seen == row:
                return f"line {first_line + k}: {line.decode('utf-8', errors='replace')[:120]!r}"
    return f"data row {row + 1}"


def _check_column(spec, role: str):
    """A column spec: None, a header name, or a 0-based index (not a bool, not negative)."""
    if spec is None or isinstance(spec, str):
        return spec
    message = f"{role} must be a 0-based column index (int >= 0) or a header name, got {spec!r}"
    try:
        spec = check_int(spec, role)
    except ArgumentTypeError:
        raise ArgumentTypeError(message) from None
    if spec < 0:
        raise ValueError(message)
    return spec


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
    user_features=None,
    item_features=None,
    user_kinds=None,
    item_kinds=None,
    missing_ids: str = "fill",
    extra_ids: str = "drop",
) -> Interactions:
    """Load any delimited ratings file as :class:`Interactions`, and optionally its feature files.

    Parameters
    ----------
    path : str or path-like
    user, item, rating, timestamp : int or str or None
        The column of each role: a 0-based index, or a header name. ``rating=None`` gives
        implicit feedback (all ones); ``timestamp=None`` gives no timestamps.
    sep : str
        The separator, non-empty (several characters allowed, e.g. ``"::"``).
    header : {"infer", True, False}
        Whether the first line holds column names (no other value is accepted). ``"infer"``:
        yes when a column is given by name; otherwise, with numeric ids, when the first line's
        user and item fields are both names (text that is not a number; an empty field is not a
        name); with ``string_ids=True`` (where ids tell nothing), when its rating and timestamp
        fields (those used) are names, and an error asking for ``header=`` when there is neither
        column. So a line with a used field that parses, or is empty, is never taken for a header
        (and dropped): it is read as data, and a malformed one is reported by line number. A file
        whose only line was taken for a header is reported as such, with the fix.
    string_ids : bool or "auto"
        ``False`` (default): every used column is numeric and is parsed by the fast byte-level
        kernel; user and item ids must be integers of magnitude below 2**53, and fields must
        not be quoted. ``True``: user and item ids are read as strings with Python's ``csv``
        module (quoted fields allowed; slower). ``"auto"``: ``False`` first, then ``True`` when
        that fails on an id that is not a decimal integer below 2**53 (``"alice"``, ``"tt0114709"``,
        ``"1.5"``) or on a quoted field; then *every* id is text (``"42"``, not 42), so check
        ``data.user_ids.dtype`` if it matters (``tinyrec train --data FILE`` reads this way and
        says which it chose).
    encoding : str
        Text encoding of the file, ASCII-compatible (``"utf-8"``, ``"latin-1"``, ``"cp1252"``,
        ...), used for the header and for string ids. A leading UTF-8 byte-order mark is ignored.
    user_features, item_features : str or path-like, optional
        A feature file of the users / items: a header line naming the columns, then one row per
        raw id, the id in the first column, separated by ``sep`` (``user_id,age,gender``). Read by
        :func:`tinyrec.data.features.read_feature_file` into ``data.user_meta`` /
        ``data.item_meta``, one row per dense index; its report (ids matched, filled, dropped) is
        ``data.info["user_features"]`` / ``["item_features"]``.
    user_kinds, item_kinds : dict of str -> kind, optional
        The kind of some feature columns (``{"zip": "categorical", "tags": "multi_hot"}``); the
        others by the rule of :mod:`tinyrec.data.features` (numbers numeric, text categorical,
        multi_hot with ``"|"``). A column declared numeric that holds text raises DataError.
    missing_ids : {"fill", "raise"}
        A user (item) of the ratings without a row in its feature file: its features are missing
        (filled by the kinds' rules, counted and warned about), or a DataError.
    extra_ids : {"drop", "raise"}
        A feature row whose id has no rating: dropped (counted and warned about), or a DataError.

    Returns
    -------
    Interactions
        Dense indices follow the sorted distinct raw ids (``data.user_ids``, ``data.item_ids``).

    Raises
    ------
    DataError
        Missing file, empty file, a malformed line (the message names the file and line number),
        text not in ``encoding``, an id too large to read exactly, a timestamp outside int64, an
        unknown column name.
    ValueError, TypeError
        A bad ``sep``, ``header``, ``encoding`` or column argument (a column that is neither a
        string nor an integer raises :class:`~tinyrec.errors.ArgumentTypeError`, both at once).
    NonFiniteError
        A NaN or inf rating.
    """
    if not isinstance(sep, str) or not sep or "\n" in sep or "\r" in sep:
        raise ValueError(
            f"sep must be a non-empty string without line breaks, such as ',' or '\\t'; got {sep!r}"
        )
    if header is None:  # pandas spells "no header" header=None
        header = False
    if not (isinstance(header, (bool, np.bool_)) or (isinstance(header, str) and header == "infer")):
        raise ValueError(f"header must be 'infer', True or False (None means False), got {header!r}")
    features = {"user_features": user_features, "item_features": item_features, "user_kinds": user_kinds,
                "item_kinds": item_kinds, "missing_ids": missing_ids, "extra_ids": extra_ids}  # fmt: skip
    if user_features is not None or item_features is not None:
        roles = {"user": user, "item": item, "rating": rating, "timestamp": timestamp}
        data = from_csv(path, **roles, sep=sep, header=header, string_ids=string_ids, encoding=encoding)
        return _with_feature_files(data, sep=sep, encoding=encoding, **features)
    if isinstance(string_ids, str) and string_ids == "auto":
        args = {"user": user, "item": item, "rating": rating, "timestamp": timestamp, "sep": sep,
                "header": header, "encoding": encoding}  # fmt: skip
        try:
            return from_csv(path, string_ids=False, **args)
        except _TextReaderNeeded:
            return from_csv(path, string_ids=True, **args)
    if not isinstance(string_ids, (bool, np.bool_)):
        raise ArgumentTypeError(f"string_ids must be True, False or 'auto', got {string_ids!r}")
    string_ids = bool(string_ids)
    _check_encoding(encoding)
    user, item, rating, timestamp = (
        _check_column(c, r)
        for c, r in ((user, "user"), (item, "item"), (rating, "rating"), (timestamp, "timestamp"))
    )
    if user is None or item is None:
        raise ValueError("user and item columns are required")
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or a pathlib.Path to the file, got {type(path).__name__}")
    path = os.fspath(path)
    source = os.path.basename(path)
    if not os.path.isfile(path):
        raise DataError(f"{path}: no such file")
    with open(path, "rb") as fh:
        raw = fh.read()
    raw = raw.removeprefix(codecs.BOM_UTF8)  # a byte-order mark is not part of the first field
    first, rest = _split_header(raw)
    if header == "infer":
        # only "is it a number?" matters here, so undecodable bytes may stay replaced
        probe = _split_fields(first.decode(encoding, errors="replace"), sep, source)
        header = _infer_header(probe, user, item, rating, timestamp, string_ids, source)
    names = None
    if header and any(isinstance(c, str) for c in (user, item, rating, timestamp)):
        fields = _split_fields(_decode(first, encoding, source, 1), sep, source)
        names = [f.strip().strip('"') for f in fields]
    body, first_line = (rest, 2) if header else (raw, 1)
    cols = [
        _resolve_column(c, names, r, source)
        for c, r in ((user, "user"), (item, "item"), (rating, "rating"), (timestamp, "timestamp"))
    ]
    used = [c for c in cols if c is not None]  # column indices now, names resolved
    if len(set(used)) != len(used):
        raise ValueError(
            f"one column is used for two roles (user={user!r}, item={item!r}, rating={rating!r}, "
            f"timestamp={timestamp!r}); give each role its own column"
        )
    if header and not body.strip():
        raise DataError(
            f"{source}: no data lines (the file is empty after its header line "
            f"{first.decode(encoding, errors='replace')[:80]!r}); if that line is data, pass header=False"
        )
    if string_ids:
        return _from_csv_strings(body, cols, sep, encoding, source, first_line)
    id_fix = _TEXT_IDS_FIX.format(user=cols[0], item=cols[1])
    values = read_numeric_table(
        body, sep=sep, n_fields=None, columns=used, source=source, first_line=first_line,
        text_fixes={cols[0]: id_fix, cols[1]: id_fix},
    )  # fmt: skip
    pos = {c: j for j, c in enumerate(used)}
    where = {"raw": body, "first_line": first_line}  # lets errors name the file's line
    users = as_int_ids(values[:, pos[cols[0]]], source, "user", **where)
    items = as_int_ids(values[:, pos[cols[1]]], source, "item", **where)
    ratings = None if cols[2] is None else values[:, pos[cols[2]]]
    stamps = None if cols[3] is None else as_int_ids(values[:, pos[cols[3]]], source, "timestamp", **where)
    return Interactions.from_raw(users, items, ratings, stamps, info={"name": source})


def _with_feature_files(data: Interactions, *, sep, encoding, user_features, item_features, user_kinds,
                        item_kinds, missing_ids, extra_ids) -> Interactions:  # fmt: skip
    """``data`` with its users' and items' feature files read into ``user_meta`` / ``item_meta``."""
    tables, reports = {}, {}
    for side, path, kinds, ids in (("user", user_features, user_kinds, data.user_ids),
                                   ("item", item_features, item_kinds, data.item_ids)):  # fmt: skip
        if path is None:
            continue
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"{side}_features must be the path of a feature file, got {type(path).__name__}")
        tables[f"{side}_meta"], reports[f"{side}_features"] = read_feature_file(
            path, ids, sep=sep, kinds=kinds, missing_ids=missing_ids, extra_ids=extra_ids, encoding=encoding
        )
    return data.with_meta(**tables).with_info(**reports)


def _check_encoding(encoding) -> None:
    """Refuse unknown encodings, and those the byte-level reader cannot read (UTF-16, ...)."""
    if not isinstance(encoding, str):
        raise TypeError(f"encoding must be a string such as 'utf-8' or 'latin-1', got {encoding!r}")
    try:  # decode, not encode: "utf-8-sig" encodes with a byte-order mark but reads ASCII as ASCII
        ascii_compatible = b"09.,;:|\t\n-".decode(encoding) == "09.,;:|\t\n-"
    except UnicodeDecodeError:
        ascii_compatible = False
    except LookupError:
        raise ValueError(
            f"encoding={encoding!r} is not a known text encoding; use e.g. 'utf-8' or 'latin-1'"
        ) from None
    if not ascii_compatible:
        raise ValueError(
            f"encoding={encoding!r} is not ASCII-compatible, which the numeric reader needs; convert the "
            f"file to UTF-8 first"
        )


def _decode(data: bytes, encoding: str, source: str, first_line: int) -> str:
    """``data.decode(encoding)``; bytes that are not valid text raise naming the file and line."""
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = first_line + data.count(b"\n", 0, exc.start)
        raise DataError(
            f"{source}, line {line}: the bytes {data[exc.start : exc.end]!r} are not valid {encoding}; pass "
            f"the file's encoding, e.g. encoding='latin-1' or 'cp1252'"
        ) from None


def _split_fields(line: str, sep: str, source: str) -> list[str]:
    """The fields of line 1, reading quotes like the csv module when ``sep`` is one character."""
    if len(sep) == 1:
        try:
            return next(csv.reader([line], delimiter=sep), [])
        except csv.Error as exc:
            raise _csv_error(source, 1, exc) from None
    return line.split(sep)


def _csv_error(source: str, line: int, exc: csv.Error) -> DataError:
    """The csv module's complaint, with the likely fix (its own suggests a Python ``open`` flag)."""
    hint = ""
    if "new-line" in str(exc):
        hint = "; a line holds a lone carriage return ('\\r', old Mac line ends): convert line ends to '\\n'"
    return DataError(f"{source}, line {line}: not readable as CSV ({exc}){hint}")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _infer_header(fields: list[str], user, item, rating, timestamp, string_ids: bool, source: str) -> bool:
    """``header="infer"``: is the first line (split into ``fields``) a header? See :func:`from_csv`."""
    if any(isinstance(c, str) for c in (user, item, rating, timestamp)):
        return True  # a column given by name needs a header
    if not string_ids:
        probe = [user, item]  # ids must be numbers: a line whose ids are not is not data
    else:
        probe = [c for c in (rating, timestamp) if c is not None]  # string ids tell nothing
        if not probe:
            raise ValueError(
                f"{source}: with string_ids=True and no rating or timestamp column, header='infer' "
                f"cannot tell whether the first line {','.join(fields)[:80]!r} is a header or data; "
                f"pass header=True or header=False"
            )
    # a header names every probed column; a field missing from a short line is left for the reader
    present = [fields[c].strip().strip('"') for c in probe if c < len(fields)]
    return bool(present) and all(text and not _is_number(text) for text in present)


def _csv_rows(text: str, sep: str, source: str, first_line: int):
    """Yield the fields of each line; the csv module's errors become DataError naming the line."""
    if len(sep) > 1:
        yield from (line.split(sep) for line in text.splitlines())
        return
    reader = csv.reader(io.StringIO(text), delimiter=sep)
    try:
        yield from reader
    except csv.Error as exc:
        raise _csv_error(source, first_line + reader.line_num - 1, exc) from None


def _from_csv_strings(body: bytes, cols, sep: str, encoding: str, source: str, first_line: int):
    text = _decode(body, encoding, source, first_line)
    users, items, ratings, stamps = [], [], [], []
    width = max(c for c in cols if c is not None) + 1
    for k, fields in enumerate(_csv_rows(text, sep, source, first_line)):
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
            stamp = None if cols[3] is None else int(fields[cols[3]])
        except ValueError as exc:
            raise DataError(f"{source}, line {first_line + k}: malformed number ({exc})") from None
        if stamp is not None:
            if not INT64_MIN <= stamp <= INT64_MAX:  # np.array(stamps, dtype=np.int64) would overflow
                raise DataError(
                    f"{source}, line {first_line + k}: the timestamp {stamp} does not fit in int64 "
                    f"(|t| < 2**63); timestamps are integer clocks (e.g. Unix seconds): fix or drop "
                    f"that line"
                )
            stamps.append(stamp)
    if not users:
        raise DataError(f"{source}: no data lines (the file is empty)")
    return Interactions.from_raw(
        np.array(users),
        np.array(items),
        None if cols[2] is None else np.array(ratings),
        None if cols[3] is None else np.array(stamps, dtype=np.int64),
        info={"name": source},
    )
