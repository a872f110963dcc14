"""FM: the network against its definition and central differences, torch parity of a training step,
features and cold start, recommend(features=...), the model file's encoders, explain. (The
recommender contract, on ids: tests/models/contract_cases_features.py.)"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinyrec
from tests.helpers import require_torch
from tinyrec.errors import ArgumentTypeError, DataError, ModelFileError, ShapeError
from tinyrec.gradcheck import check_module
from tinyrec.losses import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from tinyrec.modelfile import HEADER_KEY
from tinyrec.models.fm import FM, FMItemSoftmax, FMNet, StackedBPRLoss
from tinyrec.nn import RowGrad

from .contract import planted_ratings


def with_features(data, seed=0):
    """``data`` with user (age, job) and item (genres, year) columns that carry some signal."""
    rng = np.random.default_rng(seed)
    n_u, n_i = data.n_users, data.n_items
    user_meta = {"age": rng.integers(15, 70, n_u).astype(float), "job": rng.choice(["a", "b", "c"], n_u)}
    item_meta = {
        "genres": rng.choice(["x|y", "y", "z", "x|z"], n_i),
        "year": rng.integers(1950, 2000, n_i) * 1.0,
    }
    return data.with_meta(user_meta=user_meta, item_meta=item_meta)


def toy(seed=0):
    train, test, _ = planted_ratings(seed=seed)
    return with_features(train), with_features(test)


def csr_batch(rng, n_rows, n_features, max_len=4):
    lengths = rng.integers(0, max_len + 1, n_rows)
    lengths[0] = max(lengths[0], 2)  # an entry to perturb, and one pair (empty rows come later)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    indices = rng.integers(0, n_features, offsets[-1])
    return indices, offsets, rng.standard_normal(offsets[-1])


# ------------------------------------------------------------------ the network
@settings(max_examples=40, deadline=None)
@given(st.integers(1, 8), st.integers(1, 5), st.integers(1, 6), st.integers(0, 2**16))
def test_network_gradients_match_central_differences(n_features, d, n_rows, seed):
    rng = np.random.default_rng(seed)
    net = FMNet(n_features, d, init_std=0.5, dtype=np.float64, seed=seed)
    net.weight.data[:] = rng.standard_normal((n_features, 1))
    net.bias.data[:] = rng.standard_normal(1)
    report = check_module(net, *csr_batch(rng, n_rows, n_features), seed=seed)
    report.assert_ok(1e-6)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 7), st.integers(1, 4), st.integers(1, 5), st.integers(0, 2**16))
def test_the_sum_square_identity_is_the_pairwise_definition(n_features, d, n_rows, seed):
    rng = np.random.default_rng(seed)
    net = FMNet(n_features, d, init_std=1.0, dtype=np.float64, seed=seed)
    net.weight.data[:] = rng.standard_normal((n_features, 1))
    indices, offsets, x = csr_batch(rng, n_rows, n_features)
    V, w, b = net.factors.data, net.weight.data[:, 0], net.bias.data[0]
    expected = []
    for r in range(n_rows):
        a, xa = indices[offsets[r] : offsets[r + 1]], x[offsets[r] : offsets[r + 1]]
        pairs = sum(V[a[p]] @ V[a[q]] * xa[p] * xa[q] for p in range(len(a)) for q in range(p + 1, len(a)))
        expected.append(b + w[a] @ xa + pairs)
    np.testing.assert_allclose(net.forward(indices, offsets, x), expected, rtol=1e-12, atol=1e-12)


def test_table_gradients_are_row_sparse_and_bad_rows_are_refused():
    net = FMNet(6, 3, dtype=np.float64, seed=0)
    y = net(np.array([1, 4, 1]), np.array([0, 2, 3]), np.array([1.0, 0.5, 2.0]))
    net.backward(np.ones_like(y))
    assert isinstance(net.factors.grad, RowGrad) and isinstance(net.weight.grad, RowGrad)
    assert sorted(set(net.factors.grad.rows.tolist())) == [1, 4]  # only the rows the batch names
    with pytest.raises(ShapeError, match="CSR rows"):
        net(np.array([1, 2]), np.array([0, 3]), np.array([1.0, 1.0]))
    with pytest.raises(ValueError, match="indices"):
        net(np.array([6]), np.array([0, 1]), np.array([1.0]))


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 8), st.integers(1, 4), st.integers(1, 5), st.integers(1, 6), st.integers(0, 2**16))
def test_the_softmax_head_gradients_match_central_differences(n_features, d, n_rows, n_items, seed):
    rng = np.random.default_rng(seed)
    net = FMNet(n_features, d, init_std=0.5, dtype=np.float64, seed=seed)
    net.weight.data[:] = rng.standard_normal((n_features, 1))
    head = FMItemSoftmax(net, *csr_batch(rng, n_items, n_features))
    report = check_module(head, *csr_batch(rng, n_rows, n_features), seed=seed)
    assert net.bias.grad is None  # w_0 is in no logit
    report.assert_ok(1e-6)


def test_the_softmax_logits_are_the_pair_scores_less_a_constant_per_user():
    train, _ = toy()
    model = FM(3, 1, loss="softmax", dtype=np.float64, seed=0, init_std=0.5).fit(train)
    model.net.weight.data[:] = np.random.default_rng(0).standard_normal(model.net.weight.data.shape)
    model.net.bias.data[:] = 0.7
    users = np.array([0, 3, 5])
    logits = model._softmax_head()(*model._net_inputs(model._rows["user"].select(users)))
    pairs = model.score_all(users)[:, model.item_counts_ > 0]  # ŷ_ui: the items with an interaction
    assert logits.shape == pairs.shape
    np.testing.assert_allclose(pairs - logits, (pairs - logits)[:, :1].repeat(pairs.shape[1], 1), atol=1e-12)


# ------------------------------------------------------------------ the whole model, checked numerically
@pytest.mark.parametrize("loss", ["mse", "bce", "bpr", "softmax"])
def test_a_training_batch_of_the_whole_model_passes_the_gradient_check(loss):
    train, _ = toy()
    model = FM(3, 1, loss=loss, implicit=True, dtype=np.float64, seed=0, init_std=0.5).fit(train)
    inputs, target = next(iter(model._training_pairs(train, loss, 2, 12, np.random.default_rng(1)).epoch()))
    objective = {"mse": MSELoss(), "bce": BCEWithLogitsLoss(), "bpr": StackedBPRLoss(),
                 "softmax": CrossEntropyLoss()}[loss]  # fmt: skip
    net = model._softmax_head() if loss == "softmax" else model.net  # softmax: logits of every item

    class WithLoss:  # the network and its objective, as fit_recommender runs them
        def forward(self, indices, offsets, values):
            return np.array(objective.forward(net.forward(indices, offsets, values), target))

        def backward(self, grad):
            return net.backward(objective.backward() * grad)

        def parameters(self):
            return net.parameters()

        def named_parameters(self):
            return net.named_parameters()

    report = check_module(WithLoss(), *inputs, check_inputs=False)
    if loss == "bpr":  # w_0 cancels in ŷ_ui − ŷ_uj: its gradient is 0 (relative errors of zeros: noise)
        assert abs(float(_dense(model.net.bias)[0])) < 1e-12
        report.errors.pop("bias")
    if loss == "softmax":  # w_0 cancels in the softmax: the head reads it nowhere, and gives it no gradient
        assert model.net.bias.grad is None
        report.errors.pop("fm.bias")
    report.assert_ok(1e-6)


# ------------------------------------------------------------------ torch parity
def torch_fm(torch, state, indices, offsets, values):
    """The FM score in torch, from FMNet's state: the same formula, torch's autograd; the tables are
    read by ``F.embedding(sparse=True)``, so their gradients are sparse, as tinyrec's RowGrads."""
    params = {name: torch.nn.Parameter(torch.tensor(a.copy())) for name, a in state.items()}
    idx, x = torch.from_numpy(np.asarray(indices, dtype=np.int64)), torch.from_numpy(values)
    row = torch.repeat_interleave(torch.arange(len(offsets) - 1), torch.from_numpy(np.diff(offsets)))
    embed = torch.nn.functional.embedding
    xv = embed(idx, params["factors"], sparse=True) * x[:, None]
    n, f64 = len(offsets) - 1, torch.float64
    s = torch.zeros(n, xv.shape[1], dtype=f64).index_add(0, row, xv)
    squares = torch.zeros(n, dtype=f64).index_add(0, row, (xv * xv).sum(1))
    linear = torch.zeros(n, dtype=f64).index_add(0, row, embed(idx, params["weight"], sparse=True)[:, 0] * x)
    return params, params["bias"][0] + linear + 0.5 * ((s * s).sum(1) - squares)


