"""Model files: round trip, the header, atomic writes, and the errors for bad files."""

from __future__ import annotations

import json

import numpy as np
import pytest

import tinyrec
import tinyrec.io
import tinyrec.models
from tinyrec.data.interactions import Interactions
from tinyrec.errors import ArgumentTypeError, ModelFileError, NotFittedError
from tinyrec.models import BiasedMF, Recommender
from tinyrec.models.registry import MODEL_CLASSES
from tinyrec.nn.linear import Linear
from tinyrec.validation import float_dtype, positive_int, seed_like

from .models.contract import planted_ratings


@pytest.fixture(scope="module")
def fitted():
    train, test, _ = planted_ratings()
    return BiasedMF(3, 4, seed=0).fit(train, valid=test), train, test


def _rewrite(path, *, header=None, arrays=None, drop=()):
    """Rewrite a model file with a changed header and/or arrays (as a corrupted file would be)."""
    with np.load(path, allow_pickle=False) as npz:
        content = {name: npz[name] for name in npz.files}
    old = json.loads(content.pop(tinyrec.io.HEADER_KEY).tobytes())
    new_header = {**old, **(header or {})}
    content.update(arrays or {})
    for name in drop:
        content.pop(name)
    blob = np.frombuffer(json.dumps(new_header).encode(), dtype=np.uint8)
    with open(path, "wb") as f:
        np.savez(f, **{tinyrec.io.HEADER_KEY: blob}, **content)


def test_round_trip_keeps_arrays_params_history_and_id_maps(fitted, tmp_path):
    model, train, test = fitted
    path = model.save(tmp_path / "mf.npz")
    loaded = tinyrec.io.load(path)
    for name in ("P_", "Q_", "bu_", "bi_", "item_counts_", "user_ids_", "item_ids_"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(model, name), err_msg=name)
        assert getattr(loaded, name).dtype == getattr(model, name).dtype, name
    assert loaded.get_params() == model.get_params()
    assert loaded.history_ == model.history_ and len(loaded.history_["valid_rmse"]) == 4
    assert loaded.global_mean_ == model.global_mean_ and loaded.rating_range_ == model.rating_range_
    np.testing.assert_array_equal(
        loaded.predict(test.users, test.items), model.predict(test.users, test.items)
    )


def test_header_is_plain_json_readable_without_pickle(fitted, tmp_path):
    model, _, _ = fitted
    path = model.save(tmp_path / "mf.npz")
    with np.load(path, allow_pickle=False) as npz:
        header = json.loads(npz[tinyrec.io.HEADER_KEY].tobytes().decode("utf-8"))
        assert npz[tinyrec.io.HEADER_KEY].dtype == np.uint8
    assert header["format"] == "tinyrec-model" and header["format_version"] == tinyrec.io.FORMAT_VERSION
    assert header["tinyrec_version"] == tinyrec.__version__
    assert header["model_class"] == "tinyrec.models.mf.BiasedMF"
    assert header["params"]["n_factors"] == 3 and header["params"]["dtype"] == "float32"
    assert header["arrays"]["P_"] == {"shape": [30, 3], "dtype": "<f4"}


def test_string_raw_ids_survive(tmp_path):
    users = np.array(["ann", "bob", "cy", "ann"])
    items = np.array(["x", "y", "x", "z"])
    data = Interactions.from_raw(users, items, [4.0, 3.0, 5.0, 1.0])
    model = BiasedMF(2, 2, seed=0).fit(data)
    loaded = tinyrec.io.load(model.save(tmp_path / "m.npz"))
    assert loaded.user_ids_.tolist() == ["ann", "bob", "cy"]
    assert loaded.item_ids_.tolist() == ["x", "y", "z"]


def test_write_is_atomic_and_replaces(fitted, tmp_path, monkeypatch):
    model, _, _ = fitted
    path = tmp_path / "mf.npz"
    model.save(path)
    before = path.read_bytes()
    model.save(path)  # overwriting works
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mf.npz"]  # no temp file left

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == before  # the old file is intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mf.npz"]


def test_unfitted_model_cannot_be_saved(tmp_path):
    with pytest.raises(NotFittedError):
        BiasedMF().save(tmp_path / "x.npz")


def test_other_format_version_is_refused(fitted, tmp_path):
    path = fitted[0].save(tmp_path / "mf.npz")
    _rewrite(path, header={"format_version": 99})
    with pytest.raises(ModelFileError, match="format version 99"):
        tinyrec.io.load(path)


