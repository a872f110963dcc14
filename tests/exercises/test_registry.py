"""tinyrec.exercises as a whole: the registry, show_solution, the report, the checks' contract, and
the stubs that the tutorials show."""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np
import pytest

import tinyrec.exercises as exercises
from tinyrec.exercises.checking import FAILED, NOT_IMPLEMENTED, PASSED, run_checks

TUTORIALS = Path(__file__).resolve().parents[2] / "tutorials"
MODULES = list(exercises.EXERCISES.values())
TUTORIAL_MODULES = list(exercises.TUTORIAL_EXERCISES.values())


def test_the_registry_lists_one_exercise_per_tutorial_in_order():
    assert list(exercises.TUTORIAL_EXERCISES) == [
        "tanh_backward",
        "popularity_negatives",
        "mrr",
        "item_biases",
        "softmax_backward",
        "linear_tower",
        "next_item_pairs",
        "ap_over_hits",
        "threshold_metrics",
    ]
    assert [m.TUTORIAL[:2] for m in TUTORIAL_MODULES] == [f"{n:02d}" for n in range(1, 10)]


def test_the_course_exercises_follow_the_tutorials():
    assert list(exercises.COURSE) == [
        "linear_layer",
        "activations_backward",
        "cross_entropy",
        "embedding_backward",
        "adam_step",
        "ndcg",
        "bce_with_logits",
        "sgd_momentum_step",
        "sampled_hit_rate",
        "bpr_loss",
        "funk_svd_update",
        "sample_negatives",
        "user_knn",
        "lazy_adam",
        "als_biases",
        "gru_cell_backward",
        "attention_backward",
    ]
    assert list(exercises.EXERCISES) == [*exercises.TUTORIAL_EXERCISES, *exercises.COURSE]
    assert all(m.TUTORIAL is None for m in exercises.COURSE.values())


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.NAME)
def test_each_module_names_its_parts(module):
    assert module is getattr(exercises, module.NAME) is exercises.get(module.NAME)
    assert module.__doc__ and "Task" in module.__doc__ and "Shapes" in module.__doc__
    assert module.STUB is not module.SOLUTION
    if module.TUTORIAL is not None:
        assert (TUTORIALS / f"{module.TUTORIAL}.py").is_file()
        assert module.STUB in module.TUTORIAL_CODE
    assert module.CHECKS and all(callable(c) for c in module.CHECKS)
    assert len({c.__name__ for c in module.CHECKS}) == len(module.CHECKS)
    for check in module.CHECKS:  # the candidate is a check's only argument
        assert list(inspect.signature(check).parameters) == [next(iter(inspect.signature(check).parameters))]
        assert module.__doc__.count(f"``{check.__name__}``") == 1, f"{check.__name__} is not listed"


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.NAME)
def test_the_checks_print_nothing(module, capsys):
    module.check(module.STUB)
    module.check(module.SOLUTION)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.NAME)
def test_each_check_passes_the_solution_and_stops_the_stub(module):
    for check in module.CHECKS:
        assert check(module.SOLUTION) is None
        with pytest.raises(NotImplementedError):
            check(module.STUB)


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.NAME)
def test_the_checks_are_repeatable(module):
    first, second = module.check(module.SOLUTION), module.check(module.SOLUTION)
    assert first == second


@pytest.mark.parametrize("module", TUTORIAL_MODULES, ids=lambda m: m.NAME)
def test_the_tutorial_shows_the_stub_and_runs_the_check(module):
    text = (TUTORIALS / f"{module.TUTORIAL}.py").read_text(encoding="utf-8")
    for obj in module.TUTORIAL_CODE:
        assert inspect.getsource(obj) in text, f"{obj.__name__} differs in {module.TUTORIAL}"
    assert f"tinyrec.exercises.{module.NAME}.check(" in text
    assert f'show_solution("{module.NAME}")' in text
    assert module.SOLUTION.__name__ not in text, f"{module.TUTORIAL} names the reference solution"


