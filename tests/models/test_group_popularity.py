"""GroupPopularity: the rates by hand, shrinkage, new users by their features, the fallback chain."""

import numpy as np
import pytest

import tinyrec
from tinyrec.data import Interactions
from tinyrec.errors import DataError
from tinyrec.models import GroupPopularity


def shop():
    """Users 0-2 are 'F', 3-4 'M', 5 'F' without interactions; 'F' users like item 0, 'M' item 2."""
    users = np.array([0, 1, 2, 0, 3, 4, 3, 4])
    items = np.array([0, 0, 0, 1, 2, 2, 1, 3])
    meta = {"gender": np.array(["F", "F", "F", "M", "M", "F"]), "genres": np.array(["a|b"] * 6)}
    return Interactions(users, items, n_users=6, n_items=4, user_meta=meta)


def test_rates_by_hand_and_shrinkage():
    data = shop()
    model = GroupPopularity(("gender",), shrinkage=2.0).fit(data)
    overall = data.item_counts() / 5  # five training users
    female = (np.array([3, 1, 0, 0]) + 2 * overall) / (3 + 2)
    male = (np.array([0, 1, 2, 1]) + 2 * overall) / (2 + 2)
    np.testing.assert_allclose(model.score_all(np.array([0, 3])), [female, male])
    raw = GroupPopularity(("gender",), shrinkage=0.0).fit(data)
    np.testing.assert_allclose(raw.score_all(np.array([3]))[0], [0, 0.5, 1, 0.5])
    assert not np.allclose(raw.score_all(np.array([0])), model.score_all(np.array([0])))


def test_a_cold_user_gets_its_groups_list_and_new_users_come_by_features():
    data = shop()
    model = GroupPopularity(("gender",), shrinkage=0.0).fit(data)
    items, _ = model.recommend(np.array([5]), k=2)  # no interaction, but 'F': the F list
    assert items[0].tolist() == [0, 1]
    items, _ = model.recommend(None, k=1, features=[{"gender": "M"}, {"gender": "F"}])
    assert items[:, 0].tolist() == [2, 0]
    # an unknown category makes a group of its own; no training user is in it: popularity, by count
    items, scores = model.recommend(None, k=2, features={"gender": "X"})
    assert items[0].tolist() == [0, 1] and scores[0].tolist() == [3.0, 2.0]


def test_pair_scores_are_the_matrix_entries():
    data = shop()
    for beta in (0.0, 2.0):
        model = GroupPopularity(("gender",), shrinkage=beta).fit(data)
        users, items = np.repeat(np.arange(6), 4), np.tile(np.arange(4), 6)
        np.testing.assert_allclose(model.predict(users, items), model.score_all(np.arange(6)).reshape(-1))


def test_save_load_keeps_the_groups(tmp_path):
    data = shop()
    model = GroupPopularity(("gender",)).fit(data)
    loaded = tinyrec.load(model.save(tmp_path / "groups.npz"))
    np.testing.assert_array_equal(loaded.score_all(np.arange(6)), model.score_all(np.arange(6)))
    new = [{"gender": "M"}]
    np.testing.assert_array_equal(
        loaded.recommend(None, k=3, features=new)[0], model.recommend(None, k=3, features=new)[0]
    )


def test_refusals():
    data = shop()
    with pytest.raises(DataError, match="one value per column"):
        GroupPopularity(("genres",)).fit(data)
    with pytest.raises(DataError, match="no column 'age'.*pick one of"):
        GroupPopularity(("age",)).fit(data)
    ids_only = tinyrec.Interactions(data.users, data.items, data.ratings)  # no features at all
    with pytest.raises(DataError, match="no column 'age'.*no feature columns.*user_features=PATH"):
        GroupPopularity(("age",)).fit(ids_only)
    model = GroupPopularity(("gender",)).fit(data)
    with pytest.raises(DataError, match="users=None needs features"):
        model.recommend(None)
    with pytest.raises(tinyrec.errors.ArgumentTypeError, match="does not read history"):
        model.recommend(np.array([0]), history=[[1]])
