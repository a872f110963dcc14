"""Mult-DAE (Liang, Krishnan, Hoffman and Jebara, "Variational Autoencoders for Collaborative
Filtering", WWW 2018).

A denoising autoencoder of each user's interaction row ``r_u ∈ {0, 1}^{n_items}`` (``r_ui = 1``
when ``u`` interacted with ``i``): the row is normalised to unit length, corrupted by dropout,
encoded by one tanh layer and decoded into one logit per item; a softmax over **all** items turns
the logits into a multinomial distribution ``π(r_u)``, and training maximises the multinomial
log-likelihood of the user's items, ``log p(r_u) = Σ_i r_ui log π_i(r_u)`` (Liang et al. write
``x_u`` for the row). Items are ranked by their logits. This is the
principled form of "a dense layer, then a softmax over items".
"""

from __future__ import annotations

import numbers

import numpy as np

from ..losses import CrossEntropyLoss
from ..nn.activation import Tanh
from ..nn.dropout import Dropout
from ..nn.linear import Linear
from ..nn.module import Module
from ..nn.spec import Floats
from ..validation import (
    as_generator,
    check_choice,
    flag,
    float_dtype,
    nonnegative,
    one_of,
    optional,
    positive_int,
    resolve_dtype,
    seed_like,
)
from .autoencoder_training import AdamGroups, RowBatches, dense_rows, score_pairs
from .base import Recommender
from .checks import check_network_fit_memory
from .training import fit_recommender, monitored_names

_BLOCK = 1 << 21  # entries of a dense block of rows when scoring (8 MB in float32)
_EPS = 1e-12  # the smallest norm divided by (torch.nn.functional.normalize's default eps)


