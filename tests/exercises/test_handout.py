"""``tinyrec exercises new DIR``: one stub file per exercise, never a solution. Every written file is
read and no line of any reference solution that the student must write appears in it; the files
import, and graded as handed out they score 0 as "not implemented yet"."""

from __future__ import annotations

import inspect
import textwrap

import pytest

import tinyrec.exercises as exercises
from tinyrec.cli import main
from tinyrec.exercises.checking import NOT_IMPLEMENTED
from tinyrec.exercises.grading import Grader
from tinyrec.exercises.handout import handed_out, stub_file, write_handout
from tinyrec.exercises.registry import parts


def _code_lines(source: str) -> set[str]:
    """The lines of code of ``source`` (docstrings and comments left out), whitespace removed."""
    import ast

    tree = ast.parse(textwrap.dedent(source))
    docstrings = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            if isinstance(getattr(body[0], "value", None), ast.Constant):
                docstrings.update(range(body[0].lineno, body[0].end_lineno + 1))
    lines = textwrap.dedent(source).splitlines()
    code = set()
    for number, line in enumerate(lines, start=1):
        text = "".join(line.split("#")[0].split())
        if number not in docstrings and text:
            code.add(text)
    return code


def _answer_lines(module) -> set[str]:
    """The lines of the reference solution that no handed-out code holds (``rng = ...`` may be given
    code in another exercise): the answer."""
    given = set().union(
        *(_code_lines(inspect.getsource(obj)) for m in exercises.EXERCISES.values() for obj in handed_out(m))
    )
    solution = set().union(*(_code_lines(inspect.getsource(obj)) for obj in parts(module.SOLUTION)))
    return {line for line in solution - given if len(line) >= 12}


@pytest.fixture(scope="module")
def handout(tmp_path_factory):
    folder = tmp_path_factory.mktemp("handout")
    return folder, write_handout(folder, list(exercises.EXERCISES))


def test_one_file_per_exercise_and_a_readme(handout):
    folder, written = handout
    assert sorted(p.name for p in written) == sorted([f"{n}.py" for n in exercises.EXERCISES] + ["README.md"])
    readme = (folder / "README.md").read_text()
    for name in exercises.EXERCISES:
        assert f"`{name}.py`" in readme


def test_no_file_holds_any_reference_solution(handout):
    _, written = handout
    texts = {p.name: p.read_text(encoding="utf-8") for p in written}
    squeezed = {
        name: {"".join(line.split("#")[0].split()) for line in text.splitlines()}
        for name, text in texts.items()
    }
    for name, module in exercises.EXERCISES.items():
        answer = _answer_lines(module)
        assert len(answer) >= 1, name  # the test has something to look for
        for solution in parts(module.SOLUTION):
            for file, text in texts.items():
                assert solution.__name__ not in text, (name, file)
        for file, lines in squeezed.items():
            leaked = answer & lines
            assert not leaked, f"{file} holds lines of {name}'s reference solution: {leaked}"


def test_each_file_is_the_task_the_imports_and_the_stub(handout):
    folder, _ = handout
    for name, module in exercises.EXERCISES.items():
        text = (folder / f"{name}.py").read_text(encoding="utf-8")
        assert text.removeprefix("r").startswith('"""' + inspect.getdoc(module).splitlines()[0])
        for stub in parts(module.STUB):
            assert textwrap.dedent(inspect.getsource(stub)).strip() in text
        assert "NotImplementedError" in text
        compile(text, name, "exec")


def test_the_handout_imports_and_grades_as_not_implemented(handout):
    folder, _ = handout
    report = Grader(list(exercises.EXERCISES), time_limit=60, workers=2).grade(folder)
    for grade in report.grades:
        assert grade.failure == "" and grade.score == 0, (grade.exercise, grade.summary())
        assert any(r.status == NOT_IMPLEMENTED for r in grade.checks), grade.exercise


def test_a_stub_file_with_the_solution_pasted_in_gets_full_marks(tmp_path):
    # what a student's finished file looks like: the handout, the stub replaced by working code
    from tinyrec.exercises import ndcg

    text = stub_file(ndcg) + "\n\n" + inspect.getsource(ndcg.SOLUTION) + "\nmy_ndcg = solution_ndcg\n"
    (tmp_path / "ndcg.py").write_text(text, encoding="utf-8")
    report = Grader(["ndcg"], time_limit=60).grade(tmp_path)
    assert report.score == report.max_score == 12


def test_tinyrec_exercises_new_writes_the_course_and_refuses_to_overwrite(tmp_path, capsys):
    folder = tmp_path / "week1"
    assert main(["exercises", "new", str(folder)]) == 0
    assert capsys.readouterr().out.split() == [str(folder / f"{n}.py") for n in exercises.COURSE] + [
        str(folder / "README.md")
    ]
    (folder / "ndcg.py").write_text("# a student's work\n")
    assert main(["exercises", "new", str(folder)]) == 2
    assert "already exist" in capsys.readouterr().err
    assert (folder / "ndcg.py").read_text() == "# a student's work\n"
    assert main(["exercises", "new", str(folder), "--exercise", "ndcg", "--force"]) == 0
    assert "my_ndcg" in (folder / "ndcg.py").read_text()


def test_tinyrec_exercises_new_picks_exercises_and_refuses_unknown_ones(tmp_path, capsys):
    assert main(["exercises", "new", str(tmp_path / "w"), "--exercise", "mrr,tanh_backward"]) == 0
    assert sorted(p.name for p in (tmp_path / "w").iterdir()) == ["README.md", "mrr.py", "tanh_backward.py"]
    capsys.readouterr()
    assert main(["exercises", "new", str(tmp_path / "x"), "--exercise", "nope"]) == 2
    assert "unknown exercise 'nope'" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_tinyrec_exercises_list_names_every_exercise_with_its_points(capsys):
    assert main(["exercises", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(exercises.EXERCISES)
    assert any(line.split()[:3] == ["ndcg", "12", "pts"] for line in lines)
