"""The exercises of the tutorials: each one's task, stub, reference solution and checks.

One module per "Your turn" exercise of ``tutorials/``:

========================  ===========  ==============================================
name                      tutorial     task
========================  ===========  ==============================================
``tanh_backward``         01           ``Tanh.backward``
``popularity_negatives``  02           a popularity-proportional negative sampler
``mrr``                   03           mean reciprocal rank, pessimistic ties
``item_biases``           04           item biases in the layered MF
``softmax_backward``      05           the backward of the attention softmax
``linear_tower``          06           a third NCF tower
``next_item_pairs``       07           SASRec's training row of one user
========================  ===========  ==============================================

Each module holds, in this order: a docstring with the task, the shapes and the math; the
**stub** the tutorial gives (it raises ``NotImplementedError``); the **reference solution**; the
**checks**, functions that each take the candidate (a class or a function) and raise
``AssertionError`` with a message and a hint when it lacks one property; and ``check(candidate)``,
which runs them all and returns a :class:`~tinyrec.exercises.checking.Report`::

    import tinyrec.exercises
    report = tinyrec.exercises.tanh_backward.check(MyTanh)
    print(report)         # one line per check; "not implemented yet" for the stub
    report.ok             # True when every check passed

    tinyrec.exercises.show_solution("tanh_backward")   # prints the reference solution

Every module also names its parts the same way, for tools built on top: ``NAME``, ``TUTORIAL``,
``STUB``, ``SOLUTION``, ``CHECKS`` and ``TUTORIAL_CODE`` (the given code that the tutorial shows
verbatim).
"""

from __future__ import annotations

import inspect

from . import (
    item_biases,
    linear_tower,
    mrr,
    next_item_pairs,
    popularity_negatives,
    softmax_backward,
    tanh_backward,
)
from .checking import CheckResult, Report, run_checks

#: name -> module, in the order of the tutorials
EXERCISES = {
    module.NAME: module
    for module in (
        tanh_backward, popularity_negatives, mrr, item_biases, softmax_backward, linear_tower,
        next_item_pairs,
    )  # fmt: skip
}


def get(name: str):
    """The module of the exercise called ``name``."""
    if name not in EXERCISES:
        raise KeyError(f"no exercise named {name!r}; the exercises are {list(EXERCISES)}")
    return EXERCISES[name]


def solution_source(name: str) -> str:
    """The source code of the reference solution of exercise ``name``."""
    return inspect.getsource(get(name).SOLUTION)


def show_solution(name: str) -> None:
    """Print the reference solution of exercise ``name`` (try your own first)."""
    module = get(name)
    print(f"# the reference solution of {module.__name__} (tutorial {module.TUTORIAL})")
    print(solution_source(name))


__all__ = [
    "EXERCISES",
    "CheckResult",
    "Report",
    "get",
    "item_biases",
    "linear_tower",
    "mrr",
    "next_item_pairs",
    "popularity_negatives",
    "run_checks",
    "show_solution",
    "softmax_backward",
    "solution_source",
    "tanh_backward",
]
