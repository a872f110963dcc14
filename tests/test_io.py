"""Model files: round trip, the header, atomic writes, and the errors for bad files."""

from __future__ import annotations

import json

import numpy as np
import pytest

import tinyrec
import tinyrec.io
import tinyrec.models
from tinyrec.data.interactions import Interactions
from tinyrec.errors import ModelFileError, NotFittedError
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
    for info in pkgutil.iter_modules(tinyrec.models.__path__):
        module = importlib.import_module(f"tinyrec.models.{info.name}")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Recommender) and value is not Recommender:
                if value.__module__ == module.__name__ and not value.__name__.startswith("_"):
                    found.add(value)
    assert found == set(MODEL_CLASSES.values())
