"""Losses and optimizers give torch's numbers to 1e-10 in float64.

Losses: value and gradient for every reduction, from the same inputs. Optimizers: 10 steps from
the same initial parameters and the same gradient sequence give the same parameters; lazy Adam
(RowGrad) is compared with ``torch.nn.Embedding(sparse=True)`` + ``torch.optim.SparseAdam`` on the
same indices, with repeats, at every step.
"""

import numpy as np
import pytest

from tests.helpers import require_torch
from tinyrec.losses import BCELoss, BCEWithLogitsLoss, BPRLoss, CrossEntropyLoss, MSELoss
from tinyrec.nn.module import Parameter, RowGrad
from tinyrec.optim import SGD, Adagrad, Adam, AdamW, clip_grad_norm_

pytestmark = pytest.mark.torch
TOL = 1e-10
REDUCTIONS = ["mean", "sum", "none"]


def _torch_loss_and_grad(torch, torch_loss, prediction, grad_output):
    """torch's loss value and d(Σ grad_output · loss)/d(prediction)."""
    x = torch.tensor(prediction, requires_grad=True)
    value = torch_loss(x)
    value.backward(torch.tensor(grad_output))
    return value.detach().numpy(), x.grad.numpy()


def _loss_cases(torch, rng, reduction):
    """(name, tinyrec loss, torch callable (x, target) -> loss, prediction, target)."""
    nn = torch.nn
    x = 3 * rng.standard_normal((6, 4))
    y01 = rng.uniform(0, 1, (6, 4))
    idx = rng.integers(0, 4, 6)
    idx[2] = -100
    probs = rng.dirichlet(np.ones(4), 6)
    pw = np.array([0.5, 1.0, 2.0, 4.0])
    p01 = rng.uniform(0.01, 0.99, (6, 4))
    saturated = np.tile([0.0, 1.0], (6, 1))
    row_w = rng.uniform(0.5, 2.0, (6, 1))  # torch's weight broadcasts like pos_weight
    x3 = 3 * rng.standard_normal((2, 3, 4, 5))  # (N, C, d1, d2): a distribution at every position
    idx3 = rng.integers(0, 3, (2, 4, 5))
    idx3[0, 1, 2] = -100
    probs3 = np.moveaxis(rng.dirichlet(np.ones(3), (2, 4, 5)), -1, 1)
    zero_w, idx01 = np.array([0.0, 1.0, 1.0, 1.0]), np.array([0, 1, 0, 1, 1, 0])  # kept samples weigh 0
    t = torch.tensor
    return [
        ("mse", MSELoss(reduction=reduction), lambda a: nn.MSELoss(reduction=reduction)(a, t(y01)), x, y01),
        ("bce", BCELoss(reduction=reduction), lambda a: nn.BCELoss(reduction=reduction)(a, t(y01)),
         rng.uniform(0.01, 0.99, (6, 4)), y01),
        ("bce_logits", BCEWithLogitsLoss(reduction=reduction),
         lambda a: nn.BCEWithLogitsLoss(reduction=reduction)(a, t(y01)), x, y01),
        ("bce_weighted", BCELoss(pw, reduction=reduction),
         lambda a: nn.BCELoss(weight=t(pw), reduction=reduction)(a, t(y01)), p01, y01),
        ("bce_saturated", BCELoss(reduction=reduction),  # p = 0 and 1 exactly: torch's float epsilon
         lambda a: nn.BCELoss(reduction=reduction)(a, t(y01[:, :2])), saturated, y01[:, :2]),
        ("bce_logits_weighted", BCEWithLogitsLoss(row_w, reduction=reduction, pos_weight=pw),
         lambda a: nn.BCEWithLogitsLoss(weight=t(row_w), reduction=reduction, pos_weight=t(pw))(a, t(y01)),
         x, y01),
        ("ce_zero_weight_kept", CrossEntropyLoss(reduction=reduction, ignore_index=1, weight=zero_w,
                                                 label_smoothing=0.1),  # mean 0/0: NaN, 0 where ignored
         lambda a: nn.CrossEntropyLoss(weight=t(zero_w), reduction=reduction, ignore_index=1,
                                       label_smoothing=0.1)(a, t(idx01)), x, idx01),
        ("ce_all_ignored", CrossEntropyLoss(reduction=reduction),
         lambda a: nn.CrossEntropyLoss(reduction=reduction)(a, t(np.full(6, -100))), x, np.full(6, -100)),
        ("bce_logits_pw", BCEWithLogitsLoss(reduction=reduction, pos_weight=pw),
         lambda a: nn.BCEWithLogitsLoss(reduction=reduction, pos_weight=t(pw))(a, t(y01)), x, y01),
        ("ce_index", CrossEntropyLoss(reduction=reduction),
         lambda a: nn.CrossEntropyLoss(reduction=reduction)(a, t(idx)), x, idx),
        ("ce_smooth", CrossEntropyLoss(reduction=reduction, label_smoothing=0.2),
         lambda a: nn.CrossEntropyLoss(reduction=reduction, label_smoothing=0.2)(a, t(idx)), x, idx),
        ("ce_prob", CrossEntropyLoss(reduction=reduction, label_smoothing=0.1),
         lambda a: nn.CrossEntropyLoss(reduction=reduction, label_smoothing=0.1)(a, t(probs)), x, probs),
        ("ce_weighted", CrossEntropyLoss(reduction=reduction, label_smoothing=0.1, weight=pw),
         lambda a: nn.CrossEntropyLoss(weight=t(pw), reduction=reduction, label_smoothing=0.1)(a, t(idx)),
         x, idx),
        ("ce_prob_weighted", CrossEntropyLoss(reduction=reduction, weight=pw),
         lambda a: nn.CrossEntropyLoss(weight=t(pw), reduction=reduction)(a, t(probs)), x, probs),
        ("ce_unbatched", CrossEntropyLoss(reduction=reduction),
         lambda a: nn.CrossEntropyLoss(reduction=reduction)(a, t(2)), x[0].copy(), np.array(2)),
        ("ce_positions", CrossEntropyLoss(reduction=reduction, label_smoothing=0.1, weight=pw[:3]),
         lambda a: nn.CrossEntropyLoss(weight=t(pw[:3]), reduction=reduction, label_smoothing=0.1)(
             a, t(idx3)), x3, idx3),
        ("ce_positions_prob", CrossEntropyLoss(reduction=reduction, weight=pw[:3]),
         lambda a: nn.CrossEntropyLoss(weight=t(pw[:3]), reduction=reduction)(a, t(probs3)), x3, probs3),
    ]  # fmt: skip


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_loss_values_and_gradients_equal_torch(reduction):
    torch = require_torch()
    rng = np.random.default_rng(0)
    for name, loss, torch_loss, prediction, target in _loss_cases(torch, rng, reduction):
        value = loss(prediction, target)  # the checked door
        grad_output = rng.standard_normal(np.shape(value)) if reduction == "none" else np.array(1.7)
        grad = loss.backward(grad_output if reduction == "none" else 1.7)
        t_value, t_grad = _torch_loss_and_grad(torch, torch_loss, prediction, grad_output)
        np.testing.assert_allclose(value, t_value, rtol=TOL, atol=TOL, err_msg=name)  # NaN == NaN here
        np.testing.assert_allclose(grad, t_grad, rtol=TOL, atol=TOL, err_msg=name)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bpr_equals_torch_logsigmoid(reduction):
    torch = require_torch()
    rng = np.random.default_rng(1)
    pos, neg = 5 * rng.standard_normal(8), 5 * rng.standard_normal(8)
    loss = BPRLoss(reduction=reduction)
    value = loss(pos, neg)
    g = rng.standard_normal(8) if reduction == "none" else 1.0
    d_pos, d_neg = loss.backward(g)
    tp, tn = torch.tensor(pos, requires_grad=True), torch.tensor(neg, requires_grad=True)
    per = -torch.nn.functional.logsigmoid(tp - tn)
    t_value = {"mean": per.mean(), "sum": per.sum(), "none": per}[reduction]
    t_value.backward(torch.tensor(g) if reduction == "none" else None)
    np.testing.assert_allclose(value, t_value.detach().numpy(), rtol=TOL, atol=TOL)
    np.testing.assert_allclose(d_pos, tp.grad.numpy(), rtol=TOL, atol=TOL)
    np.testing.assert_allclose(d_neg, tn.grad.numpy(), rtol=TOL, atol=TOL)


