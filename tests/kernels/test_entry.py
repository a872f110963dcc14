"""The guard on every kernel entry: arrays in the other byte order, unsupported dtypes, ``writes``.

Each entry kernel is first called with native arrays, then, in the same process, with each of its
array arguments (those inside tuples too) in the other byte order: Numba's compiled version for the
native arrays would be reused for a swapped array inside a tuple and read its bytes as native
numbers. An argument the kernel only reads must give the native result (it is converted); an
argument it writes into must be refused, with nothing written. Each entry's ``writes`` list is
checked by running the kernel with every other array read-only.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import numpy as np
import pytest

import tinyrec.kernels
from tinyrec.errors import DTypeError
from tinyrec.kernels import KERNEL_DTYPES, select
from tinyrec.kernels.als import als_cg_rows
from tinyrec.kernels.bpr import bpr_epoch, shuffle_triples
from tinyrec.kernels.csr import csr_order, unique_in_rows
from tinyrec.kernels.embedding import coalesce_rows, gather_rows, index_span, sum_repeats
from tinyrec.kernels.knn import COSINE, knn_estimate, similarity_topk, weighted_row_sums
from tinyrec.kernels.mf import funk_svd_blocked_epoch, funk_svd_epoch, shuffle_within_blocks, user_block_order
from tinyrec.kernels.optim import adagrad_rows, adam_rows, sgd_rows
from tinyrec.kernels.parse import parse_fields
from tinyrec.kernels.ranking import top_k_rows
from tinyrec.kernels.sampling import distinct_negatives, uniform_negatives, weighted_negatives

#: kernels only other kernels call (nopython code cannot call an entry's guard)
HELPERS = {
    "pair_similarity", "sort_neighbours", "ranks_before", "sift_down", "contains", "fill_negatives", "is_sep",
}  # fmt: skip

i64, i32, f32, f64 = np.int64, np.int32, np.float32, np.float64


def _csr():
    """A 3 x 4 CSR (rows 0, 1, 2 with columns {0, 2}, {1}, {0, 3}) and its transpose, with values."""
    row = (np.array([0, 2, 3, 5], i64), np.array([0, 2, 1, 0, 3], i32), np.array([4.0, 2, 5, 3, 1]))
    col = (np.array([0, 2, 3, 4, 5], i64), np.array([0, 2, 1, 0, 2], i32), np.array([4.0, 3, 5, 2, 1]))
    return row, col


def _als():
    rng = np.random.default_rng(0)
    row, _ = _csr()
    Y = rng.standard_normal((4, 2)).astype(f32)
    gram = Y.astype(f64).T @ Y.astype(f64) + np.eye(2)
    return [row[0], row[1], 1.0 + row[2], rng.standard_normal((3, 2)).astype(f32), Y, gram, 3]


def _bpr():
    rng = np.random.default_rng(1)
    P, Q = rng.standard_normal((3, 2)).astype(f32), rng.standard_normal((4, 2)).astype(f32)
    users, pos, neg = np.array([0, 1, 2, 0], i64), np.array([0, 1, 3, 2], i64), np.array([1, 2, 0, 3], i64)
    return [users, pos, neg, P, Q, np.zeros(4, f32), np.full(3, 0.05), np.full(3, 0.01)]


def _funk():
    rng = np.random.default_rng(2)
    users, items = np.array([0, 0, 1, 2, 2], i64), np.array([1, 3, 0, 2, 3], i64)
    ratings = np.array([4.0, 3.0, 5.0, 1.0, 2.0], f32)
    P, Q = rng.standard_normal((3, 2)).astype(f32), rng.standard_normal((4, 2)).astype(f32)
    rates = [np.full(4, 0.05), np.full(4, 0.02)]
    return [users, items, ratings, np.array([4, 2, 0, 1, 3], i64), 3.0, np.zeros(3, f32), np.zeros(4, f32),
            P, Q, *rates]  # fmt: skip


def _blocked():
    rng = np.random.default_rng(3)
    # two user groups x two item groups; block (g, h) = ratings of users g with items h, in block order
    users, items = np.array([0, 0, 0, 1, 1, 1], i64), np.array([0, 0, 1, 0, 1, 1], i64)
    block_starts = np.array([0, 2, 3, 4, 6], i64)
    P, Q = rng.standard_normal((2, 2)).astype(f32), rng.standard_normal((2, 2)).astype(f32)
    return [users, items, np.array([4.0, 3.0, 5.0, 1.0, 2.0, 4.0], f32), block_starts, np.array([1, 0], i64),
            3.0, np.zeros(2, f32), np.zeros(2, f32), P, Q, np.full(4, 0.05), np.full(4, 0.02)]  # fmt: skip


def _shuffle():
    users, items, ratings, block_starts = _blocked()[:4]
    return [block_starts, np.random.default_rng(4).random(6), users, items, ratings]


def _similarity():
    row, col = _csr()
    return [row, col, np.array([0, 1, 2], i64), COSINE, 2, 0.0, 1]


def _estimate():
    sim = (np.array([0, 1, 2, 3], i64), np.array([2, 0, 0], i32), np.array([0.5, 0.25, 0.75]))
    ctx = (np.array([0, 2, 3], i64), np.array([0, 2, 1], i32), np.array([1.0, -1.0, 0.5]))
    return [sim, ctx, np.array([0, 1, 2, 2], i64), np.array([0, 1, 0, 1], i64), 2]


def _row_sums():
    row, col = _csr()
    return [row, col, np.array([2, 0], i64), 3]


def _rows_update(*state):
    rng = np.random.default_rng(5)
    table = rng.standard_normal((5, 3)).astype(f32)
    extra = [np.abs(rng.standard_normal((5, 3))).astype(f32) for _ in state]
    return [table, *extra, np.array([0, 3], i64), rng.standard_normal((2, 3)).astype(f32)]


def _sampling():
    """Positives of two users among 5 items (user 0: {0, 3}; user 1: {1}), and users to sample for."""
    return np.array([0, 2, 3], i64), np.array([0, 3, 1], i32), np.array([0, 1, 1, 0], i64)


def _bytes(text: bytes) -> np.ndarray:
    return np.frombuffer(text, np.uint8).copy()


def _uniforms(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random(64)


def _top_k():
    scores = np.array([[0.5, 2.0, 1.0, 2.0], [3.0, -1.0, 0.0, 1.0]])
    return [scores, 2, np.array([[1.0, 0, 1, 1], [0, 1, 0, 0]]), -1]


#: every entry kernel, with a function returning fresh native arguments of a valid call
CALLS = {
    als_cg_rows: _als,
    bpr_epoch: _bpr,
    shuffle_triples: lambda: [_uniforms(10)[:4], *[np.array([0, 1, 2, 3], i64) * k for k in (1, 2, 3)]],
    csr_order: lambda: [np.array([2, 0, 1, 0], i64), np.array([1, 3, 0, 0], i32), 3, 4],
    unique_in_rows: lambda: [np.array([0, 3, 4], i64), np.array([1, 1, 2, 0], i64)],
    coalesce_rows: lambda: [np.array([3, 1, 3], i64), np.arange(6, dtype=f32).reshape(3, 2)],
    gather_rows: lambda: [np.arange(8, dtype=f64).reshape(4, 2), np.array([3, 0, 3], i64)],
    index_span: lambda: [np.array([3, 0, 7, 3], i64)],
    sum_repeats: lambda: [np.array([3, 1, 3], i64), np.arange(6, dtype=f32).reshape(3, 2)],
    similarity_topk: _similarity,
    knn_estimate: _estimate,
    weighted_row_sums: _row_sums,
    funk_svd_epoch: _funk,
    funk_svd_blocked_epoch: _blocked,
    shuffle_within_blocks: _shuffle,
    user_block_order: lambda: [np.array([0, 2, 3, 5], i64), np.array([2, 0, 1], i64), 2, _uniforms(9)[:5]],
    sgd_rows: lambda: [*_rows_update(), f32(0.1), f32(0.01)],
    adam_rows: lambda: [*_rows_update("m", "v"), tuple(f32(x) for x in (0.1, 0.001, 1e-8, 0.01, 0.0, 0.99))],
    adagrad_rows: lambda: [*_rows_update("sum"), f32(0.1), f32(1e-10), f32(0.01)],
    parse_fields: lambda: [_bytes(b"1::2::3.5\n4::5::-6\n"), _bytes(b"::"), 3, np.array([0, -1, 1], i64)],
    top_k_rows: _top_k,
    uniform_negatives: lambda: [*_sampling(), 5, _uniforms(6), np.zeros((4, 2), i32), 0],
    weighted_negatives: lambda: [
        *_sampling(),
        np.cumsum([1.0, 2, 0.5, 1, 3]),
        _uniforms(7),
        np.zeros((4, 2), i32),
        0,
    ],
    distinct_negatives: lambda: [*_sampling(), 5, 2, np.random.default_rng(8)],
}
IDS = [kernel.__name__ for kernel in CALLS]


def array_slots(kernel, args) -> list[tuple[str, str, tuple[int, ...]]]:
    """``(argument name, label, path)`` of every array among ``args`` of ``kernel``."""
    names = list(inspect.signature(kernel).parameters)
    slots = []

    def walk(value, name, label, path):
        if isinstance(value, np.ndarray):
            slots.append((name, label, path))
        elif isinstance(value, tuple):
            for i, v in enumerate(value):
                walk(v, name, f"{label}[{i}]", (*path, i))

    for position, (name, value) in enumerate(zip(names, args, strict=True)):
        walk(value, name, name, (position,))
    return slots


def replace(args, path, make):
    """A copy of the argument list with the array at ``path`` replaced by ``make(array)``."""
    args = list(args)

    def rebuild(value, rest):
        if not rest:
            return make(value)
        items = list(value)
        items[rest[0]] = rebuild(items[rest[0]], rest[1:])
        return tuple(items)

    args[path[0]] = rebuild(args[path[0]], path[1:])
    return args


def leaves(value) -> list:
    """The arrays and scalars of a result or an argument list, in order, flattened."""
    if isinstance(value, (tuple, list)):
        return [leaf for v in value for leaf in leaves(v)]
    return [value]


def assert_same(a, b) -> None:
    la, lb = leaves(a), leaves(b)
    assert len(la) == len(lb)
    for x, y in zip(la, lb, strict=True):
        if isinstance(x, np.random.Generator):
            continue
        np.testing.assert_array_equal(x, y)


def swapped(array: np.ndarray) -> np.ndarray:
    """The same numbers stored in the other byte order."""
    return array.astype(array.dtype.newbyteorder("S"))


def _path_value(args, path):
    value = args[path[0]]
    for i in path[1:]:
        value = value[i]
    return value


#: (kernel, argument name, label, path) of every multi-byte array argument of every entry
SLOTS = [
    (kernel, name, label, path)
    for kernel, make in CALLS.items()
    for name, label, path in array_slots(kernel, make())
    if _path_value(make(), path).dtype.itemsize > 1  # one byte has no byte order
]


@pytest.mark.parametrize(
    "kernel, name, label, path", SLOTS, ids=[f"{k.__name__}-{label}" for k, _, label, _ in SLOTS]
)
def test_an_argument_in_the_other_byte_order_is_converted_or_refused(kernel, name, label, path):
    """After a native call (whose compiled version a swapped array in a tuple would reuse)."""
    make = CALLS[kernel]
    native_args = make()
    expected = kernel(*native_args)
    args = replace(make(), path, swapped)
    if name in kernel.writes:  # a converted copy would take the writes: refused, nothing written
        with pytest.raises(DTypeError, match=rf"{kernel.__name__}: argument {name} is in non-native byte "
                           rf"order \(.*\) and the kernel writes into it, .*newbyteorder"):  # fmt: skip
            kernel(*args)
        assert_same(args, make())
    else:  # read only: converted, the same result and the same writes as the native call
        assert_same(kernel(*args), expected)
        assert_same(replace(args, path, lambda a: a), native_args)
        assert _path_value(args, path).dtype.byteorder not in "=|"  # the caller's array is left as it was


@pytest.mark.parametrize("kernel", list(CALLS), ids=IDS)
def test_the_writes_of_each_entry_are_declared(kernel):
    """Every array not in ``writes`` read-only: Numba refuses to compile a write to it (NumPy raises)."""
    args = CALLS[kernel]()
    expected = kernel(*CALLS[kernel]())
    for name, _, path in array_slots(kernel, args):
        if name not in kernel.writes:
            _path_value(args, path).flags.writeable = False
    assert_same(kernel(*args), expected)


@pytest.mark.parametrize(
    "dtype", [object, np.complex128, np.float16, np.dtype([("x", "<f8")]), "U3", "datetime64[s]"]
)
def test_an_array_of_an_unsupported_dtype_is_refused_by_name(dtype):
    args = CALLS[gather_rows]()
    with pytest.raises(DTypeError, match=r"gather_rows: argument table has dtype .* take arrays of bool, "
                       r"integers, float32 or float64"):  # fmt: skip
        gather_rows(np.zeros((4, 2), dtype=dtype), args[1])
    sim, ctx, targets, contexts, k = CALLS[knn_estimate]()
    bad = (sim[0], sim[1], sim[2].astype(object))
    with pytest.raises(DTypeError, match=r"knn_estimate: argument sim_csr\[2\] has dtype object"):
        knn_estimate(bad, ctx, targets, contexts, k)


def test_a_row_update_refuses_a_swapped_table_and_converts_swapped_gradients():
    """The table is written (a converted copy would lose the update); the gradients are only read."""
    table, rows, grads, lr, weight_decay = CALLS[sgd_rows]()
    before = table.copy()
    big = swapped(table)
    with pytest.raises(DTypeError, match="argument table is in non-native byte order"):
        sgd_rows(big, rows, grads, lr, weight_decay)
    np.testing.assert_array_equal(big, before)
    sgd_rows(table, rows, swapped(grads), lr, weight_decay)  # grads are read only: converted
    np.testing.assert_array_equal(table[[1, 2, 4]], before[[1, 2, 4]])


def test_arguments_by_name_are_guarded_too():
    table, indices = CALLS[gather_rows]()
    expected = gather_rows(table, indices)
    np.testing.assert_array_equal(gather_rows(indices=swapped(indices), table=swapped(table)), expected)
    args = CALLS[uniform_negatives]()
    with pytest.raises(DTypeError, match="argument out is in non-native"):
        uniform_negatives(*args[:5], out=swapped(args[5]), filled=0)


def test_an_entry_keeps_its_name_docstring_signature_and_plain_body():
    assert gather_rows.__name__ == "gather_rows" and "table[indices]" in gather_rows.__doc__
    assert list(inspect.signature(gather_rows).parameters) == ["table", "indices"]
    plain = select(gather_rows, "python")
    assert plain is gather_rows.py_func and plain.__name__ == "_gather_rows"
    table, indices = CALLS[gather_rows]()
    np.testing.assert_array_equal(plain(swapped(table), indices), table[indices])  # NumPy reads any order
    assert np.dtype("f8").newbyteorder("S") not in KERNEL_DTYPES and np.dtype("=f8") in KERNEL_DTYPES


def test_every_compiled_kernel_is_a_guarded_entry_or_a_helper_of_other_kernels():
    """A new kernel that the rest of tinyrec calls needs ``entry`` (and a row in CALLS above)."""
    entries, helpers = set(), set()
    for info in pkgutil.iter_modules(tinyrec.kernels.__path__):
        module = importlib.import_module(f"tinyrec.kernels.{info.name}")
        for name, value in vars(module).items():
            plain = getattr(module, f"_{name}", None)
            if name.startswith("_") or not inspect.isfunction(plain) or plain.__module__ != module.__name__:
                continue  # not a kernel compiled from a plain function _name of this module
            if hasattr(value, "writes"):
                entries.add(value)
            else:
                helpers.add(name)
    assert helpers == HELPERS
    assert entries == set(CALLS)
    package = Path(tinyrec.kernels.__file__).parents[1]
    for path in package.rglob("*.py"):
        if path.parent.name == "kernels":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and "kernels" in (node.module or ""):
                used = {alias.name for alias in node.names} & HELPERS
                assert not used, f"{path} imports the kernel helper(s) {used}: call an entry instead"
