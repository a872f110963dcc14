"""AutoRec: the network's gradients, the masked loss, the row batches, the recommender's behaviour.
(Each hyperparameter's effect and the refusals of bad hyperparameters and training sets are stated in
the recommender contract: tests/models/contract_cases_autoencoders.py.)"""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyrec.data.interactions import Interactions
from tinyrec.errors import DTypeError, ShapeError
from tinyrec.evaluation import evaluate
from tinyrec.gradcheck import check_loss, check_module
from tinyrec.losses import MaskedMSELoss, MSELoss
from tinyrec.models.autoencoder_training import AdamGroups, RowBatches, dense_rows, score_pairs
from tinyrec.models.autorec import AutoRec, AutoRecNet

from .contract import planted_ratings


# ---------------------------------------------------------------------------------- the network
@settings(max_examples=25, deadline=None)
@given(batch=st.integers(1, 5), n=st.integers(1, 9), hidden=st.integers(1, 6), seed=st.integers(0, 2**16))
def test_network_gradients_match_central_differences(batch, n, hidden, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 6, (batch, n)).astype(np.float64)  # ratings 1..5, 0 = unobserved
    report = check_module(AutoRecNet(n, hidden, dtype=np.float64, seed=seed), x)
    report.assert_ok(1e-6)


@settings(max_examples=20, deadline=None)
@given(batch=st.integers(1, 4), n=st.integers(2, 8), hidden=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_network_and_masked_loss_together_match_central_differences(batch, n, hidden, seed):
    """The whole training objective: d(masked MSE of net(x))/dθ, analytic against numerical."""
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 6, (batch, n)).astype(np.float64)
    observed = rng.random((batch, n)) < 0.6
    x[~observed] = 0.0
    target = np.where(observed, x, np.nan)
    net, loss = AutoRecNet(n, hidden, dtype=np.float64, seed=seed), MaskedMSELoss()
    net.zero_grad()
    loss.forward(net(x), target)
    net.backward(loss.backward())
    for name, param in net.named_parameters():
        numerical = np.zeros_like(param.data)
        for index in np.ndindex(param.data.shape):
            old = param.data[index]
            param.data[index] = old + 1e-6
            up = loss.forward(net(x), target)
            param.data[index] = old - 1e-6
            down = loss.forward(net(x), target)
            param.data[index] = old
            numerical[index] = (up - down) / 2e-6
        if observed.any():
            np.testing.assert_allclose(param.grad, numerical, rtol=1e-5, atol=1e-8, err_msg=name)
        else:  # nothing observed: the mean is NaN, no gradient information
            assert np.isnan(loss.forward(net(x), target))


def test_network_is_encoder_sigmoid_decoder():
    net = AutoRecNet(4, 3, dtype=np.float64, seed=0)
    x = np.array([[1.0, 0.0, 5.0, 3.0]])
    h = 1 / (1 + np.exp(-(x @ net.encoder.weight.data.T + net.encoder.bias.data)))
    np.testing.assert_allclose(net(x), h @ net.decoder.weight.data.T + net.decoder.bias.data, rtol=1e-12)


def test_network_rejects_bad_input():
    net = AutoRecNet(4, 3, seed=0)
    with pytest.raises(ShapeError, match="last axis must have size n_inputs=4"):
        net(np.zeros((2, 5), dtype=np.float32))
    with pytest.raises(DTypeError, match="float64"):
        net(np.zeros((2, 4), dtype=np.float64))
    with pytest.raises(ShapeError):
        net(np.zeros(4, dtype=np.float32))


# ---------------------------------------------------------------------------------- the masked loss
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_masked_loss_gradients(reduction):
    rng = np.random.default_rng(1)
    prediction = rng.normal(size=(3, 5))
    target = np.where(rng.random((3, 5)) < 0.5, rng.normal(size=(3, 5)), np.nan)
    check_loss(MaskedMSELoss(reduction=reduction), prediction, target).assert_ok(1e-6)


def test_masked_loss_is_mse_over_observed_entries_only():
    rng = np.random.default_rng(2)
    prediction, values = rng.normal(size=(4, 6)), rng.normal(size=(4, 6))
    observed = rng.random((4, 6)) < 0.5
    target = np.where(observed, values, np.nan)
    loss = MaskedMSELoss()
    expected = MSELoss()(prediction[observed], values[observed])
    assert loss(prediction, target) == pytest.approx(expected, rel=1e-12)
    grad = loss.backward()
    np.testing.assert_array_equal(grad[~observed], 0.0)
    np.testing.assert_allclose(grad[observed], 2 * (prediction - values)[observed] / observed.sum())
    assert MaskedMSELoss(reduction="sum")(prediction, target) == pytest.approx(expected * observed.sum())
    per_entry = MaskedMSELoss(reduction="none")(prediction, target)
    np.testing.assert_array_equal(per_entry[~observed], 0.0)


