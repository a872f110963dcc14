"""A property-based fuzz test of the model-file format.

A small model of every registered class is fitted, its kernels are run (``predict``, ``recommend``,
``explain`` where it exists), and it is saved. Hypothesis then mutates one saved file at a time —
header fields replaced by values of other types, deleted or added; hyperparameters changed; arrays
byte-swapped, cast to other dtypes, reshaped, reordered, given out-of-range indices or other values;
members deleted, added, swapped or replaced by one claiming a huge shape — and loads it, in the same
process, so that a kernel's native compilation would be reused on whatever the file holds (the
big-endian crash of tinyrec.kernels' guard).

The oracle: loading raises ModelFileError or AllocationError, or returns a model whose predictions
are finite (and inside the rating range, for rating models), whose ``recommend`` and ``explain`` run;
and for a mutation that keeps the meaning (byte order swapped, an integer or float widened, another
memory order) the predictions, recommendations and explanations equal the original's. Any other
exception fails the test; a crash ends the process.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

import tinyrec.io
from tinyrec.data.interactions import Interactions
from tinyrec.errors import AllocationError, ModelFileError
from tinyrec.models import (
    BPRMF,
    GMF,
    NCFMLP,
    AutoRec,
    BaselineOnly,
    BiasedMF,
    ImplicitALS,
    ItemKNN,
    MultDAE,
    NeuMF,
    Popularity,
    UserKNN,
)
from tinyrec.models.feature_mlp import FeatureMLP
from tinyrec.models.fm import FM
from tinyrec.models.group_popularity import GroupPopularity
from tinyrec.models.registry import MODEL_CLASSES
from tinyrec.models.sequential import Caser, GRU4Rec, SASRec

from .models.contract import implicit_toy, planted_ratings
from .models.test_fm import with_features
from .test_modelfile import npy_header, read_members, swapped, write_members

#: name -> (model, implicit feedback?): every registered class, a few in another mode
MODELS = {
    "Popularity": (Popularity(), False),
    "ItemKNN": (ItemKNN(5, min_k=2), False),
    "UserKNN": (UserKNN(5, mode="means", similarity="pearson"), False),
    "ItemKNN-ranking": (ItemKNN(5, mode="ranking", similarity="cosine"), True),
    "UserKNN-ranking": (UserKNN(5, mode="ranking", similarity="cosine"), True),
    "BaselineOnly": (BaselineOnly(), False),
    "BiasedMF": (BiasedMF(3, 3, seed=0), False),
    "BiasedMF-str-ids": (BiasedMF(2, 2, seed=0, dtype=np.float64), False),
    "BPRMF": (BPRMF(3, 3, seed=0), True),
    "ImplicitALS": (ImplicitALS(3, 2, seed=0), True),
    "GMF": (GMF(3, 1, batch_size=64, seed=0), True),
    "NCFMLP": (NCFMLP((8, 4, 2), 1, batch_size=64, seed=0), True),
    "NeuMF": (NeuMF(3, (8, 4), 1, batch_size=64, seed=0), True),
    "AutoRec": (AutoRec(4, 1, seed=0), False),
    "MultDAE": (MultDAE(4, 1, seed=0), True),
    "SASRec": (SASRec(max_len=4, dim=4, n_epochs=1, batch_size=16, seed=0), True),
    "GRU4Rec": (GRU4Rec(dim=3, hidden=4, max_len=4, n_epochs=1, batch_size=16, seed=0), True),
    "Caser": (Caser(window=3, n_targets=2, dim=4, n_epochs=1, batch_size=32, seed=0), True),
    "FM": (FM(3, 1, seed=0), False),
    "FM-features": (FM(3, 1, loss="bpr", implicit=True, seed=0), True),  # a "features" header section
    "FeatureMLP-features": (FeatureMLP(3, (4,), 1, seed=0), True),
    "GroupPopularity-features": (GroupPopularity(("job", "age:bucket")), True),
}


def _with_string_ids(train, test):
    """``train`` and ``test`` rebuilt from raw text ids (``"u7"``, ``"i3"``): id maps of dtype ``<U``."""
    users, items = np.concatenate([train.users, test.users]), np.concatenate([train.items, test.items])
    data = Interactions.from_raw(
        np.char.add("u", users.astype(str)), np.char.add("i", items.astype(str)),
        np.concatenate([train.ratings, test.ratings]),
    )  # fmt: skip
    in_train = np.arange(len(data)) < len(train)
    return data.subset(in_train), data.subset(~in_train)


def _outputs(model, test) -> dict:
    """What the oracle compares: predictions, recommendations, explanations (runs every kernel)."""
    users = np.arange(min(model.n_users_, 12))
    out = {"predict": model.predict(test.users, test.items), "recommend": model.recommend(users, 3)}
    if hasattr(model, "explain"):
        pairs = zip(test.users[:4], test.items[:4], strict=True)
        out["explain"] = [str(model.explain(int(u), int(i))) for u, i in pairs]
    return out


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """name -> (model, test, header, arrays, outputs), every kernel already run natively."""
    folder = tmp_path_factory.mktemp("fuzz")
    out = {}
    for name, (model, implicit) in MODELS.items():
        train, test = implicit_toy() if implicit else planted_ratings()[:2]
        if name.endswith("str-ids"):
            train, test = _with_string_ids(train, test)
        if name.endswith("-features"):  # user and item columns, encoded by the model
            train, test = with_features(train), with_features(test)
        model.fit(train)
        header, arrays = read_members(model.save(folder / f"{name}.npz"))
        out[name] = (model, test, header, arrays, _outputs(model, test))
    return out


def test_every_registered_class_is_fuzzed():
    assert {type(model) for model, _ in MODELS.values()} == set(MODEL_CLASSES.values())


def test_network_shapes_are_those_of_the_built_network(saved):
    for model, *_ in saved.values():
        net = getattr(model, "net", None)
        built = {} if net is None else {k: v.shape for k, v in net.state_dict().items()}
        assert model._network_shapes() == built, type(model).__name__


def test_loaded_arrays_are_native_contiguous_and_of_the_fitted_dtype(saved, tmp_path):
    for name, (model, _, header, arrays, _) in saved.items():
        path = tmp_path / f"{name}.npz"
        write_members(path, header, {k: swapped(a) for k, a in arrays.items()})
        loaded = tinyrec.io.load(path)
        for key in arrays:
            if key.startswith("net."):
                continue
            a, fitted = getattr(loaded, key), np.asarray(getattr(model, key))
            assert a.dtype.isnative and a.flags.c_contiguous and a.dtype == fitted.dtype, (name, key)


# -- mutations: each returns an Edit of the saved header and arrays -----------------------------------
@dataclass
class Edit:
    """A mutated file: ``members`` (name -> array, or raw ``.npy`` bytes) and the ``header`` to write.

    ``relist``: the header lists the array members as they now are (a consistent edit); else it keeps
    what it said. ``keeps_meaning``: the file means what the saved one meant (the oracle then wants
    the same predictions).
    """

    header: dict
    members: dict
    relist: bool = True
    keeps_meaning: bool = False
    compression: int = zipfile.ZIP_STORED


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.floats() | st.text(max_size=4)
    | st.integers(-(2**70), 2**70) | st.sampled_from([0, 1, -1, 3, 10**8, 2**31, 2**63]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=4,
)  # fmt: skip
#: values a weight may be changed to: moderate (a weight near float32's limit may overflow a forward
#: pass; docs/security.md says what a file's weights are trusted with), or not finite at all
MODERATE = st.floats(-100, 100, allow_nan=False) | st.sampled_from([0.0, 1e-30, -1.0])
INTEGER_DTYPES = ["<i1", "<i2", "<i4", "<i8", "<u1", "<u2", "<u4", "<u8", ">i4", ">i8", ">u8"]
OTHER_DTYPES = INTEGER_DTYPES + ["<f2", "<f4", "<f8", ">f8", "<c8", "|b1", "<U3"]


def _paths(node, prefix=()):
    yield prefix
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in children:
        yield from _paths(child, (*prefix, key))


def _node(header, path):
    for key in path:
        header = header[key]
    return header


def replace_header_field(draw, model, header, arrays):
    path = draw(st.sampled_from([p for p in _paths(header) if p]))
    _node(header, path[:-1])[path[-1]] = draw(JSON_VALUES)
    return Edit(header, arrays, relist=False)


def delete_header_field(draw, model, header, arrays):
    path = draw(st.sampled_from([p for p in _paths(header) if p]))
    del _node(header, path[:-1])[path[-1]]
    return Edit(header, arrays, relist=False)


def add_header_field(draw, model, header, arrays):
    target = draw(st.sampled_from([p for p in _paths(header) if isinstance(_node(header, p), dict)]))
    _node(header, target)[draw(st.text(max_size=6))] = draw(JSON_VALUES)
    return Edit(header, arrays, relist=False)


def change_param(draw, model, header, arrays):
    if not header["params"]:
        return replace_header_field(draw, model, header, arrays)
    name = draw(st.sampled_from(sorted(header["params"])))
    current = header["params"][name]
    is_int = isinstance(current, int) and not isinstance(current, bool)
    scaled = [current * 10**6, current + 1, -current] if is_int else []
    header["params"][name] = draw(JSON_VALUES | st.sampled_from(scaled or [None]))
    return Edit(header, arrays, relist=False)


def swap_byte_order(draw, model, header, arrays):
    names = draw(st.lists(st.sampled_from(sorted(arrays)), min_size=1, unique=True))
    return Edit(header, {**arrays, **{n: swapped(arrays[n]) for n in names}}, keeps_meaning=True)


def widen(draw, model, header, arrays):
    """An integer array to a wider integer type, a float32 array to float64: the same values."""
    name = draw(st.sampled_from(sorted(arrays)))
    a = arrays[name]
    if a.dtype.kind == "f":
        wider = a.astype(draw(st.sampled_from(["<f8", ">f8"])))
    elif a.dtype.kind in "iu":
        choices = ["<i8", ">i8"] + (["<u8"] if a.size == 0 or a.min() >= 0 else [])
        wider = a.astype(draw(st.sampled_from(choices)))
    else:
        wider = a
    return Edit(header, {**arrays, name: wider}, keeps_meaning=True)


def fortran_order(draw, model, header, arrays):
    names = [n for n, a in arrays.items() if a.ndim == 2]
    if not names:
        return swap_byte_order(draw, model, header, arrays)
    name = draw(st.sampled_from(names))
    return Edit(header, {**arrays, name: np.asfortranarray(arrays[name])}, keeps_meaning=True)


def deflate(draw, model, header, arrays):
    """np.savez_compressed's members, and a version-1 header (written by tinyrec before the schema)."""
    if draw(st.booleans()):
        header["format_version"] = 1
    return Edit(header, arrays, keeps_meaning=True, compression=zipfile.ZIP_DEFLATED)


