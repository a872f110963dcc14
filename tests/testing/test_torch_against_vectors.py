"""A worked example: checking another library (torch 2.13) against tinyrec's exported reference vectors.

This is what a C++, Rust or Python test suite of another library does with the set that
``tinyrec reference export DIR`` writes (docs/reference_vectors.md): read ``manifest.json``, and for
each case load its ``.npz`` with NumPy alone, feed the library the case's ``inputs``, and compare
what it computes with the case's ``expected`` arrays within the case's tolerance,
``|actual − expected| <= atol + rtol·|expected|``. Nothing of tinyrec is used to read or compare.

Every layer, loss and optimizer case that torch can compute is checked, and a test fails when a
case that names a torch equivalent has no entry here.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.helpers import require_torch
from tinyrec.testing import export_reference

pytestmark = [pytest.mark.torch]


@pytest.fixture(scope="module")
def vectors(tmp_path_factory):
    """A freshly exported set (``tinyrec reference export DIR`` does the same)."""
    folder = tmp_path_factory.mktemp("vectors")
    export_reference(folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    return folder, {case["id"]: case for case in manifest["cases"]}


def load_case(folder, case) -> tuple[dict, dict]:
    """``(inputs, expected)`` of a case: plain NumPy arrays read from its file."""
    with np.load(folder / case["file"], allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    return {n: arrays[n] for n in case["inputs"]}, {n: arrays[n] for n in case["expected"]}


def assert_matches(actual: dict, expected: dict, tolerance: dict, case_id: str) -> float:
    """The manifest's rule; returns the largest |actual − expected| over the allowed difference."""
    worst = 0.0
    assert set(actual) == set(expected), f"{case_id}: computed {sorted(actual)}, expected {sorted(expected)}"
    for name, want in expected.items():
        got = np.asarray(actual[name], dtype=np.float64)
        assert got.shape == want.shape, f"{case_id} {name}: shape {got.shape}, expected {want.shape}"
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=f"{case_id} {name}: NaN")
        ok = ~np.isnan(want)
        allowed = tolerance["atol"] + tolerance["rtol"] * np.abs(want[ok])
        ratio = np.abs(got[ok] - want[ok]) / allowed
        worst = max(worst, float(ratio.max(initial=0.0)))
        assert np.all(ratio <= 1.0), f"{case_id} {name}: differs by {np.abs(got[ok] - want[ok]).max():.3g}"
    return worst


# -- how torch computes each case ----------------------------------------------------------------
def _layers(torch):
    """case name -> (torch module, keyword arguments of its forward built from the case's kwargs)."""
    nn = torch.nn

    class Lambda(nn.Module):  # a computation torch has as a function, not a module
        def __init__(self, fn, weight=None):
            super().__init__()
            self.fn = fn
            if weight is not None:
                self.weight = nn.Parameter(torch.zeros(weight))

        def forward(self, *xs, **kwargs):
            return self.fn(self, *xs, **kwargs)

    causal = torch.from_numpy(np.triu(np.ones((4, 4), dtype=bool), k=1))
    return {
        "Linear": nn.Linear(4, 3), "Linear-nobias": nn.Linear(4, 3, bias=False),
        "Embedding": nn.Embedding(7, 3), "Embedding-padding": nn.Embedding(7, 3, padding_idx=0),
        "EmbeddingBag": nn.EmbeddingBag(7, 3, mode="mean"),
        "EmbeddingBag-sum-weighted": nn.EmbeddingBag(7, 3, mode="sum"),
        "ReLU": nn.ReLU(), "LeakyReLU": nn.LeakyReLU(0.1), "Sigmoid": nn.Sigmoid(), "Tanh": nn.Tanh(),
        "Softmax": nn.Softmax(dim=-1), "Softmax-dim0": nn.Softmax(dim=0), "LogSoftmax": nn.LogSoftmax(dim=-1),
        "Dropout-eval": nn.Dropout(0.5).eval(), "Identity": nn.Identity(), "Flatten": nn.Flatten(1, -1),
        "Concat": Lambda(lambda m, a, b: torch.cat((a, b), dim=-1)),
        "Multiply": Lambda(lambda m, a, b: a * b), "Dot": Lambda(lambda m, a, b: (a * b).sum(-1)),
        "Conv1d": nn.Conv1d(3, 4, 3, stride=2, padding=1, dilation=2),
        "Conv2d": nn.Conv2d(2, 3, (3, 2), stride=(1, 2), padding=1),
        "MaxPool1d": nn.MaxPool1d(3, stride=2, padding=1), "MaxPool2d": nn.MaxPool2d(2),
        "AvgPool1d": nn.AvgPool1d(3, stride=1, padding=1, count_include_pad=False),
        "AvgPool2d": nn.AvgPool2d((2, 3), stride=1), "AdaptiveMaxPool1d": nn.AdaptiveMaxPool1d(3),
        "LayerNorm": nn.LayerNorm(5), "BatchNorm1d-train": nn.BatchNorm1d(3).train(),
        "BatchNorm1d-eval": nn.BatchNorm1d(3).eval(),
        "RNN": nn.RNN(3, 4, num_layers=2, nonlinearity="relu", batch_first=True),
        "GRU": nn.GRU(3, 4, batch_first=True), "LSTM": nn.LSTM(3, 4, num_layers=2, batch_first=True),
        "MultiheadAttention": nn.MultiheadAttention(4, 2, batch_first=True),
        "MultiheadAttention-self": Lambda(lambda m, x, attn_mask: m.attn(x, x, x, attn_mask=attn_mask)),
        "PositionalEmbedding": Lambda(lambda m, x: x + m.weight[: x.shape[1]], weight=(6, 4)),
        "PositionalEmbedding-length": Lambda(lambda m, n: m.weight[: int(n)], weight=(6, 4)),
        "TransformerBlock": Lambda(lambda m, x, key_padding_mask: m.block(
            x, src_mask=causal, src_key_padding_mask=key_padding_mask)),
        "TransformerBlock-postnorm": nn.TransformerEncoderLayer(4, 2, 6, dropout=0.0, batch_first=True),
        "Sequential": nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 2), nn.Tanh()),
        "Dropout-train": Lambda(lambda m, x: x * m.keep / 0.5),  # the stored mask, applied
    }  # fmt: skip