def test_one_training_step_matches_torch_in_float64_with_copied_weights():
    torch = require_torch()
    train, _ = toy()
    lr = 0.01
    model = FM(4, 1, batch_size=10**6, lr=lr, dtype=np.float64, seed=0, init_std=0.3)
    model.fit(train)  # one epoch of one batch: one Adam step from the initial weights
    start = FMNet(model.n_slots_, 4, init_std=0.3, dtype=np.float64, seed=0).state_dict()
    start["bias"][:] = np.mean(train.ratings, dtype=np.float64)  # fit starts w_0 at the mean rating
    indices, offsets, values = model._net_inputs(model._pairs(train.users.astype(np.int64), train.items))
    params, scores = torch_fm(torch, start, indices.astype(np.int64), offsets, values)
    loss = torch.nn.functional.mse_loss(scores, torch.from_numpy(train.ratings.astype(np.float64)))
    loss.backward()
    torch.optim.Adam([params["bias"]], lr=lr).step()
    torch.optim.SparseAdam([params["weight"], params["factors"]], lr=lr).step()  # lazy: the batch's rows
    trained = np.zeros(model.n_slots_, dtype=bool)
    trained[indices] = True  # after fit, the rows no training pair reached are zeroed (cold rows)
    for name, param in params.items():
        ours, theirs = model.net.state_dict()[name], param.detach().numpy()
        if name != "bias":
            assert not ours[~trained].any()
            ours, theirs = ours[trained], theirs[trained]
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
    assert model.history_["loss"][0] == pytest.approx(loss.item(), rel=1e-12)


