"""Caser (Tang & Wang, "Personalized Top-N Sequential Recommendation via Convolutional Sequence
Embedding", WSDM 2018).

The embeddings of a user's ``L`` latest items form an ``L × d`` image. Horizontal filters (heights
1 … L, the full width ``d``) find patterns of consecutive items, max-pooled over time; vertical
filters (height ``L``, width 1) take weighted sums of the ``L`` embeddings. A dense layer turns both
into a vector ``z``, which, beside the user's own embedding, scores every item as one of the next
``T``.
"""

from __future__ import annotations

import numpy as np

from ...nn import init
from ...nn.activation import ReLU
from ...nn.conv import Conv2d
from ...nn.dropout import Dropout
from ...nn.embedding import Embedding
from ...nn.linear import Linear
from ...nn.module import Module
from ...nn.pool import AdaptiveMaxPool1d
from ...nn.spec import Ids, require
from ...validation import (
    as_generator,
    positive_int,
    resolve_dtype,
)
from ..checks import check_network_fit_memory
from ..multdae import dropout_rate
from .base import TRAINING_RULES, _SequenceRecommender
from .output import ItemOutput
from .training import WindowBatches, sampled_bce


class CaserNet(Module):
    """Caser's network: user and item embeddings, horizontal and vertical convolutions, two dense layers.

    Parameters
    ----------
    n_users, n_items : int
        Users and items; item id ``n_items`` is the padding (a zero embedding row, no gradient).
    window : int, default 5
        ``L``, the number of latest items read.
    dim : int, default 50
        ``d``: item and user embeddings, and the dense layer's output ``z``.
    n_vertical : int, default 4
        Vertical filters (``nv``).
    n_horizontal : int, default 16
        Horizontal filters of each height ``h = 1 … L`` (``nh``).
    dropout : float, default 0.5
        On the concatenated convolution features, before the dense layer.
    dtype : np.float32 (default) or np.float64
    seed : int or np.random.Generator
        The embeddings start as N(0, (1/d)²), the output vectors as N(0, (1/(2d))²) with zero
        biases (Caser's reference code); the convolutions and the dense layer as in torch.

    Attributes
    ----------
    user_embedding : Embedding(n_users, d)
    item_embedding : Embedding(n_items + 1, d), padding row ``n_items``
    vertical : Conv2d(1, nv, (L, 1))
    horizontal : list of Conv2d(1, nh, (h, d)), h = 1 … L, each with a ReLU and a max over time
    dropout : Dropout
    fc : Linear(nv·d + nh·L, d), then ReLU
    output : ItemOutput(2d, n_items)

    Notes
    -----
    Input ``users : (N,)``, ``windows : (N, L)`` left-padded item ids and ``candidates : (N, n_candidates)``.
    With ``img = q_windows : (N, 1, L, d)``, the windows' embeddings as one-channel images::

        o_v = vertical(img) flattened                         (N, nv·d)
        o_h = [max_t relu(horizontal_h(img))[:, :, t] for h = 1 … L]   (N, nh·L)
        z = relu(fc(dropout([o_v ; o_h])))                  (N, d)
        x = [z ; p_u]                                       (N, 2d)
        ŷ = output(x, candidates)                           (N, n_candidates)

    Backward, from ``dŷ``::

        dx = output'(dŷ);  dz = dx[:, :d];  dp_u = dx[:, d:]
        do = dropout'(fc'(relu'(dz)));  do_v = do[:, :nv·d];  do_h = do[:, nv·d:]
        dimg = vertical'(do_v) + Σ_h horizontal_h'(relu'(maxpool'(do_h[:, block h])))
        dq_windows = dimg, summed per item into the table (not into the padding row)

    The gradient of a max over time goes to the position that won it (the first one on ties).
    :meth:`encode` gives ``x`` of every row; ``output(x)`` then scores every item.
    """

    input_spec = (
        Ids("users", bound="n_users", ndim=1),
        Ids("windows", bound="n_ids", ndim=2),
        Ids("candidates", bound="n_items", ndim=2),
    )

    def __init__(self, n_users: int, n_items: int, window: int = 5, dim: int = 50, n_vertical: int = 4,
                 n_horizontal: int = 16, dropout: float = 0.5, *, dtype=np.float32, seed=None):  # fmt: skip
        rng = as_generator(seed)
        self.dtype = resolve_dtype(dtype)
        self.n_users, self.n_items, self.n_ids = int(n_users), int(n_items), int(n_items) + 1
        self.padding_id, self.window, self.dim = int(n_items), int(window), int(dim)
        kw = {"dtype": self.dtype, "seed": rng}
        self.user_embedding = Embedding(self.n_users, self.dim, **kw)
        self.item_embedding = Embedding(self.n_ids, self.dim, padding_idx=self.padding_id, **kw)
        for table in (self.user_embedding, self.item_embedding):
            table.weight.data[...] = init.normal(table.weight.shape, 0.0, 1.0 / self.dim, **kw)
        self.item_embedding.weight.data[self.padding_id] = 0.0
        self.vertical = Conv2d(1, n_vertical, (self.window, 1), **kw)
        self.horizontal = [Conv2d(1, n_horizontal, (h, self.dim), **kw) for h in range(1, self.window + 1)]
        self.conv_activations = [ReLU() for _ in self.horizontal]
        self.pools = [AdaptiveMaxPool1d(1) for _ in self.horizontal]
        self.dropout = Dropout(dropout, seed=rng)
        self.n_vertical, self.n_horizontal = int(n_vertical), int(n_horizontal)
        self.fc = Linear(self.n_vertical * self.dim + self.n_horizontal * self.window, self.dim, **kw)
        self.fc_activation = ReLU()
        self.output = ItemOutput(2 * self.dim, self.n_items, init_std=1.0 / (2 * self.dim), **kw)

    @staticmethod
    def state_shapes(n_users, n_items, window, dim, n_vertical, n_horizontal) -> dict[str, tuple[int, ...]]:
        """The ``state_dict`` shapes of ``CaserNet(...)`` with these sizes, without building it."""
        shapes = {
            "user_embedding.weight": (n_users, dim), "item_embedding.weight": (n_items + 1, dim),
            "vertical.weight": (n_vertical, 1, window, 1), "vertical.bias": (n_vertical,),
        }  # fmt: skip
        for j in range(window):  # horizontal.j has height j + 1
            shapes.update(
                {
                    f"horizontal.{j}.weight": (n_horizontal, 1, j + 1, dim),
                    f"horizontal.{j}.bias": (n_horizontal,),
                }
            )
        fc_in = n_vertical * dim + n_horizontal * window
        return {**shapes, "fc.weight": (dim, fc_in), "fc.bias": (dim,), "output.weight": (n_items, 2 * dim),
                "output.bias": (n_items,)}  # fmt: skip

    def check_inputs(self, users, windows, candidates) -> tuple:
        users, windows, candidates = super().check_inputs(users, windows, candidates)
        require(
            windows.shape[1] == self.window,
            f"CaserNet reads windows of {self.window} items, got rows of "
            f"{windows.shape[1]}; left-pad shorter histories and keep the latest {self.window} items",
        )
        require(
            len(users) == len(windows) == len(candidates),
            f"CaserNet got {len(users)} users, "
            f"{len(windows)} windows and {len(candidates)} rows of candidates; one of each per example",
        )
        return users, windows, candidates

    def encode(self, users: np.ndarray, windows: np.ndarray) -> np.ndarray:
        """``x = [z ; p_u] : (N, 2d)`` of each example (see Notes)."""
        N = len(windows)
        img = self.item_embedding.forward(windows)[:, None]  # (N, 1, L, d): one channel
        o_v = self.vertical.forward(img).reshape(N, -1)  # (N, nv, 1, d) -> (N, nv·d)
        o_h = []
        for conv, relu, pool in zip(self.horizontal, self.conv_activations, self.pools, strict=True):
            a = relu.forward(conv.forward(img)[:, :, :, 0])  # (N, nh, L − h + 1)
            o_h.append(pool.forward(a)[:, :, 0])  # (N, nh): the max over time
        features = self.dropout.forward(np.concatenate([o_v, *o_h], axis=1))  # (N, nv·d + nh·L)
        z = self.fc_activation.forward(self.fc.forward(features))  # (N, d)
        return np.concatenate([z, self.user_embedding.forward(users)], axis=1)  # (N, 2d)

    def encode_backward(self, dx: np.ndarray) -> None:
        """The gradient of :meth:`encode`'s ``x``, down to the tables."""
        self.user_embedding.backward(dx[:, self.dim :])  # dp_u
        dz = dx[:, : self.dim]
        do = self.dropout.backward(self.fc.backward(self.fc_activation.backward(dz)))  # [do_v ; do_h]
        nv_d, nh = self.n_vertical * self.dim, self.n_horizontal
        dimg = self.vertical.backward(do[:, :nv_d].reshape(-1, self.n_vertical, 1, self.dim))
        for j, (conv, relu, pool) in enumerate(
            zip(self.horizontal, self.conv_activations, self.pools, strict=True)
        ):
            da = pool.backward(do[:, nv_d + j * nh : nv_d + (j + 1) * nh, None])  # (N, nh, L − h + 1)
            dimg += conv.backward(relu.backward(da)[:, :, :, None])
        self.item_embedding.backward(dimg[:, 0])

    def forward(self, users: np.ndarray, windows: np.ndarray, candidates: np.ndarray) -> np.ndarray:
        """Logits ``(N, n_candidates)`` of ``candidates`` for each ``(user, window)``."""
        return self.output.forward(self.encode(users, windows), candidates)

    def backward(self, grad_output: np.ndarray) -> tuple[None, None, None]:
        dx, _ = self.output.backward(grad_output)
        self.encode_backward(dx)
        return None, None, None

    def extra_repr(self) -> str:
        return (f"n_users={self.n_users}, n_items={self.n_items}, window={self.window}, dim={self.dim}, "
                f"dtype={self.dtype.name}")  # fmt: skip


