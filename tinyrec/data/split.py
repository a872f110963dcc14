"""Train/test splits that cannot leak: one index space, no shared (user, item) pair, seeded.

Every function returns ``(train, test)`` (or a list of them), two :class:`Interactions` built with
:meth:`Interactions.subset` from the same table, so they share ``n_users``, ``n_items``, the raw-id
maps and the metadata. The rules every split follows:

* **No overlap.** A split refuses data with repeated ``(user, item)`` pairs (run
  :func:`tinyrec.data.preprocess.drop_duplicates` first), so no pair can land on both sides.
* **Unseen users and items.** A test interaction whose user or item has no interaction in train
  cannot be scored by a collaborative model. By default (``drop_unseen=True``) it is dropped from
  test; the :class:`SplitReport` counts what was dropped. With ``drop_unseen=False`` it is kept
  (models then use their documented cold-start fallback).
* **Never empty.** An empty train or test raises :class:`~tinyrec.errors.DataError`.
* **Seeded.** The same ``seed`` gives the same split.

Pass ``return_report=True`` to get ``(train, test, report)``.

**Cold start.** :func:`cold_users` and :func:`cold_items` hold out whole users or whole items, with
all their interactions: their test users (items) are unseen in train *by design*, so they keep
them (counted as ``kept_unseen``) for the models that can score from features
(:mod:`tinyrec.data.features`). With ``max_per_user``, a held-out user's other interactions are in
neither table (counted as ``held_out_unused``); evaluate with ``train=test.info["known"]`` (every
interaction outside test), so that no item the user interacted with is drawn as a negative.
"""

from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass

import numpy as np

from ..errors import ArgumentTypeError, DataError
from ..validation import as_generator, check_bool, check_int, check_positive_int
from .interactions import Interactions

__all__ = [
    "SplitReport",
    "random_holdout",
    "leave_one_out",
    "temporal_split",
    "kfold",
    "cold_users",
    "cold_items",
    "finalize_split",
]


@dataclass(frozen=True)
class SplitReport:
    """What a split did.

    Attributes
    ----------
    method : str
        The split, e.g. ``"leave_one_out(by='time')"``.
    n_train, n_test : int
        Interactions in train and (after dropping) in test.
    dropped_unseen : int
        Test interactions dropped because their user or item is absent from train.
    dropped_users, dropped_items : int
        Distinct users / items among those dropped rows that are absent from train.
    kept_unseen : int
        Test interactions whose user or item is absent from train, kept (``drop_unseen=False``,
        and the cold-start splits).
    held_out_unused : int
        Interactions of held-out users or items in neither train nor test (a cold-start split's
        ``max_per_user``).
    """

    method: str
    n_train: int
    n_test: int
    dropped_unseen: int
    dropped_users: int
    dropped_items: int
    kept_unseen: int
    held_out_unused: int = 0

    def __str__(self) -> str:
        text = f"{self.method}: train {self.n_train:,}, test {self.n_test:,}"
        if self.dropped_unseen:
            text += (
                f"; dropped {self.dropped_unseen:,} test interactions of {self.dropped_users:,} users / "
                f"{self.dropped_items:,} items unseen in train"
            )
        if self.kept_unseen:
            text += f"; kept {self.kept_unseen:,} test interactions with a user or item unseen in train"
        if self.held_out_unused:
            text += f"; {self.held_out_unused:,} held-out interactions in neither (max_per_user)"
        return text


def _check_splittable(data: Interactions) -> None:
    if not isinstance(data, Interactions):
        raise TypeError(f"expected an Interactions, got {type(data).__name__}")
    if data.has_duplicates():
        n_dup = len(data) - int(data.positives_csr()[1].shape[0])
        raise DataError(
            f"the data has {n_dup:,} repeated (user, item) pairs, so a split could put one pair in both "
            f"train and test; run tinyrec.data.preprocess.drop_duplicates(data) first"
        )


def finish_split(data: Interactions, test_mask: np.ndarray, method: str, drop_unseen: bool, return_report):
    """Turn a boolean test mask over ``data`` into ``(train, test[, report])`` (train = the rest)."""
    test_mask = np.asarray(test_mask, dtype=bool)
    if test_mask.all():
        raise DataError(f"{method}: the train split is empty; lower the test fraction")
    if not test_mask.any():
        raise DataError(f"{method}: the test split is empty; raise the test fraction or use more data")
    return finalize_split(data.subset(~test_mask), data.subset(test_mask), method, drop_unseen, return_report)