def _wrapped(torch, name, module):
    """Modules whose state_dict names carry the wrapper's attribute: give them theirs."""
    nn = torch.nn
    if name == "MultiheadAttention-self":
        module.attn = nn.MultiheadAttention(4, 1, batch_first=True)
    if name == "TransformerBlock":
        module.block = nn.TransformerEncoderLayer(4, 2, 6, dropout=0.0, batch_first=True, norm_first=True)
    return module


def run_torch_layer(torch, name, inputs):
    module = _wrapped(torch, name, _layers(torch)[name]).double()
    state = {k.removeprefix("state."): torch.from_numpy(v) for k, v in inputs.items() if k[:6] == "state."}
    target = getattr(module, "attn", None) or getattr(module, "block", None) or module
    target.load_state_dict(state)
    if name == "Dropout-train":
        module.keep = torch.from_numpy(inputs["mask.keep"])
    xs = [torch.tensor(v, requires_grad=v.dtype.kind == "f") if v.ndim else v
          for k, v in sorted(inputs.items()) if k.startswith("input.")]  # fmt: skip
    kwargs = {k.removeprefix("kwarg."): torch.from_numpy(v) for k, v in inputs.items() if k[:6] == "kwarg."}
    output = module(*(x if isinstance(x, torch.Tensor) or x.ndim else int(x) for x in xs), **kwargs)
    leaves = _flatten(output)
    total = sum((y * torch.from_numpy(inputs[f"grad_output.{i}"])).sum() for i, y in enumerate(leaves))
    total.backward()
    out = {f"output.{i}": y.detach().numpy() for i, y in enumerate(leaves)}
    out |= {f"grad_input.{j}": x.grad.numpy() for j, x in enumerate(xs) if isinstance(x, torch.Tensor) and
            x.requires_grad}  # fmt: skip
    out |= {f"grad.{n}": p.grad.numpy() for n, p in target.named_parameters()}
    if target.training:
        out |= {f"state_after.{n}": b.numpy() for n, b in target.named_buffers()}
    return out


def _flatten(value):
    if isinstance(value, (tuple, list)):
        return [leaf for item in value for leaf in _flatten(item)]
    return [value]


