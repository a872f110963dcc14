"""Mult-DAE: the network's gradients (dropout included), the multinomial likelihood, the recommender.
(Each hyperparameter's effect and the refusals of bad hyperparameters are stated in the recommender
contract: tests/models/contract_cases_autoencoders.py.)"""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyrec.data.interactions import Interactions
from tinyrec.errors import DTypeError, ShapeError
from tinyrec.evaluation import evaluate
from tinyrec.gradcheck import check_module
from tinyrec.losses import CrossEntropyLoss
from tinyrec.models.multdae import MultDAE, MultDAENet

from .contract import implicit_toy


def _rows(rng, batch, n):
    x = (rng.random((batch, n)) < 0.4).astype(np.float64)
    x[:, rng.integers(n)] = 1.0  # no all-zero row: x / ‖x‖ is not differentiable at 0
    return x


# ---------------------------------------------------------------------------------- the network
@settings(max_examples=25, deadline=None)
@given(
    batch=st.integers(1, 5),
    n=st.integers(1, 9),
    hidden=st.integers(1, 6),
    p=st.sampled_from([0.0, 0.3, 0.5]),
    training=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_network_gradients_match_central_differences(batch, n, hidden, p, training, seed):
    rng = np.random.default_rng(seed)
    net = MultDAENet(n, hidden, p, dtype=np.float64, seed=seed)
    net.train(training)
    check_module(net, _rows(rng, batch, n)).assert_ok(1e-6)  # the same dropout mask in every call


@settings(max_examples=20, deadline=None)
@given(batch=st.integers(1, 4), n=st.integers(2, 8), hidden=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_gradient_of_the_multinomial_likelihood_through_the_network(batch, n, hidden, seed):
    """The whole objective −mean_u Σ_i x_ui log softmax(net(x_u))_i, analytic against numerical."""
    rng = np.random.default_rng(seed)
    x = _rows(rng, batch, n)
    net, loss = MultDAENet(n, hidden, 0.5, dtype=np.float64, seed=seed), CrossEntropyLoss()
    state = net.dropout._rng.bit_generator.state

    def objective():
        net.dropout._rng.bit_generator.state = state  # the same corruption every time
        return loss.forward(net(x), x)

    net.zero_grad()
    objective()
    net.backward(loss.backward())
    for name, param in net.named_parameters():
        numerical = np.zeros_like(param.data)
        for index in np.ndindex(param.data.shape):
            old = param.data[index]
            param.data[index] = old + 1e-6
            up = objective()
            param.data[index] = old - 1e-6
            down = objective()
            param.data[index] = old
            numerical[index] = (up - down) / 2e-6
        np.testing.assert_allclose(param.grad, numerical, rtol=1e-5, atol=1e-8, err_msg=name)


def test_forward_matches_the_formula_in_eval_mode():
    rng = np.random.default_rng(0)
    x = _rows(rng, 3, 6)
    net = MultDAENet(6, 4, 0.5, dtype=np.float64, seed=1)
    net.eval()
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    h = np.tanh(unit @ net.encoder.weight.data.T + net.encoder.bias.data)
    np.testing.assert_allclose(net(x), h @ net.decoder.weight.data.T + net.decoder.bias.data, rtol=1e-12)


def test_dropout_corrupts_in_training_only():
    rng = np.random.default_rng(1)
    x = _rows(rng, 4, 8)
    net = MultDAENet(8, 3, 0.5, dtype=np.float64, seed=2)
    assert not np.allclose(net(x), net(x))  # a new mask at each training forward
    net.eval()
    np.testing.assert_array_equal(net(x), net(x))


def test_all_zero_row_stays_finite():
    net = MultDAENet(5, 3, 0.5, seed=0)
    x = np.zeros((2, 5), dtype=np.float32)
    x[1, 2] = 1.0
    y = net(x)
    assert np.all(np.isfinite(y))
    dx = net.backward(np.ones_like(y))
    assert np.all(np.isfinite(dx))


def test_network_rejects_bad_input():
    net = MultDAENet(4, 3, seed=0)
    with pytest.raises(ShapeError, match="n_items=4"):
        net(np.zeros((2, 5), dtype=np.float32))
    with pytest.raises(DTypeError, match="float64"):
        net(np.zeros((2, 4), dtype=np.float64))
    with pytest.raises(ValueError, match="dropout"):
        MultDAENet(4, 3, 1.5)


def test_loss_is_the_multinomial_log_likelihood():
    rng = np.random.default_rng(3)
    logits, x = rng.normal(size=(3, 5)), _rows(rng, 3, 5)
    log_pi = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    assert CrossEntropyLoss()(logits, x) == pytest.approx(-np.mean(np.sum(x * log_pi, axis=1)), rel=1e-12)


# ---------------------------------------------------------------------------------- the recommender
def _communities(n_users=40, n_items=20, seed=0):
    """Two groups of users, each interacting only with its own half of the items; a quarter held out."""
    rng = np.random.default_rng(seed)
    group = np.arange(n_users) % 2
    users, items = [], []
    for u in range(n_users):
        own = np.arange(n_items // 2) + group[u] * (n_items // 2)
        chosen = rng.choice(own, size=6, replace=False)
        users += [u] * 6
        items += chosen.tolist()
    data = Interactions(np.array(users), np.array(items), np.ones(len(users), dtype=np.float32),
                        n_users=n_users, n_items=n_items)  # fmt: skip
    held = rng.random(len(users)) < 0.25
    return data.subset(~held), data.subset(held), group


def _small(**kw):
    params = dict(hidden=8, n_epochs=60, batch_size=8, lr=1e-2, weight_decay=1e-4, seed=0)
    params.update(kw)
    return MultDAE(**params)


def test_learns_planted_communities():
    train, test, group = _communities()
    model = _small().fit(train)
    items, _ = model.recommend(np.arange(train.n_users), k=4)
    half = train.n_items // 2
    own = (items // half) == group[:, None]  # recommended items from the user's own half
    assert own.mean() > 0.95
    result = evaluate(model, test, train=train, protocol="full", k=5)
    assert result["recall@5"] > 0.6


def test_scores_are_the_logits_of_the_training_row():
    train, _ = implicit_toy()
    model = _small(n_epochs=3, dtype=np.float64).fit(train)
    x = np.zeros((train.n_users, train.n_items))
    x[train.users, train.items] = 1.0
    model.net.eval()
    np.testing.assert_allclose(model.score_all(np.arange(train.n_users)), model.net(x), rtol=1e-12)


def test_validation_history_uses_the_monitor_cutoff():
    train, test, _ = _communities()
    model = _small(n_epochs=30, monitor="recall@3", patience=3).fit(train, valid=test)
    h = model.history_
    assert "val_recall@3" in h and "val_ndcg@3" in h
    assert len(h["loss"]) == len(h["val_recall@3"]) <= 30
    assert h["loss"][-1] < h["loss"][0]


def test_sampled_protocol_for_validation():
    train, test, _ = _communities(n_items=120)  # 99 sampled negatives per list need > 105 items
    model = _small(n_epochs=3, protocol="sampled", monitor="hr@10").fit(train, valid=test)
    assert len(model.history_["val_hr@10"]) == 3


def test_repeated_interactions_count_once():
    data = Interactions(np.array([0, 0, 0, 1]), np.array([1, 1, 2, 0]), np.ones(4, dtype=np.float32))
    model = MultDAE(4, 2, seed=0).fit(data)
    np.testing.assert_array_equal(model.row_indices_[model.row_indptr_[0] : model.row_indptr_[1]], [1, 2])


def test_command_line_trains_multdae(capsys):
    from tinyrec.cli import main

    argv = ["train", "multdae", "--data", "movietweetings", "--epochs", "2", "--set", "hidden=8", "--json"]
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["model"] == "multdae" and result["params"]["hidden"] == 8
    assert len(result["epoch_seconds"]) == 2
    assert 0.0 <= result["metrics"]["full"]["ndcg@10"] <= 1.0


def test_similar_items_come_from_the_decoder():
    train, _, _ = _communities()
    model = _small().fit(train)
    neighbours, _ = model.similar_items(np.arange(train.n_items), k=3)
    half = train.n_items // 2
    assert np.mean((neighbours // half) == (np.arange(train.n_items) // half)[:, None]) > 0.9