def test_truncated_file_is_refused(fitted, tmp_path):
    path = fitted[0].save(tmp_path / "mf.npz")
    data = path.read_bytes()
    for cut in (len(data) // 2, len(data) - 30, 10):
        path.write_bytes(data[:cut])
        with pytest.raises(ModelFileError, match="truncated"):
            tinyrec.io.load(path)


def test_arrays_disagreeing_with_the_header_are_refused(fitted, tmp_path):
    model = fitted[0]
    path = model.save(tmp_path / "mf.npz")
    _rewrite(path, arrays={"P_": np.zeros((30, 4), np.float32)})
    with pytest.raises(ModelFileError, match="'P_' has shape"):
        tinyrec.io.load(path)
    path = model.save(tmp_path / "mf.npz")
    _rewrite(path, arrays={"bi_": model.bi_.astype(np.float64)})
    with pytest.raises(ModelFileError, match="dtype"):
        tinyrec.io.load(path)
    path = model.save(tmp_path / "mf.npz")
    _rewrite(path, drop=("Q_",))
    with pytest.raises(ModelFileError, match="Q_"):
        tinyrec.io.load(path)


def _with_listed_arrays(path, arrays: dict, header: dict | None = None):
    """Rewrite ``arrays`` and list them in the header, as a deliberately edited file would."""
    with np.load(path, allow_pickle=False) as npz:
        old = json.loads(npz[tinyrec.io.HEADER_KEY].tobytes())
    specs = {k: {"shape": list(v.shape), "dtype": v.dtype.str} for k, v in arrays.items()}
    listed = {**old["arrays"], **specs}
    _rewrite(path, header={**(header or {}), "arrays": listed}, arrays=arrays)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda m: {"arrays": {"P_": m.P_[:-1]}}, r"'P_' has shape .*, but the model needs \(\d+, 3\)"),
        (lambda m: {"arrays": {"Q_": np.concatenate([m.Q_, m.Q_])}}, r"'Q_' has shape .*, but the model"),
        (lambda m: {"header": {"attributes": {"n_items_": 5}}}, r"the model needs \(5,"),
        (lambda m: {"header": {"attributes": {"n_users_": "many"}}}, "not a count"),
        (lambda m: {"arrays": {"P_": np.full_like(m.P_, np.nan)}}, "'P_' holds NaN"),
        (lambda m: {"arrays": {"seen_indices_": m.seen_indices_ + m.n_items_}}, "holds indices outside"),
        (lambda m: {"arrays": {"seen_indptr_": m.seen_indptr_[::-1].copy()}}, "do not run from 0"),
    ],
    ids=["fewer-user-rows", "more-item-rows", "header-n-items", "n-users-not-a-count", "nan-weights",
         "seen-out-of-range", "offsets-reversed"],
)  # fmt: skip
def test_arrays_disagreeing_with_each_other_are_refused_at_load(fitted, tmp_path, edit, message):
    """A file edited consistently with its own header still fails at load, not at predict time."""
    model = fitted[0]
    path = model.save(tmp_path / "mf.npz")
    change = edit(model)
    header = change.get("header")
    if header and "attributes" in header:
        with np.load(path, allow_pickle=False) as npz:
            old = json.loads(npz[tinyrec.io.HEADER_KEY].tobytes())
        header = {"attributes": {**old["attributes"], **header["attributes"]}}
    _with_listed_arrays(path, change.get("arrays", {}), header)
    with pytest.raises(ModelFileError, match=message):
        tinyrec.io.load(path)


def test_a_header_without_the_fitted_sizes_is_refused(fitted, tmp_path):
    model = fitted[0]
    path = model.save(tmp_path / "mf.npz")
    with np.load(path, allow_pickle=False) as npz:
        attributes = json.loads(npz[tinyrec.io.HEADER_KEY].tobytes())["attributes"]
    del attributes["n_items_"]
    _rewrite(path, header={"attributes": attributes})
    with pytest.raises(ModelFileError, match=r"lacks the fitted attributes \['n_items_'\]"):
        tinyrec.io.load(path)


def test_saving_to_a_missing_folder_or_a_folder_is_refused_before_writing(fitted, tmp_path):
    model = fitted[0]
    with pytest.raises(ModelFileError, match="does not exist; create it first"):
        model.save(tmp_path / "no" / "such" / "mf.npz")
    with pytest.raises(ModelFileError, match="is a folder"):
        model.save(tmp_path)
    with pytest.raises(TypeError, match="path must be a str"):
        model.save(None)
    assert list(tmp_path.iterdir()) == []  # nothing written, no temporary file left


