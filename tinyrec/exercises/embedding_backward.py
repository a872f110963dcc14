"""Course exercise: an embedding table's row-sparse backward, with repeated ids.

Task
----
Write ``MyEmbedding.backward``. ``forward(ids)`` is given: it looks up one row of the table
``W`` per id and caches the ids, flattened, in ``self._ids``. ``backward(grad_output)`` must add
the gradient of the table to ``self.weight`` as a **row-sparse** gradient, touching only the
rows the batch looked up, and return ``None`` (ids are integers: they have no gradient).

A row-sparse gradient is a :class:`~tinyrec.nn.RowGrad` ``(rows, values)``: ``rows`` the distinct
ids, sorted ascending; ``values[j]`` the gradient of row ``rows[j]``. Build it yourself from the
ids and ``dY`` (``np.unique`` and ``np.add.at`` help; ``RowGrad.from_indices`` would do the work
for you, and is not allowed here), then call ``self.weight.accumulate(RowGrad(rows, values))``, which
adds it to any gradient already there.

Shapes
------
``ids : (*)`` integers in ``[0, num_embeddings)``, any shape, repeats allowed;
``Y, dY : (*, dim)``; ``W : (num_embeddings, dim)``; ``rows : (m,)``, ``values : (m, dim)`` with
``m`` the number of distinct ids.

Math
----
``Y[s] = W[ids[s]]`` for every position ``s``, so ``∂Y[s]/∂W[r]`` is the identity when
``ids[s] = r`` and zero otherwise. An id that appears at several positions collects the
gradient of each of them.

Checks
------
* ``gradient_is_row_sparse`` (1 point): a ``RowGrad`` of the distinct ids, never a dense table;
* ``repeated_ids_are_summed`` (2): an id looked up three times collects three rows of ``dY``;
* ``ids_of_any_shape`` (1): ids of shape ``(batch, length)``;
* ``gradients_accumulate`` (1): a second backward adds to ``.grad``;
* ``grad_output_is_not_modified`` (1);
* ``an_empty_batch_touches_no_row`` (1): zero ids, zero rows;
* ``builds_the_rows_itself`` (1): without ``RowGrad.from_indices``;
* ``passes_the_layer_contract`` (2): :func:`tinyrec.testing.check_layer` (the table's gradient
  against central differences in float64, and the rest of the layer contract).
"""

from __future__ import annotations

import numpy as np

from ..nn import Module, Parameter, RowGrad
from ..testing import check_layer
from .checking import describe_difference, expect, points, run_checks

NAME = "embedding_backward"
TUTORIAL = None
SUBMIT = ("MyEmbedding",)


# -- the stub: what the student receives -------------------------------------------------------
class MyEmbedding(Module):
    def __init__(self, num_embeddings, dim, *, dtype=np.float64, seed=None):
        rng = np.random.default_rng(seed)
        self.num_embeddings, self.dim = num_embeddings, dim
        self.weight = Parameter(rng.standard_normal((num_embeddings, dim)).astype(dtype))
        self._ids = None

    def forward(self, ids):
        ids = np.asarray(ids, dtype=np.int64)
        self._ids = ids.reshape(-1)  # (n,): one per looked-up row
        return self.weight.data[ids]  # (*, dim)

    def backward(self, grad_output):
        raise NotImplementedError("your turn: accumulate a RowGrad(rows, values) into self.weight")


# -- the reference solution ---------------------------------------------------------------------
class SolutionEmbedding(MyEmbedding):
    """``rows = unique(ids)``; ``values[j] = Σ_{s : ids[s] = rows[j]} dY[s]``.

    ``np.unique(..., return_inverse=True)`` gives the sorted distinct ids and, for each position,
    which of them it is; ``np.add.at`` then adds every row of ``dY`` into its id's slot. Plain
    fancy-index assignment (``values[inverse] = dY``) would keep only the last of repeated ids:
    ``np.add.at`` is unbuffered, so repeats add up.
    """

    def backward(self, grad_output):
        dy = grad_output.reshape(-1, self.dim)  # (n, dim), one row per looked-up id
        rows, inverse = np.unique(self._ids, return_inverse=True)
        values = np.zeros((len(rows), self.dim), dtype=dy.dtype)
        np.add.at(values, inverse.reshape(-1), dy)
        self.weight.accumulate(RowGrad(rows, values))
        return None


STUB = MyEmbedding
SOLUTION = SolutionEmbedding


# -- the checks -----------------------------------------------------------------------------------
N, DIM = 10, 3
IDS = np.array([4, 1, 4, 7, 4, 1], dtype=np.int64)  # 4 three times, 1 twice


def _backward(cls, ids, seed=0, calls=1):
    layer = cls(N, DIM, seed=seed)
    layer(ids)
    dy = np.random.default_rng(seed + 100).standard_normal((*ids.shape, DIM))
    for _ in range(calls):
        layer.backward(dy.copy())
    return layer, dy


def _expected(ids, dy, calls=1):
    dense = np.zeros((N, DIM))
    np.add.at(dense, ids.reshape(-1), calls * dy.reshape(-1, DIM))
    return dense


def _row_grad(layer) -> RowGrad:
    grad = layer.weight.grad
    expect(grad is not None, "after backward, weight.grad is None. Hint: call self.weight.accumulate(...)")
    expect(
        isinstance(grad, RowGrad),
        f"weight.grad is a dense {type(grad).__name__} of shape {np.shape(grad)}: a table of a million "
        f"items would allocate a million rows per batch. Hint: accumulate a RowGrad of the looked-up "
        f"rows only",
    )
    return grad


