"""GRU4RecNet: whole-network gradient check (float64, hypothesis over sizes, padding, dropout, the
three losses' output forms), the padding row and right padding; GRU4Rec's losses and defaults."""

import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyrec.errors import ShapeError
from tinyrec.gradcheck import check_module
from tinyrec.losses import CrossEntropyLoss
from tinyrec.models.sequential import GRU4Rec, GRU4RecNet
from tinyrec.models.sequential.training import CandidateBPRLoss

from .contract import implicit_toy

N_ITEMS = 7


def right_padded(rng, n, length, pad=N_ITEMS):
    """``(n, length)`` rows of items, each right-padded after a random length >= 1."""
    rows = rng.integers(0, N_ITEMS, (n, length))
    for r, k in enumerate(rng.integers(1, length + 1, n)):
        rows[r, k:] = pad
    return rows


@settings(max_examples=12)
@given(
    seed=st.integers(0, 1000),
    n=st.integers(1, 3),
    length=st.integers(1, 5),
    dim=st.integers(1, 3),
    hidden=st.integers(1, 4),
    dropout=st.sampled_from([0.0, 0.3]),
    n_candidates=st.sampled_from([None, 1, 3]),  # None: every item (the softmax's logits)
)
def test_whole_network_gradient_check(seed, n, length, dim, hidden, dropout, n_candidates):
    rng = np.random.default_rng(seed)
    net = GRU4RecNet(N_ITEMS, dim=dim, hidden=hidden, dropout=dropout, dtype=np.float64, seed=seed)
    seq = right_padded(rng, n, length)
    inputs = [seq]
    if n_candidates is not None:
        inputs.append(rng.integers(0, N_ITEMS, (int((seq != N_ITEMS).sum()), n_candidates)))
    check_module(net, *inputs, seed=seed).assert_ok(1e-6)


def test_the_padding_row_gets_no_gradient_and_right_padding_is_inert():
    rng = np.random.default_rng(0)
    net = GRU4RecNet(N_ITEMS, dim=3, hidden=4, dropout=0.0, dtype=np.float64, seed=0)
    seq = np.array([[1, 2, 3, 7, 7], [4, 5, 6, 0, 1]])
    logits = net(seq)
    assert logits.shape == (8, N_ITEMS)
    net.backward(rng.standard_normal(logits.shape))
    assert N_ITEMS not in net.item_embedding.weight.grad.rows
    np.testing.assert_allclose(net(seq[:, :3]), logits[:6], rtol=1e-12)  # the first 3 positions of each row
    net.eval()
    np.testing.assert_allclose(net.last_states(seq)[0], net.last_states(seq[:1, :3])[0], rtol=1e-12)


def test_one_softmax_step_builds_no_one_hot():
    """The cross-entropy reads the target indices: its gradient is softmax minus 1 at the target."""
    net = GRU4RecNet(N_ITEMS, dim=3, hidden=4, dtype=np.float64, seed=1)
    seq = np.array([[1, 2, 3]])
    targets = np.array([2, 3, 4])
    loss = CrossEntropyLoss()
    logits = net(seq)
    loss.forward(logits, targets)
    grad = loss.backward()
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(3), targets] -= 1.0
    np.testing.assert_allclose(grad, p / 3, rtol=1e-12)


def test_a_softmax_training_step_allocates_no_one_hot_of_the_targets():
    """GRU4Rec's batches give the targets as item indices, and the loss's forward and backward hold
    at their peak the log-probabilities and the gradient: two arrays of the logits' size. A dense
    one-hot of the targets (or a target distribution built from one) would be a third."""
    train, _ = implicit_toy(n_users=40, n_items=4000)
    model = GRU4Rec(dim=4, hidden=8, max_len=6, batch_size=40, seed=0)
    model.n_users_, model.n_items_ = train.n_users, train.n_items
    (inputs,), targets = next(iter(model._start(train).epoch()))
    assert targets.ndim == 1 and targets.dtype.kind == "i"  # (M,) indices of the next items
    logits = model.net(inputs)  # (M, n_items)
    loss = model._loss()
    tracemalloc.start()
    try:
        loss.forward(logits, targets)
        loss.backward()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2.5 * logits.nbytes, f"peak {peak / logits.nbytes:.2f} times the logits"


def test_bad_batches_are_refused():
    net = GRU4RecNet(N_ITEMS, dim=2, hidden=2)
    with pytest.raises(ShapeError, match="one row per real position"):
        net(np.array([[1, 2, 7]]), np.zeros((3, 1), dtype=np.int64))


def test_state_shapes_match_the_network():
    net = GRU4RecNet(11, dim=5, hidden=6)
    assert {k: v.shape for k, v in net.state_dict().items()} == GRU4RecNet.state_shapes(11, 5, 6)


def test_the_loss_option_picks_the_loss():
    assert isinstance(GRU4Rec()._loss(), CrossEntropyLoss)
    assert isinstance(GRU4Rec(loss="bpr")._loss(), CandidateBPRLoss)
    assert GRU4Rec(loss="bce", n_negatives=3)._loss().weight.tolist() == [4.0, 4 / 3, 4 / 3, 4 / 3]
