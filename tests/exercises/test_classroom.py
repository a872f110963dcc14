"""Grading a class folder: a folder generated from the references, typical wrong variants, the stubs
and a file that does not parse; the class report must give each student the grade the same code
gets in this process, the right score distribution and the right failure count per check."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from tinyrec.cli import main
from tinyrec.exercises.classroom import ClassReport, grade_class, submissions_in

from .class_folder import EXERCISES, write_class


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("class")
    expected_scores, expected_failed = write_class(folder, 24, seed=3)
    report = grade_class(folder, list(EXERCISES), workers=2, time_limit=30)
    return folder, expected_scores, expected_failed, report


def test_every_student_gets_the_grade_of_the_same_code_run_in_process(graded):
    _, expected_scores, _, report = graded
    assert [r.score for r in report.reports] == expected_scores
    assert report.max_score == 22
    assert len(set(expected_scores)) >= 4  # the folder holds a spread of grades, not one


def test_the_distribution_and_the_failure_counts_are_right(graded):
    _, expected_scores, expected_failed, report = graded
    assert report.distribution == dict(sorted(Counter(expected_scores).items()))
    tallies = {(t.exercise, t.check): t for t in report.tallies()}
    for key, n in expected_failed.items():
        assert tallies[key].failed == n, key
    nothing = sum(1 for s in expected_scores if s == 0)  # the stubs and the file that does not parse
    assert all(t.nothing == nothing for t in tallies.values())
    failed = [t.failed for t in report.tallies()]
    assert failed == sorted(failed, reverse=True) and failed[0] > 0  # most often failed first
    assert tallies[("ndcg", "ties_are_pessimistic")].failed > 0


def test_the_summary_prints_the_distribution_and_the_worst_checks(graded):
    _, expected_scores, _, report = graded
    text = str(report)
    assert text.splitlines()[0] == f"{len(expected_scores)} submissions, 22 points each"
    for score, count in Counter(expected_scores).items():
        assert any(line.split()[:2] == [f"{score}/22", str(count)] for line in text.splitlines())
    worst = report.tallies()[0]
    assert f"{worst.exercise}: {worst.check}" in text.split("checks most often failed")[1]


def test_the_class_json_holds_every_student_and_the_summary(graded):
    _, expected_scores, _, report = graded
    data = json.loads(json.dumps(report.as_json()))
    assert data["students"] == len(expected_scores) and data["max_score"] == 22
    assert {d["score"]: d["students"] for d in data["distribution"]} == dict(Counter(expected_scores))
    assert [s["score"] for s in data["submissions"]] == expected_scores
    assert {"exercise", "check", "points", "failed", "nothing"} <= set(data["checks"][0])


def test_tinyrec_grade_class_prints_the_summary_and_json(graded, capsys):
    folder, expected_scores, _, _ = graded
    argv = ["grade", str(folder), "--class", "--exercise", "ndcg,adam_step", "--workers", "2", "--json"]
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    assert [s["score"] for s in data["submissions"]] == expected_scores


def test_a_class_folder_lists_files_and_folders_and_refuses_an_empty_one(tmp_path, capsys):
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "b").mkdir()
    (tmp_path / "notes.txt").write_text("not a submission\n")
    (tmp_path / ".hidden").mkdir()
    assert [p.name for p in submissions_in(tmp_path)] == ["a.py", "b"]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="holds no submission"):
        submissions_in(empty)
    assert main(["grade", str(empty), "--class"]) == 2
    assert "holds no submission" in capsys.readouterr().err


def test_a_class_report_of_one_perfect_student_has_nothing_to_flag(tmp_path):
    from tinyrec.exercises.grading import reference_submission

    (tmp_path / "alice.py").write_text(reference_submission(["ndcg"]), encoding="utf-8")
    report = grade_class(tmp_path, ["ndcg"], workers=1, time_limit=30)
    assert isinstance(report, ClassReport) and report.distribution == {12: 1}
    assert "none: every student whose code ran passed every check" in str(report)


@pytest.mark.slow
def test_a_class_of_200_reports_the_right_distribution(tmp_path):
    # a class of 200; its time is measured by benchmarks/bench_grade_class.py
    expected_scores, expected_failed = write_class(tmp_path / "class", 200, seed=0)
    report = grade_class(tmp_path / "class", list(EXERCISES), workers=2, time_limit=60)
    assert report.scores == expected_scores
    assert report.distribution == dict(sorted(Counter(expected_scores).items()))
    tallies = {(t.exercise, t.check): t.failed for t in report.tallies()}
    assert all(tallies[key] == n for key, n in expected_failed.items())
