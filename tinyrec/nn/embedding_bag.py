"""Bags of embedding rows, summed or averaged, as ``torch.nn.EmbeddingBag`` with ``sparse=True``."""

from __future__ import annotations

import numpy as np

from ..kernels.embedding import gather_rows
from ..validation import as_generator, check_bool, check_choice, check_positive_int, resolve_dtype
from . import init
from .embedding import _check_padding_idx
from .module import Module, Parameter, RowGrad
from .spec import Floats, Ids, call_arguments, require

_ANY = np.iinfo(np.int64).max
_LAYOUT = (
    "input (N, L) (N bags of L ids), or input (n,) with offsets (N,): starting at 0, non-decreasing, "
    "at most n (with include_last_offset: N + 1 offsets, the last n)"
)
_WEIGHTS = "per_sample_weights must have input's shape, and needs mode='sum' (as in torch)"


def segment_sum(values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """``out[r] = Σ values[offsets[r]:offsets[r + 1]]`` along axis 0 (an empty segment: 0).

    ``offsets : (n + 1,)`` non-decreasing, ``offsets[-1] = len(values)`` (CSR row pointers).
    """
    out = np.zeros((len(offsets) - 1,) + values.shape[1:], dtype=values.dtype)
    full = offsets[1:] > offsets[:-1]
    if full.any():  # reduceat sums each segment's run (empty segments have no run: left at zero)
        out[full] = np.add.reduceat(values, offsets[:-1][full], axis=0)
    return out


class EmbeddingBag(Module):
    """The weighted sum (or the mean) of each bag's rows of a table ``W``, without building the rows.

    Parameters
    ----------
    num_embeddings : int
        Number of rows; valid ids are ``0 .. num_embeddings - 1``.
    embedding_dim : int
        Length of each row (and of each bag's output).
    mode : {"mean", "sum"}, default "mean"
        Average or sum each bag's rows (torch's default is ``"mean"``; its ``"max"`` is not
        provided). ``per_sample_weights`` needs ``"sum"``, as in torch.
    padding_idx : int or None, default None
        An id left out of every bag (and of a mean's count); its row starts at zero and never
        receives a gradient.
    include_last_offset : bool, default False
        ``offsets`` has one more entry, the end of the last bag (``len(input)``), as in torch.
    dtype : np.float32 (default) or np.float64
    seed : None, int or np.random.Generator

    Attributes
    ----------
    weight : Parameter, (num_embeddings, embedding_dim)
        Initialized from N(0, 1), as torch does.

    Notes
    -----
    Inputs: ``input : (N, L)`` ints, ``N`` bags of ``L`` ids each; or ``input : (n,)`` ints with
    ``offsets : (N,)`` (bag ``b`` is ``input[offsets[b]:offsets[b + 1]]``, the last to the end),
    ``offsets[0] = 0``, non-decreasing (an empty bag gives zeros). ``per_sample_weights``:
    floats of ``input``'s shape, a weight ``c_s`` per id. Output ``Y : (N, embedding_dim)``.

    * forward: ``Y[b] = Σ_{s ∈ bag b} c_s W[input_s]``, with ``c_s`` the given weight
      (``"sum"``), 1 (``"sum"`` without weights) or ``1 / |bag b|`` (``"mean"``); an id equal to
      ``padding_idx`` has ``c_s = 0`` and does not count in ``|bag b|``.
    * ``dW[row] = Σ_{s : input_s = row} c_s dY[bag(s)]``, **row-sparse**: a :class:`RowGrad` of the
      distinct ids (as :class:`~tinyrec.nn.Embedding`), so a step costs ``O(n · dim)``;
    * ``dc_s = dY[bag(s)] · W[input_s]`` (only with ``per_sample_weights``; 0 for a padding id);
      ``input`` and ``offsets`` are integers: no gradient (``None``).

    Examples
    --------
    >>> bag = EmbeddingBag(10, 4, mode="sum", seed=0)
    >>> bag(np.array([1, 2, 4, 5, 4]), np.array([0, 2])).shape   # bags [1, 2] and [4, 5, 4]
    (2, 4)
    """

    input_spec = (
        Ids("input", bound="num_embeddings", ndim=(1, 2)),
        Ids("offsets", bound="_any_offset", ndim=1, optional=True),
        Floats("per_sample_weights", optional=True),
    )
    _any_offset = _ANY  # offsets are positions in input: their bound is checked in check_inputs

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        *,
        mode: str = "mean",
        padding_idx=None,
        include_last_offset: bool = False,
        dtype=np.float32,
        seed=None,
    ):
        self.num_embeddings = check_positive_int(num_embeddings, "num_embeddings")
        self.embedding_dim = check_positive_int(embedding_dim, "embedding_dim")
        self.mode = check_choice(mode, "mode", ("mean", "sum"))
        if padding_idx is not None:  # negative counts from the end, as in torch
            padding_idx = _check_padding_idx(padding_idx, self.num_embeddings) % self.num_embeddings
        self.padding_idx = padding_idx
        self.include_last_offset = check_bool(include_last_offset, "include_last_offset")
        self.dtype = resolve_dtype(dtype)
        table = init.normal(
            (self.num_embeddings, self.embedding_dim), 0.0, 1.0, dtype=self.dtype, seed=as_generator(seed)
        )
        if padding_idx is not None:
            table[padding_idx] = 0.0
        self.weight = Parameter(table)

    def check_inputs(self, *inputs, **kwargs) -> tuple:
        inputs = super().check_inputs(*inputs, **kwargs)  # ids in range, offsets >= 0, weights' dtype
        a = call_arguments(self, inputs, kwargs)
        ids, offsets, weights = a["input"], a["offsets"], a["per_sample_weights"]
        given = f"input {ids.shape}" + ("" if offsets is None else f" with offsets {offsets}")
        require(self._fits(ids, offsets), f"EmbeddingBag needs {_LAYOUT}; got {given}")
        require(weights is None or (weights.shape == ids.shape and self.mode == "sum"), _WEIGHTS)
        return inputs

    def _fits(self, ids: np.ndarray, offsets) -> bool:
        """Whether ``ids`` is 2-D without offsets, or 1-D with offsets rising from 0 within it."""
        if offsets is None:
            return ids.ndim == 2
        if ids.ndim != 1 or len(offsets) == 0 or offsets[0] != 0 or np.any(np.diff(offsets) < 0):
            return False
        return offsets[-1] == len(ids) if self.include_last_offset else offsets[-1] <= len(ids)

    def _bags(self, ids: np.ndarray, offsets) -> tuple[np.ndarray, np.ndarray]:
        """``(starts, stops)`` of the bags, as positions in the flattened ``ids``."""
        if ids.ndim == 2:
            n_bags, length = ids.shape
            starts = np.arange(n_bags, dtype=np.int64) * length
            return starts, starts + length
        offsets = np.asarray(offsets, dtype=np.int64)
        starts = offsets[:-1] if self.include_last_offset else offsets
        return starts, np.append(starts[1:], offsets[-1] if self.include_last_offset else ids.size)

    def forward(self, input, offsets=None, per_sample_weights=None) -> np.ndarray:
        """``Y : (N, embedding_dim)``, one row per bag (see the class Notes)."""
        ids = np.asarray(input, dtype=np.int64)
        starts, stops = self._bags(ids, offsets)
        ids = ids.reshape(-1)
        sizes = stops - starts
        bag_of = np.repeat(np.arange(len(starts)), sizes)  # (n,) the bag of each id
        kept = np.ones(ids.size) if self.padding_idx is None else (ids != self.padding_idx).astype(np.float64)
        if per_sample_weights is not None:
            coef = np.asarray(per_sample_weights).reshape(-1) * kept
        elif self.mode == "sum":
            coef = kept
        else:  # mean: 1 / (the bag's ids that are not padding)
            counts = np.bincount(bag_of, weights=kept, minlength=len(starts))
            coef = kept / np.maximum(counts, 1.0)[bag_of]
        coef = coef.astype(self.dtype)
        self._ids, self._bag_of, self._coef, self._ids_shape = ids, bag_of, coef, np.shape(input)
        self._weighted = per_sample_weights is not None
        rows = gather_rows(self.weight.data, ids) * coef[:, None]  # (n, dim): c_s W[input_s]
        return segment_sum(rows, np.append(starts, ids.size))  # the last bag runs to the end

    def backward(self, grad_output: np.ndarray):
        """Accumulate the row-sparse ``dW``; return ``(None, None, dc)`` (``dc`` None without weights)."""
        dy = grad_output[self._bag_of]  # (n, dim): each id's bag gradient
        keep = self._ids != self.padding_idx if self.padding_idx is not None else slice(None)
        ids, values = self._ids[keep], (dy * self._coef[:, None])[keep]
        self.weight.accumulate(RowGrad.from_indices(ids, values) if ids.size else RowGrad(ids, values))
        if not self._weighted:
            return None, None, None
        dc = np.einsum("nd,nd->n", dy, gather_rows(self.weight.data, self._ids))
        if self.padding_idx is not None:
            dc[self._ids == self.padding_idx] = 0.0  # a padding id is left out: its weight does nothing
        return None, None, dc.reshape(self._ids_shape)

    def extra_repr(self) -> str:
        pad = f", padding_idx={self.padding_idx}" if self.padding_idx is not None else ""
        sizes = f"{self.num_embeddings}, {self.embedding_dim}"
        return f"{sizes}, mode={self.mode!r}{pad}, dtype={self.dtype.name}"
