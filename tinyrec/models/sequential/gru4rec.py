"""GRU4Rec (Hidasi, Karatzoglou, Baltrunas & Tikk, "Session-based Recommendations with Recurrent
Neural Networks", ICLR 2016).

A GRU reads a user's items one at a time; after each item its hidden state scores every item as the
next one through an output layer with one vector and one bias per item. Trained on every position:
by the softmax over all items (cross-entropy), or on sampled negatives (BPR or binary
cross-entropy).
"""

from __future__ import annotations

import numpy as np

from ...losses import CrossEntropyLoss
from ...nn import init
from ...nn.dropout import Dropout
from ...nn.embedding import Embedding
from ...nn.module import Module
from ...nn.recurrent import GRU
from ...nn.spec import Ids, require
from ...validation import (
    as_generator,
    one_of,
    positive_int,
    resolve_dtype,
)
from ..checks import check_network_fit_memory
from ..multdae import dropout_rate
from .base import TRAINING_RULES, _SequenceRecommender
from .output import ItemOutput
from .training import CandidateBPRLoss, NextItemBatches, sampled_bce


class GRU4RecNet(Module):
    """GRU4Rec's network: item embeddings, a GRU, an output vector and bias per item.

    Parameters
    ----------
    n_items : int
        Items ``0 … n_items − 1``; id ``n_items`` is the padding (a zero embedding row that gets
        no gradient).
    dim : int, default 64
        ``d``, the size of an item embedding (the GRU's input).
    hidden : int, default 100
        The GRU's hidden size.
    dropout : float, default 0.25
        On the embeddings and on the hidden states read by the output layer.
    dtype : np.float32 (default) or np.float64
    seed : int or np.random.Generator

    Attributes
    ----------
    item_embedding : Embedding(n_items + 1, d), padding row ``n_items``, N(0, 1/d) (entries of std 1/sqrt(d))
    input_dropout : Dropout
    gru : GRU(d, hidden)
    output_dropout : Dropout
    output : ItemOutput(hidden, n_items)

    Notes
    -----
    Input ``seq : (N, L)``, **right**-padded item ids (each row starts at column 0, so the GRU
    reads no padding before an item, and padding after the last item changes no earlier state),
    and optionally ``candidates : (M, n_candidates)``, items to score at the ``M`` real positions of ``seq``
    (row-major). With ``keep`` the real positions::

        x = input_dropout(q_seq)                    (N, L, d)
        h_t = GRU(x_t, h_{t−1}),  h_0 = 0           (N, L, hidden)
        g = output_dropout(h at the real positions) (M, hidden)
        ŷ = output(g)                               (M, n_items): every item
          or output(g, candidates)                  (M, n_candidates)

    Backward, from ``dŷ``::

        dg = output'(dŷ)                            (and dW, db of the output layer)
        dh = output_dropout'(dg) at the real positions, 0 at padding
        dx = GRU'(dh)                               (backpropagation through time)
        dq_seq = input_dropout'(dx), summed per item into the table (not into the padding row)

    The scores of every item after a user's latest item are ``output(h_last)`` (:meth:`last_states`).
    """

    input_spec = (
        Ids("seq", bound="n_ids", ndim=2),
        Ids("candidates", bound="n_items", ndim=2, optional=True),
    )

    def __init__(self, n_items: int, dim: int = 64, hidden: int = 100, dropout: float = 0.25, *,
                 dtype=np.float32, seed=None):  # fmt: skip
        rng = as_generator(seed)
        self.dtype = resolve_dtype(dtype)
        self.n_items, self.n_ids, self.padding_id = int(n_items), int(n_items) + 1, int(n_items)
        self.dim, self.hidden = int(dim), int(hidden)
        kw = {"dtype": self.dtype, "seed": rng}
        self.item_embedding = Embedding(self.n_ids, self.dim, padding_idx=self.padding_id, **kw)
        self.item_embedding.weight.data[...] = init.normal((self.n_ids, self.dim), 0.0, self.dim**-0.5, **kw)
        self.item_embedding.weight.data[self.padding_id] = 0.0
        self.input_dropout = Dropout(dropout, seed=rng)
        self.gru = GRU(self.dim, self.hidden, **kw)
        self.output_dropout = Dropout(dropout, seed=rng)
        self.output = ItemOutput(self.hidden, self.n_items, **kw)

    @staticmethod
    def state_shapes(n_items: int, dim: int, hidden: int) -> dict[str, tuple[int, ...]]:
        """The ``state_dict`` shapes of ``GRU4RecNet(n_items, dim, hidden)``, without building it."""
        g = 3 * hidden  # the GRU's three gates, stacked
        return {
            "item_embedding.weight": (n_items + 1, dim),
            "gru.weight_ih_l0": (g, dim), "gru.weight_hh_l0": (g, hidden), "gru.bias_ih_l0": (g,),
            "gru.bias_hh_l0": (g,), "output.weight": (n_items, hidden), "output.bias": (n_items,),
        }  # fmt: skip

    def check_inputs(self, seq, candidates=None) -> tuple:
        seq, candidates = super().check_inputs(seq, candidates)
        require(seq.shape[1] >= 1, "GRU4RecNet got sequences of length 0; each row needs a column")
        if candidates is not None:
            n_real = int(np.count_nonzero(seq != self.padding_id))
            require(len(candidates) == n_real, f"GRU4RecNet got {len(candidates)} rows of candidates for "
                    f"{n_real} real (non-padding) positions; give one row per real position")  # fmt: skip
        return seq, candidates

    def forward(self, seq: np.ndarray, candidates: np.ndarray | None = None) -> np.ndarray:
        """Logits at the ``M`` real positions of ``seq``: ``(M, n_items)``, or one per candidate."""
        real = seq != self.padding_id
        x = self.input_dropout.forward(self.item_embedding.forward(seq))  # (N, L, d)
        h, _ = self.gru.forward(x)  # (N, L, hidden)
        g = self.output_dropout.forward(h[real])  # (M, hidden)
        self._real, self._h_shape = real, h.shape
        return self.output.forward(g, candidates)

    def backward(self, grad_output: np.ndarray) -> tuple[None, None]:
        dg, _ = self.output.backward(grad_output)
        dh = np.zeros(self._h_shape, dtype=self.dtype)
        dh[self._real] = self.output_dropout.backward(dg)
        dx = self.gru.backward(dh)
        self.item_embedding.backward(self.input_dropout.backward(dx))
        return None, None

    def last_states(self, seq: np.ndarray) -> np.ndarray:
        """``(N, hidden)``: the GRU's state after each row's last item (right-padded rows; a row of
        padding only gives the state after one padding step)."""
        h, _ = self.gru.forward(self.input_dropout.forward(self.item_embedding.forward(seq)))
        last = np.maximum((seq != self.padding_id).sum(axis=1) - 1, 0)
        return h[np.arange(len(seq)), last]

    def extra_repr(self) -> str:
        return f"n_items={self.n_items}, dim={self.dim}, hidden={self.hidden}, dtype={self.dtype.name}"


