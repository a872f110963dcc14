"""``Popularity``: recommend the items with the most training interactions to everyone."""

from __future__ import annotations

import numpy as np

from .base import Recommender


class Popularity(Recommender):
    """The non-personalized baseline: an item's score is its number of training interactions.

    Notes
    -----
    ``score(u, i) = |{v : (v, i) in train}|``, the same for every user ``u``. It is the bar any
    personalized model must clear under ranking protocols, and the fallback that
    :meth:`~tinyrec.models.Recommender.recommend` uses for unknown users. It has no
    hyperparameters and no randomness (ties are broken by the smaller item index).

    Examples
    --------
    >>> model = Popularity().fit(train)                            # doctest: +SKIP
    >>> items, scores = model.recommend(np.array([0, 1]), k=10)    # doctest: +SKIP
    """

    hyperparameters: dict = {}  # none
    task = "ranking"

    def __init__(self):
        self._check_hyperparameters()

    def _fit(self, train, valid) -> None:
        pass  # item_counts_ is computed by Recommender.fit

    def _score(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        return self.item_counts_[items].astype(np.float64)

    def _score_all(self, users: np.ndarray) -> np.ndarray:
        # (n, n_items): every user gets the same row
        return np.tile(self.item_counts_.astype(np.float64), (len(users), 1))
