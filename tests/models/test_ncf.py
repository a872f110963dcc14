"""GMF, NCFMLP, NeuMF: whole-network gradient checks, pretraining, learning, the reference
initialisation, the networks' errors. (Each hyperparameter's effect and the refusals of bad
hyperparameters are stated in the recommender contract: tests/models/contract_cases_neural.py.)"""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinyrec.io
from tinyrec.data.interactions import Interactions
from tinyrec.errors import DTypeError, IndexOutOfRangeError, ShapeError
from tinyrec.gradcheck import check_module
from tinyrec.models.ncf import GMF, NCFMLP, NeuMF, fuse_pretrained
from tinyrec.models.ncf_net import GMFTower, MLPTower, NCFNet
from tinyrec.nn import Linear

from .contract import implicit_toy


# ------------------------------------------------------------------ the networks, checked whole
def _pairs(n_users, n_items, batch, rng):
    """A batch of pairs with repeated users and items (so embedding rows must be summed)."""
    users = rng.integers(0, n_users, batch)
    items = rng.integers(0, n_items, batch)
    users[-1], items[-1] = users[0], items[0]  # at least one repeated pair
    return users, items


def _net(kind, n_users, n_items, d, layers, seed, init_std=0.5):
    towers = {}
    if kind in ("gmf", "neumf"):
        towers["gmf"] = GMFTower(n_users, n_items, d, init_std=init_std, dtype=np.float64, seed=seed)
    if kind in ("mlp", "neumf"):
        towers["mlp"] = MLPTower(n_users, n_items, layers, init_std=init_std, dtype=np.float64, seed=seed + 1)
    return NCFNet(towers, n_users, n_items, dtype=np.float64, seed=seed + 2)


@settings(max_examples=20, deadline=None)
@given(
    kind=st.sampled_from(["gmf", "mlp", "neumf"]),
    n_users=st.integers(1, 6),
    n_items=st.integers(1, 6),
    d=st.integers(1, 4),
    layers=st.lists(st.integers(1, 5), min_size=1, max_size=3),
    half=st.integers(1, 3),
    batch=st.integers(1, 7),
    seed=st.integers(0, 2**16),
)
def test_network_backward_matches_numerical_gradient(kind, n_users, n_items, d, layers, half, batch, seed):
    # init_std 0.5 keeps the ReLUs away from the kink at 0 for most draws; a central difference
    # across a kink is the only way this check can fail for a right backward
    net = _net(kind, n_users, n_items, d, (2 * half, *layers), seed)
    users, items = _pairs(n_users, n_items, batch, np.random.default_rng(seed))
    report = check_module(net, users, items, seed=seed)
    assert set(report.errors) == {name for name, _ in net.named_parameters()}
    report.assert_ok(1e-6)


def test_towers_receive_only_their_slice_of_the_gradient():
    net = _net("neumf", 4, 5, 3, (4, 2), seed=0)
    users, items = np.array([0, 1, 3]), np.array([4, 4, 0])
    net(users, items)
    net.backward(np.ones(3))
    w = net.output.weight.data[0]  # (3 + 2,)
    h_g = net.gmf.user_embedding.weight.data[users] * net.gmf.item_embedding.weight.data[items]
    np.testing.assert_allclose(net.output.weight.grad[0, :3], h_g.sum(axis=0))
    # GMF tower: dp_u = dŷ · w_G ⊙ q_i (the users are distinct and sorted, as RowGrad rows are)
    q = net.gmf.item_embedding.weight.data[items]
    grad = net.gmf.user_embedding.weight.grad
    assert grad.rows.tolist() == users.tolist()
    np.testing.assert_allclose(grad.values, w[:3] * q)
    # MLP tower: its last hidden layer receives dŷ · w_M alone
    net.zero_grad()
    net(users, items)
    dz_mlp = []
    original = net.mlp.backward
    net.mlp.backward = lambda g: dz_mlp.append(g.copy()) or original(g)
    net.backward(np.ones(3))
    np.testing.assert_allclose(dz_mlp[0], np.tile(w[3:], (3, 1)))


def test_repeated_ids_sum_their_gradients():
    net = _net("gmf", 3, 3, 2, None, seed=1)
    net(np.array([2, 2]), np.array([1, 1]))
    net.backward(np.array([1.0, 2.0]))
    grad = net.gmf.user_embedding.weight.grad
    assert grad.rows.tolist() == [2]
    expected = 3.0 * net.output.weight.data[0] * net.gmf.item_embedding.weight.data[1]
    np.testing.assert_allclose(grad.values[0], expected)


def test_network_rejects_bad_input():
    net = _net("neumf", 3, 4, 2, (4, 2), seed=0)
    with pytest.raises(IndexOutOfRangeError, match="items"):
        net(np.array([0]), np.array([4]))
    with pytest.raises(ShapeError, match="must match"):
        net(np.array([0, 1]), np.array([0]))
    with pytest.raises(DTypeError, match="integers"):
        net(np.array([0.5]), np.array([0]))
    net(np.array([0]), np.array([1]))
    with pytest.raises(ShapeError, match=r"last forward returned shape \(1,\)"):  # dŷ must be (batch,)
        net.backward(np.ones((1, 1)))
    with pytest.raises(TypeError, match="dict"):
        NCFNet({}, 3, 4)
    with pytest.raises(ValueError, match="identifier"):
        NCFNet({"output": GMFTower(3, 4, 2)}, 3, 4)
    with pytest.raises(ValueError, match=r"tower 'gmf' was built for \(n_users, n_items\) = \(3, 5\)"):
        NCFNet({"gmf": GMFTower(3, 5, 2)}, 3, 4)  # its tables would be read past their end unchecked


