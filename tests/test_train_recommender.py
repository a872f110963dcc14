"""The recommender training loop: PointwiseBatches (fresh negatives each epoch) and fit_recommender."""

from __future__ import annotations

import io

import numpy as np
import pytest

from tinyrec.errors import NonFiniteError
from tinyrec.evaluation import evaluate
from tinyrec.losses import BCEWithLogitsLoss
from tinyrec.models.ncf import GMF
from tinyrec.models.training import PointwiseBatches, fit_recommender
from tinyrec.optim import Adam

from .models.contract import implicit_toy


# ------------------------------------------------------------------ PointwiseBatches
def _epoch(batches):
    parts = list(batches.epoch())
    users = np.concatenate([u for (u, _), _ in parts])
    items = np.concatenate([i for (_, i), _ in parts])
    labels = np.concatenate([y for _, y in parts])
    return parts, users, items, labels


def test_an_epoch_holds_each_positive_once_and_n_negatives_that_are_never_positives():
    train, _ = implicit_toy()
    batches = PointwiseBatches(train, n_negatives=3, batch_size=7, seed=0)
    parts, users, items, labels = _epoch(batches)
    assert len(parts) == len(batches) == int(np.ceil(4 * len(train) / 7))
    assert all(len(y) == 7 for _, y in parts[:-1]) and 1 <= len(parts[-1][1]) <= 7
    assert labels.dtype == np.float32 and users.dtype == np.int64
    pos = labels == 1
    # positives: exactly the training pairs, each once
    train_pairs = sorted(zip(train.users.tolist(), train.items.tolist(), strict=True))
    assert sorted(zip(users[pos].tolist(), items[pos].tolist(), strict=True)) == train_pairs
    # negatives: 3 per positive of each user, none of them a positive of that user
    assert np.array_equal(np.bincount(users[~pos], minlength=train.n_users), 3 * train.user_counts())
    seen = train.to_dense() > 0
    assert not seen[users[~pos], items[~pos]].any()


def test_negatives_and_order_are_redrawn_each_epoch_and_repeat_with_the_seed():
    train, _ = implicit_toy()
    a, b = PointwiseBatches(train, 4, 16, seed=3), PointwiseBatches(train, 4, 16, seed=3)
    first_a, second_a = _epoch(a)[1:], _epoch(a)[1:]
    first_b, second_b = _epoch(b)[1:], _epoch(b)[1:]
    for x, y in zip(first_a + second_a, first_b + second_b, strict=True):
        np.testing.assert_array_equal(x, y)  # same seed, same sequence of epochs
    neg1 = np.sort(first_a[1][first_a[2] == 0])
    neg2 = np.sort(second_a[1][second_a[2] == 0])
    assert not np.array_equal(first_a[0], second_a[0])  # a new order
    assert not np.array_equal(neg1, neg2)  # new negatives
    other = _epoch(PointwiseBatches(train, 4, 16, seed=4))[1:]
    assert not np.array_equal(other[0], first_a[0])


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"n_negatives": 0}, ValueError, "n_negatives"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"batch_size": 2.5}, ValueError, "batch_size"),
    ],
)
def test_pointwise_batches_refuse_bad_arguments(kwargs, error, message):
    train, _ = implicit_toy()
    with pytest.raises(error, match=message):
        PointwiseBatches(train, **kwargs)


# ------------------------------------------------------------------ fit_recommender
def _ready_model(seed=0, **kwargs):
    """A GMF whose index space and network are set up, as Recommender.fit does before _fit."""
    train, test = implicit_toy()
    model = GMF(4, 1, seed=seed, **kwargs)
    model.fit(train)  # sets the index space and builds the network
    model._build_net()
    return model, train, test


def _run(model, train, epochs, **kwargs):
    batches = PointwiseBatches(train, 2, 32, seed=0)
    optimizer = Adam(model.net.parameters(), lr=kwargs.pop("lr", 0.01))
    return fit_recommender(
        model, train, batches, optimizer, BCEWithLogitsLoss(), epochs, verbose=False, **kwargs
    )


