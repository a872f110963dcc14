"""Cleaning interactions before a split: invalid rows, duplicates, k-core, implicit, centering.

Each step is a function of :class:`Interactions` (or of raw arrays, for :func:`drop_invalid`)
that returns new data and never mutates its input. :func:`preprocess` chains them and returns a
:class:`PreprocessReport` saying how many rows each step removed.

Raw event rows of mixed types (a shop's log: ids as numbers or text, ratings as ``4``, ``"4.0"``,
``" 5 "`` or ``"n/a"``) go through :func:`clean_events` first: it reads the values
(:func:`parse_numbers`, :func:`parse_ids`), drops each row that cannot be used for the first
reason that applies, removes exact and older duplicates, and accounts for every row read in one
:class:`PreprocessReport` (to which :meth:`PreprocessReport.add_features` adds the feature values
that will be filled).
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from ..errors import ArgumentTypeError, DataError, ShapeError
from ..validation import check_bool, check_index_array, check_int_at_least
from .encoders import ENCODERS, parse_request
from .features import MISSING_TEXT, FeatureTable
from .interactions import Interactions

__all__ = [
    "PreprocessReport",
    "Parsed",
    "parse_numbers",
    "parse_ids",
    "clean_events",
    "drop_invalid",
    "drop_duplicates",
    "k_core",
    "to_implicit",
    "center_by_user",
    "uncenter",
    "reindex",
    "preprocess",
]


@dataclass
class PreprocessReport:
    """Rows removed by each step, in order: ``steps = [(name, n_before, n_after), ...]``.

    ``notes`` are ``(what, count)`` lines about values that were converted or will be filled, with
    no row removed (ratings read from text; a feature column's missing values and the rule that
    fills them, :meth:`add_features`). A report counts every row: ``rows_in − Σ removed ==
    rows_out`` (:meth:`check_counts`).
    """

    steps: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    def add(self, name: str, before: int, after: int) -> None:
        self.steps.append((name, int(before), int(after)))

    def note(self, what: str, count: int) -> None:
        self.notes.append((what, int(count)))

    def removed(self, name: str) -> int:
        """Rows removed by the step ``name`` (0 when it did not run)."""
        return sum(b - a for n, b, a in self.steps if n == name)

    @property
    def rows_in(self) -> int:
        """Rows before the first step (0 without steps)."""
        return self.steps[0][1] if self.steps else 0

    @property
    def rows_out(self) -> int:
        """Rows after the last step."""
        return self.steps[-1][2] if self.steps else 0

    def check_counts(self) -> None:
        """Raise DataError unless each step starts where the one before ended and removes no more
        rows than it had, so that ``rows_in − Σ removed == rows_out``."""
        after = self.rows_in
        for name, before, now in self.steps:
            if before != after or now > before:
                raise DataError(
                    f"step {name!r} goes from {before:,} to {now:,} rows after {after:,}: "
                    f"the counts do not add up"
                )
            after = now

    def add_features(self, what: str, table: FeatureTable, alignment=None, *, request="all") -> None:
        """Note the missing values of each encoded column of ``table`` (``what``: "customers") and how
        its encoder fills them, and the ids a feature file did not match (an
        :class:`~tinyrec.data.features.AlignmentReport`).

        The encoder of a column is chosen as a model chooses it (:func:`~tinyrec.data.encoders.parse_request`:
        the column's hint, else its kind's default); ``request`` is the model's ``user_features`` /
        ``item_features`` when it names other encoders (``("age:standard", "gender")``). The fill
        rule is that encoder's own ``fills_missing_with``.
        """
        if not isinstance(table, FeatureTable):
            raise ArgumentTypeError(
                f"add_features takes a FeatureTable (data.user_meta), got {type(table).__name__}"
            )
        if alignment is not None:
            self.note(f"{what}: ids of the data without a row (every column missing)", alignment.filled)
            self.note(f"{what}: rows naming an id not in the data (ignored)", alignment.dropped)
        for name, encoder in parse_request(request, table, what):
            fills = ENCODERS[encoder].fills_missing_with
            self.note(f"{what}: {name} missing, filled with {fills}", table.column(name).missing().sum())

    def __str__(self) -> str:
        width = max([16] + [len(n) for n, _, _ in self.steps])
        lines = [f"{n:<{width}} {b:>12,} -> {a:>12,}  (-{b - a:,})" for n, b, a in self.steps]
        if self.steps:
            removed = self.rows_in - self.rows_out
            lines.append(
                f"{'rows kept':<{width}} {self.rows_out:>12,} = {self.rows_in:,} read - {removed:,} removed"
            )
        return "\n".join(lines + [f"{what}: {count:,}" for what, count in self.notes])


def _check_data(data, func: str) -> None:
    """Refuse anything but an :class:`Interactions` (a list or None would fail deep inside)."""
    if not isinstance(data, Interactions):
        raise TypeError(
            f"{func} expects an Interactions, got {type(data).__name__}; build one with "
            f"Interactions(users, items, ratings) or Interactions.from_raw(...)"
        )


def _missing(a: np.ndarray) -> np.ndarray:
    """Boolean mask of missing entries: NaN/inf for numbers, None/''/'nan' for strings and objects."""
    if a.dtype.kind == "f":
        return ~np.isfinite(a)
    if a.dtype.kind in "iub":
        return np.zeros(a.shape[0], dtype=bool)
    as_text = np.char.strip(np.char.lower(a.astype(str)))
    mask = (as_text == "") | (as_text == "nan") | (as_text == "none")
    if a.dtype.kind == "O":
        mask |= np.array([v is None for v in a.tolist()], dtype=bool)
    return mask


class Parsed(NamedTuple):
    """Raw values read as numbers or ids: ``values`` and, per row, what each raw value was."""

    values: np.ndarray  # (n,) float64 (NaN where not read) or the ids
    missing: np.ndarray  # (n,) bool: None, NaN or a missing marker ("", "n/a", "null", ...)
    unreadable: np.ndarray  # (n,) bool: present, but not a value of this kind ("five", True, inf)
    from_text: np.ndarray  # (n,) bool: read from text (" 5 ", "4.0", "196")


def _raw_column(values, name: str) -> list:
    """``values`` as a list of Python objects, after checking that it is one value per row."""
    array = np.asarray(values, dtype=object)
    if array.ndim != 1:
        raise ShapeError(
            f"{name} must be a 1-D sequence of raw values (one per row), got shape {array.shape}"
        )
    return array.tolist()


def _numeric_array(values, kinds: str) -> np.ndarray | None:
    """``values`` itself when it is a 1-D NumPy array of numbers of ``kinds`` (``"iuf"``, ``"iu"``):
    such a column is read in one vectorized pass. None for anything else (a list, an object array
    of raw Python values), read one value at a time (a list is not converted: NumPy would read
    ``True`` as 1)."""
    array = values if isinstance(values, np.ndarray) else None
    if array is None or array.ndim != 1 or array.dtype.kind not in kinds:
        return None
    if array.dtype.kind == "u" and array.size and array.max() >= 2**63:  # beyond int64: one by one
        return None
    return array


def _is_missing_value(v) -> bool:
    return (
        v is None
        or (isinstance(v, float) and math.isnan(v))
        or (isinstance(v, str) and v.strip().lower() in MISSING_TEXT)
    )


def parse_numbers(values, name: str = "values") -> Parsed:
    """Read raw values of mixed types as numbers: ``4``, ``4.0``, ``"4"``, ``" 4.0 "`` are all 4.0.

    A value is *missing* when it is None, NaN or a missing marker (:data:`MISSING_TEXT`: ``""``,
    ``"n/a"``, ``"null"``, ... stripped and lower-cased); *unreadable* when it is present but not a
    finite number: text that does not parse (``"five"``, ``"4 stars"``), a bool, inf, a list, an
    integer beyond a float's range (``10**400``). Both give NaN in ``values``; nothing is raised for
    a bad value, every one is flagged. A NumPy array of numbers is read in one vectorized pass, to
    the same result.

    Returns
    -------
    Parsed
        ``values`` (n,) float64; ``missing``, ``unreadable``, ``from_text`` (n,) bool masks.

    Raises
    ------
    ShapeError
        ``values`` is not one value per row (1-D).
    """
    array = _numeric_array(values, "iuf")
    if array is not None:  # already numbers: NaN is missing, inf unreadable, nothing from text
        out = array.astype(np.float64)  # a copy: the caller's array is left as it is
        missing, unreadable = np.isnan(out), np.isinf(out)
        out[unreadable] = np.nan
        return Parsed(out, missing, unreadable, np.zeros(len(out), dtype=bool))
    raw = _raw_column(values, name)
    out = np.full(len(raw), np.nan)
    missing, unreadable, from_text = (np.zeros(len(raw), dtype=bool) for _ in range(3))
    for r, v in enumerate(raw):
        if _is_missing_value(v):
            missing[r] = True
            continue
        number = _finite_float(v)
        if number is None:
            unreadable[r] = True
        else:
            out[r], from_text[r] = number, isinstance(v, str)
    return Parsed(out, missing, unreadable, from_text)


def _finite_float(v) -> float | None:
    """``v`` as a finite float: a number (not a bool) or numeric text; None for anything else."""
    if isinstance(v, bool | np.bool_) or not isinstance(v, numbers.Real | str):
        return None
    try:
        number = float(v)  # float() strips the spaces around text itself
    except (ValueError, OverflowError):  # "five"; an int beyond a float's range
        return None
    return number if math.isfinite(number) else None


def parse_ids(values, name: str = "ids") -> Parsed:
    """Read raw ids of mixed types, each by itself: what an id is never depends on the other rows.

    The rule: an id that reads as an **integer** is that integer: an int (Python's or NumPy's, not
    a bool), a float holding a whole number (``196.0``), or ASCII integer text with optional
    surrounding spaces, leading zeros and a ``.0`` (``"196"``, ``" 0196 "``, ``"196.0"``). So
    ``196``, ``196.0``, ``"0196"`` and ``" 196 "`` are one id, whatever else the column holds. Any
    other text is an id as its stripped text (``" u7 "`` is ``"u7"``; ``"--5"``, ``"²"`` and
    ``"١٢"`` are text, not numbers).

    ``values`` holds int64 ids when every present id is an integer within int64's range; otherwise
    every id is text, an integer written as its decimal text (``"196"``; ``2**70`` as
    ``"1180591620717411303424"``), so ``"0196"`` and ``196`` are one id in either case. Ids to
    compare with (a catalogue) must be read by this same function, as :func:`clean_events` does.

    Missing ids (None, NaN, a missing marker) are flagged and hold ``-1`` (integers) or ``""``; an
    id is *unreadable* when it is neither text nor a whole number (a bool, 3.5, inf, a list).
    ``from_text`` flags the text read as an integer. Nothing is raised for a bad value. A NumPy
    array of integers within int64 is read in one pass, to the same result.
    """
    array = _numeric_array(values, "iu")
    if array is not None:  # already integers within int64: each is its own id
        none = np.zeros(len(array), dtype=bool)
        return Parsed(array.astype(np.int64), none, none.copy(), none.copy())
    raw = _raw_column(values, name)
    missing = np.array([_is_missing_value(v) for v in raw], dtype=bool)
    read = [None if gone else _canonical_id(v) for v, gone in zip(raw, missing, strict=True)]
    unreadable = np.array([r is None for r in read], dtype=bool) & ~missing
    present = ~(missing | unreadable)
    texts = ["" if r is None else r[0] for r in read]
    integer = np.array([r is not None and r[1] for r in read], dtype=bool)
    from_text = integer & np.array([isinstance(v, str) for v in raw], dtype=bool)
    if all(integer[r] and _fits_int64(texts[r]) for r in np.flatnonzero(present).tolist()):
        ids = np.array([int(t) if ok else -1 for t, ok in zip(texts, present, strict=True)], dtype=np.int64)
    else:
        ids = np.array(texts, dtype=str)
    return Parsed(ids, missing, unreadable, from_text)


def _canonical_id(v) -> tuple[str, bool] | None:
    """``(text, is_integer)``: the id ``v`` stands for (:func:`parse_ids`' rule), None if unreadable."""
    if isinstance(v, str):
        text = v.strip()
        integer = _integer_text(text)
        return (text, False) if integer is None else (integer, True)
    number = _whole_number(v)
    try:
        return None if number is None else (str(number), True)
    except ValueError:  # an int of thousands of digits, which Python refuses to write out
        return None


def _whole_number(v) -> int | None:
    """An int (not a bool), or a float holding a whole number, as a Python int; None otherwise."""
    if isinstance(v, bool | np.bool_) or not isinstance(v, numbers.Real):
        return None
    if isinstance(v, numbers.Integral):
        return int(v)
    return int(v) if math.isfinite(v) and float(v).is_integer() else None


def _integer_text(text: str) -> str | None:
    """The decimal text of ASCII integer text (``"0196"`` -> ``"196"``, ``"-0"`` -> ``"0"``,
    ``"7.00"`` -> ``"7"``), or None when ``text`` is not one (``"--5"``, ``"²"``, ``"1e3"``)."""
    match = re.fullmatch(r"(-?)([0-9]+)(\.0+)?", text)
    if match is None:
        return None
    sign, digits = match.group(1), match.group(2).lstrip("0") or "0"
    return digits if digits == "0" else sign + digits


def _fits_int64(text: str) -> bool:
    """Whether the decimal text of an integer is within int64's range."""
    return len(text) <= 20 and -(2**63) <= int(text) < 2**63


def _read_stamps(values) -> tuple[np.ndarray, np.ndarray]:
    """``(stamps (n,) int64, bad (n,) bool)``: each raw timestamp by :func:`_read_stamp`, 0 where bad
    (an array of integers within int64 in one pass)."""
    array = _numeric_array(values, "iu")
    if array is not None:
        return array.astype(np.int64), np.zeros(len(array), dtype=bool)
    stamps = [_read_stamp(v) for v in _raw_column(values, "timestamps")]
    bad = np.array([s is None for s in stamps], dtype=bool)
    return np.array([0 if s is None else s for s in stamps], dtype=np.int64), bad


def _read_stamp(v) -> int | None:
    """One timestamp as an int within int64, or None (missing, not a whole number, out of range).

    An int and integer text are read exactly, never through float64, whose 53-bit mantissa would
    round a nanosecond stamp (``1_700_000_000_000_000_001``); a float, or decimal text
    (``"1.7e9"``), is accepted when it holds a whole number.
    """
    if isinstance(v, str):
        text = _integer_text(v.strip())
        stamp = int(text) if text is not None and len(text) <= 20 else _whole_number(_finite_float(v))
    else:
        stamp = _whole_number(v)
    return stamp if stamp is not None and -(2**63) <= stamp < 2**63 else None


#: the reasons :func:`clean_events` drops a row for, in the order they are tried
DROP_REASONS = (
    "missing user",
    "unreadable user",
    "missing item",
    "unreadable item",
    "missing rating",
    "unreadable rating",
    "rating out of range",
    "bad timestamp",
    "unknown user",
    "unknown item",
)


def clean_events(
    users,
    items,
    ratings=None,
    timestamps=None,
    *,
    rating_range=None,
    known_users=None,
    known_items=None,
    duplicates: str = "last",
    info=None,
) -> tuple[Interactions, PreprocessReport]:
    """Raw event rows of mixed types to clean :class:`Interactions`, every row accounted for.

    Parameters
    ----------
    users, items : (n,) sequences of raw ids
        Numbers or text, possibly mixed, each read by :func:`parse_ids`' rule (``196``, ``196.0``,
        ``"0196"`` are one id); None / NaN / ``""`` / ``"n/a"`` missing; a bool, 3.5 or a list
        unreadable.
    ratings : (n,) sequence, optional
        Numbers or numeric text (:func:`parse_numbers`). None: implicit events (all 1).
    timestamps : (n,) sequence, optional
        Integers (Unix seconds, or nanoseconds as pandas' datetime64 gives them) or their text,
        read exactly; a float or decimal text holding a whole number. Within int64.
    rating_range : (low, high), optional
        Two numbers; ratings outside ``[low, high]`` are dropped (``"rating out of range"``).
    known_users, known_items : iterables of raw ids (list, set, array), optional
        The catalogue (customers, products): an event naming another id is dropped (``"unknown user"``,
        ``"unknown item"``). Read by :func:`parse_ids` too, so both sides agree (``"0196"`` is 196).
    duplicates : {"last", "first", "mean", "max"}
        How to merge the remaining rows of one (user, item) pair, after exact duplicates are removed:
        :func:`drop_duplicates`'s ``keep``.
    info : dict, optional
        The ``info`` of the result (``{"name": "shop"}``).

    Returns
    -------
    data : Interactions
        Dense indices over the users and items left (no feature tables: align yours with
        ``data.user_ids`` / ``data.item_ids``, e.g. :func:`~tinyrec.data.features.read_feature_file`).
    report : PreprocessReport
        One step per reason of :data:`DROP_REASONS` (each row counted by the first that applies),
        then ``"exact duplicate"`` (rows equal in every field to an earlier one) and ``"older
        duplicate"`` (other rows of a pair, merged by ``duplicates``); notes count the rows kept
        whose rating, or an id, was read from text. ``report.rows_in`` is ``n``,
        ``report.rows_out`` is ``len(data)``.

    Raises
    ------
    ShapeError
        A column is not 1-D or not of ``users``' length.
    ArgumentTypeError
        ``known_users`` / ``known_items`` is not an iterable of ids (a string, a number).
    ValueError
        ``rating_range`` is not two numbers ``low <= high``; ``duplicates`` is not one of its choices.
    DataError
        No row was given, or no row is left (the report's counts are in the message).
    """
    n = _check_columns(users, items, ratings, timestamps)
    if duplicates not in ("last", "first", "mean", "max"):
        raise ValueError(f"duplicates must be 'last', 'first', 'mean' or 'max', got {duplicates!r}")
    u, i = parse_ids(users, "users"), parse_ids(items, "items")
    r = parse_numbers(ratings if ratings is not None else [1.0] * n, "ratings")
    stamps, bad_stamps = _read_stamps(timestamps) if timestamps is not None else (None, np.zeros(n, bool))
    bad = {
        "missing user": u.missing,
        "unreadable user": u.unreadable,
        "missing item": i.missing,
        "unreadable item": i.unreadable,
        "missing rating": r.missing,
        "unreadable rating": r.unreadable,
        "rating out of range": np.zeros(n, dtype=bool),
        "bad timestamp": bad_stamps,
        "unknown user": _unknown(u.values, known_users, "known_users"),
        "unknown item": _unknown(i.values, known_items, "known_items"),
    }
    if rating_range is not None:
        low, high = _range(rating_range)
        bad["rating out of range"] = ~np.isnan(r.values) & ((r.values < low) | (r.values > high))
    report, keep = PreprocessReport(), np.ones(n, dtype=bool)
    for reason in DROP_REASONS:
        before = int(keep.sum())
        keep &= ~bad[reason]
        report.add(reason, before, keep.sum())
    if not keep.any():
        raise DataError(f"clean_events dropped every row:\n{report}")
    rows = np.flatnonzero(keep)  # the positions, in the rows given, of the rows still kept
    data = Interactions.from_raw(
        u.values[rows], i.values[rows], r.values[rows], None if stamps is None else stamps[rows], info=info
    )
    first = _first_of_equal_rows(data)
    report.add("exact duplicate", len(data), len(first))
    data, rows = data.subset(first), rows[first]
    merged, kept = _one_row_per_pair(data, duplicates)
    report.add("older duplicate", len(data), len(merged))
    rows = rows[kept]
    ids_from_text = u.from_text | i.from_text
    report.note('ratings read from text, such as " 5 " (rows not dropped)', r.from_text[rows].sum())
    report.note('ids read from text, such as "196" (rows not dropped)', ids_from_text[rows].sum())
    return merged, report


def _check_columns(users, items, ratings, timestamps) -> int:
    """The number of event rows ``n``, after checking that each column given holds ``n`` values."""
    n = len(_raw_column(users, "users"))
    for name, column in (("items", items), ("ratings", ratings), ("timestamps", timestamps)):
        if column is not None and len(_raw_column(column, name)) != n:
            raise ShapeError(f"{name} has {len(column)} rows but users has {n}; one value per event row")
    if n == 0:
        raise DataError("clean_events: no event rows were given (users is empty); pass the feed's columns")
    return n


def _range(rating_range) -> tuple[float, float]:
    """``(low, high)`` from ``rating_range``: two numbers (not text, not bools) with ``low <= high``."""
    try:
        low, high = rating_range
    except (TypeError, ValueError):
        low = high = None
    two_numbers = all(isinstance(x, numbers.Real) and not isinstance(x, bool | np.bool_) for x in (low, high))
    if not (two_numbers and low <= high):
        raise ValueError(
            f"rating_range must be two numbers (low, high) with low <= high, such as (1, 5); "
            f"got {rating_range!r}"
        )
    return float(low), float(high)


def _unknown(ids: np.ndarray, known, name: str) -> np.ndarray:
    """``(n,)`` bool: the ids not among ``known`` (all False when ``known`` is None).

    Both sides are read by :func:`parse_ids`; when one is text and the other int64, the int64 ids
    are compared as their decimal text, the form :func:`parse_ids` gives an integer in a text column.
    """
    if known is None:
        return np.zeros(len(ids), dtype=bool)
    if isinstance(known, str | bytes) or not isinstance(known, Iterable):
        raise ArgumentTypeError(f"{name} must be a list, set or array of ids, got {type(known).__name__}")
    catalogue = parse_ids(known if isinstance(known, np.ndarray) else list(known), name)
    known = catalogue.values[~(catalogue.missing | catalogue.unreadable)]
    if known.dtype.kind != ids.dtype.kind:  # one side is text: compare the texts
        known, ids = known.astype(str), ids.astype(str)
    return ~np.isin(ids, known)


def _first_of_equal_rows(data: Interactions) -> np.ndarray:
    """Positions of the rows not equal in every field to an earlier row."""
    t = data.timestamps if data.timestamps is not None else np.zeros(len(data), dtype=np.int64)
    keys = np.stack([data.users, data.items, t, data.ratings.astype(np.float64).view(np.int64)], axis=1)
    _, first = np.unique(keys, axis=0, return_index=True)
    return np.sort(first)


def drop_invalid(users, items, ratings=None, timestamps=None):
    """Drop rows with a missing id, a missing or non-finite rating, or a missing timestamp.

    Parameters
    ----------
    users, items : (n,) arrays of raw ids (numbers or strings; NaN / None / "" count as missing)
    ratings : (n,) float array, optional (NaN, inf count as invalid)
    timestamps : (n,) array, optional (NaN counts as missing)

    Returns
    -------
    arrays : dict
        ``{"users", "items", "ratings", "timestamps"}`` without the invalid rows (``None`` where
        the input was ``None``), ready for :meth:`Interactions.from_raw`.
    n_dropped : int
        Rows removed.

    Raises
    ------
    ShapeError
        ``users`` is missing or not 1-D, or another array is not 1-D of the same length.
    DataError
        A float timestamp (left after dropping the missing ones) is fractional or of magnitude
        ``>= 2**63``, so not exactly an int64: convert the clock to integers first.
    """
    cols = {"users": users, "items": items, "ratings": ratings, "timestamps": timestamps}
    cols = {k: (None if v is None else np.asarray(v)) for k, v in cols.items()}
    if cols["users"] is None or cols["users"].ndim != 1:
        shape = None if cols["users"] is None else cols["users"].shape
        raise ShapeError(f"users must be a 1-D array of raw ids (one per row), got shape {shape}")
    n = cols["users"].shape[0]
    for k, v in cols.items():
        if v is not None and (v.ndim != 1 or v.shape[0] != n):
            raise ShapeError(f"{k} has shape {v.shape} but users has length {n}; they must match")
    bad = np.zeros(n, dtype=bool)
    for v in cols.values():
        if v is not None:
            bad |= _missing(v)
    keep = ~bad
    out = {k: (None if v is None else v[keep]) for k, v in cols.items()}
    stamps = out["timestamps"]
    if stamps is not None and stamps.dtype.kind == "f":
        whole = (np.abs(stamps) < 2.0**63) & (stamps == np.round(stamps))  # exact as int64
        if not whole.all():
            raise DataError(
                f"timestamps holds {stamps[~whole][0].item()!r}, not a whole number within int64; timestamps "
                f"are integer clocks (e.g. Unix seconds): convert them first"
            )
        out["timestamps"] = stamps.astype(np.int64)
    return out, int(bad.sum())


def drop_duplicates(data: Interactions, keep: str = "last") -> Interactions:
    """Keep one row per ``(user, item)`` pair.

    Parameters
    ----------
    keep : {"last", "first", "mean", "max"}
        ``"last"``: the latest row (largest timestamp; by position when there are no timestamps,
        or between equal timestamps). ``"first"``: the earliest. ``"mean"`` / ``"max"``: one row
        with the mean / max rating of the pair and its latest timestamp.

    Returns
    -------
    Interactions in the same index space, rows ordered by (user, item).
    """
    _check_data(data, "drop_duplicates")
    if keep not in ("last", "first", "mean", "max"):
        raise ValueError(f"keep must be 'last', 'first', 'mean' or 'max', got {keep!r}")
    return _one_row_per_pair(data, keep)[0]


def _one_row_per_pair(data: Interactions, keep: str) -> tuple[Interactions, np.ndarray]:
    """:func:`drop_duplicates`' result, and the position in ``data`` of the row each of its rows
    comes from (for ``"mean"`` / ``"max"``: the pair's latest row, whose rating is replaced)."""
    t = data.timestamps if data.timestamps is not None else np.zeros(len(data), dtype=np.int64)
    position = np.arange(len(data))
    # order by (user, item, time, position): a pair's rows are consecutive, earliest first
    order = np.lexsort((position, t, data.items, data.users))
    u, i = data.users[order], data.items[order]
    start = np.ones(len(data), dtype=bool)
    start[1:] = (u[1:] != u[:-1]) | (i[1:] != i[:-1])
    first = np.flatnonzero(start)
    last = np.append(first[1:] - 1, len(data) - 1)
    if keep in ("first", "last"):
        rows = order[first if keep == "first" else last]
        return data.subset(rows), rows
    r = data.ratings[order].astype(np.float64)
    if keep == "mean":
        agg = np.add.reduceat(r, first) / (last - first + 1)
    else:
        agg = np.maximum.reduceat(r, first)
    rows = order[last]
    return data.subset(rows).with_ratings(agg), rows


def k_core(
    data: Interactions, min_user: int = 5, min_item: int = 5, *, reindex_ids: bool = True
) -> Interactions:
    """Iterative k-core: repeatedly drop users with < ``min_user`` and items with < ``min_item`` interactions.

    Dropping an item can push a user under the limit and vice versa, so the two filters repeat
    until nothing changes: the result is the largest sub-table in which every user has at least
    ``min_user`` and every item at least ``min_item`` interactions (a fixed point).

    Parameters
    ----------
    reindex_ids : bool
        Renumber the surviving users and items densely (default); otherwise keep the index space.

    Raises
    ------
    DataError
        When nothing survives.
    """
    _check_data(data, "k_core")
    min_user = check_int_at_least(min_user, "min_user", 0)
    min_item = check_int_at_least(min_item, "min_item", 0)
    check_bool(reindex_ids, "reindex_ids")
    keep = np.ones(len(data), dtype=bool)
    while True:
        uc = np.bincount(data.users[keep], minlength=data.n_users)
        ic = np.bincount(data.items[keep], minlength=data.n_items)
        new_keep = keep & (uc[data.users] >= min_user) & (ic[data.items] >= min_item)
        if new_keep.sum() == keep.sum():
            break
        keep = new_keep
    if not keep.any():
        raise DataError(f"k_core(min_user={min_user}, min_item={min_item}) removed every interaction")
    out = data.subset(keep)
    return reindex(out) if reindex_ids else out


def to_implicit(data: Interactions, threshold: float | None = 4.0) -> Interactions:
    """Implicit feedback: keep rows with ``rating >= threshold`` (all when ``None``), set ratings to 1."""
    _check_data(data, "to_implicit")
    if threshold is None:
        kept = data
    else:
        mask = data.ratings >= threshold
        if not mask.any():
            raise DataError(f"to_implicit: no rating is >= {threshold}; lower the threshold")
        kept = data.subset(mask)
    return kept.with_ratings(np.ones(len(kept), dtype=np.float32))


def center_by_user(data: Interactions) -> tuple[Interactions, np.ndarray]:
    """Subtract each user's mean rating: ``r'_ui = r_ui − μ_u``.

    Returns
    -------
    centered : Interactions
    user_means : (n_users,) float64
        ``μ_u`` (0 for users without interactions). :func:`uncenter` adds it back.
    """
    _check_data(data, "center_by_user")
    counts = data.user_counts()
    sums = np.bincount(data.users, weights=data.ratings, minlength=data.n_users)
    means = np.divide(sums, counts, out=np.zeros(data.n_users), where=counts > 0)
    return data.with_ratings(data.ratings - means[data.users]), means


def uncenter(scores, users, user_means: np.ndarray) -> np.ndarray:
    """Inverse of :func:`center_by_user`: ``scores + user_means[users]`` (``users`` broadcast on rows).

    ``scores`` is ``(n,)`` or ``(n, n_candidates)``; ``users`` ``(n,)`` dense indices into
    ``user_means`` (``(n_users,)``, as returned by :func:`center_by_user`).
    """
    scores = np.asarray(scores)
    user_means = np.asarray(user_means)
    if user_means.ndim != 1:
        raise ShapeError(f"user_means must be 1-D (one mean per user), got shape {user_means.shape}")
    users = check_index_array(users, "users", user_means.shape[0], ndim=1)
    if scores.ndim not in (1, 2) or scores.shape[0] != users.shape[0]:
        raise ShapeError(
            f"scores has shape {scores.shape} but users has length {users.shape[0]}; scores must be "
            f"(n,) or (n, n_candidates) with one row per user"
        )
    means = user_means[users]
    if scores.ndim == 2:
        means = means[:, None]  # (n, 1) broadcasts over each user's candidate items
    return scores + means


def reindex(data: Interactions) -> Interactions:
    """Drop users and items without interactions and renumber the rest densely (order kept).

    Raw-id maps and metadata follow: ``new.user_ids[k]`` is the raw id of the k-th surviving user.
    """
    _check_data(data, "reindex")
    used_u = np.flatnonzero(data.user_counts() > 0)
    used_i = np.flatnonzero(data.item_counts() > 0)
    new_u = np.full(data.n_users, -1, dtype=np.int64)
    new_u[used_u] = np.arange(used_u.shape[0])
    new_i = np.full(data.n_items, -1, dtype=np.int64)
    new_i[used_i] = np.arange(used_i.shape[0])
    return Interactions(
        new_u[data.users],
        new_i[data.items],
        data.ratings,
        data.timestamps,
        n_users=used_u.shape[0],
        n_items=used_i.shape[0],
        user_ids=data.user_ids[used_u],
        item_ids=data.item_ids[used_i],
        user_meta=data.user_meta.take(used_u),  # the feature tables follow, kinds and hints kept
        item_meta=data.item_meta.take(used_i),
        info=dict(data.info),
    )


def preprocess(
    data: Interactions,
    *,
    duplicates: str | None = "last",
    min_user: int = 0,
    min_item: int = 0,
    implicit_threshold: float | None = None,
    reindex_ids: bool = True,
) -> tuple[Interactions, PreprocessReport]:
    """Chain the steps: duplicates → implicit threshold → k-core → reindex.

    Parameters
    ----------
    duplicates : {"last", "first", "mean", "max"} or None
        How to merge repeated pairs (``None``: leave them).
    min_user, min_item : int
        k-core limits (0: no filtering).
    implicit_threshold : float, optional
        Convert to implicit feedback, keeping ``rating >= implicit_threshold``.
    reindex_ids : bool
        Renumber users and items densely at the end.
    """
    _check_data(data, "preprocess")
    min_user = check_int_at_least(min_user, "min_user", 0)
    min_item = check_int_at_least(min_item, "min_item", 0)
    check_bool(reindex_ids, "reindex_ids")
    report = PreprocessReport()
    if duplicates is not None:
        before = len(data)
        data = drop_duplicates(data, duplicates)
        report.add("duplicates", before, len(data))
    if implicit_threshold is not None:
        before = len(data)
        data = to_implicit(data, implicit_threshold)
        report.add("implicit", before, len(data))
    if min_user > 0 or min_item > 0:
        before = len(data)
        data = k_core(data, min_user, min_item, reindex_ids=False)
        report.add("k_core", before, len(data))
    if reindex_ids:
        data = reindex(data)
    return data, report