OPTIMIZER_CASES = {
    "sgd": (lambda t, ps: t.optim.SGD(ps, lr=0.1), lambda ps: SGD(ps, lr=0.1)),
    "sgd_momentum": (
        lambda t, ps: t.optim.SGD(ps, lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01),
        lambda ps: SGD(ps, lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01),
    ),
    "sgd_nesterov": (
        lambda t, ps: t.optim.SGD(ps, lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1),
        lambda ps: SGD(ps, lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1),
    ),
    "adam": (
        lambda t, ps: t.optim.Adam(ps, lr=0.01, betas=(0.8, 0.99), weight_decay=0.05),
        lambda ps: Adam(ps, lr=0.01, betas=(0.8, 0.99), weight_decay=0.05),
    ),
    "adam_amsgrad": (
        lambda t, ps: t.optim.Adam(ps, lr=0.01, amsgrad=True),
        lambda ps: Adam(ps, lr=0.01, amsgrad=True),
    ),
    "adamw": (
        lambda t, ps: t.optim.AdamW(ps, lr=0.01, weight_decay=0.1),
        lambda ps: AdamW(ps, lr=0.01, weight_decay=0.1),
    ),
    "adagrad": (
        lambda t, ps: t.optim.Adagrad(
            ps, lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.3
        ),
        lambda ps: Adagrad(ps, lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.3),
    ),
    # parameter groups: the second parameter overrides some hyperparameters, the first takes the defaults
    "sgd_groups": (
        lambda t, ps: t.optim.SGD(
            [{"params": ps[:1]}, {"params": ps[1:], "momentum": 0.5, "lr": 0.2}], lr=0.05
        ),
        lambda ps: SGD([{"params": ps[:1]}, {"params": ps[1:], "momentum": 0.5, "lr": 0.2}], lr=0.05),
    ),
    "adam_groups": (
        lambda t, ps: t.optim.Adam(
            [{"params": ps[:1]}, {"params": ps[1:], "lr": 0.1, "betas": (0.5, 0.9), "weight_decay": 0.0}],
            lr=0.01,
            weight_decay=0.05,
        ),
        lambda ps: Adam(
            [{"params": ps[:1]}, {"params": ps[1:], "lr": 0.1, "betas": (0.5, 0.9), "weight_decay": 0.0}],
            lr=0.01,
            weight_decay=0.05,
        ),
    ),
    "adagrad_groups": (
        lambda t, ps: t.optim.Adagrad([{"params": ps[:1], "lr_decay": 0.1}, {"params": ps[1:]}], lr=0.1),
        lambda ps: Adagrad([{"params": ps[:1], "lr_decay": 0.1}, {"params": ps[1:]}], lr=0.1),
    ),
}


