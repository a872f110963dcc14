"""What the sequence models share (tinyrec/models/sequential/base.py): the stored histories, fit with a
validation split, recommend(history=...) and its bad input, truncation, the model file."""

import numpy as np
import pytest

import tinyrec.io
import tinyrec.modelfile
from tinyrec.data.sequences import Sequences, validation_split
from tinyrec.data.split import leave_one_out
from tinyrec.errors import ArgumentTypeError, DTypeError, IndexOutOfRangeError, ModelFileError, ShapeError
from tinyrec.evaluation import evaluate
from tinyrec.models import Popularity
from tinyrec.models.sequential import Caser, GRU4Rec, SASRec

from .contract import implicit_toy

SMALL = {
    "SASRec": lambda **kw: SASRec(max_len=4, dim=4, n_epochs=2, batch_size=8, seed=0, **kw),
    "GRU4Rec": lambda **kw: GRU4Rec(dim=3, hidden=4, max_len=4, n_epochs=2, batch_size=8, seed=0, **kw),
    "Caser": lambda **kw: Caser(window=3, n_targets=2, dim=4, n_epochs=2, batch_size=16, seed=0, **kw),
}
MODELS = sorted(SMALL)


def fitted(name, **kw):
    train, test = implicit_toy()
    return SMALL[name](**kw).fit(train), train, test


@pytest.mark.parametrize("name", MODELS)
def test_the_stored_history_is_each_users_train_items_in_time_order(name):
    model, train, _ = fitted(name)
    expected = Sequences.from_interactions(train)
    np.testing.assert_array_equal(model.sequence_indptr_, expected.indptr)
    np.testing.assert_array_equal(model.sequence_items_, expected.items)


@pytest.mark.parametrize("name", MODELS)
def test_fit_with_valid_keeps_the_best_epoch_then_reads_the_whole_train_sequence(name):
    """valid chooses the epochs; afterwards each user's history is its train items followed by its
    valid item, the seen items include it, and test stays out of everything."""
    train, test = implicit_toy()
    fit_part, valid = validation_split(train)
    model = SMALL[name](patience=1, protocol="full").fit(fit_part, valid=valid)  # 20 items: not 99 negatives
    assert len(model.history_["val_ndcg@10"]) == len(model.history_["loss"])
    whole = Sequences.from_interactions(fit_part, valid)
    np.testing.assert_array_equal(model.sequence_items_, whole.items)
    np.testing.assert_array_equal(model.user_counts_, fit_part.user_counts() + valid.user_counts())
    for u, i in zip(valid.users.tolist(), valid.items.tolist(), strict=True):
        assert i in model.seen_indices_[model.seen_indptr_[u] : model.seen_indptr_[u + 1]]
        assert i not in model.recommend(np.array([u]), k=5)[0]
    rows = model._sequences.padded(test.users, model._input_length, side=model._padding_side)
    assert not np.any(rows == test.items[:, None])  # no test item in what test users are scored from
    for u, i in zip(test.users.tolist(), test.items.tolist(), strict=True):
        assert i not in model._sequences.of(u)  # ... nor anywhere in their stored histories
    result = evaluate(model, test, train=train, protocol="full")  # no test pair was fitted on
    assert 0.0 <= result["hr@10"] <= 1.0