def dropout_rate(value, name: str) -> float:
    """The rule "a number in [0, 1)" (``p = 1`` would drop every input)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be a number in [0, 1), got {value!r}")
    return float(value)


def metric_at_k(value, name: str) -> str:
    """The rule "a ranking metric with a cut-off", such as ``"ndcg@100"``."""
    metric, _, k = value.partition("@") if isinstance(value, str) else ("", "", "")
    if not metric or not k.isdigit() or int(k) < 1:
        raise ValueError(
            f"{name} must be a ranking metric with a cut-off, such as 'ndcg@100' or 'recall@20'; "
            f"got {value!r}"
        )
    return value


class MultDAENet(Module):
    """The Mult-DAE network: L2 normalisation, input dropout, a tanh layer, one logit per item.

    Parameters
    ----------
    n_items : int
        The length of an interaction row (and the number of logits).
    hidden : int, default 200
        The width of the tanh layer (the paper's ``[n_items → 200 → n_items]``).
    dropout : float, default 0.5
        Probability of zeroing each input entry in training (the denoising corruption).
    dtype : np.float32 (default) or np.float64
    seed : None, int or np.random.Generator
        Seeds the weights and the dropout masks.

    Attributes
    ----------
    dropout : Dropout
    encoder : Linear(n_items, hidden)
    activation : Tanh
    decoder : Linear(hidden, n_items)

    Notes
    -----
    Shapes: ``X, X̃, D, Y : (batch, n_items)``; ``Z, A : (batch, hidden)``; ``ν : (batch, 1)``.

    * forward: ``ν = max(‖x‖₂, eps)`` per row ``x`` of ``X``, ``X̃ = X / ν``, ``D = dropout(X̃)``,
      ``Z = D Wₑᵀ + bₑ``, ``A = tanh(Z)``, ``Y = A W_dᵀ + b_d`` (the logits)
    * decoder: ``dW_d = dYᵀ A``, ``db_d = Σ_rows dY``, ``dA = dY W_d``
    * tanh: ``dZ = dA ⊙ (1 − A²)``
    * encoder: ``dWₑ = dZᵀ D``, ``dbₑ = Σ_rows dZ``, ``dD = dZ Wₑ``
    * dropout: ``dX̃ = dD ⊙ M / (1 − p)`` (the mask of the forward; identity in eval mode)
    * normalisation: ``dX = (dX̃ − X̃ · Σ_j X̃_j dX̃_j) / ν`` where ``‖x‖ > eps`` (the Jacobian of
      ``x / ‖x‖`` is ``(I − x̃ x̃ᵀ) / ‖x‖``), and ``dX = dX̃ / eps`` for a row of norm at most
      ``eps``.

    ``eps = 1e-12`` as ``torch.nn.functional.normalize``: an all-zero row stays zero.
    ``backward`` calls the layers' ``backward`` in reverse order and returns ``dX``.
    """

    input_spec = (Floats("x", ndim=2, last="n_items"),)

    def __init__(self, n_items: int, hidden: int = 200, dropout: float = 0.5, *, dtype=np.float32, seed=None):
        rng = as_generator(seed)
        self.dtype = resolve_dtype(dtype)
        self.dropout = Dropout(dropout, seed=rng)
        self.encoder = Linear(n_items, hidden, dtype=self.dtype, seed=rng)
        self.activation = Tanh()
        self.decoder = Linear(hidden, n_items, dtype=self.dtype, seed=rng)
        self._x_unit = self._norm = None

    @property
    def n_items(self) -> int:
        return self.encoder.in_features

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Logits ``Y : (batch, n_items)`` of the interaction rows ``X : (batch, n_items)``."""
        norm = np.sqrt(np.einsum("bi,bi->b", x, x))[:, None]  # (batch, 1)
        self._norm = np.maximum(norm, self.dtype.type(_EPS))
        self._x_unit = x / self._norm  # (batch, n_items) / (batch, 1)
        dropped = self.dropout.forward(self._x_unit)  # D
        return self.decoder.forward(self.activation.forward(self.encoder.forward(dropped)))

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        """``dX`` from ``dY`` (the gradient of the logits); accumulates the four parameter gradients."""
        x_unit, norm = self._x_unit, self._norm
        dh = self.decoder.backward(grad_output)  # dA : (batch, hidden)
        dz = self.activation.backward(dh)  # (batch, hidden)
        dx_unit = self.dropout.backward(self.encoder.backward(dz))  # (batch, n_items)
        inner = np.einsum("bi,bi->b", x_unit, dx_unit)[:, None]  # (batch, 1): X̃ · dX̃ per row
        clamped = norm <= _EPS  # (batch, 1): rows divided by eps, a constant
        return np.where(clamped, dx_unit, dx_unit - x_unit * inner) / norm

    def extra_repr(self) -> str:
        n_items, hidden = self.encoder.in_features, self.encoder.out_features
        return f"n_items={n_items}, hidden={hidden}, dropout={self.dropout.p}, dtype={self.dtype.name}"

    @staticmethod
    def state_shapes(n_items: int, hidden: int) -> dict[str, tuple[int, ...]]:
        """The ``state_dict`` shapes of ``MultDAENet(n_items, hidden)``, without building it."""
        return {"encoder.weight": (hidden, n_items), "encoder.bias": (hidden,),
                "decoder.weight": (n_items, hidden), "decoder.bias": (n_items,)}  # fmt: skip


class MultDAE(Recommender):
    """Mult-DAE top-N recommendation (Liang et al., WWW 2018): a denoising autoencoder with a softmax.

    Parameters
    ----------
    hidden : int, default 200
        The width of the tanh layer.
    n_epochs : int, default 60
        Passes over the users (60 was the best epoch on a validation split of ML-100K at the
        other defaults; the figures at the defaults: ``benchmarks/RESULTS.md``, section
        bench_autoencoders).
    dropout : float, default 0.5
        Input dropout probability (the paper's 0.5).
    batch_size : int, default 100
        Users per batch.
    lr : float, default 1e-3
        Adam's learning rate.
    weight_decay : float, default 1e-4
        ``λ``: L2 penalty ``(λ/2)‖W‖²`` on the two weight matrices (Adam's coupled decay; the
        biases are not decayed, as in the paper).
    protocol : {"full", "sampled"}, default "full"
        How ``fit(train, valid=...)`` evaluates after each epoch.
    monitor : str, default "ndcg@100"
        The validation metric that picks the best epoch; its cut-off (after ``@``) is the ``k``
        of the validation metrics.
    patience : int, optional
        Stop when ``monitor`` has not improved for this many epochs (needs ``valid``).
    verbose : bool, default False
        Progress bar with the running loss on stderr.
    dtype : np.float32 (default) or np.float64
    seed : int or np.random.Generator, optional
        Seeds the weights, the dropout masks and the order of the users.

    Notes
    -----
    Implicit feedback: ``r_ui = 1`` when user ``u`` interacted with item ``i`` in training (the
    rating values and repeats are ignored), 0 otherwise. With the logits ``ŷ_u = net(r_u)`` of
    :class:`MultDAENet` and ``π_u = softmax(ŷ_u)`` over all ``n_items``, each batch ``B`` of users
    minimises

        ℒ = −(1/|B|) Σ_{u∈B} Σ_i r_ui log π_ui  +  (λ/2)(‖Wₑ‖² + ‖W_d‖²),

    the multinomial negative log-likelihood (:class:`~tinyrec.losses.CrossEntropyLoss` with the
    rows ``r_u`` as unnormalised targets), whose gradient is
    ``dŷ_ui = (π_ui Σ_j r_uj − r_ui) / |B|``.

    Scores: :meth:`score_all` is the logits of the user's (uncorrupted) training row, in
    evaluation mode; they order the items as ``π`` does. The paper scores held-out users by feeding
    their rows to the trained network (strong generalisation); here, as for every tinyrec
    recommender, the users scored are the users trained on (weak generalisation). A user without
    training interactions has an all-zero row; :meth:`recommend` gives such users the most popular
    items.

    Attributes (after ``fit``)
    --------------------------
    net : MultDAENet
    history_ : {"loss", "epoch_seconds", "val_<metric>" (with ``valid``)}
    """

    hyperparameters = {
        "hidden": positive_int, "n_epochs": positive_int, "dropout": dropout_rate, "batch_size": positive_int,
        "lr": nonnegative, "weight_decay": nonnegative,
        "protocol": one_of("full", "sampled"),  # MultDAE ranks items
        "monitor": metric_at_k,  # and among the metrics of protocol: _check_hyperparameters
        "patience": optional(positive_int), "verbose": flag, "dtype": float_dtype, "seed": seed_like,
    }  # fmt: skip
    task = "ranking"
    #: The training rows (each user's distinct items) as CSR: the network's inputs when scoring.
    _array_names = ("row_indptr_", "row_indices_")

    def __init__(self, hidden: int = 200, n_epochs: int = 60, *, dropout: float = 0.5, batch_size: int = 100,
                 lr: float = 1e-3, weight_decay: float = 1e-4, protocol: str = "full",
                 monitor: str = "ndcg@100", patience=None, verbose: bool = False, dtype=np.float32,
                 seed=None):  # fmt: skip
        self.hidden, self.n_epochs, self.dropout, self.batch_size = hidden, n_epochs, dropout, batch_size
        self.lr, self.weight_decay, self.protocol, self.monitor = lr, weight_decay, protocol, monitor
        self.patience, self.verbose, self.dtype, self.seed = patience, verbose, dtype, seed
        self._check_hyperparameters()

    def _check_hyperparameters(self) -> None:
        """The table's rules, then ``monitor`` among the metrics ``protocol`` returns at its cut-off."""
        super()._check_hyperparameters()
        check_choice(self.monitor, "monitor", monitored_names(self.protocol, self._k))

    @property
    def _k(self) -> int:
        """The cut-off of ``monitor`` (100 for ``"ndcg@100"``): the ``k`` of the validation metrics."""
        return int(self.monitor.partition("@")[2])

    def _array_layout(self):
        shapes, index_lists = super()._array_layout()
        shapes.update(row_indptr_=(self.n_users_ + 1,), row_indices_=(None,))  # a user's items
        index_lists.append(("row_indptr_", "row_indices_", self.n_items_))
        return shapes, index_lists

    def _build_net(self, rng=None) -> None:
        rng = as_generator(self.seed) if rng is None else rng
        self.net = MultDAENet(self.n_items_, self.hidden, self.dropout, dtype=self.dtype, seed=rng)

    def _network_shapes(self) -> dict:
        return MultDAENet.state_shapes(self.n_items_, self.hidden)

    def _invariants(self) -> dict[str, bool]:
        same = all(np.array_equal(a, b) for a, b in ((self.row_indptr_, self.seen_indptr_),
                                                       (self.row_indices_, self.seen_indices_)))  # fmt: skip
        return {"the input rows (row_indptr_, row_indices_) are the seen items (seen_indptr_, ...)": same}

    def _fit(self, train, valid) -> None:
        rows = min(self.batch_size, self.n_users_)
        batch = {"a batch's inputs, dropout, output, gradients": ((5, rows, self.n_items_), self.dtype)}
        check_network_fit_memory(self, batch, set_by=("hidden", "batch_size"))
        rng = as_generator(self.seed)
        self._build_net(rng)
        self.row_indptr_, self.row_indices_ = self.seen_indptr_, self.seen_indices_
        ones = np.ones(len(self.row_indices_), dtype=self.dtype)
        batches = RowBatches(self.row_indptr_, self.row_indices_, ones, self.n_items_,
                             np.flatnonzero(self.user_counts_), self.batch_size, dtype=self.dtype,
                             seed=rng)  # fmt: skip
        optimizer = AdamGroups(self.net, self.lr, self.weight_decay)
        self.history_ = fit_recommender(
            self, train, batches, optimizer, CrossEntropyLoss(), self.n_epochs, valid=valid,
            protocol=self.protocol, monitor=self.monitor, k=self._k, patience=self.patience,
            verbose=self.verbose,
        )  # fmt: skip

    def _logits(self, users: np.ndarray) -> np.ndarray:
        self.net.eval()
        ones = np.ones(len(self.row_indices_), dtype=self.dtype)
        x = dense_rows(self.row_indptr_, self.row_indices_, ones, users, self.n_items_, dtype=self.dtype)
        return self.net.forward(x)  # (len(users), n_items); the users were checked by predict / score_all

    def _score(self, users, items) -> np.ndarray:
        return score_pairs(self._logits, users, items, self.n_items_, block=_BLOCK)

    def _score_all(self, users) -> np.ndarray:
        out = np.empty((len(users), self.n_items_), dtype=np.float64)
        step = max(1, _BLOCK // self.n_items_)  # users per forward
        for s in range(0, len(users), step):
            out[s : s + step] = self._logits(users[s : s + step])
        return out

    def _item_vectors(self):
        """The decoder's rows ``W_d : (n_items, hidden)``: each item's output vector."""
        return self.net.decoder.weight.data


__all__ = ["MultDAE", "MultDAENet"]
