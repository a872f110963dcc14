"""Optimizers: hand-computed steps, lazy row updates, skipping, state saving, clipping, bad input.

Exact agreement with torch over 10 steps is in tests/test_torch_parity_losses_optim.py.
"""

import numpy as np
import pytest

from tinyrec.errors import ArgumentTypeError, DTypeError, IndexOutOfRangeError, NonFiniteError, ShapeError
from tinyrec.nn.module import Parameter, RowGrad
from tinyrec.optim import SGD, Adagrad, Adam, AdamW, SparseGradientError, clip_grad_norm_

OPTIMIZERS = [
    lambda ps: SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
    lambda ps: Adam(ps, lr=0.01, weight_decay=0.01),
    lambda ps: AdamW(ps, lr=0.01),
    lambda ps: Adagrad(ps, lr=0.1, lr_decay=0.01),
]
IDS = ["SGD", "Adam", "AdamW", "Adagrad"]
# the same four, with options that have a lazy row-sparse form (SGD without momentum)
ROW_OPTIMIZERS = [lambda ps: SGD(ps, lr=0.1, weight_decay=0.01)] + OPTIMIZERS[1:]


def _param(rng, shape=(4, 3), dtype=np.float64):
    return Parameter(rng.standard_normal(shape).astype(dtype))


# -- hand-computed steps ----------------------------------------------------------------------
def test_sgd_momentum_by_hand():
    p = Parameter(np.array([1.0]))
    opt = SGD([p], lr=0.1, momentum=0.5, dampening=0.0)
    for _ in range(2):
        p.grad = np.array([2.0])
        opt.step()
    # step 1: b = 2, θ = 1 - 0.2 = 0.8; step 2: b = 0.5·2 + 2 = 3, θ = 0.8 - 0.3 = 0.5
    np.testing.assert_allclose(p.data, [0.5])
    p.grad = np.array([2.0])
    SGD([p], lr=0.1, momentum=0.5, nesterov=True).step()  # fresh buffer b = 2: g + μb = 3
    np.testing.assert_allclose(p.data, [0.2])


def test_adam_first_step_is_lr_times_sign():
    # after one step m̂ = g and v̂ = g², so Δθ = -lr · g / (|g| + eps)
    p = Parameter(np.array([1.0, -2.0, 3.0]))
    p.grad = np.array([0.5, -4.0, 1e-3])
    Adam([p], lr=0.1).step()
    np.testing.assert_allclose(p.data, [0.9, -1.9, 2.9], rtol=1e-6)


def test_adamw_decays_before_the_update():
    p = Parameter(np.array([2.0]))
    p.grad = np.array([0.0])  # zero gradient: only the decoupled decay moves θ
    AdamW([p], lr=0.1, weight_decay=0.5).step()
    np.testing.assert_allclose(p.data, [2.0 * (1 - 0.05)])


def test_adagrad_by_hand():
    p = Parameter(np.array([1.0]))
    opt = Adagrad([p], lr=1.0, lr_decay=1.0, initial_accumulator_value=0.0, eps=0.0)
    p.grad = np.array([3.0])
    opt.step()  # s = 9, θ = 1 - 3/3 = 0
    p.grad = np.array([4.0])
    opt.step()  # η_2 = 1/2, s = 25, θ = 0 - 0.5·4/5 = -0.4
    np.testing.assert_allclose(p.data, [-0.4])


# -- lazy row updates -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "make", [lambda ps: SGD(ps, lr=0.1), lambda ps: Adagrad(ps, lr=0.1)], ids=["SGD", "Ada"]
)
def test_rowgrad_equals_dense_where_lazy_is_exact(make):
    """Without momentum or decay, a zero gradient row does not move: lazy equals dense."""
    rng = np.random.default_rng(0)
    lazy = _param(rng, (8, 3))
    dense = Parameter(lazy.data.copy())
    opt_lazy, opt_dense = make([lazy]), make([dense])
    for _ in range(4):
        idx = rng.integers(0, 8, 6)
        grad = RowGrad.from_indices(idx, rng.standard_normal((6, 3)))
        lazy.grad, dense.grad = grad, grad.to_dense((8, 3))
        opt_lazy.step()
        opt_dense.step()
    np.testing.assert_allclose(lazy.data, dense.data, rtol=1e-12)


