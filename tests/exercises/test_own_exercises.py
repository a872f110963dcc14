"""The public registry: an instructor's exercise, written in a file of their own, is checked,
registered, handed out and graded (in forked, fork-server and spawned children) without editing
tinyrec; a bad spec is refused with the reason."""

from __future__ import annotations

import json
import textwrap
import types

import pytest

import tinyrec.exercises as exercises
from tinyrec.cli import main
from tinyrec.exercises import load, register, validate
from tinyrec.exercises.grading import Grader

# the example of docs/teaching.md ("Adding your own exercise")
OWN = textwrap.dedent('''
    """Exercise: the mean squared error and its gradient.

    Write ``my_mse(pred, target)``: return ``(loss, grad)`` with ``loss = mean((pred - target)**2)``
    and ``grad`` its gradient with respect to ``pred``, the shape of ``pred``.
    """

    import numpy as np

    from tinyrec.exercises import points, run_checks
    from tinyrec.exercises.checking import describe_difference, expect

    NAME = "mse"
    SUBMIT = ("my_mse",)


    def my_mse(pred, target):
        """``(loss, dℒ/dpred)`` of the mean squared error."""
        raise NotImplementedError("your turn: return (loss, grad)")


    def solution_mse(pred, target):
        diff = pred - target
        return float(np.mean(diff**2)), 2 * diff / diff.size


    STUB, SOLUTION = my_mse, solution_mse


    def loss_is_the_mean(fn):
        loss, _ = fn(np.array([1.0, 2.0]), np.array([0.0, 0.0]))
        expect(abs(loss - 2.5) < 1e-12, f"loss {loss}, expected 2.5. Hint: the mean, not the sum")


    @points(2)
    def gradient_is_right(fn):
        pred, target = np.array([[1.0, 2.0], [0.5, -1.0]]), np.zeros((2, 2))
        _, grad = fn(pred, target)
        expected = solution_mse(pred, target)[1]
        expect(np.allclose(grad, expected), "the gradient is wrong: " + describe_difference(grad, expected)
               + ". Hint: the mean divides by the number of entries")


    CHECKS = (loss_is_the_mean, gradient_is_right)


    def check(candidate):
        return run_checks(NAME, candidate, CHECKS)
''')

_MSE = "import numpy as np\n\ndef my_mse(pred, target):\n    d = pred - target\n"
_MSE += "    return float((d * d).mean()), "
RIGHT = _MSE + "2 * d / d.size\n"
SUM_GRADIENT = _MSE + "2 * d\n"  # the gradient of the sum


@pytest.fixture
def registry():
    """The registry as it was, restored after the test (a test's exercise must not leak)."""
    kept = dict(exercises.EXERCISES), dict(exercises.COURSE)
    yield
    for table, saved in zip((exercises.EXERCISES, exercises.COURSE), kept, strict=True):
        table.clear()
        table.update(saved)


@pytest.fixture
def course(tmp_path):
    folder = tmp_path / "my_course"
    folder.mkdir()
    (folder / "mse.py").write_text(OWN, encoding="utf-8")
    (folder / "_helpers.py").write_text("X = 1\n")  # skipped: a leading underscore
    return folder


def _student(tmp_path, text, name="alice.py"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_load_registers_the_exercise_in_the_course(registry, course):
    assert load(course) == ["mse"]
    assert "mse" in exercises.COURSE and exercises.get("mse").NAME == "mse"
    report = exercises.get("mse").check(exercises.get("mse").SOLUTION)
    assert report.score == report.max_score == 3


@pytest.mark.parametrize("method", ["fork", "forkserver", "spawn"])
def test_the_grader_grades_an_own_exercise_in_any_child(registry, course, tmp_path, method):
    if method not in __import__("multiprocessing").get_all_start_methods():
        pytest.skip(f"{method} is not available here")
    load(course)
    grader = Grader(["mse"], time_limit=120, start_method=method)
    right, wrong = grader.grade_many([_student(tmp_path, RIGHT), _student(tmp_path, SUM_GRADIENT, "bob.py")])
    assert right.score == right.max_score == 3
    assert wrong.score == 1
    assert "the mean divides by the number of entries" in wrong.grade("mse").checks[1].message


def test_tinyrec_grade_exercises_from_grades_the_own_exercises_by_default(registry, course, tmp_path, capsys):
    argv = ["grade", str(_student(tmp_path, SUM_GRADIENT)), "--exercises-from", str(course), "--json"]
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    assert [e["exercise"] for e in data["exercises"]] == ["mse"] and data["score"] == 1
    argv = ["grade", str(_student(tmp_path, RIGHT)), "--exercises-from", str(course / "mse.py"),
            "--exercise", "mse,adam_step", "--json"]  # fmt: skip
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(e["exercise"], e["score"]) for e in data["exercises"]] == [("mse", 3), ("adam_step", 0)]


