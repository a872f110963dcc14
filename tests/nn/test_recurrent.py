"""RNN, GRU, LSTM: gradient checks through time (outputs and final states), layouts, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyrec.errors import DTypeError, ShapeError
from tinyrec.gradcheck import check_module, numerical_gradient, relative_error
from tinyrec.nn.recurrent import GRU, LSTM, RNN

KINDS = {
    "rnn_tanh": lambda i, h, **kw: RNN(i, h, **kw),
    "rnn_relu": lambda i, h, **kw: RNN(i, h, nonlinearity="relu", **kw),
    "gru": lambda i, h, **kw: GRU(i, h, **kw),
    "lstm": lambda i, h, **kw: LSTM(i, h, **kw),
}

sizes = st.fixed_dictionaries(
    {
        "batch": st.integers(1, 3),
        "length": st.integers(1, 4),
        "input_size": st.integers(1, 3),
        "hidden": st.integers(1, 3),
        "layers": st.integers(1, 2),
        "bias": st.booleans(),
        "seed": st.integers(0, 2**16),
    }
)


def _build(kind, s, **kw):
    return KINDS[kind](
        s["input_size"],
        s["hidden"],
        num_layers=s["layers"],
        bias=s["bias"],
        dtype=np.float64,
        seed=s["seed"],
        **kw,
    )


@pytest.mark.parametrize("kind", sorted(KINDS))
@settings(max_examples=20, deadline=None)
@given(s=sizes)
def test_gradients_of_output_and_final_state(kind, s):
    """dY and dh_n (LSTM: dh_n and dc_n) both random: every input and weight gradient checked."""
    layer = _build(kind, s)
    rng = np.random.default_rng(s["seed"])
    x = rng.standard_normal((s["batch"], s["length"], s["input_size"]))
    check_module(layer, x, seed=s["seed"]).assert_ok(1e-6)


@pytest.mark.parametrize("kind", sorted(KINDS))
@settings(max_examples=10, deadline=None)
@given(s=sizes)
def test_gradient_of_initial_state(kind, s):
    """``initial_state_grad`` (dL/dh0, and dL/dc0 for the LSTM) against central differences."""
    layer = _build(kind, s)
    rng = np.random.default_rng(s["seed"])
    x = rng.standard_normal((s["batch"], s["length"], s["input_size"]))
    shape = (s["layers"], s["batch"], s["hidden"])
    states = [rng.standard_normal(shape) for _ in range(2 if kind == "lstm" else 1)]
    dy = rng.standard_normal((s["batch"], s["length"], s["hidden"]))
    dfinal = [rng.standard_normal(shape) for _ in states]

    def run():
        if kind == "lstm":
            y, (h, c) = layer(x, tuple(states))
            return y, (h, c)
        y, h = layer(x, states[0])
        return y, (h,)

    def loss():
        y, finals = run()
        return float(np.sum(y * dy) + sum(np.sum(f * g) for f, g in zip(finals, dfinal, strict=True)))

    run()
    layer.backward(dy, tuple(dfinal) if kind == "lstm" else dfinal[0])
    got = layer.initial_state_grad if kind == "lstm" else (layer.initial_state_grad,)
    for analytic, state in zip(got, states, strict=True):
        assert relative_error(analytic, numerical_gradient(loss, state)) < 1e-6


@pytest.mark.parametrize("kind", ["gru", "lstm"])
def test_gradient_from_final_state_alone(kind):
    """With grad_output=None, only dh_n drives the gradient (GRU4Rec-style last-state use)."""
    s = {"batch": 2, "length": 5, "input_size": 3, "hidden": 4, "layers": 1, "bias": True, "seed": 3}
    layer = _build(kind, s)
    x = np.random.default_rng(0).standard_normal((2, 5, 3))
    dh = np.random.default_rng(1).standard_normal((1, 2, 4))

    def loss():
        out = layer(x)
        h = out[1][0] if kind == "lstm" else out[1]
        return float(np.sum(h * dh))

    loss()
    dx = layer.backward(None, (dh, None) if kind == "lstm" else dh)
    assert relative_error(dx, numerical_gradient(loss, x)) < 1e-6
    assert np.abs(dx[:, 0]).max() > 0  # the first step influences the last state


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_sequence_major_layout_matches_batch_first(kind):
    s = {"batch": 3, "length": 4, "input_size": 2, "hidden": 3, "layers": 2, "bias": True, "seed": 7}
    a, b = _build(kind, s), _build(kind, s, batch_first=False)
    x = np.random.default_rng(0).standard_normal((3, 4, 2))
    ya, _ = a(x)
    yb, _ = b(np.ascontiguousarray(x.transpose(1, 0, 2)))
    np.testing.assert_allclose(yb.transpose(1, 0, 2), ya, rtol=1e-12, atol=1e-12)
    dy = np.random.default_rng(1).standard_normal(ya.shape)
    np.testing.assert_allclose(
        b.backward(np.ascontiguousarray(dy.transpose(1, 0, 2))).transpose(1, 0, 2), a.backward(dy), atol=1e-12
    )


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_parameter_names_shapes_and_init(kind):
    layer = KINDS[kind](5, 4, num_layers=2, seed=0)
    gates = {"rnn_tanh": 1, "rnn_relu": 1, "gru": 3, "lstm": 4}[kind]
    shapes = {name: p.shape for name, p in layer.named_parameters()}
    assert shapes == {
        "weight_ih_l0": (gates * 4, 5),
        "weight_hh_l0": (gates * 4, 4),
        "bias_ih_l0": (gates * 4,),
        "bias_hh_l0": (gates * 4,),
        "weight_ih_l1": (gates * 4, 4),
        "weight_hh_l1": (gates * 4, 4),
        "bias_ih_l1": (gates * 4,),
        "bias_hh_l1": (gates * 4,),
    }
    values = np.concatenate([p.data.ravel() for p in layer.parameters()])
    assert np.abs(values).max() <= 1 / math.sqrt(4)  # U(-1/sqrt(hidden), 1/sqrt(hidden))
    assert values.std() > 0.2  # spread over the interval (the std of U(-0.5, 0.5) is 0.29)


def test_no_bias_has_no_bias_parameters():
    assert [n for n, _ in GRU(2, 3, bias=False).named_parameters()] == ["weight_ih_l0", "weight_hh_l0"]


def test_gru_keeps_state_when_update_gate_saturates():
    """z = 1 makes h_t = h_{t-1}: a GRU with a huge update-gate bias carries h0 through unchanged."""
    layer = GRU(2, 3, dtype=np.float64, seed=0)
    layer.bias_ih_l0.data[3:6] = 1e3  # z-gate rows
    h0 = np.random.default_rng(0).standard_normal((1, 4, 3))
    y, h = layer(np.random.default_rng(1).standard_normal((4, 6, 2)), h0)
    np.testing.assert_allclose(h, h0, atol=1e-12)
    np.testing.assert_allclose(y, np.broadcast_to(h0[0][:, None], y.shape), atol=1e-12)


def test_lstm_cell_state_is_bounded_sum():
    """With f = 1, i = 1, g = tanh(a_g): c_t accumulates, and h_t = o ⊙ tanh(c_t) stays in (-1, 1)."""
    layer = LSTM(1, 1, dtype=np.float64, seed=0)
    layer.weight_ih_l0.data[:] = 0.0
    layer.weight_hh_l0.data[:] = 0.0
    layer.bias_hh_l0.data[:] = 0.0
    layer.bias_ih_l0.data[:] = [50.0, 50.0, 0.5, 50.0]  # i, f ≈ 1; g = tanh(0.5); o ≈ 1
    _, (h, c) = layer(np.zeros((1, 4, 1)))
    np.testing.assert_allclose(c[0, 0, 0], 4 * np.tanh(0.5), rtol=1e-12)
    np.testing.assert_allclose(h[0, 0, 0], np.tanh(4 * np.tanh(0.5)), rtol=1e-12)


def test_float32_matches_float64():
    a, b = GRU(3, 4, seed=0), GRU(3, 4, dtype=np.float64, seed=0)
    x = np.random.default_rng(0).standard_normal((2, 5, 3))
    ya, _ = a(x.astype(np.float32))
    yb, _ = b(x)
    assert ya.dtype == np.float32
    np.testing.assert_allclose(ya, yb, atol=1e-5)


def test_bad_input_raises_clear_errors():
    layer = GRU(3, 4, num_layers=2)
    x = np.zeros((2, 5, 3), dtype=np.float32)
    with pytest.raises(ShapeError, match="input_size=3"):
        layer(np.zeros((2, 5, 4), dtype=np.float32))
    with pytest.raises(ShapeError, match="3 dimension"):
        layer(np.zeros((5, 3), dtype=np.float32))
    with pytest.raises(DTypeError, match="float32"):
        layer(x.astype(np.float64))
    with pytest.raises(ShapeError, match="empty"):
        layer(np.zeros((2, 0, 3), dtype=np.float32))
    with pytest.raises(ShapeError, match=r"\(num_layers, batch, hidden_size\)"):
        layer(x, np.zeros((1, 2, 4), dtype=np.float32))
    layer(x)
    with pytest.raises(ShapeError, match="grad_output"):
        layer.backward(np.zeros((2, 4, 4), dtype=np.float32))
    with pytest.raises(ShapeError, match="grad_h_n of shape"):
        layer.backward(None, np.zeros((1, 2, 4), dtype=np.float32))
    with pytest.raises(ValueError, match="nonlinearity"):
        RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="hidden_size"):
        LSTM(3, 0)
    lstm = LSTM(3, 4)
    with pytest.raises(ShapeError, match=r"\(h0, c0\)"):
        lstm(x, np.zeros((1, 2, 4), dtype=np.float32))
    lstm(x)
    with pytest.raises(ShapeError, match="grad_state must be a tuple of 2"):
        lstm.backward(None, np.zeros((1, 2, 4), dtype=np.float32))


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_initial_state_is_checked_by_position_or_keyword(kind):
    layer = KINDS[kind](3, 4, num_layers=2, batch_first=False)
    x = np.zeros((5, 2, 3), dtype=np.float32)  # (L, N, I): batch 2
    good = np.zeros((2, 2, 4), dtype=np.float32)
    bad = np.zeros((2, 5, 4), dtype=np.float32)  # batch taken from the wrong axis
    if kind == "lstm":
        with pytest.raises(ShapeError, match=r"c0 has shape \(2, 5, 4\)"):
            layer(x, (good, bad))
        with pytest.raises(ShapeError, match=r"h0 has shape \(2, 5, 4\)"):
            layer(x, state=(bad, good))
        with pytest.raises(DTypeError, match="float32"):
            layer(x, (good, good.astype(np.float64)))
        y, (h, c) = layer(x, state=(good, good))
    else:
        with pytest.raises(ShapeError, match=r"h0 has shape \(2, 5, 4\)"):
            layer(x, bad)
        with pytest.raises(ShapeError, match=r"h0 has shape \(2, 5, 4\)"):
            layer(x, h0=bad)
        with pytest.raises(DTypeError, match="float32"):
            layer(x, h0=good.astype(np.float64))
        y, h = layer(x, h0=good)
    assert y.shape == (5, 2, 4) and h.shape == (2, 2, 4)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_backward_gradients_default_to_none(kind):
    """No gradient reaches an output: its gradient may be omitted (None), each part of LSTM's too."""
    layer = KINDS[kind](3, 4, dtype=np.float64, seed=0)
    x = np.random.default_rng(0).standard_normal((2, 5, 3))
    y, _ = layer(x)
    np.testing.assert_array_equal(layer.backward(), np.zeros_like(x))
    dx = layer.backward(np.ones_like(y))
    np.testing.assert_array_equal(layer.backward(grad_output=np.ones_like(y)), dx)
    if kind == "lstm":
        np.testing.assert_array_equal(layer.backward(np.ones_like(y), (None, None)), dx)
    with pytest.raises(DTypeError, match="float64"):
        layer.backward(np.ones_like(y, dtype=np.float32))
