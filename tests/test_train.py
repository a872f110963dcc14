"""train.fit and its pieces: learning, seeding, multi-input models, metrics, progress, NaN guard."""

import io

import numpy as np
import pytest

from tinyrec.errors import NonFiniteError, ShapeError
from tinyrec.losses import BCEWithLogitsLoss, MSELoss
from tinyrec.nn import Dot, Dropout, Embedding, Linear, Module, ReLU, Sequential
from tinyrec.optim import SGD, Adam
from tinyrec.progress import EpochBar, ProgressBar
from tinyrec.train import History, batch_indices, fit, predict
from tinyrec.validation import check_finite_loss


def _click_data(n=400, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 4)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(np.float32)[:, None]  # (n, 1)
    return X, y


def _mlp(seed=0):
    return Sequential(
        Linear(4, 16, seed=seed), ReLU(), Dropout(0.1, seed=seed + 1), Linear(16, 1, seed=seed + 2)
    )


class TinyMF(Module):
    """ŷ_ui = p_u · q_i: a two-input network (user ids, item ids) with embedding tables."""

    def __init__(self, n_users, n_items, dim, seed):
        self.users = Embedding(n_users, dim, seed=seed)
        self.items = Embedding(n_items, dim, seed=seed + 1)
        self.dot = Dot()

    def forward(self, u, i):
        return self.dot(self.users(u), self.items(i))

    def backward(self, dy):
        dp, dq = self.dot.backward(dy)
        self.users.backward(dp)
        self.items.backward(dq)


def _accuracy(y_true, logits):
    return float(np.mean((logits > 0) == (y_true > 0.5)))


def test_fit_learns_and_records_history():
    X, y = _click_data()
    model = _mlp()
    optimizer = Adam(model.parameters(), lr=0.01)
    history = fit(
        model, BCEWithLogitsLoss(), optimizer, X[:300], y[:300], epochs=8, batch_size=32,
        validation_data=(X[300:], y[300:]), metrics={"accuracy": _accuracy}, verbose=False,
    )  # fmt: skip
    assert isinstance(history, History) and history.epochs == 8
    assert len(history.val_loss) == 8 and len(history.metrics["accuracy"]) == 8
    assert history.train_loss[-1] < 0.7 * history.train_loss[0]
    assert history.val_loss[-1] < history.val_loss[0]
    assert history.metrics["accuracy"][-1] > 0.8
    assert model.training  # evaluation switched to eval mode and back


def test_same_seed_same_run_and_seed_changes_batches():
    X, y = _click_data(120)

    def run(seed):
        model = _mlp()
        h = fit(model, MSELoss(), SGD(model.parameters(), lr=0.05), X, y, 3, 16, seed=seed, verbose=False)
        return h.train_loss, model.state_dict()

    (loss_a, state_a), (loss_b, state_b), (loss_c, _) = run(1), run(1), run(2)
    assert loss_a == loss_b
    for name in state_a:
        np.testing.assert_array_equal(state_a[name], state_b[name])
    assert loss_a != loss_c


def test_multi_input_model_with_embeddings():
    rng = np.random.default_rng(0)
    P, Q = rng.standard_normal((20, 2)), rng.standard_normal((15, 2))  # a planted rank-2 matrix
    u, i = rng.integers(0, 20, 600), rng.integers(0, 15, 600)
    r = np.einsum("nk,nk->n", P[u], Q[i]).astype(np.float32)
    model = TinyMF(20, 15, 2, seed=0)
    history = fit(model, MSELoss(), Adam(model.parameters(), lr=0.05), (u, i), r, 30, 64, verbose=False)
    assert history.train_loss[-1] < 0.05 * history.train_loss[0]
    assert predict(model, (u[:5], i[:5]), batch_size=2).shape == (5,)


def test_metrics_on_training_data_without_validation():
    X, y = _click_data(64)
    model = _mlp()
    h = fit(model, BCEWithLogitsLoss(), SGD(model.parameters(), lr=0.1), X, y, 2, 16,
            metrics={"accuracy": _accuracy}, verbose=False)  # fmt: skip
    assert h.val_loss == [] and len(h.metrics["accuracy"]) == 2
    model.eval()
    assert h.metrics["accuracy"][-1] == _accuracy(y, model(X))


def test_batch_indices_cover_every_row_once():
    rng = np.random.default_rng(0)
    batches = list(batch_indices(10, 4, shuffle=True, rng=rng))
    assert [len(b) for b in batches] == [4, 4, 2]
    np.testing.assert_array_equal(np.sort(np.concatenate(batches)), np.arange(10))
    ordered = list(batch_indices(5, 2, shuffle=False, rng=rng))
    np.testing.assert_array_equal(np.concatenate(ordered), np.arange(5))


