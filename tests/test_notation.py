"""docs/notation.md holds together: its table lists each symbol once, and a few of its rules that can
be checked mechanically hold in the docstrings and comments of tinyrec and in the documents."""

from __future__ import annotations

import ast
import functools
import io
import re
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTATION = ROOT / "docs" / "notation.md"
HEADER = ["symbol", "meaning", "shape / type", "where"]

# tinyrec/exercises/ is being rewritten in a separate change; its texts join the scan once that lands.
NOT_SCANNED = ()


def _cells(line: str) -> list[str]:
    """The cells of one markdown table row, splitting on the ``|`` that are not inside backticks."""
    cells, current, in_code = [], "", False
    for char in line.strip().strip("|"):
        if char == "`":
            in_code = not in_code
        if char == "|" and not in_code:
            cells.append(current.strip())
            current = ""
        else:
            current += char
    return [*cells, current.strip()]


def _table() -> list[list[str]]:
    """The rows of notation.md's table of symbols (the header and separator left out)."""
    lines = NOTATION.read_text(encoding="utf-8").splitlines()
    starts = [k for k, line in enumerate(lines) if line.startswith("|") and _cells(line) == HEADER]
    assert len(starts) == 1, f"docs/notation.md must hold one table with the header {HEADER}"
    rows = []
    for line in lines[starts[0] + 2 :]:
        if not line.startswith("|"):
            break
        rows.append(_cells(line))
    return rows


def _symbols(cell: str) -> list[str]:
    """The symbols a row defines: each backticked span of its first cell."""
    return re.findall(r"`([^`]+)`", cell)


def test_every_row_has_a_symbol_a_meaning_a_type_and_a_place():
    rows = _table()
    assert len(rows) >= 30, f"the table has only {len(rows)} rows"
    for row in rows:
        assert len(row) == len(HEADER), f"row {row[0]!r} has {len(row)} cells, not {len(HEADER)}"
        assert _symbols(row[0]), f"row {row} names no symbol in backticks"
        assert row[1], f"row {row[0]!r} gives no meaning"
        assert row[3], f"row {row[0]!r} does not say where the symbol is used"


def test_each_symbol_is_listed_once():
    seen: dict[str, str] = {}
    repeated = []
    for row in _table():
        for symbol in _symbols(row[0]):
            if symbol in seen:
                repeated.append(f"{symbol!r} in rows {seen[symbol]!r} and {row[0]!r}")
            seen.setdefault(symbol, row[0])
    assert not repeated, "symbols listed more than once in docs/notation.md:\n" + "\n".join(repeated)


def test_the_numbers_of_users_and_items_have_no_letter():
    symbols = {s for row in _table() for s in _symbols(row[0])}
    assert {"n_users", "n_items"} <= symbols
    assert "m" not in symbols, "the number of users is n_users, not m (docs/notation.md)"


# -- the rules checked in the texts ------------------------------------------------------------------

# Each rule: a pattern that only the wrong notation matches, and what to write instead.
RULES = {
    "a loss written L (write ℒ)": re.compile(r"[∂d]L/[∂d]|\bL\(θ|\bL = (?:\(1/|Σ|−|-|mean)"),
    "an (m, n) shape (m is not the number of users: write (n_users, n_items), or name the counts)": (
        re.compile(r"\(m, ?n\)")
    ),
    "an attention head's size written d (write d_k = E / H)": re.compile(r"\bd = E ?/ ?H|√d(?!_k)"),
    "a cut-off written K (write k)": re.compile(r"@K\b|\btop-K\b"),
}


def _python_texts(path: Path) -> list[tuple[int, str]]:
    """``(line, text)`` of every docstring and comment of a Python file."""
    source = path.read_text(encoding="utf-8")
    texts = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                if isinstance(first.value.value, str):
                    texts.append((first.lineno, first.value.value))
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            texts.append((token.start[0], token.string))
    return texts


@functools.cache  # read once for all the rules
def _scanned_texts() -> tuple[tuple[Path, int, str], ...]:
    """``(file, first line, text)`` of the docstrings and comments of tinyrec and the tutorials,
    README.md and docs/*.md."""
    texts = []
    for path in [*sorted((ROOT / "tinyrec").rglob("*.py")), *sorted((ROOT / "tutorials").glob("*.py"))]:
        if any(part in NOT_SCANNED for part in path.relative_to(ROOT).parts):
            continue
        texts += [(path, line, text) for line, text in _python_texts(path)]
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        texts.append((path, 1, path.read_text(encoding="utf-8")))
    return tuple(texts)


@pytest.mark.parametrize("rule", sorted(RULES))
def test_texts_follow_the_notation(rule):
    pattern = RULES[rule]
    offenders = []
    for path, first, text in _scanned_texts():
        for m in pattern.finditer(text):
            line = first + text.count("\n", 0, m.start())
            offenders.append(f"{path.relative_to(ROOT)}:{line}: ...{m.group(0)}...")
    assert not offenders, f"{rule}, see docs/notation.md:\n" + "\n".join(offenders)


@pytest.mark.parametrize(
    "rule, wrong, right",
    [
        ("a loss written L (write ℒ)", "dX = ∂L/∂X", "dX = ∂ℒ/∂X, a sequence of length L = 50"),
        ("a loss written L (write ℒ)", "L = (1/n) Σ_i ℓ_i", "for t = 1..L"),
        (
            "an (m, n) shape (m is not the number of users: write (n_users, n_items), or name the counts)",
            "R : (m, n)",
            "R : (n_users, n_items), out : (n, n_neg)",
        ),
        ("an attention head's size written d (write d_k = E / H)", "A = Q Kᵀ / √d", "A = Q Kᵀ / √d_k"),
        ("a cut-off written K (write k)", "NDCG@K", "NDCG@k, top-k"),
    ],
)
def test_each_rule_catches_what_it_is_for(rule, wrong, right):
    assert RULES[rule].search(wrong)
    assert not RULES[rule].search(right)
