"""The tutorials' "Your turn", graded both ways CI needs.

* **As a student receives them**: tests/test_tutorials.py runs each tutorial as it is; the check of
  the exercise's stub reports "not implemented yet" (0 points) and the script does not fail.
* **With the reference solution injected**: here. The check cell of each exercise,
  ``report = tinyrec.exercises.<name>.check(<candidate>)``, gets the line
  ``<candidate> = tinyrec.exercises.<name>.SOLUTION`` before it and ``assert report.ok`` after it;
  the rewritten tutorial runs as a script, to its end (the cells after the exercise run on the
  reference), and must print full marks for its exercise. A tutorial that reads MovieLens runs
  here on its synthetic fallback (no ``$TINYREC_DATA``, an empty cache) and must say so: the
  student's run has the real data, this one the fallback, so both data paths are run.

The rewritten copy is written to a temporary folder; the tutorial itself is never changed.
"""

from __future__ import annotations

import re

import pytest

import tinyrec.exercises as exercises
from tests.test_tutorials import TUTORIALS, WITH_FALLBACK, _env, _run, fallback_env

CHECK_CELL = re.compile(r"^report = tinyrec\.exercises\.(\w+)\.check\((\w+)\)$", re.MULTILINE)


def with_the_solution(text: str) -> tuple[str, list[str]]:
    """``text`` with the reference injected before each exercise's check; the exercises' names."""
    names = []

    def inject(match):
        name, candidate = match.group(1), match.group(2)
        names.append(name)
        return (
            f"{candidate} = tinyrec.exercises.{name}.SOLUTION  # the reference, injected by the test\n"
            f"{match.group(0)}\n"
            f"assert report.ok, report"
        )

    return CHECK_CELL.sub(inject, text), names


def test_every_tutorial_has_one_check_cell_to_inject_into():
    for path in TUTORIALS:
        _, names = with_the_solution(path.read_text(encoding="utf-8"))
        assert len(names) == 1 and names[0] in exercises.TUTORIAL_EXERCISES, (path.name, names)


@pytest.mark.slow
@pytest.mark.parametrize("path", TUTORIALS, ids=lambda p: p.name)
def test_the_tutorial_with_the_reference_injected_gets_full_marks(path, tmp_path):
    text, (name,) = with_the_solution(path.read_text(encoding="utf-8"))
    script = tmp_path / path.name
    script.write_text(text, encoding="utf-8")
    on_fallback = path in WITH_FALLBACK
    out = _run(script, fallback_env(tmp_path / "cache") if on_fallback else _env())
    if on_fallback:
        assert "synthetic" in out.lower(), f"{path.name} did not say that it fell back to synthetic data"
    n = len(exercises.get(name).CHECKS)
    assert re.search(rf"^{name} \(\w+\): all {n} checks passed$", out, re.MULTILINE), out[-2000:]
    assert "not implemented yet" not in out
