"""The shared checks of tinyrec.validation, and the models that call them."""

import inspect
import math

import numpy as np
import pytest

from tests.models.contract import planted_ratings
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
    UserKNN,
)
from tinyrec.validation import (
    check_bool,
    check_choice,
    check_finite_real,
    check_in_range,
    check_int,
    check_int_at_least,
    check_nonnegative,
    check_positive,
    check_positive_int,
    check_seed,
)


def test_integer_checks_accept_integers_at_or_above_the_minimum():
    assert check_int_at_least(0, "n", 0) == 0 and check_int_at_least(np.int64(3), "n", 1) == 3
    assert isinstance(check_int_at_least(np.int32(2), "n", 0), int)
    assert check_positive_int(1, "n") == 1


@pytest.mark.parametrize("bad", [-1, 1.5, True, "2", None])
def test_integer_checks_name_the_argument(bad):
    with pytest.raises(ValueError, match=r"n_epochs must be an integer >= 0"):
        check_int_at_least(bad, "n_epochs", 0)
    with pytest.raises(ValueError, match=r"k must be a positive integer"):
        check_positive_int(bad, "k")


@pytest.mark.parametrize(
    "build, name",
    [
        (lambda: BiasedMF(n_epochs=-1), "n_epochs must be an integer >= 0"),
        (lambda: BPRMF(n_factors=2.5), "n_factors must be an integer >= 0"),
        (lambda: BPRMF(lr=float("nan")), "lr must be a finite number >= 0"),
        (lambda: ImplicitALS(cg_steps=0), "cg_steps must be an integer >= 1"),
        (lambda: ItemKNN(k=True), "k must be an integer >= 1"),
    ],
)
def test_model_constructors_use_them(build, name):
    with pytest.raises(ValueError, match=name):
        build()


# ---------------------------------------------------------------- the scalar checks
@pytest.mark.parametrize("good", [True, False, np.True_, np.bool_(False)])
def test_check_bool_accepts_python_and_numpy_bools(good):
    assert check_bool(good, "flag") is bool(good)


@pytest.mark.parametrize("bad", ["no", "False", 0, 1, None, 1.0])
def test_check_bool_refuses_everything_else(bad):
    with pytest.raises(TypeError, match=r"exclude_seen must be True or False, got"):
        check_bool(bad, "exclude_seen")


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan, None, True, "0.1", np.float64("nan")])
def test_number_checks_refuse_non_finite_bool_none_and_strings(bad):
    with pytest.raises(ValueError, match=r"lr must be a finite number >= 0, got"):
        check_nonnegative(bad, "lr")
    with pytest.raises(ValueError, match=r"eps must be a finite number > 0, got"):
        check_positive(bad, "eps")
    with pytest.raises(ValueError, match=r"init_mean must be a finite number, got"):
        check_finite_real(bad, "init_mean")
    with pytest.raises(ValueError, match=r"alpha must be a number in \[0, 1\], got"):
        check_in_range(bad, "alpha", 0, 1)


def test_number_checks_accept_finite_numbers_and_return_floats():
    assert check_nonnegative(0, "lr") == 0.0 and check_nonnegative(np.float32(0.5), "lr") == 0.5
    assert check_positive(1e-12, "eps") == 1e-12 and check_finite_real(-3, "x") == -3.0
    assert check_in_range(1, "alpha", 0, 1) == 1.0
    with pytest.raises(ValueError, match=r"eps must be a finite number > 0, got 0"):
        check_positive(0, "eps")
    with pytest.raises(ValueError, match=r"alpha must be a number in \[0, 1\], got 1.5"):
        check_in_range(1.5, "alpha", 0, 1)


def test_check_int_check_choice_and_check_seed():
    assert check_int(-100, "ignore_index") == -100 and check_int(np.int64(3), "i") == 3
    for bad in (1.7, True, None, "1"):
        with pytest.raises(ValueError, match="ignore_index must be an integer, got"):
            check_int(bad, "ignore_index")
    assert check_choice("als", "method", ("als", "sgd")) == "als"
    for bad in ("newton", None, ["als"]):
        with pytest.raises(ValueError, match=r"method must be one of \('als', 'sgd'\), got"):
            check_choice(bad, "method", ("als", "sgd"))
    check_seed(None), check_seed(3), check_seed(np.random.default_rng(0))
    with pytest.raises(TypeError, match="seed must be None, an int or a np.random.Generator"):
        check_seed("x")


# ---------------------------------------------------------------- every model's hyperparameters
MODELS = [AutoRec, BaselineOnly, BiasedMF, BPRMF, GMF, ImplicitALS, ItemKNN, MultDAE, NCFMLP, NeuMF, UserKNN]


def _params(kind):
    """``(model, name)`` of every constructor argument whose default has type ``kind``."""
    return [
        pytest.param(cls, name, id=f"{cls.__name__}.{name}")
        for cls in MODELS
        for name, p in inspect.signature(cls).parameters.items()
        if type(p.default) is kind and name not in ("seed", "dtype")
    ]


@pytest.mark.parametrize("cls, name", _params(bool))
def test_bool_options_need_a_bool(cls, name):
    with pytest.raises(TypeError, match=f"{name} must be True or False, got 'no'"):
        cls(**{name: "no"})  # used to count as True
    assert getattr(cls(**{name: np.False_}), name) is False


@pytest.mark.parametrize("cls, name", _params(float))
@pytest.mark.parametrize("bad", [math.inf, math.nan, None, True, "0.1"])
def test_float_hyperparameters_refuse_inf_nan_none_bool_and_strings(cls, name, bad):
    with pytest.raises(ValueError, match=f"{name} must be"):
        cls(**{name: bad})  # refused at construction, not during fit


