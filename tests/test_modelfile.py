"""Model files as untrusted input: the header's schema, members checked before they are
read, byte order and dtypes, hyperparameters and network sizes before building, the models'
invariants, and errors while saving.

The helpers at the top write a model file member by member, as a crafted or damaged file would be;
``tests/test_modelfile_fuzz.py`` uses them too.
"""

from __future__ import annotations

import errno
import io
import json
import os
import warnings
import zipfile

import numpy as np
import pytest

import tinyrec
import tinyrec.io
from tinyrec.errors import AllocationError, ModelFileError, ModelFileWriteError
from tinyrec.limits import ENVIRONMENT_VARIABLE
from tinyrec.modelfile import HEADER_KEY
from tinyrec.models import NCFMLP, AutoRec, BiasedMF, ItemKNN, Recommender, UserKNN
from tinyrec.models.knn import _NeighbourhoodModel
from tinyrec.models.registry import MODEL_CLASSES

from .models.contract import implicit_toy, planted_ratings


# -- writing files member by member --------------------------------------------------------------
def read_members(path) -> tuple[dict, dict[str, np.ndarray]]:
    """A model file's header and arrays as stored (byte order and dtypes untouched)."""
    with np.load(path, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    return json.loads(arrays.pop(HEADER_KEY).tobytes()), arrays


def npy_bytes(a: np.ndarray) -> bytes:
    """``a`` as an ``.npy`` file (its byte order, dtype and memory order kept)."""
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, a, allow_pickle=False)
    return buffer.getvalue()


def npy_header(shape, descr: str, fortran: bool = False) -> bytes:
    """The ``.npy`` header alone of an array of ``shape`` and dtype ``descr``: a member claiming data."""
    buffer = io.BytesIO()
    header = {"descr": descr, "fortran_order": fortran, "shape": tuple(shape)}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue()


def write_members(path, header: dict, members: dict, *, relist: bool = True, compression=zipfile.ZIP_STORED):
    """Write ``header`` and ``members`` (name -> ndarray or raw ``.npy`` bytes) as a model file.

    With ``relist``, the header's ``arrays`` lists the ndarray members as they are (a consistent
    edit); raw members keep whatever the header says.
    """
    header = json.loads(json.dumps(header))  # a copy
    if relist:
        header.setdefault("arrays", {})
        for name, a in members.items():
            if isinstance(a, np.ndarray):
                header["arrays"][name] = {"shape": list(a.shape), "dtype": a.dtype.str}
    blob = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        zf.writestr(HEADER_KEY + ".npy", npy_bytes(blob))
        for name, a in members.items():
            zf.writestr(name + ".npy", a if isinstance(a, bytes) else npy_bytes(a))


def swapped(a: np.ndarray) -> np.ndarray:
    """``a`` with the other byte order: the same values, stored the other way round."""
    return a.astype(a.dtype.newbyteorder("S")) if a.dtype.itemsize > 1 else a


# -- fixtures ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ratings():
    train, test, _ = planted_ratings()
    return train, test


@pytest.fixture(scope="module")
def knn(ratings):
    train, test = ratings
    model = ItemKNN(5).fit(train)
    model.predict(test.users, test.items)  # the kernels have run natively in this process
    return model


@pytest.fixture
def knn_file(knn, tmp_path):
    return knn.save(tmp_path / "knn.npz")


def _same_predictions(a, b, test):
    np.testing.assert_array_equal(a.predict(test.users, test.items), b.predict(test.users, test.items))


# -- the header's schema -------------------------------------------------------------------------
def test_files_are_written_as_format_version_2_and_version_1_still_loads(knn, knn_file, ratings, tmp_path):
    header, arrays = read_members(knn_file)
    assert header["format_version"] == tinyrec.io.FORMAT_VERSION == 2
    # version 1 (tinyrec before the schema) has the same fields; such files load unchanged
    old = tmp_path / "v1.npz"
    without = {name: value for name, value in header.items() if name != "provenance"}
    write_members(old, {**without, "format_version": 1}, arrays)
    with pytest.warns(UserWarning, match="saved without its provenance"):
        _same_predictions(tinyrec.io.load(old), knn, ratings[1])


