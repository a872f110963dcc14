"""Reference cases of the layers: every layer of :mod:`tinyrec.nn`, forward and backward, float64.

Each case builds the layer (seeded, float64), draws its parameters, inputs and ``dY``, and stores

* inputs: ``input.<j>`` (the positional inputs of ``forward``), ``kwarg.<name>`` (its keyword
  arrays: masks), ``state.<name>`` (the ``state_dict`` loaded before ``forward``: parameters and
  buffers, torch's names and shapes), ``grad_output.<i>`` (``dY`` of each output);
* expected: ``output.<i>``, ``grad_input.<j>`` (float inputs only), ``grad.<name>`` (every
  parameter's gradient after one backward from zero, dense), ``state_after.<name>`` (the buffers
  after the forward, for a layer whose training forward moves them).

Re-computing a case builds the layer from its record (:func:`tinyrec.io.build_module`, the
classes of :data:`tinyrec.io.LAYER_CLASSES` only), loads ``state.*``, and runs ``forward`` through
the checked door and ``backward``.
"""

from __future__ import annotations

import numpy as np

from ... import nn
from ...gradcheck import _flatten, dense_grad, run_backward
from ...io import build_module, describe_module
from .case import ARITHMETIC, BLAS, TRANSCENDENTAL, Case

_MEANINGS = {
    "input": "positional input {j} of forward",
    "kwarg": "forward's keyword argument {j}",
    "state": "the state_dict entry {j} (torch's name and shape), loaded before forward",
    "grad_output": "dℒ/dY for output {j}, given to backward",
    "output": "output {j} of forward",
    "grad_input": "dℒ/d(input {j}), returned by backward",
    "grad": "dℒ/d{j}: the gradient of parameter {j} after one backward from zero (dense)",
    "state_after": "the buffer {j} after forward (a training forward moves it)",
    "mask": "the mask tinyrec's Dropout drew (seed in the case): True where the element is kept",
}


def _meaning(outputs: tuple[str, ...], inputs: tuple[str, ...]):
    def meaning(name: str) -> str:
        prefix, _, j = name.partition(".")
        text = _MEANINGS[prefix].format(j=j)
        if prefix in ("output", "grad_output") and j.isdigit() and int(j) < len(outputs):
            text += f" ({outputs[int(j)]})"
        if prefix in ("input", "grad_input") and j.isdigit() and int(j) < len(inputs):
            text += f" ({inputs[int(j)]})"
        return text

    return meaning


def _arrays(prefix: str, arrays: dict) -> dict:
    return {name.removeprefix(prefix): a for name, a in arrays.items() if name.startswith(prefix)}


def layer_case(
    name: str,
    build,
    inputs,
    *,
    kwargs=None,
    tolerance=BLAS,
    torch: str | None = None,
    outputs=("Y",),
    input_names=("X",),
    feed: tuple[int, ...] | None = None,
    notes: str = "",
) -> Case:
    """A layer case: ``build()`` gives the float64 layer, ``inputs(rng)`` the stored inputs.

    ``feed`` maps forward's positional arguments to stored inputs (self-attention: ``(0, 0, 0)``,
    one array passed three times, whose gradient is the sum of the three).
    """
    layer = build()
    record = describe_module(layer)

    def make(rng):
        arrays = {f"input.{j}": x for j, x in enumerate(inputs(rng))}
        arrays |= {f"kwarg.{k}": v for k, v in (kwargs(rng) if kwargs else {}).items()}
        fresh = build()
        for _, p in fresh.named_parameters():  # away from ones, zeros and the default scale
            p.data[...] = 0.5 * rng.standard_normal(p.data.shape)
        arrays |= {f"state.{k}": v for k, v in fresh.state_dict().items()}
        output = _forward(fresh, arrays, feed)
        leaves = _flatten(output)
        arrays |= {f"grad_output.{i}": rng.standard_normal(np.shape(y)) for i, y in enumerate(leaves)}
        return arrays

    def compute(arrays):
        return run_layer(build_module(record, f"layer/{name}"), arrays, feed)

    return Case("layer", name, f"tinyrec.nn.{record['class']}", record, make, compute,
                _meaning(outputs, input_names), tolerance, torch, notes)  # fmt: skip


def _forward(layer, arrays: dict, feed):
    stored = _arrays("input.", arrays)
    order = range(len(stored)) if feed is None else feed
    inputs = [stored[str(j)] for j in order]
    inputs = [int(x) if x.ndim == 0 and x.dtype.kind == "i" else x for x in inputs]  # a length, not an array
    return layer(*inputs, **_arrays("kwarg.", arrays))