def test_history_has_one_entry_per_epoch_and_validation_metrics():
    model, train, test = _ready_model()
    history = _run(model, train, 3, valid=test, protocol="full", monitor="ndcg@10", restore_best=False)
    assert history["loss"][-1] < history["loss"][0]
    assert len(history["epoch_seconds"]) == 3 and all(s > 0 for s in history["epoch_seconds"])
    for name in ("hr@10", "ndcg@10", "recall@10", "coverage@10"):
        assert len(history[f"val_{name}"]) == 3
    # the last recorded value is the model's score now (restore_best=False keeps the last epoch)
    now = evaluate(model, test, train=train, protocol="full", k=10)
    assert history["val_ndcg@10"][-1] == pytest.approx(now["ndcg@10"])


def test_without_validation_there_are_no_validation_entries():
    model, train, _ = _ready_model()
    history = _run(model, train, 2)
    assert set(history) == {"loss", "epoch_seconds"}


def test_early_stopping_stops_after_patience_and_restores_the_best_weights():
    # a learning rate this large makes the validation score fall after the first epochs
    model, train, test = _ready_model()
    history = _run(model, train, 30, lr=0.5, valid=test, protocol="full", monitor="ndcg@10", patience=2)
    values = history["val_ndcg@10"]
    best = int(np.argmax(values))
    assert len(values) == best + 1 + 2 < 30  # stopped two epochs after the best one
    now = evaluate(model, test, train=train, protocol="full", k=10)
    assert now["ndcg@10"] == pytest.approx(values[best])


def test_a_lower_is_better_monitor_keeps_the_smallest_value():
    model, train, test = _ready_model()
    with pytest.raises(ValueError, match="rmse"):
        _run(model, train, 1, valid=test, protocol="full", monitor="rmse")
    # with the rating protocol, rmse decides: the restored weights are those of the smallest rmse
    history = _run(model, train, 4, lr=0.5, valid=test, protocol="rating", monitor="rmse")
    now = evaluate(model, test, train=train, protocol="rating")
    assert now["rmse"] == pytest.approx(min(history["val_rmse"]))


class _PoisonSecondEpoch:
    """Batches that set a weight to NaN when the second epoch starts."""

    def __init__(self, batches, param):
        self.batches, self.param, self.calls = batches, param, 0

    def __len__(self):
        return len(self.batches)

    def epoch(self):
        self.calls += 1
        if self.calls == 2:
            self.param.data[...] = np.nan
        yield from self.batches.epoch()


def test_a_non_finite_loss_stops_training_naming_the_epoch_and_the_last_finite_loss():
    model, train, _ = _ready_model()
    batches = _PoisonSecondEpoch(PointwiseBatches(train, 2, 32, seed=0), model.net.output.bias)
    optimizer = Adam(model.net.parameters())
    with pytest.raises(NonFiniteError, match=r"epoch 2, batch 1 \(last finite value: 0\.\d+") as info:
        fit_recommender(model, train, batches, optimizer, BCEWithLogitsLoss(), 3, verbose=False)
    assert "learning rate" in str(info.value)


def test_progress_bar_shows_the_running_loss_and_metrics(monkeypatch):
    model, train, test = _ready_model()
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    batches = PointwiseBatches(train, 2, 32, seed=0)
    optimizer = Adam(model.net.parameters())
    fit_recommender(model, train, batches, optimizer, BCEWithLogitsLoss(), 2, valid=test, protocol="full")
    text = stream.getvalue()
    assert "epoch 1/2" in text and "epoch 2/2" in text and "loss 0." in text and "ndcg@10" in text


def test_seeded_training_repeats_exactly():
    train, _ = implicit_toy()
    a = GMF(4, 3, batch_size=16, seed=5).fit(train)
    b = GMF(4, 3, batch_size=16, seed=5).fit(train)
    assert a.history_["loss"] == b.history_["loss"]
    np.testing.assert_array_equal(a.net.output.weight.data, b.net.output.weight.data)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"epochs": 0}, "epochs"),
        ({"protocol": "auc"}, "protocol"),
        ({"monitor": "hr@5"}, "monitor"),
        ({"patience": 0}, "patience"),
        ({"patience": 2, "valid": None}, "valid"),
        ({"blas_threads": 0}, "blas_threads"),
    ],
)
def test_fit_recommender_refuses_bad_arguments(kwargs, message):
    model, train, test = _ready_model()
    args = {"epochs": 1, "valid": test, **kwargs}
    epochs = args.pop("epochs")
    with pytest.raises(ValueError, match=message):
        _run(model, train, epochs, **args)