def test_show_solution_prints_the_solution_s_source(capsys):
    exercises.show_solution("mrr")
    out = capsys.readouterr().out
    assert "def solution_mrr(scores, relevance):" in out
    assert out.strip().endswith(inspect.getsource(exercises.mrr.SOLUTION).strip())
    assert exercises.solution_source("mrr") in out


def test_show_solution_prints_every_part_of_a_course_exercise(capsys):
    exercises.show_solution("activations_backward")
    out = capsys.readouterr().out
    assert out.startswith(
        "# the reference solution of tinyrec.exercises.activations_backward (course exercise)"
    )
    for part in exercises.activations_backward.SOLUTION:
        assert inspect.getsource(part) in out


def test_an_unknown_exercise_is_named():
    with pytest.raises(KeyError, match="tanh_backward"):
        exercises.show_solution("tanh")


def _passes(candidate):
    pass


def _fails(candidate):
    raise AssertionError("the values are wrong. Hint: look again")


def _not_written(candidate):
    raise NotImplementedError("your turn: write it")


def _breaks(candidate):
    raise ValueError("the shapes (2,) and (3,) do not match")


def test_the_report_records_each_outcome():
    report = run_checks("demo", np.mean, [_passes, _fails, _not_written, _breaks])
    assert [r.status for r in report.results] == [PASSED, FAILED, NOT_IMPLEMENTED, FAILED]
    assert not report.ok and not report.implemented
    assert report.candidate == "mean" and report.exercise == "demo"
    assert report.result("_breaks").message.startswith("raised ValueError: the shapes (2,) and (3,)")
    text = str(report)
    assert text.splitlines()[0] == "demo (mean): not implemented yet (1 of 4 checks passed)"
    assert "[pass] _passes" in text and "[FAIL] _fails: the values are wrong" in text
    assert "[todo] _not_written: not implemented yet (your turn: write it)" in text
    with pytest.raises(KeyError, match="_passes"):
        report.result("nothing")


def test_a_report_of_a_stub_is_one_line_and_its_message():
    report = run_checks("demo", np.mean, [_not_written, _not_written])
    assert str(report) == "demo (mean): not implemented yet (0 of 2 checks passed)\n  your turn: write it"


def test_a_report_of_failures_counts_them():
    report = run_checks("demo", np.mean, [_passes, _fails])
    assert report.implemented and not report.ok
    assert report.summary() == "demo (mean): 1 of 2 checks failed"
    assert run_checks("demo", np.mean, [_passes]).summary() == "demo (mean): all 1 checks passed"


def test_keyboard_interrupt_is_not_swallowed():
    def interrupted(candidate):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_checks("demo", np.mean, [interrupted])


def _two_points(candidate):
    pass


_two_points.points = 2


def test_points_add_up_to_the_score():
    from tinyrec.exercises.checking import points, points_of

    worth_three = points(3)(lambda candidate: None)
    assert points_of(worth_three) == 3 and points_of(_passes) == 1
    report = run_checks("demo", np.mean, [_two_points, _fails, worth_three, _not_written])
    assert [r.points for r in report.results] == [2, 1, 3, 1]
    assert [r.score for r in report.results] == [2, 0, 3, 0]
    assert (report.score, report.max_score) == (5, 7)
    with pytest.raises(ValueError, match="whole number of points"):
        points(0)


@pytest.mark.parametrize("module", list(exercises.COURSE.values()), ids=lambda m: m.NAME)
def test_a_course_exercise_names_what_a_submission_defines(module):
    names = getattr(module, "SUBMIT", None)
    assert names and all(isinstance(n, str) for n in names)
    stub = module.STUB if len(names) > 1 else (module.STUB,)
    assert [obj.__name__ for obj in stub] == list(names)
    if len(names) > 1:
        assert module.CANDIDATE(*stub) == module.STUB
    assert module.check(module.SOLUTION).score == module.check(module.SOLUTION).max_score > 0
    assert module.check(module.STUB).score == 0
    for check in module.CHECKS:  # each check's points are in the module's docstring
        assert f"``{check.__name__}``" in module.__doc__
