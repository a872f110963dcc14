"""One contract, applied to every layer (DESIGN.md section 7).

For each registered layer: gradients accumulate over two backward calls, the incoming gradient is
not mutated, ``zero_grad`` clears every gradient, seeded construction repeats exactly, float32 in
gives float32 out (outputs and gradients), and backward before forward raises a clear error.
Layers register themselves in ``tests/nn/contract_cases_*.py`` (see ``tests/nn/contract.py``).
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import numpy as np
import pytest

from tinyrec.errors import BackwardBeforeForwardError
from tinyrec.gradcheck import _flatten, _like


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
    layer, inputs, kwargs, output, grad_output = _run(case, np.float64)
    _skip_without_parameters(layer)
    _backward(layer, output, grad_output)
    once = {name: np.array(p.dense_grad(), copy=True) for name, p in layer.named_parameters()}
    # the same forward again: random layers (Dropout) get their generators rewound, same mask
    for g, state in zip(_generators(layer), layer._contract_rng_states, strict=True):
        g.bit_generator.state = state
    layer(*inputs, **kwargs)
    _backward(layer, output, grad_output)
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
    a, b = case.build(np.float32, 123), case.build(np.float32, 123)
    state_a, state_b = a.state_dict(), b.state_dict()
    if not state_a:
        pytest.skip("the layer has no parameters or buffers to compare")
    assert state_a.keys() == state_b.keys()
    for name in state_a:
        np.testing.assert_array_equal(state_a[name], state_b[name], err_msg=name)


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


def _skip_without_parameters(layer):
    """Skip (rather than pass vacuously) the gradient checks of a layer with no parameters."""
    if not list(layer.parameters()):
        pytest.skip("the layer has no parameters")


def _generators(layer):
    return [v for m in layer.modules() for v in vars(m).values() if isinstance(v, np.random.Generator)]