def cast(draw, model, header, arrays):
    name = draw(st.sampled_from(sorted(arrays)))
    with np.errstate(all="ignore"):
        try:
            other = arrays[name].astype(draw(st.sampled_from(OTHER_DTYPES)))
        except (ValueError, TypeError, OverflowError):  # text ids to numbers
            other = arrays[name]
    return Edit(header, {**arrays, name: other})


def reshape(draw, model, header, arrays):
    name = draw(st.sampled_from(sorted(arrays)))
    a = arrays[name]
    how = draw(st.sampled_from(["shorter", "longer", "axis", "flat", "transpose", "empty"]))
    new = {
        "shorter": lambda: a[:-1],
        "longer": lambda: np.concatenate([a, a[:1]]) if a.ndim else a,
        "axis": lambda: a[..., None],
        "flat": lambda: a.reshape(-1),
        "transpose": lambda: a.T.copy(),
        "empty": lambda: a[:0],
    }[how]()
    return Edit(header, {**arrays, name: new}, relist=draw(st.booleans()))


def reorder(draw, model, header, arrays):
    names = [n for n, a in arrays.items() if a.ndim == 1 and a.size > 1]
    indices = [n for n in names if arrays[n].dtype.kind in "iu"]  # index lists, offsets, counts: oftener
    name = draw(st.sampled_from(indices) | st.sampled_from(names))
    a = arrays[name].copy()
    start = draw(st.integers(0, a.size - 2))
    stop = draw(st.integers(start + 2, min(a.size, start + 8)))
    a[start:stop] = draw(st.permutations(list(a[start:stop])))
    return Edit(header, {**arrays, name: a})


