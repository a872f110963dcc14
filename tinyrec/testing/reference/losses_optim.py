"""Reference cases of the losses, the optimizers and gradient clipping (float64).

**Losses.** Inputs ``input.0`` (the prediction, or BPR's positive scores), ``input.1`` (the target,
or BPR's negative scores), ``grad_output`` (the gradient of the final objective with respect to
the loss value: 0-d for ``reduction="mean"``/``"sum"``, the loss's shape for ``"none"``) and any
weight the loss is built with (``arg.weight``, ``arg.pos_weight``). Expected: ``value`` and
``grad_input.0`` (and ``grad_input.1`` for BPR).

**Optimizers.** Dense: ``param.<k>`` (the initial values θ₀ of parameter ``k``), ``grad.<k>``
``(T, *shape)`` (the gradient given at step ``t``, not computed from a loss); expected
``steps.<k>`` ``(T, *shape)``: θ after each of the T steps. Lazy (row-sparse, an embedding
table's gradient): ``rows.0`` ``(T, B)`` int64 (the rows a batch touched, repeats allowed) and
``values.0`` ``(T, B, dim)`` (their gradient rows; a row's gradient is the sum of its repeats):
only those rows change at step ``t``. Before each step the gradient is replaced, not accumulated.
"""

from __future__ import annotations

import numpy as np

from ... import losses, optim
from ...nn.module import Parameter, RowGrad
from .case import ARITHMETIC, ITERATIVE, TRANSCENDENTAL, Case

_LOSS_MEANING = {
    "input.0": "the prediction (BPR: the positive item's scores)",
    "input.1": "the target (BPR: the negative item's scores)",
    "grad_output": "dℒ_total/dvalue, given to backward (0-d for mean and sum, the loss's shape for none)",
    "value": "the loss: a 0-d array (mean, sum), or one per element (none)",
    "grad_input.0": "dℒ_total/d(input 0), returned by backward",
    "grad_input.1": "dℒ_total/d(input 1) (BPR only)",
    "arg.weight": "the constructor's weight",
    "arg.pos_weight": "the constructor's pos_weight",
}


def _loss_case(name: str, cls, args: dict, make_inputs, *, torch: str | None, tolerance=TRANSCENDENTAL,
               notes: str = "") -> Case:  # fmt: skip
    reduction = args.get("reduction", "mean")

    def make(rng):
        arrays = make_inputs(rng)
        loss = _build(cls, args, arrays)
        value = np.asarray(loss(arrays["input.0"], arrays["input.1"]))
        arrays["grad_output"] = rng.standard_normal(value.shape) if reduction == "none" else np.array(1.7)
        return arrays

    def compute(arrays):
        loss = _build(cls, args, arrays)
        value = loss(arrays["input.0"], arrays["input.1"])
        g = arrays["grad_output"]
        grads = loss.backward(g if reduction == "none" else float(g))
        grads = grads if isinstance(grads, tuple) else (grads,)
        out = {"value": np.asarray(value, dtype=np.float64)}
        return out | {f"grad_input.{j}": d for j, d in enumerate(grads)}

    return Case("loss", name, f"tinyrec.losses.{cls.__name__}", args, make, compute, _LOSS_MEANING.get,
                tolerance, torch, notes)  # fmt: skip


def _build(cls, args: dict, arrays: dict):
    weights = {k.removeprefix("arg."): v for k, v in arrays.items() if k.startswith("arg.")}
    return cls(**args, **weights)


def _scores(rng, *shape):
    return 3.0 * rng.standard_normal(shape)


def _regression(rng):
    return {"input.0": _scores(rng, 6, 4), "input.1": rng.uniform(0, 5, (6, 4))}


def _masked(rng):
    target = rng.uniform(0, 5, (6, 4))
    target[rng.random((6, 4)) < 0.4] = np.nan
    return {"input.0": _scores(rng, 6, 4), "input.1": target}


def _probabilities(rng):
    p = rng.uniform(0.01, 0.99, (6, 4))
    p[0, :2] = [0.0, 1.0]  # saturated: the logs are clamped at −100, the gradient's denominator at eps
    return {"input.0": p, "input.1": rng.uniform(0, 1, (6, 4)), "arg.weight": rng.uniform(0.5, 2.0, (4,))}


def _logits(rng):
    return {"input.0": _scores(rng, 6, 4), "input.1": rng.uniform(0, 1, (6, 4)),
            "arg.pos_weight": np.array([0.5, 1.0, 2.0, 4.0])}  # fmt: skip


def _class_indices(rng):
    target = rng.integers(0, 4, 6)
    target[2] = -100  # ignored
    return {"input.0": _scores(rng, 6, 4), "input.1": target, "arg.weight": np.array([0.5, 1.0, 2.0, 4.0])}


def _class_probabilities(rng):
    distributions = np.moveaxis(rng.dirichlet(np.ones(3), (2, 5)), -1, 1)  # (N, C, d1): class axis 1
    return {"input.0": _scores(rng, 2, 3, 5), "input.1": distributions}