@pytest.mark.parametrize(
    "tower", [GMFTower(3, 4, 2, seed=0), MLPTower(3, 4, (4, 2), seed=0)], ids=["gmf", "mlp"]
)
def test_a_tower_called_alone_checks_its_ids(tower):
    # the network calls its towers unchecked (tower.forward), so a tower used alone checks for itself
    with pytest.raises(IndexOutOfRangeError, match="users contains 3"):
        tower(np.array([3]), np.array([0]))
    with pytest.raises(IndexOutOfRangeError, match="items contains -1"):
        tower(np.array([0]), np.array([-1]))
    with pytest.raises(ShapeError, match="must match"):
        tower(np.array([0, 1]), np.array([0]))
    with pytest.raises(ShapeError, match="1 dimension"):
        tower(np.zeros((1, 1), dtype=np.int64), np.zeros((1, 1), dtype=np.int64))
    assert tower(np.array([2, 0]), np.array([3, 1])).shape == (2, tower.out_features)


def test_one_neumf_batch_checks_its_ids_once(monkeypatch):
    import tinyrec.nn.spec

    calls = []
    check_ids = tinyrec.nn.spec.check_index_array  # what an Ids spec calls
    monkeypatch.setattr(tinyrec.nn.spec, "check_index_array", lambda ids, where, *a, **k: calls.append(where)
                        or check_ids(ids, where, *a, **k))  # fmt: skip
    net = _net("neumf", 3, 4, 2, (4, 2), seed=0)
    net(np.array([0, 2]), np.array([3, 1]))
    assert calls == ["NCFNet input users", "NCFNet input items"]  # not again in the towers' embeddings


def test_float32_network_computes_in_float32():
    net = NCFNet({"gmf": GMFTower(3, 4, 2, seed=0), "mlp": MLPTower(3, 4, (4, 2), seed=1)}, 3, 4, seed=2)
    y = net(np.array([0, 2]), np.array([3, 1]))
    assert y.dtype == np.float32 and y.shape == (2,)
    net.backward(np.ones(2, np.float32))
    assert all(p.grad is not None for p in net.parameters())


# ------------------------------------------------------------------ pretraining
def test_fused_network_is_the_alpha_mix_of_its_parts():
    gmf = _net("gmf", 5, 6, 3, None, seed=3)
    mlp = _net("mlp", 5, 6, 3, (4, 3, 2), seed=4)
    neumf = _net("neumf", 5, 6, 3, (4, 3, 2), seed=5)
    users, items = _pairs(5, 6, 8, np.random.default_rng(0))
    for alpha in (0.5, 0.2):
        fuse_pretrained(neumf, gmf, mlp, alpha)
        expected = alpha * gmf(users, items) + (1 - alpha) * mlp(users, items)
        np.testing.assert_allclose(neumf(users, items), expected, rtol=1e-12, atol=1e-15)


def test_fuse_refuses_networks_of_other_sizes():
    gmf = _net("gmf", 5, 6, 2, None, seed=3)
    mlp = _net("mlp", 5, 6, 3, (4, 2), seed=4)
    neumf = _net("neumf", 5, 6, 3, (4, 2), seed=5)
    with pytest.raises(ValueError):
        fuse_pretrained(neumf, gmf, mlp)


def test_neumf_pretraining_starts_from_trained_parts():
    train, _ = implicit_toy()
    model = NeuMF(4, (8, 4), 2, pretrain=True, alpha=0.3, batch_size=32, seed=0).fit(train)
    assert len(model.history_["pretrain_gmf_loss"]) == 2 and len(model.history_["pretrain_mlp_loss"]) == 2
    assert len(model.history_["loss"]) == 2
    # pretrained parts reach a lower loss than a fresh network's first epoch
    fresh = NeuMF(4, (8, 4), 2, alpha=0.3, batch_size=32, seed=0).fit(train)
    assert model.history_["loss"][0] < fresh.history_["loss"][0]