def out_of_range(draw, model, header, arrays):
    names = [n for n, a in arrays.items() if a.dtype.kind in "iu" and a.size]
    name = draw(st.sampled_from(names))
    a = arrays[name].astype(np.int64)
    n_users, n_items = model.n_users_, model.n_items_
    bad = draw(st.sampled_from([-1, n_users, n_items, n_users + n_items, 2**31, 2**40]))
    a.flat[draw(st.integers(0, a.size - 1))] = bad
    return Edit(header, {**arrays, name: a})


def change_values(draw, model, header, arrays):
    names = [n for n, a in arrays.items() if a.dtype.kind in "iuf" and a.size]
    name = draw(st.sampled_from(names))
    a = arrays[name].copy()
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.integers(0, a.size - 1))
        if a.dtype.kind == "f":
            a.flat[where] = draw(MODERATE | st.sampled_from([np.nan, np.inf, -np.inf]))
        else:
            a.flat[where] = draw(st.integers(0, 40))
    return Edit(header, {**arrays, name: a})


def scale_values(draw, model, header, arrays):
    names = [n for n, a in arrays.items() if a.dtype.kind == "f" and a.size]
    if not names:
        return change_values(draw, model, header, arrays)
    name = draw(st.sampled_from(names))
    return Edit(header, {**arrays, name: arrays[name] * draw(st.sampled_from([-1.0, 0.0, 1e-3, 1e3]))})


