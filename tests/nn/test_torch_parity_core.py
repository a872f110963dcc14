"""The core layers give torch's numbers: outputs, input gradients and parameter gradients to 1e-10.

Everything runs in float64 from the same weights and inputs. ``require_torch()`` skips when torch
is absent, and fails instead in CI (``TINYREC_REQUIRE_TORCH=1``).
"""

import numpy as np
import pytest

from tests.helpers import require_torch
from tinyrec import nn

pytestmark = pytest.mark.torch
TOL = 1e-10
F64 = {"dtype": np.float64}


def _parity(layer, torch_forward, inputs, torch_module=None, seed=0):
    """Run ``layer`` and ``torch_forward`` on the same inputs and ``dY``; compare everything.

    ``torch_module`` (if any) must already hold ``layer``'s weights; its parameters are compared
    by name with ``layer.named_parameters()``.
    """
    torch = require_torch()
    ours = layer(*inputs)
    tensors = [
        torch.tensor(x, requires_grad=True) if x.dtype.kind == "f" else torch.from_numpy(x) for x in inputs
    ]
    theirs = torch_forward(*tensors)
    np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=TOL, atol=TOL, err_msg="output")
    dy = np.random.default_rng(seed).standard_normal(ours.shape)
    grads = layer.backward(dy)
    grads = grads if isinstance(grads, tuple) else (grads,)
    theirs.backward(torch.from_numpy(dy))
    for k, (x, t) in enumerate(zip(inputs, tensors, strict=True)):
        if x.dtype.kind == "f":
            np.testing.assert_allclose(grads[k], t.grad.numpy(), rtol=TOL, atol=TOL, err_msg=f"input{k}")
    if torch_module is not None:
        torch_grads = {name: p.grad.numpy() for name, p in torch_module.named_parameters()}
        ours_grads = {name: p.dense_grad() for name, p in layer.named_parameters()}
        assert ours_grads.keys() == torch_grads.keys()
        for name, grad in ours_grads.items():
            np.testing.assert_allclose(grad, torch_grads[name], rtol=TOL, atol=TOL, err_msg=name)


def _copy_weights(layer, torch_module):
    torch = require_torch()
    with torch.no_grad():
        for name, param in torch_module.named_parameters():
            param.copy_(torch.from_numpy(dict(layer.named_parameters())[name].data))
    return torch_module


def _randn(*shape, seed=1):
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4), (4,)])
def test_linear(bias, shape):
    torch = require_torch()
    layer = nn.Linear(4, 3, bias=bias, **F64, seed=0)
    module = _copy_weights(layer, torch.nn.Linear(4, 3, bias=bias))
    _parity(layer, module, [_randn(*shape)], module)


@pytest.mark.parametrize("padding_idx", [None, 2, -1])
def test_embedding_dense_gradient(padding_idx):
    torch = require_torch()
    layer = nn.Embedding(6, 3, padding_idx=padding_idx, **F64, seed=0)
    module = _copy_weights(layer, torch.nn.Embedding(6, 3, padding_idx=padding_idx))
    ids = np.random.default_rng(2).integers(0, 6, size=(4, 5))  # repeated ids
    ids[0, :3] = 5 if padding_idx == -1 else 2  # make sure the padding row appears
    _parity(layer, module, [ids], module)
    if padding_idx is not None:
        np.testing.assert_array_equal(layer.weight.data[layer.padding_idx], 0.0)


def test_embedding_sparse_gradient_matches_torch_sparse():
    torch = require_torch()
    layer = nn.Embedding(50, 4, **F64, seed=0)
    module = _copy_weights(layer, torch.nn.Embedding(50, 4, sparse=True))
    ids = np.array([[7, 3, 7], [49, 3, 7]])
    dy = _randn(2, 3, 4)
    layer(ids)
    layer.backward(dy)
    module(torch.from_numpy(ids)).backward(torch.from_numpy(dy))
    coalesced = module.weight.grad.coalesce()
    np.testing.assert_array_equal(layer.weight.grad.rows, coalesced.indices().numpy()[0])
    np.testing.assert_allclose(layer.weight.grad.values, coalesced.values().numpy(), rtol=TOL, atol=TOL)