@pytest.mark.parametrize("name", list(OPTIMIZER_CASES))
def test_ten_dense_steps_equal_torch(name):
    torch = require_torch()
    make_torch, make_ours = OPTIMIZER_CASES[name]
    rng = np.random.default_rng(2)
    shapes = [(5, 3), (3,)]
    init = [rng.standard_normal(s) for s in shapes]
    t_params = [torch.nn.Parameter(torch.tensor(a.copy())) for a in init]
    params = [Parameter(a.copy()) for a in init]
    t_opt, opt = make_torch(torch, t_params), make_ours(params)
    for _ in range(10):
        for tp, p in zip(t_params, params, strict=True):
            g = rng.standard_normal(p.shape) + 0.5 * p.data  # a gradient that depends on θ
            tp.grad = torch.tensor(g)
            p.grad = g.copy()
        t_opt.step()
        opt.step()
    for tp, p in zip(t_params, params, strict=True):
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=TOL, atol=TOL, err_msg=name)


@pytest.mark.parametrize(
    "name",
    ["sparse_adam", "sparse_adagrad", "sparse_sgd"],
)
def test_ten_lazy_steps_equal_torch_sparse_embedding(name):
    torch = require_torch()
    rng = np.random.default_rng(3)
    n_rows, dim, batch = 30, 4, 25
    table0 = rng.standard_normal((n_rows, dim))
    emb = torch.nn.Embedding(n_rows, dim, sparse=True)
    with torch.no_grad():
        emb.weight.copy_(torch.tensor(table0))
    param = Parameter(table0.copy())
    if name == "sparse_adam":
        t_opt = torch.optim.SparseAdam(emb.parameters(), lr=0.05, betas=(0.8, 0.95))
        opt = Adam([param], lr=0.05, betas=(0.8, 0.95))
    elif name == "sparse_adagrad":
        t_opt = torch.optim.Adagrad(emb.parameters(), lr=0.1, lr_decay=0.1)
        opt = Adagrad([param], lr=0.1, lr_decay=0.1)
    else:
        t_opt, opt = torch.optim.SGD(emb.parameters(), lr=0.1), SGD([param], lr=0.1)
    for _ in range(10):
        idx = rng.zipf(1.5, batch) % n_rows  # heavy repeats of the popular rows
        upstream = rng.standard_normal((batch, dim))
        t_opt.zero_grad()
        (emb(torch.tensor(idx)) * torch.tensor(upstream)).sum().backward()
        t_opt.step()
        opt.zero_grad()
        param.accumulate(RowGrad.from_indices(idx, upstream))
        opt.step()
    assert len(np.unique(idx)) < batch  # the batches did repeat rows
    np.testing.assert_allclose(param.data, emb.weight.detach().numpy(), rtol=TOL, atol=TOL)


def test_clip_grad_norm_equals_torch():
    torch = require_torch()
    rng = np.random.default_rng(4)
    grads = [rng.standard_normal((4, 3)), rng.standard_normal(5)]
    for norm_type in (2.0, 1.0, float("inf")):
        t_params = [torch.nn.Parameter(torch.zeros(g.shape)) for g in grads]
        params = [Parameter(np.zeros(g.shape)) for g in grads]
        for tp, p, g in zip(t_params, params, grads, strict=True):
            tp.grad, p.grad = torch.tensor(g), g.copy()
        t_total = torch.nn.utils.clip_grad_norm_(t_params, 0.7, norm_type=norm_type)
        total = clip_grad_norm_(params, 0.7, norm_type=norm_type)
        assert total == pytest.approx(float(t_total), rel=TOL)
        for tp, p in zip(t_params, params, strict=True):
            np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=TOL, atol=TOL)
