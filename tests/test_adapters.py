"""tinyrec.adapters: another library's model, with its own ids, as something ``evaluate`` takes.

The "other library" here is a small object that knows only its own ids (strings for tinyrec's int
ids, ints for tinyrec's string ids) and scores a pair by a formula of those ids, so a pair mapped to
the wrong id gets a visibly wrong score. Each adapter must give, for tinyrec's indices, the score
of the ids those indices stand for; the vectorized path must equal the per-pair path and call the
other library once per batch; ``evaluate`` through an adapter must equal ``evaluate`` of a tinyrec
model scoring the same pairs. Surprise and implicit: tests/libraries/.
"""

import numpy as np
import pytest

from tinyrec import adapters, evaluate
from tinyrec.data import Interactions
from tinyrec.errors import DataError, DTypeError, IndexOutOfRangeError, ShapeError


def _split(string_ids: bool):
    """A train/test split whose raw ids are ints (MovieLens) or strings; one index space."""
    rng = np.random.default_rng(7)
    n = 300
    users, items = rng.integers(0, 12, n) * 7 + 3, rng.integers(0, 20, n) * 11 + 5
    if string_ids:
        users, items = np.array([f"user{u}" for u in users]), np.array([f"item{i}" for i in items])
    ratings = rng.integers(1, 6, n).astype(np.float64)
    data = Interactions.from_raw(users, items, ratings)
    test_rows = np.zeros(n, dtype=bool)
    test_rows[rng.choice(n, 60, replace=False)] = True
    return data.subset(~test_rows), data.subset(test_rows)


def _their_user(raw):
    """The other library's id of one of tinyrec's raw user ids: ints -> strings, strings -> ints."""
    return f"U{raw}" if isinstance(raw, int) else int(raw.removeprefix("user")) + 1000


def _their_item(raw):
    return f"I{raw}" if isinstance(raw, int) else int(raw.removeprefix("item")) + 5000


def _number(their_id) -> float:
    return float(their_id[1:]) if isinstance(their_id, str) else float(their_id)


def _their_score(their_user, their_item) -> float:
    """The other library's score of one pair: a formula of its own ids (a wrong id, a wrong score)."""
    return 1.0 + ((_number(their_user) * 31 + _number(their_item) * 17) % 97) / 24.0


class OtherLibrary:
    """Scores pairs of its own ids, one at a time or a batch; counts its calls."""

    def __init__(self):
        self.calls = 0

    def predict(self, u, i) -> float:
        self.calls += 1
        return _their_score(u, i)

    def predict_batch(self, users, items) -> np.ndarray:
        self.calls += 1
        return np.array([_their_score(u, i) for u, i in zip(users, items, strict=True)])


def _expected(train, users, items) -> np.ndarray:
    """What a correct adapter returns for tinyrec indices: the score of the ids they stand for."""
    raw_users, raw_items = train.user_ids.tolist(), train.item_ids.tolist()
    return np.array([_their_score(_their_user(raw_users[u]), _their_item(raw_items[i]))
                     for u, i in zip(users, items, strict=True)])  # fmt: skip


def _all_pairs(train):
    users, items = np.meshgrid(np.arange(train.n_users), np.arange(train.n_items), indexing="ij")
    return users.ravel(), items.ravel()


@pytest.mark.parametrize("string_ids", [False, True], ids=["int ids to strings", "string ids to ints"])
def test_predict_maps_ids_and_the_vectorized_path_equals_the_per_pair_path(string_ids):
    train, _ = _split(string_ids)
    users, items = _all_pairs(train)
    other = OtherLibrary()
    one = adapters.PredictAdapter(train, predict=other.predict, user_id=_their_user, item_id=_their_item)
    per_pair = one.predict(users, items)
    assert other.calls == len(users)  # a Python call per pair
    np.testing.assert_array_equal(per_pair, _expected(train, users, items))
    other.calls = 0
    batch = adapters.PredictAdapter(train, predict_batch=other.predict_batch, predict=other.predict,
                                    user_id=_their_user, item_id=_their_item)  # fmt: skip
    np.testing.assert_array_equal(batch.predict(users, items), per_pair)
    assert other.calls == 1  # the batch path is preferred, one call for every pair
    assert batch.predict(users, items).dtype == np.float64


