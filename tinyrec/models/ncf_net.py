"""The networks of neural collaborative filtering (He et al., WWW 2017), built from tinyrec layers.

A network maps a batch of ``(user, item)`` pairs to one logit each. It is a set of **towers**
(each turns the pair into a feature vector ``h``) followed by one output layer on their
concatenation::

    GMF tower:  h_G = p_u^G ⊙ q_i^G                              (batch, d)
    MLP tower:  h_M = relu(W_last ... relu(W_1 [p_u^M ; q_i^M] + b_1) ... + b_last)  (batch, layers[-1])
    output:     ŷ_ui = w · [h_G ; h_M] + b                         (batch,)

GMF is the network with the GMF tower alone, NCF's MLP the one with the MLP tower alone, NeuMF
the one with both; every tower has its own embedding tables. The model classes (:mod:`tinyrec.models.ncf`)
train them; :class:`NCFNet` can also be assembled by hand with a new tower (tutorial 06).
"""

from __future__ import annotations

import numbers

import numpy as np

from ..nn import init
from ..nn.activation import ReLU
from ..nn.embedding import Embedding
from ..nn.linear import Linear
from ..nn.module import Module, Sequential
from ..nn.spec import Ids, require
from ..validation import as_generator, check_nonnegative, resolve_dtype


def _embedding(n: int, dim: int, init_std: float, dtype, rng) -> Embedding:
    """An :class:`Embedding` whose table is drawn from N(0, init_std²) (NCF's initialisation)."""
    table = Embedding(n, dim, dtype=dtype, seed=rng)
    std = check_nonnegative(init_std, "init_std")
    table.weight.data[...] = init.normal((n, dim), 0.0, std, dtype=dtype, seed=rng)
    return table


class PairModule(Module):
    """A module of ``(user, item)`` pairs: ``users`` and ``items`` are 1-D ids of one length.

    ``module(users, items)`` checks them once (ids in ``[0, n_users)`` and ``[0, n_items)``, equal
    shapes); the towers inside a network are then run by ``forward``, unchecked.
    """

    input_spec = (Ids("users", bound="n_users", ndim=1), Ids("items", bound="n_items", ndim=1))

    def check_inputs(self, users, items) -> tuple:
        users, items = super().check_inputs(users, items)
        require(users.shape == items.shape,
                f"{type(self).__name__} got users of shape {users.shape} and items of shape {items.shape}; "
                f"they must match (one pair per position)")  # fmt: skip
        return users, items


