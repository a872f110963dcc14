"""The gradient checker finds right gradients right and wrong ones wrong."""

import numpy as np
import pytest

from tinyrec.errors import DTypeError
from tinyrec.gradcheck import GradcheckReport, check_loss, check_module, numerical_gradient, relative_error
from tinyrec.losses import MSELoss
from tinyrec.nn.module import Module, Parameter


class Square(Module):
    """y = w ⊙ x²; backward may be deliberately broken."""

    def __init__(self, dim, broken=False):
        self.weight = Parameter(np.linspace(0.5, 1.5, dim))
        self.broken = broken

    def forward(self, x):
        self._x = x
        return self.weight.data * x * x

    def backward(self, grad_output):
        x = self._x
        self.weight.accumulate((grad_output * x * x).sum(axis=0))
        factor = 1.0 if self.broken else 2.0  # the broken one forgets the 2 of d(x²)/dx
        return grad_output * self.weight.data * factor * x


def test_numerical_gradient_of_a_known_function():
    x = np.array([1.0, -2.0, 3.0])
    grad = numerical_gradient(lambda: float(np.sum(x**3)), x)
    np.testing.assert_allclose(grad, 3 * np.array([1.0, 4.0, 9.0]), rtol=1e-8)
    np.testing.assert_array_equal(x, [1.0, -2.0, 3.0])  # restored


def test_check_module_passes_a_correct_backward():
    x = np.random.default_rng(0).standard_normal((4, 3))
    report = check_module(Square(3), x)
    assert set(report.errors) == {"input0", "weight"}
    report.assert_ok(1e-7)


def test_check_module_catches_a_wrong_backward():
    x = np.random.default_rng(0).standard_normal((4, 3))
    report = check_module(Square(3, broken=True), x)
    assert report.errors["input0"] > 0.1
    assert report.errors["weight"] < 1e-7
    with pytest.raises(AssertionError, match="input0"):
        report.assert_ok()


def test_relative_error_is_scale_free():
    a = np.array([1.0, 2.0])
    assert relative_error(a, a) == 0.0
    assert relative_error(1e6 * a, 1e6 * (a + [1e-3, 0])) == pytest.approx(relative_error(a, a + [1e-3, 0]))


def test_a_nan_error_fails_wherever_it_stands():
    """Python's max() skips a NaN that is not first; the report must not."""
    for errors in ({"input0": 1e-9, "weight": float("nan")}, {"weight": float("nan"), "input0": 1e-9}):
        report = GradcheckReport(errors)
        assert np.isnan(report.max_error) and not report.ok()
        with pytest.raises(AssertionError, match="weight"):
            report.assert_ok()
    assert GradcheckReport({"a": 1e-9, "b": 2e-9}).ok()


class Lookup(Module):
    """y = table[ids] with a fixed table (no Parameter); backward deliberately returns nonsense."""

    def __init__(self):
        self.table = np.arange(12.0).reshape(4, 3)

    def forward(self, ids):
        return self.table[ids]

    def backward(self, grad_output):
        return grad_output * 1e6  # wrong, and no gradient exists for ids anyway


def test_nothing_to_check_is_not_a_pass():
    # integer inputs and no parameters: the report was empty, max_error 0.0, and assert_ok passed
    report = check_module(Lookup(), np.array([0, 2, 3]))
    assert report.errors == {} and "int64 array" in report.skipped["input0"]
    assert not report.ok() and np.isnan(report.max_error)
    assert "nothing was checked" in str(report)
    with pytest.raises(AssertionError, match=r"nothing was checked \(input0 \(int64 array: only float"):
        report.assert_ok()
    # switching both kinds off checks nothing either, and says why
    x = np.random.default_rng(0).standard_normal((4, 3))
    report = check_module(Square(3), x, check_inputs=False, check_parameters=False)
    expected = r"input0 \(check_inputs=False\); weight \(check_parameters=False\)"
    with pytest.raises(AssertionError, match=expected):
        report.assert_ok()
    assert not GradcheckReport().ok()
    # a partial check passes on what it checked, and lists what it left out
    report = check_module(Square(3), x, check_inputs=False)
    report.assert_ok(1e-7)
    assert "input0  not checked: check_inputs=False" in str(report)