@pytest.mark.parametrize("string_ids", [False, True])
def test_the_id_map_goes_both_ways(string_ids):
    train, _ = _split(string_ids)
    ids = adapters.IdMap(train, user_id=_their_user, item_id=_their_item)
    theirs_u = [_their_user(u) for u in train.user_ids.tolist()]
    theirs_i = [_their_item(i) for i in train.item_ids.tolist()]
    assert ids.users.tolist() == theirs_u and ids.items.tolist() == theirs_i
    np.testing.assert_array_equal(ids.user_index(theirs_u[::-1]), np.arange(train.n_users)[::-1])
    np.testing.assert_array_equal(ids.item_index(theirs_i), np.arange(train.n_items))
    unknown = "nobody" if not string_ids else -1
    np.testing.assert_array_equal(ids.user_index([theirs_u[2], unknown]), [2, -1])
    # a mapping instead of a callable, and no conversion at all
    mapped = adapters.IdMap(train, user_id=dict(zip(train.user_ids.tolist(), theirs_u, strict=True)))
    assert mapped.users.tolist() == theirs_u
    assert adapters.IdMap(train).items.tolist() == train.item_ids.tolist()


@pytest.mark.parametrize("string_ids", [False, True])
def test_evaluate_through_an_adapter_equals_a_model_scoring_the_same_pairs(string_ids):
    train, test = _split(string_ids)
    model = adapters.PredictAdapter(train, predict_batch=OtherLibrary().predict_batch,
                                    user_id=_their_user, item_id=_their_item, task="rating")  # fmt: skip
    table = _expected(train, *_all_pairs(train)).reshape(train.n_users, train.n_items)

    class Direct:  # the same scores, in tinyrec's indices, with no ids involved
        def predict(self, users, items):
            return table[users, items]

    rating = evaluate(model, test, train=train)
    assert rating == evaluate(Direct(), test, train=train, protocol="rating")
    assert evaluate(model, test, train=train, protocol="full") == evaluate(
        Direct(), test, train=train, protocol="full"
    )


@pytest.mark.parametrize("string_ids", [False, True])
def test_score_all_reorders_the_other_librarys_columns(string_ids):
    train, test = _split(string_ids)
    rng = np.random.default_rng(3)
    their_items = [_their_item(i) for i in train.item_ids.tolist()]
    columns = [their_items[c] for c in rng.permutation(train.n_items)] + [_their_item(999)]  # one extra
    calls = []

    def score_all(their_users):  # (n, n_columns) in the other library's column order
        calls.append(len(their_users))
        return np.array([[_their_score(u, i) for i in columns] for u in their_users])

    model = adapters.ScoreAllAdapter(train, score_all, item_order=columns, user_id=_their_user,
                                     item_id=_their_item, task="ranking")  # fmt: skip
    users = np.array([3, 0, 3, 5])
    expected = _expected(train, np.repeat(users, train.n_items), np.tile(np.arange(train.n_items), 4))
    np.testing.assert_array_equal(model.score_all(users), expected.reshape(4, train.n_items))
    assert calls == [4]
    table = _expected(train, *_all_pairs(train)).reshape(train.n_users, train.n_items)

    class Direct:
        def score_all(self, users):
            return table[users]

    assert evaluate(model, test, train=train) == evaluate(Direct(), test, train=train, protocol="full")