def delete_member(draw, model, header, arrays):
    name = draw(st.sampled_from(sorted(arrays)))
    relist = draw(st.booleans())
    if relist:
        del header["arrays"][name]
    return Edit(header, {k: v for k, v in arrays.items() if k != name}, relist=False)


def add_member(draw, model, header, arrays):
    name = draw(st.sampled_from(["extra_", "net.extra", "P_", "nbr_indices_", "row_indptr_"]))
    return Edit(header, {**arrays, name: np.zeros(draw(st.integers(0, 5)))}, relist=draw(st.booleans()))


def swap_members(draw, model, header, arrays):
    a, b = draw(st.lists(st.sampled_from(sorted(arrays)), min_size=2, max_size=2, unique=True))
    return Edit(header, {**arrays, a: arrays[b], b: arrays[a]}, relist=draw(st.booleans()))


def huge_member(draw, model, header, arrays):
    name = draw(st.sampled_from(sorted(arrays)))
    shape = draw(st.sampled_from([[1 << 40], [1 << 31, 1 << 20], [2**62], [0, 1 << 62], [7]]))
    descr = draw(st.sampled_from(["<f4", ">f8", "<i4", "<U1000"]))
    header["arrays"][name] = {"shape": shape, "dtype": descr}
    return Edit(header, {**arrays, name: npy_header(shape, descr)}, relist=False)


