"""Every ``tutorials/*.py`` runs as a script and is a valid jupytext percent-format notebook.

New tutorials are picked up automatically (parametrized by file name). A tutorial that reads
MovieLens also runs without it (no ``$TINYREC_DATA``, an empty cache), on its synthetic fallback,
since its text must hold for both: that run is the one with the exercise's reference solution
injected (tests/exercises/test_tutorials_graded.py), so that each tutorial runs twice, not three
times. Each exercise's stub stays in its tutorial and is checked by
``tinyrec.exercises`` there; the solutions live in ``tinyrec/exercises/`` only
(``tests/exercises/`` tests them and checks that each tutorial shows its module's stub).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TUTORIALS = sorted((REPO / "tutorials").glob("[0-9]*.py"))
HEADER = (
    "# ---\n"
    "# jupyter:\n"
    "#   jupytext:\n"
    "#     text_representation:\n"
    "#       extension: .py\n"
    "#       format_name: percent\n"
    "# ---\n"
)
#: seconds: a guard against a hang, not a speed test (each tutorial runs in well under a minute on
#: a quiet machine, but several times longer on a loaded one; how long is never asserted)
TIMEOUT = 900
#: the tutorials that load MovieLens, and fall back to a synthetic data set without it
WITH_FALLBACK = [p for p in TUTORIALS if "movielens(" in p.read_text(encoding="utf-8")]


def test_tutorials_are_found():
    assert any(p.name.startswith("01_") for p in TUTORIALS), f"no tutorials found in {REPO / 'tutorials'}"


def _env() -> dict[str, str]:
    env = dict(os.environ)  # TINYREC_DATA and the rest pass through
    env["MPLBACKEND"] = "Agg"  # plots render off-screen
    # the repository first on the path, so a tutorial imports this checkout's tinyrec
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def _run(path: Path, env: dict[str, str]) -> str:
    """Run ``path`` as a script; return its stdout, after checking that it exited cleanly."""
    result = subprocess.run(
        [sys.executable, str(path)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert result.returncode == 0, (
        f"{path.name} exited with {result.returncode}\n--- stdout (tail)\n{result.stdout[-3000:]}"
        f"\n--- stderr (tail)\n{result.stderr[-3000:]}"
    )
    assert result.stdout.strip(), f"{path.name} printed nothing; tutorials print their results"
    return result.stdout


@pytest.mark.slow
@pytest.mark.parametrize("path", TUTORIALS, ids=lambda p: p.name)
def test_tutorial_runs_as_a_script(path):
    out = _run(path, _env())
    assert "not implemented yet" in out, f"{path.name} does not print the check of its exercise's stub"


def fallback_env(cache) -> dict[str, str]:
    """The environment of a machine without MovieLens: no ``$TINYREC_DATA``, an empty cache."""
    env = _env()
    env.pop("TINYREC_DATA", None)
    env["TINYREC_CACHE"] = str(cache)  # an empty cache (the tutorials never download)
    return env


def test_some_tutorials_have_a_synthetic_fallback():
    assert WITH_FALLBACK, "no tutorial reads MovieLens: the fallback runs test nothing"


def _cells(text: str) -> list[tuple[str, str]]:
    """``(kind, body)`` of each percent-format cell: kind is "markdown" or "code"."""
    parts = re.split(r"^# %%(.*)$", text, flags=re.MULTILINE)
    # parts = [header, marker1, body1, marker2, body2, ...]
    return [
        ("markdown" if "[markdown]" in marker else "code", body)
        for marker, body in zip(parts[1::2], parts[2::2], strict=True)
    ]


@pytest.mark.parametrize("path", TUTORIALS, ids=lambda p: p.name)
def test_tutorial_is_percent_format_with_an_exercise(path):
    text = path.read_text(encoding="utf-8")
    assert text.startswith(HEADER), f"{path.name} must start with the jupytext percent header"
    cells = _cells(text)
    kinds = [kind for kind, _ in cells]
    assert "markdown" in kinds and "code" in kinds, f"{path.name} needs markdown and code cells"
    for kind, body in cells:
        if kind == "markdown":
            lines = [line for line in body.splitlines() if line.strip()]
            assert all(line.startswith("#") for line in lines), (
                f"{path.name}: a markdown cell has a line that is not a comment: {body[:200]!r}"
            )
    assert any(kind == "markdown" and re.search(r"your turn", body, re.IGNORECASE) for kind, body in cells), (
        f"{path.name} needs a 'Your turn' exercise in a markdown cell"
    )


@pytest.mark.parametrize("path", TUTORIALS, ids=lambda p: p.name)
def test_tutorial_reads_as_a_notebook_with_jupytext(path):
    try:
        import jupytext
    except ImportError:
        pytest.skip("jupytext is not installed (the format is still checked by the test above)")
    notebook = jupytext.read(path)
    kinds = {cell.cell_type for cell in notebook.cells}
    assert {"code", "markdown"} <= kinds, f"{path.name} read by jupytext has cells of kinds {kinds}"
    assert notebook.metadata["jupytext"]["text_representation"]["format_name"] == "percent"


@pytest.mark.parametrize("path", TUTORIALS, ids=lambda p: p.name)
def test_the_exercise_is_checked_and_its_solution_is_elsewhere(path):
    cells = _cells(path.read_text(encoding="utf-8"))
    code = "".join(body for kind, body in cells if kind == "code")
    markdown = "".join(body for kind, body in cells if kind == "markdown")
    checked = re.findall(r"tinyrec\.exercises\.(\w+)\.check\(", code)
    assert checked, f"{path.name}: no cell runs tinyrec.exercises.<name>.check on the exercise"
    for name in set(checked):
        assert f'show_solution("{name}")' in markdown, f"{path.name} does not say where {name}'s solution is"
    solution_cell = re.search(r"^# *#+ *Solution", markdown, re.MULTILINE)
    assert not solution_cell, f"{path.name} still has a Solution cell"


@pytest.mark.parametrize("path", TUTORIALS, ids=lambda p: p.name)
def test_the_text_states_no_running_time(path):
    markdown = "".join(body for kind, body in _cells(path.read_text(encoding="utf-8")) if kind == "markdown")
    found = re.findall(r"few seconds|under a minute|in a minute|takes about", markdown, re.IGNORECASE)
    assert not found, f"{path.name} states a running time as a fact: {found}; print a measured time instead"
