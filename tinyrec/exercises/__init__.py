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
``threshold_metrics``     09           a purchase model's accuracy, precision, recall, F1
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
``bce_with_logits``       a stable binary cross-entropy on logits and its gradient
``sgd_momentum_step``     one step of SGD with momentum (heavy ball, Nesterov), weight decay
``sampled_hit_rate``      HR@k of a held-out item among sampled negatives, pessimistic ties
``bpr_loss``              the BPR loss of MF and its gradient into both tables, repeated ids
``funk_svd_update``       one SGD update of Funk SVD (biased MF) on one rating
``sample_negatives``      distinct uniform negatives per user, never a positive
``user_knn``              user-based k-NN prediction with cosine similarity
``lazy_adam``             one lazy (row-sparse) Adam step, as torch's SparseAdam
``als_biases``            user and item biases by alternating least squares
``gru_cell_backward``     the backward pass of one GRU step (torch's gates)
``attention_backward``    the backward of causal scaled dot-product attention
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

The registry is public (:mod:`tinyrec.exercises.registry`): an instructor writes an exercise as a
module of their own with ``NAME``, ``STUB``, ``SOLUTION`` and ``CHECKS``, and :func:`register`
(or :func:`load`, for a file or a folder of them) adds it to :data:`EXERCISES` and
:data:`COURSE`, where ``tinyrec grade`` and ``tinyrec exercises new`` find it
(``--exercises-from PATH``). docs/teaching.md walks through one.
"""

from __future__ import annotations

import inspect

from . import (
    activations_backward,
    adam_step,
    als_biases,
    ap_over_hits,
    attention_backward,
    bce_with_logits,
    bpr_loss,
    cross_entropy,
    embedding_backward,
    funk_svd_update,
    gru_cell_backward,
    item_biases,
    lazy_adam,
    linear_layer,
    linear_tower,
    mrr,
    ndcg,
    next_item_pairs,
    popularity_negatives,
    sample_negatives,
    sampled_hit_rate,
    sgd_momentum_step,
    softmax_backward,
    tanh_backward,
    threshold_metrics,
    user_knn,
)
from .checking import CheckResult, Report, points, run_checks
from .registry import COURSE, EXERCISES, get, load, register, validate

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
        threshold_metrics,
    )  # fmt: skip
}
#: name -> module of the course exercises, in the order of the course (and any registered)
COURSE.update(
    (module.NAME, module)
    for module in (
        linear_layer, activations_backward, cross_entropy, embedding_backward, adam_step, ndcg,
        bce_with_logits, sgd_momentum_step, sampled_hit_rate, bpr_loss, funk_svd_update, sample_negatives,
        user_knn, lazy_adam, als_biases, gru_cell_backward, attention_backward,
    )  # fmt: skip
)
#: name -> module of every exercise: the tutorials' first, then the course's (and any registered)
EXERCISES.update({**TUTORIAL_EXERCISES, **COURSE})


def solution_source(name: str) -> str:
    """The source code of the reference solution of exercise ``name`` (of each of its parts, when the
    exercise has several)."""
    solution = get(name).SOLUTION
    parts = solution if isinstance(solution, tuple) else (solution,)
    return "\n\n".join(inspect.getsource(part) for part in parts)


def show_solution(name: str) -> None:
    """Print the reference solution of exercise ``name`` (try your own first)."""
    module = get(name)
    where = f"tutorial {module.TUTORIAL}" if getattr(module, "TUTORIAL", None) else "course exercise"
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
    "als_biases",
    "ap_over_hits",
    "attention_backward",
    "bce_with_logits",
    "bpr_loss",
    "cross_entropy",
    "embedding_backward",
    "funk_svd_update",
    "get",
    "gru_cell_backward",
    "item_biases",
    "lazy_adam",
    "linear_layer",
    "linear_tower",
    "load",
    "mrr",
    "ndcg",
    "next_item_pairs",
    "points",
    "popularity_negatives",
    "register",
    "run_checks",
    "sample_negatives",
    "sampled_hit_rate",
    "sgd_momentum_step",
    "show_solution",
    "softmax_backward",
    "solution_source",
    "tanh_backward",
    "threshold_metrics",
    "user_knn",
    "validate",
]