def test_tinyrec_exercises_new_hands_out_an_own_exercise_without_its_solution(registry, course, tmp_path):
    assert main(["exercises", "new", str(tmp_path / "out"), "--exercises-from", str(course)]) == 0
    text = (tmp_path / "out" / "mse.py").read_text()
    assert "def my_mse(pred, target):" in text and "import numpy as np" in text
    assert "solution_mse" not in text and "2 * diff / diff.size" not in text and "CHECKS" not in text


def _spec(**attrs):
    module = types.ModuleType("spec_under_test")
    module.__dict__.update(attrs)
    return module


def _f(x):
    raise NotImplementedError


def _g(x):
    return x


def _check(fn):
    pass


@pytest.mark.parametrize(
    "attrs, words",
    [
        ({"NAME": "two words", "STUB": _f, "SOLUTION": _g, "CHECKS": (_check,)}, "NAME, an identifier"),
        ({"NAME": "x", "STUB": _f, "SOLUTION": _g}, "defines no CHECKS"),
        ({"NAME": "x", "STUB": _f, "SOLUTION": _g, "CHECKS": ()}, "non-empty tuple"),
        ({"NAME": "x", "STUB": (_f, _f), "SOLUTION": _g, "CHECKS": (_check,)}, "the same length"),
        ({"NAME": "x", "STUB": (_f, _f), "SOLUTION": (_g, _g), "CHECKS": (_check,)}, "needs CANDIDATE"),
        ({"NAME": "x", "STUB": _f, "SOLUTION": _g, "CHECKS": (_check, _check)}, "share a name"),
        ({"NAME": "x", "STUB": _f, "SOLUTION": _g, "CHECKS": (_check,), "SUBMIT": "f"}, "SUBMIT must be"),
    ],
    ids=["name", "no checks", "empty checks", "parts", "candidate", "same check twice", "submit"],
)
def test_a_bad_spec_is_refused_with_the_reason(attrs, words):
    with pytest.raises(ValueError, match=words):
        validate(_spec(**attrs))


def test_a_taken_name_and_a_non_module_are_refused(registry):
    with pytest.raises(ValueError, match="already an exercise named 'ndcg'"):
        register(_spec(NAME="ndcg", STUB=_f, SOLUTION=_g, CHECKS=(_check,)))
    with pytest.raises(ValueError, match="is a module"):
        register(types.SimpleNamespace(NAME="x", STUB=_f, SOLUTION=_g, CHECKS=(_check,)))
    spec = register(_spec(NAME="tiny", STUB=_f, SOLUTION=_g, CHECKS=(_check,)), course=False)
    assert exercises.EXERCISES["tiny"] is spec and "tiny" not in exercises.COURSE


def test_exercises_from_a_bad_path_is_a_one_line_error(registry, tmp_path, capsys):
    assert main(["grade", str(_student(tmp_path, RIGHT)), "--exercises-from", str(tmp_path / "nope")]) == 2
    assert "--exercises-from" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "helper.py").write_text("X = 1\n")
    assert main(["exercises", "list", "--exercises-from", str(tmp_path / "empty")]) == 2
    assert "defines an exercise" in capsys.readouterr().err


@pytest.mark.parametrize(
    "text, words",
    [
        ("def f(:\n", "importing it raised SyntaxError"),
        ("import no_such_module_of_tinyrec\n", "importing it raised ModuleNotFoundError"),
    ],
)
def test_exercises_from_a_file_that_does_not_import_is_a_one_line_error(
    registry, tmp_path, capsys, text, words
):
    bad = _student(tmp_path, text, name="broken.py")
    for argv in (["grade", str(bad)], ["exercises", "new", str(tmp_path / "out")], ["exercises", "list"]):
        assert main([*argv, "--exercises-from", str(bad)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("tinyrec: error: --exercises-from") and words in err
        assert "bug in tinyrec" not in err


def test_a_reference_short_of_full_marks_is_a_one_line_error(registry, course, tmp_path, capsys):
    (course / "mse.py").write_text(OWN.replace("np.mean(diff**2)", "np.sum(diff**2)"), encoding="utf-8")
    student = _student(tmp_path, RIGHT)
    for extra in ([], ["--class"]):
        target = str(tmp_path) if extra else str(student)
        assert main(["grade", target, "--exercises-from", str(course), *extra]) == 2
        err = capsys.readouterr().err
        assert "the reference solution of mse does not get full marks" in err and "bug in tinyrec" not in err


def test_an_own_exercise_without_a_docstring_is_handed_out(registry, course, tmp_path):
    (course / "mse.py").write_text(OWN.replace('"""Exercise: the mean', '"""\\nExercise: the mean', 1)
                                   .split('"""', 2)[2], encoding="utf-8")  # fmt: skip
    assert main(["exercises", "new", str(tmp_path / "out"), "--exercises-from", str(course)]) == 0
    assert "| `mse.py` | Exercise mse. |" in (tmp_path / "out" / "README.md").read_text(encoding="utf-8")
