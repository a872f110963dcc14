"""One contract, applied to every layer (docs/architecture.md, "Adding a layer").

For each registered layer: gradients accumulate over two backward calls, the incoming gradient is
not mutated, ``zero_grad`` clears every gradient, seeded construction repeats exactly, float32 in
gives float32 out (outputs and gradients), backward before forward raises a clear error, the
gradients of every float input and every parameter agree with central differences (float64), and
a ``state_dict`` loaded into a layer built with another seed gives the same output.
Layers register themselves in ``tests/nn/contract_cases_*.py`` (see ``tests/nn/contract.py``).
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import numpy as np
import pytest

from tinyrec.errors import BackwardBeforeForwardError
from tinyrec.gradcheck import _flatten, _like, check_module, numerical_gradient, relative_error


def _collect_cases():
    cases = []
    here = Path(__file__).parent
    for info in pkgutil.iter_modules([str(here)]):
        if info.name.startswith("contract_cases_"):
            cases.extend(importlib.import_module(f"tests.nn.{info.name}").CASES)
    return cases


CASES = _collect_cases()


def _run(case, dtype, seed=0):
    """Build the layer, run forward, return (layer, inputs, kwargs, output, grad_output)."""
    layer = case.build(dtype, seed)
    layer._contract_rng_states = [g.bit_generator.state for g in _generators(layer)]
    rng = np.random.default_rng(1)
    inputs = case.inputs(dtype, rng)
    kwargs = case.forward_kwargs(dtype, rng)
    output = layer(*inputs, **kwargs)
    grad_output = _like(output, lambda y: rng.standard_normal(np.shape(y)).astype(dtype))
    return layer, inputs, kwargs, output, grad_output


def _backward(layer, output, grad_output):
    if isinstance(output, (tuple, list)):
        result = layer.backward(*grad_output)
    else:
        result = layer.backward(grad_output)
    return result if isinstance(result, tuple) else (result,)


def _copy(structure):
    return _like(structure, lambda a: np.array(a, copy=True))


def test_registry_is_not_empty():
    assert CASES, "no layer registered in tests/nn/contract_cases_*.py"


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_gradients_accumulate_over_two_backward_calls(case):
    """Parameter gradients add up; the input gradients of the two calls are the same."""
    layer, inputs, kwargs, output, grad_output = _run(case, np.float64)
    first = _copy(_backward(layer, output, grad_output))
    once = {name: np.array(p.dense_grad(), copy=True) for name, p in layer.named_parameters()}
    # the same forward again: random layers (Dropout) get their generators rewound, same mask
    for g, state in zip(_generators(layer), layer._contract_rng_states, strict=True):
        g.bit_generator.state = state
    layer(*inputs, **kwargs)
    second = _backward(layer, output, grad_output)
    for a, b in zip(_flatten(first), _flatten(second), strict=True):
        np.testing.assert_array_equal(a, b)
    for name, p in layer.named_parameters():
        np.testing.assert_allclose(p.dense_grad(), 2 * once[name], rtol=1e-12, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_incoming_gradient_is_not_mutated(case):
    layer, inputs, kwargs, output, grad_output = _run(case, np.float64)
    saved_grad = _copy(grad_output)
    saved_inputs = _copy(inputs)
    _backward(layer, output, grad_output)
    for a, b in zip(_flatten(grad_output), _flatten(saved_grad), strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(_flatten(inputs), _flatten(saved_inputs), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_zero_grad_clears(case):
    layer, inputs, kwargs, output, grad_output = _run(case, np.float64)
    _skip_without_parameters(layer)
    _backward(layer, output, grad_output)
    assert all(p.grad is not None for p in layer.parameters())  # something for zero_grad to clear
    layer.zero_grad()
    assert all(p.grad is None for p in layer.parameters())


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_seeded_construction_repeats(case):
    """The same seed gives the same parameters, buffers and outputs (Dropout: the same masks)."""
    a, b = case.build(np.float32, 123), case.build(np.float32, 123)
    state_a, state_b = a.state_dict(), b.state_dict()
    assert state_a.keys() == state_b.keys()
    for name in state_a:
        np.testing.assert_array_equal(state_a[name], state_b[name], err_msg=name)
    rng = np.random.default_rng(1)
    inputs, kwargs = case.inputs(np.float32, rng), case.forward_kwargs(np.float32, rng)
    for _ in range(2):  # a random layer's second mask too
        for ya, yb in zip(_flatten(a(*inputs, **kwargs)), _flatten(b(*inputs, **kwargs)), strict=True):
            np.testing.assert_array_equal(ya, yb)


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_float32_in_float32_out(case):
    layer, inputs, kwargs, output, grad_output = _run(case, np.float32)
    for y in _flatten(output):
        if isinstance(y, np.ndarray) and y.dtype.kind == "f":
            assert y.dtype == np.float32
    for g in _backward(layer, output, grad_output):
        for leaf in _flatten(g):
            if leaf is not None:
                assert leaf.dtype == np.float32
    for name, p in layer.named_parameters():
        assert p.data.dtype == np.float32, name
        if p.grad is not None:
            assert p.dense_grad().dtype == np.float32, name


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_backward_before_forward_raises(case):
    layer = case.build(np.float64, 0)
    rng = np.random.default_rng(1)
    output = layer(*case.inputs(np.float64, rng), **case.forward_kwargs(np.float64, rng))
    fresh = case.build(np.float64, 0)
    grad_output = _like(output, lambda y: np.ones(np.shape(y)))
    with pytest.raises(BackwardBeforeForwardError):
        _backward(fresh, output, grad_output)


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_gradients_match_central_differences(case):
    """float64: every float input's gradient and every parameter's, against central differences.

    An array passed as several inputs (self-attention's ``x, x, x``) gets the sum of their
    gradients, which is what its central difference measures.
    """
    layer = case.build(np.float64, 0)
    rng = np.random.default_rng(1)
    inputs = (case.gradcheck_inputs or case.inputs)(np.float64, rng)
    kwargs = case.forward_kwargs(np.float64, rng)
    shared = len({id(x) for x in inputs}) < len(inputs)
    report = check_module(layer, *inputs, forward_kwargs=kwargs, check_inputs=not shared, seed=2)
    if shared:
        report.errors.update(_shared_input_errors(layer, inputs, kwargs))
    assert report.errors, "nothing was checked: no float input and no parameter"
    report.assert_ok(1e-6)


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_state_dict_round_trip(case):
    """A layer built with another seed, given the first one's state_dict, computes the same output."""
    rng = np.random.default_rng(1)
    inputs, kwargs = case.inputs(np.float64, rng), case.forward_kwargs(np.float64, rng)
    a = case.build(np.float64, 0)
    for p in a.parameters():  # away from a deterministic start (LayerNorm's ones and zeros)
        p.data[...] = rng.standard_normal(p.shape)
    a(*inputs, **kwargs)  # a training forward moves the buffers (BatchNorm's running statistics)
    b = case.build(np.float64, 1)
    b.load_state_dict(a.state_dict())
    assert b.state_dict().keys() == a.state_dict().keys()
    for name, value in a.state_dict().items():
        np.testing.assert_array_equal(b.state_dict()[name], value, err_msg=name)
    a.eval(), b.eval()  # no random masks: the output depends on the state alone
    for ya, yb in zip(_flatten(a(*inputs, **kwargs)), _flatten(b(*inputs, **kwargs)), strict=True):
        np.testing.assert_array_equal(ya, yb)


def _shared_input_errors(layer, inputs, kwargs) -> dict:
    """``{"input<i>": error}`` for each float array, its gradient summed over the inputs it fills."""
    states = [g.bit_generator.state for g in _generators(layer)]

    def run():
        for g, state in zip(_generators(layer), states, strict=True):
            g.bit_generator.state = state
        return layer.forward(*inputs, **kwargs)

    rng = np.random.default_rng(3)
    weights = _like(run(), lambda y: None if y is None else rng.standard_normal(np.shape(y)))

    def loss():
        pairs = zip(_flatten(run()), _flatten(weights), strict=True)
        return float(sum(np.sum(y * w) for y, w in pairs if y is not None))

    layer.zero_grad()
    output = run()
    grads = _backward(layer, output, weights)
    errors = {}
    for i, x in enumerate(inputs):
        if isinstance(x, np.ndarray) and x.dtype.kind == "f" and all(x is not y for y in inputs[:i]):
            analytic = sum(g for y, g in zip(inputs, grads, strict=False) if y is x)
            errors[f"input{i}"] = relative_error(analytic, numerical_gradient(loss, x))
    return errors


def _skip_without_parameters(layer):
    """Skip (rather than pass vacuously) the gradient checks of a layer with no parameters."""
    if not list(layer.parameters()):
        pytest.skip("the layer has no parameters")


def _generators(layer):
    return [v for m in layer.modules() for v in vars(m).values() if isinstance(v, np.random.Generator)]