def run_torch_loss(torch, case, inputs):
    nn, t = torch.nn, torch.from_numpy
    args, name = case["args"], case["name"]
    x = torch.tensor(inputs["input.0"], requires_grad=True)
    second = torch.tensor(inputs["input.1"], requires_grad=name.startswith("BPR"))
    weights = {k.removeprefix("arg."): t(v) for k, v in inputs.items() if k.startswith("arg.")}
    if name.startswith("BPR"):
        per = -nn.functional.logsigmoid(x - second)
        value = {"mean": per.mean, "sum": per.sum, "none": lambda: per}[args["reduction"]]()
    else:
        cls = getattr(nn, case["target"].rsplit(".", 1)[1])
        value = cls(**args, **weights)(x, second)
    value.backward(t(inputs["grad_output"]))
    out = {"value": value.detach().numpy(), "grad_input.0": x.grad.numpy()}
    return out | ({"grad_input.1": second.grad.numpy()} if second.requires_grad else {})


def run_torch_optimizer(torch, case, inputs):
    args = {k: tuple(v) if isinstance(v, list) else v for k, v in case["args"].items()}
    cls_name, name = case["target"].rsplit(".", 1)[1], case["name"]
    if cls_name == "clip_grad_norm_":
        params = [torch.nn.Parameter(torch.zeros_like(torch.from_numpy(inputs[f"grad.{k}"]))) for k in (0, 1)]
        for k, p in enumerate(params):
            p.grad = torch.from_numpy(inputs[f"grad.{k}"].copy())
        norm = torch.nn.utils.clip_grad_norm_(params, args["max_norm"], norm_type=float(args["norm_type"]))
        return {"total_norm": norm.numpy()} | {f"clipped.{k}": p.grad.numpy() for k, p in enumerate(params)}
    if "lazy" in name:
        cls = torch.optim.SparseAdam if cls_name == "Adam" else getattr(torch.optim, cls_name)
        param = torch.nn.Parameter(torch.from_numpy(inputs["param.0"].copy()))
        opt, steps = cls([param], **args), []
        for t in range(inputs["rows.0"].shape[0]):
            rows, values = inputs["rows.0"][t], inputs["values.0"][t]
            param.grad = torch.sparse_coo_tensor(torch.from_numpy(rows[None]), torch.from_numpy(values),
                                                 param.shape, check_invariants=True).coalesce()  # fmt: skip
            opt.step()
            steps.append(param.detach().numpy().copy())
        return {"steps.0": np.stack(steps)}
    params = [torch.nn.Parameter(torch.from_numpy(inputs[f"param.{k}"].copy())) for k in (0, 1)]
    opt, steps = getattr(torch.optim, cls_name)(params, **args), [[], []]
    for t in range(inputs["grad.0"].shape[0]):
        for k, p in enumerate(params):
            p.grad = torch.from_numpy(inputs[f"grad.{k}"][t].copy())
        opt.step()
        for k, p in enumerate(params):
            steps[k].append(p.detach().numpy().copy())
    return {f"steps.{k}": np.stack(s) for k, s in enumerate(steps)}


def _torch_cases(vectors):
    kinds = ("layer", "loss", "optimizer")
    return [i for i, case in vectors[1].items() if case["torch"] and case["kind"] in kinds]


def test_every_case_with_a_torch_equivalent_is_checked_here(vectors):
    torch = require_torch()
    layers = set(_layers(torch))
    names = {i.split("/", 1)[1] for i in _torch_cases(vectors) if i.startswith("layer/")}
    assert names == layers, f"layer cases without a torch entry here: {sorted(names - layers)}"
    kinds = {vectors[1][i]["kind"] for i in _torch_cases(vectors)}
    assert kinds == {"layer", "loss", "optimizer"}
    assert len(_torch_cases(vectors)) >= 60


def test_torch_matches_every_layer_loss_and_optimizer_within_the_stated_tolerances(vectors):
    torch = require_torch()
    torch.manual_seed(0)
    folder, cases = vectors
    ratios = {}
    for case_id in _torch_cases(vectors):
        case = cases[case_id]
        inputs, expected = load_case(folder, case)
        if case["kind"] == "layer":
            actual = run_torch_layer(torch, case["name"], inputs)
        elif case["kind"] == "loss":
            actual = run_torch_loss(torch, case, inputs)
        else:
            actual = run_torch_optimizer(torch, case, inputs)
        ratios[case_id] = assert_matches(actual, expected, case["tolerance"], case_id)
    # torch agrees to round-off: far inside every tolerance, not at its edge
    assert max(ratios.values()) < 0.1, {k: v for k, v in ratios.items() if v >= 0.1}