@points(1)
def gradient_is_row_sparse(cls):
    layer, _ = _backward(cls, IDS)
    grad = _row_grad(layer)
    expect(
        grad.rows.tolist() == sorted(set(IDS.tolist())),
        f"the RowGrad has rows {grad.rows.tolist()}; expected the distinct ids {sorted(set(IDS.tolist()))}",
    )


@points(2)
def repeated_ids_are_summed(cls):
    layer, dy = _backward(cls, IDS)
    dense = _row_grad(layer).to_dense((N, DIM))
    expected = _expected(IDS, dy)
    if np.allclose(dense, expected, rtol=1e-12, atol=1e-12):
        return
    last = np.zeros((N, DIM))
    last[IDS] = dy  # fancy assignment: the last repeat wins
    if np.allclose(dense, last):
        raise AssertionError(
            "id 4 appears three times in the batch but its gradient is the last of its rows of dY only: "
            "fancy-index assignment (or +=) keeps one of repeated indices. Hint: np.add.at adds every one"
        )
    raise AssertionError(
        f"the gradient of the table is wrong: {describe_difference(dense, expected)} (ids {IDS.tolist()}). "
        f"Hint: each position s sends dY[s] to row ids[s]"
    )


@points(1)
def ids_of_any_shape(cls):
    ids = IDS.reshape(2, 3)
    dy = np.random.default_rng(1).standard_normal((2, 3, DIM))
    flat = cls(N, DIM, seed=1)
    flat(IDS)
    flat.backward(dy.reshape(-1, DIM))
    layer = cls(N, DIM, seed=1)
    layer(ids)
    try:
        layer.backward(dy.copy())
    except (ValueError, IndexError) as exc:  # NumPy's shape errors: name the usual cause
        raise AssertionError(
            f"for ids of shape (2, 3) and dY of shape (2, 3, dim) your backward raised {type(exc).__name__}: "
            f"{exc}. Hint: self._ids is flat; flatten dY's leading axes to match"
        ) from None
    mine, rows = _row_grad(layer).to_dense((N, DIM)), _row_grad(flat).to_dense((N, DIM))
    expect(
        np.allclose(mine, rows, rtol=1e-12, atol=1e-12),
        "ids of shape (2, 3) must give the gradient that the same 6 ids give flat; yours differ. Hint: "
        "self._ids is flat; flatten dY's leading axes to match",
    )


@points(1)
def gradients_accumulate(cls):
    once, _ = _backward(cls, IDS, seed=2, calls=1)
    twice, _ = _backward(cls, IDS, seed=2, calls=2)
    g1, g2 = _row_grad(once).to_dense((N, DIM)), _row_grad(twice).to_dense((N, DIM))
    if np.allclose(g2, 2 * g1, rtol=1e-12, atol=1e-12):
        return
    if np.allclose(g2, g1, rtol=1e-12, atol=1e-12):
        raise AssertionError(
            "after two backward calls, weight.grad holds one call's gradient: it is overwritten "
            "(.grad = ...) instead of accumulated. Hint: self.weight.accumulate adds to what is there"
        )
    raise AssertionError("after two backward calls, weight.grad is not twice one call's gradient")


@points(1)
def grad_output_is_not_modified(cls):
    layer = cls(N, DIM, seed=3)
    layer(IDS)
    dy = np.random.default_rng(3).standard_normal((len(IDS), DIM))
    kept = dy.copy()
    layer.backward(dy)
    expect(np.array_equal(dy, kept), "backward changed grad_output in place. Hint: build new arrays")


@points(1)
def an_empty_batch_touches_no_row(cls):
    layer = cls(N, DIM, seed=4)
    layer(np.zeros(0, dtype=np.int64))
    try:
        layer.backward(np.zeros((0, DIM)))
    except (IndexError, ValueError) as exc:  # raised by the candidate's backward
        raise AssertionError(
            f"backward of an empty batch (no ids, dY of shape (0, {DIM})) raised {type(exc).__name__}: "
            f"{exc}. Hint: with no ids there are no rows; build the RowGrad from empty arrays (rows of "
            f"shape (0,), values of shape (0, {DIM})) without reading a first or last element"
        ) from None
    grad = _row_grad(layer)
    expect(len(grad.rows) == 0, f"an empty batch gave a gradient for the rows {grad.rows.tolist()}")


@points(1)
def builds_the_rows_itself(cls):
    layer = cls(N, DIM, seed=5)
    layer(IDS)
    dy = np.ones((len(IDS), DIM))
    original = RowGrad.__dict__["from_indices"]

    def refused(indices, values):
        raise AssertionError("backward calls RowGrad.from_indices; this exercise is to write what it does")

    RowGrad.from_indices = staticmethod(refused)
    try:
        layer.backward(dy)
    finally:
        RowGrad.from_indices = original


@points(2)
def passes_the_layer_contract(cls):
    _backward(cls, IDS)  # the stub stops here, as "not implemented"
    report = check_layer(lambda dtype, seed: cls(N, DIM, dtype=dtype, seed=seed), IDS)
    if not report.ok:
        named = "\n".join(f"{r.name}: {r.message}" for r in report.failures)
        raise AssertionError(f"tinyrec.testing.check_layer found:\n{named}")


CHECKS = (
    gradient_is_row_sparse,
    repeated_ids_are_summed,
    ids_of_any_shape,
    gradients_accumulate,
    grad_output_is_not_modified,
    an_empty_batch_touches_no_row,
    builds_the_rows_itself,
    passes_the_layer_contract,
)


def check(candidate):
    """Run every check of this exercise on ``candidate`` (a class like ``MyEmbedding``)."""
    return run_checks(NAME, candidate, CHECKS)