def run_layer(layer, arrays: dict, feed=None) -> dict:
    """The expected arrays of a layer case: load ``state.*``, forward, backward from ``grad_output.*``."""
    layer.load_state_dict(_arrays("state.", arrays))
    output = _forward(layer, arrays, feed)
    leaves = _flatten(output)
    grads = iter(_arrays("grad_output.", arrays)[str(i)] for i in range(len(leaves)))
    grad_output = _rebuild(output, grads)
    grad_inputs = run_backward(layer, output, grad_output)
    out = {f"output.{i}": y for i, y in enumerate(leaves)}
    stored = _arrays("input.", arrays)
    order = list(range(len(stored))) if feed is None else list(feed)
    for j, x in stored.items():
        if x.dtype.kind == "f":
            parts = [g for g, k in zip(grad_inputs, order, strict=False) if str(k) == j and g is not None]
            out[f"grad_input.{j}"] = sum(parts)
    out |= {f"grad.{name}": dense_grad(p) for name, p in layer.named_parameters()}
    buffers = {name for name, _ in layer.named_buffers()}
    if layer.training and buffers:
        out |= {f"state_after.{k}": v for k, v in layer.state_dict().items() if k in buffers}
    return out


def _rebuild(structure, leaves):
    if isinstance(structure, (tuple, list)):
        return tuple(_rebuild(s, leaves) for s in structure)
    return next(leaves)


def _normal(*shape, scale=1.0):
    return lambda rng: (scale * rng.standard_normal(shape),)


def _f64(cls, *args, **kwargs):
    return lambda: cls(*args, **kwargs, dtype=np.float64, seed=0)


_BAG_IDS, _BAG_OFFSETS = np.array([1, 2, 2, 0, 6, 5, 1, 3, 1]), np.array([0, 3, 5, 5])


def _bags(rng):
    return _BAG_IDS, _BAG_OFFSETS


def _weighted_bags(rng):
    return _BAG_IDS, _BAG_OFFSETS, rng.standard_normal(len(_BAG_IDS))


def _with_kinks(rng):
    x = 3.0 * rng.standard_normal((4, 5))
    x[0, :2] = 0.0  # the kink of ReLU and LeakyReLU: the derivative there is taken as that of x < 0
    return (x,)


def _large(rng):
    x = 3.0 * rng.standard_normal((3, 4, 5))
    x[0, 0, 1] = 800.0  # overflows a naive exp
    return (x,)


def _dropout_case() -> Case:
    """Dropout in training: the mask comes from tinyrec's generator (seed 0); it is stored too."""
    p, record = 0.5, {"class": "Dropout", "args": {"p": 0.5}, "training": True}

    def make(rng):
        x = rng.standard_normal((6, 5))
        layer = nn.Dropout(p, seed=0)
        y = layer(x)
        return {"input.0": x, "mask.keep": y != 0, "grad_output.0": rng.standard_normal(y.shape)}

    def compute(arrays):
        layer = nn.Dropout(p, seed=0)  # the same generator, the same mask
        y = layer(arrays["input.0"])
        if not np.array_equal(y != 0, arrays["mask.keep"]):
            raise ValueError("mask.keep is not the mask tinyrec's Dropout draws with seed 0")
        return {"output.0": y, "grad_input.0": layer.backward(arrays["grad_output.0"])}

    notes = ("the mask is tinyrec's draw from np.random.default_rng(0); a library under test applies "
             "mask.keep: Y = X ⊙ keep / (1 − p), dX = dY ⊙ keep / (1 − p)")  # fmt: skip
    return Case("layer", "Dropout-train", "tinyrec.nn.Dropout", {**record, "seed": 0}, make, compute,
                _meaning(("Y = X ⊙ keep / (1 − p)",), ("X",)), ARITHMETIC,
                "torch.nn.Dropout(0.5) draws another mask: apply mask.keep instead", notes)  # fmt: skip


def _cross(rng):
    return rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4)), rng.standard_normal((2, 5, 4))


def _attention_masks(rng):
    mask = rng.random((3, 5)) < 0.3
    mask[:, 0] = False  # every query keeps key 0 (torch gives NaN for a query that sees no key)
    pad = np.zeros((2, 5), dtype=bool)
    pad[1, 3:] = True
    return {"attn_mask": mask, "key_padding_mask": pad}


def _padding(rng):
    pad = np.zeros((2, 4), dtype=bool)
    pad[1, 3:] = True  # right padding: every query still sees position 0
    return {"key_padding_mask": pad}


_RECURRENT = "the input is (N, L, input_size) (batch_first=True, tinyrec's default; torch's is False)"


def _two(shape_a, shape_b):
    return lambda rng: (rng.standard_normal(shape_a), rng.standard_normal(shape_b))