class GMFTower(PairModule):
    """Generalized matrix factorization: the element-wise product of a user and an item vector.

    Parameters
    ----------
    n_users, n_items : int
        Rows of the user and item tables.
    dim : int
        ``d``, the length of ``p_u`` and ``q_i`` (and of the output).
    init_std : float, default 0.01
        The tables start as N(0, init_std²), as in the NCF reference code.
    dtype : np.float32 (default) or np.float64
    seed : None, int or np.random.Generator

    Notes
    -----
    Shapes: ``users, items : (batch,)`` ints; ``h : (batch, d)``.

    * forward: ``h = p_u ⊙ q_i`` with ``p_u = P[users]``, ``q_i = Q[items]``
    * ``dp_u = dh ⊙ q_i``, ``dq_i = dh ⊙ p_u``; the embedding tables sum them per row
      (row-sparse :class:`~tinyrec.nn.module.RowGrad`).
    """

    def __init__(self, n_users: int, n_items: int, dim: int, *, init_std: float = 0.01,
                 dtype=np.float32, seed=None):  # fmt: skip
        rng = as_generator(seed)
        self.n_users, self.n_items, self.dim = int(n_users), int(n_items), int(dim)
        self.user_embedding = _embedding(n_users, dim, init_std, dtype, rng)
        self.item_embedding = _embedding(n_items, dim, init_std, dtype, rng)
        self._p = self._q = None

    @property
    def out_features(self) -> int:
        return self.dim

    @staticmethod
    def state_shapes(n_users: int, n_items: int, dim: int) -> dict[str, tuple[int, ...]]:
        """The ``state_dict`` shapes of ``GMFTower(n_users, n_items, dim)``, without building it."""
        return {"user_embedding.weight": (n_users, dim), "item_embedding.weight": (n_items, dim)}

    def forward(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        self._p = self.user_embedding.forward(users)  # (batch, d)
        self._q = self.item_embedding.forward(items)  # (batch, d)
        return self._p * self._q

    def backward(self, grad_output: np.ndarray) -> tuple[None, None]:
        p, q = self._p, self._q
        self.user_embedding.backward(grad_output * q)
        self.item_embedding.backward(grad_output * p)
        return None, None


class MLPTower(PairModule):
    """The MLP tower: concatenated user and item vectors through Linear + ReLU layers.

    Parameters
    ----------
    n_users, n_items : int
        Rows of the user and item tables.
    layers : sequence of int, default (64, 32, 16, 8)
        NCF's convention: ``layers[0]`` is the length of ``[p_u ; q_i]`` (even; each vector has
        ``layers[0] / 2`` entries) and ``layers[1:]`` are the widths of the hidden layers, each
        ``Linear`` followed by ``ReLU``.
    init_std : float, default 0.01
        The tables start as N(0, init_std²); the Linear layers keep torch's initialisation.
    dtype : np.float32 (default) or np.float64
    seed : None, int or np.random.Generator

    Notes
    -----
    Shapes: ``users, items : (batch,)`` ints; ``z_0 : (batch, layers[0])``;
    ``h : (batch, layers[-1])``.

    * forward: ``z_0 = [p_u ; q_i]``, ``z_l = relu(z_{l−1} W_lᵀ + b_l)`` for
      ``l = 1 … len(layers) − 1``, ``h`` the last ``z_l``
    * backward: ``dz_{l−1} = (dz_l ⊙ 1[z_l > 0]) W_l`` layer by layer (the ``Sequential``), then
      ``dp_u = dz_0[:, :layers[0]/2]`` and ``dq_i = dz_0[:, layers[0]/2:]`` (the concatenation
      splits the gradient back into its two halves), summed per row in the tables.
    """

    def __init__(self, n_users: int, n_items: int, layers=(64, 32, 16, 8), *, init_std: float = 0.01,
                 dtype=np.float32, seed=None):  # fmt: skip
        layers = check_layers(layers)
        rng = as_generator(seed)
        dtype = resolve_dtype(dtype)
        self.n_users, self.n_items, self.layer_sizes = int(n_users), int(n_items), layers
        half = layers[0] // 2
        self.user_embedding = _embedding(n_users, half, init_std, dtype, rng)
        self.item_embedding = _embedding(n_items, half, init_std, dtype, rng)
        hidden = []
        for fan_in, fan_out in zip(layers[:-1], layers[1:], strict=True):
            hidden += [Linear(fan_in, fan_out, dtype=dtype, seed=rng), ReLU()]
        self.mlp = Sequential(*hidden)
        self._half = half

    @property
    def out_features(self) -> int:
        return self.layer_sizes[-1]

    @staticmethod
    def state_shapes(n_users: int, n_items: int, layers) -> dict[str, tuple[int, ...]]:
        """The ``state_dict`` shapes of ``MLPTower(n_users, n_items, layers)``, without building it."""
        half = layers[0] // 2
        shapes = {"user_embedding.weight": (n_users, half), "item_embedding.weight": (n_items, half)}
        for j, (fan_in, fan_out) in enumerate(zip(layers[:-1], layers[1:], strict=True)):
            shapes[f"mlp.{2 * j}.weight"] = (fan_out, fan_in)  # the Sequential: Linear, ReLU, Linear, ...
            shapes[f"mlp.{2 * j}.bias"] = (fan_out,)
        return shapes

    def forward(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        z0 = np.concatenate(
            [self.user_embedding.forward(users), self.item_embedding.forward(items)], axis=1
        )  # (batch, layers[0])
        return self.mlp.forward(z0)

    def backward(self, grad_output: np.ndarray) -> tuple[None, None]:
        dz0 = self.mlp.backward(grad_output)  # (batch, layers[0])
        self.user_embedding.backward(dz0[:, : self._half])
        self.item_embedding.backward(dz0[:, self._half :])
        return None, None


_RESERVED = frozenset({"output", "tower_names", "widths", "dtype", "n_users", "n_items"})


class NCFNet(PairModule):
    """Towers side by side, then one Linear layer to a logit: GMF, MLP and NeuMF in one class.

    Parameters
    ----------
    towers : dict of str to Module
        Each tower has ``forward(users, items) -> (batch, out_features)``, a matching
        ``backward(dh)``, and an ``out_features`` attribute. The towers become attributes of the
        network under their names (parameter names ``gmf.user_embedding.weight``, ...). The network
        calls a tower's ``forward`` with ids it has checked, so the tower's tables must have
        ``n_users`` and ``n_items`` rows (checked here for a tower that has ``n_users`` and
        ``n_items`` attributes, as GMFTower and MLPTower do).
    n_users, n_items : int
        ``net(users, items)`` checks the ids against them, once for the whole network (the towers'
        tables have these many rows); the towers then run unchecked (``tower.forward``).
    dtype : np.float32 (default) or np.float64
    seed : None, int or np.random.Generator
        Seeds the output layer.

    Notes
    -----
    Shapes: ``users, items : (batch,)`` ints; each tower's output ``h : (batch, out_features)``;
    ``z = [h of the first tower ; h of the second ; ...] : (batch, F)``, ``F`` the sum of the
    towers' ``out_features``; ``ŷ : (batch,)`` logits.

    * forward: ``ŷ = z wᵀ + b`` with the output layer ``w : (1, F)``, ``b : (1,)``
    * ``dw = dŷᵀ z``, ``db = Σ dŷ``, ``dz = dŷ w`` (the output Linear), then the gradient
      **splits** at the concatenation: each tower's ``dh`` is its own ``out_features`` columns of
      ``dz`` and goes down that tower alone.
      The towers share no parameter, so nothing is summed where they meet; each tower's
      embeddings receive only their own tower's gradient.

    The output is a logit: train it with :class:`~tinyrec.losses.BCEWithLogitsLoss`; ``σ(ŷ)`` is the
    predicted probability of an interaction.
    """

    def __init__(self, towers: dict, n_users: int, n_items: int, *, dtype=np.float32, seed=None):
        if not towers or not all(isinstance(t, Module) for t in towers.values()):
            raise TypeError("towers must be a non-empty dict of name -> Module")
        self.dtype = resolve_dtype(dtype)
        self.n_users, self.n_items = int(n_users), int(n_items)
        ours = (self.n_users, self.n_items)
        self.tower_names = list(towers)
        for name, tower in towers.items():
            if not name.isidentifier() or name in _RESERVED or hasattr(self, name):
                raise ValueError(
                    f"tower name {name!r} must be a Python identifier that is not taken (not one of "
                    f"{sorted(_RESERVED)} or a Module attribute)"
                )
            sizes = (getattr(tower, "n_users", self.n_users), getattr(tower, "n_items", self.n_items))
            require(sizes == ours, f"tower {name!r} was built for (n_users, n_items) = {sizes}, the network "
                    f"for {ours}; build both for the same data", ValueError)  # fmt: skip
            setattr(self, name, tower)
        self.widths = [int(t.out_features) for t in towers.values()]
        self.output = Linear(sum(self.widths), 1, dtype=self.dtype, seed=seed)

    def forward(self, users, items) -> np.ndarray:
        """Logits ``(batch,)`` of the pairs ``(users[k], items[k])``."""
        parts = [getattr(self, name).forward(users, items) for name in self.tower_names]
        z = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)  # (batch, F)
        return self.output.forward(z)[:, 0]

    def backward(self, grad_output: np.ndarray) -> tuple[None, None]:
        """Backward through the output layer, then down each tower its slice of ``dz``."""
        dz = self.output.backward(grad_output[:, None])  # (batch, F)
        start = 0
        for name, width in zip(self.tower_names, self.widths, strict=True):
            getattr(self, name).backward(dz[:, start : start + width])
            start += width
        return None, None

    def extra_repr(self) -> str:
        return f"towers={self.tower_names}, dtype={self.dtype.name}"

    @staticmethod
    def state_shapes(towers: dict[str, tuple[dict, int]]) -> dict[str, tuple[int, ...]]:
        """The ``state_dict`` shapes of an NCFNet, without building it, from each tower's
        ``(state shapes, out_features)`` (e.g. ``GMFTower.state_shapes(...)`` and ``dim``)."""
        shapes = {f"{name}.{key}": shape for name, (own, _) in towers.items() for key, shape in own.items()}
        width = sum(out for _, out in towers.values())
        return {**shapes, "output.weight": (1, width), "output.bias": (1,)}


def check_layers(layers, name: str = "layers") -> tuple[int, ...]:
    """The rule of NCF's MLP sizes: a tuple of positive ints, at least two, the first even."""
    if isinstance(layers, (str, bytes)) or not hasattr(layers, "__iter__"):
        raise ValueError(f"{name} must be a sequence of ints such as (64, 32, 16, 8), got {layers!r}")
    layers = tuple(layers)
    if len(layers) < 2 or not all(
        isinstance(n, numbers.Integral) and not isinstance(n, bool) and n >= 1 for n in layers
    ):
        raise ValueError(
            f"{name} must hold at least two positive ints (the concatenated embedding size, then the "
            f"hidden widths), e.g. (64, 32, 16, 8); got {layers!r}"
        )
    if layers[0] % 2:
        raise ValueError(
            f"{name}[0]={layers[0]} is the length of [p_u ; q_i], so it must be even (e.g. 64 = 32 + 32)"
        )
    return tuple(int(n) for n in layers)


__all__ = ["GMFTower", "MLPTower", "NCFNet", "PairModule", "check_layers"]