def test_the_provenance_is_saved_and_a_file_without_it_loads_with_a_warning(ratings, tmp_path):
    train = ratings[0].with_info(name="planted")
    model = BiasedMF(3, 2, seed=4).fit(train)
    path = model.save(tmp_path / "mf.npz")
    header, arrays = read_members(path)
    assert header["provenance"] == model.provenance_ == {
        "data": "planted", "split": None, "seed": 4, "fingerprint": train.fingerprint(),
        "n_interactions": len(train),
    }  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a file with its provenance loads without a word
        assert tinyrec.io.load(path).provenance_ == model.provenance_
    header.pop("provenance")  # a version-2 file saved before the section existed
    write_members(path, header, arrays)
    with pytest.warns(UserWarning, match=r"mf\.npz was saved without its provenance .* unknown"):
        assert tinyrec.io.load(path).provenance_ is None


@pytest.mark.parametrize(
    "edit, field",
    [
        (lambda h: h.update(arrays=[]), "arrays"),
        (lambda h: h["arrays"].update(P_="<f4"), r"arrays\['P_'\]"),
        (lambda h: h["arrays"]["P_"].update(shape="30,3"), r"arrays\['P_'\]\.shape"),
        (lambda h: h["arrays"]["P_"].update(shape=[30, 3.0]), r"arrays\['P_'\]\.shape\[1\]"),
        (lambda h: h["arrays"]["P_"].update(shape=[30, -3]), r"arrays\['P_'\]\.shape\[1\]"),
        (lambda h: h["arrays"]["P_"].update(dtype="O"), r"arrays\['P_'\]\.dtype"),
        (lambda h: h["arrays"]["P_"].update(dtype=[["a", "<f4"]]), r"arrays\['P_'\]\.dtype"),
        (lambda h: h["arrays"]["P_"].pop("dtype"), r"\['dtype'\] \(in arrays\['P_'\]\)"),
        (lambda h: h.update(params=["n_factors", 3]), "params"),
        (lambda h: h.update(attributes="n_users_=30"), "attributes"),
        (lambda h: h["attributes"].update(n_users_=30.0), r"attributes\.n_users_ is 30\.0, not a count"),
        (lambda h: h["attributes"].update(n_users_=True), r"attributes\.n_users_ is True, not a count"),
        (lambda h: h["attributes"].update(global_mean_=float("nan")), "attributes.global_mean_"),
        (lambda h: h["attributes"].update(global_mean_="3.5"), "attributes.global_mean_"),
        (lambda h: h["attributes"].update(rating_range_=[1.0]), r"attributes\.rating_range_ has 1 entries"),
        (lambda h: h["attributes"].update(rating_range_=[5.0, 1.0]), "runs from high to low"),
        (lambda h: h.update(history={"train_rmse": "1.0"}), r"history\['train_rmse'\]"),
        (lambda h: h.update(history={"train_rmse": [1.0, None]}), r"history\['train_rmse'\]\[1\]"),
        (lambda h: h.pop("params"), r"lacks the fields \['params'\]"),
        (lambda h: h.pop("tinyrec_version"), r"lacks the fields \['tinyrec_version'\]"),
        (lambda h: h.update(encoders={"genre": []}), r"fields \['encoders'\] that this tinyrec"),
        (lambda h: h.update(provenance={"data": "ml-100k"}), r"lacks the provenance fields \['split'"),
        (lambda h: h["provenance"].update(fingerprint="md5:0"), r"provenance\.fingerprint is 'md5:0'"),
        (lambda h: h["provenance"].update(seed=-1), r"provenance\.seed is -1, not a seed"),
        (lambda h: h["provenance"].update(data=3), r"provenance\.data is 3, not a data set's name"),
        (lambda h: h["provenance"].update(origin="x"), r"fields \['origin'\] \(in provenance\)"),
        (lambda h: h["attributes"].update(extra=1), r"fields \['extra'\] \(in attributes\)"),
        (lambda h: h["params"].update(seed=2**70), "params"),
        (lambda h: h.update(model_class=["BiasedMF"]), "not a tinyrec model in this version"),
        (lambda h: h.update(format_version=2.0), "format_version"),
    ],
)  # fmt: skip
def test_a_header_field_of_the_wrong_type_is_refused_naming_it(ratings, tmp_path, edit, field):
    path = BiasedMF(3, 2, seed=0).fit(ratings[0]).save(tmp_path / "mf.npz")
    header, arrays = read_members(path)
    edit(header)
    write_members(path, header, arrays, relist=False)
    with pytest.raises(ModelFileError, match=field):
        tinyrec.io.load(path)


