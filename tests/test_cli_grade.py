"""``tinyrec grade``: the report, --json, --results-json (Gradescope), --exercise, the limits, and the
errors (one line, status 2)."""

from __future__ import annotations

import inspect
import json

import pytest

from tinyrec.cli import main
from tinyrec.cli.grade import parse_size
from tinyrec.exercises import COURSE, adam_step, ndcg
from tinyrec.exercises.checking import points_of
from tinyrec.exercises.grading import reference_submission

ADAM = (
    "import numpy as np\n\n" + inspect.getsource(adam_step.SOLUTION) + "\nmy_adam_step = solution_adam_step\n"
)


@pytest.fixture
def adam_only(tmp_path):
    path = tmp_path / "alice.py"
    path.write_text(ADAM, encoding="utf-8")
    return path


def test_grade_prints_points_per_exercise_and_exits_0(capsys, adam_only):
    assert main(["grade", str(adam_only), "--exercise", "adam_step,ndcg", "--time-limit", "20"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{adam_only}: 10 of 22 points"
    assert out[1].split()[:3] == ["adam_step", "10/10", "all"]
    assert out[2].split()[:2] == ["ndcg", "0/12"] and "alice.py defines no my_ndcg" in out[2]


def test_grade_defaults_to_the_course_and_gives_the_reference_full_marks(capsys, tmp_path):
    path = tmp_path / "reference.py"
    path.write_text(reference_submission(), encoding="utf-8")
    assert main(["grade", str(path), "--json", "--workers", "2"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [e["exercise"] for e in data["exercises"]] == list(COURSE)
    total = sum(points_of(c) for m in COURSE.values() for c in m.CHECKS)
    assert data["score"] == data["max_score"] == total >= 67


def test_results_json_is_written_for_gradescope(capsys, tmp_path, adam_only):
    results = tmp_path / "results" / "results.json"
    results.parent.mkdir()
    argv = [
        "grade",
        str(adam_only),
        "--exercise",
        "ndcg",
        "--exercise",
        "adam_step",
        "--results-json",
        str(results),
    ]
    assert main(argv) == 0
    data = json.loads(results.read_text(encoding="utf-8"))
    assert data["score"] == 10.0 and data["extra_data"]["max_score"] == 22.0
    assert {t["name"].split(":")[0] for t in data["tests"]} == {"ndcg", "adam_step"}
    assert all({"name", "score", "max_score", "output"} <= set(t) for t in data["tests"])
    assert [p.name for p in results.parent.iterdir()] == ["results.json"]  # no temporary file left


@pytest.mark.parametrize(
    "extra, words",
    [
        (["--exercise", "nope"], "unknown exercise 'nope'; the exercises are: tanh_backward"),
        (["--memory-limit", "3X"], "--memory-limit '3X' is not a size"),
        (["--time-limit", "0"], "--time-limit must be a number of seconds > 0"),
        (["--workers", "0"], "--workers must be a positive integer"),
        (["--exercise", ","], "--exercise ',' names no exercise"),
        (["--results-json", "/no/such/folder/results.json"], "the folder /no/such/folder does not exist"),
    ],
)
def test_bad_options_are_one_line_errors(capsys, adam_only, extra, words):
    assert main(["grade", str(adam_only), *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tinyrec: error: ") and words in err and len(err.strip().splitlines()) == 1


def test_a_missing_submission_is_an_error(capsys, tmp_path):
    assert main(["grade", str(tmp_path / "nobody.py")]) == 2
    assert "no submission at" in capsys.readouterr().err


def test_the_help_lists_the_exercises(capsys):
    with pytest.raises(SystemExit):
        main(["grade", "--help"])
    out = capsys.readouterr().out
    for name in COURSE:
        assert name in out
    assert "--results-json" in out and "Gradescope" in out
    assert ndcg.__doc__.splitlines()[0].removeprefix("Course exercise: ") in out


@pytest.mark.parametrize(
    "text, size",
    [("512M", 512 * 1024**2), ("2G", 2 * 1024**3), ("2GiB", 2 * 1024**3), ("1000", 1000), ("none", None)],
)
def test_sizes(text, size):
    assert parse_size(text) == size


def test_exercises_new_into_a_file_is_a_one_line_error(capsys, tmp_path):
    taken = tmp_path / "week1"
    taken.write_text("not a folder\n", encoding="utf-8")
    assert main(["exercises", "new", str(taken)]) == 2
    err = capsys.readouterr().err
    assert "week1 is a file; give a folder" in err and "--force" not in err
