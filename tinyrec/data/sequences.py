"""Each user's items in time order, and the training examples of next-item models.

A sequence model (SASRec, GRU4Rec, Caser: :mod:`tinyrec.models.sequential`) reads a user's
history as a list of items, oldest first, and predicts the item that comes next. This module turns
an :class:`~tinyrec.data.Interactions` split into those lists and into the arrays the models train
on:

* :class:`Sequences` — every user's items in time order (CSR: ``indptr``, ``items``);
* :meth:`Sequences.padded` — the last ``max_len`` items of some users as a rectangle, filled with
  a *padding id* on the left (SASRec, Caser) or on the right (GRU4Rec);
* :meth:`Sequences.next_item_examples` — one input row per user and, at every position, the next
  item as the target (SASRec, GRU4Rec);
* :meth:`Sequences.windows` — Caser's examples: ``L`` consecutive items and the ``T`` items that
  follow them;
* :func:`validation_split` — each user's last *train* item held out, to choose the epochs.

**Time order and ties.** A user's items are sorted by timestamp; items with the same timestamp by
item index, the smaller first. This is :func:`tinyrec.data.split.leave_one_out`'s rule read the
other way: the item it holds out (the latest, ties to the larger index) is always the one that
comes after every item left in train, so the input sequences of train never "see" the test item.

**Truncation.** A history longer than ``max_len`` keeps its **most recent** ``max_len`` items; the
older ones are dropped (as SASRec's reference code does). A model therefore trains on the last
``max_len`` transitions of each user and scores from the last ``max_len`` items.

**Padding.** A row shorter than ``max_len`` is filled with ``padding_id``, an integer that is not
an item index: by default ``n_items`` (the models keep one extra, always-zero embedding row for
it). A ``padding_id`` inside ``[0, n_items)`` would make a real item look like padding and is
refused.
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError, DTypeError, IndexOutOfRangeError, ShapeError
from ..validation import check_choice, check_index_array, check_int, check_positive_int
from .encoders import ranges
from .interactions import Interactions
from .split import leave_one_out

__all__ = ["Sequences", "validation_split"]


class Sequences:
    """Every user's items in time order: user ``u``'s history is ``items[indptr[u]:indptr[u + 1]]``.

    Build one with :meth:`from_interactions`; the constructor takes arrays that are already ordered.

    Parameters
    ----------
    indptr : (n_users + 1,) int array
        Offsets: ``indptr[0] = 0``, non-decreasing, ``indptr[-1] = len(items)``.
    items : (n,) int array
        Item indices in ``[0, n_items)``, each user's oldest first.
    n_items : int
        The number of items of the index space (the default padding id).

    Attributes
    ----------
    indptr, items : int64 arrays (read-only)
    n_users, n_items : int
    """

    def __init__(self, indptr, items, n_items: int):
        self.n_items = check_positive_int(n_items, "n_items")
        self.indptr = _readonly(_int_copy(indptr, "indptr"))  # copies of their own, read-only
        self.items = _readonly(_int_copy(items, "items"))
        _check_csr(self.indptr, self.items, self.n_items)
        self.n_users = len(self.indptr) - 1

    @classmethod
    def from_interactions(cls, *tables: Interactions) -> Sequences:
        """The time-ordered histories of one or more tables of one index space (train, then valid).

        The rows of all tables are merged and sorted per user by ``(timestamp, item index)``.
        Raises :class:`~tinyrec.errors.DataError` when a table has no timestamps or the tables do
        not share an index space.
        """
        first = tables[0]
        for table in tables:
            if not isinstance(table, Interactions):
                raise TypeError(f"expected Interactions, got {type(table).__name__}")
            if table.timestamps is None:
                raise DataError(
                    "a sequence model orders each user's items by time, and this data has no timestamps; "
                    "load it with its timestamp column (Interactions(..., timestamps=...))"
                )
            if not first.same_index_space(table):
                raise DataError("the tables do not share one index space; build them with one split")
        users = np.concatenate([t.users for t in tables]).astype(np.int64)
        items = np.concatenate([t.items for t in tables]).astype(np.int64)
        times = np.concatenate([t.timestamps for t in tables])
        order = np.lexsort((items, times, users))  # by user, then time, then item (leave_one_out's rule)
        counts = np.bincount(users, minlength=first.n_users)
        indptr = np.concatenate([[0], np.cumsum(counts)])
        return cls(indptr, items[order], first.n_items)

    def lengths(self) -> np.ndarray:
        """``(n_users,)``: the number of items of each history."""
        return np.diff(self.indptr)

    def of(self, user: int) -> np.ndarray:
        """User ``user``'s items, oldest first."""
        user = check_int(user, "user")
        if not 0 <= user < self.n_users:
            raise IndexOutOfRangeError(f"user={user} is outside the valid range [0, {self.n_users})")
        return self.items[self.indptr[user] : self.indptr[user + 1]]

    def padding(self, padding_id=None) -> int:
        """The padding id to use: ``n_items`` by default; any integer that is not an item index."""
        if padding_id is None:
            return self.n_items
        padding_id = check_int(padding_id, "padding_id")
        if 0 <= padding_id < self.n_items:
            raise ValueError(
                f"padding_id={padding_id} is a real item (items are 0..{self.n_items - 1}), so that item "
                f"would be read as padding; use n_items={self.n_items} (the default) or a negative number"
            )
        return padding_id

    def padded(self, users=None, max_len: int = 200, padding_id=None, *, side: str = "left") -> np.ndarray:
        """The last ``max_len`` items of each of ``users``, as rows of one int64 array.

        Parameters
        ----------
        users : (n,) int array, optional
            Default: every user.
        max_len : int
            Row length; a longer history keeps its most recent ``max_len`` items.
        padding_id : int, optional
            Fills the rest of a shorter row (default ``n_items``).
        side : {"left", "right"}
            ``"left"``: the items end at the last column (SASRec, Caser: the latest item is always
            at the same place); ``"right"``: they start at column 0 (GRU4Rec: the recurrence reads
            no padding before the first item).

        Returns
        -------
        rows : (n, max_len) int64
        """
        if users is None:
            users = np.arange(self.n_users)
        else:
            users = check_index_array(users, "users", self.n_users, ndim=1)
        return _last_items(self.indptr[users], self.indptr[users + 1], self.items,
                           check_positive_int(max_len, "max_len"), self.padding(padding_id),
                           check_choice(side, "side", ("left", "right")))  # fmt: skip

    def next_item_examples(self, max_len: int = 200, padding_id=None, *, side: str = "left"):
        """One training row per user with at least two items: every position's next item.

        For a history ``s_1 … s_n`` the input is ``s_1 … s_{n−1}`` and the target at each position
        the item that follows it, ``s_2 … s_n``; both keep their last ``max_len`` entries and are
        padded alike (see :meth:`padded`), so ``targets[r, c]`` is the item after ``inputs[r, c]``
        and both are padding at the same places.

        Returns
        -------
        users : (n,) int64
            The users with at least two items (a single item has no next item to learn).
        inputs, targets : (n, max_len) int64
        """
        max_len = check_positive_int(max_len, "max_len")
        padding_id = self.padding(padding_id)
        side = check_choice(side, "side", ("left", "right"))
        starts, stops = self.indptr[:-1], self.indptr[1:]
        users = np.flatnonzero(stops - starts >= 2)
        starts, stops = starts[users], stops[users]
        inputs = _last_items(starts, stops - 1, self.items, max_len, padding_id, side)
        targets = _last_items(starts + 1, stops, self.items, max_len, padding_id, side)
        return users, inputs, targets

    def windows(self, length: int = 5, n_targets: int = 3, padding_id=None):
        """Caser's examples: ``length`` consecutive items and the ``n_targets`` items after them.

        With ``L = length`` and ``T = n_targets``, a history ``s_1 … s_n`` with ``n >= L + T``
        gives its ``n − L − T + 1`` windows, ``s_{j+1} … s_{j+L}`` followed by
        ``s_{j+L+1} … s_{j+L+T}`` for ``j = 0 … n − L − T`` (every window of ``L + T`` items, as
        Caser's reference code slides it); a history with ``T < n < L + T`` gives one window, its
        first ``n − T`` items left-padded to ``L``, followed by its last ``T``; a history of ``T``
        items or fewer gives none (it has no input item to go with ``T`` targets).

        Returns
        -------
        users : (n_windows,) int64
        inputs : (n_windows, L) int64, left-padded with ``padding_id``
        targets : (n_windows, T) int64
        """
        length = check_positive_int(length, "length")
        n_targets = check_positive_int(n_targets, "n_targets")
        padding_id = self.padding(padding_id)
        n = self.lengths()
        per_user = np.where(
            n >= length + n_targets, n - length - n_targets + 1, (n > n_targets).astype(np.int64)
        )
        users = np.repeat(np.arange(self.n_users), per_user)
        # the window's first target, as an offset into items: j + L for a full window, n − T otherwise
        first = ranges(self.indptr[:-1], self.indptr[:-1] + per_user)
        first += np.where(n >= length + n_targets, length, n - n_targets)[users]
        inputs = _last_items(self.indptr[users], first, self.items, length, padding_id, "left")
        targets = self.items[first[:, None] + np.arange(n_targets)]
        return users, inputs, targets