def test_missing_plain_and_foreign_files_are_refused(fitted, tmp_path):
    with pytest.raises(ModelFileError, match="no model file"):
        tinyrec.io.load(tmp_path / "absent.npz")
    plain = tmp_path / "plain.npz"
    np.savez(plain, a=np.zeros(3))
    with pytest.raises(ModelFileError, match="no tinyrec header"):
        tinyrec.io.load(plain)
    text = tmp_path / "notes.npz"
    text.write_text("hello")
    with pytest.raises(ModelFileError, match="truncated or not a tinyrec model file"):
        tinyrec.io.load(text)
    single = tmp_path / "array.npy"
    np.save(single, np.zeros(3))
    with pytest.raises(ModelFileError, match="single array, not an .npz"):
        tinyrec.io.load(single)


def test_class_outside_tinyrec_is_never_imported(fitted, tmp_path):
    path = fitted[0].save(tmp_path / "mf.npz")
    # a file names its class; only the registered concrete models are ever built from it
    for name in ("os.system", "tinyrec.nn.linear.Linear", "tinyrec.models.mf.NoSuchModel",
                 "tinyrec.models.base.Recommender", "tinyrec.models.knn.BiasedMF", 3, None):
        _rewrite(path, header={"model_class": name})
        with pytest.raises(ModelFileError, match="not a tinyrec model in this version"):
            tinyrec.io.load(path)
    _rewrite(path, header={"model_class": "BiasedMF"})  # the bare registered name is enough
    assert isinstance(tinyrec.io.load(path), tinyrec.models.BiasedMF)


def test_hyperparameters_that_do_not_fit_the_class_are_refused(fitted, tmp_path):
    path = fitted[0].save(tmp_path / "mf.npz")
    _rewrite(path, header={"params": {"n_factors": 3, "no_such_option": 1}})
    with pytest.raises(ModelFileError, match="hyperparameters"):
        tinyrec.io.load(path)


class TinyNeural(Recommender):
    """A minimal neural recommender: a Linear layer over one-hot users (the hook later models use)."""

    hyperparameters = {"hidden": positive_int, "dtype": float_dtype, "seed": seed_like}

    def __init__(self, hidden: int = 3, *, dtype=np.float32, seed=None):
        self.hidden, self.dtype, self.seed = hidden, dtype, seed
        self._check_hyperparameters()

    def _build_net(self):
        self.net = Linear(self.n_users_, self.n_items_, dtype=self.dtype, seed=self.seed)

    def _network_shapes(self):
        return {"weight": (self.n_items_, self.n_users_), "bias": (self.n_items_,)}

    def _fit(self, train, valid):
        self._build_net()
        self.history_["loss"] = [1.0, 0.5]

    def _score_all(self, users):
        return self.net.weight.data.T[users].astype(np.float64)

    def _score(self, users, items):
        return self._score_all(users)[np.arange(len(users)), items]


def test_module_state_dict_and_history_are_stored(tmp_path, monkeypatch):
    monkeypatch.setattr(TinyNeural, "__module__", "tinyrec.models")
    monkeypatch.setitem(MODEL_CLASSES, "TinyNeural", TinyNeural)  # a registered model
    train, test, _ = planted_ratings()
    model = TinyNeural(seed=0).fit(train)
    path = model.save(tmp_path / "net.npz")
    with np.load(path, allow_pickle=False) as npz:
        assert {"net.weight", "net.bias"} <= set(npz.files)
    loaded = tinyrec.io.load(path)
    assert loaded.history_ == {"loss": [1.0, 0.5]}
    for name, value in model.net.state_dict().items():
        np.testing.assert_array_equal(loaded.net.state_dict()[name], value)
    np.testing.assert_array_equal(
        loaded.predict(test.users, test.items), model.predict(test.users, test.items)
    )
    _rewrite(path, arrays={"net.weight": np.zeros((2, 2), np.float32)}, header={})
    with pytest.raises(ModelFileError):
        tinyrec.io.load(path)


def test_every_model_class_in_tinyrec_models_is_registered():
    import importlib
    import pkgutil

    from tinyrec.models.base import Recommender

    found = set()
    for info in pkgutil.walk_packages(tinyrec.models.__path__, "tinyrec.models."):  # subpackages too
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Recommender) and value is not Recommender:
                if value.__module__ == module.__name__ and not value.__name__.startswith("_"):
                    found.add(value)
    assert found == set(MODEL_CLASSES.values())


# -- layer files: tinyrec.save / tinyrec.load of an nn layer or a Sequential ---------------------------
def _layers():
    from tests.nn.test_layer_contract import CASES  # the registry of every layer, with its inputs

    return CASES