def finalize_split(train: Interactions, test: Interactions, method: str, drop_unseen: bool, return_report):
    """Apply the module's rules to a candidate ``(train, test)`` pair in one index space.

    Test interactions whose user or item is absent from train are dropped (``drop_unseen=True``)
    or kept, and counted in the :class:`SplitReport`; an empty side raises
    :class:`~tinyrec.errors.DataError`; a ``(user, item)`` pair present on both sides raises too.
    Exposed for splits built elsewhere (the predefined ML-100K folds) so they follow the same rules.
    """
    check_bool(drop_unseen, "drop_unseen")
    check_bool(return_report, "return_report")
    if not train.same_index_space(test):
        raise DataError(f"{method}: train and test do not share one index space")
    tr_ptr, tr_items = train.positives_csr()
    te_ptr, te_items = test.positives_csr()
    key = np.int64(train.n_items)
    tr_keys = np.repeat(np.arange(train.n_users, dtype=np.int64), np.diff(tr_ptr)) * key + tr_items
    te_keys = np.repeat(np.arange(test.n_users, dtype=np.int64), np.diff(te_ptr)) * key + te_items
    overlap = np.intersect1d(tr_keys, te_keys, assume_unique=True).shape[0]
    if overlap:
        raise DataError(f"{method}: {overlap} (user, item) pairs are in both train and test")
    seen_user = np.bincount(train.users, minlength=train.n_users) > 0
    seen_item = np.bincount(train.items, minlength=train.n_items) > 0
    user_ok, item_ok = seen_user[test.users], seen_item[test.items]
    unseen = ~(user_ok & item_ok)
    n_unseen = int(unseen.sum())
    if drop_unseen and n_unseen:
        test_rows = ~unseen
        if not test_rows.any():
            raise DataError(
                f"{method}: the test split is empty after dropping {n_unseen} interactions whose user or "
                f"item is unseen in train; use more data, or drop_unseen=False"
            )
        dropped_users = int(np.unique(test.users[~user_ok]).shape[0])
        dropped_items = int(np.unique(test.items[~item_ok]).shape[0])
        test = test.subset(test_rows)
    else:
        dropped_users = dropped_items = 0
    report = SplitReport(
        method=method,
        n_train=len(train),
        n_test=len(test),
        dropped_unseen=n_unseen if drop_unseen else 0,
        dropped_users=dropped_users,
        dropped_items=dropped_items,
        kept_unseen=0 if drop_unseen else n_unseen,
    )
    train = train.with_info(split=report, role="train")
    test = test.with_info(split=report, role="test")
    return (train, test, report) if return_report else (train, test)


def _is_fraction(value) -> bool:
    """``value`` is a real number (not a bool, not a string) strictly between 0 and 1."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and 0.0 < value < 1.0


def _rank_within_user(data: Interactions, key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position of each row among its user's rows ordered by ``key`` (ascending), and user counts."""
    order = np.lexsort((key, data.users))  # by user, then key
    counts = data.user_counts()
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.empty(len(data), dtype=np.int64)
    rank[order] = np.arange(len(data)) - starts[data.users[order]]
    return rank, counts


def random_holdout(
    data: Interactions,
    test_fraction: float = 0.2,
    *,
    by: str = "global",
    seed=0,
    drop_unseen: bool = True,
    return_report: bool = False,
):
    """Hold out a random fraction of the interactions.

    Parameters
    ----------
    data : Interactions
    test_fraction : float in (0, 1)
        ``by="global"``: ``round(test_fraction * n)`` random interactions go to test.
        ``by="user"``: for each user with ``n_u`` interactions, ``min(n_u - 1, round(test_fraction * n_u))``
        random ones go to test (every user keeps at least one in train).
    by : {"global", "user"}
    seed : int or np.random.Generator
    drop_unseen : bool
        Drop test interactions whose user or item is absent from train (counted in the report).
    return_report : bool
        Also return the :class:`SplitReport`.
    """
    _check_splittable(data)
    if not _is_fraction(test_fraction):
        raise ValueError(f"test_fraction must be a number in (0, 1), got {test_fraction!r}")
    rng = as_generator(seed)
    n = len(data)
    if by == "global":
        n_test = int(round(test_fraction * n))
        test_mask = np.zeros(n, dtype=bool)
        test_mask[rng.permutation(n)[:n_test]] = True
    elif by == "user":
        rank, counts = _rank_within_user(data, rng.random(n))
        n_test = np.minimum(counts - 1, np.round(test_fraction * counts).astype(np.int64))
        test_mask = rank < n_test[data.users]
    else:
        raise ValueError(f"by must be 'global' or 'user', got {by!r}")
    method = f"random_holdout({test_fraction}, by={by!r})"
    return finish_split(data, test_mask, method, drop_unseen, return_report)


