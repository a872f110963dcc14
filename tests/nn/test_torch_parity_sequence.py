"""Torch parity in float64: RNN/GRU/LSTM, MultiheadAttention with both masks, TransformerBlock.

Each tinyrec layer loads the torch layer's ``state_dict``; outputs and every gradient (inputs,
initial states, parameters) must agree to 1e-9.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers import require_torch
from tinyrec.nn.attention import MultiheadAttention, causal_mask
from tinyrec.nn.recurrent import GRU, LSTM, RNN

pytestmark = pytest.mark.torch
TOL = 1e-9


def _load(ours, theirs):
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


def _assert_param_grads(ours, theirs):
    mine = dict(ours.named_parameters())
    names = [name for name, _ in theirs.named_parameters()]
    assert sorted(names) == sorted(mine)
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(mine[name].dense_grad(), p.grad.numpy(), rtol=0, atol=TOL, err_msg=name)


@pytest.mark.parametrize(
    "kind,kwargs",
    [("RNN", {}), ("RNN", {"nonlinearity": "relu"}), ("GRU", {}), ("LSTM", {}), ("GRU", {"bias": False})],
)
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("batch_first", [True, False])
def test_recurrent_layers_match_torch(kind, kwargs, num_layers, batch_first):
    torch = require_torch()
    ours_cls = {"RNN": RNN, "GRU": GRU, "LSTM": LSTM}[kind]
    theirs = getattr(torch.nn, kind)(4, 5, num_layers=num_layers, batch_first=batch_first, **kwargs)
    ours = ours_cls(4, 5, num_layers=num_layers, batch_first=batch_first, dtype=np.float64, **kwargs)
    _load(ours, theirs)
    rng = np.random.default_rng(0)
    N, L = 3, 6
    x = rng.standard_normal((N, L, 4) if batch_first else (L, N, 4))
    states = [rng.standard_normal((num_layers, N, 5)) for _ in range(2 if kind == "LSTM" else 1)]
    xt = torch.tensor(x, requires_grad=True)
    st = [torch.tensor(s, requires_grad=True) for s in states]
    if kind == "LSTM":
        y, (h, c) = ours(x, tuple(states))
        yt, (ht, ct) = theirs(xt, tuple(st))
        finals, finals_t = [h, c], [ht, ct]
    else:
        y, h = ours(x, states[0])
        yt, ht = theirs(xt, st[0])
        finals, finals_t = [h], [ht]
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=0, atol=TOL)
    for a, b in zip(finals, finals_t, strict=True):
        np.testing.assert_allclose(a, b.detach().numpy(), rtol=0, atol=TOL)
    dy = rng.standard_normal(y.shape)
    dfinals = [rng.standard_normal(f.shape) for f in finals]
    loss = (yt * torch.tensor(dy)).sum() + sum(
        (f * torch.tensor(g)).sum() for f, g in zip(finals_t, dfinals, strict=True)
    )
    loss.backward()
    dx = ours.backward(dy, tuple(dfinals) if kind == "LSTM" else dfinals[0])
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=0, atol=TOL)
    initial = ours.initial_state_grad if kind == "LSTM" else (ours.initial_state_grad,)
    for a, b in zip(initial, st, strict=True):
        np.testing.assert_allclose(a, b.grad.numpy(), rtol=0, atol=TOL)
    _assert_param_grads(ours, theirs)


@pytest.mark.parametrize("self_attention", [False, True])
@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("per_head_mask", [False, True])
def test_multihead_attention_matches_torch_with_both_masks(self_attention, batch_first, per_head_mask):
    torch = require_torch()
    N, L, E, H = 3, 5, 6, 2
    S = L if self_attention else 4
    theirs = torch.nn.MultiheadAttention(E, H, batch_first=batch_first)
    ours = MultiheadAttention(E, H, batch_first=batch_first, dtype=np.float64)
    _load(ours, theirs)
    rng = np.random.default_rng(1)
    shape = (N, L, E) if batch_first else (L, N, E)
    q = rng.standard_normal(shape)
    if self_attention:
        k = v = q
        attn_mask = causal_mask(L)
    else:
        k = rng.standard_normal((N, S, E) if batch_first else (S, N, E))
        v = rng.standard_normal(k.shape)
        attn_mask = rng.random((L, S)) < 0.3
        attn_mask[:, 0] = False  # every query keeps key 0: torch would give NaN otherwise
    if per_head_mask:
        attn_mask = np.repeat(attn_mask[None], N * H, axis=0)
        attn_mask[1, :, 1] = True  # one head of one batch element hides key 1
    pad = np.zeros((N, S), dtype=bool)
    pad[0, -1] = True
    pad[2, -2:] = True
    qt = torch.tensor(q, requires_grad=True)
    kt = qt if self_attention else torch.tensor(k, requires_grad=True)
    vt = qt if self_attention else torch.tensor(v, requires_grad=True)
    y, w = ours(q, k, v, attn_mask=attn_mask, key_padding_mask=pad)
    yt, wt = theirs(qt, kt, vt, attn_mask=torch.tensor(attn_mask), key_padding_mask=torch.tensor(pad))
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=0, atol=TOL)
    np.testing.assert_allclose(w, wt.detach().numpy(), rtol=0, atol=TOL)
    dy, dw = rng.standard_normal(y.shape), rng.standard_normal(w.shape)
    ((yt * torch.tensor(dy)).sum() + (wt * torch.tensor(dw)).sum()).backward()
    d_query, d_key, d_value = ours.backward(dy, dw)
    if self_attention:
        np.testing.assert_allclose(d_query + d_key + d_value, qt.grad.numpy(), rtol=0, atol=TOL)
    else:
        for a, b in zip((d_query, d_key, d_value), (qt, kt, vt), strict=True):
            np.testing.assert_allclose(a, b.grad.numpy(), rtol=0, atol=TOL)
    _assert_param_grads(ours, theirs)


def test_fully_masked_query_differs_from_torch_only_where_torch_gives_nan():
    torch = require_torch()
    theirs = torch.nn.MultiheadAttention(4, 2, batch_first=True)
    ours = MultiheadAttention(4, 2, dtype=np.float64)
    _load(ours, theirs)
    x = np.random.default_rng(2).standard_normal((2, 3, 4))
    pad = np.array([[False, False, False], [True, True, True]])  # batch element 1: all padding
    y, _ = ours(x, x, x, key_padding_mask=pad)
    with torch.no_grad():
        yt, _ = theirs(*(torch.tensor(x),) * 3, key_padding_mask=torch.tensor(pad))
    yt = yt.numpy()
    assert np.isnan(yt[1]).all() and np.isfinite(y).all()
    np.testing.assert_allclose(y[0], yt[0], rtol=0, atol=TOL)
    np.testing.assert_array_equal(y[1], np.broadcast_to(ours.out_proj.bias.data, (3, 4)))


@pytest.mark.parametrize("norm_first", [True, False])
def test_transformer_block_matches_torch_encoder_layer(norm_first):
    torch = require_torch()
    from tinyrec.nn.transformer import TransformerBlock

    N, L, E, H, F = 2, 5, 8, 2, 12
    theirs = torch.nn.TransformerEncoderLayer(E, H, F, dropout=0.0, batch_first=True, norm_first=norm_first)
    ours = TransformerBlock(E, H, F, causal=True, norm_first=norm_first, dtype=np.float64)
    _load(ours, theirs)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((N, L, E))
    pad = np.zeros((N, L), dtype=bool)
    pad[1, 3:] = True  # right padding: every query still sees position 0
    xt = torch.tensor(x, requires_grad=True)
    y = ours(x, key_padding_mask=pad)
    yt = theirs(xt, src_mask=torch.tensor(causal_mask(L)), src_key_padding_mask=torch.tensor(pad))
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=0, atol=TOL)
    dy = rng.standard_normal(y.shape)
    (yt * torch.tensor(dy)).sum().backward()
    np.testing.assert_allclose(ours.backward(dy), xt.grad.numpy(), rtol=0, atol=TOL)
    _assert_param_grads(ours, theirs)
