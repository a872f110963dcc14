"""docs/metrics.md's mapping table and tests/libraries/ stay in sync.

Every row of the table names the test that verifies it (``test_<library>.py::test_name``): that test
must exist, and every test of tests/libraries/ must back at least one row, so a row cannot outlive
its test nor a test its row. Runs without any of the libraries.
"""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "metrics.md"
HERE = Path(__file__).resolve().parent
LIBRARIES = ("scikit-learn", "ranx", "trec_eval", "torchmetrics", "RecBole", "Surprise", "implicit")


def _rows() -> list[tuple[str, list[str]]]:
    """``(library, cells)`` of each row of the tables under "## The mapping table"."""
    section = DOC.read_text(encoding="utf-8").split("## The mapping table", 1)[1].split("\n## ", 1)[0]
    rows, library = [], None
    for line in section.splitlines():
        if line.startswith("### "):
            library = line[4:].strip()
        elif line.startswith("|") and not set(line) <= set("|- ") and not line.startswith("| their "):
            rows.append((library, [cell.strip() for cell in line.strip().strip("|").split("|")]))
    return rows


def _tests_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    functions = [node.name for node in tree.body if isinstance(node, ast.FunctionDef)]
    return {name for name in functions if name.startswith("test_")}


def test_every_library_has_a_table():
    headings = {library.split()[0] for library, _ in _rows()}
    assert headings == set(LIBRARIES)


def test_every_row_names_a_test_that_exists():
    for library, cells in _rows():
        assert len(cells) == 4 and cells[0] and cells[2], f"{library}: a row needs 4 cells: {cells}"
        cited = re.fullmatch(r"`(test_\w+\.py)::(test_\w+)`", cells[3])
        assert cited, f"{library}: the row {cells[0]!r} names no test (`test_file.py::test_name`)"
        file, name = cited.groups()
        assert (HERE / file).is_file(), f"{library}: {file} does not exist in tests/libraries/"
        assert name in _tests_of(HERE / file), f"{library}: {file} has no test {name}"


def test_every_library_test_backs_a_row():
    cited = {cells[3].strip("`") for _, cells in _rows()}
    for path in sorted(HERE.glob("test_*.py")):
        if path.name == Path(__file__).name:
            continue
        missing = sorted(f"{path.name}::{n}" for n in _tests_of(path) if f"{path.name}::{n}" not in cited)
        assert not missing, f"tests that back no row of docs/metrics.md's table: {missing}"