@pytest.mark.parametrize("loss", ["bce", "bpr"])
def test_the_ranking_objectives_match_torch_on_a_batch(loss):
    torch = require_torch()
    train, _ = toy()
    model = FM(3, 1, loss=loss, dtype=np.float64, seed=0, init_std=0.3).fit(train)
    inputs, target = next(iter(model._training_pairs(train, loss, 2, 16, np.random.default_rng(0)).epoch()))
    objective = BCEWithLogitsLoss() if loss == "bce" else StackedBPRLoss()
    value = objective.forward(model.net(*inputs), target)
    model.net.zero_grad()
    model.net.backward(objective.backward())
    params, scores = torch_fm(torch, model.net.state_dict(), *inputs)
    if loss == "bce":
        expected = torch.nn.functional.binary_cross_entropy_with_logits(scores, torch.from_numpy(target))
    else:
        n = len(target)
        expected = -torch.nn.functional.logsigmoid(scores[:n] - scores[n:]).mean()
    expected.backward()
    assert value == pytest.approx(expected.item(), rel=1e-12)
    for name, param in params.items():
        ours = _dense(getattr(model.net, name))
        theirs = param.grad.to_dense() if param.grad.is_sparse else param.grad
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-9, atol=1e-12)


def test_one_softmax_step_matches_torch_in_float64_with_copied_weights():
    """The softmax objective in torch from the FM's pair scores (every user of the batch with every
    item, the user's own terms included), cross-entropy, one SparseAdam step."""
    torch = require_torch()
    train, _ = toy()
    lr = 0.01
    model = FM(4, 1, loss="softmax", batch_size=10**6, lr=lr, dtype=np.float64, seed=0, init_std=0.3)
    model.fit(train)  # one epoch of one batch: one Adam step from the initial weights
    start = FMNet(model.n_slots_, 4, init_std=0.3, dtype=np.float64, seed=0).state_dict()
    rated = np.flatnonzero(model.item_counts_ > 0)  # the softmax runs over the items with an interaction
    n, m = len(train), len(rated)
    users, items = train.users.astype(np.int64), train.items.astype(np.int64)
    indices, offsets, values = model._net_inputs(model._pairs(np.repeat(users, m), np.tile(rated, n)))
    params, scores = torch_fm(torch, start, indices.astype(np.int64), offsets, values)
    columns = torch.from_numpy(np.searchsorted(rated, items))
    loss = torch.nn.functional.cross_entropy(scores.reshape(n, m), columns)
    loss.backward()
    assert abs(float(params["bias"].grad[0])) < 1e-12  # w_0 cancels in the softmax
    torch.optim.SparseAdam([params["weight"], params["factors"]], lr=lr).step()
    trained = np.zeros(model.n_slots_, dtype=bool)  # after fit, the rows of no training pair are zeroed
    trained[model._pairs(users, items).indices] = True
    for name in ("weight", "factors"):
        ours, theirs = model.net.state_dict()[name], params[name].detach().numpy()
        assert not ours[~trained].any()
        # the users' w_a cancel too: torch's gradient there is round-off (~1e-17), which Adam's
        # normalization turns into steps of ~lr·1e-9; tinyrec gives them no gradient at all
        atol = 1e-9 if name == "weight" else 1e-12
        np.testing.assert_allclose(ours[trained], theirs[trained], rtol=1e-10, atol=atol)
    assert model.net.bias.data[0] == 0.0
    assert model.history_["loss"][0] == pytest.approx(loss.item(), rel=1e-12)