MUTATIONS = [
    replace_header_field, delete_header_field, add_header_field, change_param, swap_byte_order, widen,
    fortran_order, deflate, cast, reshape, reorder, out_of_range, change_values, scale_values,
    delete_member, add_member, swap_members, huge_member,
]  # fmt: skip


def _check_outputs(loaded, original, test, keeps_meaning):
    """The oracle for a file that loaded: a working model, and the original's when the meaning was kept."""
    known = (test.users < loaded.n_users_) & (test.items < loaded.n_items_)
    out = _outputs(loaded, test.subset(known))
    scores = out["predict"]
    assert np.all(np.isfinite(scores)), "non-finite predictions"
    if loaded.task == "rating":
        low, high = loaded.rating_range_
        assert np.all((scores >= low) & (scores <= high)), "predictions outside the rating range"
    top, top_scores = out["recommend"]
    assert np.all((top >= -1) & (top < loaded.n_items_)) and np.all(np.isfinite(top_scores[top >= 0]))
    if keeps_meaning:
        expected = _outputs(original, test)
        assert known.all()
        np.testing.assert_array_equal(scores, expected["predict"])
        for a, b in zip(out["recommend"], expected["recommend"], strict=True):
            np.testing.assert_array_equal(a, b)
        assert out.get("explain") == expected.get("explain")


def _load(path):
    """The loaded model, or None when the file was refused with one of the two promised errors."""
    try:
        return tinyrec.io.load(path)
    except (ModelFileError, AllocationError) as exc:
        event(type(exc).__name__)
        return None


@pytest.mark.slow  # 2,000 mutated files: about 10 s
@settings(max_examples=2000)
@given(data=st.data())
def test_a_mutated_model_file_is_refused_or_loads_a_working_model(saved, tmp_path_factory, data):
    name = data.draw(st.sampled_from(sorted(saved)), label="model")
    model, test, header, arrays, _ = saved[name]
    mutation = data.draw(st.sampled_from(MUTATIONS), label="mutation")
    edit = mutation(data.draw, model, json.loads(json.dumps(header)), arrays)  # on a copy of the header
    if edit.relist:
        edit.header["arrays"] = {k: v for k, v in edit.header["arrays"].items() if k in edit.members}
    path = tmp_path_factory.getbasetemp() / "fuzzed.npz"
    write_members(path, edit.header, edit.members, relist=edit.relist, compression=edit.compression)
    event(mutation.__name__)  # --hypothesis-show-statistics: how often each mutation loads or is refused
    loaded = _load(path)
    assert loaded is not None or not edit.keeps_meaning, f"{mutation.__name__} keeps the meaning: refused"
    if loaded is not None:
        event(f"{mutation.__name__}: loaded")
        _check_outputs(loaded, model, test, edit.keeps_meaning)


@settings(max_examples=300)
@given(data=st.data())
def test_a_damaged_file_is_refused_or_loads_the_same_model(saved, tmp_path_factory, data):
    """Bytes flipped or cut anywhere in the file: the zip's checksums and the checks above refuse it,
    or the damage hit nothing the model reads (a timestamp, a comment) and it loads unchanged."""
    name = data.draw(st.sampled_from(sorted(saved)), label="model")
    model, test, header, arrays, _ = saved[name]
    path = tmp_path_factory.getbasetemp() / "damaged.npz"
    write_members(path, header, arrays)
    raw = bytearray(path.read_bytes())
    if data.draw(st.booleans(), label="cut"):
        raw = raw[: data.draw(st.integers(0, len(raw) - 1))]
    else:
        for _ in range(data.draw(st.integers(1, 4))):
            raw[data.draw(st.integers(0, len(raw) - 1))] ^= data.draw(st.integers(1, 255))
    path.write_bytes(bytes(raw))
    loaded = _load(path)
    if loaded is not None:
        event("loaded")
        _check_outputs(loaded, model, test, keeps_meaning=True)