@pytest.mark.parametrize("case", _layers(), ids=repr)
def test_every_layer_round_trips_through_a_layer_file(case, tmp_path):
    layer = case.build(np.float64, 0)
    rng = np.random.default_rng(1)
    inputs, kwargs = case.inputs(np.float64, rng), case.forward_kwargs(np.float64, rng)
    for _, p in layer.named_parameters():
        p.data[...] = rng.standard_normal(p.shape)
    layer(*inputs, **kwargs)  # moves BatchNorm's running statistics
    path = tinyrec.save(layer, tmp_path / "layer.npz")
    loaded = tinyrec.load(path)
    assert type(loaded) is type(layer) and loaded.training == layer.training
    assert repr(loaded) == repr(layer)
    state, back = layer.state_dict(), loaded.state_dict()
    assert list(back) == list(state)
    for name, value in state.items():
        np.testing.assert_array_equal(back[name], value, err_msg=name)
        assert back[name].dtype == value.dtype and back[name].shape == value.shape, name
    layer.eval(), loaded.eval()
    for a, b in zip(nn_flatten(layer(*inputs, **kwargs)), nn_flatten(loaded(*inputs, **kwargs)), strict=True):
        np.testing.assert_array_equal(a, b)


def nn_flatten(value):
    if isinstance(value, (tuple, list)):
        return [leaf for item in value for leaf in nn_flatten(item)]
    return [value]


def test_a_sequential_of_layers_round_trips_with_its_structure(tmp_path):
    from tinyrec import nn

    net = nn.Sequential(nn.Linear(4, 6, seed=0), nn.ReLU(), nn.Dropout(0.2),
                        nn.Sequential(nn.Linear(6, 2, bias=False, seed=1), nn.Tanh())).eval()  # fmt: skip
    path = tinyrec.save(net, tmp_path / "net.npz")
    with np.load(path, allow_pickle=False) as npz:
        header = json.loads(npz[tinyrec.io.HEADER_KEY].tobytes())
        assert set(npz.files) == {tinyrec.io.HEADER_KEY, "0.weight", "0.bias", "3.0.weight"}
    assert header["kind"] == "module" and header["format_version"] == tinyrec.io.FORMAT_VERSION
    assert [r["class"] for r in header["module"]["layers"]] == ["Linear", "ReLU", "Dropout", "Sequential"]
    assert header["module"]["layers"][0]["args"] == {"in_features": 4, "out_features": 6, "bias": True,
                                                     "dtype": "float32"}  # fmt: skip
    loaded = tinyrec.load(path)
    assert repr(loaded) == repr(net) and not loaded.training and not loaded[3][0].training
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    np.testing.assert_array_equal(loaded(x), net(x))
    net.train()
    net[2].eval()  # each layer keeps its own mode: a training network with its dropout switched off
    loaded = tinyrec.load(tinyrec.save(net, tmp_path / "net.npz"))
    assert [m.training for m in loaded.modules()] == [m.training for m in net.modules()]
    assert loaded.training and not loaded[2].training


def test_a_layer_it_cannot_rebuild_is_refused_with_the_state_dict_advice(tmp_path):
    from tinyrec import nn

    class Scaled(nn.Linear):  # a class of one's own
        pass

    changed = nn.Linear(4, 3)
    changed.out_features = 5  # changed after it was built: its arguments no longer describe it
    wrapped = nn.Sequential(nn.Linear(2, 2), Scaled(2, 2))
    for layer in (Scaled(4, 3), changed, wrapped):
        with pytest.raises(ArgumentTypeError, match=r"Save its state_dict instead, np.savez\(path, \*\*lay"):
            tinyrec.save(layer, tmp_path / "x.npz")
    with pytest.raises(ArgumentTypeError, match="saves a fitted recommender or a tinyrec.nn layer, got dict"):
        tinyrec.save({"weight": np.zeros(3)}, tmp_path / "x.npz")
    assert list(tmp_path.iterdir()) == []


def _args(record, **changes):
    return {**record, "args": {**record["args"], **changes}}


def _edit_layer_file(path, module=None, arrays=None, header=None):
    with np.load(path, allow_pickle=False) as npz:
        content = {name: npz[name] for name in npz.files}
    old = json.loads(content.pop(tinyrec.io.HEADER_KEY).tobytes())
    new = {**old, **(header or {})}
    if module is not None:
        new["module"] = module(old["module"])
    content.update(arrays or {})
    new["arrays"] = {k: {"shape": list(v.shape), "dtype": v.dtype.str} for k, v in content.items()}
    blob = np.frombuffer(json.dumps(new).encode(), dtype=np.uint8)
    with open(path, "wb") as f:
        np.savez(f, **{tinyrec.io.HEADER_KEY: blob}, **content)