def test_lazy_adam_touches_only_present_rows_and_counts_steps_per_parameter():
    rng = np.random.default_rng(1)
    table, other = _param(rng, (6, 2)), _param(rng, (3,))
    opt = Adam([table, other], lr=0.1)
    before = table.data.copy()
    table.grad = RowGrad(np.array([1, 4]), rng.standard_normal((2, 2)))
    other.grad = None  # skipped: no state, no step
    opt.step()
    untouched = [0, 2, 3, 5]
    np.testing.assert_array_equal(table.data[untouched], before[untouched])
    assert not np.allclose(table.data[[1, 4]], before[[1, 4]])
    assert opt.state[0]["step"] == 1 and opt.state[1] == {}
    np.testing.assert_array_equal(opt.state[0]["exp_avg"][untouched], 0.0)
    # dense Adam would keep moving row 1 with its momentum at the next step; lazy Adam does not
    table.grad = RowGrad(np.array([4]), rng.standard_normal((1, 2)))
    row1 = table.data[1].copy()
    opt.step()
    np.testing.assert_array_equal(table.data[1], row1)
    assert opt.state[0]["step"] == 2


@pytest.mark.parametrize("make", ROW_OPTIMIZERS, ids=IDS)
def test_lazy_weight_decay_only_on_present_rows(make):
    rng = np.random.default_rng(2)
    table = _param(rng, (5, 2))
    before = table.data.copy()
    table.grad = RowGrad(np.array([3]), np.zeros((1, 2)))
    make([table]).step()
    np.testing.assert_array_equal(np.delete(table.data, 3, 0), np.delete(before, 3, 0))


def test_sparse_options_without_lazy_form_raise():
    table = Parameter(np.zeros((4, 2)))
    table.grad = RowGrad(np.array([0]), np.ones((1, 2)))
    with pytest.raises(SparseGradientError, match="momentum"):
        SGD([table], lr=0.1, momentum=0.9).step()
    with pytest.raises(SparseGradientError, match="amsgrad"):
        Adam([table], amsgrad=True).step()
    vector = Parameter(np.zeros(3))
    vector.grad = RowGrad(np.array([0]), np.ones((1, 1)))
    with pytest.raises(ShapeError, match="2-D table"):
        Adam([vector]).step()


@pytest.mark.parametrize("rows", [[1, 4], [-1, 2]])
def test_rowgrad_outside_the_table_raises_before_writing(rows):
    table = Parameter(np.zeros((4, 2)))
    table.grad = RowGrad(np.array(rows), np.ones((2, 2)))
    with pytest.raises(IndexOutOfRangeError, match=r"outside the table's rows \[0, 4\)"):
        Adam([table]).step()
    np.testing.assert_array_equal(table.data, 0.0)


