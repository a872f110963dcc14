"""SASRec (Kang & McAuley, "Self-Attentive Sequential Recommendation", ICDM 2018).

Each position of a user's history attends to the positions before it (a causal mask) through a few
transformer blocks; the output at the latest position, dotted with an item's embedding, scores that
item as the next one. Trained on every position at once: the item that came next is a positive,
one sampled item a negative (binary cross-entropy).
"""

from __future__ import annotations

import math

import numpy as np

from ...nn import init
from ...nn.dropout import Dropout
from ...nn.embedding import Embedding
from ...nn.module import Module
from ...nn.norm import LayerNorm
from ...nn.spec import Ids, require
from ...nn.transformer import PositionalEmbedding, TransformerBlock
from ...validation import (
    as_generator,
    positive_int,
    resolve_dtype,
)
from ..checks import check_network_fit_memory
from ..multdae import dropout_rate
from .base import TRAINING_RULES, _SequenceRecommender
from .training import NextItemBatches, sampled_bce


class SASRecNet(Module):
    """SASRec's network: item and position embeddings, causal transformer blocks, a final LayerNorm.

    Parameters
    ----------
    n_items : int
        Items ``0 … n_items − 1``; id ``n_items`` is the padding (its embedding row is zero and gets
        no gradient).
    max_len : int, default 200
        The longest input; a row of the position table per position.
    dim : int, default 50
        ``d``, the size of the embeddings and of every hidden state (``E`` of the blocks).
    n_blocks : int, default 2
    num_heads : int, default 1
    dropout : float, default 0.2
        On the embeddings, and inside every block (attention probabilities, feed-forward, the two
        branches before their residual sums).
    dtype : np.float32 (default) or np.float64
    seed : int or np.random.Generator

    Attributes
    ----------
    item_embedding : Embedding(n_items + 1, d), padding row ``n_items``
    positions : PositionalEmbedding(max_len, d)
        Row ``r`` belongs to the item ``r`` steps before the latest of the row (see Notes).
    dropout : Dropout
    blocks : list of TransformerBlock(d, num_heads, ffn_dim=d, causal, pre-norm)
    final_norm : LayerNorm(d)

    Notes
    -----
    Input ``seq : (N, L)``, left-padded item ids (the latest item in the last column), and
    ``candidates : (M, n_candidates)``, the items to score at the ``M`` real (non-padding) positions of
    ``seq`` in row-major order. ``keep : (N, L)`` is 1 at real positions, 0 at padding. With
    ``q_i`` the item embedding and ``pos_r`` row ``r`` of the position table::

        x_0[n, t] = keep[n, t] · dropout(sqrt(d) · q_{seq[n, t]} + pos_{L − 1 − t})   (N, L, d)
        x_b = keep ⊙ block_b(x_{b−1}, key_padding_mask = 1 − keep)    for b = 1 … n_blocks
        Z = final_norm(x_last)                                        (N, L, d)
        z_m = Z at the m-th real position                             (M, d)
        ŷ[m, c] = z_m · q_{candidates[m, c]}                          (M, n_candidates): the output

    Positions are counted back from the latest item (SASRec's reference code counts them from the
    start of a ``max_len``-long window that ends with the latest item: the same thing when every
    row has that length). Padded keys are masked, and padded rows zeroed after every block, so a
    real position never reads padding: adding or removing columns of padding on the left changes
    no output.

    Backward, from ``dŷ``, reading the lines above from the bottom::

        dz_m = Σ_c dŷ[m, c] q_{candidates[m, c]};   dq_{candidates[m, c]} += dŷ[m, c] z_m
        dZ = dz at the real positions, 0 elsewhere;  dx_last = final_norm'(dZ)
        dx_{b−1} = block_b'(keep ⊙ dx_b)                              for b = n_blocks … 1
        de = dropout'(keep ⊙ dx_0);  dq_{seq[n, t]} += sqrt(d) · de[n, t];  dpos_{L − 1 − t} += Σ_n de[n, t]

    The item table gets both of its gradients (inputs and candidates) in one row-sparse sum; the
    padding row gets none. The scores of every item at the latest position are
    ``Z[:, −1]`` dotted with every item's embedding (:meth:`last_states`).
    """

    input_spec = (Ids("seq", bound="n_ids", ndim=2), Ids("candidates", bound="n_items", ndim=2))

    def __init__(self, n_items: int, max_len: int = 200, dim: int = 50, n_blocks: int = 2, num_heads: int = 1,
                 dropout: float = 0.2, *, dtype=np.float32, seed=None):  # fmt: skip
        rng = as_generator(seed)
        self.dtype = resolve_dtype(dtype)
        self.n_items, self.n_ids, self.padding_id = int(n_items), int(n_items) + 1, int(n_items)
        self.max_len, self.dim = int(max_len), int(dim)
        kw = {"dtype": self.dtype, "seed": rng}
        self.item_embedding = Embedding(self.n_ids, self.dim, padding_idx=self.padding_id, **kw)
        self.positions = PositionalEmbedding(self.max_len, self.dim, **kw)
        # the reference code's initialisation of both tables: Xavier normal (the padding row zero)
        self.item_embedding.weight.data[...] = init.xavier_normal((self.n_ids, self.dim), **kw)
        self.item_embedding.weight.data[self.padding_id] = 0.0
        self.positions.weight.data[...] = init.xavier_normal((self.max_len, self.dim), **kw)
        self.dropout = Dropout(dropout, seed=rng)
        self.blocks = [TransformerBlock(self.dim, num_heads, ffn_dim=self.dim, dropout=dropout, **kw)
                       for _ in range(int(n_blocks))]  # fmt: skip
        self.final_norm = LayerNorm(self.dim, dtype=self.dtype)
        self._keep = None

    @staticmethod
    def state_shapes(n_items: int, max_len: int, dim: int, n_blocks: int) -> dict[str, tuple[int, ...]]:
        """The ``state_dict`` shapes of ``SASRecNet(n_items, max_len, dim, n_blocks, ...)``, unbuilt."""
        d = dim
        block = {"self_attn.in_proj_weight": (3 * d, d), "self_attn.in_proj_bias": (3 * d,),
                 "self_attn.out_proj.weight": (d, d), "self_attn.out_proj.bias": (d,),
                 "linear1.weight": (d, d), "linear1.bias": (d,),
                 "linear2.weight": (d, d), "linear2.bias": (d,),
                 "norm1.weight": (d,), "norm1.bias": (d,),
                 "norm2.weight": (d,), "norm2.bias": (d,)}  # fmt: skip
        shapes = {"item_embedding.weight": (n_items + 1, d), "positions.weight": (max_len, d)}
        for b in range(n_blocks):
            shapes.update({f"blocks.{b}.{name}": shape for name, shape in block.items()})
        return {**shapes, "final_norm.weight": (d,), "final_norm.bias": (d,)}

    def check_inputs(self, seq, candidates) -> tuple:
        seq, candidates = super().check_inputs(seq, candidates)
        require(1 <= seq.shape[1] <= self.max_len, f"SASRecNet got sequences of length {seq.shape[1]}; they "
                f"must hold 1 to max_len={self.max_len} items (keep the most recent ones)")  # fmt: skip
        n_real = int(np.count_nonzero(seq != self.padding_id))
        require(len(candidates) == n_real, f"SASRecNet got {len(candidates)} rows of candidates for "
                f"{n_real} real (non-padding) positions; give one row per real position")  # fmt: skip
        return seq, candidates

    # -- the encoder: item ids to hidden states ---------------------------------------------------
    def _encode(self, seq: np.ndarray, extra_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``Z : (N, L, d)`` of ``seq``, and the embeddings of ``extra_ids`` (one lookup for both)."""
        N, L = seq.shape
        keep = (seq != self.padding_id)[:, :, None].astype(self.dtype)  # (N, L, 1)
        rows = self.item_embedding.forward(np.concatenate([seq.reshape(-1), extra_ids.reshape(-1)]))
        q_seq, q_extra = rows[: N * L].reshape(N, L, self.dim), rows[N * L :]
        positions = self.positions.forward(L)[::-1]  # (L, d): column t gets row L − 1 − t
        x = keep * self.dropout.forward(math.sqrt(self.dim) * q_seq + positions)
        for block in self.blocks:
            x = keep * block.forward(x, key_padding_mask=keep[:, :, 0] == 0)
        self._keep = keep
        return self.final_norm.forward(x), q_extra

    def _encode_backward(self, dZ: np.ndarray, d_extra: np.ndarray) -> None:
        """The gradients of :meth:`_encode`'s two outputs, down to the tables."""
        keep = self._keep
        dx = self.final_norm.backward(dZ)
        for block in reversed(self.blocks):
            dx = block.backward(keep * dx)
        de = self.dropout.backward(keep * dx)  # (N, L, d)
        self.positions.backward(de.sum(axis=0)[::-1])  # row L − 1 − t gets Σ_n de[n, t]
        dq_seq = math.sqrt(self.dim) * de
        self.item_embedding.backward(np.concatenate([dq_seq.reshape(-1, self.dim), d_extra]))

    # -- training: logits of candidates at every real position --------------------------------------
    def forward(self, seq: np.ndarray, candidates: np.ndarray) -> np.ndarray:
        """Logits ``(M, n_candidates)`` of ``candidates`` at the ``M`` real positions of ``seq : (N, L)``."""
        Z, q = self._encode(seq, candidates)
        real = seq != self.padding_id
        z = Z[real]  # (M, d)
        q = q.reshape(*candidates.shape, self.dim)  # (M, n_candidates, d)
        self._z, self._q, self._real = z, q, real
        return np.einsum("md,mcd->mc", z, q)

    def backward(self, grad_output: np.ndarray) -> tuple[None, None]:
        z, q, real, dy = self._z, self._q, self._real, grad_output
        dz = np.einsum("mc,mcd->md", dy, q)  # dz_m = Σ_c dŷ[m, c] q_c
        dq = dy[:, :, None] * z[:, None, :]  # dq_c = dŷ[m, c] z_m
        dZ = np.zeros(real.shape + (self.dim,), dtype=self.dtype)
        dZ[real] = dz
        self._encode_backward(dZ, dq.reshape(-1, self.dim))
        return None, None

    # -- scoring ---------------------------------------------------------------------------------------
    def last_states(self, seq: np.ndarray) -> np.ndarray:
        """``Z[:, −1] : (N, d)``, the hidden state at the latest position of each (left-padded) row."""
        Z, _ = self._encode(seq, np.zeros(0, dtype=np.int64))
        return Z[:, -1]

    def extra_repr(self) -> str:
        return f"n_items={self.n_items}, max_len={self.max_len}, dim={self.dim}, dtype={self.dtype.name}"


_RULES = {
    "max_len": positive_int, "dim": positive_int, "n_blocks": positive_int, "num_heads": positive_int,
    "dropout": dropout_rate, "n_negatives": positive_int,
    **TRAINING_RULES,
}  # fmt: skip


class SASRec(_SequenceRecommender):
    """Self-attentive sequential recommendation (Kang & McAuley, ICDM 2018).

    Parameters
    ----------
    max_len : int, default 200
        The most recent items read per user (older ones are dropped, in training and scoring).
    dim : int, default 50
        ``d``: embeddings and hidden states.
    n_blocks : int, default 2
        Causal self-attention blocks.
    num_heads : int, default 1
        Attention heads (must divide ``dim``).
    dropout : float in [0, 1), default 0.2
    n_negatives : int, default 1
        Sampled negatives per position (the reference code's one).
    n_epochs : int, default 200
        Passes over the users (one row per user, every position trained): about where the
        validation NDCG@10 of ML-100K (the latest train item of each user) levels off at the
        other defaults. ``fit(train, valid=...)`` keeps the best epoch; the epochs each benchmark
        run kept are in ``benchmarks/results/bench_sequential.json``.
    batch_size : int, default 128
        Users per batch.
    lr : float, default 1e-3
        Adam's learning rate; ``β = (0.9, 0.98)`` as in the reference code.
    weight_decay : float, default 0
        Adam's L2 penalty ``λ``.
    lazy_embeddings : bool, default True
        True: Adam updates only the item and position rows a batch touched (row-sparse);
        False: every row at every step, as ``torch.optim.Adam`` on the reference code's dense
        tables. Both are measured by ``benchmarks/bench_sequential.py``.
    protocol : {"sampled", "full"}, default "sampled"
        How ``fit(train, valid=...)`` evaluates after each epoch.
    monitor : str, default "ndcg@10"
        The validation metric that picks the best epoch, one the protocol returns at k = 10.
    patience : int, optional
        Stop when ``monitor`` has not improved for this many epochs (needs ``valid``).
    verbose : bool, default False
        Progress line with the running loss on stderr.
    dtype : np.float32 (default) or np.float64
    seed : int or np.random.Generator, optional
        Seeds the weights, the dropout masks, the order of the users and the negatives.

    Notes
    -----
    The network is :class:`SASRecNet`. Each user with at least two training items is one row:
    input ``s_1 … s_{n−1}``, and at every position ``t`` the positive ``s_{t+1}`` and a negative
    ``j`` drawn among the items the user never interacted with; with ``ŷ`` their logits,

        ℒ = mean over positions of −log σ(ŷ_pos)  +  mean over positions of −log(1 − σ(ŷ_neg))

    (:func:`~tinyrec.models.sequential.training.sampled_bce`), minimised by Adam. The score of
    item ``i`` for a user is ``F_last · q_i``: the final hidden state at the user's latest item
    (its whole history: train, and ``valid`` when ``fit`` had one) dotted with ``i``'s embedding.

    Bad input: a user with one training item has no next item to learn from (no training row)
    and is scored from that item; a user without training items gets the most popular items;
    ``recommend(history=...)`` scores any list of items, an empty one giving the most popular.

    Attributes (after ``fit``)
    --------------------------
    net : SASRecNet
    sequence_indptr_, sequence_items_ : each user's items in time order (CSR)
    history_ : {"loss", "epoch_seconds", "val_<metric>" (with ``valid``)}
    """

    hyperparameters = _RULES
    _betas = (0.9, 0.98)

    def __init__(self, max_len: int = 200, dim: int = 50, n_blocks: int = 2, num_heads: int = 1, *,
                 dropout: float = 0.2, n_negatives: int = 1, n_epochs: int = 200, batch_size: int = 128,
                 lr: float = 1e-3, weight_decay: float = 0.0, lazy_embeddings: bool = True,
                 protocol: str = "sampled", monitor: str = "ndcg@10", patience=None, verbose: bool = False,
                 dtype=np.float32, seed=None):  # fmt: skip
        self.max_len, self.dim, self.n_blocks, self.num_heads = max_len, dim, n_blocks, num_heads
        self.dropout, self.n_negatives, self.n_epochs, self.batch_size = (
            dropout,
            n_negatives,
            n_epochs,
            batch_size,
        )
        self.lr, self.weight_decay, self.lazy_embeddings = lr, weight_decay, lazy_embeddings
        self.protocol, self.monitor, self.patience = protocol, monitor, patience
        self.verbose, self.dtype, self.seed = verbose, dtype, seed
        self._check_hyperparameters()

    def _check_hyperparameters(self) -> None:
        super()._check_hyperparameters()
        if self.dim % self.num_heads:
            raise ValueError(f"num_heads={self.num_heads} does not divide dim={self.dim}; choose num_heads "
                             f"among the divisors of {self.dim}")  # fmt: skip

    def _build_net(self, rng=None) -> None:
        rng = as_generator(self.seed) if rng is None else rng
        self.net = SASRecNet(self.n_items_, self.max_len, self.dim, self.n_blocks, self.num_heads,
                             self.dropout, dtype=self.dtype, seed=rng)  # fmt: skip

    def _network_shapes(self) -> dict:
        return SASRecNet.state_shapes(self.n_items_, self.max_len, self.dim, self.n_blocks)

    def _check_fit_memory(self) -> None:
        rows, L, d = min(self.batch_size, self.n_users_), self.max_len, self.dim
        batch = {
            "attention scores and probabilities (3 per block)": (
                (3 * self.n_blocks, rows, self.num_heads, L, L), self.dtype
            ),
            "hidden states (about 20 per block)": ((20 * self.n_blocks, rows, L, d), self.dtype),
        }  # fmt: skip
        check_network_fit_memory(self, batch, set_by=("max_len", "dim", "n_blocks", "batch_size"))

    def _batches(self, sequences, train, rng):
        users, inputs, targets = sequences.next_item_examples(self.max_len, side="left")
        return NextItemBatches(train, users, inputs, targets, self.batch_size, n_negatives=self.n_negatives,
                               padding_id=self.n_items_, dtype=self.dtype, seed=rng)  # fmt: skip

    def _loss(self):
        return sampled_bce(1, self.n_negatives)

    @property
    def _activations_per_row(self) -> int:
        return self.num_heads * self.max_len * self.max_len  # a row's attention probabilities

    def _scores_of_rows(self, users, rows) -> np.ndarray:
        last = self.net.last_states(rows)  # (n, d)
        return last @ self.net.item_embedding.weight.data[: self.n_items_].T

    def _item_vectors(self):
        return self.net.item_embedding.weight.data[: self.n_items_]


__all__ = ["SASRec", "SASRecNet"]
