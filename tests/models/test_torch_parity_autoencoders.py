"""AutoRec and Mult-DAE networks against the same networks in torch: float64 losses and gradients."""

from __future__ import annotations

import numpy as np

from tinyrec.losses import CrossEntropyLoss, MaskedMSELoss
from tinyrec.models.autorec import AutoRecNet
from tinyrec.models.multdae import MultDAENet

from ..helpers import require_torch


def _torch_linear(torch, layer):
    """A torch Linear with the weights of a tinyrec Linear."""
    out = torch.nn.Linear(layer.in_features, layer.out_features)
    with torch.no_grad():
        out.weight.copy_(torch.from_numpy(layer.weight.data))
        out.bias.copy_(torch.from_numpy(layer.bias.data))
    return out


def _compare_grads(net, torch_layers):
    for name, layer in torch_layers.items():
        ours = getattr(net, name)
        np.testing.assert_allclose(ours.weight.grad, layer.weight.grad.numpy(), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(ours.bias.grad, layer.bias.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_autorec_masked_loss_and_gradients_match_torch():
    torch = require_torch()
    rng = np.random.default_rng(0)
    x = rng.integers(1, 6, (6, 11)).astype(np.float64)
    observed = rng.random(x.shape) < 0.4
    x[~observed] = 0.0
    net = AutoRecNet(11, 5, dtype=np.float64, seed=1)
    loss = MaskedMSELoss()
    value = loss.forward(net(x), np.where(observed, x, np.nan))
    net.backward(loss.backward())

    layers = {"encoder": _torch_linear(torch, net.encoder), "decoder": _torch_linear(torch, net.decoder)}
    xt = torch.from_numpy(x)
    y = layers["decoder"](torch.sigmoid(layers["encoder"](xt)))
    mask = torch.from_numpy(observed)
    reference = torch.nn.functional.mse_loss(y[mask], xt[mask])  # mean over the observed entries
    reference.backward()
    assert np.isclose(value, reference.item(), rtol=1e-12)
    _compare_grads(net, layers)


def test_multdae_likelihood_and_gradients_match_torch_with_the_same_dropout_mask():
    torch = require_torch()
    rng = np.random.default_rng(2)
    x = (rng.random((5, 13)) < 0.3).astype(np.float64)
    x[:, 0] = 1.0
    net = MultDAENet(13, 4, 0.5, dtype=np.float64, seed=3)
    loss = CrossEntropyLoss()
    value = loss.forward(net(x), x)
    net.backward(loss.backward())
    mask = net.dropout._scaled_mask  # M / (1 - p) of that forward

    layers = {"encoder": _torch_linear(torch, net.encoder), "decoder": _torch_linear(torch, net.decoder)}
    xt = torch.from_numpy(x)
    h = torch.nn.functional.normalize(xt, dim=1) * torch.from_numpy(mask)
    logits = layers["decoder"](torch.tanh(layers["encoder"](h)))
    reference = -(torch.log_softmax(logits, dim=1) * xt).sum(dim=1).mean()
    reference.backward()
    assert np.isclose(value, reference.item(), rtol=1e-12)
    _compare_grads(net, layers)