def test_masked_loss_without_nan_equals_mse_and_of_nothing_is_nan():
    rng = np.random.default_rng(3)
    p, t = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    assert MaskedMSELoss()(p, t) == pytest.approx(MSELoss()(p, t), rel=1e-12)
    assert np.isnan(MaskedMSELoss()(p, np.full((3, 4), np.nan)))


def test_masked_loss_keeps_float32():
    p = np.ones((2, 3), dtype=np.float32)
    t = np.array([[1.0, np.nan, 2.0], [np.nan, 0.0, 1.0]], dtype=np.float32)
    loss = MaskedMSELoss()
    loss(p, t)
    assert loss.backward().dtype == np.float32


# ---------------------------------------------------------------------------------- row batches
def _csr_example():
    train, _, _ = planted_ratings(12, 9, seed=4)
    return train, train.to_csr(by="item")


def test_dense_rows_equals_the_dense_matrix():
    train, (indptr, indices, values) = _csr_example()
    dense = train.to_dense().T  # (n_items, n_users)
    rows = np.array([3, 0, 3, 8])
    np.testing.assert_array_equal(dense_rows(indptr, indices, values, rows, train.n_users), dense[rows])
    nan_filled = dense_rows(indptr, indices, values, rows, train.n_users, fill=np.nan)
    observed = train.to_dense(fill=np.nan).T[rows]
    np.testing.assert_array_equal(nan_filled, observed)  # NaN positions agree too
    assert dense_rows(indptr, indices, values, np.array([], dtype=np.int64), 9).shape == (0, 9)


def test_row_batches_visit_every_row_once_per_epoch_in_a_seeded_order():
    train, csr = _csr_example()
    rows = np.arange(train.n_items)
    batches = RowBatches(*csr, train.n_users, rows, 4, target_fill=np.nan, seed=5)
    assert len(batches) == 3
    first = [(x, t) for (x,), t in batches.epoch()]
    stacked = np.concatenate([x for x, _ in first])
    assert stacked.shape == (train.n_items, train.n_users)
    # every item row appears once: match rows by content against the dense matrix
    dense = train.to_dense().T
    matches = (stacked[:, None, :] == dense[None, :, :]).all(axis=2)
    assert matches.any(axis=1).all()
    for x, t in first:
        np.testing.assert_array_equal(np.isnan(t), x == 0)  # the toy ratings are 1..5, never 0
    again = RowBatches(*csr, train.n_users, rows, 4, target_fill=np.nan, seed=5)
    for (a, _), ((b,), _) in zip(first, again.epoch(), strict=True):
        np.testing.assert_array_equal(a, b)
    second = np.concatenate([x for (x,), _ in batches.epoch()])
    assert not np.array_equal(second, stacked)  # a new order in the next epoch


def test_row_batches_reject_bad_batch_size():
    train, csr = _csr_example()
    with pytest.raises(ValueError, match="batch_size"):
        RowBatches(*csr, train.n_users, np.arange(3), 0)


def test_score_pairs_equals_indexing_the_full_output():
    rng = np.random.default_rng(6)
    table = rng.normal(size=(7, 5))
    rows, cols = rng.integers(0, 7, 40), rng.integers(0, 5, 40)
    calls = []

    def forward(r):
        calls.append(len(r))
        return table[r]

    out = score_pairs(forward, rows, cols, 5, block=10)  # two rows per block: several blocks
    np.testing.assert_array_equal(out, table[rows, cols])
    assert sum(calls) == len(np.unique(rows)) and max(calls) <= 2


def test_adam_groups_decay_weights_but_not_biases():
    net = AutoRecNet(3, 2, dtype=np.float64, seed=0)
    before = {name: p.data.copy() for name, p in net.named_parameters()}
    optimizer = AdamGroups(net, lr=0.1, weight_decay=1.0)
    for p in net.parameters():
        p.grad = np.zeros_like(p.data)  # no loss gradient: only the decay can move a parameter
    optimizer.step()
    for name, p in net.named_parameters():
        if name.endswith("weight"):
            assert np.all(np.abs(p.data) < np.abs(before[name]))
        else:
            np.testing.assert_array_equal(p.data, before[name])
    optimizer.zero_grad()
    assert all(p.grad is None for p in net.parameters())


# ---------------------------------------------------------------------------------- the recommender
def _small(**kw):
    params = dict(hidden=16, n_epochs=30, batch_size=8, lr=1e-2, weight_decay=1e-4, seed=0)
    params.update(kw)
    return AutoRec(**params)


