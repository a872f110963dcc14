"""Factorization machines (Rendle, "Factorization Machines", ICDM 2010): ids and features in one input.

A factorization machine scores a sparse input row ``x`` (here: a user's fields and an item's fields
side by side, :mod:`tinyrec.models.feature_base`) with a global bias, a weight per feature and a
factor vector per feature whose dot products weigh every pair of features::

    ŷ(x) = w_0 + Σ_a w_a x_a + Σ_{a<b} ⟨v_a, v_b⟩ x_a x_b

Letters (local to this module): ``a``, ``b`` index the features (the slots of the model's tables:
ids, categories, genres, ...), not items; ``x_a`` is the value of feature ``a`` in the row (1 for
an id or a category, ``1/count`` for a genre of a film of ``count`` genres, a standardized number);
``w_a`` its weight, ``v_a ∈ R^d`` its factor row (a row of the table ``V``), ``f`` a factor.

With the user's id and the item's id alone, ``ŷ = w_0 + w_u + w_i + ⟨v_u, v_i⟩``: biased matrix
factorization. Every other feature adds its bias and its interactions with all the others, so a
user never seen in training is still scored, from its features' rows.

The pairwise sum is computed in ``O(d · nnz)`` by the sum-square identity: with ``s_f = Σ_a x_a v_af``,
``Σ_{a<b} ⟨v_a, v_b⟩ x_a x_b = ½ Σ_f (s_f² − Σ_a x_a² v_af²)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ArgumentTypeError
from ..kernels.embedding import gather_rows
from ..losses import BCEWithLogitsLoss, BPRLoss, CrossEntropyLoss, MSELoss
from ..nn import init
from ..nn.embedding_bag import segment_sum
from ..nn.module import Module, Parameter, RowGrad
from ..nn.spec import Floats, Ids, require
from ..optim import Adam, AdamW
from ..validation import (
    as_generator,
    check_choice,
    check_positive_int,
    flag,
    float_dtype,
    in_range,
    nonnegative,
    one_of,
    optional,
    positive_int,
    resolve_dtype,
    seed_like,
)
from .checks import check_network_fit_memory, check_user_item
from .feature_base import _FeatureRecommender, feature_request, ids_rule
from .training import fit_recommender, monitored_names

_SCORE_BLOCK = 1 << 16  # pairs per forward when scoring pairs one by one
_ANY = np.iinfo(np.int64).max


class FMNet(Module):
    """A factorization machine over a batch of sparse rows: the network :class:`FM` trains.

    Parameters
    ----------
    n_features : int
        Rows of the tables: the features ``a`` an input may name.
    n_factors : int
        ``d``, the length of each factor row ``v_a``.
    init_std : float, default 0.01
        ``V`` starts as N(0, init_std²); ``w`` and ``w_0`` at 0 (``w_0`` is set by the model).
    dtype : np.float32 (default) or np.float64
    seed : None, int or np.random.Generator

    Attributes
    ----------
    bias : Parameter (1,)
        ``w_0``.
    weight : Parameter (n_features, 1)
        ``w_a`` (a table of one column, so that its gradient is row-sparse as ``V``'s).
    factors : Parameter (n_features, d)
        ``V``, row ``a`` is ``v_a``.

    Notes
    -----
    Input: ``n`` rows as CSR: ``indices : (nnz,)`` the features, ``offsets : (n + 1,)`` (row ``r``'s
    entries are ``offsets[r]:offsets[r + 1]``), ``values : (nnz,)`` the ``x_a``. Output
    ``ŷ : (n,)``. For row ``r``, sums run over its entries, and ``s_r = Σ_a x_a v_a`` (``(d,)``):

    * forward: ``ŷ_r = w_0 + Σ_a w_a x_a + ½ (‖s_r‖² − Σ_a x_a² ‖v_a‖²)``
    * ``dw_0 = Σ_r dŷ_r``
    * ``dw_a = Σ_{entries of a} dŷ_r x_a``
    * ``dv_a = Σ_{entries of a} dŷ_r x_a (s_r − x_a v_a)``: the factor row's gradient is the row's
      sum without its own term, times ``x_a``. ``dw`` and ``dV`` are row-sparse
      (:class:`~tinyrec.nn.RowGrad`), one row per distinct feature of the batch;
    * ``dx_a = dŷ_r (w_a + ⟨v_a, s_r⟩ − x_a ‖v_a‖²)`` (the values' gradient; the indices and
      offsets are integers: ``None``).
    """

    input_spec = (
        Ids("indices", bound="n_features", ndim=1),
        Ids("offsets", bound="_any_offset", ndim=1),
        Floats("values", ndim=1),
    )
    _any_offset = _ANY  # positions in indices: checked against them in check_inputs

    def __init__(
        self, n_features: int, n_factors: int, *, init_std: float = 0.01, dtype=np.float32, seed=None
    ):
        self.n_features, self.n_factors = int(n_features), int(n_factors)
        self.dtype = resolve_dtype(dtype)
        rng = as_generator(seed)
        self.bias = Parameter(np.zeros(1, dtype=self.dtype))
        self.weight = Parameter(np.zeros((self.n_features, 1), dtype=self.dtype))
        self.factors = Parameter(
            init.normal((self.n_features, self.n_factors), 0.0, init_std, dtype=self.dtype, seed=rng)
        )

    def check_inputs(self, indices, offsets, values) -> tuple:
        return _csr_rows(*super().check_inputs(indices, offsets, values))

    @staticmethod
    def state_shapes(n_features: int, n_factors: int) -> dict[str, tuple[int, ...]]:
        """The ``state_dict`` shapes of ``FMNet(n_features, n_factors)``, without building it."""
        return {"bias": (1,), "weight": (n_features, 1), "factors": (n_features, n_factors)}

    def forward(self, indices, offsets, values) -> np.ndarray:
        indices = np.asarray(indices, dtype=np.int64)
        x = np.asarray(values, dtype=self.dtype)
        V = gather_rows(self.factors.data, indices)  # (nnz, d): v_a of each entry
        xv = V * x[:, None]  # (nnz, d): x_a v_a
        s = segment_sum(xv, offsets)  # (n, d): s_r
        squares = segment_sum(np.einsum("nd,nd->n", xv, xv), offsets)  # (n,): Σ_a x_a² ‖v_a‖²
        linear = segment_sum(self.weight.data[indices, 0] * x, offsets)  # (n,): Σ_a w_a x_a
        self._cache = (indices, x, V, s, np.repeat(np.arange(len(offsets) - 1), np.diff(offsets)))
        return self.bias.data[0] + linear + 0.5 * (np.einsum("nd,nd->n", s, s) - squares)

    def backward(self, grad_output: np.ndarray):
        indices, x, V, s, row_of = self._cache
        g = grad_output[row_of]  # (nnz,): dŷ of each entry's row
        gx = g * x
        self.bias.accumulate(np.array([grad_output.sum()], dtype=self.dtype))
        s_rows = s[row_of]  # (nnz, d): s_r of each entry's row
        self.weight.accumulate(RowGrad.from_indices(indices, gx[:, None]))
        self.factors.accumulate(RowGrad.from_indices(indices, gx[:, None] * (s_rows - x[:, None] * V)))
        w = self.weight.data[indices, 0]
        dx = g * (w + np.einsum("nd,nd->n", V, s_rows) - x * np.einsum("nd,nd->n", V, V))
        return None, None, dx

    def side_terms(self, indices, offsets, values):
        """For rows of one side of a pair: ``(Σ_a w_a x_a, s, ½ (‖s‖² − Σ_a x_a² ‖v_a‖²))``.

        ``ŷ`` of a user row and an item row joined is ``w_0 + linear_u + linear_i + self_u +
        self_i + s_u · s_i``: all items' scores for a user are one matrix product.
        """
        indices = np.asarray(indices, dtype=np.int64)
        x = np.asarray(values, dtype=np.float64)
        xv = gather_rows(self.factors.data, indices).astype(np.float64) * x[:, None]
        s = segment_sum(xv, offsets)
        linear = segment_sum(self.weight.data[indices, 0] * x, offsets)
        own = 0.5 * (np.einsum("nd,nd->n", s, s) - segment_sum(np.einsum("nd,nd->n", xv, xv), offsets))
        return linear, s, own

    def extra_repr(self) -> str:
        return f"{self.n_features}, {self.n_factors}, dtype={self.dtype.name}"


class FMItemSoftmax(Module):
    """The logits of every item for rows of user fields: the training head of ``FM(loss="softmax")``.

    Parameters
    ----------
    fm : FMNet
        The factorization machine whose tables are trained (shared, not copied).
    item_indices, item_offsets, item_values : arrays
        The fields of the items the softmax runs over, as CSR rows of the FM's slots (``m`` rows,
        one per logit column): constants of the head.

    Notes
    -----
    A user row ``u`` and an item row ``i`` joined score ``ŷ_ui = w_0 + lin_u + own_u + lin_i +
    own_i + ⟨s_u, s_i⟩`` (:meth:`FMNet.side_terms`: ``lin = Σ_a w_a x_a``, ``s = Σ_a x_a v_a``,
    ``own = ½ (‖s‖² − Σ_a x_a² ‖v_a‖²)``). In a softmax over the items the user's own terms
    ``w_0 + lin_u + own_u`` cancel, so the head returns ``z : (n, m)``::

        z_ui = lin_i + own_i + ⟨s_u, s_i⟩        (Z = S_u S_iᵀ + 1 (lin + own)ᵀ)

    Input: the user rows as CSR (``indices``, ``offsets (n + 1,)``, ``values``), as :class:`FMNet`.
    With ``G = dZ`` and ``g_i = Σ_u G_ui`` (the gradient of item ``i``'s own terms):

    * ``dS_u = G S_i``; ``dS_i = Gᵀ S_u + g_i s_i`` (``∂own_i/∂s_i = s_i``)
    * an item entry ``a`` of row ``i``: ``dw_a = x_a g_i``, ``dv_a = x_a (dS_i)_i − g_i x_a² v_a``
    * a user entry ``a`` of row ``u``: ``dv_a = x_a (dS_u)_u``; ``dx_a = ⟨v_a, (dS_u)_u⟩`` (returned)
    * ``w_0`` and the users' ``w_a`` cancel: no gradient. ``dV`` touches every row of the ``m``
      items (the softmax's normalizer reads them all) and the batch's user rows; both are RowGrads.
    """

    input_spec = FMNet.input_spec
    _any_offset = _ANY

    def __init__(self, fm: FMNet, item_indices, item_offsets, item_values):
        self.fm, self.n_features = fm, fm.n_features
        self._items = (np.asarray(item_indices, dtype=np.int64), np.asarray(item_offsets, dtype=np.int64),
                       np.asarray(item_values, dtype=fm.dtype))  # fmt: skip

    def check_inputs(self, indices, offsets, values) -> tuple:
        return _csr_rows(*super().check_inputs(indices, offsets, values))

    def forward(self, indices, offsets, values) -> np.ndarray:
        V, w = self.fm.factors.data, self.fm.weight.data[:, 0]
        u_idx, x_u = np.asarray(indices, dtype=np.int64), np.asarray(values, dtype=self.fm.dtype)
        i_idx, i_off, x_i = self._items
        s_u = segment_sum(gather_rows(V, u_idx) * x_u[:, None], offsets)  # (n, d)
        V_i = gather_rows(V, i_idx)  # (nnz_i, d)
        xv_i = V_i * x_i[:, None]
        s_i = segment_sum(xv_i, i_off)  # (m, d)
        lin_i = segment_sum(w[i_idx] * x_i, i_off)
        own_i = 0.5 * (
            np.einsum("nd,nd->n", s_i, s_i) - segment_sum(np.einsum("nd,nd->n", xv_i, xv_i), i_off)
        )
        self._cache = (u_idx, x_u, np.asarray(offsets, dtype=np.int64), s_u, V_i, s_i)
        return s_u @ s_i.T + (lin_i + own_i)[None, :]

    def backward(self, grad_output: np.ndarray):
        u_idx, x_u, u_off, s_u, V_i, s_i = self._cache
        i_idx, i_off, x_i = self._items
        G = grad_output
        g = G.sum(axis=0)  # (m,)
        dS_u = G @ s_i  # (n, d)
        dS_i = G.T @ s_u + g[:, None] * s_i  # (m, d)
        u_row = np.repeat(np.arange(len(u_off) - 1), np.diff(u_off))
        i_row = np.repeat(np.arange(len(i_off) - 1), np.diff(i_off))
        g_e, x_e = g[i_row], x_i[:, None]
        dV_i = x_e * dS_i[i_row] - (g_e[:, None] * x_e * x_e) * V_i
        dV_u = x_u[:, None] * dS_u[u_row]
        self.fm.weight.accumulate(RowGrad.from_indices(i_idx, (g_e * x_i)[:, None]))
        self.fm.factors.accumulate(
            RowGrad.from_indices(np.concatenate([u_idx, i_idx]), np.concatenate([dV_u, dV_i]))
        )
        dx = np.einsum("nd,nd->n", gather_rows(self.fm.factors.data, u_idx), dS_u[u_row])
        return None, None, dx

    def extra_repr(self) -> str:
        return f"{self.fm.n_features}, {self.fm.n_factors}, items={len(self._items[1]) - 1}"


_CSR = "FMNet takes CSR rows: offsets (n + 1,) from 0 to len(indices), non-decreasing; values as indices"


def _csr_rows(indices, offsets, values) -> tuple:
    """The CSR rule of FMNet's and FMItemSoftmax's inputs (their ``input_spec`` checked first)."""
    csr = len(offsets) > 0 and offsets[0] == 0 and offsets[-1] == len(indices) == len(values)
    require(csr and bool(np.all(np.diff(offsets) >= 0)), _CSR)
    return indices, offsets, values


class StackedBPRLoss:
    """BPR on stacked scores: ``ŷ`` holds a batch's positives, then their negatives.

    ``ℒ = mean_n −log σ(ŷ_n − ŷ_{n + N})`` over the ``N`` pairs of a batch of ``2N`` scores
    (:class:`~tinyrec.losses.BPRLoss` on the two halves); ``target`` (ones, one per pair) is read
    only for its length. ``backward`` returns ``dŷ``: the positives' gradients, then the negatives'.
    """

    reduction = "mean"

    def __init__(self):
        self._bpr = BPRLoss()

    def forward(self, scores: np.ndarray, target: np.ndarray) -> float:
        n = len(target)
        return self._bpr.forward(scores[:n], scores[n:])

    def backward(self) -> np.ndarray:
        d_pos, d_neg = self._bpr.backward()
        return np.concatenate([d_pos, d_neg])


#: every metric a validation protocol returns at k = 10 (which of them, depends on ``protocol``)
_MONITORED = tuple(dict.fromkeys(m for p in ("rating", "sampled", "full") for m in monitored_names(p, 10)))


def metric_name(value, name: str):
    """The rule of ``monitor``: None, or a metric some protocol returns (``protocol``'s: checked after)."""
    if value is not None and value not in _MONITORED:
        raise ArgumentTypeError(f"{name} must be a metric FM can monitor, one of {_MONITORED}; got {value!r}")
    return value


class FM(_FeatureRecommender):
    """A factorization machine over user and item ids and features (Rendle, ICDM 2010).

    Parameters
    ----------
    n_factors : int, default 16
        ``d``, the length of each feature's factor row.
    n_epochs : int, default 20
    loss : {"mse", "bpr", "bce", "softmax"}, default "mse"
        ``"mse"``: rating prediction, ``(ŷ − r_ui)²`` on every training rating (a rating model:
        evaluated by RMSE, predictions clipped to the rating range). ``"bpr"``: ranking, each
        positive against one sampled negative, ``−log σ(ŷ_ui − ŷ_uj)``. ``"bce"``: ranking, binary
        cross-entropy of each positive (label 1) and ``n_negatives`` sampled negatives (label 0).
        Negatives are drawn among the items with a training interaction. ``"softmax"``: ranking,
        each positive's item among all the items with a training interaction, ``−log softmax_i(ŷ_u·)``
        (no sampling; Notes).
    batch_size : int, default 256
    lr : float, default 1e-3
        Adam's learning rate.
    weight_decay : float, default 0
        Strength ``λ`` of the decay of ``w`` and ``V`` (not of ``w_0``), on the rows a batch touches
        (lazily, with ``lazy_embeddings``): with ``optimizer="adam"`` an L2 term added to the
        gradient, with ``"adamw"`` a decoupled shrinking ``θ ← θ − lr · λ · θ`` (Loshchilov &
        Hutter), which regularizes the rare features' rows more evenly.
    optimizer : {"adam", "adamw"}, default "adam"
    n_negatives : int, default 4
        Negatives per positive with ``loss="bce"``.
    user_balance : float in [0, 1], default 0
        ``α``: an epoch draws interaction ``(u, i)`` with probability ``∝ n_u^{−α}`` (``n_u``: the
        user's training interactions) instead of taking each once; 1 weighs every user alike, as
        ``evaluate`` does (:class:`~tinyrec.models.feature_base.PairBatches`).
    init_std : float, default 0.01
        ``V`` starts as N(0, init_std²).
    user_features, item_features : "all", "none", or a tuple of column names, default "all"
        The columns of ``train.user_meta`` / ``train.item_meta`` to read, each as
        ``"column"`` or ``"column:encoder"`` (``("age:bucket", "gender", "zip:hash")``; see
        :mod:`tinyrec.data.encoders`). ``"all"``: every column that is not text, each encoded by
        its hint or its kind. Fitted on the training users and items only.
    use_ids : True, False, "item" or "user", default True
        Read each user's and item's id as a feature; False: a pure content model; ``"item"``: the
        item's id only, users by their features alone (a model for cold users).
    implicit : bool, default False
        Also read, as a user feature, the items the user rated in training, each weighing
        ``1/√|I_u|`` (Rendle's "implicit feedback" feature, which makes the FM an SVD++);
        ``recommend(history=...)`` then reads a new user's first items.
    lazy_embeddings : bool, default True
        Adam updates only the table rows of each batch (``torch.optim.SparseAdam``); False:
        every row at every step (much slower: the tables hold every slot).
    protocol, monitor : str, optional
        Validation with ``fit(train, valid=...)``: default ``"rating"`` / ``"rmse"`` for
        ``loss="mse"``, ``"sampled"`` / ``"hr@10"`` otherwise.
    patience : int, optional
        Early stopping (needs ``valid``).
    verbose : bool, default False
    dtype : np.float32 (default) or np.float64
    seed : int or np.random.Generator, optional

    Notes
    -----
    ``ŷ(x) = w_0 + Σ_a w_a x_a + Σ_{a<b} ⟨v_a, v_b⟩ x_a x_b`` over the features of the pair
    (:class:`FMNet` has the gradients). ``w_0`` starts at ``μ`` for ``loss="mse"``.

    ``loss="softmax"`` models ``P(i | u) = exp ŷ_ui / Σ_j exp ŷ_uj`` over the items ``j`` with a
    training interaction (as the sampled objectives, an item held out is never taught) and
    minimizes ``ℒ = −mean_{(u, i) ∈ batch} log P(i | u)``. The user's own terms (``w_0`` and the
    user side's weights and pairs) cancel in the softmax, so the logits are
    ``z_ui = Σ_{a ∈ i} w_a x_a + ½ (‖s_i‖² − Σ_{a ∈ i} x_a² ‖v_a‖²) + ⟨s_u, s_i⟩`` with ``s_u``,
    ``s_i`` the two sides' factor sums, for all items one matrix product
    (:class:`FMItemSoftmax` has the gradients); every such item's rows move at every step. Without
    user features the maximum-likelihood logits are ``log`` of each item's share of the training
    interactions: the objective starts from popularity and the user's features can only move
    away from it where they explain the data better, which is what a cold user (known by its
    features alone) needs. The scores are then logits up to a constant per user (``w_0`` and the
    user's weights stay 0): a ranking, not a probability. After
    training, the rows of features no training pair reached (the ids of users and items without
    training interactions, categories unseen in training) are zeroed: they contribute nothing,
    so a cold user is scored by its features alone. All items' scores for a user are one matrix
    product (``FMNet.side_terms``).

    Attributes (after ``fit``)
    --------------------------
    net : FMNet
    encoders_ : {"user": FeatureEncoder, "item": FeatureEncoder}
    history_ : {"loss", "epoch_seconds", "val_<metric>" (with ``valid``)}
    """

    hyperparameters = {
        "n_factors": positive_int,
        "n_epochs": positive_int,
        "loss": one_of("mse", "bpr", "bce", "softmax"),
        "batch_size": positive_int,
        "lr": nonnegative,
        "weight_decay": nonnegative,
        "optimizer": one_of("adam", "adamw"),
        "n_negatives": positive_int,
        "user_balance": in_range(0.0, 1.0),
        "init_std": nonnegative,
        "user_features": feature_request,
        "item_features": feature_request,
        "use_ids": ids_rule,
        "implicit": flag,
        "lazy_embeddings": flag,
        "protocol": optional(one_of("rating", "sampled", "full")),
        "monitor": metric_name,
        "patience": optional(positive_int),
        "verbose": flag,
        "dtype": float_dtype,
        "seed": seed_like,
    }

    added_hyperparameters = {"user_balance": 0.0}  # model files of FM written before it

    def __init__(
        self,
        n_factors: int = 16,
        n_epochs: int = 20,
        *,
        loss: str = "mse",
        batch_size: int = 256,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        optimizer: str = "adam",
        n_negatives: int = 4,
        user_balance: float = 0.0,
        init_std: float = 0.01,
        user_features="all",
        item_features="all",
        use_ids: bool = True,
        implicit: bool = False,
        lazy_embeddings: bool = True,
        protocol=None,
        monitor=None,
        patience=None,
        verbose: bool = False,
        dtype=np.float32,
        seed=None,
    ):
        self.n_factors, self.n_epochs, self.loss, self.batch_size = n_factors, n_epochs, loss, batch_size
        self.lr, self.weight_decay, self.n_negatives, self.init_std = lr, weight_decay, n_negatives, init_std
        self.optimizer, self.user_balance = optimizer, user_balance
        self.user_features, self.item_features, self.use_ids = user_features, item_features, use_ids
        self.implicit, self.lazy_embeddings = implicit, lazy_embeddings
        self.protocol, self.monitor, self.patience = protocol, monitor, patience
        self.verbose, self.dtype, self.seed = verbose, dtype, seed
        self._check_hyperparameters()

    def _check_hyperparameters(self) -> None:
        """The table's rules, then ``monitor`` among the metrics ``protocol`` returns at ``k = 10``."""
        super()._check_hyperparameters()
        if self.protocol is not None or self.monitor is not None:
            check_choice(self._monitor(), "monitor", monitored_names(self._protocol(), 10))

    @property
    def task(self) -> str:
        return "rating" if self.loss == "mse" else "ranking"

    def _protocol(self) -> str:
        return self.protocol or ("rating" if self.loss == "mse" else "sampled")

    def _monitor(self) -> str:
        return self.monitor or ("rmse" if self._protocol() == "rating" else "hr@10")

    # -- the network ----------------------------------------------------------------------------
    def _network_shapes(self) -> dict:
        return FMNet.state_shapes(self.n_slots_, self.n_factors)

    def _build_net(self, rng=None) -> None:
        rng = as_generator(self.seed) if rng is None else rng
        self.net = FMNet(self.n_slots_, self.n_factors, init_std=self.init_std, dtype=self.dtype, seed=rng)

    def _net_inputs(self, pairs) -> tuple:
        """A batch of pairs (FeatureRows) as FMNet's CSR rows: every field of a pair in one row."""
        return pairs.indices, pairs.indptr[:: pairs.n_fields], pairs.weights.astype(self.dtype)

    # -- training -------------------------------------------------------------------------------
    def _fit(self, train, valid) -> None:
        self._prepare(train)
        rows = len(train) * (1 + (self.n_negatives if self.loss == "bce" else 1 if self.loss == "bpr" else 0))
        if self.loss == "softmax":  # a batch's logits: (batch_size, items with an interaction)
            rows = max(rows, -(-self.batch_size * self.n_items_ // 4))
        check_network_fit_memory(self, {"an epoch's pairs": ((4, rows), np.int64)}, set_by=("n_factors",))
        rng = as_generator(self.seed)
        self._build_net(rng)
        if self.loss == "mse":
            self.net.bias.data[0] = self.global_mean_
        batches = self._training_pairs(train, self.loss, self.n_negatives, self.batch_size, rng)
        groups = [
            {"params": [self.net.bias], "weight_decay": 0.0},
            {"params": [self.net.weight, self.net.factors], "weight_decay": self.weight_decay},
        ]
        optimizer = (AdamW if self.optimizer == "adamw" else Adam)(groups, lr=self.lr)
        loss = {"mse": MSELoss(), "bce": BCEWithLogitsLoss(), "bpr": StackedBPRLoss(),
                "softmax": CrossEntropyLoss()}[self.loss]  # fmt: skip
        self.history_ = fit_recommender(
            self,
            train,
            batches,
            optimizer,
            loss,
            self.n_epochs,
            valid=valid,
            protocol=self._protocol(),
            monitor=self._monitor(),
            patience=self.patience,
            lazy_embeddings=self.lazy_embeddings,
            verbose=self.verbose,
            network=self._softmax_head() if self.loss == "softmax" else None,
        )
        self._zero_untrained([self.net.weight.data, self.net.factors.data])

    def _softmax_head(self) -> FMItemSoftmax:
        """The head of ``loss="softmax"``: the fields (shifted past the user slots) of the items with a
        training interaction, column ``c`` the ``c``-th of them (``PairBatches`` gives that column)."""
        items = self._rows["item"].select(np.flatnonzero(self.item_counts_ > 0))
        return FMItemSoftmax(self.net, items.indices + self._rows["user"].n_slots,
                             items.indptr[:: items.n_fields], items.weights.astype(self.dtype))  # fmt: skip

    # -- scoring --------------------------------------------------------------------------------
    def _score_pairs(self, pairs) -> np.ndarray:
        self.net.eval()
        return np.asarray(self.net.forward(*self._net_inputs(pairs)), dtype=np.float64)

    def _score(self, users, items) -> np.ndarray:
        out = np.empty(len(users), dtype=np.float64)
        for s in range(0, len(users), _SCORE_BLOCK):
            block = slice(s, s + _SCORE_BLOCK)
            out[block] = self._score_pairs(self._pairs(users[block], items[block]))
        return out

    def _score_users(self, user_rows) -> np.ndarray:
        """Every item's score for rows of user fields (``FMNet.side_terms``): one matrix product."""
        offset = self._rows["user"].n_slots  # the item side's slots follow the user side's
        items = self._rows["item"]
        lin_u, s_u, own_u = self.net.side_terms(
            user_rows.indices, user_rows.indptr[:: user_rows.n_fields], user_rows.weights
        )
        lin_i, s_i, own_i = self.net.side_terms(
            items.indices + offset, items.indptr[:: items.n_fields], items.weights
        )
        scores = s_u @ s_i.T  # (n, n_items)
        scores += float(self.net.bias.data[0]) + (lin_u + own_u)[:, None] + (lin_i + own_i)[None, :]
        return scores

    def _item_vectors(self):
        """Each item's factor sum ``s_i`` (its id and features): the vectors ``similar_items`` compares."""
        items = self._rows["item"]
        offset = self._rows["user"].n_slots
        return self.net.side_terms(items.indices + offset, items.indptr[:: items.n_fields], items.weights)[1]

    # -- explaining -----------------------------------------------------------------------------
    def explain(self, user, item, top: int = 5, *, features=None) -> FMExplanation:
        """The terms of ``ŷ_ui``: ``w_0``, each feature's ``w_a x_a`` and each pair's
        ``⟨v_a, v_b⟩ x_a x_b``, the ``top`` that raised the score most first.

        ``features`` (a dict) explains the score of a user with those features instead (``user``
        may then be None: a new user). The terms sum to the unclipped score.
        """
        if features is None:
            u, i = check_user_item(self, user, item)
            rows = self._pairs(np.array([u]), np.array([i]))
        else:
            users, user_rows, _ = self._query(None if user is None else np.array([user]), None, [features])
            u, i = int(users[0]), check_user_item(self, 0, item)[1]
            rows = self._pairs(None, np.array([i]), user_rows=user_rows)
        if top != 0:
            check_positive_int(top, "top")
        indices, x = rows.indices.astype(np.int64), rows.weights
        labels = self._slot_labels()
        w, V = self.net.weight.data[:, 0].astype(np.float64), self.net.factors.data.astype(np.float64)
        terms = [(labels[a], float(w[a] * xa)) for a, xa in zip(indices, x, strict=True) if w[a] * xa != 0]
        xv = V[indices] * x[:, None]  # (nnz, d): x_a v_a
        pair = xv @ xv.T  # (nnz, nnz): ⟨v_a, v_b⟩ x_a x_b, every pair at once
        ps, qs = np.triu_indices(len(indices), k=1)
        nonzero = pair[ps, qs] != 0
        terms += [
            (f"{labels[indices[p]]} × {labels[indices[q]]}", float(pair[p, q]))
            for p, q in zip(ps[nonzero].tolist(), qs[nonzero].tolist(), strict=True)
        ]
        terms.sort(key=lambda t: -t[1])
        score = float(self.net.bias.data[0]) + sum(v for _, v in terms)
        shown = terms[: max(0, int(top))]
        return FMExplanation(
            u,
            i,
            float(self.net.bias.data[0]),
            shown,
            score - float(self.net.bias.data[0]) - sum(v for _, v in shown),
            score,
        )


@dataclass
class FMExplanation:
    """The terms of one factorization-machine score; ``str()`` renders them as a table.

    ``score = bias + Σ terms[k][1] + rest``; ``terms`` are ``(description, value)``, largest first.
    ``user`` is -1 for a user described by features alone.
    """

    user: int
    item: int
    bias: float
    terms: list
    rest: float
    score: float

    def __str__(self) -> str:
        return self.table()

    def table(self, *, header: str | None = None) -> str:
        first = f"user {self.user}, item {self.item}" if header is None else header
        width = max([len(name) for name, _ in self.terms] + [20])
        lines = [
            f"{first}: score {self.score:.3f} (before clipping)",
            f"  {'global bias w_0':<{width}}  {self.bias:+.3f}",
        ]
        lines += [f"  {name:<{width}}  {value:+.3f}" for name, value in self.terms]
        lines.append(f"  {'all other terms':<{width}}  {self.rest:+.3f}")
        return "\n".join(lines)


__all__ = ["FM", "FMExplanation", "FMItemSoftmax", "FMNet", "StackedBPRLoss", "segment_sum"]