def test_score_all_scores_items_the_other_library_lacks_with_unknown_score():
    train, _ = _split(False)
    columns = [_their_item(i) for i in train.item_ids.tolist()][2:]  # the first two items lacking
    with pytest.raises(DataError, match="2 of tinyrec's .* items are not among .* unknown_score"):
        adapters.ScoreAllAdapter(train, lambda u: None, item_order=columns, item_id=_their_item)
    model = adapters.ScoreAllAdapter(train, lambda users: np.ones((len(users), len(columns))),
                                     item_order=columns, item_id=_their_item, unknown_score=-5.0)  # fmt: skip
    scores = model.score_all(np.arange(3))
    np.testing.assert_array_equal(scores[:, :2], -5.0)
    np.testing.assert_array_equal(scores[:, 2:], 1.0)


def test_bad_input_is_named():
    train, _ = _split(False)
    other = OtherLibrary()
    with pytest.raises(TypeError, match="give predict_batch"):
        adapters.PredictAdapter(train)
    with pytest.raises(ValueError, match="task='clicks'"):
        adapters.PredictAdapter(train, predict=other.predict, task="clicks")
    with pytest.raises(TypeError, match="tinyrec.data.Interactions"):
        adapters.PredictAdapter(train.users, predict=other.predict)
    with pytest.raises(DataError, match="two tinyrec ids become the same id"):
        adapters.IdMap(train, user_id=lambda u: "everyone")
    with pytest.raises(DataError, match="no entry for 1 ids"):
        adapters.IdMap(train, user_id={u: u for u in train.user_ids.tolist()[1:]})
    with pytest.raises(TypeError, match="an id conversion must be None, a callable"):
        adapters.IdMap(train, item_id=42)
    wrong_length = adapters.PredictAdapter(train, predict_batch=lambda u, i: np.zeros(len(u) + 1))
    with pytest.raises(ShapeError, match=r"predict_batch returned shape \(4,\); expected \(3,\)"):
        wrong_length.predict([0, 1, 2], [0, 1, 2])
    words = adapters.PredictAdapter(train, predict_batch=lambda u, i: np.array(["a"] * len(u)))
    with pytest.raises(DTypeError, match="expected numbers"):
        words.predict([0, 1], [0, 1])
    flat = adapters.ScoreAllAdapter(train, lambda u: np.zeros(len(u)))
    with pytest.raises(ShapeError, match="score_all returned shape"):
        flat.score_all([0, 1])
    narrow = adapters.ScoreAllAdapter(train, lambda u: np.zeros((len(u), train.n_items - 1)))
    with pytest.raises(ShapeError, match=rf"expected \(2, {train.n_items}\): one row per user"):
        narrow.score_all([0, 1])  # one column short: caught here, not as a broadcast error later


def test_adapters_refuse_indices_outside_the_split():
    """NumPy would wrap a negative index around to another user: the adapters refuse it, by name."""
    train, _ = _split(False)
    pairs = adapters.PredictAdapter(train, predict_batch=OtherLibrary().predict_batch,
                                    user_id=_their_user, item_id=_their_item)  # fmt: skip
    every = adapters.ScoreAllAdapter(train, lambda users: np.zeros((len(users), train.n_items)))
    assert pairs.predict(np.array([0, 1]), np.array([1, 0])).shape == (2,)
    for users, items, name in (([-1], [0], "users"), ([0], [train.n_items], "items")):
        with pytest.raises(IndexOutOfRangeError, match=f"{name} \\(tinyrec indices.*outside the valid range"):
            pairs.predict(np.array(users), np.array(items))
    with pytest.raises(ShapeError, match="must pair up"):
        pairs.predict(np.array([0, 1]), np.array([0]))
    with pytest.raises(DTypeError, match="users .*must hold integers"):
        pairs.predict(np.array([0.5]), np.array([0]))
    with pytest.raises(IndexOutOfRangeError, match=f"contains {train.n_users}, outside"):
        every.score_all(np.array([0, train.n_users]))
    assert every.score_all([]).shape == (0, train.n_items)  # an empty request, as before
    assert pairs.predict([], []).shape == (0,)
