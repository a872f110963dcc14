"""FeatureMLP: the network against central differences, torch parity of a training step, the split
first layer of score_all, cold start and the content model, explain, the model file."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinyrec
from tests.helpers import require_torch
from tinyrec.errors import DataError
from tinyrec.gradcheck import check_module
from tinyrec.losses import BCEWithLogitsLoss
from tinyrec.models.feature_mlp import FeatureMLP, FeatureMLPNet, SampledSoftmaxLoss, hidden_layers
from tinyrec.nn import RowGrad

from .test_fm import toy


def bags(rng, n_rows, n_fields, n_slots, max_len=3):
    lengths = rng.integers(0, max_len + 1, n_rows * n_fields)
    lengths[0] = max(lengths[0], 1)  # a weight to perturb
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    indices = rng.integers(0, n_slots, int(lengths.sum()))
    return indices, offsets, rng.standard_normal(len(indices))


@settings(max_examples=30, deadline=None)
@given(
    st.integers(1, 8), st.integers(1, 3), st.integers(1, 3),
    st.lists(st.integers(1, 4), min_size=1, max_size=2), st.integers(1, 4), st.integers(0, 2**16),
)  # fmt: skip
def test_network_gradients_match_central_differences(n_slots, n_fields, d, layers, n_rows, seed):
    rng = np.random.default_rng(seed)
    net = FeatureMLPNet(n_slots, n_fields, d, layers, init_std=0.7, dtype=np.float64, seed=seed)
    report = check_module(net, *bags(rng, n_rows, n_fields, n_slots), seed=seed)
    report.assert_ok(1e-6)


@pytest.mark.parametrize("objective", ["bce", "sampled_softmax"])
def test_a_training_batch_of_the_whole_model_passes_the_gradient_check(objective):
    train, _ = toy()
    model = FeatureMLP(3, (5, 4), 1, init_std=0.5, dtype=np.float64, seed=0, loss=objective).fit(train)
    batches = model._training_pairs(train, objective, 3, 12, np.random.default_rng(1))
    inputs, target = next(iter(batches.epoch()))
    loss = BCEWithLogitsLoss() if objective == "bce" else SampledSoftmaxLoss()

    class WithLoss:
        def forward(self, *xs):
            return np.array(loss.forward(model.net.forward(*xs), target))

        def backward(self, grad):
            return model.net.backward(loss.backward() * grad)

        def parameters(self):
            return model.net.parameters()

        def named_parameters(self):
            return model.net.named_parameters()

    check_module(WithLoss(), *inputs, check_inputs=False).assert_ok(1e-6)
    assert isinstance(model.net.bag.weight.grad, RowGrad)  # the lazy row-sparse path


@pytest.mark.parametrize("objective", ["bce", "sampled_softmax"])
def test_one_training_step_matches_torch_in_float64_with_copied_weights(objective):
    torch = require_torch()
    train, _ = toy()
    lr, d, layers = 0.01, 3, (5, 4)
    k = 1 if objective == "bce" else 3
    model = FeatureMLP(d, layers, 1, n_negatives=k, batch_size=10**6, lr=lr, init_std=0.3,
                       dtype=np.float64, seed=0, loss=objective)  # fmt: skip
    model.fit(train)  # one epoch of one batch: one step
    # the same batch and the same start: rebuild them from the seed, as fit drew them
    rng = np.random.default_rng(0)
    start = FeatureMLPNet(
        model.n_slots_, model.n_fields_, d, layers, init_std=0.3, dtype=np.float64, seed=rng
    )
    batches = model._training_pairs(train, objective, k, 10**6, rng)
    (indices, offsets, values), target = next(iter(batches.epoch()))
    tnn = torch.nn
    bag = tnn.EmbeddingBag(model.n_slots_, d, mode="sum", sparse=True)
    sizes = (model.n_fields_ * d, *layers)
    linears = [tnn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True)] + [
        tnn.Linear(sizes[-1], 1)
    ]
    mlp = tnn.Sequential(*[m for lin in linears[:-1] for m in (lin, tnn.ReLU())], linears[-1])
    state = {k: torch.from_numpy(v) for k, v in start.state_dict().items()}
    bag.load_state_dict({"weight": state.pop("bag.weight")})
    mlp.load_state_dict({k.removeprefix("mlp."): v for k, v in state.items()})
    t = torch.from_numpy
    e = bag(t(indices), t(offsets), per_sample_weights=t(values))
    logits = mlp(e.reshape(-1, model.n_fields_ * d))[:, 0]
    if objective == "bce":
        loss = tnn.functional.binary_cross_entropy_with_logits(logits, t(target))
    else:  # each positive (the first N scores) against its K negatives (the next N·K, in its order)
        n = len(target)
        rows = torch.cat([logits[:n, None], logits[n:].reshape(n, k)], dim=1)
        loss = tnn.functional.cross_entropy(rows, torch.zeros(n, dtype=torch.int64))
    loss.backward()
    torch.optim.SparseAdam(bag.parameters(), lr=lr).step()
    torch.optim.Adam(mlp.parameters(), lr=lr).step()
    assert model.history_["loss"][0] == pytest.approx(loss.item(), rel=1e-12)
    ours = model.net.state_dict()
    last = f"{2 * len(layers)}.bias"
    for name, value in mlp.state_dict().items():
        if objective == "sampled_softmax" and name == last:  # the output bias cancels in a softmax:
            assert abs(float(mlp[-1].bias.grad[0])) < 1e-12  # its gradient is round-off, which Adam's
            continue  # normalization turns into a step of any size below lr
        # atol: Adam's g / (|g| + ε) turns round-off in a gradient near ε into ~1e-11 of a step
        np.testing.assert_allclose(ours[f"mlp.{name}"], value.numpy(), rtol=1e-10, atol=1e-10)
    trained = np.zeros(model.n_slots_, dtype=bool)
    trained[model._pairs(train.users, train.items).indices] = True  # the rows a training pair reaches
    np.testing.assert_allclose(ours["bag.weight"][trained], bag.weight.detach().numpy()[trained], rtol=1e-10)
    assert not ours["bag.weight"][~trained].any()  # the others are zeroed after fit


def test_score_all_with_the_split_first_layer_is_predict():
    train, _ = toy()
    model = FeatureMLP(3, (6, 4), 2, lr=0.01, seed=0).fit(train)
    users, items = np.arange(train.n_users), np.arange(train.n_items)
    table = model.score_all(users)
    pairs = model.predict(np.repeat(users, len(items)), np.tile(items, len(users)))
    np.testing.assert_allclose(table.reshape(-1), pairs, rtol=1e-5)
    assert np.all((table > 0) & (table < 1))  # probabilities


def test_the_content_model_scores_new_users_and_items_from_features_alone():
    train, _ = toy()
    model = FeatureMLP(4, (8,), 5, lr=0.01, use_ids=False, seed=0).fit(train)
    assert model.n_fields_ == 4  # age, job | genres, year
    same = {"age": float(train.user_meta["age"][0]), "job": str(train.user_meta["job"][0])}
    # a new visitor with user 0's features is user 0, to the content model
    np.testing.assert_allclose(model.recommend(None, features=same, exclude_seen=False)[1],
                               model.recommend(np.array([0]), exclude_seen=False)[1])  # fmt: skip
    with pytest.raises(DataError, match="use_ids=False.*reads nothing of the users"):
        FeatureMLP(4, (8,), 1, use_ids=False).fit(train.with_meta(user_meta={}, item_meta={}))


def test_hyperparameter_rules():
    assert hidden_layers([8, 4], "layers") == (8, 4)
    for bad in ((), (0,), "64", (True,)):
        with pytest.raises(ValueError, match="layers must be one or more positive ints"):
            FeatureMLP(layers=bad)
    with pytest.raises(ValueError, match="monitor must be one of"):
        FeatureMLP(monitor="rmse")
    with pytest.raises(ValueError, match="loss"):
        FeatureMLP(loss="softmax")


def test_explain_names_the_fields_by_their_effect():
    train, _ = toy()
    model = FeatureMLP(4, (8,), 5, lr=0.01, seed=0).fit(train)
    why = model.explain(0, 3, top=10)
    p, effects = why.probability, why.effects
    assert p == pytest.approx(model.score_all(np.array([0]))[0, 3])
    assert str(why).startswith("user 0, item 3: purchase probability")
    new = model.explain(None, 3, features={"age": 30})
    assert new.user == -1 and len(new.effects) == 5
    assert [name for name, _ in effects] and {n for n, _ in effects} == {
        "user id", "user age", "user job", "item id", "item genres", "item year"}  # fmt: skip
    assert [v for _, v in effects] == sorted((v for _, v in effects), reverse=True)


def test_save_load_round_trip_with_the_encoders(tmp_path):
    train, _ = toy()
    model = FeatureMLP(3, (4,), 2, seed=0, item_features=("genres",)).fit(train)
    loaded = tinyrec.load(model.save(tmp_path / "mlp.npz"))
    users = np.arange(train.n_users)
    np.testing.assert_array_equal(loaded.score_all(users), model.score_all(users))
    new = [{"age": 30, "job": "zzz"}]
    np.testing.assert_array_equal(
        loaded.recommend(None, features=new)[0], model.recommend(None, features=new)[0]
    )