@pytest.mark.parametrize(
    "text, message",
    [
        (b"[1, 2]", "not a tinyrec model file"),
        (b'"tinyrec-model"', "not a tinyrec model file"),
        (b'{"format": "tinyrec-model", "format": "x"}', "a key occurs twice"),
        (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
        (b'{"format": "tinyrec-model", "format_version": 1' + b"0" * 5000 + b"}", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
    ],
)  # fmt: skip
def test_a_header_that_is_not_a_json_mapping_is_refused(knn_file, text, message):
    _, arrays = read_members(knn_file)
    with zipfile.ZipFile(knn_file, "w") as zf:
        zf.writestr(HEADER_KEY + ".npy", npy_bytes(np.frombuffer(text, dtype=np.uint8)))
        for name, a in arrays.items():
            zf.writestr(name + ".npy", npy_bytes(a))
    with pytest.raises(ModelFileError, match=message):
        tinyrec.io.load(knn_file)


# -- members checked before they are read ----------------------------------------------------------
def test_a_member_claiming_a_terabyte_is_refused_before_any_allocation(knn_file, monkeypatch):
    header, arrays = read_members(knn_file)
    claim = {**header, "arrays": {**header["arrays"], "nbr_sims_": {"shape": [1 << 38], "dtype": "<f4"}}}
    write_members(knn_file, claim, {**arrays, "nbr_sims_": npy_header([1 << 38], "<f4")}, relist=False)
    with pytest.raises(AllocationError, match=r"'nbr_sims_' of shape \(274877906944,\) would take 1\.0 TiB"):
        tinyrec.io.load(knn_file)  # 1 TiB and no data behind it: refused, never a MemoryError
    # the bound can be lowered: a file bigger than TINYREC_MAX_BYTES is refused whole
    write_members(knn_file, header, arrays)
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, "1K")
    with pytest.raises(AllocationError, match="TINYREC_MAX_BYTES"):
        tinyrec.io.load(knn_file)


@pytest.mark.parametrize(
    "member, message",
    [
        (npy_header([10], "|O"), r"dtype \|O, but the header says"),  # object: never unpickled
        (npy_header([10], [("a", "<f4"), ("b", "<i4")]), "has shape .* and dtype"),  # structured
        (npy_header([10], "<c8"), "has shape .* and dtype"),  # complex
        (npy_header([10], "<f4", fortran=True), "takes 128 bytes in the zip"),  # no data behind it
        (npy_header([10], "<f4") + b"\0" * 41, "takes 169 bytes in the zip"),  # one byte too many
        (npy_header([10], "<f8") + b"\0" * 80, r"has shape \(10,\) and dtype <f8, but the header says"),
        (b"\x93NUMPY\x03\x00" + b"\0" * 100, r"\.npy format version \(3, 0\)"),
        (b"not an array", "truncated or not a tinyrec model file"),
    ],
)  # fmt: skip
def test_a_member_is_checked_against_its_declaration_before_its_data_is_read(knn_file, member, message):
    header, arrays = read_members(knn_file)
    header["arrays"]["row_means_"] = {"shape": [10], "dtype": "<f4"}
    arrays["row_means_"] = member
    write_members(knn_file, header, arrays, relist=False)
    with pytest.raises(ModelFileError, match=message):
        tinyrec.io.load(knn_file)


def test_zip_level_tricks_are_refused(knn_file):
    header, arrays = read_members(knn_file)
    # a member that is not an .npy, a member twice, a member the header does not list
    for extra, message in (("notes.txt", "not an .npy array"), ("bu_.npy", "occurs twice")):
        write_members(knn_file, header, arrays)
        with zipfile.ZipFile(knn_file, "a") as zf, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zipfile warns of the duplicate name
            zf.writestr(extra, npy_bytes(arrays["bu_"]))
        with pytest.raises(ModelFileError, match=message):
            tinyrec.io.load(knn_file)
    write_members(knn_file, header, {**arrays, "spare_": np.zeros(3)}, relist=False)
    with pytest.raises(ModelFileError, match=r"holds \['spare_'\] that the header does not list"):
        tinyrec.io.load(knn_file)
    # only stored and deflated members are read: a bzip2 member could expand without bound
    write_members(knn_file, header, arrays, compression=zipfile.ZIP_BZIP2)
    with pytest.raises(ModelFileError, match="compressed with method 12"):
        tinyrec.io.load(knn_file)


def test_a_deflated_file_loads_and_a_member_lying_about_its_size_does_not(knn, knn_file, ratings):
    header, arrays = read_members(knn_file)
    write_members(knn_file, header, arrays, compression=zipfile.ZIP_DEFLATED)  # np.savez_compressed's
    _same_predictions(tinyrec.io.load(knn_file), knn, ratings[1])
    # a deflated member of zeros whose zip entry claims a small size: read no further than declared
    zeros = np.zeros(10**6, np.float32)
    write_members(knn_file, header, {**arrays, "bu_": zeros}, compression=zipfile.ZIP_DEFLATED)
    with zipfile.ZipFile(knn_file) as zf:
        assert zf.getinfo("bu_.npy").compress_size < 10**4
    with pytest.raises(ModelFileError, match=r"'bu_' has shape \(1000000,\), but the model needs"):
        tinyrec.io.load(knn_file)


# -- byte order and dtypes -------------------------------------------------------------------------
def test_a_big_endian_file_loads_and_predicts_the_same_after_a_native_call(knn, knn_file, ratings):
    """Case 1: a Numba kernel compiled for native arrays read big-endian ones (1 became
    72057594037927936) and KNN's predict crashed. Arrays are now converted at load."""
    _, test = ratings
    header, arrays = read_members(knn_file)
    write_members(knn_file, header, {name: swapped(a) for name, a in arrays.items()})
    assert read_members(knn_file)[1]["nbr_indptr_"].dtype.str == ">i8"
    loaded = tinyrec.io.load(knn_file)
    _same_predictions(loaded, knn, test)  # the native compilation is reused: same numbers
    for name in ItemKNN._array_names + ("seen_indptr_", "user_counts_"):
        a = getattr(loaded, name)
        assert a.dtype.isnative and a.flags.c_contiguous and a.dtype == getattr(knn, name).dtype, name
    assert str(loaded.explain(3, 4)) == str(knn.explain(3, 4))
    users = np.arange(knn.n_users_)
    for a, b in zip(loaded.recommend(users, 3), knn.recommend(users, 3), strict=True):
        np.testing.assert_array_equal(a, b)


def test_fortran_ordered_members_load_in_c_order(ratings, tmp_path):
    model = BiasedMF(3, 2, seed=0).fit(ratings[0])
    path = model.save(tmp_path / "mf.npz")
    header, arrays = read_members(path)
    write_members(path, header, {**arrays, "P_": np.asfortranarray(arrays["P_"])})
    loaded = tinyrec.io.load(path)
    assert loaded.P_.flags.c_contiguous
    _same_predictions(loaded, model, ratings[1])


def test_other_widths_are_cast_when_every_value_survives(knn, knn_file, ratings):
    header, arrays = read_members(knn_file)
    wider = {name: a.astype(np.int64) if a.dtype == np.int32 else a for name, a in arrays.items()}
    wider["bu_"] = arrays["bu_"].astype(np.float64)  # float32 values in float64: exact
    wider["user_counts_"] = arrays["user_counts_"].astype(np.uint16)
    write_members(knn_file, header, wider)
    loaded = tinyrec.io.load(knn_file)
    assert loaded.nbr_indices_.dtype == np.int32 and loaded.bu_.dtype == np.float32
    assert loaded.user_counts_.dtype == np.int64
    _same_predictions(loaded, knn, ratings[1])


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("user_counts_", lambda a: (a.astype(np.uint64) + np.uint64(2**63)), "do not fit int64"),
        ("nbr_indices_", lambda a: a.astype(np.int64) + 2**32, "do not fit int32"),
        ("bu_", lambda a: a.astype(np.float64) + 1e-12, "do not fit float32"),
        ("bu_", lambda a: a.astype(np.complex64), "not a numeric dtype"),
        ("bu_", lambda a: a.astype(np.int32), "not float"),
        ("nbr_indices_", lambda a: a.astype(np.float32), "not integer"),
    ],
)  # fmt: skip
def test_values_that_do_not_survive_the_cast_are_refused(knn_file, name, value, message):
    header, arrays = read_members(knn_file)
    write_members(knn_file, header, {**arrays, name: value(arrays[name])})
    with pytest.raises(ModelFileError, match=message):
        tinyrec.io.load(knn_file)