@pytest.mark.parametrize(
    "edit, message",
    [
        ({"module": lambda m: {**m, "class": "os.system"}}, "header field module.class is"),
        ({"module": lambda m: {**m, "class": "Recommender"}}, "'Recommender' is not a layer of tinyrec.nn"),
        ({"module": lambda m: _args(m, in_features=10**12)}, "are not the weights of a Linear"),
        ({"module": lambda m: _args(m, in_features="4")}, "in_features='4' is not a positive"),
        ({"module": lambda m: _args(m, activation="relu")}, "does not take the arguments"),
        ({"module": lambda m: _args(m, dtype="float16")}, "arguments of Linear are refused"),
        ({"module": lambda m: {**m, "training": "yes"}}, "module.training is 'yes', not true or false"),
        ({"module": lambda m: {"class": m["class"], "training": True}}, r"lacks the layer fields \['args'\]"),
        ({"arrays": {"weight": np.zeros((3, 4), np.float32)}}, "'weight' is float32 but the layer computes"),
        ({"arrays": {"bias": np.full(3, np.nan)}}, "'bias' holds NaN"),
        ({"arrays": {"extra": np.zeros(2)}}, "are not the weights of a Linear"),
        ({"header": {"kind": "network"}}, "holds a 'network', not one of"),
    ],
    ids=["foreign-class", "not-a-layer", "huge-argument", "text-size", "unknown-argument", "bad-dtype",
         "training-not-a-flag", "no-args", "other-dtype", "nan-weights", "extra-array", "other-kind"],
)  # fmt: skip
def test_an_edited_layer_file_is_refused_before_anything_is_built(tmp_path, edit, message):
    path = tinyrec.save(Linear(4, 3, dtype=np.float64, seed=0), tmp_path / "linear.npz")
    _edit_layer_file(path, **edit)
    with pytest.raises(ModelFileError, match=message):
        tinyrec.load(path)


def test_a_model_file_and_a_layer_file_say_what_they_hold(fitted, tmp_path):
    model_path = fitted[0].save(tmp_path / "mf.npz")
    with np.load(model_path, allow_pickle=False) as npz:
        assert "kind" not in json.loads(npz[tinyrec.io.HEADER_KEY].tobytes())  # absent: a model, as before
    _rewrite(model_path, header={"kind": "module"})
    with pytest.raises(ModelFileError, match=r"lacks the fields \['module'\]"):
        tinyrec.load(model_path)


def test_a_damaged_or_mutated_layer_file_is_refused_or_loads_a_layer(tmp_path):
    """Byte flips, cuts and header values of other types: one of the two errors, or a working layer."""
    from tinyrec import nn
    from tinyrec.errors import AllocationError

    net = nn.Sequential(nn.Linear(3, 4, seed=0), nn.ReLU(), nn.GRU(4, 2, seed=1))
    original = tinyrec.save(net, tmp_path / "net.npz").read_bytes()
    rng = np.random.default_rng(0)
    odd_values = [None, True, -1, 0, 2**40, 1.5, "x", [], {}, [1, 2], {"class": "Linear"}]
    outcomes = set()
    for trial in range(300):
        path = tmp_path / "mutated.npz"
        if trial < 150:  # the bytes: flip a few, or cut the file
            data = bytearray(original)
            if trial % 5 == 0:
                data = data[: int(rng.integers(0, len(data)))]
            else:
                for at in rng.integers(0, len(data), 3):
                    data[at] ^= 1 << int(rng.integers(0, 8))
            path.write_bytes(bytes(data))
        else:  # the header: a value of another type at some place of the module record
            path.write_bytes(original)
            value = odd_values[trial % len(odd_values)]

            def mutate(record, value=value):
                layers = record["layers"]
                target = layers[int(rng.integers(0, len(layers)))]
                where = ["class", "training", "args", "layers"][int(rng.integers(0, 4))]
                if where == "args" and target["args"]:
                    target["args"][sorted(target["args"])[0]] = value
                else:
                    target[where] = value
                return record

            _edit_layer_file(path, module=mutate)
        try:
            loaded = tinyrec.load(path)
        except (ModelFileError, AllocationError) as exc:
            outcomes.add(type(exc).__name__)
            continue
        assert isinstance(loaded, nn.Module)
        outcomes.add("loaded")
        x = rng.standard_normal((2, 5, 3)).astype(np.float32)
        try:
            loaded(x)
        except (ValueError, TypeError) as exc:  # a layer rebuilt with other (valid) sizes: a clear error
            assert isinstance(exc, tinyrec.errors.TinyrecError), repr(exc)
    assert {"ModelFileError", "loaded"} <= outcomes