def leave_one_out(
    data: Interactions, *, by: str = "time", seed=0, drop_unseen: bool = True, return_report: bool = False
):
    """Hold out one interaction per user: the latest (``by="time"``) or a random one.

    Parameters
    ----------
    data : Interactions
        With ``timestamps`` when ``by="time"``.
    by : {"time", "random"}
        ``"time"``: the user's interaction with the largest timestamp; ties in that timestamp are
        broken by the **larger item index** (the rule used by the published NCF reference split).
        ``"random"``: a uniformly random interaction of the user (seeded).
    seed : int or np.random.Generator
        Used by ``by="random"`` only.
    drop_unseen : bool
        Drop a held-out interaction whose item never occurs in train (counted in the report).
    return_report : bool

    Returns
    -------
    train, test : Interactions
        ``test`` has at most one interaction per user. Users with a single interaction keep it in
        train (they have nothing to train on otherwise) and have no test interaction.

    Notes
    -----
    With dense item indices that follow the sorted raw ids (as every tinyrec loader builds them),
    "larger item index" and "larger raw item id" are the same rule.
    """
    _check_splittable(data)
    if by == "time":
        if data.timestamps is None:
            raise DataError("leave_one_out(by='time') needs timestamps; this data has none: use by='random'")
        # order within a user by (timestamp, item): the last row is the latest, ties -> larger item
        order = np.lexsort((data.items, data.timestamps, data.users))
    elif by == "random":
        key = as_generator(seed).random(len(data))
        order = np.lexsort((key, data.users))
    else:
        raise ValueError(f"by must be 'time' or 'random', got {by!r}")
    users_sorted = data.users[order]
    is_last = np.ones(len(data), dtype=bool)
    is_last[:-1] = users_sorted[1:] != users_sorted[:-1]  # last row of each user's run
    counts = data.user_counts()
    is_last &= counts[users_sorted] >= 2
    test_mask = np.zeros(len(data), dtype=bool)
    test_mask[order[is_last]] = True
    return finish_split(data, test_mask, f"leave_one_out(by={by!r})", drop_unseen, return_report)


def temporal_split(
    data: Interactions,
    *,
    test_fraction: float | None = 0.2,
    at: int | None = None,
    drop_unseen: bool = True,
    return_report: bool = False,
):
    """Global temporal cut: every interaction at or after time ``at`` goes to test.

    Parameters
    ----------
    test_fraction : float in (0, 1), optional
        When ``at`` is not given, ``at`` is the timestamp of the interaction at position
        ``n - round(test_fraction * n)`` in time order; interactions tied with it also go to
        test, so test can be slightly larger than the fraction.
    at : int, optional
        The cut time (same clock as ``data.timestamps``), in ``(first, last]``: the earliest
        timestamp stays in train, the latest goes to test.

    Raises
    ------
    DataError
        ``data`` has no timestamps, or repeated ``(user, item)`` pairs; every timestamp is equal
        (no cut leaves both sides non-empty); ``at`` is outside ``(first, last]``, the first and
        last timestamps (one side would be empty).
    ArgumentTypeError
        ``at`` is not an integer (e.g. ``2.5`` or a date string); a ``TypeError`` and a
        ``ValueError`` at once.
    ValueError
        ``test_fraction`` not in ``(0, 1)`` when ``at`` is not given.

    Notes
    -----
    This is the split that respects causality for every user at once: nothing in train happened
    after anything in test. Many test users are then unseen in train (new users), which
    ``drop_unseen`` handles.
    """
    _check_splittable(data)
    if data.timestamps is None:
        raise DataError("temporal_split needs timestamps; this data has none")
    first, last = int(data.timestamps.min()), int(data.timestamps.max())
    if first == last:
        raise DataError(
            f"temporal_split: every timestamp is {first}, so no cut time leaves both train and test "
            "non-empty; use random_holdout or leave_one_out"
        )
    if at is None:
        if not _is_fraction(test_fraction):
            raise ValueError(
                f"test_fraction must be a number in (0, 1) when at is not given, got {test_fraction!r}"
            )
        n_test = max(1, int(round(test_fraction * len(data))))
        at = int(np.sort(data.timestamps)[len(data) - n_test])
    else:
        try:
            at = check_int(at, "at")
        except ArgumentTypeError:
            raise ArgumentTypeError(
                f"at must be an integer timestamp on the clock of data.timestamps (Unix seconds for "
                f"MovieLens: 1577836800 is 2020-01-01), got {at!r}"
            ) from None
        if not first < at <= last:
            side = "train" if at <= first else "test"
            raise DataError(
                f"temporal_split(at={at}): the {side} split would be empty, since the timestamps "
                f"run from {first} to {last}; choose at in ({first}, {last}]"
            )
    test_mask = data.timestamps >= at
    return finish_split(data, test_mask, f"temporal_split(at={at})", drop_unseen, return_report)