# -- the class, the hyperparameters, the network ---------------------------------------------------
@pytest.mark.parametrize("cls", [Recommender, _NeighbourhoodModel])
def test_an_abstract_or_private_class_is_never_rebuilt(knn_file, monkeypatch, cls):
    monkeypatch.setitem(MODEL_CLASSES, cls.__name__, cls)  # even if the registry named one
    header, arrays = read_members(knn_file)
    write_members(knn_file, {**header, "model_class": f"{cls.__module__}.{cls.__qualname__}"}, arrays)
    with pytest.raises(ModelFileError, match="not a tinyrec model in this version"):
        tinyrec.io.load(knn_file)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"k": 5.0}, r"hyperparameter k=5\.0 is refused: k must be an integer >= 1"),
        ({"k": 0}, "hyperparameter k=0 is refused"),
        ({"mode": ["ranking"]}, "hyperparameter mode="),
        ({"dtype": "int32"}, "hyperparameter dtype='int32' is refused"),
        ({"dtype": {"names": ["a"], "formats": ["<f8"]}}, "hyperparameter dtype="),
        ({"seed": -1}, "hyperparameter seed=-1"),
        ({"colour": "red"}, r"hyperparameters \['colour'\] are not ItemKNN's"),
        ({"mode": "ranking"}, "do not fit ItemKNN: mode='ranking' uses the binary cosine"),  # across params
    ],
)  # fmt: skip
def test_each_hyperparameter_is_checked_against_the_class_rules(knn_file, params, message):
    header, arrays = read_members(knn_file)
    write_members(knn_file, {**header, "params": {**header["params"], **params}}, arrays)
    with pytest.raises(ModelFileError, match=message):
        tinyrec.io.load(knn_file)


