"""A class folder made from the reference solutions and typical wrong variants, and the grades it
must get: for tests/exercises/test_classroom.py and benchmarks/bench_grade.py.

Each wrong variant is the reference's source with one edit (the edit must apply), so a student's
file reads like a real one. The expected grades come from running the same code in this process.
"""

from __future__ import annotations

import inspect
import textwrap
from collections import Counter
from pathlib import Path

import numpy as np

from tinyrec.exercises import adam_step, ndcg, run_checks
from tinyrec.exercises.checking import FAILED, PASSED
from tinyrec.exercises.handout import stub_file

EXERCISES = ("ndcg", "adam_step")
MODULES = {"ndcg": ndcg, "adam_step": adam_step}
NAMES = {"ndcg": "my_ndcg", "adam_step": "my_adam_step"}

#: exercise -> variant -> (old text, new text) applied to the reference's source; None: the reference
EDITS = {
    "ndcg": {
        "right": None,
        "optimistic_ties": ("np.lexsort((relevance, -scores))", "np.lexsort((-relevance, -scores))"),
        "discount_off_by_one": ("np.arange(2, k + 2)", "np.arange(3, k + 3)"),
    },
    "adam_step": {
        "right": None,
        "no_bias_correction": ("m_hat = m / (1 - beta1**t)", "m_hat = m"),
        "eps_inside_the_root": ("np.sqrt(v_hat) + eps", "np.sqrt(v_hat + eps)"),
    },
}


def code_of(exercise: str, variant: str) -> str:
    """The source of ``my_<exercise>`` in ``variant`` (``"stub"``, ``"right"`` or a wrong one)."""
    module = MODULES[exercise]
    if variant == "stub":
        return inspect.getsource(module.STUB)
    source = inspect.getsource(module.SOLUTION)
    edit = EDITS[exercise][variant]
    if edit is not None:
        old, new = edit
        if old not in source:
            raise AssertionError(f"the edit {variant!r} no longer applies to {exercise}'s reference")
        source = source.replace(old, new)
    return source.replace(module.SOLUTION.__name__, NAMES[exercise])


def file_text(variants: dict) -> str:
    """A student's file: ``variants`` maps each exercise to a variant (missing: not handed in)."""
    body = "\n\n".join(code_of(e, v) for e, v in variants.items())
    return "import numpy as np\n\n\n" + textwrap.dedent(body)


def expected_report(variants: dict):
    """In this process: {exercise: Report} of the code ``variants`` describes."""
    namespace = {}
    exec(compile(file_text(variants), "<expected>", "exec"), namespace)  # noqa: S102 (our own text)
    return {e: run_checks(e, namespace[NAMES[e]], MODULES[e].CHECKS) for e in variants}


def write_class(folder: Path, n: int, seed: int = 0):
    """Write ``n`` submissions into ``folder`` and return ``(scores, failed)``: every student's
    expected total, and per ``(exercise, check)`` how many students fail it (their code ran).

    Students draw each exercise's variant at random (the reference half the time); one in ten
    hands in the stubs as given (``tinyrec exercises new``), one in twenty a file that does not
    parse, and some hand in a folder with one file per exercise.
    """
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    cache, scores, failed = {}, [], Counter()
    for i in range(n):
        kind = rng.random()
        name = f"student_{i:03d}"
        if kind < 0.05:
            (folder / f"{name}.py").write_text("def my_ndcg(scores, relevance, k)\n    return 0\n")
            scores.append(0)
            continue
        if kind < 0.15:
            student = folder / name
            student.mkdir()
            for e in EXERCISES:
                (student / f"{e}.py").write_text(stub_file(MODULES[e]), encoding="utf-8")
            scores.append(0)
            continue
        variants = {}
        for e in EXERCISES:
            options = list(EDITS[e])
            variants[e] = "right" if rng.random() < 0.5 else options[int(rng.integers(1, len(options)))]
        key = tuple(variants.values())
        if key not in cache:
            cache[key] = expected_report(variants)
        reports = cache[key]
        if rng.random() < 0.3:  # a folder, one file per exercise
            student = folder / name
            student.mkdir()
            for e, v in variants.items():
                (student / f"{e}.py").write_text(file_text({e: v}), encoding="utf-8")
        else:
            (folder / f"{name}.py").write_text(file_text(variants), encoding="utf-8")
        scores.append(sum(r.score for r in reports.values()))
        for e, report in reports.items():
            for r in report.results:
                failed[(e, r.name)] += r.status == FAILED
                assert r.status in (PASSED, FAILED), r
    return scores, failed
