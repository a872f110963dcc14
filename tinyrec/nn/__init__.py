"""tinyrec.nn: layers with explicit forward and backward passes.

Each layer lives in its own module; the docstring of each states its forward formula and
every gradient. See :mod:`tinyrec.nn.module` for the contract they all follow.
"""

from . import init
from .module import Module, Parameter, RowGrad, Sequential

__all__ = ["Module", "Parameter", "RowGrad", "Sequential", "init"]