def _pairs(rng):
    return {"input.0": 5.0 * rng.standard_normal(8), "input.1": 5.0 * rng.standard_normal(8)}


def loss_cases() -> list[Case]:
    tn = "torch.nn."
    cases = []
    for reduction in ("mean", "sum", "none"):
        r = {"reduction": reduction}
        cases += [
            _loss_case(f"MSELoss-{reduction}", losses.MSELoss, r, _regression, tolerance=ARITHMETIC,
                       torch=f"{tn}MSELoss(reduction='{reduction}')"),
            _loss_case(f"BCEWithLogitsLoss-{reduction}", losses.BCEWithLogitsLoss, r, _logits,
                       torch=f"{tn}BCEWithLogitsLoss(reduction='{reduction}', pos_weight=arg.pos_weight)"),
            _loss_case(f"BPRLoss-{reduction}", losses.BPRLoss, r, _pairs,
                       torch=f"-torch.nn.functional.logsigmoid(input.0 - input.1), reduced by {reduction}",
                       notes="ℓ = −log σ(input.0 − input.1); both inputs get a gradient"),
        ]  # fmt: skip
    cases += [
        _loss_case("MaskedMSELoss", losses.MaskedMSELoss, {"reduction": "mean"}, _masked,
                   tolerance=ARITHMETIC, torch=None, notes="NaN in the target: not observed, no loss and no "
                   "gradient; the mean is over the observed entries"),
        _loss_case("BCELoss", losses.BCELoss, {"reduction": "mean"}, _probabilities,
                   torch=f"{tn}BCELoss(weight=arg.weight)", notes="logs clamped at −100; the gradient's "
                   "denominator p(1 − p) at 1e-12 rounded to float32, as torch"),
        _loss_case("CrossEntropyLoss-indices", losses.CrossEntropyLoss,
                   {"reduction": "mean", "ignore_index": -100, "label_smoothing": 0.1}, _class_indices,
                   torch=f"{tn}CrossEntropyLoss(weight=arg.weight, label_smoothing=0.1)",
                   notes="class indices (int64) with one ignored sample; the mean divides by the weights of "
                   "the kept samples"),
        _loss_case("CrossEntropyLoss-probabilities", losses.CrossEntropyLoss, {"reduction": "sum"},
                   _class_probabilities, torch=f"{tn}CrossEntropyLoss(reduction='sum')",
                   notes="(N, C, d1) logits with a class distribution at every position (class axis 1)"),
    ]  # fmt: skip
    return cases


# -- optimizers -----------------------------------------------------------------------------------
_STEPS = 5
_OPTIM_MEANING = {
    "param": "the initial value θ₀ of parameter {k}",
    "grad": "(T, *shape): the gradient of parameter {k} given before step t (replacing, not adding)",
    "steps": "(T, *shape): parameter {k} after each step",
    "rows": "(T, B) int64: the rows of the table a batch touched at step t, repeats allowed",
    "values": "(T, B, dim): the gradient rows of rows.{k}; a row's gradient is the sum of its repeats",
    "clipped": "the gradient of parameter {k} after clipping",
    "total_norm": "the total norm of all gradients before clipping (0-d)",
}


def _optim_meaning(name: str) -> str:
    prefix, _, k = name.partition(".")
    return _OPTIM_MEANING[prefix].format(k=k)


def _dense_case(name: str, cls, args: dict, torch: str | None) -> Case:
    shapes = [(5, 3), (3,)]

    def make(rng):
        arrays = {f"param.{k}": rng.standard_normal(s) for k, s in enumerate(shapes)}
        return arrays | {f"grad.{k}": rng.standard_normal((_STEPS, *s)) for k, s in enumerate(shapes)}

    def compute(arrays):
        params = [Parameter(arrays[f"param.{k}"].copy()) for k in range(len(shapes))]
        opt, steps = cls(params, **args), [[] for _ in shapes]
        for t in range(_STEPS):
            for k, p in enumerate(params):
                p.grad = arrays[f"grad.{k}"][t].copy()
            opt.step()
            for k, p in enumerate(params):
                steps[k].append(p.data.copy())
        return {f"steps.{k}": np.stack(s) for k, s in enumerate(steps)}

    return Case("optimizer", name, f"tinyrec.optim.{cls.__name__}", args, make, compute, _optim_meaning,
                ITERATIVE, torch, f"{_STEPS} steps of two parameters, shapes {shapes}")  # fmt: skip


def _lazy_case(name: str, cls, args: dict, torch: str | None) -> Case:
    n_rows, dim, batch = 12, 3, 8

    def make(rng):
        rows = rng.zipf(1.5, (_STEPS, batch)) % n_rows  # repeats of the popular rows
        return {"param.0": rng.standard_normal((n_rows, dim)), "rows.0": rows.astype(np.int64),
                "values.0": rng.standard_normal((_STEPS, batch, dim))}  # fmt: skip

    def compute(arrays):
        param = Parameter(arrays["param.0"].copy())
        opt, steps = cls([param], **args), []
        for t in range(_STEPS):
            param.grad = None
            param.accumulate(RowGrad.from_indices(arrays["rows.0"][t], arrays["values.0"][t]))
            opt.step()
            steps.append(param.data.copy())
        return {"steps.0": np.stack(steps)}

    notes = (f"{_STEPS} steps of a ({n_rows}, {dim}) table, batches of {batch} rows; lazy: only the rows "
             "present in the batch change, and their state (moments, sums); the step count t counts every "
             "step. Weight decay, where set, applies to the present rows only")  # fmt: skip
    return Case("optimizer", name, f"tinyrec.optim.{cls.__name__}", args, make, compute, _optim_meaning,
                ITERATIVE, torch, notes)


