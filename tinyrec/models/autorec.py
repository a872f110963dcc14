"""AutoRec (Sedhain, Menon, Sanner and Xie, "AutoRec: Autoencoders Meet Collaborative Filtering", WWW 2015).

An autoencoder of the rows of the rating matrix. I-AutoRec (the default, and the better of the two
in the paper) encodes each **item** by the vector of its ratings by all users,
``r_i ∈ ℝ^{n_users}`` (0 where unobserved), into ``hidden`` sigmoid units and decodes it back:

    h(r_i) = W σ(V r_i + b_enc) + b

and predicts ``r̂_ui = h(r_i)_u``. The network is trained on the observed entries only: the
unobserved ones are 0 in the input and are ignored by the loss
(:class:`~tinyrec.losses.MaskedMSELoss`). U-AutoRec (``item_based=False``) does the same with the
users' rows ``r_u ∈ ℝ^{n_items}``. Every product is a dense matrix product over a batch of rows.
"""

from __future__ import annotations

import numpy as np

from ..losses import MaskedMSELoss
from ..nn.activation import Sigmoid
from ..nn.linear import Linear
from ..nn.module import Module
from ..nn.spec import Floats
from ..validation import (
    as_generator,
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
from .persistence import increasing_within
from .training import fit_recommender

_BLOCK = 1 << 21  # entries of a dense block of rows when scoring (8 MB in float32)


class AutoRecNet(Module):
    """The AutoRec network: one sigmoid hidden layer between two Linear layers.

    Parameters
    ----------
    n_inputs : int
        The length of a row (``n_users`` for I-AutoRec, ``n_items`` for U-AutoRec).
    hidden : int, default 500
        The number of hidden units.
    dtype : np.float32 (default) or np.float64
    seed : None, int or np.random.Generator
        Seeds both Linear layers (torch's initialisation).

    Attributes
    ----------
    encoder : Linear(n_inputs, hidden)
        ``V : (hidden, n_inputs)`` and ``b_enc : (hidden,)``.
    activation : Sigmoid
    decoder : Linear(hidden, n_inputs)
        ``W : (n_inputs, hidden)`` and ``b : (n_inputs,)``.

    Notes
    -----
    Shapes: ``X : (batch, n_inputs)`` (a batch of rows, 0 at unobserved entries);
    ``Z, A : (batch, hidden)``; ``Y : (batch, n_inputs)``.

    * forward: ``Z = X Vᵀ + b_enc``, ``A = σ(Z)``, ``Y = A Wᵀ + b``
    * ``dW = dYᵀ A``, ``db = Σ_rows dY``, ``dA = dY W``            (decoder)
    * ``dZ = dA ⊙ A ⊙ (1 − A)``                                  (sigmoid)
    * ``dV = dZᵀ X``, ``db_enc = Σ_rows dZ``, ``dX = dZ V``       (encoder)

    ``backward`` calls the three layers' ``backward`` in this reverse order and returns ``dX``.
    With :class:`~tinyrec.losses.MaskedMSELoss`, ``dY`` is zero at the unobserved entries, so only
    observed ratings move the weights — exactly the paper's objective.
    """

    input_spec = (Floats("x", ndim=2, last="n_inputs"),)

    def __init__(self, n_inputs: int, hidden: int = 500, *, dtype=np.float32, seed=None):
        rng = as_generator(seed)
        self.dtype = resolve_dtype(dtype)
        self.encoder = Linear(n_inputs, hidden, dtype=self.dtype, seed=rng)
        self.activation = Sigmoid()
        self.decoder = Linear(hidden, n_inputs, dtype=self.dtype, seed=rng)

    @property
    def n_inputs(self) -> int:
        return self.encoder.in_features

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Reconstructions ``Y : (batch, n_inputs)`` of the rows ``X : (batch, n_inputs)``."""
        return self.decoder.forward(self.activation.forward(self.encoder.forward(x)))

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        """``dX`` from ``dY``; accumulates ``dW, db, dV, db_enc``."""
        dh = self.decoder.backward(grad_output)  # dA : (batch, hidden)
        dz = self.activation.backward(dh)  # (batch, hidden)
        return self.encoder.backward(dz)  # (batch, n_inputs)

    def extra_repr(self) -> str:
        n_inputs, hidden = self.encoder.in_features, self.encoder.out_features
        return f"n_inputs={n_inputs}, hidden={hidden}, dtype={self.dtype.name}"

    @staticmethod
    def state_shapes(n_inputs: int, hidden: int) -> dict[str, tuple[int, ...]]:
        """The ``state_dict`` shapes of ``AutoRecNet(n_inputs, hidden)``, without building it."""
        return {"encoder.weight": (hidden, n_inputs), "encoder.bias": (hidden,),
                "decoder.weight": (n_inputs, hidden), "decoder.bias": (n_inputs,)}  # fmt: skip


class AutoRec(Recommender):
    """AutoRec rating prediction (Sedhain et al., WWW 2015): item-based (I-AutoRec) or user-based.

    Parameters
    ----------
    hidden : int, default 500
        Hidden units (the paper's 500).
    n_epochs : int, default 40
        Passes over the rows.
    item_based : bool, default True
        True: I-AutoRec (rows are items, of length ``n_users``); False: U-AutoRec (rows are users).
    batch_size : int, default 256
        Rows per batch.
    lr : float, default 2e-3
        Adam's learning rate.
    weight_decay : float, default 1e-3
        ``λ``, the L2 penalty on the two weight matrices ``V`` and ``W`` (Adam's coupled
        ``weight_decay``: ``λ θ`` is added to their gradients; the biases are not decayed, as in the
        paper); see Notes for its scale.
    protocol : {"rating"}, default "rating"
        How ``fit(train, valid=...)`` evaluates after each epoch.
    monitor : {"rmse", "mae"}, default "rmse"
        The validation metric that picks the best epoch (whose weights are kept).
    patience : int, optional
        Stop when ``monitor`` has not improved for this many epochs (needs ``valid``).
    verbose : bool, default False
        Progress bar with the running loss on stderr.
    dtype : np.float32 (default) or np.float64
    seed : int or np.random.Generator, optional
        Seeds the weights and the order of the rows: same seed, same model.

    Notes
    -----
    The paper minimises ``Σ_i ‖r_i − h(r_i)‖²_O + (λ/2)(‖W‖² + ‖V‖²)`` over the observed entries
    ``O``. Here each batch ``B`` of rows minimises the **mean** squared error over its observed
    entries plus ``(λ/2)(‖W‖² + ‖V‖²)`` (:class:`~tinyrec.losses.MaskedMSELoss` and Adam with
    ``weight_decay=λ`` on the weights). Summed over an epoch this is, up to the batch-to-batch
    variation of ``|O_B|``, the paper's objective divided by ``|O|``: ``λ`` here is
    ``λ_paper / |O|`` (1e-3 ↔ ``λ_paper ≈ 80`` for a fold's 80,000 ML-100K ratings), and a batch's
    gradient does not grow with the number of ratings it holds. The network and its gradients are
    those of :class:`AutoRecNet`. The paper trains with L-BFGS or Rprop on the whole matrix; here
    mini-batch Adam. The defaults (hidden 500, 40 epochs, batch 256, lr 2e-3, λ = 1e-3) were
    chosen on a validation split carved from the ML-100K ``u1`` fold's training ratings; the mean
    RMSE over the folds ``u1``–``u5`` at these defaults is in ``benchmarks/RESULTS.md``, section
    bench_autoencoders.

    Prediction: ``r̂_ui = h(r_i)_u`` (I-AutoRec) or ``h(r_u)_i`` (U-AutoRec), where ``r_i`` is the
    item's row of **training** ratings, clipped to the training rating range. A user or an item
    without training ratings (an all-zero row, or an output unit that was never trained) is
    predicted the global mean ``μ``; :meth:`recommend` gives unknown users the most popular items.
    :meth:`score_all` of I-AutoRec forwards every item's row (its cost does not shrink with the
    number of users asked); :meth:`predict` forwards each distinct row of the pairs once.

    Attributes (after ``fit``)
    --------------------------
    net : AutoRecNet
    history_ : {"loss", "epoch_seconds", "val_rmse", "val_mae" (with ``valid``)}
    """

    hyperparameters = {
        "hidden": positive_int, "n_epochs": positive_int, "item_based": flag, "batch_size": positive_int,
        "lr": nonnegative, "weight_decay": nonnegative,
        "protocol": one_of("rating"),  # AutoRec predicts ratings
        "monitor": one_of("rmse", "mae"), "patience": optional(positive_int), "verbose": flag,
        "dtype": float_dtype, "seed": seed_like,
    }  # fmt: skip
    task = "rating"
    #: The training rows as CSR: the network's inputs at prediction time, saved with the model.
    _array_names = ("row_indptr_", "row_indices_", "row_values_")

    def __init__(self, hidden: int = 500, n_epochs: int = 40, *, item_based: bool = True,
                 batch_size: int = 256, lr: float = 2e-3, weight_decay: float = 1e-3,
                 protocol: str = "rating", monitor: str = "rmse", patience=None, verbose: bool = False,
                 dtype=np.float32, seed=None):  # fmt: skip
        self.hidden, self.n_epochs, self.item_based = hidden, n_epochs, item_based
        self.batch_size, self.lr, self.weight_decay = batch_size, lr, weight_decay
        self.protocol, self.monitor = protocol, monitor
        self.patience, self.verbose, self.dtype, self.seed = patience, verbose, dtype, seed
        self._check_hyperparameters()

    # -- the network and its rows -------------------------------------------------------------------
    @property
    def _n_inputs(self) -> int:
        return self.n_users_ if self.item_based else self.n_items_

    def _array_layout(self):
        shapes, index_lists = super()._array_layout()
        n_rows = self.n_items_ if self.item_based else self.n_users_  # one input row per item (I-AutoRec)
        shapes.update(row_indptr_=(n_rows + 1,), row_indices_=(None,), row_values_=(self.row_indices_.size,))
        index_lists.append(("row_indptr_", "row_indices_", self._n_inputs))
        return shapes, index_lists

    def _build_net(self, rng=None) -> None:
        rng = as_generator(self.seed) if rng is None else rng
        self.net = AutoRecNet(self._n_inputs, self.hidden, dtype=self.dtype, seed=rng)

    def _network_shapes(self) -> dict:
        return AutoRecNet.state_shapes(self._n_inputs, self.hidden)

    def _invariants(self) -> dict[str, bool]:
        rows = self.item_counts_ if self.item_based else self.user_counts_
        return {
            "each input row's entries (row_indices_) are sorted": increasing_within(
                self.row_indptr_, self.row_indices_, strict=False
            ),
            "each input row holds all its training ratings (item_counts_ or user_counts_)": np.array_equal(
                np.diff(self.row_indptr_), rows
            ),
        }

    def _fit(self, train, valid) -> None:
        rows = min(self.batch_size, self.n_items_ if self.item_based else self.n_users_)
        batch = {"a batch's inputs, target, output, gradients": ((5, rows, self._n_inputs), self.dtype)}
        check_network_fit_memory(self, batch, set_by=("hidden", "batch_size"))
        rng = as_generator(self.seed)
        self._build_net(rng)
        # the training matrix as CSR by row (items for I-AutoRec): the network's inputs, kept
        self.row_indptr_, self.row_indices_, self.row_values_ = train.to_csr(
            by="item" if self.item_based else "user"
        )
        counts = self.item_counts_ if self.item_based else self.user_counts_
        batches = RowBatches(self.row_indptr_, self.row_indices_, self.row_values_, self._n_inputs,
                             np.flatnonzero(counts), self.batch_size, target_fill=np.nan, dtype=self.dtype,
                             seed=rng)  # fmt: skip
        optimizer = AdamGroups(self.net, self.lr, self.weight_decay)
        self.history_ = fit_recommender(
            self, train, batches, optimizer, MaskedMSELoss(), self.n_epochs, valid=valid,
            protocol="rating", monitor=self.monitor, patience=self.patience, verbose=self.verbose,
        )  # fmt: skip

    def _inputs(self, rows: np.ndarray) -> np.ndarray:
        """The training rows ``rows`` as the network's dense input, 0 where unrated.

        ``(len(rows), n_inputs)``: ``n_users`` columns for I-AutoRec, ``n_items`` for U-AutoRec.
        """
        csr = (self.row_indptr_, self.row_indices_, self.row_values_)
        return dense_rows(*csr, rows, self._n_inputs, dtype=self.dtype)

    # -- scoring --------------------------------------------------------------------------------------
    def _score(self, users, items) -> np.ndarray:
        self.net.eval()
        rows, cols = (items, users) if self.item_based else (users, items)
        forward = self.net.forward  # the ids were checked by predict
        scores = score_pairs(lambda r: forward(self._inputs(r)), rows, cols, self._n_inputs, block=_BLOCK)
        known = self._known_users(users) & self._known_items(items)
        return np.where(known, scores, self.global_mean_)

    def _score_all(self, users) -> np.ndarray:
        self.net.eval()
        if self.item_based:  # every item's row, read at the columns `users`
            out = np.empty((self.n_items_, len(users)), dtype=np.float64)
            step = max(1, _BLOCK // self._n_inputs)
            for s in range(0, self.n_items_, step):
                block = np.arange(s, min(s + step, self.n_items_))
                out[s : s + step] = self.net.forward(self._inputs(block))[:, users]
            out = out.T  # (n_users asked, n_items)
        else:
            out = np.empty((len(users), self.n_items_), dtype=np.float64)
            step = max(1, _BLOCK // self._n_inputs)
            for s in range(0, len(users), step):
                out[s : s + step] = self.net.forward(self._inputs(users[s : s + step]))
        known = self._known_users(users)[:, None] & self._known_items(np.arange(self.n_items_))[None, :]
        return np.where(known, out, self.global_mean_)  # (n, n_items)

    def _item_vectors(self):
        """I-AutoRec: each item's hidden code ``σ(V r_i + b_enc)``; U-AutoRec: the decoder rows of ``W``."""
        if not self.item_based:
            return self.net.decoder.weight.data  # (n_items, hidden)
        self.net.eval()
        step = max(1, _BLOCK // self._n_inputs)
        encoder, activation = self.net.encoder, self.net.activation
        codes = [
            activation.forward(encoder.forward(self._inputs(np.arange(s, min(s + step, self.n_items_)))))
            for s in range(0, self.n_items_, step)
        ]
        return np.concatenate(codes, axis=0)  # (n_items, hidden)


__all__ = ["AutoRec", "AutoRecNet"]