def test_fit_recommender_refuses_a_loss_without_reduction():
    model, train, _ = _ready_model()
    batches = PointwiseBatches(train, 2, 32, seed=0)
    with pytest.raises(ValueError, match="reduction"):
        fit_recommender(
            model, train, batches, Adam(model.net.parameters()), BCEWithLogitsLoss(reduction="none"), 1
        )


class _RecordBlasThreads:
    """Batches that record BLAS's thread count while the epoch runs."""

    def __init__(self, batches):
        self.batches, self.threads = batches, []

    def __len__(self):
        return len(self.batches)

    def epoch(self):
        from threadpoolctl import threadpool_info

        self.threads.append([pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"])
        yield from self.batches.epoch()


def test_training_limits_blas_threads_and_restores_them(monkeypatch):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from tinyrec import threads

    for name in threads.USER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    model, train, _ = _ready_model()
    before = [p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]
    recorder = _RecordBlasThreads(PointwiseBatches(train, 2, 32, seed=0))
    optimizer = Adam(model.net.parameters())
    fit_recommender(model, train, recorder, optimizer, BCEWithLogitsLoss(), 2, verbose=False)  # the default
    assert recorder.threads == [[1] * len(before)] * 2
    after = [p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]
    assert after == before
    recorder = _RecordBlasThreads(PointwiseBatches(train, 2, 32, seed=0))
    fit_recommender(model, train, recorder, optimizer, BCEWithLogitsLoss(), 1, blas_threads=2, verbose=False)
    assert recorder.threads == [[min(2, n) for n in before]]
    monkeypatch.setenv("OMP_NUM_THREADS", "2")  # a user's setting wins over the default
    recorder = _RecordBlasThreads(PointwiseBatches(train, 2, 32, seed=0))
    fit_recommender(model, train, recorder, optimizer, BCEWithLogitsLoss(), 1, verbose=False)
    assert recorder.threads == [before]


class _TwoBatches:
    """One epoch = two fixed batches; user 0 appears only in the first."""

    def __len__(self):
        return 2

    def epoch(self):
        yield (np.array([0, 1]), np.array([0, 1])), np.array([1.0, 0.0], np.float32)
        yield (np.array([2, 3]), np.array([2, 3])), np.array([1.0, 0.0], np.float32)


@pytest.mark.parametrize("lazy", [True, False])
def test_lazy_embeddings_move_only_the_rows_of_the_batch(lazy):
    model, train, _ = _ready_model()
    table = model.net.gmf.user_embedding.weight.data
    start = table[0].copy()
    optimizer = Adam(model.net.parameters(), lr=0.01)
    after_first = []
    original_step = optimizer.step

    def step():
        original_step()
        after_first.append(table[0].copy())

    optimizer.step = step
    fit_recommender(
        model, train, _TwoBatches(), optimizer, BCEWithLogitsLoss(), 1, lazy_embeddings=lazy, verbose=False
    )
    assert not np.array_equal(after_first[0], start)  # the first batch moved user 0
    if lazy:  # absent from the second batch: untouched by its step
        np.testing.assert_array_equal(after_first[1], after_first[0])
    else:  # dense Adam: the momentum of the first step moves the row again
        assert not np.allclose(after_first[1], after_first[0])


@pytest.mark.parametrize("terminal", [True, False])
def test_each_epoch_ends_in_one_line_on_a_terminal_and_off_it(capsys, monkeypatch, terminal):
    from tinyrec import progress

    monkeypatch.setattr(progress, "_is_terminal", lambda stream: terminal)
    model, train, test = _ready_model()
    batches = PointwiseBatches(train, 2, 32, seed=0)
    fit_recommender(model, train, batches, Adam(model.net.parameters()), BCEWithLogitsLoss(), 3, valid=test,
                    protocol="full", monitor="ndcg@10")  # fmt: skip
    err = capsys.readouterr().err
    shown = [line.split("\r")[-1].strip() for line in err.split("\n") if line.strip()]  # what stays on screen
    assert [line.split(" [")[0] for line in shown] == ["epoch 1/3", "epoch 2/3", "epoch 3/3"], err
    assert all("ndcg@10" in line for line in shown)  # the validation figures end each epoch's line
    assert ("\r" in err) is terminal  # redrawn in place on a terminal only