def test_progress_bar_on_stderr_and_silent_when_off(capsys):
    X, y = _click_data(40)
    model = _mlp()
    fit(model, MSELoss(), SGD(model.parameters(), lr=0.01), X, y, 2, 16, validation_data=(X, y))
    err = capsys.readouterr().err
    assert "epoch 1/2" in err and "epoch 2/2" in err and "3/3" in err and "val_loss" in err
    fit(model, MSELoss(), SGD(model.parameters(), lr=0.01), X, y, 2, 16, verbose=False)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_progress_bar_draws_bar_and_summary():
    stream = io.StringIO()
    bar = ProgressBar(2, 5, 4, stream=stream, width=8, min_interval=0.0, live=True)
    bar.update(2, 0.5)
    bar.end({"loss": 0.5, "val_loss": 0.25})
    assert stream.getvalue().endswith("epoch 2/5 [####....] 2/4 loss 0.5000 val_loss 0.2500\n")


def test_nan_guard_names_epoch_and_last_finite_loss():
    X, y = _click_data(64)
    X[40:, 0] = np.nan  # rows 40.. poison the batches that contain them
    model = _mlp()
    with pytest.raises(NonFiniteError, match=r"epoch 1, batch 3 \(last finite value: [0-9.]+\)"):
        fit(model, MSELoss(), SGD(model.parameters(), lr=0.01), X, y, 2, 20, shuffle=False, verbose=False)
    with pytest.raises(NonFiniteError, match="none yet"):
        check_finite_loss(float("inf"), epoch=3, batch=1, last_finite=None)
    check_finite_loss(1.0, epoch=1, batch=1, last_finite=None)  # finite: no error


def test_bad_arguments():
    X, y = _click_data(20)
    model = _mlp()
    opt = SGD(model.parameters(), lr=0.01)
    with pytest.raises(ShapeError, match="one row per target"):
        fit(model, MSELoss(), opt, X[:10], y, 1, 4, verbose=False)
    with pytest.raises(ShapeError, match="validation_data"):
        fit(model, MSELoss(), opt, X, y, 1, 4, validation_data=(X[:3], y[:4]), verbose=False)
    with pytest.raises(ValueError, match="reduction"):
        fit(model, MSELoss(reduction="none"), opt, X, y, 1, 4, verbose=False)
    with pytest.raises(ValueError, match="epochs"):
        fit(model, MSELoss(), opt, X, y, 0, 4, verbose=False)
    with pytest.raises(ShapeError, match="no training rows"):
        fit(model, MSELoss(), opt, X[:0], y[:0], 1, 4, verbose=False)


def test_epoch_bar_redraws_in_place_and_ends_the_last_line():
    stream = io.StringIO()
    bar = EpochBar(3, "loss", stream=stream, min_interval=0.0, live=True)
    for epoch, value in ((1, 0.5), (2, 0.25), (3, 0.125)):
        bar.update(epoch, value)
    assert stream.getvalue() == (
        "\repoch 1/3 [######..............] loss 0.5000"
        "\repoch 2/3 [#############.......] loss 0.2500"
        "\repoch 3/3 [####################] loss 0.1250\n"
    )
    # throttled: between the first and the last epoch nothing is redrawn within min_interval
    stream = io.StringIO()
    bar = EpochBar(4, "rmse", stream=stream, min_interval=3600.0, live=True)
    for epoch in range(1, 5):
        bar.update(epoch, None)
    assert stream.getvalue() == "\repoch 1/4 [#####...............]\repoch 4/4 [####################]\n"
    quiet = io.StringIO()
    EpochBar(2, "loss", stream=quiet, enabled=False, live=True).update(2, 1.0)
    assert quiet.getvalue() == ""


def test_off_a_terminal_each_epoch_writes_one_finished_line():
    stream = io.StringIO()  # not a terminal: no redraws in a log
    bar = EpochBar(3, "loss", stream=stream, min_interval=3600.0)
    for epoch, value in ((1, 0.5), (2, 0.25), (3, 0.125)):
        bar.update(epoch, value)
    assert stream.getvalue() == (
        "epoch 1/3 [######..............] loss 0.5000\n"
        "epoch 2/3 [#############.......] loss 0.2500\n"
        "epoch 3/3 [####################] loss 0.1250\n"
    )
    stream = io.StringIO()
    with ProgressBar(2, 5, 4, stream=stream, width=8, min_interval=0.0) as bar:
        for batch in range(1, 5):
            bar.update(batch, 0.5)
        bar.end({"val_loss": 0.25})
    assert stream.getvalue() == "epoch 2/5 [########] 4/4 loss 0.5000 val_loss 0.2500\n"


