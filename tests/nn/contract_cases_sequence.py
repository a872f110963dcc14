"""The sequence layers (RNN, GRU, LSTM, MultiheadAttention, PositionalEmbedding, TransformerBlock)."""

from __future__ import annotations

import numpy as np

from tests.nn.contract import LayerCase, build, randn
from tinyrec.nn.attention import MultiheadAttention, causal_mask
from tinyrec.nn.recurrent import GRU, LSTM, RNN

_build = build


def _seq(*shape):
    return lambda dtype, rng: (randn(rng, *shape, dtype=dtype),)


def _cross(dtype, rng):
    return (
        randn(rng, 2, 3, 4, dtype=dtype),
        randn(rng, 2, 5, 4, dtype=dtype),
        randn(rng, 2, 5, 4, dtype=dtype),
    )


def _self(dtype, rng):
    x = randn(rng, 2, 4, 4, dtype=dtype)
    return x, x, x  # the same object three times: the fused self-attention path


def _masks(dtype, rng):
    pad = np.zeros((2, 5), dtype=bool)
    pad[1, 3:] = True
    return {"attn_mask": rng.random((3, 5)) < 0.3, "key_padding_mask": pad}


def _transformer(**kwargs):
    def build(dtype, seed):
        from tinyrec.nn.transformer import TransformerBlock  # imported here: needs tinyrec.nn.norm

        return TransformerBlock(4, 2, 6, dtype=dtype, seed=seed, **kwargs)

    return build


def _positions(dtype, seed):
    from tinyrec.nn.transformer import PositionalEmbedding

    return PositionalEmbedding(6, 4, dtype=dtype, seed=seed)


def _padding(dtype, rng):
    pad = np.zeros((2, 4), dtype=bool)
    pad[0, :2] = True  # left padding: the first query of row 0 sees only padding
    return {"key_padding_mask": pad}


CASES = [
    LayerCase("RNN-tanh", _build(RNN, 3, 4), _seq(2, 5, 3)),
    LayerCase("RNN-relu-2layers", _build(RNN, 3, 4, nonlinearity="relu", num_layers=2), _seq(2, 5, 3)),
    LayerCase("GRU", _build(GRU, 3, 4), _seq(2, 5, 3)),
    LayerCase("GRU-2layers-seqfirst", _build(GRU, 3, 4, num_layers=2, batch_first=False), _seq(5, 2, 3)),
    LayerCase("LSTM", _build(LSTM, 3, 4), _seq(2, 5, 3)),
    LayerCase("LSTM-nobias", _build(LSTM, 3, 4, bias=False), _seq(2, 5, 3)),
    LayerCase("MultiheadAttention-masked", _build(MultiheadAttention, 4, 2), _cross, _masks),
    LayerCase("MultiheadAttention-dropout", _build(MultiheadAttention, 4, 2, dropout=0.3), _cross),
    LayerCase(
        "MultiheadAttention-self-causal",
        _build(MultiheadAttention, 4, 1),
        _self,
        lambda dtype, rng: {"attn_mask": causal_mask(4)},
    ),
    LayerCase("PositionalEmbedding", _positions, _seq(3, 5, 4)),
    LayerCase("PositionalEmbedding-length", _positions, lambda dtype, rng: (5,)),
    LayerCase("TransformerBlock-prenorm", _transformer(dropout=0.2), _seq(2, 4, 4), _padding),
    LayerCase("TransformerBlock-postnorm", _transformer(norm_first=False, causal=False), _seq(2, 4, 4)),
]
