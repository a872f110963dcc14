"""The exercises of the tutorials and of the course: each one's task, stub, reference solution and
checks.

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
``ap_over_hits``          08           AP@k divided by the hits, checked by ``check_metric``
========================  ===========  ==============================================

and the course exercises (:data:`COURSE`), which no tutorial shows and ``tinyrec grade`` grades
(:mod:`tinyrec.exercises.grading`, in a sandbox):

========================  ==============================================================
name                      task
========================  ==============================================================
``linear_layer``          ``Linear``'s forward and backward (a ``Module`` subclass)
``activations_backward``  the backward of ReLU, Sigmoid and Tanh
``cross_entropy``         a stable softmax cross-entropy and its gradient
``embedding_backward``    an embedding table's row-sparse backward, repeated ids summed
``adam_step``             one step of Adam
``ndcg``                  NDCG@k, graded relevance, pessimistic ties
========================  ==============================================================

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

Every module also names its parts the same way, for tools built on top: ``NAME``, ``TUTORIAL``
(``None`` for a course exercise), ``STUB``, ``SOLUTION``, ``CHECKS`` and, for a tutorial's
exercise, ``TUTORIAL_CODE`` (the given code that the tutorial shows verbatim). ``SUBMIT`` names
what a submission defines (by default the stub's name) and ``CANDIDATE``, when there are several,
builds the one candidate the checks take from them. A check is worth one point unless
:func:`~tinyrec.exercises.checking.points` says otherwise.
"""

from __future__ import annotations

import inspect

from . import (
    activations_backward,
    adam_step,
    ap_over_hits,
    cross_entropy,
    embedding_backward,
    item_biases,
    linear_layer,
    linear_tower,
    mrr,
    ndcg,
    next_item_pairs,
    popularity_negatives,
    softmax_backward,
    tanh_backward,
)
from .checking import CheckResult, Report, run_checks

#: name -> module of the tutorials' exercises, in the order of the tutorials
TUTORIAL_EXERCISES = {
    module.NAME: module
    for module in (
        tanh_backward,
        popularity_negatives,
        mrr,
        item_biases,
        softmax_backward,
        linear_tower,
        next_item_pairs,
        ap_over_hits,
    )  # fmt: skip
}
#: name -> module of the course exercises, in the order of the course
COURSE = {
    module.NAME: module
    for module in (linear_layer, activations_backward, cross_entropy, embedding_backward, adam_step, ndcg)
}
#: name -> module of every exercise: the tutorials' first, then the course's
EXERCISES = {**TUTORIAL_EXERCISES, **COURSE}


def get(name: str):
    """The module of the exercise called ``name``."""
    if name not in EXERCISES:
        raise KeyError(f"no exercise named {name!r}; the exercises are {list(EXERCISES)}")
    return EXERCISES[name]


def solution_source(name: str) -> str:
    """The source code of the reference solution of exercise ``name`` (of each of its parts, when the
    exercise has several)."""
    solution = get(name).SOLUTION
    parts = solution if isinstance(solution, tuple) else (solution,)
    return "\n\n".join(inspect.getsource(part) for part in parts)


def show_solution(name: str) -> None:
    """Print the reference solution of exercise ``name`` (try your own first)."""
    module = get(name)
    where = f"tutorial {module.TUTORIAL}" if module.TUTORIAL else "course exercise"
    print(f"# the reference solution of {module.__name__} ({where})")
    print(solution_source(name))


__all__ = [
    "COURSE",
    "EXERCISES",
    "TUTORIAL_EXERCISES",
    "CheckResult",
    "Report",
    "activations_backward",
    "adam_step",
    "ap_over_hits",
    "cross_entropy",
    "embedding_backward",
    "get",
    "item_biases",
    "linear_layer",
    "linear_tower",
    "mrr",
    "ndcg",
    "next_item_pairs",
    "popularity_negatives",
    "run_checks",
    "show_solution",
    "softmax_backward",
    "solution_source",
    "tanh_backward",
]
