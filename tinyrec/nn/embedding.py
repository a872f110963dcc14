"""A lookup table of learnable vectors, as ``torch.nn.Embedding`` with ``sparse=True``."""

from __future__ import annotations

import numpy as np

from ..kernels.embedding import gather_rows
from ..validation import as_generator, check_int, check_positive_int, resolve_dtype
from . import init
from .module import Module, Parameter, RowGrad
from .spec import Ids


class Embedding(Module):
    """Rows of a table ``W`` picked by integer ids: ``Y[...] = W[ids[...]]``.

    Parameters
    ----------
    num_embeddings : int
        Number of rows (users, items, ...); valid ids are ``0 .. num_embeddings - 1``.
    embedding_dim : int
        Length of each vector.
    padding_idx : int or None, default None
        An id whose row is all zeros and never receives a gradient (a "no item" filler in
        padded sequences). Negative values count from the end, as in torch.
    dtype : np.float32 (default) or np.float64
    seed : None, int or np.random.Generator
        Source of the initial table.

    Attributes
    ----------
    weight : Parameter, (num_embeddings, embedding_dim)
        Initialized from N(0, 1) as torch does; the ``padding_idx`` row is zeroed.

    Notes
    -----
    Shapes: ``ids : (*)`` of any shape (int), ``Y : (*, embedding_dim)``.

    * forward: ``Y[s] = W[ids[s]]`` for every position ``s``.
    * ``dW[row] = Σ_{s : ids[s] = row} dY[s]`` — the rows of ``dY`` whose id is ``row``, summed;
      rows never looked up get no gradient, and the ``padding_idx`` row never does.
    * ``dids`` does not exist (ids are integers): ``backward`` returns ``None``.

    ``dW`` is kept **row-sparse**: ``backward`` builds a :class:`RowGrad` of the ids in the batch
    (repeated ids summed at once by a Numba kernel, in one pass over ``dY`` with a hash table),
    never a dense table-sized array, so a step costs O(batch · dim) however large the table. This
    is torch's ``sparse=True``; optimizers apply it lazily, only to those rows (like
    ``torch.optim.SparseAdam``). torch's ``max_norm`` and ``scale_grad_by_freq`` options are not
    provided.

    Examples
    --------
    >>> emb = Embedding(10, 4, seed=0)
    >>> emb(np.array([[1, 2, 2]])).shape
    (1, 3, 4)
    """

    input_spec = (Ids("indices", bound="num_embeddings"),)

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        *,
        dtype=np.float32,
        seed=None,
    ):
        self.num_embeddings = check_positive_int(num_embeddings, "num_embeddings")
        self.embedding_dim = check_positive_int(embedding_dim, "embedding_dim")
        self.dtype = resolve_dtype(dtype)
        if padding_idx is not None:  # negative counts from the end, as in torch
            padding_idx = _check_padding_idx(padding_idx, self.num_embeddings) % self.num_embeddings
        self.padding_idx = padding_idx
        rng = as_generator(seed)
        table = init.normal((self.num_embeddings, self.embedding_dim), 0.0, 1.0, dtype=self.dtype, seed=rng)
        if padding_idx is not None:
            table[padding_idx] = 0.0
        self.weight = Parameter(table)
        self._ids = None  # (n,) int64, the flattened ids of the last forward
        self._ids_shape = None

    def forward(self, indices) -> np.ndarray:
        """Look up ``indices : (*)`` (ints in ``[0, num_embeddings)``); returns ``(*, embedding_dim)``."""
        ids = np.asarray(indices, dtype=np.int64)
        self._ids_shape = ids.shape
        self._ids = np.ascontiguousarray(ids).reshape(-1)
        out = gather_rows(self.weight.data, self._ids)  # (n, dim)
        return out.reshape(ids.shape + (self.embedding_dim,))

    def backward(self, grad_output: np.ndarray) -> None:
        """Accumulate the row-sparse ``dW`` (a :class:`RowGrad`); return ``None``."""
        ids = self._ids
        values = grad_output.reshape(-1, self.embedding_dim)  # (n, dim), one row per looked-up id
        if self.padding_idx is not None:  # the padding row never receives a gradient
            keep = ids != self.padding_idx
            if not keep.all():
                ids, values = ids[keep], values[keep]
        grad = RowGrad.from_indices(ids, values)  # dW's rows: the repeats summed, nothing shared with dY
        self.weight.accumulate(grad)
        return None

    def extra_repr(self) -> str:
        pad = f", padding_idx={self.padding_idx}" if self.padding_idx is not None else ""
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}, dtype={self.dtype.name}"


def _check_padding_idx(padding_idx, n: int) -> int:
    padding_idx = check_int(padding_idx, "padding_idx")
    if not -n <= padding_idx < n:
        raise ValueError(f"padding_idx={padding_idx} must be within [{-n}, {n}) for {n} embeddings")
    return padding_idx