def _dense(param):
    return param.dense_grad() if isinstance(param.grad, RowGrad) else param.grad


# ------------------------------------------------------------------ features and cold start
def test_features_change_the_scores_and_ids_alone_are_biased_mf():
    train, test = toy()
    users = np.arange(train.n_users)
    kwargs = dict(n_factors=3, n_epochs=3, lr=0.05, seed=0)
    full = FM(**kwargs).fit(train).score_all(users)
    ids = FM(**kwargs, user_features="none", item_features="none").fit(train)
    assert not np.allclose(full, ids.score_all(users))
    assert ids.n_fields_ == 2 and ids.n_slots_ == train.n_users + train.n_items  # [user id | item id]
    only_age = FM(**kwargs, user_features=("age:bucket",), item_features="none").fit(train)
    assert only_age.encoders_["user"].columns == ["age"] and not np.allclose(only_age.score_all(users), full)
    with pytest.raises(DataError, match="no column 'height'"):
        FM(**kwargs, user_features=("height",)).fit(train)


def test_a_cold_user_is_scored_from_its_features():
    train, _ = toy()
    model = FM(4, 5, lr=0.05, seed=0).fit(train)
    cold = train.n_users - 1  # no training interaction
    assert train.user_counts()[cold] == 0
    informed, _ = model.recommend(np.array([cold]), k=train.n_items, exclude_seen=False)
    popular = np.lexsort((np.arange(train.n_items), -train.item_counts()))
    assert not np.array_equal(informed[0], popular)  # not the popularity fallback
    scores = model.score_all(np.array([cold]))
    # its id row was never trained: zeroed, so only the features speak
    user_id_rows = model.net.factors.data[: train.n_users]
    assert not user_id_rows[cold].any() and user_id_rows[0].any()
    np.testing.assert_allclose(scores, model.score_all(np.array([cold])))