def test_learns_a_planted_low_rank_matrix():
    train, test, truth = planted_ratings(60, 40, density=0.6, seed=1, unknown=False)
    model = _small(hidden=32, n_epochs=100, weight_decay=1e-3).fit(train)
    rmse = evaluate(model, test, train=train, protocol="rating")["rmse"]
    baseline = np.sqrt(np.mean((test.ratings - train.ratings.mean()) ** 2))  # predicting μ: 0.83
    floor = np.sqrt(np.mean((np.clip(truth[test.users, test.items], 1, 5) - test.ratings) ** 2))  # rounding
    assert rmse < 0.6 * baseline and rmse < floor + 0.25, (rmse, baseline, floor)


def test_item_and_user_based_read_different_rows():
    train, test, _ = planted_ratings(seed=2)
    item = _small(n_epochs=5).fit(train)
    user = _small(n_epochs=5, item_based=False).fit(train)
    assert item.net.encoder.in_features == train.n_users
    assert user.net.encoder.in_features == train.n_items


def test_prediction_is_the_reconstruction_of_the_items_row():
    train, test, _ = planted_ratings(seed=3, unknown=False)
    model = _small(n_epochs=3, dtype=np.float64).fit(train)
    x = train.to_dense().T  # (n_items, n_users): each item's training ratings, 0 where missing
    model.net.eval()
    expected = model.net(x.astype(np.float64))[test.items, test.users]
    np.testing.assert_allclose(model.predict(test.users, test.items), np.clip(expected, 1, 5), rtol=1e-12)


def test_unknown_users_and_items_get_the_global_mean():
    train, _, _ = planted_ratings(seed=4)  # the last user and the last item have no training rating
    n_users, n_items = train.n_users, train.n_items
    for item_based in (True, False):
        model = _small(n_epochs=2, item_based=item_based).fit(train)
        users = np.array([n_users - 1, 0, n_users - 1])
        items = np.array([0, n_items - 1, n_items - 1])
        np.testing.assert_allclose(model.predict(users, items), model.global_mean_, rtol=1e-6)
        table = model.score_all(np.array([0, n_users - 1]))
        np.testing.assert_allclose(table[1], model.global_mean_)
        np.testing.assert_allclose(table[0, -1], model.global_mean_)


def test_float64_and_float32_follow_the_same_path():
    train, test, _ = planted_ratings(seed=6)
    a = _small(n_epochs=3, dtype=np.float64).fit(train).predict(test.users, test.items)
    b = _small(n_epochs=3, dtype=np.float32).fit(train).predict(test.users, test.items)
    np.testing.assert_allclose(a, b, atol=1e-3)


def test_validation_history_and_early_stopping():
    train, test, _ = planted_ratings(seed=7)
    model = _small(n_epochs=40, lr=0.05, weight_decay=0.0, patience=2).fit(train, valid=test)
    h = model.history_
    assert set(h) >= {"loss", "epoch_seconds", "val_rmse", "val_mae"}
    assert len(h["loss"]) == len(h["val_rmse"]) < 40  # stopped early
    best = min(h["val_rmse"])
    assert evaluate(model, test, train=train, protocol="rating")["rmse"] == pytest.approx(best, rel=1e-6)


def test_repeated_pairs_keep_the_last_rating_in_the_input():
    data = Interactions(np.array([0, 0, 1]), np.array([1, 1, 0]), np.array([2.0, 4.0, 3.0], dtype=np.float32))
    model = AutoRec(4, 2, seed=0).fit(data)
    x = model._inputs(np.array([1]))  # item 1's row over users
    np.testing.assert_array_equal(x, [[4.0, 0.0]])


def test_command_line_trains_autorec(capsys, tmp_path):
    from tinyrec.cli import main
    from tinyrec.io import load

    path = tmp_path / "autorec.npz"
    argv = ["train", "autorec", "--data", "synthetic", "--epochs", "2", "--set", "hidden=8", "--seed", "1",
            "--save", str(path), "--json"]  # fmt: skip
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["params"]["hidden"] == 8 and result["params"]["n_epochs"] == 2
    assert len(result["epoch_seconds"]) == 2 and result["metrics"]["rating"]["rmse"] > 0
    model = load(path)
    assert isinstance(model, AutoRec) and model.hidden == 8


def test_similar_items_use_the_item_codes_or_the_decoder_rows():
    train, _, _ = planted_ratings(seed=8, unknown=False)
    item = _small(n_epochs=2, dtype=np.float64).fit(train)
    codes = item._item_vectors()
    x = train.to_dense().T.astype(np.float64)  # (n_items, n_users)
    expected = 1 / (1 + np.exp(-(x @ item.net.encoder.weight.data.T + item.net.encoder.bias.data)))
    np.testing.assert_allclose(codes, expected, rtol=1e-12)
    neighbours, sims = item.similar_items(np.array([0, 3]), k=4)
    assert neighbours.shape == sims.shape == (2, 4) and 0 not in neighbours[0] and 3 not in neighbours[1]
    user = _small(n_epochs=2, item_based=False).fit(train)
    np.testing.assert_array_equal(user._item_vectors(), user.net.decoder.weight.data)