def validation_split(train: Interactions, *, return_report: bool = False):
    """Hold out each user's last train item: ``(fit_part, valid)`` to choose a model's epochs.

    The latest interaction of every user with at least two (ties in time: the larger item index),
    exactly as :func:`~tinyrec.data.split.leave_one_out` (``by="time"``) holds out the test item;
    ``valid`` is the second-to-last item of the full history, so the test set is never looked at.
    A sequence model fitted with ``fit(fit_part, valid=valid)`` keeps the best epoch on ``valid``
    and then reads ``fit_part`` and ``valid`` together as each user's history (see
    :mod:`tinyrec.models.sequential`): at test time its input is the user's whole train sequence,
    with no retraining.
    """
    if isinstance(train, Interactions) and train.timestamps is None:
        raise DataError(
            "validation_split holds out each user's latest train item, and train has no timestamps"
        )
    return leave_one_out(train, by="time", return_report=return_report)


# -- helpers ---------------------------------------------------------------------------------------
def _readonly(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


def _int_copy(values, name: str) -> np.ndarray:
    """An int64 copy of ``values``; DTypeError for anything but integers (an empty list is fine)."""
    values = np.asarray(values)
    if values.size and values.dtype.kind not in "iu":
        raise DTypeError(f"{name} must hold integers, got dtype {values.dtype}; cast with .astype(np.int64)")
    return np.array(values, dtype=np.int64)


def _check_csr(indptr: np.ndarray, items: np.ndarray, n_items: int) -> None:
    """Raise ShapeError / IndexOutOfRangeError unless ``(indptr, items)`` is a CSR of item indices."""
    if indptr.ndim != 1 or items.ndim != 1 or len(indptr) < 2:
        raise ShapeError(f"indptr must be 1-D with at least 2 entries and items 1-D; got shapes "
                         f"{indptr.shape} and {items.shape}")  # fmt: skip
    if indptr[0] != 0 or indptr[-1] != len(items) or np.any(np.diff(indptr) < 0):
        raise ShapeError("indptr must run from 0 to len(items) without decreasing")
    if items.size and (items.min() < 0 or items.max() >= n_items):
        raise IndexOutOfRangeError(f"items must be item indices in [0, n_items={n_items})")


def _last_items(starts, stops, items, max_len: int, padding_id: int, side: str) -> np.ndarray:
    """Rows of ``items[starts[r]:stops[r]]``, each cut to its last ``max_len`` and padded on ``side``.

    Row ``r`` holds ``m_r = min(stops[r] − starts[r], max_len)`` items; column ``c`` of a
    left-padded row reads offset ``stops[r] − max_len + c`` (padding where that is before
    ``starts[r]``), of a right-padded row offset ``stops[r] − m_r + c`` (padding from column
    ``m_r`` on).
    """
    starts = np.asarray(starts, dtype=np.int64)
    stops = np.asarray(stops, dtype=np.int64)
    columns = np.arange(max_len)
    if side == "left":
        offsets = stops[:, None] - max_len + columns  # (n, max_len)
        real = offsets >= starts[:, None]
    else:
        kept = np.minimum(stops - starts, max_len)
        offsets = (stops - kept)[:, None] + columns
        real = columns < kept[:, None]
    rows = np.full(offsets.shape, padding_id, dtype=np.int64)
    rows[real] = items[offsets[real]]
    return rows
