"""synthetic(): exact size, distinct pairs, skew, seeded, and a planted model that is the best predictor."""

import numpy as np
import pytest

from tinyrec.data import random_holdout, synthetic
from tinyrec.errors import DataError


def test_shape_and_distinct_pairs():
    d = synthetic(100, 80, 2000, seed=0)
    assert (d.n_users, d.n_items, len(d)) == (100, 80, 2000)
    assert not d.has_duplicates() and d.user_counts().min() >= 1 and d.user_counts().max() <= 40
    assert d.timestamps is not None and d.ratings.dtype == np.float32


def test_seeded():
    a, b = synthetic(50, 40, 500, seed=3), synthetic(50, 40, 500, seed=3)
    np.testing.assert_array_equal(a.items, b.items)
    np.testing.assert_array_equal(a.ratings, b.ratings)
    assert not np.array_equal(synthetic(50, 40, 500, seed=4).items, a.items)


def test_popularity_skew_makes_a_long_tail():
    flat = np.sort(synthetic(300, 100, 3000, popularity_skew=0.0, seed=1).item_counts())[::-1]
    skew = np.sort(synthetic(300, 100, 3000, popularity_skew=1.5, seed=1).item_counts())[::-1]
    share = lambda c: c[:10].sum() / c.sum()  # noqa: E731
    assert share(skew) > 2 * share(flat)


def test_planted_model_is_the_best_rating_predictor():
    d = synthetic(300, 200, 6000, noise=0.4, seed=2)
    planted = d.info["planted"]
    _, test = random_holdout(d, seed=0)
    best = planted.best_rmse(test)
    assert abs(best - 0.4) < 0.03
    mean_rmse = float(np.sqrt(np.mean((test.ratings - d.ratings.mean()) ** 2)))
    assert mean_rmse > 2 * best
    np.testing.assert_allclose(
        planted.rating(d.users, d.items), d.ratings, atol=6 * 0.4
    )  # residuals are the noise


def test_choices_follow_affinity():
    d = synthetic(200, 100, 4000, popularity_skew=0.0, seed=5)
    planted = d.info["planted"]
    chosen = planted.affinity(d.users, d.items).mean()
    rng = np.random.default_rng(0)
    random_pairs = planted.affinity(rng.integers(0, 200, 4000), rng.integers(0, 100, 4000)).mean()
    assert chosen > random_pairs + 0.3


def test_bad_arguments():
    with pytest.raises(DataError, match="n_interactions"):
        synthetic(10, 10, 60)
    with pytest.raises(DataError, match="n_interactions"):
        synthetic(10, 10, 5)
    with pytest.raises(ValueError):
        synthetic(10, 10, 20, noise=-1)
    # 2.5 items was truncated to 2 and then blamed on n_interactions
    for kwargs in ({"n_items": 2.5}, {"n_users": "10"}, {"rank": 0}, {"n_interactions": 1e4}):
        with pytest.raises(ValueError, match=f"{next(iter(kwargs))} must be an integer >= 1"):
            synthetic(**kwargs)


def test_bad_noise_skew_and_time_name_the_argument():
    for name in ("noise", "popularity_skew", "activity_skew"):
        for bad in (float("nan"), float("inf"), -1.0):
            with pytest.raises(ValueError, match=f"{name} must be a finite number >= 0"):
                synthetic(10, 10, 20, **{name: bad})
    with pytest.raises(ValueError, match="duration must be an integer >= 1, got 0"):
        synthetic(10, 10, 20, duration=0)  # was numpy's "high <= 0"
    with pytest.raises(ValueError, match="start_time must be an integer"):
        synthetic(10, 10, 20, start_time=1.5)
    d = synthetic(10, 10, 20, start_time=0, duration=1, seed=0)
    assert (d.timestamps == 0).all()


def test_timestamps_must_fit_in_int64():
    # start_time=2**63 raised OverflowError, duration=2**63 numpy's "high is out of bounds"
    for kwargs in ({"start_time": 2**63}, {"duration": 2**63}, {"start_time": 2**62, "duration": 2**62}):
        expected = r"start_time \+ duration must be at most 2\*\*63 - 1 .*use a smaller"
        with pytest.raises(ValueError, match=expected):
            synthetic(10, 10, 20, **kwargs)
    d = synthetic(10, 10, 20, start_time=2**63 - 2, duration=1, seed=0)
    assert (d.timestamps == 2**63 - 2).all()
    d = synthetic(10, 10, 20, start_time=0, duration=2**63 - 1, seed=0)
    assert d.timestamps.min() >= 0