def test_a_missing_hyperparameter_is_refused_in_version_2_and_defaulted_in_version_1(knn, knn_file, ratings):
    header, arrays = read_members(knn_file)
    params = {k: v for k, v in header["params"].items() if k != "min_k"}
    write_members(knn_file, {**header, "params": params}, arrays)
    with pytest.raises(ModelFileError, match=r"its hyperparameters lack \['min_k'\], which ItemKNN takes"):
        tinyrec.io.load(knn_file)
    write_members(knn_file, {**header, "params": params, "format_version": 1}, arrays)
    assert tinyrec.io.load(knn_file).min_k == 1  # the default, as version-1 files always loaded


@pytest.mark.parametrize("cls", sorted(set(MODEL_CLASSES.values()), key=lambda c: c.__name__), ids=str)
def test_a_class_s_later_hyperparameters_are_its_own_and_pass_its_rules(cls):
    for name, value in cls.added_hyperparameters.items():
        assert name in cls.hyperparameters, f"{cls.__name__}.added_hyperparameters names {name!r}"
        cls.hyperparameters[name](value, name)  # raises if the file's stand-in value is refused


def test_a_file_written_before_a_hyperparameter_existed_loads_with_the_value_of_then(tmp_path):
    """FM's and FeatureMLP's files from before ``user_balance`` (and FeatureMLP's ``loss``) load as
    the models they were; a file without any other hyperparameter is still refused."""
    from tinyrec.models import FM, FeatureMLP

    train = implicit_toy()[0]
    for model in (FM(3, 1, loss="bce", seed=0), FeatureMLP(4, (4,), 1, seed=0)):
        model.fit(train)
        path = model.save(tmp_path / f"{type(model).__name__}.npz")
        header, arrays = read_members(path)
        older = {k: v for k, v in header["params"].items() if k not in type(model).added_hyperparameters}
        assert len(older) < len(header["params"])
        write_members(path, {**header, "params": older}, arrays)
        loaded = tinyrec.io.load(path)
        assert loaded.get_params() == model.get_params()  # user_balance 0, loss "bce": as then
        users = np.arange(train.n_users)
        np.testing.assert_array_equal(loaded.recommend(users, 3)[0], model.recommend(users, 3)[0])
        write_members(path, {**header, "params": {k: v for k, v in older.items() if k != "lr"}}, arrays)
        with pytest.raises(ModelFileError, match=r"its hyperparameters lack \['lr'\]"):
            tinyrec.io.load(path)


