"""Parity with torch.nn (float64, 1e-9): outputs and every gradient of the norm, conv and pool layers.

Weights are copied from the torch module through ``load_state_dict`` (so parameter and buffer
names match torch's too); inputs and incoming gradients are shared.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers import require_torch
from tinyrec.nn.conv import Conv1d, Conv2d
from tinyrec.nn.norm import BatchNorm1d, LayerNorm
from tinyrec.nn.pool import AdaptiveMaxPool1d, AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d

pytestmark = pytest.mark.torch
TOL = dict(rtol=1e-9, atol=1e-9)


def _copy_weights(ours, theirs):
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


def _randomize(torch, module, seed):
    """Non-default parameters (LayerNorm/BatchNorm start at ones and zeros)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=gen))


def _compare_step(torch, ours, theirs, x, seed):
    """One forward + backward of both; assert output, dX and parameter gradients agree."""
    rng = np.random.default_rng(seed)
    xt = torch.tensor(x, requires_grad=True)
    yt = theirs(xt)
    y = ours(x)
    np.testing.assert_allclose(y, yt.detach().numpy(), **TOL, err_msg="output")
    dy = rng.standard_normal(y.shape)
    yt.backward(torch.tensor(dy))
    dx = ours.backward(dy)
    np.testing.assert_allclose(dx, xt.grad.numpy(), **TOL, err_msg="input gradient")
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, theirs_params[name].grad.numpy(), **TOL, err_msg=name)


CONV_CASES = [
    # (class, torch class name, kwargs, input shape)
    (Conv1d, "Conv1d", dict(in_channels=3, out_channels=4, kernel_size=3), (2, 3, 9)),
    (Conv1d, "Conv1d", dict(in_channels=3, out_channels=2, kernel_size=2, stride=3, padding=2), (3, 3, 8)),
    (Conv1d, "Conv1d", dict(in_channels=2, out_channels=3, kernel_size=3, dilation=2, bias=False), (2, 2, 9)),
    (Conv1d, "Conv1d", dict(in_channels=2, out_channels=3, kernel_size=4, padding=1), (2, 7)),  # unbatched
    (Conv1d, "Conv1d", dict(in_channels=1, out_channels=2, kernel_size=5), (4, 1, 5)),  # one window
    (Conv2d, "Conv2d", dict(in_channels=2, out_channels=3, kernel_size=3), (2, 2, 6, 5)),
    (
        Conv2d,
        "Conv2d",
        dict(
            in_channels=3, out_channels=2, kernel_size=(2, 3), stride=(2, 1), padding=(1, 2), dilation=(1, 2)
        ),
        (2, 3, 5, 6),
    ),
    (Conv2d, "Conv2d", dict(in_channels=1, out_channels=2, kernel_size=(1, 4), bias=False), (1, 4, 7)),
]


@pytest.mark.parametrize("cls, torch_name, kwargs, shape", CONV_CASES)
def test_conv_matches_torch(cls, torch_name, kwargs, shape):
    torch = require_torch()
    torch.manual_seed(0)
    theirs = getattr(torch.nn, torch_name)(**kwargs)
    ours = cls(**kwargs, dtype=np.float64)
    _copy_weights(ours, theirs)
    x = np.random.default_rng(1).standard_normal(shape)
    for step in range(2):  # the second step checks that parameter gradients accumulate like torch's
        _compare_step(torch, ours, theirs, x, seed=step)


POOL_CASES = [
    (MaxPool1d, "MaxPool1d", dict(kernel_size=3, stride=2, padding=1), (2, 3, 10)),
    (MaxPool1d, "MaxPool1d", dict(kernel_size=2), (2, 3, 9)),
    (MaxPool1d, "MaxPool1d", dict(kernel_size=3, stride=1), (3, 8)),  # unbatched, overlapping
    (MaxPool2d, "MaxPool2d", dict(kernel_size=(3, 2), stride=(1, 2), padding=(1, 1)), (2, 3, 6, 7)),
    (MaxPool2d, "MaxPool2d", dict(kernel_size=2), (2, 2, 5, 4)),
    (AvgPool1d, "AvgPool1d", dict(kernel_size=3, stride=2, padding=1), (2, 3, 10)),
    (AvgPool1d, "AvgPool1d", dict(kernel_size=4, stride=1, padding=2, count_include_pad=False), (2, 3, 6)),
    (AvgPool2d, "AvgPool2d", dict(kernel_size=3, stride=2, padding=1, count_include_pad=False), (2, 3, 7, 6)),
    (AvgPool2d, "AvgPool2d", dict(kernel_size=(2, 3)), (2, 2, 5, 6)),
    (AdaptiveMaxPool1d, "AdaptiveMaxPool1d", dict(output_size=1), (2, 3, 10)),
    (AdaptiveMaxPool1d, "AdaptiveMaxPool1d", dict(output_size=4), (2, 3, 10)),
    (AdaptiveMaxPool1d, "AdaptiveMaxPool1d", dict(output_size=7), (3, 5)),  # more bins than positions
]