def _clip_case(norm_type: float) -> Case:
    args = {"max_norm": 0.7, "norm_type": "inf" if np.isinf(norm_type) else norm_type}  # JSON has no inf

    def make(rng):
        return {"grad.0": rng.standard_normal((4, 3)), "grad.1": rng.standard_normal(5)}

    def compute(arrays):
        params = [Parameter(np.zeros_like(arrays[f"grad.{k}"])) for k in range(2)]
        for k, p in enumerate(params):
            p.grad = arrays[f"grad.{k}"].copy()
        total = optim.clip_grad_norm_(params, **args)
        return {"total_norm": np.array(total)} | {f"clipped.{k}": p.grad for k, p in enumerate(params)}

    name = "inf" if np.isinf(norm_type) else f"{norm_type:g}"
    return Case("optimizer", f"clip_grad_norm-{name}", "tinyrec.optim.clip_grad_norm_", args, make, compute,
                lambda n: "the gradient before clipping" if n.startswith("grad") else _optim_meaning(n),
                TRANSCENDENTAL, f"torch.nn.utils.clip_grad_norm_(params, 0.7, norm_type={norm_type})",
                "every gradient times min(1, max_norm / (total + 1e-6))")  # fmt: skip


def optimizer_cases() -> list[Case]:
    to = "torch.optim."
    sgd_m = {"lr": 0.05, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01}
    sgd_n = {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.1}
    adam_wd = {"lr": 0.01, "betas": [0.8, 0.99], "weight_decay": 0.05}
    adagrad = {"lr": 0.1, "lr_decay": 0.05, "weight_decay": 0.1, "initial_accumulator_value": 0.3}
    return [
        _dense_case("SGD", optim.SGD, {"lr": 0.1}, to + "SGD(lr=0.1)"),
        _dense_case("SGD-momentum-weight_decay", optim.SGD, sgd_m, to + "SGD(lr=0.05, momentum=0.9, "
                    "dampening=0.1, weight_decay=0.01)"),
        _dense_case("SGD-nesterov-weight_decay", optim.SGD, sgd_n, to + "SGD(lr=0.05, momentum=0.8, "
                    "nesterov=True, weight_decay=0.1)"),
        _dense_case("Adam", optim.Adam, {"lr": 0.01}, to + "Adam(lr=0.01)"),
        _dense_case("Adam-weight_decay", optim.Adam, adam_wd, to + "Adam(lr=0.01, betas=(0.8, 0.99), "
                    "weight_decay=0.05)"),
        _dense_case("Adam-amsgrad", optim.Adam, {"lr": 0.01, "amsgrad": True},
                    to + "Adam(lr=0.01, amsgrad=True)"),
        _dense_case("AdamW", optim.AdamW, {"lr": 0.01, "weight_decay": 0.1},
                    to + "AdamW(lr=0.01, weight_decay=0.1)"),
        _dense_case("Adagrad", optim.Adagrad, {"lr": 0.1}, to + "Adagrad(lr=0.1)"),
        _dense_case("Adagrad-weight_decay", optim.Adagrad, adagrad, to + "Adagrad(lr=0.1, lr_decay=0.05, "
                    "weight_decay=0.1, initial_accumulator_value=0.3)"),
        _lazy_case("SGD-lazy", optim.SGD, {"lr": 0.1}, to + "SGD(lr=0.1) on an Embedding(sparse=True)"),
        _lazy_case("SGD-lazy-weight_decay", optim.SGD, {"lr": 0.1, "weight_decay": 0.1}, None),
        _lazy_case("Adam-lazy", optim.Adam, {"lr": 0.05, "betas": [0.8, 0.95]},
                   to + "SparseAdam(lr=0.05, betas=(0.8, 0.95)) on an Embedding(sparse=True)"),
        _lazy_case("Adam-lazy-weight_decay", optim.Adam, {"lr": 0.05, "weight_decay": 0.1}, None),
        _lazy_case("AdamW-lazy-weight_decay", optim.AdamW, {"lr": 0.05, "weight_decay": 0.1}, None),
        _lazy_case("Adagrad-lazy", optim.Adagrad, {"lr": 0.1, "lr_decay": 0.1},
                   to + "Adagrad(lr=0.1, lr_decay=0.1) on an Embedding(sparse=True)"),
        _lazy_case("Adagrad-lazy-weight_decay", optim.Adagrad, {"lr": 0.1, "weight_decay": 0.1}, None),
        _clip_case(2.0),
        _clip_case(1.0),
        _clip_case(float("inf")),
    ]  # fmt: skip
