"""tinyrec.exercises.grading: full marks for the references, 0 with a clear message for each way a
submission can break (the other exercises graded as usual), folders, the JSON and Gradescope
formats. Student code runs in child processes only; the time limits here are short."""

from __future__ import annotations

import inspect
import json
import os
import sys
import textwrap

import pytest

import tinyrec.exercises as exercises
from tinyrec.exercises import adam_step
from tinyrec.exercises.checking import FAILED, NOT_IMPLEMENTED, NOT_RUN, PASSED, points_of
from tinyrec.exercises.grading import Grader, locate, reference_submission

ADAM = inspect.getsource(adam_step.SOLUTION) + "\n\nmy_adam_step = solution_adam_step\n"
HEADER = "import os\nimport numpy as np\n\n"


@pytest.fixture(scope="module")
def grader():
    return Grader(["ndcg", "adam_step"], time_limit=2.0, memory_limit=512 * 1024**2)


def _write(folder, name, text):
    path = folder / name
    path.write_text(HEADER + textwrap.dedent(text) + "\n" + ADAM, encoding="utf-8")
    return path


BROKEN = {
    "import_error": ("import no_such_module_anywhere\n", "raised ModuleNotFoundError (line 4)"),
    "exception_at_import": (
        "raise RuntimeError('half-written')\n",
        "raised RuntimeError (line 4): half-written",
    ),
    "infinite_loop": (
        "def my_ndcg(scores, relevance, k):\n    while True:\n        pass\n",
        "ran longer than the time limit (2 s) and was stopped",
    ),
    "abort": ("def my_ndcg(scores, relevance, k):\n    os.abort()\n", "ended by SIGABRT (os.abort()"),
    "ten_gigabytes": (
        "def my_ndcg(scores, relevance, k):\n    return float(np.ones(10 * 1024**3, dtype=np.uint8).sum())\n",
        "exceeded the memory limit (0.5 GiB): MemoryError",
    ),
}


@pytest.mark.parametrize("mode", list(BROKEN))
def test_a_broken_exercise_gets_0_with_a_clear_message_and_the_others_are_graded(grader, tmp_path, mode):
    if mode == "abort" and sys.platform == "win32":
        pytest.skip("a POSIX signal")
    if mode == "ten_gigabytes" and not sys.platform.startswith("linux"):
        pytest.skip("RLIMIT_AS is enforced on Linux")
    code, words = BROKEN[mode]
    report = grader.grade(_write(tmp_path, f"{mode}.py", code))
    ndcg, adam = report.grade("ndcg"), report.grade("adam_step")
    assert ndcg.score == 0 and words in ndcg.failure, ndcg.failure
    assert all(r.status == NOT_RUN for r in ndcg.checks)
    if mode in ("import_error", "exception_at_import"):  # the whole file failed to import
        assert adam.score == 0 and words in adam.failure
    else:
        assert adam.score == adam.max_score == 10, str(report)
    assert words in str(report)


def test_an_exception_in_every_check_is_said_once_with_its_line(grader, tmp_path):
    path = _write(tmp_path, "raises.py", "def my_ndcg(scores, relevance, k):\n    return 1 / 0\n")
    report = grader.grade(path)
    ndcg = report.grade("ndcg")
    assert ndcg.score == 0 and not ndcg.failure
    assert all(r.status == FAILED for r in ndcg.checks)
    assert (
        ndcg.summary()
        == "every check failed: raised ZeroDivisionError: division by zero (line 5 of raises.py)"
    )
    assert report.grade("adam_step").score == 10


def test_student_code_never_runs_in_the_grader_s_process(grader, tmp_path):
    marker = tmp_path / "pids.txt"
    code = f"""
        import tinyrec.exercises.ndcg as exercise
        exercise.SOLUTION = lambda scores, relevance, k: 0.0  # an attempt to change the reference
        with open({str(marker)!r}, "a") as f:
            f.write(str(os.getpid()) + "\\n")
        def my_ndcg(scores, relevance, k):
            return 0.0
    """
    grader.grade(_write(tmp_path, "sneaky.py", code))
    pids = {int(line) for line in marker.read_text().split()}
    assert pids and os.getpid() not in pids
    assert exercises.ndcg.SOLUTION is exercises.ndcg.solution_ndcg


