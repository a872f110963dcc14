"""``GroupPopularity``: the most popular items among the users who share a user's features.

The first link of the cold-start fallback chain for models that cannot read features: a new user
of a known group (25–34, student) gets what that group liked; a user of a group never seen in
training, or of no group at all, gets :class:`~tinyrec.models.Popularity`'s list.
"""

from __future__ import annotations

import numpy as np

from ..data.encoders import FeatureEncoder
from ..errors import DataError, ModelFileError
from ..validation import nonnegative
from .base import Recommender, _check_finite_scores, _refuse_unused, _top_k
from .checks import check_k, check_users
from .feature_base import _records, exclude_seen_rows, feature_request


class GroupPopularity(Recommender):
    """Item popularity within the user's feature group, shrunk toward the overall popularity.

    Parameters
    ----------
    columns : tuple of str, default ("age", "gender")
        The user columns whose values make a group, each ``"column"`` or ``"column:encoder"``
        with a one-slot encoder (``onehot``, ``bucket``, ``hash``): MovieLens ages are bucketed at
        its age groups by default. Fitted on the training users only.
    shrinkage : float, default 5
        ``β``: how many users' worth of the overall popularity a group's rate starts from.

    Notes
    -----
    A group ``g`` is a combination of the columns' slots (an unknown or missing value is a slot
    of its own). With ``n_g`` the training users of ``g``, ``c_gi`` those of them who interacted
    with item ``i``, ``c_i`` all training users who did and ``n`` the training users::

        score(u, i) = (c_{g(u) i} + β c_i / n) / (n_{g(u)} + β)

    a group's rate of ``i``, shrunk toward the overall rate. A group without training users
    (``n_g = 0``) scores ``c_i / n``: popularity, the chain's last link. ``recommend`` reads a new
    user's ``features`` (its group), as the feature models do.
    """

    hyperparameters = {"columns": feature_request, "shrinkage": nonnegative}
    task = "ranking"
    uses_features = True
    _array_names = ("group_of_user_", "group_keys_", "group_sizes_", "group_counts_")

    def __init__(self, columns=("age", "gender"), shrinkage: float = 5.0):
        self.columns, self.shrinkage = columns, shrinkage
        self._check_hyperparameters()

    def _fit(self, train, valid) -> None:
        known = self.user_counts_ > 0
        encoder = FeatureEncoder.for_table(train.user_meta, self.columns, what="columns").fit(
            train.user_meta, known
        )
        self.encoders_ = {"user": encoder, "item": FeatureEncoder()}
        slots = self._slots(encoder.encode(train.user_meta))  # (n_users, C)
        if slots.shape[1]:
            self.group_keys_, group = np.unique(slots, axis=0, return_inverse=True)
        else:  # no column: everyone in one group (its rates are popularity)
            self.group_keys_, group = (
                np.zeros((1, 0), dtype=np.int64),
                np.zeros(self.n_users_, dtype=np.int64),
            )
        group = group.reshape(-1).astype(np.int64)
        n_groups = len(self.group_keys_)
        self.group_sizes_ = np.bincount(group[known], minlength=n_groups).astype(np.float64)
        self.group_counts_ = np.zeros((n_groups, self.n_items_))
        np.add.at(self.group_counts_, (group[train.users], train.items), 1.0)
        # kept as floats (small whole numbers, exact): a model file holds the learnt arrays as floats
        self.group_of_user_, self.group_keys_ = group.astype(np.float64), self.group_keys_.astype(np.float64)
        self._after_load()

    def _slots(self, rows) -> np.ndarray:
        """``(n, C)``: each row's slot in each column (every encoder gives one slot per row)."""
        n_columns = len(self.encoders_["user"].encoders)
        if len(rows.indices) != rows.n_rows * n_columns:
            raise DataError(
                f"GroupPopularity groups users by one value per column; {self.columns} include a "
                f"multi-valued or numeric column: use onehot, bucket or hash encoders ('age:bucket')"
            )
        return rows.indices.reshape(rows.n_rows, n_columns)

    def _after_load(self) -> None:
        self._group = self.group_of_user_.astype(np.int64)  # (n_users,) each user's group
        self._group_of_key = {
            tuple(key): g for g, key in enumerate(self.group_keys_.astype(np.int64).tolist())
        }

    def _rates(self, groups: np.ndarray) -> np.ndarray:
        """``(n, n_items)`` scores of the groups ``groups`` (-1: no group, popularity)."""
        n_train_users = max(int((self.user_counts_ > 0).sum()), 1)
        overall = self.item_counts_ / n_train_users  # c_i / n
        counts = np.where(groups[:, None] >= 0, self.group_counts_[np.maximum(groups, 0)], 0.0)
        sizes = np.where(groups >= 0, self.group_sizes_[np.maximum(groups, 0)], 0)
        beta = float(self.shrinkage)
        if beta == 0.0:  # no shrinkage: an empty group falls back to popularity itself
            return np.where(sizes[:, None] > 0, counts / np.maximum(sizes, 1)[:, None], overall[None, :])
        return (counts + beta * overall) / (sizes + beta)[:, None]

    def _score(self, users, items) -> np.ndarray:
        """The rate of each pair, from its own entries only (not an ``(n, n_items)`` matrix per call)."""
        groups = self._group[users]
        overall = self.item_counts_[items] / max(int((self.user_counts_ > 0).sum()), 1)  # c_i / n
        counts, sizes = self.group_counts_[groups, items], self.group_sizes_[groups]
        beta = float(self.shrinkage)
        if beta == 0.0:
            return np.where(sizes > 0, counts / np.maximum(sizes, 1), overall)
        return (counts + beta * overall) / (sizes + beta)

    def _score_all(self, users) -> np.ndarray:
        return self._rates(self._group[users])

    def recommend(self, users, k: int = 10, *, exclude_seen: bool = True, history=None, features=None):
        """Each user's ``k`` most popular items within its group; ``users=None`` with ``features``
        (one dict per new user): the groups of users outside the data. See :meth:`Recommender.recommend`."""
        _refuse_unused(self, history=history)
        records = _records(features)
        if users is None:
            if records is None:
                raise DataError("users=None needs features=: one dict of column values per new user")
            users = np.full(len(records), -1, dtype=np.int64)
        else:
            users = check_users(self, users)
        k = check_k(k, self.n_items_, "n_items")
        groups = np.where(users >= 0, self._group[np.maximum(users, 0)], -1)
        if records is not None:
            if len(records) != len(users):
                raise DataError(
                    f"give one dict of features per user: {len(users)} users, {len(records)} dicts"
                )
            slots = self._slots(self.encoders_["user"].encode_records(records, what="features"))
            groups = np.array(
                [self._group_of_key.get(tuple(key), -1) for key in slots.tolist()], dtype=np.int64
            )
        scores = self._rates(groups)
        # what there is to read: a training user, or a group with training users (by its columns)
        informed = np.zeros(len(users), dtype=bool)
        informed[users >= 0] = self.user_counts_[users[users >= 0]] > 0
        if self.encoders_["user"].encoders:
            informed |= np.where(groups >= 0, self.group_sizes_[np.maximum(groups, 0)], 0) > 0
        scores[~informed] = self.item_counts_  # the chain's last link, as every recommender's
        _check_finite_scores(self, scores, np.maximum(users, 0), "recommend")
        if exclude_seen:
            exclude_seen_rows(self, scores, users)
        return _top_k(scores, k)

    # -- the model file -------------------------------------------------------------------------
    def _encoder_section(self) -> dict:
        return {side: self.encoders_[side].state() for side in ("user", "item")}

    def _restore_encoders(self, section, path) -> None:
        if section is None:
            raise ModelFileError(
                f"{path}: a GroupPopularity needs the 'features' section; save the model again"
            )
        try:
            self.encoders_ = {side: FeatureEncoder.from_state(section[side]) for side in ("user", "item")}
        except ValueError as exc:
            raise ModelFileError(f"{path}: header field features: {exc}") from None

    def _array_layout(self):
        shapes, index_lists = super()._array_layout()
        n_columns = len(self.encoders_["user"].encoders)
        shapes.update(group_of_user_=(self.n_users_,), group_keys_=(None, n_columns), group_sizes_=(None,),
                      group_counts_=(None, self.n_items_))  # fmt: skip
        return shapes, index_lists

    def _invariants(self) -> dict[str, bool]:
        n_groups = len(self.group_keys_)
        whole = all(
            np.array_equal(a, np.round(a)) for a in (self.group_of_user_, self.group_keys_, self.group_sizes_)
        )
        return {
            "groups, keys and sizes are whole numbers": bool(whole),
            "every user's group is a row of group_keys_": bool(
                np.all((self.group_of_user_ >= 0) & (self.group_of_user_ < n_groups))
            ),
            "one size and one row of counts per group": len(self.group_sizes_)
            == len(self.group_counts_)
            == n_groups,
            "counts are non-negative": bool(
                np.all(self.group_counts_ >= 0) and np.all(self.group_sizes_ >= 0)
            ),
        }
