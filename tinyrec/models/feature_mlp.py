"""A feature MLP: embeddings of ids and features, concatenated, an MLP, a sigmoid (a purchase model).

Each field of a ``(user, item)`` pair (:mod:`tinyrec.models.feature_base`: the user's id, its
columns, the item's id, its columns) is embedded by a weighted bag of embedding rows
(:class:`~tinyrec.nn.EmbeddingBag`: a one-hot column picks one row, a genre list averages its
rows, a standardized number scales one row); the ``F`` field vectors are concatenated and an MLP
maps them to a logit; ``σ(logit)`` is the probability that the user buys (clicks, rates 4 or
more) the item. Trained with binary cross-entropy on every positive and sampled negatives, and
Adam. With ``use_ids=False`` no id is read: a pure content model, which scores a user or an item
never seen in training exactly as one seen (the cold-start model of
:func:`tinyrec.data.split.cold_users`).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from ..losses import BCEWithLogitsLoss, CrossEntropyLoss
from ..nn import init
from ..nn.activation import ReLU
from ..nn.embedding_bag import EmbeddingBag
from ..nn.linear import Linear
from ..nn.module import Module, Sequential
from ..nn.spec import Floats, Ids, require
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
    resolve_dtype,
    seed_like,
)
from .checks import check_network_fit_memory, check_user_item
from .feature_base import _FeatureRecommender, feature_request, ids_rule
from .fm import metric_name
from .training import fit_recommender, monitored_names

_ANY = np.iinfo(np.int64).max
_PAIRS_PER_BLOCK = 1 << 15  # (user, item) pairs through the MLP at once when scoring


def hidden_layers(value, name: str) -> tuple[int, ...]:
    """The rule of ``layers``: one or more positive ints, the hidden widths (``(64, 32)``)."""
    sizes = tuple(value) if hasattr(value, "__iter__") and not isinstance(value, (str, bytes)) else ()
    if not sizes or not all(
        isinstance(h, numbers.Integral) and not isinstance(h, bool) and h >= 1 for h in sizes
    ):
        raise ValueError(
            f"{name} must be one or more positive ints, the hidden widths, e.g. (64, 32); got {value!r}"
        )
    return tuple(int(h) for h in sizes)


class FeatureMLPNet(Module):
    """Bags of embeddings per field, concatenated, an MLP, one logit per row.

    Parameters
    ----------
    n_slots : int
        Rows of the embedding table: every slot of every field.
    n_fields : int
        ``F``, the bags per input row.
    embedding_dim : int
        ``d``, the length of each field's vector.
    layers : tuple of int
        Hidden layer sizes (at least one): ``F·d → layers[0] → ... → layers[-1] → 1``.
    init_std : float, default 0.01
        The table starts as N(0, init_std²); the linear layers as torch's ``nn.Linear``.
    dtype, seed

    Notes
    -----
    Input: ``n`` rows of ``F`` bags as CSR over the ``n·F`` bags (bag ``r·F + f`` is row ``r``'s
    field ``f``): ``indices : (nnz,)`` slots, ``offsets : (n·F,)`` where each bag starts,
    ``values : (nnz,)`` the weights ``x_s``. Output: ``z : (n,)`` logits.

    * forward: ``e_{r,f} = Σ_{s ∈ bag (r, f)} x_s E[slot_s]`` (``(d,)``; :class:`EmbeddingBag`,
      mode ``"sum"``); ``h_0 = [e_{r,0}; ...; e_{r,F−1}]`` (``(F·d,)``); ``h_l = relu(W_l h_{l−1} +
      b_l)``; ``z = w_out · h_L + b_out``
    * backward: the MLP's gradients (:class:`~tinyrec.nn.Linear`, :class:`~tinyrec.nn.ReLU`),
      then ``dh_0`` split back into the ``F`` bag gradients ``de_{r,f}``, and the bag's
      ``dE[row] = Σ_{s : slot_s = row} x_s de_{bag(s)}`` (row-sparse) and ``dx_s = de_{bag(s)} ·
      E[slot_s]`` (returned; indices and offsets are integers: ``None``).
    """

    input_spec = (
        Ids("indices", bound="n_slots", ndim=1),
        Ids("offsets", bound="_any_offset", ndim=1),
        Floats("values", ndim=1),
    )
    _any_offset = _ANY  # positions in indices: checked against them in check_inputs

    def __init__(self, n_slots: int, n_fields: int, embedding_dim: int, layers=(64, 32), *,
                 init_std: float = 0.01, dtype=np.float32, seed=None):  # fmt: skip
        self.n_slots, self.n_fields, self.embedding_dim = int(n_slots), int(n_fields), int(embedding_dim)
        self.layer_sizes = tuple(int(h) for h in layers)
        self.dtype = resolve_dtype(dtype)
        rng = as_generator(seed)
        self.bag = EmbeddingBag(self.n_slots, self.embedding_dim, mode="sum", dtype=self.dtype, seed=rng)
        self.bag.weight.data[...] = init.normal(
            self.bag.weight.data.shape, 0.0, init_std, dtype=self.dtype, seed=rng
        )
        sizes = (self.n_fields * self.embedding_dim, *self.layer_sizes)
        hidden = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
            hidden += [Linear(fan_in, fan_out, dtype=self.dtype, seed=rng), ReLU()]
        self.mlp = Sequential(*hidden, Linear(sizes[-1], 1, dtype=self.dtype, seed=rng))

    @staticmethod
    def state_shapes(n_slots: int, n_fields: int, embedding_dim: int, layers) -> dict[str, tuple[int, ...]]:
        """The ``state_dict`` shapes of ``FeatureMLPNet(...)``, without building it."""
        sizes = (n_fields * embedding_dim, *layers, 1)
        shapes = {"bag.weight": (n_slots, embedding_dim)}
        for j, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            shapes[f"mlp.{2 * j}.weight"] = (fan_out, fan_in)  # Linear, ReLU, Linear, ..., Linear
            shapes[f"mlp.{2 * j}.bias"] = (fan_out,)
        return shapes

    def check_inputs(self, indices, offsets, values) -> tuple:
        indices, offsets, values = super().check_inputs(indices, offsets, values)
        bags = len(offsets) > 0 and offsets[0] == 0 and offsets[-1] <= len(indices) == len(values)
        rows_ok = len(offsets) % max(self.n_fields, 1) == 0
        require(bags and rows_ok and bool(np.all(np.diff(offsets) >= 0)),
                f"FeatureMLPNet takes n·{self.n_fields} bags: offsets rising from 0 within indices, one "
                f"value per index")  # fmt: skip
        return indices, offsets, values

    def forward(self, indices, offsets, values) -> np.ndarray:
        bags = self.bag.forward(indices, offsets, np.asarray(values, dtype=self.dtype))  # (n·F, d)
        h0 = bags.reshape(-1, self.n_fields * self.embedding_dim)  # (n, F·d): the fields side by side
        return self.mlp.forward(h0)[:, 0]

    def backward(self, grad_output: np.ndarray):
        dh0 = self.mlp.backward(grad_output[:, None])  # (n, F·d)
        _, _, dx = self.bag.backward(dh0.reshape(-1, self.embedding_dim))
        return None, None, dx

    def extra_repr(self) -> str:
        return f"{self.n_slots}, {self.n_fields}, {self.embedding_dim}, layers={self.layer_sizes}"


class FeatureMLP(_FeatureRecommender):
    """The purchase-probability model: ids and features embedded, an MLP, ``σ`` of one logit.

    Parameters
    ----------
    embedding_dim : int, default 16
        ``d``, each field's vector.
    layers : tuple of int, default (64, 32)
        Hidden layer sizes of the MLP (ReLU); the output layer has one unit.
    n_epochs : int, default 20
    n_negatives : int, default 4
        Negatives per positive, drawn uniformly among the training items the user did not
        interact with, afresh each epoch (label 0; every training interaction is a positive).
    batch_size : int, default 256
        Rows per batch; with ``loss="sampled_softmax"``, positives per batch (each with its
        ``n_negatives`` negatives).
    user_balance : float in [0, 1], default 0
        ``α``: an epoch draws positive ``(u, i)`` with probability ``∝ n_u^{−α}`` (``n_u``: the
        user's training interactions) instead of taking each once; 1 weighs every user alike, as
        ``evaluate`` does (:class:`~tinyrec.models.feature_base.PairBatches`).
    lr : float, default 1e-3
        Adam's learning rate.
    weight_decay : float, default 0
        L2 strength on the embedding table and the MLP's weights.
    init_std : float, default 0.01
    user_features, item_features : "all", "none", or a tuple of column names, default "all"
        As :class:`~tinyrec.models.fm.FM`.
    use_ids : True, False, "item" or "user", default True
        Read each user's and item's id as a field; False: a pure content model; ``"item"``: the
        item's id only, users by their features alone (a model for cold users).
    lazy_embeddings : bool, default True
        Adam updates only the table rows of each batch (``torch.optim.SparseAdam``).
    loss : {"bce", "sampled_softmax"}, default "bce"
        ``"bce"``: binary cross-entropy of each positive (label 1) and its negatives (label 0),
        the purchase-probability model. ``"sampled_softmax"``: each positive against its
        ``n_negatives`` negatives in one softmax (Notes), a ranking model.
    protocol, monitor, patience : validation with ``fit(train, valid=...)`` (default
        ``"sampled"``, ``"hr@10"``).
    verbose : bool, default False
    dtype : np.float32 (default) or np.float64
    seed : int or np.random.Generator, optional

    Notes
    -----
    ``p_ui = σ(z_ui)`` with ``z_ui`` the logit of :class:`FeatureMLPNet` on the pair's fields;
    ``ℒ = −mean[y log p + (1 − y) log(1 − p)]`` (:class:`~tinyrec.losses.BCEWithLogitsLoss`).
    ``predict`` and ``score_all`` return ``p_ui``, the purchase probability. After training, the
    table rows no training pair reached (a cold user's id, a category unseen in training) are
    zeroed, so such a field adds nothing and the others decide.

    ``loss="sampled_softmax"`` scores each positive ``(u, i)`` with its negatives ``j_1 … j_K``
    (``K = n_negatives``, uniform over the training items the user did not interact with) and
    minimizes ``ℒ = −mean log(e^{z_ui} / (e^{z_ui} + Σ_k e^{z_{u j_k}}))``
    (:class:`SampledSoftmaxLoss`). With a uniform proposal no correction term is needed: as ``K``
    grows this approaches the softmax over all items, whose best logits are ``log P(i | u)`` up to
    a constant per user: for a cold user, the popularity of the items among users with its
    features. ``σ(z_ui)`` is then a monotone score, not a probability. All items' scores for a user
    share the first layer's item half: ``W_1 h_0 = W_1^u h_0^u + W_1^i h_0^i``, computed once per
    user and once per item.
    """

    task = "ranking"
    hyperparameters = {
        "embedding_dim": positive_int,
        "layers": hidden_layers,
        "n_epochs": positive_int,
        "n_negatives": positive_int,
        "batch_size": positive_int,
        "user_balance": in_range(0.0, 1.0),
        "lr": nonnegative,
        "weight_decay": nonnegative,
        "init_std": nonnegative,
        "user_features": feature_request,
        "item_features": feature_request,
        "use_ids": ids_rule,
        "lazy_embeddings": flag,
        "loss": one_of("bce", "sampled_softmax"),
        "protocol": optional(one_of("sampled", "full")),
        "monitor": metric_name,
        "patience": optional(positive_int),
        "verbose": flag,
        "dtype": float_dtype,
        "seed": seed_like,
    }

    added_hyperparameters = {"loss": "bce", "user_balance": 0.0}  # model files written before them

    def __init__(self, embedding_dim: int = 16, layers=(64, 32), n_epochs: int = 20, *, n_negatives: int = 4,
                 batch_size: int = 256, lr: float = 1e-3, weight_decay: float = 0.0, init_std: float = 0.01,
                 user_features="all", item_features="all", use_ids: bool = True, lazy_embeddings: bool = True,
                 protocol=None, monitor=None, patience=None, verbose: bool = False, dtype=np.float32,
                 seed=None, loss: str = "bce", user_balance: float = 0.0):  # fmt: skip
        self.embedding_dim, self.layers, self.n_epochs = embedding_dim, layers, n_epochs
        self.n_negatives, self.batch_size, self.lr, self.weight_decay = (
            n_negatives,
            batch_size,
            lr,
            weight_decay,
        )
        self.init_std, self.user_features, self.item_features = init_std, user_features, item_features
        self.use_ids, self.lazy_embeddings, self.loss = use_ids, lazy_embeddings, loss
        self.user_balance = user_balance
        self.protocol, self.monitor, self.patience = protocol, monitor, patience
        self.verbose, self.dtype, self.seed = verbose, dtype, seed
        self._check_hyperparameters()

    def _check_hyperparameters(self) -> None:
        """The table's rules, then ``monitor`` among the metrics ``protocol`` returns at ``k = 10``."""
        super()._check_hyperparameters()
        if self.monitor is not None:
            check_choice(self.monitor, "monitor", monitored_names(self.protocol or "sampled", 10))

    # -- the network ----------------------------------------------------------------------------
    def _network_shapes(self) -> dict:
        return FeatureMLPNet.state_shapes(self.n_slots_, self.n_fields_, self.embedding_dim, self.layers)

    def _build_net(self, rng=None) -> None:
        rng = as_generator(self.seed) if rng is None else rng
        self.net = FeatureMLPNet(self.n_slots_, self.n_fields_, self.embedding_dim, self.layers,
                                 init_std=self.init_std, dtype=self.dtype, seed=rng)  # fmt: skip

    def _net_inputs(self, pairs) -> tuple:
        """A batch of pairs (FeatureRows, ``F`` bags per pair) as the network's bags."""
        return pairs.indices, pairs.indptr[:-1], pairs.weights.astype(self.dtype)

    # -- training -------------------------------------------------------------------------------
    def _fit(self, train, valid) -> None:
        self._prepare(train)
        rows = len(train) * (1 + self.n_negatives)
        check_network_fit_memory(self, {"an epoch's pairs": ((4, rows), np.int64)}, set_by=("embedding_dim",))
        rng = as_generator(self.seed)
        self._build_net(rng)
        tables = [self.net.bag.weight]
        dense = [p for name, p in self.net.named_parameters() if name != "bag.weight"]
        optimizer = Adam([{"params": tables}, {"params": dense}], lr=self.lr, weight_decay=self.weight_decay)
        batches = self._training_pairs(train, self.loss, self.n_negatives, self.batch_size, rng)
        loss = BCEWithLogitsLoss() if self.loss == "bce" else SampledSoftmaxLoss()
        self.history_ = fit_recommender(
            self, train, batches, optimizer, loss, self.n_epochs, valid=valid,
            protocol=self.protocol or "sampled", monitor=self.monitor or "hr@10", patience=self.patience,
            lazy_embeddings=self.lazy_embeddings, verbose=self.verbose,
        )  # fmt: skip
        self._zero_untrained([self.net.bag.weight.data])

    # -- scoring --------------------------------------------------------------------------------
    def _score_pairs(self, pairs) -> np.ndarray:
        self.net.eval()
        return _sigmoid(np.asarray(self.net.forward(*self._net_inputs(pairs)), dtype=np.float64))

    def _score(self, users, items) -> np.ndarray:
        out = np.empty(len(users), dtype=np.float64)
        for s in range(0, len(users), _PAIRS_PER_BLOCK):
            block = slice(s, s + _PAIRS_PER_BLOCK)
            out[block] = self._score_pairs(self._pairs(users[block], items[block]))
        return out

    def _side_vectors(self, rows) -> np.ndarray:
        """``h_0`` of one side's rows: its fields' bags, side by side, ``(n, F_side · d)``."""
        net = self.net
        bags = net.bag.forward(rows.indices, rows.indptr[:-1], rows.weights.astype(self.dtype))
        return bags.reshape(rows.n_rows, -1).astype(np.float64)

    def _score_users(self, user_rows) -> np.ndarray:
        """``p_ui`` of every item for rows of user fields: the first layer split by side (Notes)."""
        net, offset = self.net, self._rows["user"].n_slots
        items = self._rows["item"]
        shifted = type(items)(
            items.indptr, items.indices + offset, items.weights, items.n_fields, items.n_slots
        )
        h_user, h_item = self._side_vectors(user_rows), self._side_vectors(shifted)
        first = net.mlp.layers[0]
        W, b = first.weight.data.astype(np.float64), first.bias.data.astype(np.float64)
        split = h_user.shape[1]
        a_user, a_item = h_user @ W[:, :split].T, h_item @ W[:, split:].T + b  # (n, h1), (n_items, h1)
        scores = np.empty((len(a_user), len(a_item)))
        per_block = max(1, _PAIRS_PER_BLOCK // max(len(a_item), 1))
        for s in range(0, len(a_user), per_block):
            h = np.maximum(a_user[s : s + per_block, None, :] + a_item[None], 0.0)  # (block, n_items, h1)
            for layer in net.mlp.layers[2:]:  # after the first Linear and its ReLU: Linear, ReLU, ...
                if isinstance(layer, ReLU):
                    h = np.maximum(h, 0.0)
                else:
                    h = h @ layer.weight.data.T.astype(np.float64) + layer.bias.data
            scores[s : s + per_block] = _sigmoid(h[..., 0])
        return scores

    def _item_vectors(self):
        return None

    def explain(self, user, item, top: int = 5, *, features=None) -> FieldEffects:
        """The fields that raised ``p_ui`` most: each field's effect, ``p_ui`` minus ``p_ui`` with that
        field's bag emptied, largest first. ``features`` (a dict) explains a user with those
        features instead (``user`` may then be None: a new user)."""
        u, i = check_user_item(self, 0 if user is None else user, item)
        users = None if user is None else np.array([u])
        _, user_rows, _ = self._query(users, None, None if features is None else [features])
        pairs = self._pairs(None, np.array([i]), user_rows=user_rows)
        base = float(self._score_pairs(pairs)[0])
        effects = []
        for f, name in enumerate(self._field_names()):
            start, stop = pairs.indptr[f], pairs.indptr[f + 1]
            keep = np.r_[0:start, stop : len(pairs.indices)]
            indptr = pairs.indptr.copy()
            indptr[f + 1 :] -= stop - start  # the bag of field f emptied
            without = type(pairs)(
                indptr, pairs.indices[keep], pairs.weights[keep], pairs.n_fields, pairs.n_slots
            )
            effects.append((name, base - float(self._score_pairs(without)[0])))
        effects.sort(key=lambda e: -e[1])
        return FieldEffects(-1 if user is None else u, i, base, effects[: max(0, int(top))])

    def _field_names(self) -> list[str]:
        names = []
        for side in ("user", "item"):
            if self._reads_id(side):
                names.append(f"{side} id")
            names += [f"{side} {column}" for column in self.encoders_[side].columns]
        return names


class SampledSoftmaxLoss:
    """Each positive against its own negatives in one softmax: stacked scores, as the batches give them.

    ``z`` holds a batch's ``N`` positives, then their ``N·K`` negatives, positive ``n``'s ``K``
    negatives at ``N + nK … N + nK + K − 1``; ``target`` (ones, one per positive) is read only for
    its length. With the rows ``l_n = [z_n, z_{N+nK}, …, z_{N+nK+K−1}]`` (``(N, 1 + K)``),
    ``ℒ = mean_n −log softmax(l_n)_0`` (:class:`~tinyrec.losses.CrossEntropyLoss`, target class
    0), and ``dz`` is ``dl`` unstacked: ``dl_n = (softmax(l_n) − e_0) / N``.
    """

    reduction = "mean"

    def __init__(self):
        self._ce = CrossEntropyLoss()

    def forward(self, scores: np.ndarray, target: np.ndarray) -> float:
        n = len(target)
        self._n = n
        logits = np.concatenate([scores[:n, None], scores[n:].reshape(n, -1)], axis=1)  # (N, 1 + K)
        return self._ce.forward(logits, np.zeros(n, dtype=np.int64))

    def backward(self) -> np.ndarray:
        d = self._ce.backward()
        return np.concatenate([d[:, 0], d[:, 1:].reshape(-1)])


@dataclass
class FieldEffects:
    """Why a FeatureMLP scored ``item`` for ``user`` (-1: a user given by features) ``probability``:
    ``effects`` are ``(field, probability − probability without the field)``, largest first."""

    user: int
    item: int
    probability: float
    effects: list

    def __str__(self) -> str:
        return self.table()

    def table(self, *, header: str | None = None) -> str:
        first = f"user {self.user}, item {self.item}" if header is None else header
        width = max([len(name) for name, _ in self.effects] + [12])
        lines = [f"{first}: purchase probability {self.probability:.3f}; without each field:"]
        lines += [f"  {name:<{width}}  {value:+.3f}" for name, value in self.effects]
        return "\n".join(lines)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    """``σ(z)``, stable for large ``|z|``."""
    out = np.empty_like(z)
    positive = z >= 0
    out[positive] = 1.0 / (1.0 + np.exp(-z[positive]))
    e = np.exp(z[~positive])
    out[~positive] = e / (1.0 + e)
    return out


__all__ = ["FeatureMLP", "FeatureMLPNet", "FieldEffects", "SampledSoftmaxLoss"]