def test_the_references_get_full_marks_on_the_course(tmp_path):
    path = tmp_path / "reference.py"
    path.write_text(reference_submission(), encoding="utf-8")
    report = Grader(time_limit=30).grade(path)
    assert [g.exercise for g in report.grades] == list(exercises.COURSE)
    total = sum(points_of(c) for m in exercises.COURSE.values() for c in m.CHECKS)
    assert report.score == report.max_score == total >= 67, str(report)


def test_the_stubs_get_0_and_not_implemented(grader, tmp_path):
    source = "\n\n".join(inspect.getsource(m.STUB) for m in (exercises.ndcg, adam_step))
    path = tmp_path / "stubs.py"
    path.write_text("import numpy as np\n\n" + source, encoding="utf-8")
    report = grader.grade(path)
    assert report.score == 0
    for grade in report.grades:
        assert (
            all(r.status == NOT_IMPLEMENTED for r in grade.checks)
            and grade.summary() == "not implemented yet"
        )


def test_a_wrong_solution_loses_marks_with_its_feedback(grader, tmp_path):
    code = """
        def my_ndcg(scores, relevance, k):
            order = np.lexsort((-relevance, -scores))  # optimistic ties
            k = min(k, scores.shape[1])
            discounts = 1.0 / np.log2(np.arange(2, k + 2))
            dcg = np.take_along_axis(relevance, order, axis=1)[:, :k] @ discounts
            idcg = -np.sort(-relevance, axis=1)[:, :k] @ discounts
            return float(np.mean(dcg[idcg > 0] / idcg[idcg > 0]))
    """
    report = grader.grade(_write(tmp_path, "optimistic.py", code))
    ndcg = report.grade("ndcg")
    assert 0 < ndcg.score < ndcg.max_score
    failed = {r.name for r in ndcg.checks if r.status == FAILED}
    assert failed == {"ties_are_pessimistic", "matches_tinyrec_on_random_cases"}
    assert "[FAIL] ties_are_pessimistic (2 points)" in str(report) and "pessimistic ties" in str(report)


def test_a_folder_is_graded_file_by_exercise(grader, tmp_path):
    (tmp_path / "ndcg.py").write_text(
        "import numpy as np\n\ndef my_ndcg(scores, relevance, k):\n    return 0.5\n"
    )
    (tmp_path / "optimizer.py").write_text("import numpy as np\n\n" + ADAM)
    (tmp_path / "notes.py").write_text("this is not python (\n")
    report = grader.grade(tmp_path)
    assert report.grade("adam_step").score == 10 and report.grade("adam_step").file.endswith("optimizer.py")
    assert report.grade("ndcg").file.endswith("ndcg.py") and 0 <= report.grade("ndcg").score < 12


def test_a_folder_without_the_exercise_names_what_is_missing(grader, tmp_path):
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "b.py").write_text("this is not python (\n")
    file, reason = locate(tmp_path, exercises.ndcg)
    assert file is None and "defines my_ndcg" in reason and "do not parse: b.py" in reason
    report = grader.grade(tmp_path)
    assert report.grade("ndcg").score == 0 and "defines my_ndcg" in report.grade("ndcg").failure


def test_a_folder_without_a_py_file_says_so(grader, tmp_path):
    (tmp_path / "notes.txt").write_text("my answers are in my head\n")
    report = grader.grade(tmp_path)
    assert report.score == 0
    assert all(f"{tmp_path} holds no .py file: hand in {g.exercise}.py" in g.failure for g in report.grades)


def test_a_name_missing_from_a_file_is_named(grader, tmp_path):
    path = tmp_path / "only_adam.py"
    path.write_text("import numpy as np\n\n" + ADAM)
    grade = grader.grade(path).grade("ndcg")
    assert grade.failure == "only_adam.py defines no my_ndcg; this exercise needs my_ndcg"


