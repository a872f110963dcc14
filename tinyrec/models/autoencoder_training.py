"""Training pieces shared by the autoencoder recommenders (AutoRec, Mult-DAE).

* :func:`dense_rows` and :class:`RowBatches`: rows of a sparse rating matrix as dense mini-batches;
* :class:`AdamGroups`: Adam with the L2 penalty on the weight matrices only;
* :func:`score_pairs`: one entry of each of many reconstructed rows, each row computed once.

An autoencoder recommender (AutoRec, Mult-DAE) reads one *row* of the user × item matrix at a
time — a user's ratings of every item, or an item's ratings by every user — and reconstructs it.
The matrix is held as CSR (``Interactions.to_csr``) and only a batch of rows is ever dense:
``batch_size × n_cols`` numbers, never ``n_rows × n_cols``.
"""

from __future__ import annotations

import math

import numpy as np

from ..data.encoders import ranges
from ..optim.adam import Adam
from ..validation import as_generator, resolve_dtype


def dense_rows(indptr, indices, values, rows, n_cols: int, *, fill: float = 0.0, dtype=np.float32):
    """The CSR rows ``rows`` as a dense ``(len(rows), n_cols)`` array, ``fill`` where nothing is stored.

    Parameters
    ----------
    indptr : (n_rows + 1,) int
    indices : (nnz,) int
        Column of each stored entry; row ``r`` owns ``indices[indptr[r]:indptr[r + 1]]``.
    values : (nnz,) float
        The stored entries (ratings, or ones for implicit feedback).
    rows : (n,) int
        The rows to expand, in the order wanted.
    n_cols : int
    fill : float, default 0.0
        The value of the entries not stored (0 for an autoencoder's input, NaN for a masked target).
    dtype : np.float32 (default) or np.float64

    Returns
    -------
    X : (n, n_cols) array of ``dtype``
        ``X[k, indices[j]] = values[j]`` for every stored entry ``j`` of row ``rows[k]`` (a repeated
        column keeps its last value), vectorised: no loop over rows or entries.
    """
    rows = np.asarray(rows, dtype=np.int64)
    starts, stops = indptr[rows], indptr[rows + 1]
    out_rows = np.repeat(np.arange(len(rows)), stops - starts)  # (entries,) output row of each entry
    entries = ranges(starts, stops)  # (entries,) positions in indices/values
    X = np.full((len(rows), int(n_cols)), fill, dtype=resolve_dtype(dtype))
    X[out_rows, indices[entries]] = values[entries]
    return X


class RowBatches:
    """The rows of a CSR matrix in a fresh seeded order each epoch, as dense ``(inputs, target)`` batches.

    Parameters
    ----------
    indptr, indices, values : CSR arrays
        As :func:`dense_rows`.
    n_cols : int
        Width of a row.
    rows : (n,) int
        The rows to train on (e.g. those with at least one stored entry).
    batch_size : int
        Rows per batch (the last batch may be smaller).
    target_fill : float, default 0.0
        The target's value at unstored entries: NaN for :class:`~tinyrec.losses.MaskedMSELoss`
        (AutoRec learns only from observed ratings), 0 for a multinomial likelihood (Mult-DAE).
    dtype : np.float32 (default) or np.float64
    seed : int or np.random.Generator, default 0
        Seeds the order of the rows; the same seed gives the same sequence of epochs.

    Notes
    -----
    :meth:`epoch` yields ``((X,), T)`` with ``X : (batch, n_cols)`` (zeros at unstored entries) and
    ``T : (batch, n_cols)`` (``target_fill`` there): the interface of
    :func:`tinyrec.models.training.fit_recommender`, which calls ``net.forward(X)`` and
    ``loss.forward(Ŷ, T)``.
    """

    def __init__(self, indptr, indices, values, n_cols: int, rows, batch_size: int, *,
                 target_fill: float = 0.0, dtype=np.float32, seed=0):  # fmt: skip
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be an int >= 1, got {batch_size!r}")
        self.indptr, self.indices, self.values = indptr, indices, values
        self.n_cols = int(n_cols)
        self.rows = np.asarray(rows, dtype=np.int64)
        self.batch_size = int(batch_size)
        self.target_fill = float(target_fill)
        self.dtype = resolve_dtype(dtype)
        self.rng = as_generator(seed)

    def __len__(self) -> int:
        """Batches per epoch."""
        return math.ceil(len(self.rows) / self.batch_size)

    def epoch(self):
        """Yield ``((X,), T)`` for every batch of one epoch, rows in a new random order."""
        order = self.rng.permutation(self.rows)
        for s in range(0, len(order), self.batch_size):
            block = order[s : s + self.batch_size]
            X = dense_rows(self.indptr, self.indices, self.values, block, self.n_cols, dtype=self.dtype)
            if self.target_fill == 0.0:
                T = X
            else:
                T = dense_rows(self.indptr, self.indices, self.values, block, self.n_cols,
                               fill=self.target_fill, dtype=self.dtype)  # fmt: skip
            yield (X,), T


def score_pairs(forward, rows, cols, n_cols: int, *, block: int = 1 << 21) -> np.ndarray:
    """``forward(rows)[k, cols[k]]`` for each pair ``k``, computing each distinct row once, in blocks.

    Parameters
    ----------
    forward : callable
        ``forward(r) -> (len(r), n_cols)``: the dense output rows of the row indices ``r``.
    rows, cols : (n,) int64
        The pairs: output row ``rows[k]``, column ``cols[k]``.
    n_cols : int
    block : int
        At most ``block // n_cols`` rows are computed at once (``block`` numbers held).

    Returns
    -------
    (n,) float64
    """
    unique, inverse = np.unique(rows, return_inverse=True)
    order = np.argsort(inverse, kind="stable")  # the pairs grouped by their row's rank in `unique`
    sorted_rank = inverse[order]
    out = np.empty(len(rows), dtype=np.float64)
    step = max(1, block // max(int(n_cols), 1))  # rows per forward
    for s in range(0, len(unique), step):
        lo, hi = np.searchsorted(sorted_rank, [s, s + step])  # the pairs whose row is in this block
        Y = forward(unique[s : s + step])  # (rows in block, n_cols)
        pairs = order[lo:hi]
        out[pairs] = Y[inverse[pairs] - s, cols[pairs]]
    return out


class AdamGroups:
    """Two :class:`~tinyrec.optim.Adam` optimizers stepped as one: decayed weights, undecayed biases.

    Parameters
    ----------
    net : Module
        Its parameters named ``*.weight`` get ``weight_decay``; the others (biases) get none,
        as in the AutoRec and Mult-DAE papers, whose L2 penalty is on the weight matrices only.
    lr : float
    weight_decay : float
        ``λ``: Adam adds ``λ θ`` to the gradient of each weight matrix (the gradient of
        ``(λ/2) ‖θ‖²``).

    Only ``zero_grad`` and ``step`` are provided: what :func:`tinyrec.models.training.fit_recommender` calls.
    """

    def __init__(self, net, lr: float, weight_decay: float):
        named = list(net.named_parameters())
        weights = [p for name, p in named if name.endswith("weight")]
        others = [p for name, p in named if not name.endswith("weight")]
        self.optimizers = [Adam(weights, lr=lr, weight_decay=weight_decay)]
        if others:
            self.optimizers.append(Adam(others, lr=lr))

    def zero_grad(self) -> None:
        for optimizer in self.optimizers:
            optimizer.zero_grad()

    def step(self) -> None:
        for optimizer in self.optimizers:
            optimizer.step()


__all__ = ["AdamGroups", "RowBatches", "dense_rows", "score_pairs"]