@pytest.mark.parametrize("eps", [0, 0.0, -1e-6, float("nan"), float("inf")])
def test_eps_must_be_a_finite_positive_number(eps):
    x = np.random.default_rng(0).standard_normal((4, 3))
    with pytest.raises(ValueError, match="eps must be a finite number > 0"):
        check_module(Square(3), x, eps=eps)  # eps=0 divided by zero
    with pytest.raises(ValueError, match="eps must be a finite number > 0"):
        numerical_gradient(lambda: float(np.sum(x)), x, eps)
    with pytest.raises(ValueError, match="eps must be a finite number > 0"):
        check_loss(MSELoss(), x, np.zeros_like(x), eps=eps)
    with pytest.raises(TypeError, match="eps must be"):
        check_module(Square(3), x, eps="1e-6")


def test_numerical_gradient_refuses_an_integer_array():
    ids = np.array([1, 2, 3])
    with pytest.raises(DTypeError, match="float array to perturb"):
        numerical_gradient(lambda: float(np.sum(ids**2)), ids)  # ids + eps rounds back to ids: zeros


# -- what check_module names beyond the numbers ----------------------------------------------------
class Affine:
    """``y = w ⊙ x + b``, duck-typed (no Module base class); ``mistake`` breaks one line of backward."""

    def __init__(self, dim=3, mistake=None, dtype=np.float64):
        self.weight = Parameter(np.linspace(0.5, 1.5, dim).astype(dtype))
        self.bias = Parameter(np.zeros(dim, dtype))
        self.mistake = mistake

    def parameters(self):
        return [self.weight, self.bias]

    def forward(self, x):
        self._x = x
        return self.weight.data * x + self.bias.data

    def backward(self, grad_output):
        if self.mistake == "overwrite":
            self.weight.grad = (grad_output * self._x).sum(axis=0)
        else:
            self.weight.accumulate((grad_output * self._x).sum(axis=0))
        if self.mistake == "mean":
            self.bias.accumulate(grad_output.mean(axis=0))
        elif self.mistake != "no bias":
            self.bias.accumulate(grad_output.sum(axis=0))
        dx = grad_output * self.weight.data
        if self.mistake == "mutate":
            grad_output *= 0.0  # "done with it": but the caller is not
        return dx


X4 = np.random.default_rng(1).standard_normal((4, 3))


def test_a_layer_that_is_not_a_module_is_checked_by_its_parameters():
    report = check_module(Affine(), X4)
    assert set(report.errors) == {"input0", "param0", "param1"}  # parameters() named in order
    report.assert_ok(1e-7)
    assert not report.problems and not report.notes


def test_an_overwritten_gradient_is_named():
    report = check_module(Affine(mistake="overwrite"), X4)
    assert report.errors["param0"] < 1e-7  # the numbers of one backward are right...
    assert "the gradient is overwritten, not accumulated" in report.problems["param0"]
    assert not report.ok()  # ...but the layer is wrong
    with pytest.raises(AssertionError, match="param0: the gradient is overwritten"):
        report.assert_ok()


def test_a_mutated_grad_output_is_named_and_does_not_spoil_the_numbers():
    report = check_module(Affine(mistake="mutate"), X4)
    assert report.max_error < 1e-7
    assert "backward changed grad_output (dY) in place" in report.problems["grad_output"]
    with pytest.raises(AssertionError, match="grad_output"):
        report.assert_ok()


def test_a_missing_gradient_and_a_constant_factor_are_named():
    report = check_module(Affine(mistake="no bias"), X4)
    assert report.problems["param1"].startswith("no gradient: .grad is still None after backward")
    report = check_module(Affine(mistake="mean"), X4)
    assert report.errors["param1"] == pytest.approx(0.75)
    assert any("param1: the analytic gradient is 0.25 times the numerical one" in n and "a mean where a sum"
               in n for n in report.notes)  # fmt: skip
    assert "note: param1" in str(report)


def test_a_float32_module_gets_the_hint_to_use_float64():
    report = check_module(Affine(dtype=np.float32), X4.astype(np.float32))
    assert not report.ok()
    assert any("compute in float32: central differences need float64" in n for n in report.notes)
    with pytest.raises(AssertionError, match="dtype=np.float64"):
        report.assert_ok()


def test_an_array_passed_twice_is_checked_once_against_the_sum_of_its_gradients():
    from tinyrec.nn import Multiply

    x = np.random.default_rng(2).standard_normal((4, 3))
    report = check_module(Multiply(), x, x)  # y = x ⊙ x: dx = 2 x dY, the sum of the two gradients
    report.assert_ok(1e-7)
    assert report.skipped == {"input1": "the same array as input0: its gradients are summed there"}
