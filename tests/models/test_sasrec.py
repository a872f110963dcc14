"""SASRecNet: whole-network gradient check (float64, hypothesis over sizes, padding and dropout), the
padding row and padded positions, positions counted from the latest item; SASRec's defaults."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyrec.errors import ShapeError
from tinyrec.gradcheck import check_module
from tinyrec.models.sequential import SASRec, SASRecNet

N_ITEMS = 7


def left_padded(rng, n, length, pad=N_ITEMS):
    """``(n, length)`` rows of items, each left-padded to a random length >= 1."""
    rows = rng.integers(0, N_ITEMS, (n, length))
    for r, k in enumerate(rng.integers(1, length + 1, n)):
        rows[r, : length - k] = pad
    return rows


@settings(max_examples=12)
@given(
    seed=st.integers(0, 1000),
    n=st.integers(1, 3),
    length=st.integers(1, 5),
    heads_dim=st.sampled_from([(1, 3), (1, 4), (2, 4)]),  # d >= 3: a LayerNorm of 2 features is flat
    n_blocks=st.integers(1, 2),
    dropout=st.sampled_from([0.0, 0.3]),
    n_candidates=st.integers(1, 3),
)
def test_whole_network_gradient_check(seed, n, length, heads_dim, n_blocks, dropout, n_candidates):
    rng = np.random.default_rng(seed)
    num_heads, dim = heads_dim
    net = SASRecNet(N_ITEMS, max_len=6, dim=dim, n_blocks=n_blocks, num_heads=num_heads, dropout=dropout,
                    dtype=np.float64, seed=seed)  # fmt: skip
    seq = left_padded(rng, n, length)
    candidates = rng.integers(0, N_ITEMS, (int((seq != N_ITEMS).sum()), n_candidates))
    report = check_module(net, seq, candidates, seed=seed)
    report.assert_ok(1e-6)


def test_the_padding_row_and_padded_positions_get_no_gradient():
    rng = np.random.default_rng(0)
    net = SASRecNet(N_ITEMS, max_len=6, dim=4, n_blocks=2, dropout=0.2, dtype=np.float64, seed=0)
    seq = np.array([[7, 7, 7, 1, 2], [3, 4, 5, 6, 0]])
    logits = net(seq, rng.integers(0, N_ITEMS, (7, 2)))
    net.backward(rng.standard_normal(logits.shape))
    assert N_ITEMS not in net.item_embedding.weight.grad.rows  # the padding row
    assert np.all(net.item_embedding.weight.data[N_ITEMS] == 0)
    assert net.positions.weight.grad.rows.tolist() == [0, 1, 2, 3, 4]  # rows 5.. were not used


def test_padding_on_the_left_changes_no_output():
    """Positions count back from the latest item and padded keys are masked: extra padding is inert."""
    rng = np.random.default_rng(1)
    net = SASRecNet(N_ITEMS, max_len=8, dim=4, n_blocks=2, num_heads=2, dtype=np.float64, seed=1).eval()
    seq = left_padded(rng, 4, 4)
    wider = np.concatenate([np.full((4, 3), N_ITEMS), seq], axis=1)
    np.testing.assert_allclose(net.last_states(wider), net.last_states(seq), rtol=1e-12, atol=1e-12)
    candidates = rng.integers(0, N_ITEMS, (int((seq != N_ITEMS).sum()), 2))
    np.testing.assert_allclose(net(wider, candidates), net(seq, candidates), rtol=1e-12, atol=1e-12)


def test_the_causal_mask_hides_later_items():
    """The state at a position does not depend on the items after it."""
    net = SASRecNet(N_ITEMS, max_len=5, dim=4, n_blocks=2, dtype=np.float64, seed=2).eval()
    a, b = np.array([[1, 2, 3, 4]]), np.array([[1, 2, 5, 6]])
    cands = np.zeros((4, 1), dtype=np.int64)
    out_a, out_b = net(a, cands), net(b, cands)
    np.testing.assert_allclose(out_a[:2], out_b[:2], rtol=1e-12)  # positions 0 and 1 see only 1, 2
    assert not np.allclose(out_a[2:], out_b[2:])


def test_bad_batches_are_refused():
    net = SASRecNet(N_ITEMS, max_len=3, dim=2)
    with pytest.raises(ShapeError, match="max_len=3"):
        net(np.ones((1, 4), dtype=np.int64), np.zeros((4, 1), dtype=np.int64))
    with pytest.raises(ShapeError, match="one row per real position"):
        net(np.array([[7, 1, 2]]), np.zeros((3, 1), dtype=np.int64))


def test_state_shapes_match_the_network():
    net = SASRecNet(11, max_len=9, dim=6, n_blocks=3, num_heads=2)
    assert {k: v.shape for k, v in net.state_dict().items()} == SASRecNet.state_shapes(11, 9, 6, 3)


def test_defaults_follow_the_reference_code():
    model = SASRec()
    assert (model.max_len, model.dim, model.n_blocks, model.num_heads, model.dropout) == (200, 50, 2, 1, 0.2)
    assert (model.n_negatives, model.batch_size, model.lr, model._betas) == (1, 128, 1e-3, (0.9, 0.98))
