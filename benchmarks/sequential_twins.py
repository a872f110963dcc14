"""Torch twins of tinyrec's sequence networks: the same layers, parameter names, masks and losses.

``benchmarks/bench_sequential.py`` trains them beside tinyrec's models, and
``tests/models/test_torch_parity_sequential.py`` checks, in float64 with copied weights, that one
training step of each twin matches tinyrec's to 1e-9 (outputs, loss, every gradient, the Adam
update), so the benchmark compares the same network, not a look-alike. Each twin's
``state_dict`` has the keys of its tinyrec network (``load_state_dict`` copies one into the other).

``sparse=True`` builds the embedding tables (and the candidate rows of an output table) as torch's
sparse embeddings, trained by ``SparseAdam`` like tinyrec's lazy Adam; ``sparse=False`` (the
reference codes' setup) keeps every table dense, trained by ``Adam``.
"""

from __future__ import annotations

import math

import numpy as np


def twins(torch):
    """The twin classes, built on the ``torch`` module given (so that importing this file needs no torch)."""
    nn, F = torch.nn, torch.nn.functional

    class TorchSASRec(nn.Module):
        """:class:`tinyrec.models.sequential.SASRecNet` in torch (``TransformerEncoderLayer``, pre-norm)."""

        def __init__(self, n_items, max_len, dim, n_blocks, num_heads, dropout, sparse=False):
            super().__init__()
            self.pad, self.dim = n_items, dim
            self.item_embedding = nn.Embedding(n_items + 1, dim, padding_idx=n_items, sparse=sparse)
            self.positions = nn.Embedding(max_len, dim, sparse=sparse)
            self.dropout = nn.Dropout(dropout)
            self.blocks = nn.ModuleList(
                nn.TransformerEncoderLayer(dim, num_heads, dim, dropout, batch_first=True, norm_first=True)
                for _ in range(n_blocks)
            )
            self.final_norm = nn.LayerNorm(dim)
            self.num_heads = num_heads

        def encode(self, seq):
            n, length = seq.shape
            keep = (seq != self.pad).unsqueeze(-1).to(self.item_embedding.weight.dtype)
            back = torch.arange(length - 1, -1, -1)  # column t reads position row L - 1 - t
            x = self.item_embedding(seq) * math.sqrt(self.dim) + self.positions(back)
            x = keep * self.dropout(x)
            blocked = (
                torch.triu(torch.ones(length, length, dtype=torch.bool), 1)[None]
                | (seq == self.pad)[:, None, :]
            )
            # a padded query would see no key at all, and torch's softmax of a fully masked row is NaN
            # (tinyrec's is 0): let every query see itself; padded rows are zeroed after each block
            blocked = blocked & ~torch.eye(length, dtype=torch.bool)
            mask = blocked.repeat_interleave(self.num_heads, dim=0)  # (N·H, L, L), True = may not attend
            for block in self.blocks:
                x = keep * block(x, src_mask=mask)
            return self.final_norm(x)

        def forward(self, seq, candidates):
            f = self.encode(seq)[seq != self.pad]  # (M, d)
            return (f.unsqueeze(1) * self.item_embedding(candidates)).sum(-1)

        def score_all(self, seq):
            return self.encode(seq)[:, -1] @ self.item_embedding.weight[: self.pad].T

    class TorchGRU4Rec(nn.Module):
        """:class:`tinyrec.models.sequential.GRU4RecNet` in torch."""

        def __init__(self, n_items, dim, hidden, dropout, sparse=False):
            super().__init__()
            self.pad, self.sparse = n_items, sparse
            self.item_embedding = nn.Embedding(n_items + 1, dim, padding_idx=n_items, sparse=sparse)
            self.input_dropout = nn.Dropout(dropout)
            self.gru = nn.GRU(dim, hidden, batch_first=True)
            self.output_dropout = nn.Dropout(dropout)
            self.output = nn.Linear(hidden, n_items)

        def forward(self, seq, candidates=None):
            h, _ = self.gru(self.input_dropout(self.item_embedding(seq)))
            g = self.output_dropout(h[seq != self.pad])  # (M, hidden)
            return _item_logits(F, self.output, g, candidates, self.sparse)

        def score_all(self, seq):
            h, _ = self.gru(self.item_embedding(seq))
            last = ((seq != self.pad).sum(1) - 1).clamp(min=0)
            return self.output(h[torch.arange(len(seq)), last])

    class TorchCaser(nn.Module):
        """:class:`tinyrec.models.sequential.CaserNet` in torch (Caser's reference layers)."""

        def __init__(self, n_users, n_items, window, dim, n_vertical, n_horizontal, dropout, sparse=False):
            super().__init__()
            self.dim, self.sparse = dim, sparse
            self.user_embedding = nn.Embedding(n_users, dim, sparse=sparse)
            self.item_embedding = nn.Embedding(n_items + 1, dim, padding_idx=n_items, sparse=sparse)
            self.vertical = nn.Conv2d(1, n_vertical, (window, 1))
            self.horizontal = nn.ModuleList(
                nn.Conv2d(1, n_horizontal, (h, dim)) for h in range(1, window + 1)
            )
            self.dropout = nn.Dropout(dropout)
            self.fc = nn.Linear(n_vertical * dim + n_horizontal * window, dim)
            self.output = nn.Linear(2 * dim, n_items)

        def encode(self, users, windows, known=None):
            e = self.item_embedding(windows).unsqueeze(1)  # (N, 1, L, d)
            o_v = self.vertical(e).flatten(1)
            o_h = [F.relu(conv(e).squeeze(3)).amax(dim=2) for conv in self.horizontal]
            z = F.relu(self.fc(self.dropout(torch.cat([o_v, *o_h], 1))))
            p = self.user_embedding(users)
            if known is not None:
                p = p * known.unsqueeze(1).to(p.dtype)  # no trained user vector: no user term
            return torch.cat([z, p], 1)

        def forward(self, users, windows, candidates):
            return _item_logits(F, self.output, self.encode(users, windows), candidates, self.sparse)

        def score_all(self, users, windows, known):
            return self.output(self.encode(users, windows, known))

    return TorchSASRec, TorchGRU4Rec, TorchCaser


