"""The registry of layers that the layer contract (tests/nn/test_layer_contract.py) is applied to.

Each topic adds its layers in a ``contract_cases_<topic>.py`` file beside this one, defining
``CASES = [LayerCase(...), ...]``; the contract test collects every such file and checks each
layer with :func:`tinyrec.testing.check_layer` (:func:`check`), the same call a user makes for a
layer of their own.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass
class LayerCase:
    """How to build one layer and feed it.

    name : shown in the test id.
    build : ``build(dtype, seed) -> Module`` (passes ``dtype=`` and ``seed=`` through to a layer
        that takes them; see :func:`build`).
    inputs : ``inputs(dtype, rng) -> tuple`` of positional forward inputs.
    forward_kwargs : ``forward_kwargs(dtype, rng) -> dict`` (masks, ...), optional.
    gradcheck_inputs : like ``inputs``, for the central-difference check only, optional: inputs
        that reach no parameter entry whose gradient is zero by definition (a central difference
        sees an Embedding's ``padding_idx`` row, which by torch's definition gets no gradient).
    """

    name: str
    build: Callable
    inputs: Callable
    forward_kwargs: Callable = field(default=lambda dtype, rng: {})
    gradcheck_inputs: Callable | None = None

    def __repr__(self) -> str:
        return self.name


def randn(rng: np.random.Generator, *shape: int, dtype=np.float64) -> np.ndarray:
    return rng.standard_normal(shape).astype(dtype)


def build(cls, *args, **kwargs):
    """``build(dtype, seed)`` for ``cls(*args, **kwargs)``, passing ``dtype``/``seed`` where taken.

    Layers without parameters take no ``dtype`` (they follow their input), and only random ones
    (Dropout) take a ``seed``.
    """
    taken = inspect.signature(cls).parameters

    def make(dtype, seed):
        extra = {k: v for k, v in (("dtype", dtype), ("seed", seed)) if k in taken}
        return cls(*args, **kwargs, **extra)

    return make


def check(case: LayerCase):
    """``tinyrec.testing.check_layer`` on the case's layer, inputs and keyword arguments (float64)."""
    from tinyrec.testing import check_layer

    rng = np.random.default_rng(1)
    inputs, kwargs = case.inputs(np.float64, rng), case.forward_kwargs(np.float64, rng)
    gradcheck_inputs = None
    if case.gradcheck_inputs is not None:
        gradcheck_inputs = case.gradcheck_inputs(np.float64, np.random.default_rng(1))
    return check_layer(case.build, *inputs, forward_kwargs=kwargs, gradcheck_inputs=gradcheck_inputs)
