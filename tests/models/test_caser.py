"""CaserNet: whole-network gradient check (float64, hypothesis over sizes and dropout), the padding
row, Caser's reference defaults, and a user without a trained vector."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyrec.errors import ShapeError
from tinyrec.gradcheck import check_module, numerical_gradient, relative_error
from tinyrec.models.sequential import Caser, CaserNet

from .contract import implicit_toy

N_USERS, N_ITEMS = 5, 7


@settings(max_examples=12)
@given(
    seed=st.integers(0, 1000),
    n=st.integers(1, 3),
    window=st.integers(1, 4),
    dim=st.integers(1, 3),
    n_vertical=st.integers(1, 2),
    n_horizontal=st.integers(1, 2),
    dropout=st.sampled_from([0.0, 0.4]),
    n_candidates=st.integers(1, 4),
)
def test_whole_network_gradient_check(seed, n, window, dim, n_vertical, n_horizontal, dropout, n_candidates):
    """Every parameter, windows without padding (the padding row is checked below)."""
    rng = np.random.default_rng(seed)
    net = CaserNet(
        N_USERS, N_ITEMS, window, dim, n_vertical, n_horizontal, dropout, dtype=np.float64, seed=seed
    )
    users = rng.integers(0, N_USERS, n)
    windows = rng.integers(0, N_ITEMS, (n, window))
    candidates = rng.integers(0, N_ITEMS, (n, n_candidates))
    check_module(net, users, windows, candidates, seed=seed).assert_ok(1e-6)


def test_with_padding_every_real_row_is_checked_and_the_padding_row_gets_nothing():
    """The padding row is a constant zero (as torch's ``padding_idx``): it enters the convolutions
    but is never trained, so its analytic gradient is 0 while a numerical one is not."""
    rng = np.random.default_rng(0)
    net = CaserNet(N_USERS, N_ITEMS, 3, 4, 2, 2, 0.3, dtype=np.float64, seed=0)
    users, windows = np.array([0, 3, 4]), np.array([[7, 1, 2], [3, 4, 5], [7, 7, 2]])
    candidates, weights = rng.integers(0, N_ITEMS, (3, 4)), rng.standard_normal((3, 4))
    state = net.dropout._rng.bit_generator.state

    def loss():
        net.dropout._rng.bit_generator.state = state  # the same dropout mask every time
        return float(np.sum(net.forward(users, windows, candidates) * weights))

    net.zero_grad()
    loss()
    net.backward(weights)
    table = net.item_embedding.weight
    analytic = table.dense_grad()
    numerical = numerical_gradient(loss, table.data)
    assert relative_error(analytic[:N_ITEMS], numerical[:N_ITEMS]) < 1e-7
    assert N_ITEMS not in table.grad.rows and np.all(table.data[N_ITEMS] == 0)


def test_bad_batches_are_refused():
    net = CaserNet(N_USERS, N_ITEMS, window=3, dim=2)
    with pytest.raises(ShapeError, match="windows of 3 items"):
        net(np.array([0]), np.array([[1, 2]]), np.array([[1]]))
    with pytest.raises(ShapeError, match="one of each per example"):
        net(np.array([0, 1]), np.array([[1, 2, 3]]), np.array([[1]]))


def test_state_shapes_match_the_network():
    net = CaserNet(4, 11, window=3, dim=5, n_vertical=2, n_horizontal=3)
    assert {k: v.shape for k, v in net.state_dict().items()} == CaserNet.state_shapes(4, 11, 3, 5, 2, 3)


def test_defaults_follow_the_reference_code():
    m = Caser()
    assert (m.window, m.n_targets, m.dim, m.n_vertical, m.n_horizontal, m.dropout) == (5, 3, 50, 4, 16, 0.5)
    assert (m.n_negatives, m.batch_size, m.lr, m.weight_decay) == (3, 512, 1e-3, 1e-6)
    weight = m._loss().weight  # a mean over the 3 targets plus a mean over the 9 negatives
    assert weight.tolist() == [4.0] * 3 + [12 / 9] * 9


def test_a_user_without_a_trained_vector_has_no_user_term():
    train, _ = implicit_toy()
    model = Caser(window=2, n_targets=1, dim=4, n_epochs=1, seed=0).fit(train)
    unknown = train.n_users - 1  # no training item
    history = [[1, 2]]
    anonymous = model.recommend(None, k=5, history=history, exclude_seen=False)
    as_unknown = model.recommend([unknown], k=5, history=history, exclude_seen=False)
    for a, b in zip(anonymous, as_unknown, strict=True):
        np.testing.assert_array_equal(a, b)
