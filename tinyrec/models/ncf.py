"""Neural collaborative filtering (He et al., "Neural Collaborative Filtering", WWW 2017): GMF, MLP, NeuMF.

Three recommenders of implicit feedback that share one training recipe and differ only in their
network (:mod:`tinyrec.models.ncf_net`):

* :class:`GMF` — ``ŷ_ui = w · (p_u ⊙ q_i) + b``: matrix factorization whose dot product has
  learnt weights;
* :class:`NCFMLP` — ``ŷ_ui = w · MLP([p_u ; q_i]) + b``: the interaction learnt by a tower of
  Linear + ReLU layers;
* :class:`NeuMF` — both towers, each with its own embeddings, fused by one output layer; it can
  start from a trained GMF and MLP (the paper's pretraining, ``alpha = 0.5``).

The recipe (the paper's, and :func:`tinyrec.models.training.fit_recommender`'s): every training interaction
is a positive (label 1) and ``n_negatives`` items the user has not interacted with, redrawn each
epoch, are negatives (label 0); the loss is binary cross-entropy on the logit ``ŷ_ui``
(:class:`~tinyrec.losses.BCEWithLogitsLoss`, mean over the batch), minimised by Adam. The
embedding tables get lazy (row-sparse) Adam updates by default in NCFMLP and NeuMF, and dense
ones by default in GMF (``lazy_embeddings``; see :class:`GMF`).
"""

from __future__ import annotations

import inspect

import numpy as np

from ..errors import ArgumentTypeError
from ..losses import BCEWithLogitsLoss
from ..nn import init
from ..nn.linear import Linear
from ..optim import Adam
from ..validation import (
    as_generator,
    check_choice,
    flag,
    float_dtype,
    in_range,
    nonnegative,
    one_of,
    optional,
    positive_int,
    seed_like,
)
from .base import Recommender
from .checks import check_network_fit_memory
from .ncf_net import GMFTower, MLPTower, NCFNet, check_layers
from .training import PointwiseBatches, fit_recommender, monitored_names

_SCORE_BLOCK = 1 << 18  # (user, item) pairs per forward when scoring: tens of MB of activations


def metric_name(value, name: str) -> str:
    """The rule "the name of a validation metric"; which names, depends on ``protocol`` (checked after)."""
    if not isinstance(value, str):
        raise ArgumentTypeError(f"{name} must be a metric name such as 'hr@10', got {value!r}")
    return value


#: The hyperparameters every NCF model takes (see ``_COMMON_DOC``), and their rules.
_COMMON_RULES = {
    "n_epochs": positive_int, "batch_size": positive_int, "lr": nonnegative, "n_negatives": positive_int,
    "weight_decay": nonnegative, "init_std": nonnegative, "lazy_embeddings": flag,
    "linear_init": one_of("torch", "ncf"), "protocol": one_of("sampled", "full"),  # the ranking protocols
    "monitor": metric_name, "patience": optional(positive_int), "verbose": flag, "dtype": float_dtype,
    "seed": seed_like,
}  # fmt: skip


