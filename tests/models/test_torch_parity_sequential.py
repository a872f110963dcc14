"""SASRec, GRU4Rec and Caser against their torch twins (benchmarks/sequential_twins.py): one training
step in float64 from copied weights on the same batch, to 1e-9 — logits, loss, every gradient, and
the parameters after Adam (dense, as the reference codes train; lazy, against torch's SparseAdam).

The twins are the ones bench_sequential.py trains, so these tests also vouch that its comparison is
between the same networks."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from tinyrec.models.sequential import Caser, GRU4Rec, SASRec
from tinyrec.nn.module import RowGrad
from tinyrec.optim import Adam

from ..helpers import require_torch
from .contract import implicit_toy

TOL = 1e-9
_TWINS = Path(__file__).resolve().parents[2] / "benchmarks" / "sequential_twins.py"


def _twins_module():
    spec = importlib.util.spec_from_file_location("sequential_twins", _TWINS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MODELS = {
    "SASRec": lambda: SASRec(
        max_len=6, dim=4, n_blocks=2, num_heads=2, dropout=0.0, n_negatives=2, batch_size=5
    ),
    "GRU4Rec-ce": lambda: GRU4Rec(dim=3, hidden=4, dropout=0.0, max_len=6, batch_size=5),
    "GRU4Rec-bpr": lambda: GRU4Rec(
        dim=3, hidden=4, loss="bpr", n_negatives=2, dropout=0.0, max_len=6, batch_size=5
    ),
    "GRU4Rec-bce": lambda: GRU4Rec(dim=3, hidden=4, loss="bce", n_negatives=2, dropout=0.0, batch_size=5),
    "Caser": lambda: Caser(
        window=3, n_targets=2, dim=4, n_vertical=2, n_horizontal=2, dropout=0.0, batch_size=8
    ),
}


def _started(name, *, weight_decay=0.1, seed=0):
    """A float64 model whose network and batch source are set up as fit sets them, and its first batch."""
    model = MODELS[name]()
    model.dtype, model.seed, model.weight_decay, model.lr = np.dtype(np.float64), seed, weight_decay, 0.05
    model.n_epochs = 1
    train, _ = implicit_toy()
    model.fit(train)  # the index space and the stored histories; then start over as fit does
    batches = model._start(train)
    return model, next(iter(batches.epoch()))


def _assert_close(a, b, what):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    scale = max(1.0, float(np.abs(b).max(initial=0.0)))
    assert a.shape == b.shape, f"{what}: shapes {a.shape} and {b.shape}"
    assert np.abs(a - b).max(initial=0.0) <= TOL * scale, f"{what}: max difference {np.abs(a - b).max():.3e}"


def _tinyrec_step(model, batch, *, lazy):
    inputs, target = batch
    net, loss = model.net, model._loss()
    net.train()
    net.zero_grad()
    logits = net(*inputs)
    value = loss.forward(logits, target)
    net.backward(loss.backward())
    grads = {name: p.dense_grad() for name, p in net.named_parameters()}
    optimizer = Adam(net.parameters(), lr=model.lr, betas=model._betas, weight_decay=model.weight_decay)
    if not lazy:  # fit_recommender(lazy_embeddings=False): every row, as torch.optim.Adam
        for p in net.parameters():
            if isinstance(p.grad, RowGrad):
                p.grad = p.dense_grad()
    optimizer.step()
    return logits, value, grads, net.state_dict()


def _torch_step(torch, twins, model, batch, *, sparse):
    inputs, target = batch
    twin = twins.twin_of(torch, model, sparse=sparse)
    twin.train()
    logits = twin(*twins.as_torch(torch, inputs))
    value = twins.twin_loss(torch, model)(logits, torch.from_numpy(np.asarray(target)))
    optimizers = twins.twin_optimizers(torch, model, twin)
    for opt in optimizers:
        opt.zero_grad()
    value.backward()
    grads = {name: (p.grad.to_dense() if p.grad.is_sparse else p.grad).numpy().copy()
             for name, p in twin.named_parameters()}  # fmt: skip
    for opt in optimizers:
        opt.step()
    state = {name: v.detach().numpy() for name, v in twin.state_dict().items()}
    return logits.detach().numpy(), float(value.detach()), grads, state


@pytest.mark.parametrize("name", sorted(MODELS))
def test_one_dense_training_step_matches_torch(name):
    torch = require_torch()
    twins = _twins_module()
    model, batch = _started(name)
    before = model.net.state_dict()
    t_logits, t_value, t_grads, t_state = _torch_step(torch, twins, model, batch, sparse=False)
    logits, value, grads, state = _tinyrec_step(model, batch, lazy=False)
    _assert_close(logits, t_logits, "logits")
    _assert_close(value, t_value, "loss")
    assert set(grads) == set(t_grads) == set(state) == set(t_state)
    for key in grads:
        _assert_close(0.0 if grads[key] is None else grads[key], t_grads[key], f"gradient of {key}")
        _assert_close(state[key], t_state[key], f"{key} after the Adam step")
    assert any(not np.array_equal(state[k], before[k]) for k in state), "the step moved nothing"


@pytest.mark.parametrize("name", ["SASRec", "GRU4Rec-bpr", "Caser"])
def test_one_lazy_training_step_matches_torch_sparse_adam(name):
    torch = require_torch()
    twins = _twins_module()
    model, batch = _started(name, weight_decay=0.0)  # torch's SparseAdam has no weight decay
    _, _, _, t_state = _torch_step(torch, twins, model, batch, sparse=True)
    _, _, _, state = _tinyrec_step(model, batch, lazy=True)
    for key in state:
        _assert_close(state[key], t_state[key], f"{key} after the lazy Adam step")


@pytest.mark.parametrize("name", sorted(MODELS))
def test_scores_of_every_item_match_torch(name):
    torch = require_torch()
    twins = _twins_module()
    model, _ = _started(name)
    twin = twins.twin_of(torch, model).eval()
    users = np.arange(model.n_users_ - 1)  # the last user has no training item
    rows = model._sequences.padded(users, model._input_length, side=model._padding_side)
    with torch.no_grad():
        if name == "Caser":
            known = torch.from_numpy(model.user_counts_[users] > 0)
            expected = twin.score_all(*twins.as_torch(torch, (users, rows)), known).numpy()
        else:
            expected = twin.score_all(torch.from_numpy(rows)).numpy()
    _assert_close(model.score_all(users), expected, "scores of every item")
