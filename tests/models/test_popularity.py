"""Popularity: scores are training counts, the same for every user, ratings ignored."""

import numpy as np

from tinyrec.data.interactions import Interactions
from tinyrec.models import Popularity

from .contract import planted_ratings


def test_scores_are_training_counts_for_every_user():
    train, test, _ = planted_ratings()
    model = Popularity().fit(train)
    counts = np.bincount(train.items, minlength=train.n_items)
    np.testing.assert_array_equal(model.score_all(np.array([0, 5, 5])), np.tile(counts, (3, 1)))
    np.testing.assert_array_equal(model.predict(test.users, test.items), counts[test.items])


def test_ratings_do_not_matter_and_repeats_count():
    data = Interactions([0, 1, 1, 2], [2, 2, 2, 0], [1.0, 5.0, 5.0, 3.0], n_items=3)
    ones = data.with_ratings(np.ones(4))
    a, b = Popularity().fit(data), Popularity().fit(ones)
    np.testing.assert_array_equal(a.score_all(np.array([0])), [[1.0, 0.0, 3.0]])
    np.testing.assert_array_equal(a.score_all(np.array([0])), b.score_all(np.array([0])))


def test_recommend_excludes_seen_and_orders_by_count():
    data = Interactions([0, 1, 1, 2, 2, 2], [0, 0, 1, 0, 1, 2], n_items=4)
    items, scores = Popularity().fit(data).recommend(np.array([0, 2]), k=2)
    np.testing.assert_array_equal(items, [[1, 2], [3, -1]])
    np.testing.assert_array_equal(scores[0], [2.0, 1.0])


def test_repr_has_no_hyperparameters():
    assert repr(Popularity()) == "Popularity()"
