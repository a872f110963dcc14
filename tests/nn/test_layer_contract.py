"""One contract, applied to every layer (docs/architecture.md, "Adding a layer").

Every registered layer is checked by :func:`tinyrec.testing.check_layer`, the call a user makes for
a layer of their own, and must keep each of its properties: the gradients of every float input
and every parameter agree with central differences (float64); every parameter gets a gradient;
gradients accumulate over two backward calls; the incoming gradient and the inputs are not
changed; ``zero_grad`` clears every gradient; seeded construction repeats exactly; a
``state_dict`` loaded into a layer built with another seed gives the same state and output;
float32 in gives float32 out; backward before forward raises ``BackwardBeforeForwardError``.
Layers register themselves in ``tests/nn/contract_cases_*.py`` (see ``tests/nn/contract.py``).
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from pathlib import Path

import pytest

from tests.nn.contract import check
from tinyrec.testing import PROPERTIES
from tinyrec.testing.layer_contract import FAILED, SKIPPED


def _collect_cases():
    cases = []
    here = Path(__file__).parent
    for info in pkgutil.iter_modules([str(here)]):
        if info.name.startswith("contract_cases_"):
            cases.extend(importlib.import_module(f"tests.nn.{info.name}").CASES)
    return cases


CASES = _collect_cases()
#: the one reason a property may be skipped for a registered layer
NO_PARAMETERS = "the layer has no parameters"


@functools.cache
def _report(name: str):
    return check(next(case for case in CASES if case.name == name))


def test_registry_is_not_empty():
    assert CASES, "no layer registered in tests/nn/contract_cases_*.py"


@pytest.mark.parametrize("prop", list(PROPERTIES))
@pytest.mark.parametrize("case", CASES, ids=repr)
def test_layer_keeps_the_contract(case, prop):
    result = _report(case.name).result(prop)
    assert result.status != FAILED, f"{case.name}: {PROPERTIES[prop]}: {result.message}"
    if result.status == SKIPPED:
        assert prop in ("parameter_gradients", "zero_grad"), result.message
        assert result.message == NO_PARAMETERS
        pytest.skip(result.message)  # rather than pass vacuously
    if prop == "backward_first":
        assert result.message == "raised BackwardBeforeForwardError"
    if prop == "gradients":
        assert result.message.startswith("largest relative error")
