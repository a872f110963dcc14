"""One contract, applied to every recommender (docs/architecture.md, "Adding a model").

For each registered model: using it before ``fit`` raises NotFittedError; ``fit`` returns the model;
``predict`` / ``score_all`` / ``recommend`` have the promised shapes and agree with each other;
``exclude_seen`` leaves out every training item; an unknown user is recommended the most popular
items; ids out of range raise IndexOutOfRangeError; seeded fits repeat bit for bit; a save/load
round trip gives the same predictions; ``repr`` shows the hyperparameters; the ``hyperparameters``
table names every constructor argument, and each of its rules refuses a value of the wrong type
naming the argument. From what each case states as data: each change of a hyperparameter changes the
fitted result, every hyperparameter is changed or said why it cannot change the result, and each
refusal (of the constructor, of ``fit``) raises its error with its message. Models register in
``tests/models/contract_cases_*.py`` (see ``tests/models/contract.py``).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import numpy as np
import pytest

import tinyrec.errors
import tinyrec.io
import tinyrec.modelfile
from tinyrec.errors import DTypeError, IndexOutOfRangeError, NotFittedError

from .contract import implicit_toy, planted_ratings


def _collect_cases():
    cases = []
    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if info.name.startswith("contract_cases_"):
            cases.extend(importlib.import_module(f"tests.models.{info.name}").CASES)
    return cases


CASES = _collect_cases()


def _data(case):
    if case.feedback == "implicit":
        return implicit_toy()
    train, test, _ = planted_ratings()
    return train, test


def _fitted(case, seed=0):
    train, test = _data(case)
    return case.build(seed).fit(train), train, test


def test_registry_is_not_empty():
    assert CASES, "no recommender registered in tests/models/contract_cases_*.py"


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_unfitted_model_raises_not_fitted(case):
    model = case.build(0)
    one = np.array([0])
    for call in (lambda: model.predict(one, one), lambda: model.score_all(one), lambda: model.recommend(one)):
        with pytest.raises(NotFittedError, match="fit"):
            call()
    with pytest.raises(NotFittedError):
        model.save("unused.npz")


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_shapes_and_agreement(case):
    model, train, test = _fitted(case)
    assert model.fit(train) is model
    scores = model.predict(test.users, test.items)
    assert scores.shape == (len(test),) and np.all(np.isfinite(scores))
    users = np.arange(train.n_users)
    table = model.score_all(users)
    assert table.shape == (train.n_users, train.n_items) and np.all(np.isfinite(table))
    expected = table[test.users, test.items]
    if model.task == "rating":
        expected = np.clip(expected, *model.rating_range_)
        assert np.all((scores >= train.ratings.min()) & (scores <= train.ratings.max()))
    np.testing.assert_allclose(scores, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_recommend_is_the_top_of_score_all(case):
    model, train, _ = _fitted(case)
    known = np.flatnonzero(train.user_counts() > 0)
    items, scores = model.recommend(known, k=5, exclude_seen=False)
    assert items.shape == scores.shape == (len(known), 5)
    assert np.all(np.diff(scores, axis=1) <= 0), "best first"
    table = model.score_all(known)
    np.testing.assert_allclose(scores, np.take_along_axis(table, items, axis=1), rtol=1e-6)
    fifth = np.sort(table, axis=1)[:, -5]  # the 5th best score of each user
    assert np.all(scores[:, -1] >= fifth - 1e-9)


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_exclude_seen_leaves_out_training_items(case):
    model, train, _ = _fitted(case)
    users = np.arange(train.n_users)
    items, scores = model.recommend(users, k=train.n_items, exclude_seen=True)
    for u in users:
        seen = set(train.positives(u).tolist())
        listed = items[u][items[u] >= 0]
        assert not seen & set(listed.tolist()), f"user {u} was recommended a seen item"
        assert len(listed) == train.n_items - len(seen)  # every unseen item, then -1 padding
        assert np.all(np.isneginf(scores[u][items[u] < 0]))


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_unknown_user_gets_the_most_popular_items(case):
    model, train, _ = _fitted(case)
    unknown = train.n_users - 1
    assert train.user_counts()[unknown] == 0  # the toy sets keep the last user out of train
    items, scores = model.recommend(np.array([unknown]), k=3)
    counts = train.item_counts()
    popular = np.lexsort((np.arange(train.n_items), -counts))[:3]  # most counts, then smaller index
    np.testing.assert_array_equal(items[0], popular)
    np.testing.assert_array_equal(scores[0], counts[popular])


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_ids_out_of_range_raise(case):
    model, train, _ = _fitted(case)
    ok = np.array([0])
    with pytest.raises(IndexOutOfRangeError, match="users"):
        model.predict(np.array([train.n_users]), ok)
    with pytest.raises(IndexOutOfRangeError, match="items"):
        model.predict(ok, np.array([train.n_items]))
    with pytest.raises(IndexOutOfRangeError):
        model.recommend(np.array([-1]))
    with pytest.raises(IndexOutOfRangeError):
        model.score_all(np.array([train.n_users + 5]))
    with pytest.raises(ValueError, match="k must be"):
        model.recommend(ok, k=0)


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_seeded_fits_repeat_bit_for_bit(case):
    a, _, test = _fitted(case, seed=7)
    b, _, _ = _fitted(case, seed=7)
    np.testing.assert_array_equal(a.predict(test.users, test.items), b.predict(test.users, test.items))
    np.testing.assert_array_equal(a.score_all(np.arange(3)), b.score_all(np.arange(3)))


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_save_load_round_trip(case, tmp_path):
    model, train, test = _fitted(case)
    path = model.save(tmp_path / "model.npz")
    loaded = tinyrec.io.load(path)
    assert type(loaded) is type(model)
    assert repr(loaded) == repr(model)
    np.testing.assert_array_equal(
        loaded.predict(test.users, test.items), model.predict(test.users, test.items)
    )
    users = np.arange(train.n_users)
    for a, b in zip(loaded.recommend(users, k=4), model.recommend(users, k=4), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(loaded.item_ids_, train.item_ids)


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_load_refuses_an_edited_file_whose_arrays_break_the_layout(case, tmp_path):
    """Every learnt array of known length and every index list is checked at load, for every model:
    an out-of-range index would otherwise crash a Numba kernel (a segfault) after loading."""
    model, _, _ = _fitted(case)
    path = model.save(tmp_path / "model.npz")
    header, arrays = tinyrec.modelfile.read_npz(path)
    shapes, index_lists = model._array_layout()
    saved = {name for name in arrays if not name.startswith("net.")}  # net.*: load_state_dict checks
    assert set(shapes) == saved  # the layout covers every saved array, so none goes unchecked
    edits = []
    for name in shapes:
        a = arrays[name]
        if a.size:
            edits.append((name, a[:-1]))  # one row short
        edits.append((name, a[..., None]))  # an extra axis
        if a.dtype.kind in "iuf":
            edits.append((name, a.astype(np.float64 if a.dtype.kind in "iu" else np.int64)))  # dtype
    for _, indices_name, bound in index_lists:
        if arrays[indices_name].size:
            bad = arrays[indices_name].copy()
            bad[-1] = bound  # one past the end of the indexed table
            edits.append((indices_name, bad))
    for name, value in edits:
        edited = {**arrays, name: value}
        listed = {k: {"shape": list(v.shape), "dtype": v.dtype.str} for k, v in edited.items()}
        tinyrec.modelfile.write_npz(path, {**header, "arrays": listed}, edited)
        with pytest.raises(tinyrec.errors.ModelFileError, match="corrupt or was edited"):
            tinyrec.io.load(path)


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_repr_shows_the_hyperparameters(case):
    model = case.build(3)
    text = repr(model)
    assert text.startswith(type(model).__name__ + "(")
    for name, value in model.get_params().items():
        assert f"{name}=" in text, name
        if isinstance(value, (int, float, str)) and not isinstance(value, bool):
            assert repr(value) in text, name


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_the_hyperparameters_table_names_every_constructor_argument(case):
    cls = case.cls
    arguments = set(inspect.signature(cls).parameters)
    assert arguments == set(cls.hyperparameters), (
        f"{cls.__name__}: arguments without a rule {sorted(arguments - set(cls.hyperparameters))}, "
        f"rules without an argument {sorted(set(cls.hyperparameters) - arguments)}"
    )


#: What a rule raises for a value of the wrong type: a ValueError (tinyrec's ArgumentTypeError is a
#: TypeError too), except for ``dtype=`` and ``seed=``, whose refusals are the same for every layer
#: and model: DTypeError and TypeError.
_REFUSAL = {"dtype": DTypeError, "seed": TypeError}


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_every_rule_refuses_a_wrong_type_naming_the_argument(case):
    cls = case.cls
    defaults = {name: p.default for name, p in inspect.signature(cls).parameters.items()}
    for name, rule in cls.hyperparameters.items():
        # a string, unless the argument is one (then a number); and an object no rule takes
        wrong = [1.5 if isinstance(defaults[name], str) else "<not a value>", object()]
        for bad in wrong:
            with pytest.raises(_REFUSAL.get(name, ValueError), match=rf"\b{name}\b"):
                rule(bad, name)
            with pytest.raises(_REFUSAL.get(name, ValueError), match=rf"\b{name}\b"):
                cls(**{name: bad})  # the constructor applies the table


# ------------------------------------------------------------------ what the cases state as data
CHANGES = [(case, name, value) for case in CASES for name, value in case.changes.items()]
CLASSES = sorted({case.cls for case in CASES}, key=lambda cls: cls.__name__)
REFUSALS = [(case, *refusal) for case in CASES for refusal in case.refusals]
FIT_REFUSALS = [(case, *refusal) for case in CASES for refusal in case.fit_refusals]
_base_results = {}


def _shown(value):
    return value.__name__ if isinstance(value, type) else repr(value)


def _arguments(kwargs):
    return ", ".join(f"{name}={_shown(value)}" for name, value in kwargs.items())


def _result(case, **change):
    """What a fit on the toy set gives: every prediction of a rating model, every score of a ranking one."""
    train, _ = _data(case)
    model = case.build(0, **change).fit(train)
    users, items = np.arange(train.n_users), np.arange(train.n_items)
    if model.task == "ranking":
        return model.score_all(users)
    return model.predict(np.repeat(users, len(items)), np.tile(items, len(users)))


@pytest.mark.parametrize(
    "case, name, value", CHANGES, ids=[f"{case.name}-{name}={_shown(value)}" for case, name, value in CHANGES]
)
def test_each_change_changes_the_result(case, name, value):
    assert getattr(case.build(0), name) != value, f"{case.name}: {name}={value!r} is the case's own value"
    if case.name not in _base_results:
        _base_results[case.name] = _result(case)
    before, after = _base_results[case.name], _result(case, **{name: value})
    if name == "dtype":  # float64 computes the same numbers with less round-off: any difference counts
        assert not np.array_equal(before, after)
    else:
        assert not np.allclose(before, after), f"{case.name}: {name}={value!r} left the result as it was"


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_every_hyperparameter_changes_the_result_or_says_why_not(cls):
    """A new hyperparameter cannot go untested: its class's cases change it, or say why it cannot matter."""
    cases = [case for case in CASES if case.cls is cls]
    changed = {name for case in cases for name in case.changes}
    unchanged = {name for case in cases for name in case.unchanged}
    table = set(cls.hyperparameters)
    assert not (changed | unchanged) - table, f"not hyperparameters of {cls.__name__}"
    missing = sorted(table - changed - unchanged)
    assert not missing, f"{cls.__name__}: add each of {missing} to a case's changes, or to its unchanged"
    for case in cases:
        assert not set(case.changes) & set(case.unchanged), case.name
        for name, reason in case.unchanged.items():
            assert isinstance(reason, str) and reason.strip(), f"{case.name}: {name} needs a reason"


@pytest.mark.parametrize(
    "case, kwargs, error, match",
    REFUSALS,
    ids=[f"{case.cls.__name__}({_arguments(kwargs)})" for case, kwargs, *_ in REFUSALS],
)
def test_each_refusal_raises_its_error(case, kwargs, error, match):
    with pytest.raises(error, match=match):
        case.cls(**kwargs)


@pytest.mark.parametrize(
    "case, train, error, match",
    FIT_REFUSALS,
    ids=[f"{case.name}-{match}" for case, _, _, match in FIT_REFUSALS],
)
def test_each_fit_refusal_raises_its_error_and_leaves_the_model_unfitted(case, train, error, match):
    model = case.build(0)
    with pytest.raises(error, match=match):
        model.fit(train)
    with pytest.raises(NotFittedError):
        model.recommend(np.array([0]))
