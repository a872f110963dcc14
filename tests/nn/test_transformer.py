"""PositionalEmbedding and TransformerBlock: gradient checks, causality, padding, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyrec.errors import DTypeError, ShapeError
from tinyrec.gradcheck import check_module, numerical_gradient, relative_error
from tinyrec.nn.module import RowGrad
from tinyrec.nn.transformer import PositionalEmbedding, TransformerBlock


@settings(max_examples=20, deadline=None)
@given(
    batch=st.integers(1, 3),
    length=st.integers(1, 5),
    dim=st.integers(1, 4),
    seed=st.integers(0, 2**16),
)
def test_positional_embedding_gradients(batch, length, dim, seed):
    layer = PositionalEmbedding(6, dim, dtype=np.float64, seed=seed)
    x = np.random.default_rng(seed).standard_normal((batch, length, dim))
    check_module(layer, x, seed=seed).assert_ok(1e-6)
    check_module(layer, length, seed=seed).assert_ok(1e-6)  # the forward(L) form


def test_positional_embedding_adds_rows_and_gives_row_gradient():
    layer = PositionalEmbedding(5, 2, dtype=np.float64, seed=0)
    x = np.zeros((3, 4, 2))
    np.testing.assert_array_equal(layer(x), np.broadcast_to(layer.weight.data[:4], (3, 4, 2)))
    np.testing.assert_array_equal(layer(4), layer.weight.data[:4])
    layer(x)
    dx = layer.backward(np.ones((3, 4, 2)))
    assert isinstance(layer.weight.grad, RowGrad)
    np.testing.assert_array_equal(layer.weight.grad.rows, [0, 1, 2, 3])  # row 4 unused: no gradient
    np.testing.assert_array_equal(layer.weight.grad.values, np.full((4, 2), 3.0))
    np.testing.assert_array_equal(dx, np.ones((3, 4, 2)))


def test_positional_embedding_bad_input():
    layer = PositionalEmbedding(4, 3)
    with pytest.raises(ShapeError, match="max_len=4"):
        layer(np.zeros((2, 5, 3), dtype=np.float32))
    with pytest.raises(ShapeError, match="max_len=4"):
        layer(0)
    with pytest.raises(ShapeError, match="dim=3"):
        layer(np.zeros((2, 3, 2), dtype=np.float32))
    with pytest.raises(DTypeError):
        layer(np.zeros((2, 3, 3)))
    with pytest.raises(ValueError, match="max_len"):
        PositionalEmbedding(0, 3)


@pytest.mark.parametrize("norm_first", [True, False])
@settings(max_examples=10, deadline=None)
@given(
    batch=st.integers(1, 3),
    length=st.integers(1, 4),
    heads=st.integers(1, 2),
    head_dim=st.integers(3, 4),  # LayerNorm of 1 or 2 features is (almost) constant: nothing to check
    causal=st.booleans(),
    padded=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_transformer_block_gradients(norm_first, batch, length, heads, head_dim, causal, padded, seed):
    dim = heads * head_dim
    block = TransformerBlock(
        dim, heads, ffn_dim=3, causal=causal, norm_first=norm_first, dtype=np.float64, seed=seed
    )
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, length, dim))
    kwargs = {}
    if padded:  # left padding, as SASRec: some queries see nothing but padding
        starts = rng.integers(0, length, size=batch)
        kwargs["key_padding_mask"] = np.arange(length)[None, :] < starts[:, None]
    # eps=1e-5: the round-off error of central differences grows as |L|/eps, and norm2's parameter
    # gradients can be small next to |L| when most ReLU units of a 3-unit FFN are off
    check_module(block, x, forward_kwargs=kwargs, seed=seed, eps=1e-5).assert_ok(1e-6)


def test_transformer_block_gradients_with_dropout():
    block = TransformerBlock(4, 2, dropout=0.3, dtype=np.float64, seed=0)
    x = np.random.default_rng(0).standard_normal((2, 5, 4))
    check_module(block, x).assert_ok(1e-6)
    block.eval()  # dropout off: two runs agree
    np.testing.assert_array_equal(block(x), block(x))


def test_causal_block_ignores_the_future_and_padding_gives_finite_outputs():
    block = TransformerBlock(4, 2, dtype=np.float64, seed=1)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 6, 4))
    pad = np.zeros((2, 6), dtype=bool)
    pad[0, :3] = True  # the first three queries of row 0 see only padding
    y = block(x, key_padding_mask=pad)
    assert np.isfinite(y).all()
    x2 = x.copy()
    x2[:, 4:] = rng.standard_normal((2, 2, 4))
    np.testing.assert_allclose(block(x2, key_padding_mask=pad)[:, :4], y[:, :4], atol=1e-12)
    x3 = x.copy()
    x3[0, :3] += 5.0  # padded keys change nothing for the non-padded queries
    np.testing.assert_allclose(block(x3, key_padding_mask=pad)[0, 3:], y[0, 3:], atol=1e-12)


def test_transformer_block_input_gradient_sums_the_three_attention_inputs():
    """A sanity check separate from check_module: one input entry, differentiated by hand."""
    block = TransformerBlock(2, 1, causal=False, dtype=np.float64, seed=2)
    x = np.random.default_rng(2).standard_normal((1, 3, 2))
    dy = np.random.default_rng(3).standard_normal((1, 3, 2))

    def loss():
        return float(np.sum(block(x) * dy))

    loss()
    assert relative_error(block.backward(dy), numerical_gradient(loss, x)) < 1e-6


def test_transformer_block_names_and_defaults():
    block = TransformerBlock(8, 2)
    assert block.ffn_dim == 8  # SASRec: the feed-forward keeps the model dimension
    names = [n for n, _ in block.named_parameters()]
    assert names == [
        "self_attn.in_proj_weight",
        "self_attn.in_proj_bias",
        "self_attn.out_proj.weight",
        "self_attn.out_proj.bias",
        "linear1.weight",
        "linear1.bias",
        "linear2.weight",
        "linear2.bias",
        "norm1.weight",
        "norm1.bias",
        "norm2.weight",
        "norm2.bias",
    ]
    with pytest.raises(ValueError, match="does not divide"):
        TransformerBlock(6, 4)
    with pytest.raises(ShapeError):
        block(np.zeros((2, 3, 7), dtype=np.float32))


def test_transformer_block_checks_its_input_once_and_its_mask():
    block = TransformerBlock(4, 2)
    x = np.zeros((2, 3, 4), dtype=np.float32)
    with pytest.raises(ShapeError, match=r"key_padding_mask has shape \(2, 4\)"):
        block(x, key_padding_mask=np.zeros((2, 4), dtype=bool))
    with pytest.raises(ShapeError, match=r"key_padding_mask has shape \(3, 2\)"):
        block(x, np.zeros((3, 2), dtype=bool))
    with pytest.raises(DTypeError, match="boolean"):
        block(x, key_padding_mask=np.zeros((2, 3), dtype=np.float32))
    with pytest.raises(DTypeError, match="float32"):
        block(x.astype(np.float64))
    with pytest.raises(ShapeError, match="empty"):
        block(x[:, :0])

    def refuse(*args, **kwargs):
        raise AssertionError("a child re-checked an input that the block had checked")

    for child in block.modules():  # the children run unchecked: forward, not __call__
        if child is not block:
            child.check_inputs = refuse
    assert block(x, key_padding_mask=np.zeros((2, 3), dtype=bool)).shape == (2, 3, 4)


def test_positional_embedding_refuses_a_bool_and_a_float_length():
    layer = PositionalEmbedding(4, 3)
    with pytest.raises(DTypeError, match="numpy array"):
        layer(True)
    with pytest.raises(DTypeError, match="numpy array"):
        layer(2.0)
    with pytest.raises(ShapeError, match="3 dimension"):
        layer(np.zeros((3, 3), dtype=np.float32))
    assert layer(np.int64(2)).shape == (2, 3)
