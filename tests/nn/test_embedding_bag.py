"""EmbeddingBag: gradients by central differences over drawn bags, torch parity (float64), the
row-sparse gradient, and the errors of bad bags. (The layer contract: contract_cases_bags.py.)"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyrec.errors import DTypeError, IndexOutOfRangeError, ShapeError
from tinyrec.gradcheck import check_module
from tinyrec.nn import EmbeddingBag, RowGrad

from ..helpers import require_torch


def _bags(rng, n_rows, n_bags, max_len):
    """Random bags (some empty), as ``(ids, offsets)``."""
    sizes = rng.integers(0, max_len + 1, n_bags)
    ids = rng.integers(0, n_rows, int(sizes.sum()))
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    return ids, offsets


@settings(max_examples=40, deadline=None)
@given(
    n_rows=st.integers(1, 6),
    dim=st.integers(1, 4),
    n_bags=st.integers(1, 5),
    max_len=st.integers(0, 4),
    mode=st.sampled_from(["sum", "mean", "weighted"]),
    padding=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_gradients_match_central_differences(n_rows, dim, n_bags, max_len, mode, padding, seed):
    rng = np.random.default_rng(seed)
    ids, offsets = _bags(rng, n_rows, n_bags, max_len)
    if ids.size == 0 or (padding and np.all(ids == 0)):  # nothing reaches the table: zeros out
        out = EmbeddingBag(n_rows, dim, padding_idx=0 if padding else None, seed=seed)(ids, offsets)
        assert out.shape == (n_bags, dim) and not out.any()
        return
    layer = EmbeddingBag(n_rows, dim, mode="mean" if mode == "mean" else "sum",
                         padding_idx=0 if padding else None, dtype=np.float64, seed=seed)  # fmt: skip
    inputs = (ids, offsets) + ((rng.standard_normal(len(ids)),) if mode == "weighted" else ())
    if padding:
        layer.weight.data[0] = 0.0
    check_module(layer, *inputs, seed=seed).assert_ok(1e-6)


def test_mean_sum_and_padding_by_hand():
    bag = EmbeddingBag(5, 2, mode="mean", padding_idx=4, dtype=np.float64, seed=0)
    W = bag.weight.data
    y = bag(np.array([1, 4, 3, 2]), np.array([0, 2, 2]))  # bags [1, 4], [], [3, 2]; 4 is padding
    np.testing.assert_allclose(y, [W[1], [0.0, 0.0], (W[3] + W[2]) / 2])
    bag.backward(np.ones((3, 2)))
    grad = bag.weight.grad
    assert isinstance(grad, RowGrad) and grad.rows.tolist() == [1, 2, 3]  # sorted, no padding row
    np.testing.assert_allclose(grad.values, [[1, 1], [0.5, 0.5], [0.5, 0.5]])
    summed = EmbeddingBag(5, 2, mode="sum", dtype=np.float64, seed=0)
    out = summed(np.array([[1, 1, 3]]), None, np.array([[0.5, 2.0, -1.0]]))
    np.testing.assert_allclose(out[0], 2.5 * summed.weight.data[1] - summed.weight.data[3])
    _, _, dc = summed.backward(np.array([[1.0, -1.0]]))
    row = summed.weight.data
    np.testing.assert_allclose(dc[0], [row[1] @ [1, -1], row[1] @ [1, -1], row[3] @ [1, -1]])


@pytest.mark.parametrize(
    "kwargs, call",
    [
        (dict(mode="sum"), "weighted"),
        (dict(mode="mean"), "offsets"),
        (dict(mode="mean", padding_idx=2), "2d"),
        (dict(mode="sum", include_last_offset=True), "last"),
    ],
    ids=["sum-weighted", "mean", "mean-2d-padding", "include-last-offset"],
)
def test_matches_torch(kwargs, call):
    torch = require_torch()
    rng = np.random.default_rng(3)
    ids, offsets = _bags(rng, 9, 6, 4)
    weights = rng.standard_normal(len(ids))
    mine = EmbeddingBag(9, 4, dtype=np.float64, seed=1, **kwargs)
    theirs = torch.nn.EmbeddingBag(9, 4, sparse=True, **kwargs).double()
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(mine.weight.data))
    if call == "2d":
        args = (rng.integers(0, 9, (5, 3)),)
        targs = (torch.from_numpy(args[0]),)
    elif call == "last":
        args = (ids, np.append(offsets, len(ids)), weights)
        targs = (torch.from_numpy(ids), torch.from_numpy(args[1]), torch.tensor(weights, requires_grad=True))
    else:
        args = (ids, offsets) + ((weights,) if call == "weighted" else ())
        targs = (torch.from_numpy(ids), torch.from_numpy(offsets))
        if call == "weighted":
            targs += (torch.tensor(weights, requires_grad=True),)
    y = mine(*args)
    ty = theirs(*targs)
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    dy = rng.standard_normal(y.shape)
    grads = mine.backward(dy)
    ty.backward(torch.from_numpy(dy))
    np.testing.assert_allclose(mine.weight.dense_grad(), theirs.weight.grad.to_dense().numpy(), atol=1e-12)
    if len(targs) == 3:
        np.testing.assert_allclose(grads[2], targs[2].grad.numpy(), rtol=1e-12, atol=1e-12)


def test_bad_bags_are_refused_with_the_fix():
    bag = EmbeddingBag(5, 2, seed=0)
    ids = np.array([0, 1, 2])
    with pytest.raises(ShapeError, match="offsets"):
        bag(ids)  # 1-D ids need offsets
    with pytest.raises(ShapeError, match="starting at 0"):
        bag(ids, np.array([1, 2]))
    with pytest.raises(ShapeError, match="non-decreasing"):
        bag(ids, np.array([0, 2, 1]))
    with pytest.raises(ShapeError, match="at most n"):
        bag(ids, np.array([0, 4]))
    with pytest.raises(ShapeError, match="input \\(N, L\\)"):
        bag(np.array([[0, 1]]), np.array([0]))
    with pytest.raises(ShapeError, match="mode='sum'"):
        bag(ids, np.array([0]), np.ones(3, dtype=np.float32))  # weights need mode="sum"
    summed = EmbeddingBag(5, 2, mode="sum", seed=0)
    with pytest.raises(ShapeError, match="input's shape"):
        summed(ids, np.array([0]), np.ones(2, dtype=np.float32))
    with pytest.raises(DTypeError, match="float32"):
        summed(ids, np.array([0]), np.ones(3))  # float64 weights for a float32 table
    with pytest.raises(IndexOutOfRangeError):
        bag(np.array([0, 5]), np.array([0]))
    with pytest.raises(IndexOutOfRangeError):
        bag(ids, np.array([0, -1]))
    with pytest.raises(DTypeError):
        bag(np.array([0.5]), np.array([0]))
    with pytest.raises(ValueError, match="mode"):
        EmbeddingBag(5, 2, mode="max")
    with pytest.raises(ValueError, match="padding_idx"):
        EmbeddingBag(5, 2, padding_idx=5)
    last = EmbeddingBag(5, 2, include_last_offset=True, seed=0)
    with pytest.raises(ShapeError, match="the last n"):
        last(ids, np.array([0, 2]))  # the last offset must be len(ids)


def test_offsets_by_keyword_and_the_repr():
    bag = EmbeddingBag(5, 2, mode="sum", padding_idx=-1, seed=0)
    assert bag.padding_idx == 4 and "mode='sum'" in repr(bag) and "padding_idx=4" in repr(bag)
    y = bag(np.array([1, 2]), offsets=[0, 1])
    np.testing.assert_array_equal(y, bag.weight.data[[1, 2]])
