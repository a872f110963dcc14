"""MultiheadAttention: gradient checks with masks, padding, causality, fully masked rows, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyrec.errors import DTypeError, ShapeError
from tinyrec.gradcheck import check_module, numerical_gradient, relative_error
from tinyrec.nn.attention import MultiheadAttention, causal_mask, masked_softmax

shapes = st.fixed_dictionaries(
    {
        "batch": st.integers(1, 3),
        "tgt": st.integers(1, 4),
        "src": st.integers(1, 4),
        "heads": st.integers(1, 3),
        "head_dim": st.integers(1, 3),
        "bias": st.booleans(),
        "seed": st.integers(0, 2**16),
    }
)


def _inputs(s, rng):
    E = s["heads"] * s["head_dim"]
    q = rng.standard_normal((s["batch"], s["tgt"], E))
    k = rng.standard_normal((s["batch"], s["src"], E))
    v = rng.standard_normal((s["batch"], s["src"], E))
    return q, k, v


@settings(max_examples=20, deadline=None)
@given(s=shapes, masked=st.booleans())
def test_gradients_with_and_without_masks(s, masked):
    """Output and averaged weights both receive a random gradient; masks drawn at random."""
    E = s["heads"] * s["head_dim"]
    layer = MultiheadAttention(E, s["heads"], bias=s["bias"], dtype=np.float64, seed=s["seed"])
    rng = np.random.default_rng(s["seed"])
    q, k, v = _inputs(s, rng)
    kwargs = {}
    if masked:
        kwargs["attn_mask"] = rng.random((s["tgt"], s["src"])) < 0.3
        kwargs["key_padding_mask"] = rng.random((s["batch"], s["src"])) < 0.3
    check_module(layer, q, k, v, forward_kwargs=kwargs, seed=s["seed"]).assert_ok(1e-6)


@settings(max_examples=10, deadline=None)
@given(s=shapes)
def test_gradients_with_per_head_mask_and_per_head_weights(s):
    E = s["heads"] * s["head_dim"]
    layer = MultiheadAttention(E, s["heads"], dtype=np.float64, seed=s["seed"])
    rng = np.random.default_rng(s["seed"])
    mask = rng.random((s["batch"] * s["heads"], s["tgt"], s["src"])) < 0.4
    kwargs = {"attn_mask": mask, "average_attn_weights": False}
    check_module(layer, *_inputs(s, rng), forward_kwargs=kwargs).assert_ok(1e-6)


def test_gradients_with_dropout():
    """Dropout on the probabilities: the gradient check replays the same mask (seeded generator)."""
    layer = MultiheadAttention(4, 2, dropout=0.4, dtype=np.float64, seed=0)
    rng = np.random.default_rng(0)
    q = rng.standard_normal((2, 3, 4))
    kv = rng.standard_normal((2, 5, 4))
    check_module(layer, q, kv, kv.copy(), forward_kwargs={"attn_mask": causal_mask(3, 5)}).assert_ok(1e-6)
    layer.eval()
    plain = MultiheadAttention(4, 2, dtype=np.float64, seed=0)
    np.testing.assert_array_equal(layer(q, kv, kv)[0], plain(q, kv, kv)[0])


def test_self_attention_gradient_is_the_sum_of_the_three():
    layer = MultiheadAttention(6, 3, dtype=np.float64, seed=1)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 4, 6))
    dy = rng.standard_normal((2, 4, 6))
    mask = causal_mask(4)

    def loss():
        return float(np.sum(layer(x, x, x, attn_mask=mask)[0] * dy))

    loss()
    d_query, d_key, d_value = layer.backward(dy)
    assert relative_error(d_query + d_key + d_value, numerical_gradient(loss, x)) < 1e-6
    # the fused (query is key is value) path equals the general one
    y_fused = layer(x, x, x, attn_mask=mask)[0]
    y_general = layer(x, x.copy(), x.copy(), attn_mask=mask)[0]
    np.testing.assert_allclose(y_fused, y_general, atol=1e-12)
    np.testing.assert_allclose(np.sum(layer.backward(dy), axis=0), d_query + d_key + d_value, atol=1e-12)


def test_padded_keys_get_exactly_zero_gradient_and_no_influence():
    layer = MultiheadAttention(4, 2, dtype=np.float64, seed=0)
    rng = np.random.default_rng(0)
    q, k, v = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4)), rng.standard_normal((2, 5, 4))
    pad = np.zeros((2, 5), dtype=bool)
    pad[0, 3:] = True
    pad[1, 4] = True
    y, w = layer(q, k, v, key_padding_mask=pad)
    _, d_key, d_value = layer.backward(rng.standard_normal(y.shape), rng.standard_normal(w.shape))
    assert np.all(w[pad[:, None, :].repeat(3, axis=1)] == 0.0)
    assert np.all(d_key[pad] == 0.0) and np.all(d_value[pad] == 0.0)
    assert np.all(d_key[~pad] != 0.0)
    k2, v2 = k.copy(), v.copy()
    k2[pad], v2[pad] = 1e3, -1e3  # whatever sits at padded positions changes nothing
    np.testing.assert_array_equal(layer(q, k2, v2, key_padding_mask=pad)[0], y)


def test_causal_mask_hides_the_future():
    assert causal_mask(3).tolist() == [[False, True, True], [False, False, True], [False, False, False]]
    layer = MultiheadAttention(4, 1, dtype=np.float64, seed=0)
    x = np.random.default_rng(0).standard_normal((1, 5, 4))
    y = layer(x, x, x, attn_mask=causal_mask(5))[0]
    x2 = x.copy()
    x2[0, 3:] += 10.0  # change the last two positions
    y2 = layer(x2, x2, x2, attn_mask=causal_mask(5))[0]
    np.testing.assert_array_equal(y[0, :3], y2[0, :3])
    assert not np.allclose(y[0, 3:], y2[0, 3:])


def test_fully_masked_query_gives_bias_output_zero_weights_and_zero_gradients():
    """torch returns NaN for a query that may attend to nothing; tinyrec returns out_proj.bias."""
    layer = MultiheadAttention(4, 2, dtype=np.float64, seed=0)
    layer.out_proj.bias.data[:] = [0.1, 0.2, 0.3, 0.4]
    rng = np.random.default_rng(0)
    q, k, v = rng.standard_normal((1, 3, 4)), rng.standard_normal((1, 3, 4)), rng.standard_normal((1, 3, 4))
    mask = np.zeros((3, 3), dtype=bool)
    mask[1] = True  # query 1 may attend to nothing
    y, w = layer(q, k, v, attn_mask=mask)
    np.testing.assert_array_equal(y[0, 1], layer.out_proj.bias.data)
    assert np.all(w[0, 1] == 0.0) and np.all(np.isfinite(y))
    dy = np.zeros_like(y)
    dy[0, 1] = 1.0  # only the fully masked query's output has a gradient
    d_query, d_key, d_value = layer.backward(dy)
    assert not np.any(d_query) and not np.any(d_key) and not np.any(d_value)
    check_module(layer, q, k, v, forward_kwargs={"attn_mask": mask}).assert_ok(1e-6)


def test_masked_softmax_matches_softmax_and_sums_to_one():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 5)) * 50  # large scores: max-subtraction keeps it finite
    p = masked_softmax(a, None)
    e = np.exp(a - a.max(axis=1, keepdims=True))
    np.testing.assert_allclose(p, e / e.sum(axis=1, keepdims=True), rtol=1e-12)
    blocked = np.array([True, False, False, True, False])
    p = masked_softmax(a, blocked)
    assert np.all(p[:, blocked] == 0.0)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)


def test_sequence_major_layout_matches_batch_first():
    a = MultiheadAttention(4, 2, dtype=np.float64, seed=3)
    b = MultiheadAttention(4, 2, batch_first=False, dtype=np.float64, seed=3)
    rng = np.random.default_rng(0)
    q, k, v = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4)), rng.standard_normal((2, 5, 4))
    t = lambda x: np.ascontiguousarray(x.transpose(1, 0, 2))  # noqa: E731
    ya, wa = a(q, k, v)
    yb, wb = b(t(q), t(k), t(v))
    np.testing.assert_allclose(t(yb), ya, atol=1e-12)
    np.testing.assert_allclose(wb, wa, atol=1e-12)  # weights are (N, L, S) in both layouts
    dy = rng.standard_normal(ya.shape)
    for ga, gb in zip(a.backward(dy), b.backward(t(dy)), strict=True):
        np.testing.assert_allclose(t(gb), ga, atol=1e-12)


def test_parameters_named_and_initialized_like_torch():
    layer = MultiheadAttention(8, 2, seed=0)
    shapes = {name: p.shape for name, p in layer.named_parameters()}
    assert shapes == {
        "in_proj_weight": (24, 8),
        "in_proj_bias": (24,),
        "out_proj.weight": (8, 8),
        "out_proj.bias": (8,),
    }
    assert np.abs(layer.in_proj_weight.data).max() <= np.sqrt(6 / (8 + 24))  # xavier_uniform
    assert not np.any(layer.in_proj_bias.data) and not np.any(layer.out_proj.bias.data)
    assert [n for n, _ in MultiheadAttention(8, 2, bias=False).named_parameters()] == [
        "in_proj_weight",
        "out_proj.weight",
    ]


def test_need_weights_false_returns_none():
    layer = MultiheadAttention(4, 2, seed=0)
    x = np.zeros((1, 2, 4), dtype=np.float32)
    assert layer(x, x, x, need_weights=False)[1] is None
    assert layer(x, x, x, average_attn_weights=False)[1].shape == (1, 2, 2, 2)


def test_bad_input_raises_clear_errors():
    with pytest.raises(ValueError, match="does not divide embed_dim"):
        MultiheadAttention(6, 4)
    layer = MultiheadAttention(4, 2)
    q = np.zeros((2, 3, 4), dtype=np.float32)
    kv = np.zeros((2, 5, 4), dtype=np.float32)
    with pytest.raises(ShapeError, match="embed_dim=4"):
        layer(np.zeros((2, 3, 5), dtype=np.float32), kv, kv)
    with pytest.raises(ShapeError, match="same shape"):
        layer(q, kv, kv[:, :4])
    with pytest.raises(ShapeError, match="batch sizes"):
        layer(q[:1], kv, kv)
    with pytest.raises(ShapeError, match=r"attn_mask has shape \(3, 3\)"):
        layer(q, kv, kv, attn_mask=causal_mask(3))
    with pytest.raises(ShapeError, match="key_padding_mask"):
        layer(q, kv, kv, key_padding_mask=np.zeros((2, 3), dtype=bool))
    with pytest.raises(DTypeError, match="boolean"):
        layer(q, kv, kv, attn_mask=np.zeros((3, 5), dtype=np.float32))
    with pytest.raises(DTypeError, match="float32"):
        layer(q.astype(np.float64), kv, kv)
    y, w = layer(q, kv, kv)
    with pytest.raises(ShapeError, match="grad_weights"):
        layer.backward(np.zeros_like(y), np.zeros((2, 3, 3), dtype=np.float32))
    with pytest.raises(ShapeError, match="grad_output"):
        layer.backward(np.zeros((2, 3, 5), dtype=np.float32))


def test_grad_weights_must_have_the_shape_of_the_weights_forward_returned():
    layer = MultiheadAttention(4, 2, dtype=np.float64, seed=0)
    rng = np.random.default_rng(0)
    q, kv = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4))
    y, w = layer(q, kv, kv)  # averaged weights (N, L, S)
    with pytest.raises(ShapeError, match=r"grad_weights of shape \(2, 2, 3, 5\)"):
        layer.backward(np.zeros_like(y), np.zeros((2, 2, 3, 5)))  # per-head: not what forward returned
    with pytest.raises(DTypeError, match="grad_weights"):
        layer.backward(np.zeros_like(y), np.zeros((2, 3, 5), dtype=np.float32))
    y, w = layer(q, kv, kv, average_attn_weights=False)  # per head (N, H, L, S)
    d_query, _, _ = layer.backward(np.zeros_like(y), np.ones_like(w))
    assert np.isfinite(d_query).all()
    y, w = layer(q, kv, kv, need_weights=False)
    assert w is None
    with pytest.raises(ShapeError, match="no such output"):
        layer.backward(np.zeros_like(y), np.zeros((2, 3, 5)))
    assert all(g.shape == x.shape for g, x in zip(layer.backward(np.zeros_like(y)), (q, kv, kv), strict=True))


def test_masks_are_checked_whether_given_by_position_or_by_keyword():
    layer = MultiheadAttention(4, 2)
    q = np.zeros((2, 3, 4), dtype=np.float32)
    kv = np.zeros((2, 5, 4), dtype=np.float32)
    with pytest.raises(ShapeError, match=r"key_padding_mask has shape \(2, 3\)"):
        layer(q, kv, kv, np.zeros((2, 3), dtype=bool))  # torch's fourth argument, by position
    with pytest.raises(DTypeError, match="boolean"):
        layer(q, kv, kv, key_padding_mask=np.zeros((2, 5), dtype=np.int64))
    with pytest.raises(ShapeError, match=r"attn_mask has shape \(5, 3\)"):
        layer(q, kv, kv, None, True, np.zeros((5, 3), dtype=bool))  # attn_mask, by position
    with pytest.raises(ShapeError, match=r"\(4, 3, 5\)"):
        layer(q, kv, kv, attn_mask=np.zeros((2, 3, 5), dtype=bool))  # per head: N·H = 4 masks
    with pytest.raises(ShapeError, match="empty"):
        layer(q[:, :0], kv, kv)
    with pytest.raises(ShapeError, match="batch sizes"):
        MultiheadAttention(4, 2, batch_first=False)(q, kv[:, :1], kv[:, :1])  # (L, N, E): N = 3 vs 1