def _item_logits(F, output, h, candidates, sparse):
    """``h · w_i + b_i`` of every item (``candidates`` None) or of each row's candidates."""
    if candidates is None:
        return output(h)
    w = F.embedding(candidates, output.weight, sparse=sparse)  # (M, C, F)
    b = F.embedding(candidates, output.bias.unsqueeze(1)).squeeze(2)  # the bias stays dense
    return (h.unsqueeze(1) * w).sum(-1) + b


def twin_of(torch, model, *, sparse=False):
    """The torch twin of a fitted or started tinyrec sequence model, with ``model.net``'s weights."""
    TorchSASRec, TorchGRU4Rec, TorchCaser = twins(torch)
    name = type(model).__name__
    if name == "SASRec":
        twin = TorchSASRec(model.n_items_, model.max_len, model.dim, model.n_blocks, model.num_heads,
                           model.dropout, sparse)  # fmt: skip
    elif name == "GRU4Rec":
        twin = TorchGRU4Rec(model.n_items_, model.dim, model.hidden, model.dropout, sparse)
    else:
        twin = TorchCaser(model.n_users_, model.n_items_, model.window, model.dim, model.n_vertical,
                          model.n_horizontal, model.dropout, sparse)  # fmt: skip
    dtype = torch.float64 if np.dtype(model.dtype) == np.float64 else torch.float32
    twin = twin.to(dtype)
    twin.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in model.net.state_dict().items()})
    return twin


def twin_loss(torch, model):
    """The loss ``model`` trains with, in torch: ``loss(logits, target)``."""
    F = torch.nn.functional
    if type(model).__name__ == "GRU4Rec" and model.loss == "ce":
        return lambda logits, target: F.cross_entropy(logits, target)
    if type(model).__name__ == "GRU4Rec" and model.loss == "bpr":
        return lambda logits, target: -F.logsigmoid(logits[:, :1] - logits[:, 1:]).mean()
    n_positive = model.n_targets if type(model).__name__ == "Caser" else 1

    def sampled_bce(logits, target):
        width = logits.shape[1]
        n_negative = width - n_positive
        weight = torch.tensor(
            [width / n_positive] * n_positive + [width / n_negative] * n_negative, dtype=logits.dtype
        )
        return F.binary_cross_entropy_with_logits(logits, target, weight=weight)

    return sampled_bce


def twin_optimizers(torch, model, twin):
    """Adam as ``model`` uses it: one ``Adam`` (dense), or ``SparseAdam`` on the sparse tables beside it."""
    betas = model._betas
    sparse = [
        p for m in twin.modules() if isinstance(m, torch.nn.Embedding) and m.sparse for p in m.parameters()
    ]
    if type(model).__name__ in ("GRU4Rec", "Caser") and getattr(twin, "sparse", False):
        if not (type(model).__name__ == "GRU4Rec" and model.loss == "ce"):
            sparse.append(twin.output.weight)  # its candidate rows are looked up sparsely
    dense = [p for p in twin.parameters() if all(p is not q for q in sparse)]
    optimizers = [torch.optim.Adam(dense, lr=model.lr, betas=betas, weight_decay=model.weight_decay)]
    if sparse:
        optimizers.append(torch.optim.SparseAdam(sparse, lr=model.lr, betas=betas))
    return optimizers


def as_torch(torch, arrays):
    """The numpy arrays of a batch as torch tensors (ints as int64, floats as they are)."""
    return [torch.from_numpy(np.ascontiguousarray(a)) for a in arrays]
