"""The registry of layers that the layer contract (tests/nn/test_layer_contract.py) is applied to.

Each topic adds its layers in a ``contract_cases_<topic>.py`` file beside this one, defining
``CASES = [LayerCase(...), ...]``; the contract test collects every such file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass
class LayerCase:
    """How to build one layer and feed it.

    name : shown in the test id.
    build : ``build(dtype, seed) -> Module`` (must pass ``dtype=`` and ``seed=`` through).
    inputs : ``inputs(dtype, rng) -> tuple`` of positional forward inputs.
    forward_kwargs : ``forward_kwargs(dtype, rng) -> dict`` (masks, ...), optional.
    """

    name: str
    build: Callable
    inputs: Callable
    forward_kwargs: Callable = field(default=lambda dtype, rng: {})

    def __repr__(self) -> str:
        return self.name


def randn(rng: np.random.Generator, *shape: int, dtype=np.float64) -> np.ndarray:
    return rng.standard_normal(shape).astype(dtype)
