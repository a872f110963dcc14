"""``check_layer`` names each broken promise of a layer, and passes a right one (every tinyrec layer
passes it: tests/nn/test_layer_contract.py).

The layers here are written the way a student or another library would: ``Dense`` is a plain
class with ``forward``, ``backward`` and ``parameters()``, not a ``tinyrec.nn.Module``; each broken
variant changes one line of it.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from tinyrec import nn
from tinyrec.nn import Parameter
from tinyrec.testing import PROPERTIES, check_layer
from tinyrec.testing.layer_contract import FAILED, PASSED, SKIPPED

X = np.random.default_rng(0).standard_normal((5, 4))


class Dense:
    """``Y = tanh(X Wᵀ + b)``, duck-typed: no tinyrec base class."""

    def __init__(self, n_in=4, n_out=3, *, dtype=np.float64, seed=0):
        rng = np.random.default_rng(seed)
        self.weight = Parameter(self.draw(rng, (n_out, n_in)).astype(dtype))
        self.bias = Parameter(self.draw(rng, (n_out,)).astype(dtype))
        self._x = None

    def draw(self, rng, shape):
        return rng.standard_normal(shape)

    def parameters(self):
        return [self.weight, self.bias]

    def named_parameters(self):
        return [("weight", self.weight), ("bias", self.bias)]

    def zero_grad(self):
        self.weight.grad = self.bias.grad = None

    def state_dict(self):
        return {"weight": self.weight.data.copy(), "bias": self.bias.data.copy()}

    def load_state_dict(self, state):
        self.weight.data[...] = state["weight"]
        self.bias.data[...] = state["bias"]

    def forward(self, x):
        self._x = x
        self._y = np.tanh(x @ self.weight.data.T + self.bias.data)
        return self._y

    def derivative(self):
        return 1.0 - self._y**2

    def backward(self, grad_output):
        if self._x is None:
            raise RuntimeError("backward before forward")
        dz = grad_output * self.derivative()
        self.weight.accumulate(dz.T @ self._x)
        self.bias.accumulate(self.bias_gradient(dz))
        return dz @ self.weight.data

    def bias_gradient(self, dz):
        return dz.sum(axis=0)


class WrongDerivative(Dense):
    def derivative(self):
        return 1.0 - self._y  # tanh' = 1 − tanh², not 1 − tanh


class ForgetsTheBias(Dense):
    def backward(self, grad_output):
        dz = grad_output * self.derivative()
        self.weight.accumulate(dz.T @ self._x)
        return dz @ self.weight.data


class MeanForSum(Dense):
    def bias_gradient(self, dz):
        return dz.mean(axis=0)  # the bias is added to every row: its gradient is the sum


class Overwrites(Dense):
    def backward(self, grad_output):
        dz = grad_output * self.derivative()
        self.weight.grad = dz.T @ self._x  # replaces what an earlier backward left
        self.bias.accumulate(dz.sum(axis=0))
        return dz @ self.weight.data


class MutatesGradOutput(Dense):
    def backward(self, grad_output):
        grad_output *= self.derivative()  # in place: the caller's dY is now dZ
        self.weight.accumulate(grad_output.T @ self._x)
        self.bias.accumulate(grad_output.sum(axis=0))
        return grad_output @ self.weight.data


class UnseededInit(Dense):
    def draw(self, rng, shape):
        return np.random.standard_normal(shape)  # noqa: NPY002 (the global generator: the seed is ignored)


def _check(cls):
    return check_layer(cls, X)


@pytest.mark.parametrize(
    "cls, prop, words",
    [
        (WrongDerivative, "gradients", "the input0 gradient differs from central differences"),
        (ForgetsTheBias, "parameter_gradients", "the bias gradient is missing: bias.grad is still None"),
        (MeanForSum, "gradients", "the bias gradient differs from central differences"),
        (MeanForSum, "gradients", "a mean where a sum belongs"),
        (Overwrites, "accumulate", "the weight gradient is overwritten, not accumulated"),
        (MutatesGradOutput, "grad_output_unchanged", "backward changed grad_output (dY) in place"),
        (UnseededInit, "seeded", "two layers built with seed=123 differ: weight, bias"),
    ],
    ids=["wrong derivative", "missing bias gradient", "mean for sum", "mean for sum (hint)", "overwritten",
         "grad_output mutated", "non-deterministic init"],
)  # fmt: skip
def test_each_broken_promise_is_named(cls, prop, words):
    report = _check(cls)
    result = report.result(prop)
    assert result.status == FAILED, str(report)
    assert words in result.message
    assert not report.ok
    with pytest.raises(AssertionError, match=prop):
        report.assert_ok()
    assert PROPERTIES[prop] in str(report)


def test_each_broken_layer_fails_only_where_it_is_broken():
    expected = {
        WrongDerivative: {"gradients"},
        ForgetsTheBias: {"gradients", "parameter_gradients"},  # (a missing gradient is also a wrong one)
        MeanForSum: {"gradients"},
        Overwrites: {"accumulate"},
        MutatesGradOutput: {"grad_output_unchanged"},
        UnseededInit: {"seeded"},
    }
    for cls, failing in expected.items():
        assert {r.name for r in _check(cls).failures} == failing, cls.__name__


def test_a_right_duck_typed_layer_passes_every_property():
    report = _check(Dense)
    assert report.ok, str(report)
    assert {r.status for r in report.results} == {PASSED}
    assert report.result("backward_first").message == "raised RuntimeError"
    assert report.layer == "Dense" and "all 10 properties checked hold" in str(report)


def test_an_instance_is_accepted_and_the_seed_check_is_skipped():
    layer = nn.Linear(4, 3, dtype=np.float64, seed=0)
    before = layer.state_dict()
    report = check_layer(layer, X)
    assert report.ok, str(report)
    assert report.result("seeded").status == SKIPPED
    assert "a layer instance was given, not a factory" in report.result("seeded").message
    for name, value in before.items():  # the checks ran on copies
        np.testing.assert_array_equal(layer.state_dict()[name], value)
    assert layer.weight.grad is None


def test_a_tinyrec_layer_class_partial_and_float32_inputs():
    # a class with its sizes bound; float32 inputs are cast to float64 for the gradient check
    report = check_layer(functools.partial(nn.Linear, 4, 3), X.astype(np.float32))
    assert report.ok, str(report)
    assert report.result("float32").status == PASSED
    report = check_layer(nn.ReLU, X)
    assert report.ok and report.result("zero_grad").message == "the layer has no parameters"


def test_a_factory_that_fails_fails_every_property_with_its_error():
    def broken(dtype, seed):
        raise ValueError("no such layer")

    report = check_layer(broken, X)
    assert not report.ok
    assert all("raised ValueError: no such layer" in r.message for r in report.failures)


class FixedLookup:
    """``Y = table[ids]`` for a fixed table: integer inputs, no parameter, nothing to differentiate."""

    def __init__(self, *, dtype=np.float64, seed=0):
        self.table = np.arange(12.0, dtype=dtype).reshape(4, 3)

    def parameters(self):
        return []

    def forward(self, ids):
        return self.table[ids]

    def backward(self, grad_output):
        return None


def test_a_layer_with_nothing_to_check_fails_the_gradient_property():
    report = check_layer(nn.Embedding(5, 2, dtype=np.float64), np.array([0, 1]))
    assert report.result("gradients").status == PASSED  # the table is a parameter: checked
    report = check_layer(FixedLookup, np.array([0, 1]))
    assert report.result("gradients").status == FAILED
    assert "nothing was checked" in report.result("gradients").message
    assert report.result("backward_first").status == FAILED  # and it returns None before any forward