def kfold(data: Interactions, k: int = 5, *, seed=0, drop_unseen: bool = True, return_report: bool = False):
    """Split into ``k`` random folds; return ``k`` pairs ``(train, test)``, fold ``j`` as test.

    The test sets (before dropping unseen users/items) partition the data: every interaction is
    tested exactly once. Fold sizes differ by at most one.
    """
    _check_splittable(data)
    check_positive_int(k, "k")
    if k < 2 or k > len(data):
        raise ValueError(f"k must be in [2, {len(data)}] (the number of interactions), got {k}")
    fold = np.empty(len(data), dtype=np.int64)
    for j, part in enumerate(np.array_split(as_generator(seed).permutation(len(data)), int(k))):
        fold[part] = j
    return [
        finish_split(data, fold == j, f"kfold(k={k}, fold={j})", drop_unseen, return_report)
        for j in range(int(k))
    ]


def cold_users(
    data: Interactions,
    test_fraction: float = 0.2,
    *,
    max_per_user: int | None = None,
    seed=0,
    return_report: bool = False,
):
    """Hold out whole users: ``round(test_fraction · users)`` random users, with all their interactions.

    Parameters
    ----------
    data : Interactions
    test_fraction : float in (0, 1)
        The share of the users (those with at least one interaction) held out.
    max_per_user : int, optional
        Keep at most this many random interactions of each held-out user in test (the protocol of
        ``benchmarks/bench_features.py``: 10 positives per cold user, each ranked among 99 items
        the user never rated); the others go to neither side (``report.held_out_unused``).
        None: every interaction of a held-out user is in test.
    seed : int or np.random.Generator
    return_report : bool

    Returns
    -------
    train, test : Interactions
        No test user has a training interaction: a collaborative model knows nothing of them, a
        model of features scores them from ``user_meta``. ``test.info["known"]`` is every
        interaction outside test (train, and the held-out users' unused ones): pass it as
        :func:`tinyrec.evaluation.evaluate`'s ``train`` so that negatives are never items the user
        interacted with.
    """
    _check_splittable(data)
    _check_fraction(test_fraction)
    rng = as_generator(seed)
    active = np.flatnonzero(data.user_counts() > 0)
    n_held = int(round(test_fraction * len(active)))
    held = np.zeros(data.n_users, dtype=bool)
    held[rng.permutation(active)[:n_held]] = True
    method = f"cold_users({test_fraction}, max_per_user={max_per_user})"
    return _cold(data, held[data.users], max_per_user, rng, method, return_report)


def cold_items(
    data: Interactions,
    test_fraction: float = 0.2,
    *,
    max_per_user: int | None = None,
    seed=0,
    return_report: bool = False,
):
    """Hold out whole items: ``round(test_fraction · items)`` random items, with all their interactions.

    Parameters and returns as :func:`cold_users`, for items: no test item has a training
    interaction, so a model scores it from ``item_meta`` alone (a new product in the catalogue).
    A user whose every interaction was held out has no training interaction either; those
    interactions stay in test (counted in ``report.kept_unseen`` with the rest).
    """
    _check_splittable(data)
    _check_fraction(test_fraction)
    rng = as_generator(seed)
    active = np.flatnonzero(data.item_counts() > 0)
    n_held = int(round(test_fraction * len(active)))
    held = np.zeros(data.n_items, dtype=bool)
    held[rng.permutation(active)[:n_held]] = True
    method = f"cold_items({test_fraction}, max_per_user={max_per_user})"
    return _cold(data, held[data.items], max_per_user, rng, method, return_report)


def _check_fraction(test_fraction) -> None:
    if not _is_fraction(test_fraction):
        raise ValueError(f"test_fraction must be a number in (0, 1), got {test_fraction!r}")


def _cold(data, held_rows: np.ndarray, max_per_user, rng, method: str, return_report):
    """Train = the rows not held out; test = the held-out rows (at most ``max_per_user`` per user)."""
    test_mask = held_rows.copy()
    if max_per_user is not None:
        check_positive_int(max_per_user, "max_per_user")
        held_positions = np.flatnonzero(held_rows)
        if held_positions.size:
            held_data = data.subset(held_positions)
            rank, _ = _rank_within_user(held_data, rng.random(len(held_data)))
            test_mask[held_positions[rank >= max_per_user]] = False
    unused = held_rows & ~test_mask
    if not held_rows.any() or held_rows.all():
        side = "test" if not held_rows.any() else "train"
        raise DataError(f"{method}: the {side} split is empty; change test_fraction or use more data")
    train, test, report = finalize_split(data.subset(~held_rows), data.subset(test_mask), method, False, True)
    report = dataclasses.replace(report, held_out_unused=int(unused.sum()))
    known = data.subset(~test_mask).with_info(role="known", split=report)
    train = train.with_info(split=report)
    test = test.with_info(split=report, known=known)
    return (train, test, report) if return_report else (train, test)