# ------------------------------------------------------------------ learning
def _two_communities(seed=0, n_users=60, per=30, likes=8):
    """Users of the first half like items ``0..per-1``, the others ``per..2per-1``; ``likes`` each.

    The first like of each user is held out (test); the rest is train.
    """
    rng = np.random.default_rng(seed)
    users = np.repeat(np.arange(n_users), likes)
    offset = np.where(np.arange(n_users) < n_users // 2, 0, per)  # (n_users,) first item of the community
    items = np.concatenate([offset[u] + rng.choice(per, likes, replace=False) for u in range(n_users)])
    data = Interactions(users, items, n_users=n_users, n_items=2 * per)
    held = np.zeros(len(users), bool)
    held[::likes] = True
    return data.subset(~held), data.subset(held)


@pytest.mark.parametrize(
    "model",
    [
        GMF(4, 20, batch_size=64, lr=0.01, seed=0),
        NCFMLP((16, 8), 20, batch_size=64, lr=0.01, seed=0),
        NeuMF(4, (16, 8), 20, batch_size=64, lr=0.01, seed=0),
    ],
    ids=["GMF", "NCFMLP", "NeuMF"],
)
def test_models_learn_the_planted_communities(model):
    train, test = _two_communities()
    model.fit(train)
    assert model.history_["loss"][-1] < 0.75 * model.history_["loss"][0]
    # AUC of "the held-out item against the other community's items": 0.5 for a model that knows nothing
    scores = model.score_all(test.users)  # (60, 60)
    own_community = (test.users[:, None] < 30) == (np.arange(60) < 30)  # (60, 60)
    held = scores[np.arange(len(test)), test.items]
    other = scores[~own_community].reshape(len(test), 30)
    assert np.mean(held[:, None] > other) >= 0.8


def test_ncf_reference_initialisation():
    """linear_init="ncf": hidden layers Xavier uniform, output LeCun uniform, zero biases."""
    n_users, n_items = 300, 200
    train = Interactions(
        np.arange(n_users) % n_users, np.arange(n_users) % n_items, n_users=n_users, n_items=n_items
    )
    model = NeuMF(4, (256, 128, 64), 1, linear_init="ncf", dtype=np.float64, seed=0)
    model.fit(train)  # sets the index space; the check below is on a freshly built network
    model._build_net(np.random.default_rng(1))
    linears = [m for m in model.net.mlp.modules() if isinstance(m, Linear)]
    assert len(linears) == 2
    for layer in linears:
        fan_out, fan_in = layer.weight.data.shape
        bound = np.sqrt(6.0 / (fan_in + fan_out))
        w = layer.weight.data
        assert np.abs(w).max() <= bound and np.isclose(w.std(), bound / np.sqrt(3), rtol=0.05)
        assert not layer.bias.data.any()
    w = model.net.output.weight.data  # (1, 4 + 64)
    assert np.abs(w).max() <= np.sqrt(3.0 / 68) and np.abs(w).max() > 1.1 / np.sqrt(68)  # wider than torch's
    assert not model.net.output.bias.data.any()
    torch_like = NeuMF(4, (256, 128, 64), 1, dtype=np.float64, seed=0).fit(train)
    torch_like._build_net(np.random.default_rng(1))
    assert torch_like.net.output.bias.data.any()  # torch's default draws the biases too


def test_float64_models_score_in_float64_and_match_float32_closely():
    train, _ = implicit_toy()
    m64 = GMF(4, 2, batch_size=32, dtype=np.float64, seed=0).fit(train)
    m32 = GMF(4, 2, batch_size=32, seed=0).fit(train)
    assert m64.net.output.weight.data.dtype == np.float64
    users, items = np.arange(10), np.arange(10)
    np.testing.assert_allclose(m64.predict(users, items), m32.predict(users, items), atol=1e-4)


def test_save_load_keeps_network_history_and_layers(tmp_path):
    train, _ = implicit_toy()
    model = NeuMF(4, (8, 4), 2, batch_size=32, seed=0).fit(train)
    path = model.save(tmp_path / "neumf.npz")
    loaded = tinyrec.io.load(path)
    assert loaded.layers == (8, 4) and loaded.history_ == model.history_
    np.testing.assert_array_equal(loaded.score_all(np.arange(5)), model.score_all(np.arange(5)))


def test_similar_items_use_the_item_tables_of_every_tower():
    train, _ = implicit_toy()
    model = NeuMF(4, (8, 4), 1, batch_size=32, seed=0).fit(train)
    assert model._item_vectors().shape == (train.n_items, 4 + 4)
    neighbours, _ = model.similar_items(np.array([0, 1]), k=3)
    assert neighbours.shape == (2, 3) and 0 not in neighbours[0]


@pytest.mark.parametrize("cls", [GMF, NCFMLP, NeuMF])
def test_rendered_docstrings_state_each_class_own_lazy_default(cls):
    default = inspect.signature(cls).parameters["lazy_embeddings"].default
    assert f"lazy_embeddings : bool, default {default}" in cls.__doc__
    assert "{" + "lazy}" not in cls.__doc__ and "{" + "common}" not in cls.__doc__
    # weight decay touches only a batch's rows with lazy updates, every row with dense ones
    assert "decayed only at the steps whose batch touches them" in cls.__doc__
    assert "every row is decayed at every step" in cls.__doc__


def test_module_docstring_does_not_claim_lazy_updates_for_every_model():
    import tinyrec.models.ncf as ncf

    text = " ".join(ncf.__doc__.split())  # line breaks as spaces
    assert "lazy (row-sparse) Adam updates by default in NCFMLP and NeuMF" in text
    assert "and dense ones by default in GMF" in text
    assert GMF().lazy_embeddings is False and NCFMLP().lazy_embeddings is True and NeuMF().lazy_embeddings