@pytest.mark.parametrize(
    "cls, kwargs, params, message",
    [
        (AutoRec, dict(hidden=4, n_epochs=1), {"hidden": 1e8}, r"hidden=100000000\.0 is refused"),
        (AutoRec, dict(hidden=4, n_epochs=1), {"hidden": 10**8}, r"'net\.encoder\.weight' has shape \(4, "),
        (NCFMLP, dict(layers=(8, 4), n_epochs=1), {"layers": [8, 1e6, 1e6]}, "layers must hold"),
        (NCFMLP, dict(layers=(8, 4), n_epochs=1), {"layers": [8, 10**6, 10**6]}, r"weights \[.*\] are not"),
        (NCFMLP, dict(layers=(8, 4), n_epochs=1), {"layers": [8, 10**6]}, r"'net\.mlp\.mlp\.0\.weight' has"),
    ],
)  # fmt: skip
def test_network_sizes_are_compared_before_the_network_is_built(tmp_path, monkeypatch, cls, kwargs, params,
                                                                 message):  # fmt: skip
    """Case 2: ``hidden=1e8`` or ``layers=[8, 1e6, 1e6]`` built a 30 GiB / 7 TiB network
    before the stored weights were compared."""
    train, _ = implicit_toy() if cls is NCFMLP else planted_ratings()[:2]
    path = cls(**kwargs, seed=0).fit(train).save(tmp_path / "net.npz")
    header, arrays = read_members(path)
    write_members(path, {**header, "params": {**header["params"], **params}}, arrays)

    def never(*args, **kwargs):
        raise AssertionError("the network was built before its sizes were checked")

    monkeypatch.setattr(cls, "_build_net", never)
    with pytest.raises(ModelFileError, match=message):
        tinyrec.io.load(path)


def test_a_neural_file_without_its_weights_is_refused(tmp_path):
    train, _ = implicit_toy()
    path = NCFMLP((8, 4), 1, seed=0).fit(train).save(tmp_path / "net.npz")
    header, arrays = read_members(path)
    header["arrays"] = {k: v for k, v in header["arrays"].items() if not k.startswith("net.")}
    write_members(path, header, {k: v for k, v in arrays.items() if not k.startswith("net.")})
    with pytest.raises(ModelFileError, match=r"the network's weights \[\] are not those of a NCFMLP"):
        tinyrec.io.load(path)


