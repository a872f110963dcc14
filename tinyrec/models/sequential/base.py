"""What SASRec, GRU4Rec and Caser share: stored histories, training, scoring, ``recommend(history=...)``.

A sequence recommender keeps each user's items in time order (``sequence_indptr_``,
``sequence_items_``: :class:`~tinyrec.data.sequences.Sequences` as CSR, saved in the model file and
checked on load) and scores the next item from the last ones. :meth:`_SequenceRecommender.fit`:

1. orders each user's train items by time (:meth:`Sequences.from_interactions`);
2. builds the network and trains it with :func:`~tinyrec.models.training.fit_recommender` (Adam,
   progress line, per-epoch validation on ``valid`` with the best epoch's weights kept);
3. with ``valid``, then appends each user's ``valid`` items to its history (and to its seen
   items): the validation split only chose the epochs, and the user did interact with those items.
   The test input is therefore the user's whole train sequence, with no retraining, as in SASRec's
   reference code (:func:`tinyrec.data.sequences.validation_split` makes the two parts).

Scores come from the last ``max_len`` items of the history (older ones are dropped: see
:mod:`tinyrec.data.sequences`); ``recommend(users, history=[...])`` scores a history given at call
time instead, for a user without training interactions or an anonymous session.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping

import numpy as np

from ...data.encoders import ranges
from ...data.sampling import union_positives
from ...data.sequences import Sequences
from ...errors import ShapeError
from ...optim import Adam
from ...validation import (
    as_generator,
    check_bool,
    check_choice,
    check_index_array,
    flag,
    float_dtype,
    nonnegative,
    one_of,
    optional,
    positive_int,
    seed_like,
)
from ..base import Recommender, _check_finite_scores, _refuse_unused, _top_k
from ..checks import check_k, check_users
from ..ncf import metric_name
from ..persistence import increasing_within, segment_of
from ..training import fit_recommender, monitored_names

_SCORE_BLOCK = 1 << 21  # scores (or activations) of one block of users: 16 MB in float64

#: The rules of the hyperparameters every sequence model shares (training, validation, output);
#: each model's table adds its own network's before these.
TRAINING_RULES = {
    "n_epochs": positive_int, "batch_size": positive_int, "lr": nonnegative, "weight_decay": nonnegative,
    "lazy_embeddings": flag, "protocol": one_of("sampled", "full"), "monitor": metric_name,
    "patience": optional(positive_int), "verbose": flag, "dtype": float_dtype, "seed": seed_like,
}  # fmt: skip


class _SequenceRecommender(Recommender):
    """The base of the sequence models (see the module docstring); not a model itself.

    A subclass sets ``_padding_side`` and ``_betas``, and implements ``_build_net``,
    ``_network_shapes``, ``_check_fit_memory``, ``_batches(sequences, train, rng)``, ``_loss()`` and
    ``_scores_of_rows(users, rows)`` (the scores of every item for left- or right-padded rows of
    item indices); ``_input_length`` (the items read: ``max_len``) and ``_activations_per_row``
    (what bounds a block of rows when scoring) when the defaults do not fit.
    """

    task = "ranking"
    uses_history = True
    _array_names = ("sequence_indptr_", "sequence_items_")
    _padding_side = "left"
    _trim_padding = True  # scoring drops columns of padding only (Caser reads exactly its window)
    _betas = (0.9, 0.999)

    def _check_hyperparameters(self) -> None:
        """The table's rules, then ``monitor`` among the metrics ``protocol`` returns at ``k = 10``."""
        super()._check_hyperparameters()
        check_choice(self.monitor, "monitor", monitored_names(self.protocol, 10))

    # -- training -------------------------------------------------------------------------------
    def _fit(self, train, valid) -> None:
        batches = self._start(train)
        self.history_ = fit_recommender(
            self, train, batches, self._optimizer(), self._loss(), self.n_epochs, valid=valid,
            protocol=self.protocol, monitor=self.monitor, patience=self.patience,
            lazy_embeddings=self.lazy_embeddings, verbose=self.verbose,
        )  # fmt: skip
        if valid is not None:
            self._absorb(train, valid)

    def _optimizer(self) -> Adam:
        """The optimizer ``fit`` trains ``self.net`` with (lazy row-sparse on the tables by default)."""
        return Adam(self.net.parameters(), lr=self.lr, betas=self._betas, weight_decay=self.weight_decay)

    def _start(self, train):
        """Where training starts: the histories ordered, ``self.net`` built, the batch source made.

        Two generators are spawned from ``seed``: one for the network (its weights and dropout
        masks), one for the batches (order and negatives), so the batches do not depend on how
        many dropout masks were drawn; a twin of the network in another framework, started from
        the same weights, then trains on exactly the same batches (``benchmarks/bench_sequential.py``).
        Returns the batch source.
        """
        sequences = Sequences.from_interactions(train)  # DataError without timestamps
        self._keep_sequences(sequences)
        self._check_fit_memory()
        net_rng, batch_rng = as_generator(self.seed).spawn(2)
        self._build_net(net_rng)
        return self._batches(sequences, train, batch_rng)

    def _absorb(self, train, valid) -> None:
        """Append ``valid``'s items to the histories and the seen items (see the module docstring)."""
        self._keep_sequences(Sequences.from_interactions(train, valid))
        self.seen_indptr_, self.seen_indices_ = union_positives(train, valid)
        self.user_counts_ = train.user_counts() + valid.user_counts()
        self.item_counts_ = train.item_counts() + valid.item_counts()

    def _keep_sequences(self, sequences: Sequences) -> None:
        """Store the histories as the model file holds them: int64 offsets, int32 item indices."""
        self.sequence_indptr_ = np.array(sequences.indptr, dtype=np.int64)
        self.sequence_items_ = sequences.items.astype(np.int32)
        self._sequences = sequences

    def _after_load(self) -> None:
        self._sequences = Sequences(self.sequence_indptr_, self.sequence_items_, self.n_items_)

    # -- scoring --------------------------------------------------------------------------------
    def _score_all(self, users) -> np.ndarray:
        rows = self._sequences.padded(users, self._input_length, self.n_items_, side=self._padding_side)
        return self._scores_in_blocks(users, rows)

    def _score(self, users, items) -> np.ndarray:
        unique, inverse = np.unique(users, return_inverse=True)
        out = np.empty(len(users), dtype=np.float64)
        step = max(1, _SCORE_BLOCK // self.n_items_)
        for s in range(0, len(unique), step):
            scores = self._score_all(unique[s : s + step])  # (block, n_items)
            pick = (inverse >= s) & (inverse < s + step)
            out[pick] = scores[inverse[pick] - s, items[pick]]
        return out

    def _scores_in_blocks(self, users: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """``(n, n_items)`` float64 scores of ``rows`` (padded histories), a block of users at a time."""
        self.net.eval()
        out = np.empty((len(rows), self.n_items_), dtype=np.float64)
        step = max(1, min(_SCORE_BLOCK // self.n_items_, _SCORE_BLOCK // self._activations_per_row))
        for s in range(0, len(rows), step):
            block = rows[s : s + step]
            out[s : s + step] = self._scores_of_rows(
                users[s : s + step], _trimmed(block, self) if self._trim_padding else block
            )
        return out

    def recommend(self, users, k: int = 10, *, exclude_seen: bool = True, history=None, features=None):
        """Each user's ``k`` best next items; with ``history``, scored from the items given.

        Parameters
        ----------
        users : (n,) int array, or None with ``history``
            Dense user indices; None with ``history`` for anonymous sessions (no user of the
            training data: Caser then uses no user vector).
        k : int
        exclude_seen : bool
            Leave out the items each user interacted with in training (and, with ``history``, the
            items of its history).
        history : list of item lists, optional
            One list of dense item indices per user, oldest first (a single flat list is accepted
            for a single user). The model reads it **instead of** the stored history, keeping its
            last ``max_len`` items. An empty list has nothing to read: that user gets the most
            popular items, as a user without training interactions does.
        features : None
            Not used by sequence models (refused).

        Returns ``(items, scores)``, both ``(n, k)``, best first (see :meth:`Recommender.recommend`).
        """
        if history is None:
            return super().recommend(users, k, exclude_seen=exclude_seen, features=features)
        _refuse_unused(self, features=features)
        users, given = _check_history(self, users, history)
        check_bool(exclude_seen, "exclude_seen")
        k = check_k(k, self.n_items_, "n_items")
        rows = given.padded(None, self._input_length, self.n_items_, side=self._padding_side)
        scores = self._scores_in_blocks(users, rows)
        empty = given.lengths() == 0
        scores[empty] = self.item_counts_  # nothing to read: the popularity fallback
        _check_finite_scores(self, scores, np.maximum(users, 0), "recommend")
        if exclude_seen:
            scores[segment_of(given.indptr), given.items] = -np.inf  # the items of the history given
            known = np.flatnonzero(users >= 0)  # and, for a user of the training data, its seen items
            starts, stops = self.seen_indptr_[users[known]], self.seen_indptr_[users[known] + 1]
            scores[np.repeat(known, stops - starts), self.seen_indices_[ranges(starts, stops)]] = -np.inf
        return _top_k(scores, k)

    # -- the model file -------------------------------------------------------------------------
    def _array_layout(self):
        shapes, index_lists = super()._array_layout()
        shapes.update(sequence_indptr_=(self.n_users_ + 1,), sequence_items_=(None,))
        index_lists.append(("sequence_indptr_", "sequence_items_", self.n_items_))
        return shapes, index_lists

    def _invariants(self) -> dict[str, bool]:
        lengths = np.diff(self.sequence_indptr_)
        users = segment_of(self.sequence_indptr_)
        keys = np.unique(users * np.int64(self.n_items_) + self.sequence_items_)  # distinct (user, item)
        seen = segment_of(self.seen_indptr_) * np.int64(self.n_items_) + self.seen_indices_
        return {
            "each user's history (sequence_items_) holds user_counts_ items": np.array_equal(
                lengths, self.user_counts_
            ),
            "each user's history holds exactly its seen items (seen_indices_)": np.array_equal(keys, seen)
            and increasing_within(self.seen_indptr_, self.seen_indices_),
        }

    # -- what the subclasses provide ------------------------------------------------------------
    @property
    def _activations_per_row(self) -> int:
        """About how many numbers the network holds per row it scores: bounds a block of rows."""
        return 1

    @property
    def _input_length(self) -> int:
        """The number of most recent items a score reads (``max_len``; Caser: ``window``)."""
        return self.max_len

    def _check_fit_memory(self) -> None:
        raise NotImplementedError

    def _batches(self, sequences: Sequences, train, rng):
        raise NotImplementedError

    def _loss(self):
        raise NotImplementedError

    def _scores_of_rows(self, users: np.ndarray, rows: np.ndarray) -> np.ndarray:
        raise NotImplementedError


def _trimmed(rows: np.ndarray, model) -> np.ndarray:
    """``rows`` without the columns that are padding in every row (the models read positions from
    the latest item on the left-padded side, from the first on the right-padded side)."""
    used = np.flatnonzero((rows != model.n_items_).any(axis=0))
    if used.size == 0:
        return rows[:, -1:] if model._padding_side == "left" else rows[:, :1]
    if model._padding_side == "left":
        return rows[:, used[0] :]
    return rows[:, : used[-1] + 1]


def _check_history(model, users, history):
    """``(users, Sequences)`` of a ``recommend(history=...)`` call; users ``-1`` when anonymous."""
    if isinstance(history, (str, bytes, Mapping)) or not hasattr(history, "__len__"):
        raise ShapeError(
            f"history must be a list of item lists (one per user, oldest first), got {history!r:.60}"
        )
    entries = list(history)
    # a list of scalars is one user's history (a float or bool among them is refused below, by name)
    flat = all(isinstance(v, (numbers.Number, np.generic)) for v in entries)
    if flat and (entries or users is None or np.size(users) == 1):
        entries = [entries]  # one flat list (empty for a user with no item): the history of one user
    if users is None:
        users = np.full(len(entries), -1, dtype=np.int64)
    else:
        users = check_users(model, users)
    if len(entries) != len(users):
        raise ShapeError(f"history has {len(entries)} item lists for {len(users)} users; give one list of "
                         f"items per user, oldest first")  # fmt: skip
    lists = []
    for r, entry in enumerate(entries):
        entry = np.asarray(entry)
        entry = entry.astype(np.int64) if entry.size == 0 else entry  # np.asarray([]) is float64
        lists.append(check_index_array(entry, f"history[{r}]", model.n_items_, ndim=1))
    lengths = np.array([len(items) for items in lists], dtype=np.int64)
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    items = np.concatenate(lists) if lists else np.zeros(0, dtype=np.int64)
    return users, Sequences(indptr, items, model.n_items_)