def test_on_a_terminal_a_line_is_cut_to_its_width(monkeypatch):
    import os
    import shutil

    monkeypatch.setattr(shutil, "get_terminal_size", lambda *a: os.terminal_size((40, 24)))
    stream = io.StringIO()
    bar = ProgressBar(1, 2, 10, stream=stream, min_interval=0.0, live=True)
    bar.update(10, 0.5)
    bar.end({"val_hr@10": 0.5, "val_ndcg@10": 0.25})  # longer than 39 columns: cut, never wrapped
    assert all(len(row) <= 39 for row in stream.getvalue().replace("\n", "\r").split("\r"))


def test_bars_pad_a_shorter_redraw_and_end_a_line_an_error_cut_short():
    stream = io.StringIO()
    with pytest.raises(RuntimeError, match="diverged"):
        with EpochBar(3, "rmse", stream=stream, min_interval=0.0, live=True) as bar:
            bar.update(1, 13.222)
            bar.update(2, 2.1797)  # one character shorter: padded, so no stale "0" stays on screen
            raise RuntimeError("diverged")
    assert stream.getvalue() == (
        "\repoch 1/3 [######..............] rmse 13.2220\repoch 2/3 [#############.......] rmse 2.1797 \n"
    )
    stream = io.StringIO()
    with pytest.raises(KeyboardInterrupt):
        with ProgressBar(1, 2, 10, stream=stream, min_interval=0.0, live=True) as bar:
            bar.update(3, 0.5)
            raise KeyboardInterrupt
    assert stream.getvalue() == "\repoch 1/2 [######..............] 3/10 loss 0.5000\n"
    # a finished line is not ended twice; without an error nothing is added
    stream = io.StringIO()
    with EpochBar(1, "loss", stream=stream, live=True) as bar:
        bar.update(1, 0.25)
    assert stream.getvalue() == "\repoch 1/1 [####################] loss 0.2500\n"


def test_an_optimizer_over_another_models_parameters_is_refused():
    X, y = _click_data(40)
    model, other = _mlp(), _mlp(seed=5)
    before = {name: p.data.copy() for name, p in model.named_parameters()}
    with pytest.raises(ValueError, match=r"holds 4 parameter\(s\), none of them Sequential's \(0\.weight, "):
        fit(model, MSELoss(), Adam(other.parameters(), lr=0.1), X, y, 2, 8, verbose=False)  # trained nothing
    for name, p in model.named_parameters():
        np.testing.assert_array_equal(p.data, before[name])
    # an optimizer over some of them freezes the others, as in torch: accepted
    head = model[3]
    fit(model, MSELoss(), SGD(head.parameters(), lr=0.1), X, y, 2, 8, verbose=False)
    np.testing.assert_array_equal(model[0].weight.data, before["0.weight"])
    assert not np.array_equal(head.weight.data, before["3.weight"])
    with pytest.raises(ValueError, match="ReLU has no parameters: fit would train nothing"):
        fit(ReLU(), MSELoss(), SGD(other.parameters(), lr=0.1), X, y, 1, 8, verbose=False)


def test_epochs_and_batch_size_are_positive_integers():
    X, y = _click_data(20)
    model = _mlp()
    opt = SGD(model.parameters(), lr=0.01)
    for bad in (2.5, "3", None, True):  # 2.5 was truncated to 2; "3" failed inside range()
        with pytest.raises(ValueError, match="epochs must be a positive integer"):
            fit(model, MSELoss(), opt, X, y, bad, 4, verbose=False)
        with pytest.raises(ValueError, match="batch_size must be a positive integer"):
            fit(model, MSELoss(), opt, X, y, 1, bad, verbose=False)


def _blas_threads():
    from threadpoolctl import threadpool_info

    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]


def test_fit_runs_blas_on_one_thread_and_restores_it(monkeypatch):
    from tinyrec import threads

    for name in threads.USER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    seen = []

    def accuracy(y_true, logits):  # called inside the loop, once per epoch
        seen.append(_blas_threads())
        return _accuracy(y_true, logits)

    X, y = _click_data(64)
    model = _mlp()
    before = _blas_threads()
    fit(model, BCEWithLogitsLoss(), Adam(model.parameters()), X, y, epochs=2, batch_size=32,
        metrics={"accuracy": accuracy}, verbose=False)  # fmt: skip
    assert seen == [[1] * len(before)] * 2 and _blas_threads() == before