@pytest.mark.parametrize("cls, name", _params(type(None)))
@pytest.mark.parametrize("bad", [math.inf, True])
def test_optional_hyperparameters_refuse_inf_and_bool(cls, name, bad):
    with pytest.raises(ValueError, match=f"{name} must be"):
        cls(**{name: bad})


@pytest.mark.parametrize("cls, name", _params(int))
@pytest.mark.parametrize("bad", [True, 2.5, None, math.inf])
def test_int_hyperparameters_refuse_bool_float_and_none(cls, name, bad):
    with pytest.raises(ValueError, match=f"{name} must be"):
        cls(**{name: bad})


@pytest.mark.parametrize("cls, name", _params(str))
def test_string_options_refuse_unknown_values(cls, name):
    with pytest.raises(ValueError, match=name):
        cls(**{name: "nonsense"})


@pytest.mark.parametrize("cls", MODELS, ids=lambda cls: cls.__name__)
def test_bad_seed_is_refused_at_construction(cls):
    with pytest.raises(TypeError, match="seed must be None, an int or a np.random.Generator"):
        cls(seed="x")  # ItemKNN, UserKNN and BaselineOnly used to ignore it


def test_biased_mf_refuses_none_learning_rate_instead_of_diverging():
    # lr_all=None (or `--set lr_all=null`) used to fit and then raise "SGD diverged: lower lr_all"
    for name in ("lr_all", "reg_all"):
        with pytest.raises(ValueError, match=f"{name} must be a finite number >= 0, got None"):
            BiasedMF(**{name: None})
    assert BiasedMF(lr_bu=None).lr_bu is None  # the per-group overrides may be None (use lr_all)


@pytest.mark.parametrize("cls", [BaselineOnly, ItemKNN, UserKNN])
def test_baseline_regularization_refuses_none(cls):
    # used to fail inside fit with "'>=' not supported between 'NoneType' and 'int'"
    with pytest.raises(ValueError, match="reg_u must be a finite number >= 0, got None"):
        cls(reg_u=None)


def test_baseline_refuses_infinite_rates_and_bool_epochs():
    with pytest.raises(ValueError, match="reg must be a finite number >= 0, got inf"):
        BaselineOnly(reg=math.inf)
    with pytest.raises(ValueError, match="lr must be a finite number >= 0, got inf"):
        BaselineOnly(lr=math.inf)
    with pytest.raises(ValueError, match="n_epochs must be an integer >= 0, got True"):
        BaselineOnly(n_epochs=True)


def test_baseline_without_regularization_keeps_unknown_biases_at_zero():
    train, test, _ = planted_ratings()  # the last user and item have no training rating
    model = BaselineOnly(reg_u=0.0, reg_i=0.0).fit(train)  # 0 / 0 used to give a NaN bias
    assert np.all(np.isfinite(model.bu_)) and model.bu_[-1] == 0 and model.bi_[-1] == 0
    assert np.all(np.isfinite(model.predict(test.users, test.items)))


@pytest.mark.parametrize("cls", [GMF, NCFMLP, NeuMF])
def test_ncf_monitor_is_checked_at_construction(cls):
    # used to be checked only when fit got valid=
    with pytest.raises(ValueError, match=r"monitor must be one of \('hr@10', 'ndcg@10', 'mrr'\), got 'foo'"):
        cls(monitor="foo")
    with pytest.raises(ValueError, match="monitor must be one of .*'precision@10'"):
        cls(protocol="full", monitor="auc")
    assert cls(protocol="full", monitor="recall@10").monitor == "recall@10"


def test_multdae_monitor_is_checked_at_construction():
    with pytest.raises(ValueError, match=r"monitor must be one of \('hr@10', .*got 'rmse@10'"):
        MultDAE(monitor="rmse@10")
    assert MultDAE(protocol="sampled", monitor="ndcg@5").monitor == "ndcg@5"


def test_flags_of_recommend_split_and_evaluate_must_be_bools():
    """A truthy string such as "no" must not silently count as True."""
    from tinyrec.data import leave_one_out, synthetic
    from tinyrec.evaluation import evaluate
    from tinyrec.models import Popularity

    data = synthetic(n_users=30, n_items=20, n_interactions=250, seed=0)
    with pytest.raises(TypeError, match="drop_unseen must be True or False"):
        leave_one_out(data, drop_unseen="no")
    train, test = leave_one_out(data)
    model = Popularity().fit(train)
    with pytest.raises(TypeError, match="exclude_seen must be True or False"):
        model.recommend([0], k=3, exclude_seen="no")
    with pytest.raises(TypeError, match="return_per_user must be True or False"):
        evaluate(model, test, train=train, protocol="full", return_per_user="yes")


def test_a_wrong_type_is_a_type_error_and_a_value_error_a_wrong_value_only_a_value_error():
    from tinyrec.errors import ArgumentTypeError
    from tinyrec.validation import check_bool, check_nonnegative, check_positive_int

    for call in (lambda: check_nonnegative(None, "lr"), lambda: check_positive_int(2.5, "k"),
                 lambda: check_bool("no", "verbose"), lambda: BiasedMF(lr_all="0.01")):  # fmt: skip
        with pytest.raises(ArgumentTypeError) as caught:
            call()
        assert isinstance(caught.value, TypeError) and isinstance(caught.value, ValueError)
    for call in (lambda: check_nonnegative(-1.0, "lr"), lambda: check_positive_int(0, "k")):
        with pytest.raises(ValueError) as caught:
            call()
        assert not isinstance(caught.value, TypeError)