@pytest.mark.parametrize(
    "grad, error, match",
    [
        ([[1.0, 2.0]] * 4, ArgumentTypeError, r"parameter 1 \(optimizer.params\[1\], shape \(4, 2\)\) has a "
         r"\.grad of type list; set it to a NumPy array"),
        (np.ones(2), ShapeError, r"parameter 1 .* has a \.grad of shape \(2,\); a gradient has the "
         r"parameter's shape .*never broadcast"),
        (np.ones((4, 2), dtype=complex), DTypeError, r"parameter 1 .* \.grad of dtype complex128; .*astype"),
        (RowGrad(np.array([0]), np.ones((1, 3))), ShapeError, r"parameter 1 .* RowGrad of width 3; a RowGrad "
         r"needs a 2-D table of that width"),
        (RowGrad(np.array([0]), np.array([["a", "b"]], dtype=object)), DTypeError, r"\.grad of dtype object"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("make", ROW_OPTIMIZERS, ids=IDS)
def test_a_bad_grad_is_refused_by_step_before_any_parameter_moves(make, grad, error, match):
    """A hand-set .grad the update would misread (or broadcast) is named, with the fix; nothing moves."""
    first, second = Parameter(np.ones(3)), Parameter(np.ones((4, 2)))
    opt = make([first, second])
    first.grad, second.grad = np.ones(3), grad
    with pytest.raises(error, match=match):
        opt.step()
    np.testing.assert_array_equal(first.data, 1.0)  # every gradient is checked before any update
    assert opt.state == [{}, {}]


def test_sparse_option_refused_before_any_parameter_moves():
    dense, table = Parameter(np.ones(3)), Parameter(np.ones((4, 2)))
    opt = SGD([dense, table], lr=0.1, momentum=0.9)
    dense.grad, table.grad = np.ones(3), RowGrad(np.array([0]), np.ones((1, 2)))
    with pytest.raises(SparseGradientError, match=r"momentum=0.9 has no lazy .* parameter 1 .*momentum=0"):
        opt.step()
    np.testing.assert_array_equal(dense.data, 1.0)
    assert opt.state == [{}, {}]


def test_a_subclass_declares_its_hyperparameters_once():
    """A new optimizer: its rules are checked at construction, in add_param_group, at step and at load."""
    from tinyrec.optim import Optimizer
    from tinyrec.optim.spec import Relation, in_range
    from tinyrec.validation import check_nonnegative

    class SignSGD(Optimizer):
        hyperparameters = {"lr": check_nonnegative, "shrink": in_range(0, 1)}
        relations = (Relation(lambda g: g["lr"] > 0 or g["shrink"] == 0, "shrink needs lr > 0"),)

        def __init__(self, params, lr=0.1, shrink=0.0):
            super().__init__(params, {"lr": lr, "shrink": shrink})

        def _update_dense(self, data, grad, state, group):
            data -= group["lr"] * (np.sign(grad) + group["shrink"] * data)

    p = Parameter(np.ones(2))
    opt = SignSGD([p], lr=1)
    assert opt.param_groups[0] == {"params": [p], "lr": 1.0, "shrink": 0.0}
    p.grad = np.array([2.0, -3.0])
    opt.step()
    np.testing.assert_array_equal(p.data, [0.0, 2.0])
    with pytest.raises(ValueError, match=r"shrink must be a number in \[0, 1\], got 2"):
        SignSGD([p], shrink=2)
    with pytest.raises(ValueError, match="shrink needs lr > 0"):
        opt.add_param_group({"params": [Parameter(np.ones(1))], "lr": 0.0, "shrink": 0.5})
    opt.param_groups[0]["lr"] = -1.0
    with pytest.raises(ValueError, match="lr must be a finite number >= 0, got -1.0"):
        opt.step()
    opt.param_groups[0]["lr"] = 0.5
    saved = opt.state_dict()
    saved["param_groups"][0]["shrink"] = "0.1"
    with pytest.raises(ArgumentTypeError, match=r"shrink must be a number in \[0, 1\], got '0.1'"):
        opt.load_state_dict(saved)
    table = Parameter(np.ones((3, 2)))
    table.grad = RowGrad(np.array([0]), np.ones((1, 2)))
    with pytest.raises(NotImplementedError, match="SignSGD does not implement _update_rows"):
        SignSGD([table]).step()


def test_a_hyperparameter_set_to_an_array_between_steps_is_named():
    p = Parameter(np.ones(2))
    opt = Adam([p], lr=0.1)
    p.grad = np.ones(2)
    opt.param_groups[0]["lr"] = np.array([0.1, 0.2])  # comparing it with the old value is ambiguous
    with pytest.raises(ArgumentTypeError, match="lr must be a finite number >= 0"):
        opt.step()
    np.testing.assert_array_equal(p.data, 1.0)


@pytest.mark.parametrize("make", ROW_OPTIMIZERS, ids=IDS)
def test_float32_stays_float32(make):
    rng = np.random.default_rng(3)
    dense, table = _param(rng, (3,), np.float32), _param(rng, (5, 2), np.float32)
    opt = make([dense, table])
    for _ in range(2):
        dense.grad = rng.standard_normal(3).astype(np.float32)
        table.grad = RowGrad(np.array([0, 3]), rng.standard_normal((2, 2)).astype(np.float32))
        opt.step()
    assert dense.data.dtype == np.float32 and table.data.dtype == np.float32
    assert all(v.dtype == np.float32 for s in opt.state for v in s.values() if isinstance(v, np.ndarray))


def test_zero_grad_and_none_grads_skipped():
    rng = np.random.default_rng(4)
    a, b = _param(rng), _param(rng)
    opt = SGD([a, b], lr=1.0)
    a.grad = np.ones_like(a.data)
    before = b.data.copy()
    opt.step()
    np.testing.assert_array_equal(b.data, before)
    opt.zero_grad()
    assert a.grad is None and b.grad is None


# -- state saving -----------------------------------------------------------------------------
@pytest.mark.parametrize("make", OPTIMIZERS, ids=IDS)
def test_state_dict_round_trip_continues_identically(make):
    rng = np.random.default_rng(5)
    p = _param(rng)
    grads = rng.standard_normal((6,) + p.shape)
    opt = make([p])
    for g in grads[:3]:
        p.grad = g.copy()
        opt.step()
    saved, saved_data = opt.state_dict(), p.data.copy()
    for g in grads[3:]:
        p.grad = g.copy()
        opt.step()
    q = Parameter(saved_data)
    restored = make([q])
    restored.load_state_dict(saved)
    for g in grads[3:]:
        q.grad = g.copy()
        restored.step()
    np.testing.assert_array_equal(q.data, p.data)


def test_state_dict_is_a_copy_and_restores_hyperparameters():
    p = Parameter(np.zeros(2))
    opt = Adam([p], lr=0.5)
    p.grad = np.ones(2)
    opt.step()
    state = opt.state_dict()
    state["state"][0]["exp_avg"][:] = 99.0
    assert not np.any(opt.state[0]["exp_avg"] == 99.0)
    assert state["param_groups"] == [{
        "lr": 0.5, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0, "amsgrad": False, "params": [0],
    }]  # fmt: skip
    other = Adam([Parameter(np.zeros(2))], lr=0.1)
    other.load_state_dict(state)
    assert other.param_groups[0]["lr"] == 0.5 and other.state[0]["step"] == 1


def test_load_state_dict_errors():
    p = Parameter(np.zeros(2))
    opt = Adam([p])
    p.grad = np.ones(2)
    opt.step()
    with pytest.raises(ValueError, match=r"state_dict\['type'\] must be 'SGD' .*, got 'Adam'"):
        SGD([p], lr=0.1).load_state_dict(opt.state_dict())
    with pytest.raises(ShapeError, match="shape"):
        Adam([Parameter(np.zeros(3))]).load_state_dict(opt.state_dict())
    with pytest.raises(KeyError, match="state for parameter 5, which none of its groups lists"):
        bad = opt.state_dict()
        bad["state"] = {5: bad["state"][0]}
        Adam([p]).load_state_dict(bad)


def _adam_after_one_step(**options):
    p = Parameter(np.zeros(2))
    opt = Adam([p], **options)
    p.grad = np.ones(2)
    opt.step()
    return opt


def _set(path, value):
    """A change to a state_dict: set ``saved[path[0]][path[1]]... = value`` (``value=KeyError``: delete)."""

    def change(saved):
        *head, last = path
        for key in head:
            saved = saved[key]
        if value is KeyError:
            del saved[last]
        else:
            saved[last] = value

    return change


@pytest.mark.parametrize(
    "change, error, match",
    [
        (
            _set(("state", 0, "step"), -1),
            ValueError,
            r"\['state'\]\[0\]\['step'\] must be an integer >= 0, got -1",
        ),
        (_set(("state", 0, "step"), "1"), ArgumentTypeError, r"\['step'\] must be an integer >= 0, got '1'"),
        (_set(("state", 0, "step"), 1.0), ArgumentTypeError, r"\['step'\] must be an integer >= 0, got 1.0"),
        (_set(("state", 0, "exp_avg"), KeyError), ValueError, r"lacks \['exp_avg'\], which Adam needs"),
        (
            _set(("state", 0, "exp_avg"), [0.0, 0.0]),
            ArgumentTypeError,
            r"must be a numeric array of .* \(2,\)",
        ),
        (_set(("state", 0, "exp_avg"), np.zeros(3)), ShapeError, r"has shape \(3,\), but the parameter"),
        (_set(("state",), None), ArgumentTypeError, r"state_dict\['state'\] must be a dict \{parameter id"),
        (_set(("state", 0), [1.0]), ArgumentTypeError, r"state_dict\['state'\]\[0\] must be a dict \{name"),
        (_set(("state",), {"0": {}}), ArgumentTypeError, r"parameter id '0'; ids must be ints"),
        (
            _set(("param_groups", 0), [0]),
            ArgumentTypeError,
            r"\['param_groups'\]\[0\] must be a dict with a 'params'",
        ),
        (
            _set(("param_groups", 0, "params"), None),
            ArgumentTypeError,
            r"\['param_groups'\]\[0\]\['params'\] must be a list of parameter ids",
        ),
        (
            _set(("param_groups", 0, "params"), ["a"]),
            ArgumentTypeError,
            r"parameter id 'a'; ids must be ints",
        ),
        (_set(("param_groups",), None), ArgumentTypeError, r"\['param_groups'\] must be a list of dicts"),
        (
            _set(("param_groups", 0, "amsgrad"), "no"),
            ArgumentTypeError,
            "amsgrad must be True or False, got 'no'",
        ),
        (
            _set(("param_groups", 0, "amsgrad"), True),
            ValueError,
            r"lacks \['max_exp_avg_sq'\], which Adam needs",
        ),
    ],
)
def test_load_state_dict_checks_the_state_and_changes_nothing_on_error(change, error, match):
    saved = _adam_after_one_step().state_dict()
    change(saved)
    target = Adam([Parameter(np.zeros(2))], lr=0.1)
    with pytest.raises(error, match=match):
        target.load_state_dict(saved)
    assert target.param_groups[0]["lr"] == 0.1 and target.state == [{}]


def test_load_state_dict_state_checks_of_each_optimizer():
    with pytest.raises(TypeError, match="state_dict must be the dict a tinyrec optimizer's state_dict"):
        Adam([Parameter(np.zeros(2))]).load_state_dict(None)
    saved = _adam_after_one_step(amsgrad=True).state_dict()
    Adam([Parameter(np.zeros(2))], amsgrad=True).load_state_dict(saved)  # max_exp_avg_sq is there
    saved["param_groups"][0]["params"] = [0, 0]
    with pytest.raises(ValueError, match="parameter id 0 appears twice"):
        Adam([Parameter(np.zeros(2)), Parameter(np.zeros(2))]).load_state_dict(saved)
    p = Parameter(np.zeros(2))
    ada = Adagrad([p])
    p.grad = np.ones(2)
    ada.step()
    saved = ada.state_dict()
    del saved["state"][0]["sum"]
    with pytest.raises(ValueError, match=r"lacks \['sum'\], which Adagrad needs"):
        Adagrad([Parameter(np.zeros(2))]).load_state_dict(saved)
    sgd = SGD([p], lr=0.1, momentum=0.9)
    sgd.step()
    saved = sgd.state_dict()
    saved["state"][0]["momentum_buffer"] = None
    with pytest.raises(ArgumentTypeError, match=r"\['momentum_buffer'\] must be a numeric array"):
        SGD([Parameter(np.zeros(2))], momentum=0.9).load_state_dict(saved)
    saved["state"][0] = {}  # no buffer: SGD starts a new one, as at its first step
    SGD([Parameter(np.zeros(2))], momentum=0.9).load_state_dict(saved)


# -- parameter groups -------------------------------------------------------------------------
def test_parameter_groups_take_their_own_hyperparameters_and_the_defaults_for_the_rest():
    a, b = Parameter(np.zeros(2)), Parameter(np.zeros(2))
    opt = SGD([{"params": [a]}, {"params": [b], "lr": 0.5, "weight_decay": 0.0}], lr=0.1, weight_decay=0.0)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    a.grad, b.grad = np.ones(2), np.ones(2)
    opt.step()
    np.testing.assert_array_equal(a.data, [-0.1, -0.1])
    np.testing.assert_array_equal(b.data, [-0.5, -0.5])
    # one group is the same as a plain parameter list; changing a group's lr takes effect at once
    opt.param_groups[1]["lr"] = 1.0
    b.grad = np.ones(2)
    opt.step()
    np.testing.assert_array_equal(b.data, [-1.5, -1.5])
    assert "group 1: lr=1.0" in repr(opt)


def test_add_param_group_and_state_dict_across_groups():
    a, b = Parameter(np.zeros(2)), Parameter(np.zeros((3, 2)))
    opt = Adam([a], lr=0.1)
    opt.add_param_group({"params": [b], "lr": 0.01, "betas": (0.5, 0.9)})
    a.grad, b.grad = np.ones(2), RowGrad(np.array([1]), np.ones((1, 2)))
    opt.step()
    saved = opt.state_dict()
    assert [g["params"] for g in saved["param_groups"]] == [[0], [1]]
    assert saved["param_groups"][1]["betas"] == (0.5, 0.9) and saved["state"][1]["step"] == 1
    again = Adam([{"params": [Parameter(np.zeros(2))]}, {"params": [Parameter(np.zeros((3, 2)))]}])
    again.load_state_dict(saved)
    assert [g["lr"] for g in again.param_groups] == [0.1, 0.01]
    with pytest.raises(
        ValueError, match=r"groups of sizes \[1, 1\], but the optimizer's groups have sizes \[2\]"
    ):
        Adam([Parameter(np.zeros(2)), Parameter(np.zeros((3, 2)))]).load_state_dict(saved)


def test_parameter_group_errors():
    p, q = Parameter(np.zeros(2)), Parameter(np.zeros(2))
    with pytest.raises(ValueError, match=r"unknown hyperparameters \['lrr'\].*known"):
        Adam([{"params": [p], "lrr": 0.1}])
    with pytest.raises(ValueError, match="lr must be a finite number >= 0"):
        Adam([{"params": [p]}, {"params": [q], "lr": -1.0}])
    with pytest.raises(ValueError, match=r"betas\[0\]"):
        Adam([{"params": [p], "betas": (1.5, 0.9)}])
    with pytest.raises(ValueError, match="Nesterov"):
        SGD([{"params": [p], "nesterov": True}], lr=0.1)
    with pytest.raises(ValueError, match="twice.*two groups"):
        Adam([{"params": [p]}, {"params": [p]}])
    with pytest.raises(TypeError, match="mixes Parameters and parameter groups"):
        Adam([p, {"params": [q]}])
    with pytest.raises(TypeError, match='"params" entry'):
        Adam([{"lr": 0.1}])
    with pytest.raises(ValueError, match="empty parameter list"):
        Adam([{"params": []}])
    table = Parameter(np.zeros((3, 2)))
    opt = SGD([{"params": [p]}, {"params": [table], "momentum": 0.9}], lr=0.1)
    table.grad = RowGrad(np.array([0]), np.ones((1, 2)))
    with pytest.raises(SparseGradientError, match="group of its own"):
        opt.step()


def test_groups_are_the_callers_dicts_and_can_grow_as_in_torch():
    a, b, c = (Parameter(np.ones(2)) for _ in range(3))
    group = {"params": [a], "lr": 0.1}
    opt = SGD([group, {"params": [b]}], lr=0.01)
    assert opt.param_groups[0] is group and group["momentum"] == 0.0  # filled in with the defaults
    group["lr"] = 1.0  # the caller's dict is the group
    opt.param_groups[0]["params"].append(c)  # a parameter appended to a group is trained from then on
    for p in (a, b, c):
        p.grad = np.ones(2)
    opt.step()
    np.testing.assert_array_equal(a.data, [0.0, 0.0])
    np.testing.assert_array_equal(b.data, [0.99, 0.99])
    np.testing.assert_array_equal(c.data, [0.0, 0.0])
    assert [g["params"] for g in opt.state_dict()["param_groups"]] == [[0, 1], [2]]


def test_optimizer_lr_attribute_points_to_param_groups():
    opt = Adam([Parameter(np.ones(2))], lr=0.1)
    with pytest.raises(AttributeError, match=r"param_groups\[i\]\['lr'\] for each group"):
        opt.lr = 5.0  # would silently change nothing
    with pytest.raises(AttributeError, match=r"read optimizer.param_groups\[i\]\['lr'\]"):
        _ = opt.lr
    assert opt.param_groups[0]["lr"] == 0.1


def test_load_state_dict_checks_hyperparameters_and_changes_nothing_on_error():
    p = Parameter(np.ones(2))
    opt = Adam([p], lr=0.1)
    for key, bad, match in [
        ("lr", None, "lr must be a finite number >= 0, got None"),
        ("lr", "0.1", "lr must be a finite number >= 0"),
        ("lr", float("nan"), "lr must be a finite number >= 0"),
        ("betas", [2.0, 0.9], r"betas\[0\] must be in \[0, 1\)"),
        ("betas", [0.9, 0.9, 0.9], r"betas must be a pair"),
    ]:
        saved = opt.state_dict()
        saved["param_groups"][0][key] = bad
        with pytest.raises(ValueError, match=match):
            opt.load_state_dict(saved)
        assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[0]["betas"] == (0.9, 0.999)
    with pytest.raises(ValueError, match=r"no 'type' entry.*; it lacks \['type'\]"):
        opt.load_state_dict({"state": {}, "param_groups": []})  # e.g. a torch state_dict
    with pytest.raises(ValueError, match=r"unknown hyperparameters \['capturable'\]"):
        saved = opt.state_dict()
        saved["param_groups"][0]["capturable"] = False
        opt.load_state_dict(saved)


def test_load_state_dict_follows_the_saved_ids_and_reads_the_old_layout():
    a, b = Parameter(np.ones(2)), Parameter(np.ones(3))
    opt = Adam([a, b], lr=0.1)
    a.grad, b.grad = np.ones(2), np.ones(3)
    opt.step()
    saved = opt.state_dict()
    # torch's rule: the state of a saved id goes to the parameter at that id's position in the groups
    renamed = {"type": "Adam", "param_groups": [{**saved["param_groups"][0], "params": [7, 3]}],
               "state": {7: saved["state"][0], 3: saved["state"][1]}}  # fmt: skip
    fresh = Adam([Parameter(np.ones(2)), Parameter(np.ones(3))])
    fresh.load_state_dict(renamed)
    assert fresh.state[0]["exp_avg"].shape == (2,) and fresh.state[1]["exp_avg"].shape == (3,)
    # tinyrec's layout before parameter groups: one "hyperparameters" dict
    old = {"type": "Adam", "hyperparameters": {"lr": 0.5}, "state": saved["state"]}
    fresh.load_state_dict(old)
    assert fresh.param_groups[0]["lr"] == 0.5 and fresh.state[1]["step"] == 1
    two_groups = Adam([{"params": [Parameter(np.ones(2))]}, {"params": [Parameter(np.ones(3))]}])
    with pytest.raises(
        ValueError, match=r"an old state_dict \(one 'hyperparameters' dict\) fits one parameter group"
    ):
        two_groups.load_state_dict(old)


def test_hyperparameters_of_the_wrong_type_are_named():
    p = Parameter(np.zeros(2))
    for build, match in [
        (lambda: Adam([p], lr=None), "lr must be a finite number >= 0, got None"),
        (lambda: SGD([p], lr=0.1, momentum="0.9"), "momentum must be a finite number >= 0"),
        (lambda: Adam([p], lr=np.array([0.1, 0.2])), "lr must be a finite number >= 0"),
        (lambda: Adam([p], betas=(0.9,)), r"betas must be a pair \(beta1, beta2\), got \(0.9,\)"),
        (lambda: Adam([p], betas=0.9), "betas must be a pair"),
        (
            lambda: SGD([p], momentum=0.9, dampening=float("nan")),
            r"dampening must be a number in \[0, 1\], got nan",
        ),
        (lambda: SGD([p], momentum=0.9, dampening=5.0), r"dampening must be a number in \[0, 1\], got 5.0"),
    ]:
        with pytest.raises(ValueError, match=match):
            build()
    with pytest.raises(TypeError, match="ordered collection"):
        Adam([{"params": {p}}])
    assert SGD([{"params": [p], "lr": 0.1}]).param_groups[0]["lr"] == 0.1  # lr defaults to 1e-3, as torch


def test_bool_hyperparameters_must_be_bools():
    p = Parameter(np.zeros(2))
    with pytest.raises(ArgumentTypeError, match="amsgrad must be True or False, got 'no'"):
        Adam([p], amsgrad="no")
    with pytest.raises(ArgumentTypeError, match="amsgrad must be True or False, got 1"):
        AdamW([{"params": [p], "amsgrad": 1}])
    with pytest.raises(ArgumentTypeError, match="nesterov must be True or False, got 'yes'"):
        SGD([p], momentum=0.9, nesterov="yes")
    assert Adam([p], amsgrad=np.bool_(True)).param_groups[0]["amsgrad"] is True


def test_step_checks_hyperparameters_changed_in_param_groups():
    p = Parameter(np.ones(2))
    opt = Adam([p], lr=0.1)
    p.grad = np.ones(2)
    for key, bad, error, match in [
        ("lr", None, ArgumentTypeError, "lr must be a finite number >= 0, got None"),
        ("lr", -1.0, ValueError, "lr must be a finite number >= 0, got -1.0"),
        ("betas", (0.9, 1.0), ValueError, r"betas\[1\] must be in \[0, 1\)"),
        ("amsgrad", "no", ArgumentTypeError, "amsgrad must be True or False"),
        ("lrr", 0.1, ValueError, r"unknown hyperparameters \['lrr'\]"),
    ]:
        group = {**opt.param_groups[0]}
        opt.param_groups[0][key] = bad
        with pytest.raises(error, match=match):
            opt.step()
        np.testing.assert_array_equal(p.data, 1.0)  # nothing moved
        assert opt.state == [{}]
        opt.param_groups[0].clear()
        opt.param_groups[0].update(group)
    del opt.param_groups[0]["eps"]
    with pytest.raises(ValueError, match=r"a parameter group lacks \['eps'\]; every group needs"):
        opt.step()
    opt.param_groups[0]["eps"] = 1e-8
    opt.param_groups[0]["lr"] = 1  # an int is fine, and stored as a float
    opt.step()
    assert opt.param_groups[0]["lr"] == 1.0 and isinstance(opt.param_groups[0]["lr"], float)


def test_params_that_are_not_iterable_are_named():
    with pytest.raises(TypeError, match="params must be an ordered iterable of Parameters.*got a NoneType"):
        Adam(None)
    with pytest.raises(TypeError, match="params must be an ordered iterable.*got a float"):
        SGD(0.1)
    with pytest.raises(
        TypeError, match="a group's params must be a Parameter or a list of Parameters, got a NoneType"
    ):
        Adam([{"params": None}])


# -- clipping ---------------------------------------------------------------------------------
def test_clip_grad_norm_counts_rowgrads_and_clips():
    dense = Parameter(np.zeros(2))
    table = Parameter(np.zeros((10, 2)))
    skipped = Parameter(np.zeros(3))
    dense.grad = np.array([3.0, 0.0])
    table.grad = RowGrad(np.array([7]), np.array([[0.0, 4.0]]))
    total = clip_grad_norm_([dense, table, skipped], max_norm=1.0)
    assert total == pytest.approx(5.0)
    np.testing.assert_allclose(dense.grad, [3.0 / (5 + 1e-6), 0.0])
    np.testing.assert_allclose(table.grad.values, [[0.0, 4.0 / (5 + 1e-6)]])
    assert skipped.grad is None
    # below the threshold nothing changes; the inf-norm is the largest entry
    assert clip_grad_norm_([dense], max_norm=10.0) == pytest.approx(3.0 / 5, rel=1e-5)
    np.testing.assert_allclose(dense.grad, [3.0 / (5 + 1e-6), 0.0])
    assert clip_grad_norm_([dense, table], 10.0, norm_type=float("inf")) == pytest.approx(0.8, rel=1e-5)


def test_clip_grad_norm_nonfinite():
    p = Parameter(np.zeros(2))
    p.grad = np.array([np.inf, 1.0])
    with pytest.raises(NonFiniteError, match="total norm"):
        clip_grad_norm_([p], 1.0, error_if_nonfinite=True)


# -- bad construction -------------------------------------------------------------------------
def test_constructor_errors():
    p = Parameter(np.zeros(2))
    with pytest.raises(ValueError, match="lr must be a finite number >= 0"):
        SGD([p], lr=-1.0)
    with pytest.raises(ValueError, match="Nesterov"):
        SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match=r"betas\[1\]"):
        Adam([p], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="empty parameter list"):
        Adam([])
    with pytest.raises(TypeError, match="Parameters"):
        Adam([np.zeros(2)])
    with pytest.raises(TypeError, match="iterable"):
        Adam(p)
    with pytest.raises(ValueError, match="twice"):
        Adam([p, p])
    with pytest.raises(ValueError, match="eps"):
        Adagrad([p], eps=float("nan"))


# -- the fused row-sparse step (fused=True) against the two-pass path (fused=False) ----------------
FUSABLE = {
    "SGD": lambda groups, fused: SGD(groups, lr=0.1, weight_decay=0.01, fused=fused),
    "Adam": lambda groups, fused: Adam(groups, lr=0.01, weight_decay=0.01, fused=fused),
    "AdamW": lambda groups, fused: AdamW(groups, lr=0.01, fused=fused),
    "Adagrad": lambda groups, fused: Adagrad(groups, lr=0.1, lr_decay=0.01, fused=fused),
}


def _embedding_run(name, fused, dtype, steps=6):
    """Two embedding tables in two parameter groups (the second without weight decay, another lr,
    a padding row), trained a few steps on batches with many repeated ids; the tables and states."""
    from tinyrec.nn import Embedding

    users = Embedding(7, 3, dtype=dtype, seed=0)
    items = Embedding(9, 3, padding_idx=0, dtype=dtype, seed=1)
    groups = [{"params": users.parameters()}, {"params": items.parameters(), "lr": 0.05, "weight_decay": 0.0}]
    opt = FUSABLE[name](groups, fused)
    rng = np.random.default_rng(5)
    for _ in range(steps):
        opt.zero_grad()
        u, i = rng.integers(0, 7, (4, 5)), rng.integers(0, 9, 12)  # ids repeat; item 0 is padding
        users.backward(rng.standard_normal(users(u).shape).astype(dtype))
        items.backward(rng.standard_normal(items(i).shape).astype(dtype))
        items(i[:4])  # a second use of the table before the step: the two gradients add up
        items.backward(rng.standard_normal((4, 3)).astype(dtype))
        assert items.weight.grad.unsorted is not None  # summed, not sorted: the fused step takes it so
        opt.step()
    return [users.weight.data, items.weight.data], opt.state


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(FUSABLE))
def test_fused_step_equals_the_two_pass_step(name, dtype):
    """Repeated ids, a padding row, weight decay (L2 and decoupled), two parameter groups, two dtypes."""
    fused_tables, fused_state = _embedding_run(name, True, dtype)
    plain_tables, plain_state = _embedding_run(name, False, dtype)
    for a, b in zip(fused_tables, plain_tables, strict=True):
        assert a.dtype == dtype
        np.testing.assert_array_equal(a, b)  # same sums in the same order, same arithmetic
    for a, b in zip(fused_state, plain_state, strict=True):
        assert a.keys() == b.keys()
        for key in a:
            np.testing.assert_array_equal(a[key], b[key])
    np.testing.assert_array_equal(fused_tables[1][0], 0.0)  # the padding row never moves


def test_fused_step_refuses_ids_outside_the_table_before_writing():
    table = Parameter(np.zeros((4, 2)))
    table.grad = RowGrad.from_indices(np.array([2, 4, 2]), np.ones((3, 2)))
    with pytest.raises(IndexOutOfRangeError, match=r"span \[2, 4\], outside the table's rows \[0, 4\)"):
        Adam([table]).step()
    np.testing.assert_array_equal(table.data, 0.0)


def test_fused_flag_is_checked_and_reading_an_unsorted_grad_sorts_it():
    with pytest.raises(TypeError, match="fused"):
        Adam([Parameter(np.zeros(2))], fused="yes")
    grad = RowGrad.from_indices(np.array([3, 1, 3]), np.ones((3, 2)))
    rows, values = grad.unsorted  # summed at once, in the order the rows first occur
    np.testing.assert_array_equal(rows, [3, 1])
    np.testing.assert_array_equal(values, [[2, 2], [1, 1]])
    assert grad.span() == (1, 3) and grad.dim == 2
    np.testing.assert_array_equal(grad.rows, [1, 3])  # reading sorts them (the readable path)
    np.testing.assert_array_equal(grad.values, [[1, 1], [2, 2]])
    assert grad.unsorted is None
