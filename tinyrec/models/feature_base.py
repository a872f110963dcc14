"""What the models of side information share: encoded features, pair inputs, cold start, files.

A feature model (:class:`~tinyrec.models.fm.FM`, :class:`~tinyrec.models.feature_mlp.FeatureMLP`)
reads a ``(user, item)`` pair as one sparse input: the user's **fields** (its id, optionally the
items it rated, then its encoded feature columns) followed by the item's (its id, then its
columns), each field a bag of ``(slot, weight)`` entries (:class:`~tinyrec.data.encoders.FeatureRows`).
The slots of all fields of both sides form one index space of ``n_slots`` rows, the rows of the
model's tables::

    [user ids | items the user rated | user columns' slots | item ids | item columns' slots]

:meth:`_FeatureRecommender._prepare` fits the encoders on the **training** users and items only
(those with a training interaction), encodes every user and item of the index space (those held
out too: that is how a cold user is scored), and keeps the encoded rows as arrays saved in the model
file; the fitted encoders go to its ``"features"`` header section (:mod:`tinyrec.models.persistence`).

**Cold start.** A user without training interactions is scored from its features (its id row was
never trained, and is zero); ``recommend(users, features=[{...}])`` scores the features given
instead of the stored ones, ``recommend(None, features=...)`` users outside the data (a shop's new
visitor). A user about whom the model knows nothing usable (no training interaction, and no user
feature or rated item to read) gets the most popular items, as with every recommender.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..data.encoders import FeatureEncoder, FeatureRows, join_fields, ranges, single_slot_field
from ..data.sampling import NegativeSampler
from ..errors import DataError, ModelFileError, ShapeError
from ..validation import as_generator, check_bool, check_index_array
from .base import Recommender, _check_finite_scores, _refuse_unused, _top_k
from .checks import check_k, check_users
from .persistence import segment_of

SIDES = ("user", "item")


def ids_rule(value, name: str):
    """The rule of ``use_ids``: True (both ids), False (none: a content model), ``"item"`` (the item's
    id only: users are read by their features alone, the cold-user model) or ``"user"``."""
    if value is True or value is False or value in ("item", "user"):
        return value
    raise ValueError(f"{name} must be True, False, 'item' or 'user', got {value!r}")


def feature_request(value, name: str):
    """The rule of ``user_features`` / ``item_features``: ``"all"``, ``"none"``, or a tuple of
    ``"column"`` / ``"column:encoder"`` strings (which columns exist is checked by ``fit``)."""
    if isinstance(value, str):
        if value in ("all", "none"):
            return value
        raise ValueError(f"{name} must be 'all', 'none' or a sequence of column names, got {value!r}")
    if not hasattr(value, "__iter__") or isinstance(value, (bytes, Mapping)):
        raise ValueError(
            f"{name} must be 'all', 'none' or a sequence of column names such as "
            f"('age:bucket', 'gender'), got {value!r}"
        )
    items = tuple(value)
    if not all(isinstance(v, str) and v and not v.startswith(":") for v in items):
        raise ValueError(f"{name} must hold column names ('gender', 'age:bucket'), got {value!r}")
    return items


class _FeatureRecommender(Recommender):
    """The base of the feature models (module docstring); subclasses build and train the network.

    A subclass sets ``self.user_features``, ``self.item_features``, ``self.use_ids`` and
    ``self.implicit`` (read the items each user rated as a user field), and implements
    ``_build_net``, ``_network_shapes``, ``_score_pairs(pairs)`` (scores of a :class:`FeatureRows`
    of pairs) and ``_score_users(user_rows)`` (every item's score for rows of user fields).
    """

    uses_features = True
    _array_names = tuple(
        f"{side}_feature_{part}_" for side in SIDES for part in ("indptr", "indices", "weights")
    )
    implicit = False

    @property
    def uses_history(self) -> bool:  # the items a user rated are read only with implicit=True
        return bool(self.implicit)

    # -- encoding -------------------------------------------------------------------------------
    def _prepare(self, train) -> None:
        """Fit the encoders on train's users and items; encode every user and item; build the rows."""
        known = {"user": self.user_counts_ > 0, "item": self.item_counts_ > 0}
        tables = {"user": train.user_meta, "item": train.item_meta}
        requests = {"user": self.user_features, "item": self.item_features}
        self.encoders_ = {}
        for side in SIDES:
            encoder = FeatureEncoder.for_table(tables[side], requests[side], what=f"{side}_features")
            self.encoders_[side] = encoder.fit(tables[side], known[side])
            self._keep_rows(side, encoder.encode(tables[side]))
        for side in SIDES:  # each side of a pair needs a field: its id, its rated items or a column
            rated = side == "user" and self.implicit
            if not (self._reads_id(side) or rated or self.encoders_[side].encoders):
                raise DataError(
                    f"{type(self).__name__}(use_ids={self.use_ids!r}, {side}_features={requests[side]!r}) "
                    f"reads nothing of the {side}s: read their ids (use_ids=True) or some of their columns "
                    f"({list(tables[side]) or 'the data has none'})"
                )
        self._build_rows()

    def _keep_rows(self, side: str, rows: FeatureRows) -> None:
        """Store a side's encoded columns as the model file holds them."""
        setattr(self, f"{side}_feature_indptr_", np.asarray(rows.indptr, dtype=np.int64))
        setattr(self, f"{side}_feature_indices_", np.asarray(rows.indices, dtype=np.int32))
        setattr(self, f"{side}_feature_weights_", np.asarray(rows.weights, dtype=self.dtype))

    def _stored_rows(self, side: str) -> FeatureRows:
        encoder = self.encoders_[side]
        return FeatureRows(
            getattr(self, f"{side}_feature_indptr_"),
            getattr(self, f"{side}_feature_indices_").astype(np.int64),
            getattr(self, f"{side}_feature_weights_").astype(np.float64),
            len(encoder.encoders),
            encoder.n_slots,
        )

    def _id_slots(self, side: str) -> int:
        return (self.n_users_ if side == "user" else self.n_items_) if self._reads_id(side) else 0

    def _reads_id(self, side: str) -> bool:
        """Whether ``side``'s id is a field (``use_ids``: True both, ``"item"`` / ``"user"`` one)."""
        return self.use_ids is True or self.use_ids == side

    def _side_parts(self, side: str, entities, features: FeatureRows | None = None, history=None):
        """The fields of ``entities`` of one side (ids -1: anonymous, no id entry) as FeatureRows."""
        n = self.n_users_ if side == "user" else self.n_items_
        parts = []
        if self._reads_id(side):
            parts.append(single_slot_field(entities, n))
        if side == "user" and self.implicit:
            parts.append(self._rated_field(entities, history))
        if self.encoders_[side].encoders:
            parts.append(features if features is not None else self._stored[side].select(entities))
        return parts

    def _rated_field(self, users, history=None) -> FeatureRows:
        """The items each user rated in training (or ``history[r]``), each weighing ``1/√count``."""
        if history is None:
            starts = np.where(users >= 0, self.seen_indptr_[np.maximum(users, 0)], 0)
            stops = np.where(users >= 0, self.seen_indptr_[np.maximum(users, 0) + 1], 0)
            items = self.seen_indices_[ranges(starts, stops)].astype(np.int64)
            lengths = stops - starts
        else:
            items = np.concatenate(
                [np.asarray(h, dtype=np.int64) for h in history] or [np.zeros(0, np.int64)]
            )
            lengths = np.array([len(h) for h in history], dtype=np.int64)
        indptr = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        weights = np.repeat(1.0 / np.sqrt(np.maximum(lengths, 1)), lengths)
        return FeatureRows(indptr, items, weights, 1, self.n_items_)

    def _build_rows(self) -> None:
        """The fields of every user and item (ids, rated items, columns), kept for scoring."""
        self._stored = {side: self._stored_rows(side) for side in SIDES}
        self._rows = {
            "user": join_fields(*self._side_parts("user", np.arange(self.n_users_))),
            "item": join_fields(*self._side_parts("item", np.arange(self.n_items_))),
        }

    def _after_load(self) -> None:
        self._build_rows()

    # -- the sizes the tables need (from the hyperparameters and the encoders) -------------------
    def _field_sizes(self, side: str) -> list[int]:
        sizes = [self._id_slots(side)] if self._reads_id(side) else []
        if side == "user" and self.implicit:
            sizes.append(self.n_items_)
        return sizes + self.encoders_[side].field_sizes

    @property
    def n_slots_(self) -> int:
        """Rows of the model's tables: every slot of every field of both sides."""
        return sum(self._field_sizes("user")) + sum(self._field_sizes("item"))

    @property
    def n_fields_(self) -> int:
        return len(self._field_sizes("user")) + len(self._field_sizes("item"))

    def _slot_labels(self) -> list[str]:
        """A name for every slot of the tables, in order (for ``explain``)."""
        labels = []
        for side, ids in (("user", self.user_ids_), ("item", self.item_ids_)):
            if self._reads_id(side):
                labels += [f"{side} {raw}" for raw in ids.tolist()]
            if side == "user" and self.implicit:
                labels += [f"rated item {raw}" for raw in self.item_ids_.tolist()]
            labels += self.encoders_[side].labels()
        return labels

    # -- pairs ----------------------------------------------------------------------------------
    def _pairs(
        self, users: np.ndarray, items: np.ndarray, user_rows: FeatureRows | None = None
    ) -> FeatureRows:
        """The fields of each pair ``(users[r], items[r])`` side by side: one row per pair."""
        left = self._rows["user"].select(users) if user_rows is None else user_rows
        return join_fields(left, self._rows["item"].select(items))

    def _training_pairs(self, train, objective: str, n_negatives: int, batch_size: int, rng):
        """The batch source of ``fit_recommender`` (:class:`PairBatches`) for ``objective``."""
        return PairBatches(self, train, objective, n_negatives, batch_size, rng, self.user_balance)

    def _zero_untrained(self, tables) -> None:
        """Zero the rows of ``tables`` that no training pair reached (unknown ids, unseen slots): they
        hold their random start, which would otherwise score a cold user or item by noise."""
        trained = np.zeros(self.n_slots_, dtype=bool)
        trained[self._rows["user"].select(np.flatnonzero(self.user_counts_ > 0)).indices] = True
        offset = self._rows["user"].n_slots
        trained[offset + self._rows["item"].select(np.flatnonzero(self.item_counts_ > 0)).indices] = True
        for table in tables:
            table[~trained] = 0.0

    # -- scoring --------------------------------------------------------------------------------
    def _score(self, users, items) -> np.ndarray:
        return self._score_pairs(self._pairs(users, items))

    def _score_all(self, users) -> np.ndarray:
        return self._score_users(self._rows["user"].select(users))

    def recommend(self, users, k: int = 10, *, exclude_seen: bool = True, history=None, features=None):
        """Each user's ``k`` best items, from what the model learnt and, for a new user, its features.

        Parameters
        ----------
        users : (n,) int array, or None
            Dense user indices; None with ``features`` (or ``history``) for users outside the
            data (a new visitor): no id is read.
        k : int
        exclude_seen : bool
            Leave out each user's training items (and the items of its ``history``).
        history : list of item lists, optional
            Only with ``implicit=True``: the items each user rated, read instead of its training
            items (a new user's first few items).
        features : dict, or list of dicts, optional
            Each user's features ``{column: value}`` (a single dict for a single user), encoded as
            in training (an unknown category goes to the "unknown" slot; a column left out is
            missing), read instead of the stored ones.

        Returns ``(items, scores)``, both ``(n, k)``, best first (see :meth:`Recommender.recommend`).
        A user unknown to the model with nothing to read (no user feature, no rated item) gets the
        most popular items, scored by their training count.
        """
        _refuse_unused(self, history=history)
        users, rows, informed = self._query(users, history, features)
        check_bool(exclude_seen, "exclude_seen")
        k = check_k(k, self.n_items_, "n_items")
        scores = np.asarray(self._score_users(rows), dtype=np.float64)
        scores[~informed] = self.item_counts_  # the popularity fallback
        _check_finite_scores(self, scores, np.maximum(users, 0), "recommend")
        if exclude_seen:
            exclude_seen_rows(self, scores, users, history)
        return _top_k(scores, k)

    def _query(self, users, history, features):
        """``(users, user rows, informed)`` of a ``recommend`` call; users -1 are anonymous (no id)."""
        records = _records(features)
        _check_history_layout(history)
        given = [len(x) for x in (history, records) if x is not None]
        if users is None:
            if not given:
                raise ShapeError("users=None needs features= or history=: one entry per new user")
            users = np.full(given[0], -1, dtype=np.int64)
            records = [{}] * len(users) if records is None else records  # nothing known: all missing
        else:
            users = check_users(self, users)
        if any(n != len(users) for n in given):
            raise ShapeError(
                f"give one entry of features / history per user: {len(users)} users, got {given}"
            )
        if history is not None:
            history = [
                check_index_array(
                    np.asarray(h, dtype=np.int64) if len(h) == 0 else h,
                    f"history[{r}]",
                    self.n_items_,
                    ndim=1,
                )
                for r, h in enumerate(history)
            ]
        encoded = None if records is None else self.encoders_["user"].encode_records(records, what="features")
        parts = self._side_parts("user", users, encoded, history)
        rows = join_fields(*parts)  # fit saw to it that the user side has a field
        informed = np.zeros(len(users), dtype=bool)  # anything to read: a trained id, features, items
        informed[users >= 0] = self.user_counts_[users[users >= 0]] > 0
        informed |= bool(self.encoders_["user"].encoders)
        if history is not None:
            informed |= np.array([len(h) > 0 for h in history], dtype=bool)
        return users, rows, informed

    # -- the model file -------------------------------------------------------------------------
    def _encoder_section(self) -> dict:
        """The fitted encoders, as the model file's ``"features"`` section holds them."""
        return {side: self.encoders_[side].state() for side in SIDES}

    def _restore_encoders(self, section, path) -> None:
        """Rebuild the encoders from a file's ``"features"`` section (checked by its schema)."""
        if section is None:
            raise ModelFileError(
                f"{path}: a {type(self).__name__} needs the 'features' section (its fitted "
                f"encoders); the file is corrupt or was edited, save the model again"
            )
        try:
            self.encoders_ = {side: FeatureEncoder.from_state(section[side]) for side in SIDES}
        except ValueError as exc:
            raise ModelFileError(f"{path}: header field features: {exc}") from None

    def _array_layout(self):
        shapes, index_lists = super()._array_layout()
        n_rows = {"user": self.n_users_, "item": self.n_items_}
        for side in SIDES:
            encoder = self.encoders_[side]
            shapes[f"{side}_feature_indptr_"] = (n_rows[side] * len(encoder.encoders) + 1,)
            shapes[f"{side}_feature_indices_"] = (None,)
            shapes[f"{side}_feature_weights_"] = (None,)
            index_lists.append((f"{side}_feature_indptr_", f"{side}_feature_indices_", encoder.n_slots))
        return shapes, index_lists

    def _invariants(self) -> dict[str, bool]:
        out = {}
        for side in SIDES:
            indptr = getattr(self, f"{side}_feature_indptr_")
            indices = getattr(self, f"{side}_feature_indices_")
            weights = getattr(self, f"{side}_feature_weights_")
            sizes = self.encoders_[side].field_sizes
            starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
            field = segment_of(indptr) % max(len(sizes), 1)
            inside = (
                (indices >= starts[field]) & (indices < starts[field + 1]) if sizes else indices.size == 0
            )
            out[f"the {side} features have one weight per slot, each slot within its field"] = bool(
                weights.shape == indices.shape and np.all(inside)
            )
        return out


def exclude_seen_rows(model, scores, users, history=None) -> None:
    """Set to ``-inf`` the training items of each known user (``users[r] >= 0``) in row ``r`` of
    ``scores``, and the items of ``history[r]``: :meth:`Recommender.recommend`'s exclusion, vectorized."""
    rows = np.flatnonzero(users >= 0)
    starts, stops = model.seen_indptr_[users[rows]], model.seen_indptr_[users[rows] + 1]
    scores[np.repeat(rows, stops - starts), model.seen_indices_[ranges(starts, stops)]] = -np.inf
    if history is not None:
        lengths = np.array([len(h) for h in history], dtype=np.int64)
        items = np.concatenate([np.zeros(0, np.int64)] + [np.asarray(h, dtype=np.int64) for h in history])
        scores[np.repeat(np.arange(len(history)), lengths), items] = -np.inf


def _check_history_layout(history) -> None:
    """``history``: None, or a sequence of item-index sequences (one per user); else a ShapeError."""
    if history is None:
        return
    flat = isinstance(history, (str, bytes)) or not hasattr(history, "__len__")
    if flat or any(isinstance(h, (str, bytes)) or not hasattr(h, "__len__") for h in history):
        raise ShapeError(
            "history must be a list of item-index sequences, one per user ([[3, 17], [5]]), "
            f"got {history!r:.60}"
        )


def _records(features):
    """``features`` as a list of dicts (one dict is one user's), or None."""
    if features is None:
        return None
    if isinstance(features, Mapping):
        return [features]
    if isinstance(features, (str, bytes)) or not hasattr(features, "__len__"):
        raise ShapeError(f"features must be a dict {{column: value}} or a list of them, got {features!r:.60}")
    return list(features)


class PairBatches:
    """Training batches of ``(user, item)`` pairs as a feature model's network inputs, redrawn per epoch.

    ``objective``: ``"mse"`` every rating once (target: the rating); ``"bce"`` every positive
    (label 1) and ``n_negatives`` negatives (label 0); ``"bpr"`` every positive with one negative,
    stacked: the first half of a batch's rows are the positives, the second their negatives (target:
    ones, one per triple); ``"sampled_softmax"`` every positive with ``n_negatives`` negatives,
    stacked (a batch's ``N`` positives, then their ``N·K`` negatives, each positive's together;
    target: ones, one per positive); ``"softmax"`` every positive once, as its user's fields alone
    (the network is a head that scores every item with a training interaction, ``FMItemSoftmax``;
    target: the item's column there, its rank among those items).
    Negatives are drawn uniformly among the items with a training interaction that the user has not
    interacted with (an item held out, a cold item, is never taught as a negative); the positives of
    a user who interacted with every such item have no negative and are left out of the sampled
    objectives (counted in ``skipped``). Inputs come from ``model._net_inputs(pairs)`` (``"softmax"``:
    of the user rows).

    ``user_balance = α`` (``0 ≤ α ≤ 1``) weighs users against each other: with ``α = 0`` an epoch
    holds every training interaction once, in a fresh order; with ``α > 0`` it holds as many,
    drawn with replacement, interaction ``(u, i)`` with probability ``∝ n_u^{−α}`` (``n_u``: the
    user's interactions). User ``u`` then carries ``n_u^{1−α}`` of an epoch instead of ``n_u``;
    ``α = 1`` weighs every user alike, as :func:`tinyrec.evaluation.evaluate` does (each user's
    metric is averaged over its own test items, then over users), while heavy users dominate an
    epoch of ``α = 0``: for a cold user, known by features alone, that weighs the tastes of a few
    heavy raters. Negatives are drawn for the drawn positives.
    """

    def __init__(self, model, train, objective: str, n_negatives: int, batch_size: int, rng,
                 user_balance: float = 0.0):  # fmt: skip
        self.model, self.objective, self.rng = model, objective, as_generator(rng)
        self.user_balance = float(user_balance)
        self.n_negatives = int(n_negatives) if objective in ("bce", "sampled_softmax") else 1
        self.batch_size = int(batch_size)
        self.users, self.items = train.users.astype(np.int64), train.items.astype(np.int64)
        self.ratings = train.ratings.astype(model.dtype)
        self.sampler, self.skipped = None, 0
        if objective == "softmax":  # each item's column among the items with a training interaction
            self.items = (np.cumsum(model.item_counts_ > 0) - 1)[self.items]
        if objective not in ("mse", "softmax"):  # uniform over the items seen in training (popularity ** 0)
            self.sampler = NegativeSampler(train, "popularity", alpha=0.0, seed=self.rng)
            keep = ~np.isin(self.users, self.sampler.full_users)  # users left with no negative
            self.skipped = int((~keep).sum())
            self.users, self.items, self.ratings = self.users[keep], self.items[keep], self.ratings[keep]

    def __len__(self) -> int:
        rows = len(self.users) * (1 + self.n_negatives) if self.objective == "bce" else len(self.users)
        return -(-rows // self.batch_size)

    def _drawn(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """An epoch's ``(users, items, ratings)``: every interaction (``user_balance = 0``), or as many
        drawn with probability ``∝ n_u^{−α}`` (class docstring)."""
        if self.user_balance == 0.0 or len(self.users) == 0:
            return self.users, self.items, self.ratings
        n_u = np.bincount(self.users)[self.users].astype(np.float64)
        p = n_u**-self.user_balance
        rows = self.rng.choice(len(self.users), size=len(self.users), p=p / p.sum())
        return self.users[rows], self.items[rows], self.ratings[rows]

    def epoch(self):
        """Yield ``(inputs, target)`` batches of one epoch (fresh negatives and order)."""
        model, size, dtype = self.model, self.batch_size, self.model.dtype
        epoch_users, epoch_items, epoch_ratings = self._drawn()
        if self.objective == "softmax":
            order = self.rng.permutation(len(epoch_users))
            for s in range(0, len(order), size):
                rows = order[s : s + size]
                yield model._net_inputs(model._rows["user"].select(epoch_users[rows])), epoch_items[rows]
            return
        if self.objective == "mse":
            order = self.rng.permutation(len(epoch_users))
            for s in range(0, len(order), size):
                rows = order[s : s + size]
                pairs = model._pairs(epoch_users[rows], epoch_items[rows])
                yield model._net_inputs(pairs), epoch_ratings[rows]
            return
        negatives = self.sampler.sample(epoch_users, self.n_negatives).astype(np.int64)  # (n_pos, n_neg)
        if self.objective == "sampled_softmax":  # a batch: N positives, then their N·K negatives
            order = self.rng.permutation(len(epoch_users))
            for s in range(0, len(order), size):
                rows = order[s : s + size]
                users = np.concatenate([epoch_users[rows], np.repeat(epoch_users[rows], self.n_negatives)])
                items = np.concatenate([epoch_items[rows], negatives[rows].reshape(-1)])
                yield model._net_inputs(model._pairs(users, items)), np.ones(len(rows), dtype=dtype)
            return
        if self.objective == "bpr":
            order = self.rng.permutation(len(epoch_users))
            for s in range(0, len(order), size):
                rows = order[s : s + size]
                users = np.concatenate([epoch_users[rows], epoch_users[rows]])
                items = np.concatenate([epoch_items[rows], negatives[rows, 0]])
                yield model._net_inputs(model._pairs(users, items)), np.ones(len(rows), dtype=dtype)
            return
        users = np.concatenate([epoch_users, np.repeat(epoch_users, self.n_negatives)])
        items = np.concatenate([epoch_items, negatives.reshape(-1)])
        labels = np.concatenate([np.ones(len(epoch_users)), np.zeros(negatives.size)]).astype(dtype)
        order = self.rng.permutation(len(users))
        for s in range(0, len(order), size):
            rows = order[s : s + size]
            yield model._net_inputs(model._pairs(users[rows], items[rows])), labels[rows]