_RULES = {
    "window": positive_int, "n_targets": positive_int, "dim": positive_int, "n_vertical": positive_int,
    "n_horizontal": positive_int, "dropout": dropout_rate, "n_negatives": positive_int,
    **TRAINING_RULES,
}  # fmt: skip


class Caser(_SequenceRecommender):
    """Caser: convolutional sequence embedding (Tang & Wang, WSDM 2018), with the reference code's defaults.

    Parameters
    ----------
    window : int, default 5
        ``L``, the latest items read (the Markov order).
    n_targets : int, default 3
        ``T``, the next items each training window predicts.
    dim : int, default 50
        ``d``.
    n_vertical : int, default 4
    n_horizontal : int, default 16
        Filters of each height ``1 … L``.
    dropout : float in [0, 1), default 0.5
    n_negatives : int, default 3
        Sampled negatives per target: each window has ``n_negatives · T``.
    n_epochs : int, default 20
        About where the validation NDCG@10 of ML-100K (the latest train item of each user)
        stopped improving at the other defaults (the reference code's 50 over-fit it).
        ``fit(train, valid=...)`` keeps the best epoch; the epochs each benchmark run kept are in
        ``benchmarks/results/bench_sequential.json``.
    batch_size : int, default 512
        Windows per batch.
    lr : float, default 1e-3
    weight_decay : float, default 1e-6
        Adam's L2 penalty (the reference code's ``l2``).
    lazy_embeddings : bool, default True
    protocol, monitor, patience, verbose, dtype, seed
        As :class:`~tinyrec.models.sequential.sasrec.SASRec`.

    Notes
    -----
    The network is :class:`CaserNet`. Training examples are windows of ``L + T`` consecutive
    items of each user (:meth:`~tinyrec.data.sequences.Sequences.windows`); a window's ``T`` targets
    are positives, ``n_negatives · T`` items the user never interacted with are negatives, and

        ℒ = mean over targets of −log σ(ŷ) + mean over negatives of −log(1 − σ(ŷ))

    (:func:`~tinyrec.models.sequential.training.sampled_bce`). The score of item ``i`` for a user
    is ``[z ; p_u] · w_i + b_i``, with ``z`` read from the user's latest ``L`` items. A user
    without training interactions, or an anonymous ``recommend(None, history=...)``, has no
    trained ``p_u``: its half of ``x`` is zero. So is it for a user whose training history gives no
    window: its row of the user table starts at zero and no gradient reaches it.

    Bad input: a history of ``T`` items or fewer gives no training window (it is still scored
    from its items, with no user term); a user without training items gets the most popular items;
    ``recommend(history=...)`` with an empty list gives the most popular items.

    Attributes (after ``fit``)
    --------------------------
    net : CaserNet
    sequence_indptr_, sequence_items_ : each user's items in time order (CSR)
    history_ : {"loss", "epoch_seconds", "val_<metric>" (with ``valid``)}
    """

    hyperparameters = _RULES
    _trim_padding = False

    def __init__(self, window: int = 5, n_targets: int = 3, dim: int = 50, *, n_vertical: int = 4,
                 n_horizontal: int = 16, dropout: float = 0.5, n_negatives: int = 3, n_epochs: int = 20,
                 batch_size: int = 512, lr: float = 1e-3, weight_decay: float = 1e-6,
                 lazy_embeddings: bool = True,
                 protocol: str = "sampled", monitor: str = "ndcg@10", patience=None, verbose: bool = False,
                 dtype=np.float32, seed=None):  # fmt: skip
        self.window, self.n_targets, self.dim = window, n_targets, dim
        self.n_vertical, self.n_horizontal, self.dropout = n_vertical, n_horizontal, dropout
        self.n_negatives, self.n_epochs, self.batch_size, self.lr = n_negatives, n_epochs, batch_size, lr
        self.weight_decay, self.lazy_embeddings = weight_decay, lazy_embeddings
        self.protocol, self.monitor, self.patience = protocol, monitor, patience
        self.verbose, self.dtype, self.seed = verbose, dtype, seed
        self._check_hyperparameters()

    @property
    def _input_length(self) -> int:
        return self.window

    def _build_net(self, rng=None) -> None:
        rng = as_generator(self.seed) if rng is None else rng
        self.net = CaserNet(self.n_users_, self.n_items_, self.window, self.dim, self.n_vertical,
                            self.n_horizontal, self.dropout, dtype=self.dtype, seed=rng)  # fmt: skip

    def _network_shapes(self) -> dict:
        return CaserNet.state_shapes(self.n_users_, self.n_items_, self.window, self.dim, self.n_vertical,
                                     self.n_horizontal)  # fmt: skip

    def _check_fit_memory(self) -> None:
        rows = self.batch_size
        features = self.n_vertical * self.dim + self.n_horizontal * self.window
        batch = {
            "a batch's windows, convolutions and features": (
                (4 * self.window + 4, rows, features),
                self.dtype,
            )
        }
        check_network_fit_memory(self, batch, set_by=("window", "dim", "n_horizontal", "batch_size"))

    def _start(self, train):
        batches = super()._start(train)
        # a user without a training window (T items or fewer) never trains its p_u: it starts, and
        # stays, zero, so its scores have no user term, as those of a user without training items
        untrained = np.ones(self.n_users_, dtype=bool)
        untrained[batches.users] = False
        self.net.user_embedding.weight.data[untrained] = 0.0
        return batches

    def _batches(self, sequences, train, rng):
        users, inputs, targets = sequences.windows(self.window, self.n_targets)
        return WindowBatches(train, users, inputs, targets, self.batch_size, n_negatives=self.n_negatives,
                             dtype=self.dtype, seed=rng)  # fmt: skip

    def _loss(self):
        return sampled_bce(self.n_targets, self.n_negatives * self.n_targets)

    def _scores_of_rows(self, users, rows) -> np.ndarray:
        known = (users >= 0) & (self.user_counts_[np.maximum(users, 0)] > 0)
        x = self.net.encode(np.maximum(users, 0), rows)  # (n, 2d)
        x[~known, self.dim :] = 0.0  # no trained user vector: no user term
        return self.net.output.forward(x)

    def _item_vectors(self):
        return self.net.output.weight.data


__all__ = ["Caser", "CaserNet"]
