"""Cleaning interactions before a split: invalid rows, duplicates, k-core, implicit, centering.

Each step is a function of :class:`Interactions` (or of raw arrays, for :func:`drop_invalid`)
that returns new data and never mutates its input. :func:`preprocess` chains them and returns a
:class:`PreprocessReport` saying how many rows each step removed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import DataError, ShapeError
from ..validation import check_bool, check_index_array, check_int_at_least
from .interactions import Interactions

__all__ = [
    "PreprocessReport",
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
    """Rows removed by each step, in order: ``steps = [(name, n_before, n_after), ...]``."""

    steps: list = field(default_factory=list)

    def add(self, name: str, before: int, after: int) -> None:
        self.steps.append((name, int(before), int(after)))

    def removed(self, name: str) -> int:
        """Rows removed by the step ``name`` (0 when it did not run)."""
        return sum(b - a for n, b, a in self.steps if n == name)

    def __str__(self) -> str:
        return "\n".join(f"{n:<16} {b:>12,} -> {a:>12,}  (-{b - a:,})" for n, b, a in self.steps)


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
        return data.subset(order[first if keep == "first" else last])
    r = data.ratings[order].astype(np.float64)
    if keep == "mean":
        agg = np.add.reduceat(r, first) / (last - first + 1)
    else:
        agg = np.maximum.reduceat(r, first)
    rows = order[last]
    return data.subset(rows).with_ratings(agg)


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
