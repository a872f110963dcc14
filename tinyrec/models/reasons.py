"""One line of reason per recommended item: "because you liked X" or "people like you (…) liked this".

A shop shows each recommended item with a short reason. :class:`Reasons` gives one of two:

* **the user's history**: "because you liked X", where ``X`` is the item of the user's training
  interactions (other than ``i`` itself) most often bought together with the recommended item
  ``i``: the largest cosine of the two items' buyer sets, ``sim(i, j) = |U_i ∩ U_j| / √(|U_i| |U_j|)``
  over the training users ``U_i`` who interacted with ``i``. When no item of the history shares a
  buyer with ``i`` (every cosine is 0), there is no such ``X`` and the reason is the group;
* **the user's group**: "people like you (25–34, student) liked this", the group named by the
  user's feature values (the bucketed age, the occupation), encoded as the models encode them.

Which of the two is the **explainer**'s call, a model with an ``explain(user, item, top, *,
features=None)`` that returns the effect of each field on its score (``FeatureMLP.explain``:
``effects = [(field, p − p without the field), ...]``): when the user's group fields together
raised the score of ``i``, and more than the user's own id did (what the model learnt from the
user's history), the reason is the group; otherwise the history. A user without training
interactions (a new visitor given by features) always gets the group; without an explainer, a user
with history gets the history.
"""

from __future__ import annotations

import numpy as np

from ..data.encoders import FeatureEncoder, ranges
from ..data.interactions import Interactions
from ..errors import ArgumentTypeError, DataError, ShapeError
from .checks import check_index

__all__ = ["Reasons"]

#: the encoders that put a value in one slot, whose label names the group
ONE_SLOT_ENCODERS = ("onehot", "bucket", "hash")


class Reasons:
    """Reasons for the recommendations of ``train``'s users (module docstring).

    Parameters
    ----------
    train : Interactions
        The training interactions (whose users' histories the reasons quote) with ``user_meta``.
    explainer : model with ``explain``, optional
        Fitted on ``train``'s index space (``FeatureMLP``); chooses between the two reasons.
    group : tuple of str, default ("age", "occupation")
        The user columns that name a group, each with a one-slot encoder (:data:`ONE_SLOT_ENCODERS`:
        ``"age"`` is bucketed by its hint on MovieLens; ``"column:encoder"`` otherwise).
    titles : (n_items,) array, optional
        The names that quote an item (default: ``train.item_meta["title"]``, or the raw item ids).
    """

    def __init__(self, train: Interactions, explainer=None, *, group=("age", "occupation"), titles=None):
        if not isinstance(train, Interactions):
            raise ArgumentTypeError(f"Reasons takes the training Interactions, got {type(train).__name__}")
        self.train, self.explainer, self.group = train, explainer, tuple(group)
        self._counts = train.user_counts()
        known = self._counts > 0
        self.encoder = FeatureEncoder.for_table(train.user_meta, self.group, what="group")
        for encoder in self.encoder.encoders:
            if encoder.name not in ONE_SLOT_ENCODERS:
                raise DataError(
                    f"group: column {encoder.column!r} is encoded by {encoder.name!r}, which gives no one "
                    f"value to name; use one of {list(ONE_SLOT_ENCODERS)} ('{encoder.column}:bucket')"
                )
        self.encoder.fit(train.user_meta, known)
        self._labels = self.encoder.labels()
        self._rows = self.encoder.encode(train.user_meta)
        if titles is None:
            titles = train.item_meta["title"] if "title" in train.item_meta else train.item_ids.astype(str)
        self.titles = np.asarray(titles)
        if self.titles.shape != (train.n_items,):
            raise ShapeError(
                f"titles must name each of the {train.n_items:,} items of train, in its item order "
                f"(shape ({train.n_items},)); got shape {self.titles.shape}"
            )
        self._by_user = train.to_csr(by="user")[:2]
        self._by_item = train.to_csr(by="item")[:2]
        self._buyers = np.diff(self._by_item[0]).astype(np.float64)  # |U_i|

    def group_label(self, user=None, *, features=None) -> str:
        """``"25–34, student"``: the group's values of the user (or of ``features``, a dict), the
        unknown ones left out."""
        if features is None:
            rows = self._rows.select([self._user(user)])
        else:  # the group's columns of the features given (the others are the model's business)
            used = set(self.encoder.columns)
            rows = self.encoder.encode_records([{k: v for k, v in dict(features).items() if k in used}])
        names = [self._labels[slot].partition("=")[2] for slot in rows.indices.tolist()]
        return ", ".join(n for n in names if n and n not in ("<unknown>", "<missing>")) or "your group"

    def liked_most_like(self, user: int, item: int) -> tuple[int, float]:
        """``(j, sim(item, j))``: the item ``j != item`` of ``user``'s training interactions most
        bought together with ``item``; ``(-1, 0.0)`` when there is none (no history, or no item of
        it shares a buyer with ``item``)."""
        user, item = self._user(user), self._item(item)
        indptr, indices = self._by_user
        history = indices[indptr[user] : indptr[user + 1]].astype(np.int64)
        history = history[history != item]
        if not len(history):
            return -1, 0.0
        item_ptr, buyers = self._by_item
        buyers = buyers[item_ptr[item] : item_ptr[item + 1]].astype(np.int64)  # U_item
        bought = indices[ranges(indptr[buyers], indptr[buyers + 1])]  # every item of those buyers
        together = np.bincount(bought, minlength=self.train.n_items)  # |U_item ∩ U_j| for every j
        sim = together[history] / np.sqrt(np.maximum(self._buyers[item] * self._buyers[history], 1.0))
        best = int(np.argmax(sim))
        if sim[best] == 0.0:  # no buyer in common: nothing was bought together
            return -1, 0.0
        return int(history[best]), float(sim[best])

    def kind(self, user, item: int, *, features=None) -> str:
        """``"history"`` or ``"group"``: which reason fits ``item`` for ``user`` (None: a new user)."""
        item = self._item(item)
        if (user is None and features is not None) or self._counts[self._user(user)] == 0:
            return "group"
        if self.explainer is None:
            return "history"
        explanation = self.explainer.explain(user, item, top=1000, features=features)
        effects = dict(explanation.effects)
        own = effects.get("user id", 0.0)
        group = sum(effects.get(f"user {column.partition(':')[0]}", 0.0) for column in self.group)
        return "group" if group > max(own, 0.0) else "history"

    def __call__(self, user, item: int, *, features=None) -> str:
        """The reason for recommending ``item`` to ``user`` (None with ``features``: a new user)."""
        if self.kind(user, item, features=features) == "history":
            liked, _ = self.liked_most_like(user, item)
            if liked >= 0:
                return f"because you liked {self.titles[liked]}"
        return f"people like you ({self.group_label(user, features=features)}) liked this"

    def _user(self, user) -> int:
        """A training user's index (an int in ``[0, n_users)``; a negative one is refused, not wrapped)."""
        if user is None:
            raise DataError(
                "user=None is a new visitor, known by their features only: give them, "
                "features={'age': 25, 'occupation': 'student'}"
            )
        return check_index(user, "user", self.train.n_users)

    def _item(self, item) -> int:
        return check_index(item, "item", self.train.n_items)