# -- the invariants each model relies on --------------------------------------------------------------
def _reorder_first_long_segment(indptr, indices):
    out = indices.copy()
    r = int(np.argmax(np.diff(indptr) >= 2))
    out[indptr[r] : indptr[r + 1]] = out[indptr[r] : indptr[r + 1]][::-1]
    return out


@pytest.mark.parametrize("cls", [ItemKNN, UserKNN])
def test_a_knn_file_with_its_context_rows_reordered_is_refused(ratings, tmp_path, cls):
    """Case 3: explain raised IndexError, or explained with the wrong neighbours."""
    path = cls(5).fit(ratings[0]).save(tmp_path / "knn.npz")
    header, arrays = read_members(path)
    arrays["ctx_rows_"] = _reorder_first_long_segment(arrays["ctx_indptr_"], arrays["ctx_rows_"])
    write_members(path, header, arrays)
    with pytest.raises(ModelFileError, match=r"each context's rated rows \(ctx_rows_\) are sorted"):
        tinyrec.io.load(path)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda a: a.update(nbr_sims_=-a["nbr_sims_"]), r"every similarity \(nbr_sims_\) is > 0"),
        (lambda a: a.update(nbr_sims_=a["nbr_sims_"][::-1].copy()), "by decreasing similarity"),
        (lambda a: a.update(nbr_indices_=np.zeros_like(a["nbr_indices_"])), "distinct and exclude the row"),
        (lambda a: a.update(seen_indices_=_reorder_first_long_segment(a["seen_indptr_"], a["seen_indices_"])),
         r"seen items \(seen_indices_\) are sorted and distinct"),
        (lambda a: a.update(user_counts_=np.zeros_like(a["user_counts_"])), "user_counts_ counts at least"),
        (lambda a: a.update(item_ids_=np.zeros_like(a["item_ids_"])), "raw ids .* are distinct"),
    ],
)  # fmt: skip
def test_arrays_that_break_what_the_model_relies_on_are_refused(knn_file, edit, message):
    header, arrays = read_members(knn_file)
    edit(arrays)
    write_members(knn_file, header, arrays)
    with pytest.raises(ModelFileError, match=message):
        tinyrec.io.load(knn_file)


def test_learnt_values_of_users_without_training_ratings_must_be_zero(ratings, tmp_path):
    """BiasedMF predicts ``μ`` plus the known bias for an unknown user: its row must hold no learnt term."""
    model = BiasedMF(3, 2, seed=0).fit(ratings[0])
    unknown = int(np.flatnonzero(model.user_counts_ == 0)[0])
    path = model.save(tmp_path / "mf.npz")
    header, arrays = read_members(path)
    arrays["P_"][unknown] = 0.5
    write_members(path, header, arrays)
    with pytest.raises(ModelFileError, match="unknown users and items .* have zero factors and biases"):
        tinyrec.io.load(path)


# -- saving ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EROFS, errno.EIO])
@pytest.mark.parametrize("where", ["write", "create", "rename"])
def test_an_os_error_while_saving_names_the_path_and_leaves_no_partial_file(knn, tmp_path, monkeypatch,
                                                                            code, where):  # fmt: skip
    path = knn.save(tmp_path / "knn.npz")
    before = path.read_bytes()

    def fail(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    target = {"write": (np, "savez"), "create": (tinyrec.modelfile.tempfile, "mkstemp"),
              "rename": (os, "replace")}  # fmt: skip
    monkeypatch.setattr(*target[where], fail)
    expected = f"cannot save the model to {path}: {os.strerror(code)}"
    with pytest.raises(ModelFileWriteError, match=expected) as info:
        knn.save(path)
    assert isinstance(info.value, ModelFileError) and isinstance(info.value, OSError)
    assert info.value.errno == code and errno.errorcode[code] in str(info.value)
    assert path.read_bytes() == before  # the old file is intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["knn.npz"]  # no temporary file left