class _NCFRecommender(Recommender):
    """What GMF, NCFMLP and NeuMF share: hyperparameters, training, scoring in blocks."""

    task = "ranking"
    _array_names = ()

    def _set_common(self, n_epochs, batch_size, lr, n_negatives, weight_decay, init_std, lazy_embeddings,
                    linear_init, protocol, monitor, patience, verbose, dtype, seed):  # fmt: skip
        """Store the hyperparameters of ``_COMMON_RULES`` under their own names."""
        self.n_epochs, self.batch_size, self.lr, self.n_negatives = n_epochs, batch_size, lr, n_negatives
        self.weight_decay, self.init_std, self.lazy_embeddings = weight_decay, init_std, lazy_embeddings
        self.linear_init, self.protocol, self.monitor = linear_init, protocol, monitor
        self.patience, self.verbose, self.dtype, self.seed = patience, verbose, dtype, seed

    def _check_hyperparameters(self) -> None:
        """The table's rules, then ``monitor`` among the metrics ``protocol`` returns at ``k = 10``."""
        super()._check_hyperparameters()
        check_choice(self.monitor, "monitor", monitored_names(self.protocol, 10))  # fit_recommender's k

    # -- the network ----------------------------------------------------------------------------
    def _towers(self, rng) -> dict:
        raise NotImplementedError

    def _tower_shapes(self) -> dict:
        """Each tower's ``(state shapes, out_features)``, as :meth:`_towers` would build it."""
        raise NotImplementedError

    def _network_shapes(self) -> dict:
        return NCFNet.state_shapes(self._tower_shapes())

    def _build_net(self, rng=None) -> None:
        """``self.net``: the towers of this model and the output layer, seeded from ``rng``."""
        rng = as_generator(self.seed) if rng is None else rng
        towers = self._towers(rng)
        self.net = NCFNet(towers, self.n_users_, self.n_items_, dtype=self.dtype, seed=rng)
        if self.linear_init == "ncf":
            _ncf_reference_init(self.net, rng)

    # -- training -------------------------------------------------------------------------------
    def _fit(self, train, valid) -> None:
        self._check_fit_memory(train)
        rng = as_generator(self.seed)
        self._build_net(rng)
        self.history_ = self._train_net(train, valid, rng)

    def _check_fit_memory(self, train) -> None:
        """AllocationError before training a network or an epoch's pairs too large for the memory bound."""
        pairs = {"an epoch's users, items, order, labels": ((4, len(train) * (self.n_negatives + 1)), int)}
        sizes = tuple(name for name in ("n_factors", "layers", "n_negatives") if name in self.hyperparameters)
        check_network_fit_memory(self, pairs, set_by=sizes)

    def _train_net(self, train, valid, rng) -> dict:
        batches = PointwiseBatches(train, self.n_negatives, self.batch_size, dtype=self.dtype, seed=rng)
        optimizer = Adam(self.net.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        return fit_recommender(
            self, train, batches, optimizer, BCEWithLogitsLoss(), self.n_epochs,
            valid=valid, protocol=self.protocol, monitor=self.monitor, patience=self.patience,
            lazy_embeddings=self.lazy_embeddings, verbose=self.verbose,
        )  # fmt: skip

    # -- scoring --------------------------------------------------------------------------------
    def _score(self, users, items) -> np.ndarray:
        self.net.eval()
        out = np.empty(len(users), dtype=np.float64)
        for s in range(0, len(users), _SCORE_BLOCK):  # the ids were checked by predict / score_all
            block = slice(s, s + _SCORE_BLOCK)
            out[block] = self.net.forward(users[block], items[block])
        return out

    def _score_all(self, users) -> np.ndarray:
        n_items = self.n_items_
        step = max(1, _SCORE_BLOCK // n_items)  # users per forward
        out = np.empty((len(users), n_items), dtype=np.float64)
        all_items = np.arange(n_items, dtype=np.int64)
        for s in range(0, len(users), step):
            block = users[s : s + step]
            pairs_u = np.repeat(block, n_items)  # (len(block) * n_items,): each user's row of pairs ...
            pairs_i = np.tile(all_items, len(block))  # ... against every item, row-major
            out[s : s + step] = self._score(pairs_u, pairs_i).reshape(len(block), n_items)
        return out

    def _item_vectors(self):
        """The item rows of every tower's table, side by side: ``(n_items, Σ dims)``."""
        return np.concatenate(
            [getattr(self.net, name).item_embedding.weight.data for name in self.net.tower_names], axis=1
        )


_COMMON_DOC = """
    n_epochs : int, default 20
        Passes over the positives, each with freshly drawn negatives.
    batch_size : int, default 256
    lr : float, default 1e-3
        Adam's learning rate.
    n_negatives : int, default 4
        Sampled negatives per positive, per epoch.
    weight_decay : float, default 0
        L2 penalty of Adam (``λ θ`` added to the gradient). With ``lazy_embeddings=True`` a
        table's rows are decayed only at the steps whose batch touches them; with dense updates
        (``False``) every row is decayed at every step, as are the Linear layers always.
    init_std : float, default 0.01
        The embedding tables start as N(0, init_std²); the Linear layers as ``linear_init`` says.
    lazy_embeddings : bool, default {lazy}
        True: Adam updates only the table rows of each batch (``torch.optim.SparseAdam``). False:
        every row at every step, as ``torch.optim.Adam`` on dense embeddings (the NCF reference
        code) — slower per step, but rare rows keep moving on their momentum. What each costs in
        HR@10 is measured by ``benchmarks/bench_neural.py``: ``benchmarks/RESULTS.md``, section
        bench_neural, rows "GMF, lazy table updates" and "GMF, defaults".
    linear_init : {"torch", "ncf"}, default "torch"
        Initialisation of the Linear layers. ``"torch"``: ``torch.nn.Linear``'s,
        ``U(±1/√fan_in)`` for weights and biases. ``"ncf"``: the NCF reference code's (Keras
        defaults): hidden layers Xavier (Glorot) uniform ``U(±√(6 / (fan_in + fan_out)))``, the
        output layer LeCun uniform ``U(±√(3 / fan_in))``, all biases 0. Neither wins for every
        model, so the default stays torch's; the NCF reference code's whole setup (this init and
        ``lazy_embeddings=False``) against the defaults, on ML-100K's test split, is in
        ``benchmarks/RESULTS.md``, section bench_neural (rows "…, NCF setup" and "…, defaults").
    protocol : {"sampled", "full"}, default "sampled"
        How ``fit(train, valid=...)`` evaluates after each epoch (:func:`tinyrec.evaluation.evaluate`).
    monitor : str, default "hr@10"
        The validation metric that picks the best epoch (whose weights are kept), one the
        protocol returns at k = 10 (checked when the model is built). ``"sampled"``: ``"hr@10"``,
        ``"ndcg@10"``, ``"mrr"``; ``"full"``: ``"hr@10"``, ``"ndcg@10"``, ``"precision@10"``,
        ``"recall@10"``, ``"map@10"``, ``"mrr@10"``, ``"coverage@10"``.
    patience : int, optional
        Stop when ``monitor`` has not improved for this many epochs (needs ``valid``).
    verbose : bool, default False
        Progress bar with the running loss on stderr.
    dtype : np.float32 (default) or np.float64
    seed : int or np.random.Generator, optional
        Seeds the weights, the negatives and the order of the batches: same seed, same model.
"""


class GMF(_NCFRecommender):
    """Generalized matrix factorization (He et al., WWW 2017, section 3.2).

    Parameters
    ----------
    n_factors : int, default 8
        ``d``, the length of ``p_u`` and ``q_i``.
    {common}
    Notes
    -----
    ``ŷ_ui = w · (p_u ⊙ q_i) + b``, a logit (``σ(ŷ_ui)`` is the probability of an interaction);
    ``w = 1, b = 0`` gives the dot product of matrix factorization. Trained by BCE with logits on
    each positive and ``n_negatives`` sampled negatives. Gradients, with ``e = σ(ŷ) − y`` divided
    by the batch size (the mean): ``dw = Σ e (p_u ⊙ q_i)``, ``db = Σ e``, ``dp_u = e w ⊙ q_i``,
    ``dq_i = e w ⊙ p_u`` (see :class:`~tinyrec.models.ncf_net.NCFNet`).

    **GMF's default is** ``lazy_embeddings=False`` (dense Adam on the tables, as ``torch.optim.Adam``
    on the NCF reference code's dense embeddings), unlike NCFMLP and NeuMF. All of GMF's learning
    happens in its tables, and with lazy updates a rare row stops moving between its batches:
    dense updates scored higher on a validation split carved from ML-100K's leave-one-out train;
    the test-split figures of both are in ``benchmarks/RESULTS.md``, section bench_neural (rows
    "GMF, lazy table updates" and "GMF, defaults"). Pass ``lazy_embeddings=True`` for the faster
    row-sparse step.

    A user without training interactions keeps its random initial ``p_u``; :meth:`recommend`
    gives such users the most popular items.

    Attributes (after ``fit``)
    --------------------------
    net : NCFNet with the tower ``gmf``
    history_ : {{"loss", "epoch_seconds", "val_<metric>" (with ``valid``)}}
    """

    hyperparameters = {"n_factors": positive_int, **_COMMON_RULES}

    def __init__(self, n_factors: int = 8, n_epochs: int = 20, *, batch_size: int = 256, lr: float = 1e-3,
                 n_negatives: int = 4, weight_decay: float = 0.0, init_std: float = 0.01,
                 lazy_embeddings: bool = False, linear_init: str = "torch", protocol: str = "sampled",
                 monitor: str = "hr@10",
                 patience=None, verbose: bool = False, dtype=np.float32, seed=None):  # fmt: skip
        self.n_factors = n_factors
        self._set_common(n_epochs, batch_size, lr, n_negatives, weight_decay, init_std, lazy_embeddings,
                         linear_init, protocol, monitor, patience, verbose, dtype, seed)  # fmt: skip
        self._check_hyperparameters()

    def _towers(self, rng) -> dict:
        gmf = GMFTower(self.n_users_, self.n_items_, self.n_factors, init_std=self.init_std,
                       dtype=self.dtype, seed=rng)  # fmt: skip
        return {"gmf": gmf}

    def _tower_shapes(self) -> dict:
        return {"gmf": (GMFTower.state_shapes(self.n_users_, self.n_items_, self.n_factors), self.n_factors)}


class NCFMLP(_NCFRecommender):
    """NCF's multi-layer perceptron (He et al., WWW 2017, section 3.3).

    Parameters
    ----------
    layers : sequence of int, default (64, 32, 16, 8)
        ``layers[0]`` is the length of ``[p_u ; q_i]`` (``p_u`` and ``q_i`` have ``layers[0]/2``
        entries each); ``layers[1:]`` are the hidden widths (Linear + ReLU each).
    {common}
    Notes
    -----
    ``ŷ_ui = w · z_last + b`` with ``z_0 = [p_u ; q_i]``, ``z_l = relu(W_l z_{{l−1}} + b_l)`` for
    each hidden layer ``l`` and ``z_last`` the last one's output.
    Backward: ``dz_last = e w`` (``e = σ(ŷ) − y`` over the batch size), then through each ReLU and
    Linear in reverse, and ``dz_0`` splits into ``dp_u`` (first half) and ``dq_i`` (second half)
    (see :class:`~tinyrec.models.ncf_net.MLPTower`).

    A user without training interactions keeps its random initial ``p_u``; :meth:`recommend`
    gives such users the most popular items.

    Attributes (after ``fit``)
    --------------------------
    net : NCFNet with the tower ``mlp``
    history_ : {{"loss", "epoch_seconds", "val_<metric>" (with ``valid``)}}
    """

    hyperparameters = {"layers": check_layers, **_COMMON_RULES}

    def __init__(self, layers=(64, 32, 16, 8), n_epochs: int = 20, *, batch_size: int = 256, lr: float = 1e-3,
                 n_negatives: int = 4, weight_decay: float = 0.0, init_std: float = 0.01,
                 lazy_embeddings: bool = True, linear_init: str = "torch", protocol: str = "sampled",
                 monitor: str = "hr@10",
                 patience=None, verbose: bool = False, dtype=np.float32, seed=None):  # fmt: skip
        self.layers = layers
        self._set_common(n_epochs, batch_size, lr, n_negatives, weight_decay, init_std, lazy_embeddings,
                         linear_init, protocol, monitor, patience, verbose, dtype, seed)  # fmt: skip
        self._check_hyperparameters()

    def _towers(self, rng) -> dict:
        mlp = MLPTower(self.n_users_, self.n_items_, self.layers, init_std=self.init_std,
                       dtype=self.dtype, seed=rng)  # fmt: skip
        return {"mlp": mlp}

    def _tower_shapes(self) -> dict:
        return {"mlp": (MLPTower.state_shapes(self.n_users_, self.n_items_, self.layers), self.layers[-1])}


class NeuMF(_NCFRecommender):
    """Neural matrix factorization: the GMF and MLP towers fused (He et al., WWW 2017, section 3.4).

    Parameters
    ----------
    n_factors : int, default 8
        Length of the GMF tower's ``p_u^G``, ``q_i^G``.
    layers : sequence of int, default (64, 32, 16, 8)
        The MLP tower, as in :class:`NCFMLP`.
    pretrain : bool, default False
        First train a :class:`GMF` and an :class:`NCFMLP` with the same hyperparameters (each for
        ``n_epochs``, no validation), copy their towers into NeuMF and fuse their output layers
        with ``alpha`` (see Notes); then train NeuMF as usual from there.
    alpha : float in [0, 1], default 0.5
        The weight of the GMF output layer in the fused output layer (pretraining only).
    {common}
    Notes
    -----
    ``ŷ_ui = w · [h_G ; h_M] + b`` with ``h_G = p_u^G ⊙ q_i^G`` (GMF tower) and ``h_M`` the last
    hidden layer of the MLP tower on ``[p_u^M ; q_i^M]``; the towers have separate embeddings.

    Backward, with ``e = σ(ŷ) − y`` over the batch size: ``dw = Σ e [h_G ; h_M]``, ``db = Σ e``,
    and ``dz = e w`` splits into ``dh_G = dz[:, :d]`` (down the GMF tower: ``dp_u^G = dh_G ⊙ q_i^G``,
    ``dq_i^G = dh_G ⊙ p_u^G``) and ``dh_M = dz[:, d:]`` (down the MLP tower, as in :class:`NCFMLP`).

    Pretraining (the paper's section 3.4.1): the towers start as the trained GMF's and MLP's, and the
    output layer as ``w = [alpha · w_GMF ; (1 − alpha) · w_MLP]``,
    ``b = alpha · b_GMF + (1 − alpha) · b_MLP``, so the fused network starts at exactly
    ``alpha · ŷ_GMF + (1 − alpha) · ŷ_MLP``. The paper then continues with
    plain SGD; here training continues with Adam (fresh moments) at ``lr``.

    A user without training interactions keeps random initial vectors; :meth:`recommend` gives
    such users the most popular items.

    Attributes (after ``fit``)
    --------------------------
    net : NCFNet with the towers ``gmf`` and ``mlp``
    history_ : {{"loss", "epoch_seconds", "val_<metric>" (with ``valid``); with ``pretrain`` also
        "pretrain_gmf_loss" and "pretrain_mlp_loss"}}
    """

    hyperparameters = {
        "n_factors": positive_int, "layers": check_layers, "pretrain": flag, "alpha": in_range(0, 1),
        **_COMMON_RULES,
    }  # fmt: skip

    def __init__(self, n_factors: int = 8, layers=(64, 32, 16, 8), n_epochs: int = 20, *,
                 pretrain: bool = False, alpha: float = 0.5, batch_size: int = 256, lr: float = 1e-3,
                 n_negatives: int = 4, weight_decay: float = 0.0, init_std: float = 0.01,
                 lazy_embeddings: bool = True, linear_init: str = "torch", protocol: str = "sampled",
                 monitor: str = "hr@10",
                 patience=None, verbose: bool = False, dtype=np.float32, seed=None):  # fmt: skip
        self.n_factors, self.layers, self.pretrain, self.alpha = n_factors, layers, pretrain, alpha
        self._set_common(n_epochs, batch_size, lr, n_negatives, weight_decay, init_std, lazy_embeddings,
                         linear_init, protocol, monitor, patience, verbose, dtype, seed)  # fmt: skip
        self._check_hyperparameters()

    def _towers(self, rng) -> dict:
        gmf = GMFTower(self.n_users_, self.n_items_, self.n_factors, init_std=self.init_std,
                       dtype=self.dtype, seed=rng)  # fmt: skip
        mlp = MLPTower(self.n_users_, self.n_items_, self.layers, init_std=self.init_std,
                       dtype=self.dtype, seed=rng)  # fmt: skip
        return {"gmf": gmf, "mlp": mlp}

    def _tower_shapes(self) -> dict:
        n_users, n_items = self.n_users_, self.n_items_
        return {
            "gmf": (GMFTower.state_shapes(n_users, n_items, self.n_factors), self.n_factors),
            "mlp": (MLPTower.state_shapes(n_users, n_items, self.layers), self.layers[-1]),
        }

    def _fit(self, train, valid) -> None:
        self._check_fit_memory(train)
        rng = as_generator(self.seed)
        self._build_net(rng)
        pre = {}
        if self.pretrain:
            names = (
                "n_epochs",
                "batch_size",
                "lr",
                "n_negatives",
                "weight_decay",
                "init_std",
                "lazy_embeddings",
                "linear_init",
                "verbose",
                "dtype",
            )
            common = {name: getattr(self, name) for name in names}
            gmf = GMF(self.n_factors, seed=rng, **common).fit(train)
            mlp = NCFMLP(self.layers, seed=rng, **common).fit(train)
            fuse_pretrained(self.net, gmf.net, mlp.net, self.alpha)
            pre = {"pretrain_gmf_loss": gmf.history_["loss"], "pretrain_mlp_loss": mlp.history_["loss"]}
        self.history_ = {**pre, **self._train_net(train, valid, rng)}


def _ncf_reference_init(net: NCFNet, rng) -> None:
    """Re-draw ``net``'s Linear layers as the NCF reference code does (``linear_init="ncf"``)."""
    for name in net.tower_names:
        tower = getattr(net, name)
        for layer in tower.modules():
            if isinstance(layer, Linear):  # the MLP tower's hidden layers: Xavier uniform
                w = layer.weight.data
                w[...] = init.xavier_uniform(w.shape, dtype=net.dtype, seed=rng)
                layer.bias.data[...] = 0
    w = net.output.weight.data  # (1, F): LeCun uniform = kaiming_uniform with a = 1
    w[...] = init.kaiming_uniform(w.shape, a=1.0, dtype=net.dtype, seed=rng)
    net.output.bias.data[...] = 0


def fuse_pretrained(neumf: NCFNet, gmf: NCFNet, mlp: NCFNet, alpha: float = 0.5) -> None:
    """Load a trained GMF's and MLP's weights into a NeuMF network (He et al. 2017, section 3.4.1).

    The towers are copied as they are; the output layer becomes
    ``w = [alpha · w_GMF ; (1 − alpha) · w_MLP]``, ``b = alpha · b_GMF + (1 − alpha) · b_MLP``, so
    that ``neumf(u, i) = alpha · gmf(u, i) + (1 − alpha) · mlp(u, i)``.
    The three networks must have the same sizes (a ValueError/ShapeError names the mismatch).
    """
    state = {k: v for k, v in gmf.state_dict().items() if k.startswith("gmf.")}
    state.update({k: v for k, v in mlp.state_dict().items() if k.startswith("mlp.")})
    state["output.weight"] = np.concatenate(
        [alpha * gmf.output.weight.data, (1.0 - alpha) * mlp.output.weight.data], axis=1
    )  # (1, d) and (1, layers[-1]) side by side -> (1, d + layers[-1])
    state["output.bias"] = alpha * gmf.output.bias.data + (1.0 - alpha) * mlp.output.bias.data
    neumf.load_state_dict(state)


for _cls in (GMF, NCFMLP, NeuMF):
    if _cls.__doc__:  # None under python -OO
        _lazy = inspect.signature(_cls).parameters["lazy_embeddings"].default  # each class's own default
        _cls.__doc__ = _cls.__doc__.format(common=_COMMON_DOC.strip().replace("{lazy}", str(_lazy)) + "\n")

__all__ = ["GMF", "NCFMLP", "NeuMF", "fuse_pretrained"]