def test_recommend_for_new_users_given_only_features():
    train, _ = toy()
    model = FM(4, 5, lr=0.05, seed=0).fit(train)
    items, scores = model.recommend(None, k=4, features=[{"age": 25, "job": "a"}, {"age": "61", "job": "c"}])
    assert items.shape == (2, 4) and np.all(np.diff(scores, axis=1) <= 0)
    one, _ = model.recommend(None, k=4, features={"age": 25, "job": "a"})  # one dict: one user
    np.testing.assert_array_equal(one[0], items[0])
    # an unknown category goes to the "unknown" slot: the same as leaving the column out
    unknown, s1 = model.recommend(None, k=4, features={"age": 25, "job": "astronaut"})
    missing, s2 = model.recommend(None, k=4, features={"age": 25})
    np.testing.assert_array_equal(unknown, missing)
    np.testing.assert_allclose(s1, s2)
    with pytest.raises(DataError, match="names \\['zip'\\], which this model does not use"):
        model.recommend(None, features={"zip": "10001"})
    with pytest.raises(DataError, match="age must be a number"):
        model.recommend(None, features={"age": "old"})
    with pytest.raises(ShapeError, match="one entry of features / history per user"):
        model.recommend(np.array([0, 1]), features=[{"age": 3}])
    with pytest.raises(ShapeError, match="users=None needs features"):
        model.recommend(None)


def test_an_item_never_rated_is_scored_from_its_features():
    train, _ = toy()
    model = FM(4, 5, lr=0.05, seed=0).fit(train)
    cold_item = train.n_items - 1
    assert train.item_counts()[cold_item] == 0
    same_genres = np.flatnonzero(train.item_meta["genres"] == train.item_meta["genres"][cold_item])
    scores = model.score_all(np.arange(train.n_users))[:, cold_item]
    assert np.ptp(scores) > 0  # it varies with the user: its genre and year interact with them
    assert len(same_genres) >= 1


def test_history_is_read_only_with_implicit():
    train, _ = toy()
    plain = FM(3, 1, seed=0).fit(train)
    with pytest.raises(ArgumentTypeError, match="does not read history"):
        plain.recommend(np.array([0]), history=[[1, 2]])
    model = FM(3, 2, lr=0.05, implicit=True, seed=0).fit(train)
    first, _ = model.recommend(None, k=3, history=[[0, 1, 2]], features=[{"age": 30}])
    assert not set(first[0].tolist()) & {0, 1, 2}  # the history's items are excluded too
    # a known user's training items and its history's, both excluded, several users at once
    users = np.array([0, 1])
    items, _ = model.recommend(users, k=2, history=[[3], []])
    for r, u in enumerate(users.tolist()):
        seen = set(train.items[train.users == u].tolist()) | ({3} if r == 0 else set())
        assert not set(items[r].tolist()) & seen
    for bad in (5, [5], "0 1"):
        with pytest.raises(ShapeError, match="list of item-index sequences"):
            model.recommend(None, k=2, history=bad)


def test_use_ids_false_is_a_pure_content_model_and_needs_columns():
    train, _ = toy()
    model = FM(3, 2, lr=0.05, use_ids=False, seed=0).fit(train)
    assert model.n_slots_ == sum(model.encoders_["user"].field_sizes) + sum(
        model.encoders_["item"].field_sizes
    )
    with pytest.raises(DataError, match="reads nothing of the users"):
        FM(3, 1, use_ids="item", user_features="none").fit(train)
    bare = train.with_meta(user_meta={}, item_meta={})
    with pytest.raises(DataError, match="use_ids=False.*reads nothing of the users"):
        FM(3, 1, use_ids=False).fit(bare)


def test_statistics_of_the_encoders_come_from_training_users_only():
    train, _ = toy()
    model = FM(3, 1, seed=0).fit(train)
    seen = train.user_counts() > 0
    assert model.encoders_["user"].encoders[0].mean == pytest.approx(train.user_meta["age"][seen].mean())


def test_float32_by_default_and_a_learning_fm_beats_the_mean():
    train, test = toy()
    model = FM(4, 40, lr=0.01, batch_size=16, weight_decay=0.05, seed=0).fit(train)
    assert model.net.factors.data.dtype == np.float32
    rmse = np.sqrt(np.mean((model.predict(test.users, test.items) - test.ratings) ** 2))
    assert rmse < np.sqrt(np.mean((train.ratings.mean() - test.ratings) ** 2))


