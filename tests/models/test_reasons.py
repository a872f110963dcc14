"""tinyrec.models.reasons: the item quoted by "because you liked" is the most co-bought one, the group
is named as the encoders read it, and the explainer's effects choose between the two reasons."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from tinyrec.data import Interactions
from tinyrec.data.features import Column, FeatureTable
from tinyrec.errors import DataError, IndexOutOfRangeError, ShapeError
from tinyrec.models.reasons import Reasons


def _train():
    # users 0-3 bought; user 4 has no purchase. Items: 0 "A", 1 "B", 2 "C", 3 "D".
    users = [0, 0, 1, 1, 1, 2, 2, 3]
    items = [0, 1, 0, 1, 2, 2, 3, 3]
    meta = FeatureTable(
        {
            "age": Column(np.array([20.0, 30.0, np.nan, 30.0, 30.0]), "numeric", encoding="bucket",
                          edges=(18, 25, 35)),
            "job": Column(np.array(["student", "artist", "student", "", "artist"]), "categorical"),
        }
    )  # fmt: skip
    titles = FeatureTable({"title": Column(np.array(["A", "B", "C", "D"]), "text")})
    return Interactions(users, items, n_users=5, n_items=4, user_meta=meta, item_meta=titles)


class Explainer:
    """Answers explain() with fixed effects per field."""

    def __init__(self, effects):
        self.effects, self.calls = effects, []

    def explain(self, user, item, top=5, *, features=None):
        self.calls.append((user, item, top))
        return SimpleNamespace(effects=sorted(self.effects.items(), key=lambda e: -e[1]))


def test_because_quotes_the_purchase_most_bought_together_with_the_item():
    reasons = Reasons(_train(), group=("age", "job"))
    # item 3 (D) was bought by users 2, 3; user 1 bought A (buyers 0, 1), B (0, 1), C (1, 2):
    # only C shares a buyer with D, cosine 1 / sqrt(2 * 2)
    liked, sim = reasons.liked_most_like(1, 3)
    assert liked == 2 and sim == pytest.approx(0.5)
    assert reasons(1, 3) == "because you liked C"
    assert reasons.liked_most_like(4, 3) == (-1, 0.0)


def test_because_never_quotes_an_item_bought_with_no_buyer_in_common_nor_the_item_itself():
    reasons = Reasons(_train(), group=("age", "job"))
    # user 0 bought A and B, whose buyers (0, 1) share nobody with D's (2, 3): nothing to quote
    assert reasons.liked_most_like(0, 3) == (-1, 0.0)
    assert reasons(0, 3) == "people like you (18–24, student) liked this"
    # asked about A, which user 0 bought: the reason quotes B (same buyers), never A itself
    assert reasons.liked_most_like(0, 0) == (1, pytest.approx(1.0))
    assert reasons(0, 0) == "because you liked B"


def test_reasons_check_the_user_and_the_item():
    reasons = Reasons(_train(), group=("age", "job"))
    for user in (-1, -2, 5):  # -2 would have been user 3, counted from the end
        with pytest.raises(
            IndexOutOfRangeError, match=rf"user contains {user}, outside the valid range \[0, 5\)"
        ):
            reasons(user, 3)
    with pytest.raises(IndexOutOfRangeError, match=r"item contains 99, outside the valid range \[0, 4\)"):
        reasons(1, 99)
    with pytest.raises(IndexOutOfRangeError, match="item contains -1"):
        reasons.liked_most_like(1, -1)
    for call in (
        lambda: reasons(None, 3),
        lambda: reasons.group_label(None),
        lambda: reasons.liked_most_like(None, 3),
    ):
        with pytest.raises(DataError, match=r"user=None is a new visitor.*features=\{"):
            call()


def test_a_group_column_must_have_a_one_slot_encoder():
    with pytest.raises(DataError, match=r"'age' is encoded by 'standard'.*\['onehot', 'bucket', 'hash'\]"):
        Reasons(_train(), group=("age:standard", "job"))
    assert Reasons(_train(), group=("age:onehot", "job")).group_label(1) == "30, artist"


def test_the_group_is_named_by_the_encoded_values_and_leaves_unknown_ones_out():
    reasons = Reasons(_train(), group=("age", "job"))
    assert reasons.group_label(1) == "25–34, artist"
    assert reasons.group_label(2) == "student"  # no age
    assert (
        reasons.group_label(None, features={"age": 19, "job": "student", "gender": "F"}) == "18–24, student"
    )
    assert reasons.group_label(None, features={}) == "your group"


def test_the_explainer_chooses_history_or_group():
    train = _train()
    by_id = Explainer({"user id": 0.3, "user age": 0.1, "user job": 0.1, "item id": 0.5})
    by_group = Explainer({"user id": 0.05, "user age": 0.04, "user job": 0.02})
    assert Reasons(train, by_id, group=("age", "job"))(1, 3) == "because you liked C"
    assert (
        Reasons(train, by_group, group=("age", "job"))(1, 3) == "people like you (25–34, artist) liked this"
    )
    neither = Explainer({"user id": -0.08, "user age": -0.01, "user job": -0.002, "item id": 0.3})
    assert Reasons(train, neither, group=("age", "job"))(1, 3) == "because you liked C"  # no group lift
    new_user = Reasons(train, Explainer({"user id": 0.3}), group=("age", "job"))
    assert new_user(4, 3) == "people like you (25–34, artist) liked this"  # no purchase: always the group
    assert new_user(None, 3, features={"age": 40}) == "people like you (35+) liked this"
    assert not new_user.explainer.calls  # a user without history needs no explanation


def test_reasons_refuses_anything_but_interactions():
    with pytest.raises(TypeError, match="Interactions"):
        Reasons({"users": [0]})


def test_titles_that_do_not_name_every_item_are_refused():
    train = _train()
    with pytest.raises(ShapeError, match=rf"titles must name each of the {train.n_items} items"):
        Reasons(train, group=("age", "job"), titles=["A", "B"])


def test_a_feature_mlp_names_the_fields_the_reasons_read():
    """Reasons reads FeatureMLP's own FieldEffects by their field names, both ways: the model's
    effects shifted so that the group lifted the score (or the user's id did) decide the reason."""
    from tinyrec.models import FeatureMLP

    train = _train()
    model = FeatureMLP(4, (4,), 2, user_features=("age", "job"), item_features="none", seed=0).fit(train)
    fields = {name for name, _ in model.explain(1, 3, top=100).effects}
    assert {"user id", "user age", "user job"} <= fields

    class Shifted:  # the model's explanation, one field's effect raised by 1
        def __init__(self, field):
            self.field = field

        def explain(self, user, item, top=5, *, features=None):
            explanation = model.explain(user, item, top, features=features)
            explanation.effects = [(n, e + (n == self.field)) for n, e in explanation.effects]
            return explanation

    by_group, by_id = (
        Reasons(train, Shifted("user job"), group=("age", "job")),
        Reasons(train, Shifted("user id"), group=("age", "job")),
    )
    for user, item in ((1, 3), (0, 2), (3, 0)):
        assert by_group.kind(user, item) == "group" and by_id.kind(user, item) == "history"
    assert by_group(1, 3) == "people like you (25–34, artist) liked this"
    assert by_id(1, 3) == "because you liked C"
