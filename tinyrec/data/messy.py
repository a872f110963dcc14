"""Raw shop data made from clean interactions, with the faults of a real feed (for practice).

A shop's event feed is not an :class:`Interactions` table: a request is logged twice, a field
arrives empty, a rating comes as ``4`` from one client and as ``"4.0"`` or ``" 5 "`` from another,
a bot sends ids that no catalogue knows. :func:`messy_events` turns a clean table into such rows,
from a seeded generator, and says exactly what it injected; :func:`messy_table` does the same for
a feature table (customers, products) with values left blank. A cleaning step can then be checked
against the truth: :func:`tinyrec.data.preprocess.clean_events` must find every count, and the rows
it keeps must be the original ones that were not damaged.

=========================  ==================================================================
fault (``injected`` key)   what is done to the rows
=========================  ==================================================================
``missing user`` / ...     an original row loses one field (user, item, rating or timestamp):
                           None, NaN, ``""`` or ``"n/a"``: the event is lost
``unreadable rating``      an original row's rating becomes text that is no number
                           (``"five"``, ``"4 stars"``): lost
``rating out of range``    an original rating typed with an extra digit (``4`` as ``44``): lost
``unknown user`` / item    a new row naming a user (item) that is not in the data
``exact duplicate``        a new row equal to an intact row in every field (a double send)
``older duplicate``        a new row of an intact row's (user, item), earlier, with a random
                           rating from 1 to 5 (possibly the same one): the latest rating is kept
``ratings as text``        intact rows whose rating is text (``"4"``, ``"4.0"``, ``" 4 "``): read
``ids as text``            intact rows whose user id is text (``"196"``): read
=========================  ==================================================================

Damaged rows, and the rows copied into duplicates, are distinct original rows; the new rows and the
originals are shuffled together. Ids are never made unreadable (``injected["unreadable user"]`` and
``["unreadable item"]`` are 0), so that every fault :func:`clean_events` counts has its entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import ArgumentTypeError, DataError
from ..validation import as_generator, check_nonnegative
from .features import FeatureTable
from .interactions import Interactions

__all__ = ["RawEvents", "RawTable", "messy_events", "messy_table"]

_MISSING = (None, float("nan"), "", "n/a")
_JUNK = ("five", "4 stars", "?", "-", "good")
_FIELDS = ("user", "item", "rating", "timestamp")


@dataclass(frozen=True)
class RawEvents:
    """Event rows as a feed delivers them: four ``(n,)`` object arrays of mixed Python values, and
    ``injected``, the rows of each fault (the table of the module docstring)."""

    users: np.ndarray
    items: np.ndarray
    ratings: np.ndarray
    timestamps: np.ndarray
    injected: dict = field(default_factory=dict)
    lost: int = 0  # original rows damaged beyond use

    def __len__(self) -> int:
        return len(self.users)

    def rows(self, positions) -> list[dict]:
        """The rows at ``positions`` as dicts ``{"user", "item", "rating", "timestamp"}`` (to show)."""
        return [
            dict(
                zip(_FIELDS, (self.users[p], self.items[p], self.ratings[p], self.timestamps[p]), strict=True)
            )
            for p in np.asarray(positions).tolist()
        ]


@dataclass(frozen=True)
class RawTable:
    """A feature table as a file delivers it: ``records`` ``{raw id: {column: value}}`` with values
    left blank (``blanked``: how many per column), and the ``kinds`` to read them with (the original
    columns, hints kept), ready for :func:`tinyrec.data.features.align_records`."""

    records: dict
    kinds: dict
    blanked: dict


def messy_events(
    data: Interactions,
    *,
    missing: float = 0.01,
    unreadable: float = 0.003,
    out_of_range: float = 0.002,
    unknown: float = 0.003,
    duplicates: float = 0.02,
    older: float = 0.01,
    as_text: float = 0.3,
    seed=0,
) -> RawEvents:
    """The rows of ``data`` as a faulty feed delivers them (module docstring).

    Parameters
    ----------
    data : Interactions
        With timestamps, ratings (MovieLens: stars from 1 to 5) and integer raw ids (an unknown id
        is made as the largest id + 1).
    missing, unreadable, out_of_range : float
        Fractions of the original rows that lose a field, get a rating that is no number, get a
        rating with an extra digit. Together at most 1.
    unknown, duplicates, older : float
        New rows, as fractions of the original rows: naming an unknown user or item (half each),
        exact copies of intact rows, older ratings of intact rows' pairs. Each is made from another
        intact row, so together they ask for at most as many rows as are left intact.
    as_text : float
        Fraction of the intact rows whose rating, and (separately drawn) user id, come as text.
    seed : int or np.random.Generator

    Returns
    -------
    RawEvents
        ``injected[fault]`` rows of each fault; ``lost`` the original rows no cleaning can use.

    Raises
    ------
    DataError
        ``data`` has no timestamps, or text raw ids; or ``unknown + duplicates + older`` ask for more
        new rows than there are intact rows to copy.
    """
    if not isinstance(data, Interactions):
        raise ArgumentTypeError(f"messy_events takes an Interactions, got {type(data).__name__}")
    if data.timestamps is None:
        raise DataError("messy_events needs timestamps (a feed has them); this data has none")
    for side, ids in (("user", data.user_ids), ("item", data.item_ids)):
        if ids.dtype.kind not in "iu":
            raise DataError(
                f"messy_events makes an unknown {side} id as the largest {side} id + 1, so it needs integer "
                f"raw ids; these {side} ids are {ids.dtype} (e.g. {ids[0]!r}): use data with integer ids"
            )
    rates = {
        name: check_nonnegative(value, name)
        for name, value in (("missing", missing), ("unreadable", unreadable), ("out_of_range", out_of_range),
                            ("unknown", unknown), ("duplicates", duplicates), ("older", older))
    }  # fmt: skip
    if not 0 <= as_text <= 1 or rates["missing"] + rates["unreadable"] + rates["out_of_range"] > 1:
        raise ValueError("as_text and missing + unreadable + out_of_range must each be at most 1")
    rng = as_generator(seed)
    n = len(data)
    users = data.user_ids[data.users].astype(object)
    items = data.item_ids[data.items].astype(object)
    ratings = data.ratings.astype(np.float64).astype(object)
    stamps = data.timestamps.astype(object)
    columns = {"user": users, "item": items, "rating": ratings, "timestamp": stamps}
    sizes = [int(round(rates[k] * n)) for k in ("missing", "unreadable", "out_of_range")]
    order = rng.permutation(n)
    damaged = np.split(order[: sum(sizes)], np.cumsum(sizes)[:-1])
    intact = order[sum(sizes) :]
    injected = dict.fromkeys(
        ["missing user", "unreadable user", "missing item", "unreadable item", "missing rating",
         "unreadable rating", "rating out of range", "bad timestamp"],
        0,
    )  # fmt: skip
    lose = rng.integers(0, 4, len(damaged[0]))  # which field each row loses
    for row, f in zip(damaged[0].tolist(), lose.tolist(), strict=True):
        columns[_FIELDS[f]][row] = _MISSING[rng.integers(len(_MISSING))]
        injected["bad timestamp" if f == 3 else f"missing {_FIELDS[f]}"] += 1
    for row in damaged[1].tolist():
        ratings[row] = _JUNK[rng.integers(len(_JUNK))]
    injected["unreadable rating"] = len(damaged[1])
    ratings[damaged[2]] = [float(r) * 11 for r in ratings[damaged[2]].tolist()]  # 4 typed as 44
    injected["rating out of range"] = len(damaged[2])
    # text, on intact rows only: the values stay readable
    text = intact[rng.random(len(intact)) < as_text]
    formats = ("{:g}", "{:.1f}", " {:g} ")
    for row in text.tolist():
        ratings[row] = formats[rng.integers(3)].format(ratings[row])
    id_text = intact[rng.random(len(intact)) < as_text]
    users[id_text] = [str(u) for u in users[id_text].tolist()]
    # new rows: copies of intact rows, some changed
    n_unknown, n_dup, n_older = (int(round(rates[k] * n)) for k in ("unknown", "duplicates", "older"))
    if n_unknown + n_dup + n_older > len(intact):
        raise DataError(
            f"unknown={unknown}, duplicates={duplicates} and older={older} ask for "
            f"{n_unknown + n_dup + n_older:,} new rows, each copied from another intact row, but only "
            f"{len(intact):,} of the {n:,} rows are "
            f"intact: lower them (or missing, unreadable, out_of_range) so that they add up to at most "
            f"{len(intact) / n:.3g}"
        )
    sources = rng.choice(intact, n_unknown + n_dup + n_older, replace=False)
    new = {name: col[sources].copy() for name, col in columns.items()}
    half = n_unknown // 2
    new["user"][:half] = (int(np.max(data.user_ids)) + 1 + np.arange(half)).tolist()
    new["item"][half:n_unknown] = (int(np.max(data.item_ids)) + 1 + np.arange(n_unknown - half)).tolist()
    earlier = slice(n_unknown + n_dup, None)
    back = rng.integers(86_400, 30 * 86_400, n_older)  # one day to a month earlier
    new["timestamp"][earlier] = (new["timestamp"][earlier].astype(np.int64) - back).tolist()
    new["rating"][earlier] = rng.integers(1, 6, n_older).astype(float).tolist()
    injected["unknown user"], injected["unknown item"] = half, n_unknown - half
    injected["exact duplicate"], injected["older duplicate"] = n_dup, n_older
    injected["ratings as text"], injected["ids as text"] = len(text), len(id_text)
    shuffle = rng.permutation(n + len(sources))
    out = [np.concatenate([columns[f], new[f]])[shuffle] for f in _FIELDS]
    return RawEvents(*out, injected=injected, lost=sum(sizes))


def messy_table(table: FeatureTable, ids, columns=None, *, missing: float = 0.05, seed=0) -> RawTable:
    """The rows of a feature table as records keyed by raw id, a fraction ``missing`` of each
    encoded column's values left blank (``""``; text columns such as titles are kept whole), numbers
    written as text (as a CSV file holds them).

    ``ids`` are the table's raw ids in dense order (``data.user_ids``); ``columns`` the columns to
    keep (default: all).
    """
    if not isinstance(table, FeatureTable):
        raise ArgumentTypeError(
            f"messy_table takes a FeatureTable (data.user_meta), got {type(table).__name__}"
        )
    ids = np.asarray(ids)
    if ids.shape != (table.n_rows,):
        raise ValueError(
            f"ids must hold one raw id per row of the table ({table.n_rows}), got shape {ids.shape}"
        )
    missing = check_nonnegative(missing, "missing")
    rng = as_generator(seed)
    columns = list(table) if columns is None else list(columns)
    absent = [name for name in columns if name not in table]
    if absent:
        raise DataError(f"messy_table: no column {absent} in the table; its columns are {list(table)}")
    records = {raw: {} for raw in ids.tolist()}
    blanked = {}
    for name in columns:
        column = table.column(name)
        blank = (rng.random(table.n_rows) < missing) & ~column.missing() & (column.kind != "text")
        blanked[name] = int(blank.sum())
        for raw, value, gone in zip(ids.tolist(), column.values.tolist(), blank.tolist(), strict=True):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            records[raw][name] = "" if gone else str(value)
    return RawTable(records, {name: table.column(name) for name in columns}, blanked)