def test_several_submissions_in_parallel(tmp_path):
    good = tmp_path / "good.py"
    good.write_text("import numpy as np\n\n" + ADAM)
    bad = _write(tmp_path, "bad.py", "def my_adam_step(*args, **kwargs):\n    while True:\n        pass\n")
    bad.write_text(HEADER + "def my_adam_step(*args, **kwargs):\n    while True:\n        pass\n")
    reports = Grader(["adam_step"], time_limit=1.0, workers=2).grade_many([good, bad, good])
    assert [r.score for r in reports] == [10, 0, 10]
    assert "time limit" in reports[1].grade("adam_step").failure


def test_as_json_holds_every_check(grader, tmp_path):
    report = grader.grade(_write(tmp_path, "s.py", "def my_ndcg(scores, relevance, k):\n    return 1.0\n"))
    data = json.loads(json.dumps(report.as_json()))
    assert data["score"] == report.score and data["max_score"] == 22
    assert [e["exercise"] for e in data["exercises"]] == ["ndcg", "adam_step"]
    for exercise in data["exercises"]:
        assert exercise["score"] == sum(c["score"] for c in exercise["checks"])
        for c in exercise["checks"]:
            assert set(c) == {"name", "status", "score", "max_score", "message"}
            assert c["status"] in (PASSED, FAILED, NOT_IMPLEMENTED, NOT_RUN)


# Gradescope's autograder results.json (https://gradescope-autograders.readthedocs.io/en/latest/specs/):
# top-level "score" (required when the tests carry no score), "execution_time", "output", "visibility",
# "stdout_visibility", "extra_data", "tests", "leaderboard"; each test "score", "max_score", "status",
# "name", "name_format", "number", "output", "output_format", "tags", "visibility", "extra_data".
TOP_LEVEL = {"score": float, "execution_time": (int, float), "output": str, "tests": list, "extra_data": dict}
TEST = {"score": float, "max_score": float, "status": str, "name": str, "number": str, "output": str}


def test_results_json_follows_gradescope_s_format(grader, tmp_path):
    report = grader.grade(_write(tmp_path, "s.py", "def my_ndcg(scores, relevance, k):\n    os.abort()\n"))
    results = json.loads(json.dumps(report.gradescope()))
    assert set(results) == set(TOP_LEVEL)
    for key, kind in TOP_LEVEL.items():
        assert isinstance(results[key], kind), key
    assert len(results["tests"]) == len(exercises.ndcg.CHECKS) + len(adam_step.CHECKS)
    for test in results["tests"]:
        assert set(test) == set(TEST)
        for key, kind in TEST.items():
            assert isinstance(test[key], kind), key
        assert 0 <= test["score"] <= test["max_score"] and test["status"] in ("passed", "failed")
    assert results["score"] == sum(t["score"] for t in results["tests"]) == 10.0
    assert results["extra_data"]["max_score"] == sum(t["max_score"] for t in results["tests"]) == 22.0
    first = results["tests"][0]
    assert first["name"] == "ndcg: returns_a_float" and first["number"] == "1.1"
    assert first["output"].startswith("not run: the process running your code was ended by SIGABRT")


def test_a_grader_refuses_an_unknown_exercise_and_bad_submissions(grader, tmp_path):
    with pytest.raises(KeyError, match="no exercise named 'nope'"):
        Grader(["nope"])
    with pytest.raises(FileNotFoundError, match="no submission at"):
        grader.grade(tmp_path / "missing.py")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ValueError, match="a .py file or a folder"):
        grader.grade(tmp_path / "notes.txt")


def test_describe_difference_points_at_the_entry_that_differs_with_enough_digits():
    import numpy as np

    from tinyrec.exercises.checking import describe_difference

    inf, nan = float("inf"), float("nan")
    assert describe_difference([inf, 1.0], [inf, 2.0]) == "at [1] yours is 1, expected 2 (off by 1)"
    assert describe_difference([nan, 3.0, 0.0], [nan, 3.0, inf]) == "at [2] yours is 0, expected inf"
    # 6 digits would print both as 1: more are printed, and the gap
    assert describe_difference(np.array([1.0 + 1e-9]), np.array([1.0])) == (
        "at [0] yours is 1.000000001, expected 1 (off by 1e-09)"
    )