# ------------------------------------------------------------------ the model file
def test_save_load_keeps_the_encoders_so_new_users_encode_as_in_training(tmp_path):
    train, _ = toy()
    model = FM(4, 3, lr=0.05, seed=0, user_features=("age:bucket", "job"), implicit=True).fit(train)
    path = model.save(tmp_path / "fm.npz")
    loaded = tinyrec.load(path)
    assert loaded.encoders_["user"].state() == model.encoders_["user"].state()
    users = np.arange(train.n_users)
    np.testing.assert_array_equal(loaded.score_all(users), model.score_all(users))
    new = [{"age": 33, "job": "b"}, {"job": "never-seen"}]
    np.testing.assert_array_equal(
        loaded.recommend(None, features=new)[0], model.recommend(None, features=new)[0]
    )


def _rewrite(path, edit):
    """Rewrite a model file with its header changed by ``edit`` (as an edited file would be)."""
    with np.load(path, allow_pickle=False) as npz:
        content = {name: npz[name] for name in npz.files}
    header = json.loads(content.pop(HEADER_KEY).tobytes())
    edit(header)
    with open(path, "wb") as f:
        np.savez(f, **{HEADER_KEY: np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)}, **content)


@pytest.mark.parametrize(
    "edit, match",
    [
        (lambda h: h.pop("features"), "needs the 'features' section"),
        (lambda h: h["features"]["user"][0].update(encoder="pickle"), "encoder"),
        (lambda h: h["features"]["user"][1].update(vocabulary=["a"]), "layout|shape|features"),
    ],
)
def test_an_edited_features_section_is_refused(tmp_path, edit, match):
    train, _ = toy()
    path = FM(3, 1, seed=0).fit(train).save(tmp_path / "fm.npz")
    _rewrite(path, edit)
    with pytest.raises(ModelFileError, match=match):
        tinyrec.load(path)


# ------------------------------------------------------------------ explain
def test_explain_terms_add_up_to_the_score():
    train, _ = toy()
    model = FM(4, 5, lr=0.05, seed=0, dtype=np.float64).fit(train)
    why = model.explain(0, 3, top=3)
    assert len(why.terms) == 3 and [v for _, v in why.terms] == sorted(
        [v for _, v in why.terms], reverse=True
    )
    assert why.bias + sum(v for _, v in why.terms) + why.rest == pytest.approx(why.score)
    assert why.score == pytest.approx(model.score_all(np.array([0]))[0, 3])
    text = str(why)
    assert text.startswith("user 0, item 3: score") and "global bias w_0" in text
    new = model.explain(None, 3, features={"age": 30, "job": "a"})
    items, scores = model.recommend(
        None, k=train.n_items, features={"age": 30, "job": "a"}, exclude_seen=False
    )
    assert new.user == -1 and new.score == pytest.approx(scores[0][items[0] == 3][0])


# ------------------------------------------------------------------ the cold-start protocol
def test_evaluate_on_a_cold_user_split_scores_the_held_out_users_by_features():
    data, _ = toy()  # the toy's training part, features kept
    cold_train, cold_test = tinyrec.data.cold_users(data, 0.3, seed=0)
    assert not np.isin(cold_test.users, cold_train.users).any()
    model = FM(4, 3, loss="bpr", lr=0.05, use_ids="item", seed=0).fit(cold_train)
    known = cold_test.info["known"]
    result = tinyrec.evaluation.evaluate(model, cold_test, train=known, protocol="full", k=5)
    assert 0.0 <= result["hr@5"] <= 1.0
    # the held-out users' scores come from their features: two users with other features differ
    held = np.unique(cold_test.users)
    scores = model.score_all(held)
    assert len({tuple(np.round(row, 6)) for row in scores}) > 1


def test_ranking_objectives_leave_out_users_with_no_negative_and_count_them():
    train, _ = toy()
    model = FM(3, 1, loss="bpr", seed=0).fit(train)
    batches = model._training_pairs(train, "bpr", 1, 64, np.random.default_rng(0))
    full = np.flatnonzero(train.user_counts() == (train.item_counts() > 0).sum())  # every trained item
    assert len(full) and batches.skipped == int(train.user_counts()[full].sum()) > 0
    assert not np.isin(batches.users, full).any()