_RULES = {
    "dim": positive_int, "hidden": positive_int, "loss": one_of("ce", "bpr", "bce"),
    "n_negatives": positive_int, "dropout": dropout_rate, "max_len": positive_int,
    **TRAINING_RULES,
}  # fmt: skip


class GRU4Rec(_SequenceRecommender):
    """GRU4Rec: a GRU over each user's items, scoring the next item (Hidasi et al., ICLR 2016).

    Parameters
    ----------
    dim : int, default 64
        The size of an item embedding.
    hidden : int, default 100
        The GRU's hidden size (GRU4Rec's 100 units).
    loss : {"ce", "bpr", "bce"}, default "ce"
        ``"ce"``: the softmax over every item at every position, cross-entropy of the true next
        item (:class:`~tinyrec.losses.CrossEntropyLoss` on the target indices: no one-hot is
        built). ``"bpr"``: the true next item against ``n_negatives`` sampled ones,
        ``−log σ(ŷ_pos − ŷ_neg)`` (:class:`~tinyrec.models.sequential.training.CandidateBPRLoss`).
        ``"bce"``: binary cross-entropy, positives and negatives weighing the same
        (:func:`~tinyrec.models.sequential.training.sampled_bce`).
    n_negatives : int, default 1
        Sampled negatives per position (``"bpr"`` and ``"bce"`` only).
    dropout : float in [0, 1), default 0.25
    max_len : int, default 200
        The most recent items read per user.
    n_epochs : int, default 30
        Passes over the users: about where the validation NDCG@10 of ML-100K (the latest train
        item of each user) stopped improving at the other defaults. ``fit(train, valid=...)``
        keeps the best epoch; the epochs each benchmark run kept are in
        ``benchmarks/results/bench_sequential.json``.
    batch_size : int, default 64
        Users per batch.
    lr : float, default 3e-3
        Adam's learning rate: 1e-3 reached the same validation NDCG@10 on ML-100K in about 2.5
        times as many epochs.
    weight_decay : float, default 0
    lazy_embeddings : bool, default True
        Row-sparse Adam on the tables a batch touches (the sampled losses' output rows, the item
        embeddings), or dense (False).
    protocol, monitor, patience, verbose, dtype, seed
        As :class:`~tinyrec.models.sequential.sasrec.SASRec`.

    Notes
    -----
    The network is :class:`GRU4RecNet`. Each user with at least two training items is one
    right-padded row, input ``s_1 … s_{n−1}`` (its last ``max_len``), target ``s_{t+1}`` at every
    position ``t``: the GRU is unrolled over the user's history, as in the user-based variants of
    GRU4Rec, rather than over session-parallel mini-batches. With ``"ce"`` the logits are computed
    at the ``M`` real positions of a batch only, ``(M, n_items)``: the loss of the ``(N, n_items, L)``
    logits of every position with the padding ignored (``CrossEntropyLoss(ignore_index=...)``),
    without scoring the padding. The score of item ``i`` for a user is ``h_last · w_i + b_i``,
    from the state after the user's latest item.

    Bad input: a user with one training item has no training position and is scored from that
    item; a user without training items gets the most popular items; ``recommend(history=...)``
    scores any list of items, an empty one giving the most popular.

    Attributes (after ``fit``)
    --------------------------
    net : GRU4RecNet
    sequence_indptr_, sequence_items_ : each user's items in time order (CSR)
    history_ : {"loss", "epoch_seconds", "val_<metric>" (with ``valid``)}
    """

    hyperparameters = _RULES
    _padding_side = "right"

    def __init__(self, dim: int = 64, hidden: int = 100, loss: str = "ce", *, n_negatives: int = 1,
                 dropout: float = 0.25, max_len: int = 200, n_epochs: int = 30, batch_size: int = 64,
                 lr: float = 3e-3, weight_decay: float = 0.0, lazy_embeddings: bool = True,
                 protocol: str = "sampled", monitor: str = "ndcg@10", patience=None, verbose: bool = False,
                 dtype=np.float32, seed=None):  # fmt: skip
        self.dim, self.hidden, self.loss, self.n_negatives = dim, hidden, loss, n_negatives
        self.dropout, self.max_len, self.n_epochs, self.batch_size = dropout, max_len, n_epochs, batch_size
        self.lr, self.weight_decay, self.lazy_embeddings = lr, weight_decay, lazy_embeddings
        self.protocol, self.monitor, self.patience = protocol, monitor, patience
        self.verbose, self.dtype, self.seed = verbose, dtype, seed
        self._check_hyperparameters()

    def _build_net(self, rng=None) -> None:
        rng = as_generator(self.seed) if rng is None else rng
        self.net = GRU4RecNet(self.n_items_, self.dim, self.hidden, self.dropout, dtype=self.dtype, seed=rng)

    def _network_shapes(self) -> dict:
        return GRU4RecNet.state_shapes(self.n_items_, self.dim, self.hidden)

    def _check_fit_memory(self) -> None:
        rows, L = min(self.batch_size, self.n_users_), self.max_len
        width = self.n_items_ if self.loss == "ce" else 1 + self.n_negatives
        batch = {
            "logits, log-probabilities and their gradient": ((3, rows * L, width), self.dtype),
            "the GRU's gates and states": ((8, rows, L, self.hidden), self.dtype),
        }
        check_network_fit_memory(self, batch, set_by=("hidden", "max_len", "batch_size", "loss"))

    def _batches(self, sequences, train, rng):
        users, inputs, targets = sequences.next_item_examples(self.max_len, side="right")
        n_negatives = 0 if self.loss == "ce" else self.n_negatives
        return NextItemBatches(train, users, inputs, targets, self.batch_size, n_negatives=n_negatives,
                               padding_id=self.n_items_, dtype=self.dtype, seed=rng)  # fmt: skip

    def _loss(self):
        if self.loss == "ce":
            return CrossEntropyLoss()
        return CandidateBPRLoss() if self.loss == "bpr" else sampled_bce(1, self.n_negatives)

    @property
    def _activations_per_row(self) -> int:
        return 5 * self.hidden * self.max_len  # a row's gates and states at every step

    def _scores_of_rows(self, users, rows) -> np.ndarray:
        last = self.net.last_states(rows)  # (n, hidden)
        return self.net.output.forward(last)

    def _item_vectors(self):
        return self.net.output.weight.data


__all__ = ["GRU4Rec", "GRU4RecNet"]