@pytest.mark.parametrize("ties", [False, True], ids=["distinct", "ties"])
@pytest.mark.parametrize("cls, torch_name, kwargs, shape", POOL_CASES)
def test_pool_matches_torch(cls, torch_name, kwargs, shape, ties):
    torch = require_torch()
    x = np.random.default_rng(2).standard_normal(shape)
    if ties:
        x = np.round(x)  # many equal values per window: the gradient must pick torch's element
    _compare_step(torch, cls(**kwargs), getattr(torch.nn, torch_name)(**kwargs), x, seed=3)  # float64 x


@pytest.mark.parametrize(
    "cls, torch_name, kwargs, shape", [c for c in POOL_CASES if c[1].startswith("MaxPool")]
)
def test_maxpool_with_minus_infinity_inputs_matches_torch(cls, torch_name, kwargs, shape):
    """Windows whose real elements are all −inf: the padding must not take their gradient."""
    torch = require_torch()
    x = np.random.default_rng(6).standard_normal(shape)
    x[x < 0.3] = -np.inf
    _compare_step(torch, cls(**kwargs), getattr(torch.nn, torch_name)(**kwargs), x, seed=7)


@pytest.mark.parametrize(
    "kwargs, shape",
    [
        (dict(normalized_shape=5), (3, 5)),
        (dict(normalized_shape=(3, 4)), (2, 5, 3, 4)),
        (dict(normalized_shape=4, elementwise_affine=False), (2, 3, 4)),
        (dict(normalized_shape=6, bias=False, eps=1e-3), (4, 6)),
    ],
)
def test_layernorm_matches_torch(kwargs, shape):
    torch = require_torch()
    theirs = torch.nn.LayerNorm(**kwargs)
    _randomize(torch, theirs, 0)
    ours = LayerNorm(**kwargs, dtype=np.float64)
    _copy_weights(ours, theirs)
    x = np.random.default_rng(4).standard_normal(shape) * 3 + 1
    _compare_step(torch, ours, theirs, x, seed=5)


@pytest.mark.parametrize("shape", [(6, 4), (5, 4, 7)], ids=["NC", "NCL"])
@pytest.mark.parametrize(
    "kwargs",
    [
        dict(),
        dict(momentum=None),
        dict(momentum=0.3, eps=1e-3),
        dict(affine=False),
        dict(track_running_stats=False),
    ],
    ids=["default", "cumulative", "momentum0.3", "no-affine", "no-running-stats"],
)
def test_batchnorm1d_matches_torch_in_train_and_eval_with_running_stats(kwargs, shape):
    torch = require_torch()
    theirs = torch.nn.BatchNorm1d(4, **kwargs)
    _randomize(torch, theirs, 0)
    ours = BatchNorm1d(4, **kwargs, dtype=np.float64)
    _copy_weights(ours, theirs)
    rng = np.random.default_rng(6)
    for step in range(5):
        if step == 3:  # three training steps, then evaluation with the running statistics
            ours.eval()
            theirs.eval()
        x = rng.standard_normal(shape) * 2 + rng.standard_normal((1, 4, *shape[2:]))
        _compare_step(torch, ours, theirs, x, seed=10 + step)
        state = theirs.state_dict()
        assert ours.state_dict().keys() == state.keys()
        for name, value in state.items():
            np.testing.assert_allclose(ours.state_dict()[name], value.numpy(), **TOL, err_msg=name)


@pytest.mark.parametrize(
    "cls, torch_name, kwargs",
    [
        (MaxPool1d, "MaxPool1d", dict(kernel_size=3)),
        (AdaptiveMaxPool1d, "AdaptiveMaxPool1d", dict(output_size=2)),
    ],
)
def test_max_pools_propagate_nan_like_torch(cls, torch_name, kwargs):
    torch = require_torch()
    x = np.array([[[1.0, np.nan, 3.0, 2.0, 5.0, np.nan]]])  # NaN is each window's max, and wins the gradient
    ours, theirs = cls(**kwargs), getattr(torch.nn, torch_name)(**kwargs)  # pools follow x's dtype
    xt = torch.tensor(x, requires_grad=True)
    yt = theirs(xt)
    yt.backward(torch.ones_like(yt))
    y = ours(x)
    np.testing.assert_array_equal(y, yt.detach().numpy())
    np.testing.assert_array_equal(ours.backward(np.ones_like(y)), xt.grad.numpy())