@pytest.mark.parametrize("name", MODELS)
def test_history_scores_a_user_as_if_it_were_stored(name):
    model, train, _ = fitted(name)
    users = np.array([1, 2, 5])
    history = [model._sequences.of(u).tolist() for u in users]
    for a, b in zip(model.recommend(users, k=4, history=history), model.recommend(users, k=4), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", ["SASRec", "GRU4Rec"])
def test_a_user_never_seen_in_training_is_scored_from_its_history(name):
    model, train, _ = fitted(name)
    unknown = train.n_users - 1
    assert train.user_counts()[unknown] == 0
    popular = model.recommend(np.array([unknown]), k=3)[0]  # no history: the most popular items
    items, scores = model.recommend(np.array([unknown]), k=3, history=[[3, 4, 5]])
    assert not np.array_equal(items, popular)
    assert not {3, 4, 5} & set(items[0].tolist())  # its history counts as seen
    anonymous = model.recommend(None, k=3, history=[3, 4, 5])  # a flat list: one anonymous session
    np.testing.assert_array_equal(anonymous[0], items)


@pytest.mark.parametrize("name", MODELS)
def test_an_empty_history_gets_the_most_popular_items(name):
    model, train, _ = fitted(name)
    counts = model.item_counts_
    popular = np.lexsort((np.arange(train.n_items), -counts))[:3]
    for history in ([[]], []):
        items, scores = model.recommend(None, k=3, history=history)
        np.testing.assert_array_equal(items[0], popular)
        np.testing.assert_array_equal(scores[0], counts[popular])


@pytest.mark.parametrize("name", MODELS)
def test_a_history_longer_than_max_len_is_read_from_its_most_recent_items(name):
    """Documented truncation: only the last max_len (Caser: window) items are read."""
    model, _, _ = fitted(name)
    keep = model._input_length
    long_history = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
    full = model.recommend(None, k=5, history=[long_history], exclude_seen=False)
    recent = model.recommend(None, k=5, history=[long_history[-keep:]], exclude_seen=False)
    for a, b in zip(full, recent, strict=True):
        np.testing.assert_array_equal(a, b)


def test_bad_history_is_refused():
    model, train, _ = fitted("SASRec")
    with pytest.raises(IndexOutOfRangeError, match=r"history\[1\]"):
        model.recommend(None, history=[[1, 2], [train.n_items]])  # the padding id is not an item
    with pytest.raises(IndexOutOfRangeError, match=r"history\[0\]"):
        model.recommend([0], history=[[-1]])
    with pytest.raises(ShapeError, match="2 item lists for 3 users"):
        model.recommend([0, 1, 2], history=[[1], [2]])
    with pytest.raises(ShapeError, match="list of item lists"):
        model.recommend([0], history="1 2 3")
    with pytest.raises(ShapeError, match="list of item lists"):
        model.recommend([0], history={0: [1, 2]})  # a dict would be read as its keys
    with pytest.raises(DTypeError, match=r"history\[0\] must hold integers"):
        model.recommend([0], history=[1.5, 2.0])  # a flat list of floats: one user's, not two lists
    with pytest.raises(ArgumentTypeError, match="features"):
        model.recommend([0], features={"genre": 1})
    with pytest.raises(ArgumentTypeError, match="features"):
        model.recommend([0], history=[[1]], features={"genre": 1})


def test_models_that_read_no_history_refuse_it():
    train, _ = implicit_toy()
    model = Popularity().fit(train)
    with pytest.raises(ArgumentTypeError, match="Popularity.recommend does not read history"):
        model.recommend([0], history=[[1, 2]])
    with pytest.raises(ArgumentTypeError, match="does not read features"):
        model.recommend([0], features=np.zeros(3))


@pytest.mark.parametrize("name", MODELS)
def test_a_user_with_one_interaction_is_scored_from_it(name):
    """A single item has no next item to learn from (no training row, no Caser window), but is a
    history to read: the user is scored from that item alone, as an anonymous session of it is
    (Caser: no trained user vector, so no user term)."""
    train, _ = implicit_toy()
    one = train.subset(~((train.users == 3) & (train.items != train.items[train.users == 3][0])))
    assert one.user_counts()[3] == 1
    model = SMALL[name]().fit(one)
    (item,) = model._sequences.of(3)
    stored = model.recommend(np.array([3]), k=5)
    session = model.recommend(None, k=5, history=[[int(item)]])
    for a, b in zip(stored, session, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    assert item not in stored[0]


def test_load_refuses_a_history_holding_the_padding_id(tmp_path):
    """The padding id (n_items) is not an item: a model file whose history holds it is refused."""
    model, _, _ = fitted("SASRec")
    path = model.save(tmp_path / "model.npz")
    header, arrays = tinyrec.modelfile.read_npz(path)
    edited = dict(arrays)
    edited["sequence_items_"] = arrays["sequence_items_"].copy()
    edited["sequence_items_"][0] = model.n_items_
    tinyrec.modelfile.write_npz(path, header, edited)
    with pytest.raises(ModelFileError, match="sequence_items_"):
        tinyrec.io.load(path)


@pytest.mark.parametrize("name", MODELS)
def test_load_refuses_histories_that_break_the_invariants(name, tmp_path):
    model, _, _ = fitted(name)
    path = model.save(tmp_path / "model.npz")
    header, arrays = tinyrec.modelfile.read_npz(path)
    edited = dict(arrays)
    items = arrays["sequence_items_"].copy()
    items[0] = (items[0] + 1) % model.n_items_  # still an item, but not one user 0 has seen
    edited["sequence_items_"] = items
    listed = {k: {"shape": list(v.shape), "dtype": v.dtype.str} for k, v in edited.items()}
    tinyrec.modelfile.write_npz(path, {**header, "arrays": listed}, edited)
    with pytest.raises(ModelFileError, match="exactly its seen items"):
        tinyrec.io.load(path)


def test_the_readme_split_works_end_to_end():
    """leave_one_out by time, a validation split, fit, both protocols: what the README table runs."""
    train, test = implicit_toy()
    data_train, data_test = leave_one_out(train, by="time")
    fit_part, valid = validation_split(data_train)
    model = SMALL["GRU4Rec"](protocol="full").fit(fit_part, valid=valid)
    assert evaluate(model, data_test, train=data_train, protocol="full")["n_users"] > 0
    result = evaluate(model, data_test, train=data_train, protocol="sampled", n_negatives=1)  # user 0: 1 left
    assert result["n_users"] > 0