def layer_cases() -> list[Case]:
    """Every layer of :mod:`tinyrec.nn`, some in two configurations, and a Sequential."""
    t, case = "torch.nn.", layer_case
    exact, smooth = {"tolerance": ARITHMETIC}, {"tolerance": TRANSCENDENTAL}
    pair = {"input_names": ("a", "b"), **exact}
    recurrent = {"outputs": ("output", "h_n")}
    encoder = "TransformerEncoderLayer(4, 2, 6, dropout=0.0, batch_first=True"
    return [
        case("Linear", _f64(nn.Linear, 4, 3), _normal(2, 5, 4), torch=t + "Linear(4, 3)"),
        case("Linear-nobias", _f64(nn.Linear, 4, 3, bias=False), _normal(5, 4),
             torch=t + "Linear(4, 3, bias=False)"),
        case("Embedding", _f64(nn.Embedding, 7, 3), lambda rng: (rng.integers(0, 7, (4, 5)),), **exact,
             torch=t + "Embedding(7, 3)", input_names=("ids, repeated",),
             notes="the gradient of a row used several times is the sum of its dY rows"),
        case("Embedding-padding", _f64(nn.Embedding, 7, 3, padding_idx=0),
             lambda rng: (np.array([[0, 1, 1], [2, 0, 6]]),), **exact, input_names=("ids",),
             torch=t + "Embedding(7, 3, padding_idx=0)",
             notes="the padding row gets no gradient; its stored value is returned as it is"),
        case("EmbeddingBag", _f64(nn.EmbeddingBag, 7, 3), _bags, **exact, input_names=("ids", "offsets"),
             torch=t + "EmbeddingBag(7, 3, mode='mean')",
             notes="bags [1, 2, 2], [0, 6], [] (empty: zeros), [5, 1, 3, 1]; a repeated id counts twice"),
        case("EmbeddingBag-sum-weighted", _f64(nn.EmbeddingBag, 7, 3, mode="sum"), _weighted_bags, **exact,
             input_names=("ids", "offsets", "per_sample_weights"),
             torch=t + "EmbeddingBag(7, 3, mode='sum') with per_sample_weights",
             notes="Y[b] = Σ_s c_s W[ids_s]; grad_input.2 is dℒ/dc_s = dY[bag(s)] · W[ids_s]"),
        case("ReLU", nn.ReLU, _with_kinks, **exact, torch=t + "ReLU()", notes="at x = 0 the derivative is 0"),
        case("LeakyReLU", lambda: nn.LeakyReLU(0.1), _with_kinks, **exact, torch=t + "LeakyReLU(0.1)",
             notes="at x = 0 the derivative is the negative slope"),
        case("Sigmoid", nn.Sigmoid, _large, **smooth, torch=t + "Sigmoid()"),
        case("Tanh", nn.Tanh, _large, **smooth, torch=t + "Tanh()"),
        case("Softmax", nn.Softmax, _large, **smooth, torch=t + "Softmax(dim=-1)"),
        case("Softmax-dim0", lambda: nn.Softmax(0), _large, **smooth, torch=t + "Softmax(dim=0)"),
        case("LogSoftmax", nn.LogSoftmax, _large, **smooth, torch=t + "LogSoftmax(dim=-1)"),
        case("Dropout-eval", lambda: nn.Dropout(0.5).eval(), _normal(6, 5), **exact,
             torch=t + "Dropout(0.5).eval()", notes="evaluation mode: the identity"),
        _dropout_case(),
        case("Identity", nn.Identity, _normal(2, 3), **exact, torch=t + "Identity()"),
        case("Flatten", nn.Flatten, _normal(2, 3, 4, 5), **exact, torch=t + "Flatten(1, -1)"),
        case("Concat", nn.Concat, _two((3, 2), (3, 4)), **pair, torch="torch.cat((a, b), dim=-1)"),
        case("Multiply", nn.Multiply, _two((4, 3), (1, 3)), **pair, torch="a * b (broadcast)"),
        case("Dot", nn.Dot, _two((6, 5), (6, 5)), **pair, torch="(a * b).sum(-1)"),
        case("Conv1d", _f64(nn.Conv1d, 3, 4, 3, stride=2, padding=1, dilation=2), _normal(2, 3, 9),
             torch=t + "Conv1d(3, 4, 3, stride=2, padding=1, dilation=2)"),
        case("Conv2d", _f64(nn.Conv2d, 2, 3, (3, 2), stride=(1, 2), padding=1), _normal(2, 2, 5, 4),
             torch=t + "Conv2d(2, 3, (3, 2), stride=(1, 2), padding=1)"),
        case("MaxPool1d", lambda: nn.MaxPool1d(3, stride=2, padding=1), _normal(2, 3, 7), **exact,
             torch=t + "MaxPool1d(3, stride=2, padding=1)"),
        case("MaxPool2d", lambda: nn.MaxPool2d(2), _normal(2, 3, 4, 5), **exact, torch=t + "MaxPool2d(2)"),
        case("AvgPool1d", lambda: nn.AvgPool1d(3, stride=1, padding=1, count_include_pad=False),
             _normal(2, 3, 6), **exact,
             torch=t + "AvgPool1d(3, stride=1, padding=1, count_include_pad=False)"),
        case("AvgPool2d", lambda: nn.AvgPool2d((2, 3), stride=1), _normal(2, 2, 4, 4), **exact,
             torch=t + "AvgPool2d((2, 3), stride=1)"),
        case("AdaptiveMaxPool1d", lambda: nn.AdaptiveMaxPool1d(3), _normal(2, 3, 7), **exact,
             torch=t + "AdaptiveMaxPool1d(3)"),
        case("LayerNorm", _f64(nn.LayerNorm, 5), _normal(2, 3, 5), **smooth, torch=t + "LayerNorm(5)"),
        case("BatchNorm1d-train", _f64(nn.BatchNorm1d, 3), _normal(4, 3, 5), **smooth,
             torch=t + "BatchNorm1d(3) in training mode", notes="the running statistics after the forward "
             "are expected too (momentum 0.1, unbiased variance), as torch"),
        case("BatchNorm1d-eval", lambda: _f64(nn.BatchNorm1d, 3)().eval(), _normal(4, 3), **smooth,
             torch=t + "BatchNorm1d(3).eval()", notes="evaluation mode: normalized by the running "
             "statistics"),
        case("RNN", _f64(nn.RNN, 3, 4, num_layers=2, nonlinearity="relu"), _normal(2, 5, 3),
             **recurrent, torch=t + "RNN(3, 4, num_layers=2, nonlinearity='relu', batch_first=True)",
             notes=_RECURRENT + "; no initial state: zeros"),
        case("GRU", _f64(nn.GRU, 3, 4), _normal(2, 5, 3), **recurrent,
             torch=t + "GRU(3, 4, batch_first=True)", notes=_RECURRENT + "; gates r, z, n in torch's order"),
        case("LSTM", _f64(nn.LSTM, 3, 4, num_layers=2), _normal(2, 5, 3), outputs=("output", "h_n", "c_n"),
             torch=t + "LSTM(3, 4, num_layers=2, batch_first=True)",
             notes=_RECURRENT + "; gates i, f, g, o in torch's order"),
        case("MultiheadAttention", _f64(nn.MultiheadAttention, 4, 2), _cross, kwargs=_attention_masks,
             torch=t + "MultiheadAttention(4, 2, batch_first=True)", outputs=("output", "weights"),
             input_names=("query", "key", "value"),
             notes="masks are boolean, True = may not attend; weights are averaged over the heads"),
        case("MultiheadAttention-self", _f64(nn.MultiheadAttention, 4, 1), _normal(2, 4, 4),
             kwargs=lambda rng: {"attn_mask": nn.causal_mask(4)}, feed=(0, 0, 0),
             torch=t + "MultiheadAttention(4, 1, batch_first=True)", outputs=("output", "weights"),
             input_names=("query = key = value",), notes="self-attention: input.0 is passed as query, key "
             "and value; grad_input.0 is the sum of the three gradients"),
        case("PositionalEmbedding", _f64(nn.PositionalEmbedding, 6, 4), _normal(3, 5, 4), **exact,
             torch="x + weight[:L] (no torch module)",
             notes="Y[n, t] = X[n, t] + weight[t]; rows past L get no gradient"),
        case("PositionalEmbedding-length", _f64(nn.PositionalEmbedding, 6, 4),
             lambda rng: (np.array(5, dtype=np.int64),), **exact, torch="weight[:L] (no torch module)",
             input_names=("L, a 0-d integer: forward(L)",), notes="forward(L): the table's first L rows"),
        case("TransformerBlock", _f64(nn.TransformerBlock, 4, 2, 6), _normal(2, 4, 4), kwargs=_padding,
             torch=t + encoder + ", norm_first=True), called with src_mask=causal mask (True above the "
             "diagonal), src_key_padding_mask", notes="pre-norm, causal, ReLU feed-forward; no dropout"),
        case("TransformerBlock-postnorm", _f64(nn.TransformerBlock, 4, 2, 6, causal=False, norm_first=False),
             _normal(2, 4, 4), torch=t + encoder + ")", notes="post-norm, not causal, no padding"),
        case("Sequential", _sequential, _normal(5, 4), notes="children named 0, 1, 2, 3 as in torch",
             torch=t + "Sequential(Linear(4, 6), ReLU(), Linear(6, 2), Tanh())"),
    ]  # fmt: skip


def _sequential():
    return nn.Sequential(nn.Linear(4, 6, dtype=np.float64, seed=0), nn.ReLU(),
                         nn.Linear(6, 2, dtype=np.float64, seed=1), nn.Tanh())  # fmt: skip
