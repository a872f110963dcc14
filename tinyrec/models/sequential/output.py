"""``ItemOutput``: one output vector and one bias per item, for every item or for sampled candidates."""

from __future__ import annotations

import math

import numpy as np

from ...nn import init
from ...nn.module import Module, Parameter, RowGrad
from ...nn.spec import Floats, Ids, require
from ...validation import as_generator, check_positive_int, resolve_dtype


class ItemOutput(Module):
    """The logits of items for some hidden states: ``ŷ_i = h · w_i + b_i``.

    GRU4Rec's output layer (Hidasi et al. 2016) and Caser's ``W2``, ``b2`` (Tang & Wang 2018). Over
    every item it is a ``Linear(in_features, n_items)``; over a few sampled candidates per row it
    reads only their rows, as an embedding table would.

    Parameters
    ----------
    in_features : int
        The size of ``h``.
    n_items : int
    init_std : float, optional
        ``W`` starts as N(0, init_std²) and ``b`` as zeros (Caser's initialisation); when None
        (default), both start as ``torch.nn.Linear``'s, U(±1/sqrt(in_features)).
    dtype : np.float32 (default) or np.float64
    seed : int or np.random.Generator

    Attributes
    ----------
    weight : (n_items, in_features)
        ``w_i`` is row ``i``.
    bias : (n_items,)

    Notes
    -----
    Two forms of ``forward``, with ``h : (n, in_features)``:

    * ``forward(h)``: every item, ``Y = h Wᵀ + b : (n, n_items)``; then ``dW = dYᵀ h``,
      ``db = Σ_rows dY`` (dense) and ``dh = dY W``.
    * ``forward(h, candidates)`` with ``candidates : (n, n_candidates)`` item indices:
      ``Y[r, c] = h_r · w_{candidates[r, c]} + b_{candidates[r, c]} : (n, n_candidates)``; then
      ``dh_r = Σ_c dY[r, c] w_{candidates[r, c]}``, and row ``i`` of ``dW`` sums
      ``dY[r, c] h_r`` over the ``(r, c)`` with ``candidates[r, c] = i`` (a row-sparse
      :class:`~tinyrec.nn.module.RowGrad`); ``db`` the same sums of ``dY`` (dense, ``n_items`` long).
    """

    input_spec = (
        Floats("h", ndim=2, last="in_features"),
        Ids("candidates", bound="n_items", ndim=2, optional=True),
    )

    def __init__(self, in_features: int, n_items: int, *, init_std: float | None = None, dtype=np.float32,
                 seed=None):  # fmt: skip
        self.in_features = check_positive_int(in_features, "in_features")
        self.n_items = check_positive_int(n_items, "n_items")
        self.dtype = resolve_dtype(dtype)
        rng = as_generator(seed)
        shape = (self.n_items, self.in_features)
        if init_std is None:  # torch.nn.Linear's: weight and bias U(±1/sqrt(fan_in))
            bound = 1.0 / math.sqrt(self.in_features)
            self.weight = Parameter(init.uniform(shape, -bound, bound, dtype=self.dtype, seed=rng))
            self.bias = Parameter(init.uniform((self.n_items,), -bound, bound, dtype=self.dtype, seed=rng))
        else:
            self.weight = Parameter(init.normal(shape, 0.0, init_std, dtype=self.dtype, seed=rng))
            self.bias = Parameter(init.zeros((self.n_items,), dtype=self.dtype))
        self._h = self._candidates = None

    def check_inputs(self, h, candidates=None) -> tuple:
        h, candidates = super().check_inputs(h, candidates)
        if candidates is not None:
            require(len(candidates) == len(h), f"ItemOutput got {len(h)} hidden states but {len(candidates)} "
                    f"rows of candidates; one row of candidates per hidden state")  # fmt: skip
        return h, candidates

    def forward(self, h: np.ndarray, candidates: np.ndarray | None = None) -> np.ndarray:
        self._h, self._candidates = h, candidates
        if candidates is None:
            return h @ self.weight.data.T + self.bias.data  # (n, n_items)
        w = self.weight.data[candidates]  # (n, C, in_features)
        return np.einsum("nf,ncf->nc", h, w) + self.bias.data[candidates]

    def backward(self, grad_output: np.ndarray):
        h, candidates, dy = self._h, self._candidates, grad_output
        if candidates is None:
            self.weight.accumulate(dy.T @ h)  # dW = dYᵀ h
            self.bias.accumulate(dy.sum(axis=0))  # db = Σ_rows dY
            return dy @ self.weight.data, None  # dh = dY W
        rows = candidates.reshape(-1)
        dw = (dy[:, :, None] * h[:, None, :]).reshape(-1, self.in_features)  # dY[r, c] h_r per (r, c)
        self.weight.accumulate(RowGrad.from_indices(rows, dw))  # summed per item
        self.bias.accumulate(
            np.bincount(rows, weights=dy.reshape(-1), minlength=self.n_items).astype(self.dtype)
        )
        return np.einsum("nc,ncf->nf", dy, self.weight.data[candidates]), None  # dh_r = Σ_c dY[r, c] w_c

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, n_items={self.n_items}, dtype={self.dtype.name}"