ACTIVATIONS = [
    ("ReLU", lambda: nn.ReLU(), lambda t: t.nn.ReLU()),
    ("LeakyReLU", lambda: nn.LeakyReLU(), lambda t: t.nn.LeakyReLU()),
    ("LeakyReLU0.3", lambda: nn.LeakyReLU(0.3), lambda t: t.nn.LeakyReLU(0.3)),
    ("Sigmoid", lambda: nn.Sigmoid(), lambda t: t.nn.Sigmoid()),
    ("Tanh", lambda: nn.Tanh(), lambda t: t.nn.Tanh()),
    ("Softmax", lambda: nn.Softmax(), lambda t: t.nn.Softmax(dim=-1)),
    ("Softmax1", lambda: nn.Softmax(1), lambda t: t.nn.Softmax(dim=1)),
    ("LogSoftmax", lambda: nn.LogSoftmax(), lambda t: t.nn.LogSoftmax(dim=-1)),
    ("LogSoftmax0", lambda: nn.LogSoftmax(0), lambda t: t.nn.LogSoftmax(dim=0)),
]


@pytest.mark.parametrize(("name", "make", "make_torch"), ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
@pytest.mark.parametrize("scale", [1.0, 30.0])
def test_activations(name, make, make_torch, scale):
    torch = require_torch()
    x = scale * _randn(3, 4, 5)
    x[0, 0, :2] = [0.0, 800.0 * scale]  # the kink at 0, and a value that overflows a naive exp
    _parity(make(), make_torch(torch), [x])


def test_identity_and_flatten():
    torch = require_torch()
    x = _randn(2, 3, 4, 5)
    _parity(nn.Identity(), torch.nn.Identity(), [x])
    for start, end in [(1, -1), (0, 2), (-3, -2)]:
        _parity(nn.Flatten(start, end), torch.nn.Flatten(start, end), [x])


def test_concat():
    torch = require_torch()
    parts = [_randn(3, 2, seed=1), _randn(3, 4, seed=2), _randn(3, 1, seed=3)]
    _parity(nn.Concat(), lambda *t: torch.cat(t, dim=-1), parts)
    _parity(nn.Concat(0), lambda *t: torch.cat(t, dim=0), [_randn(2, 3), _randn(4, 3)])


@pytest.mark.parametrize("b_shape", [(4, 3), (1, 3), (3,)])
def test_multiply(b_shape):
    _parity(nn.Multiply(), lambda a, b: a * b, [_randn(4, 3, seed=1), _randn(*b_shape, seed=2)])


def test_dot():
    _parity(nn.Dot(), lambda a, b: (a * b).sum(-1), [_randn(6, 5, seed=1), _randn(6, 5, seed=2)])


def test_dropout_eval_mode_parity():
    torch = require_torch()
    layer = nn.Dropout(0.4, seed=0).eval()
    _parity(layer, torch.nn.Dropout(0.4).eval(), [_randn(5, 6)])


def test_dropout_train_mode_same_scaling_and_statistics_as_torch():
    torch = require_torch()
    torch.manual_seed(0)
    p = 0.4
    x = np.ones((300, 300))
    ours = nn.Dropout(p, seed=0)
    y = ours(x)
    t = torch.tensor(x, requires_grad=True)
    y_torch = torch.nn.Dropout(p).train()(t)
    y_torch.backward(torch.ones_like(t))
    for out, grad in ((y, ours.backward(np.ones_like(x))), (y_torch.detach().numpy(), t.grad.numpy())):
        # survivors are scaled by 1/(1-p), the rest are zero, and the gradient has the same mask
        assert set(np.unique(out)) == {0.0, 1 / (1 - p)}
        np.testing.assert_array_equal(grad, out)
        # 90,000 draws: the drop rate is within 5 standard errors (0.0016 each) of p
        assert abs(np.mean(out == 0) - p) < 0.008
