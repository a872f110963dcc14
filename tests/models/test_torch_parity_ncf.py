"""NeuMF (and GMF, MLP) against the same network written in torch: float64 outputs, gradients, Adam steps."""

from __future__ import annotations

import numpy as np
import pytest

from tinyrec.losses import BCEWithLogitsLoss
from tinyrec.models.ncf_net import GMFTower, MLPTower, NCFNet
from tinyrec.optim import Adam

from ..helpers import require_torch

N_USERS, N_ITEMS, D, LAYERS = 7, 9, 3, (6, 5, 4)


def _tinyrec_net(kind: str, seed: int = 0) -> NCFNet:
    towers = {}
    if kind in ("gmf", "neumf"):
        towers["gmf"] = GMFTower(N_USERS, N_ITEMS, D, init_std=0.3, dtype=np.float64, seed=seed)
    if kind in ("mlp", "neumf"):
        towers["mlp"] = MLPTower(N_USERS, N_ITEMS, LAYERS, init_std=0.3, dtype=np.float64, seed=seed + 1)
    return NCFNet(towers, N_USERS, N_ITEMS, dtype=np.float64, seed=seed + 2)


def _torch_net(torch, net: NCFNet):
    """The same network in torch, its weights copied from ``net`` (parameter names kept)."""
    nn = torch.nn

    class TorchNCF(nn.Module):
        def __init__(self):
            super().__init__()
            self.towers = nn.ModuleDict()
            if "gmf" in net.tower_names:
                self.towers["gmf"] = nn.ModuleDict(
                    {
                        "user_embedding": nn.Embedding(N_USERS, D, sparse=True),
                        "item_embedding": nn.Embedding(N_ITEMS, D, sparse=True),
                    }
                )
            if "mlp" in net.tower_names:
                hidden = []
                for a, b in zip(LAYERS[:-1], LAYERS[1:], strict=True):
                    hidden += [nn.Linear(a, b), nn.ReLU()]
                self.towers["mlp"] = nn.ModuleDict(
                    {
                        "user_embedding": nn.Embedding(N_USERS, LAYERS[0] // 2, sparse=True),
                        "item_embedding": nn.Embedding(N_ITEMS, LAYERS[0] // 2, sparse=True),
                        "mlp": nn.Sequential(*hidden),
                    }
                )
            self.output = nn.Linear(sum(net.widths), 1)

        def forward(self, users, items):
            parts = []
            if "gmf" in self.towers:
                g = self.towers["gmf"]
                parts.append(g["user_embedding"](users) * g["item_embedding"](items))
            if "mlp" in self.towers:
                m = self.towers["mlp"]
                parts.append(
                    m["mlp"](torch.cat([m["user_embedding"](users), m["item_embedding"](items)], dim=1))
                )
            return self.output(torch.cat(parts, dim=1))[:, 0]

    model = TorchNCF().double()
    params = dict(model.named_parameters())
    with torch.no_grad():
        for name, value in net.state_dict().items():
            key = name if name.startswith("output") else f"towers.{name}"
            params[key].copy_(torch.from_numpy(value))
    return model, params


def _batch(seed):
    rng = np.random.default_rng(seed)
    users = rng.integers(0, N_USERS, 12)
    items = rng.integers(0, N_ITEMS, 12)
    labels = (rng.random(12) < 0.3).astype(np.float64)
    return users, items, labels


@pytest.mark.parametrize("kind", ["neumf", "gmf", "mlp"])
def test_outputs_and_every_gradient_match_torch(kind):
    torch = require_torch()
    net = _tinyrec_net(kind)
    tnet, tparams = _torch_net(torch, net)
    users, items, labels = _batch(1)
    loss = BCEWithLogitsLoss()
    value = loss.forward(net(users, items), labels)
    net.backward(loss.backward())
    t_logits = tnet(torch.from_numpy(users), torch.from_numpy(items))
    t_loss = torch.nn.functional.binary_cross_entropy_with_logits(t_logits, torch.from_numpy(labels))
    t_loss.backward()
    np.testing.assert_allclose(net(users, items), t_logits.detach().numpy(), rtol=1e-9, atol=1e-12)
    assert value == pytest.approx(t_loss.item(), rel=1e-9)
    for name, p in net.named_parameters():
        key = name if name.startswith("output") else f"towers.{name}"
        t_grad = tparams[key].grad
        t_grad = t_grad.to_dense() if t_grad.is_sparse else t_grad
        np.testing.assert_allclose(p.dense_grad(), t_grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)


def test_ten_adam_steps_match_torch_adam_and_sparse_adam():
    torch = require_torch()
    net = _tinyrec_net("neumf", seed=3)
    tnet, tparams = _torch_net(torch, net)
    optimizer = Adam(net.parameters(), lr=0.01)
    sparse = [p for k, p in tparams.items() if "embedding" in k]
    dense = [p for k, p in tparams.items() if "embedding" not in k]
    t_sparse, t_dense = torch.optim.SparseAdam(sparse, lr=0.01), torch.optim.Adam(dense, lr=0.01)
    loss = BCEWithLogitsLoss()
    for step in range(10):
        users, items, labels = _batch(10 + step)
        optimizer.zero_grad()
        loss.forward(net(users, items), labels)
        net.backward(loss.backward())
        optimizer.step()
        t_sparse.zero_grad()
        t_dense.zero_grad()
        t_logits = tnet(torch.from_numpy(users), torch.from_numpy(items))
        torch.nn.functional.binary_cross_entropy_with_logits(t_logits, torch.from_numpy(labels)).backward()
        t_sparse.step()
        t_dense.step()
    for name, p in net.named_parameters():
        key = name if name.startswith("output") else f"towers.{name}"
        np.testing.assert_allclose(p.data, tparams[key].detach().numpy(), rtol=1e-9, atol=1e-12, err_msg=name)
