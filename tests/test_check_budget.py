"""The checks stay at the boundary: a reader of tinyrec's core meets math, not argument checking.

A *check line* is a line of

* a ``raise`` statement (all its lines),
* the condition of an ``if`` (or ``elif``) whose body only raises, or of an ``except`` that only
  re-raises,
* a statement that calls a function named ``check*``, ``_check*``, ``require*`` or ``validate*``;

a *code line* is any other line that is not blank, a comment or a docstring. In each of the four
places below, check lines must stay at most 10% of code lines. Modules whose job is checking (the
declared input specs, hyperparameter and file schemas) are set aside, each with its reason, in
``CHECKING_MODULES``; everything else in a place counts.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLACES = ["tinyrec/nn", "tinyrec/optim", "tinyrec/losses", "tinyrec/models"]
BUDGET = 0.10

#: path -> why the module is set aside (its job is checking)
CHECKING_MODULES = {
    "tinyrec/nn/spec.py": "the declared input specs of the layers and the one function that checks them",
    "tinyrec/models/checks.py": "the shared boundary checks of the Recommender API",
    "tinyrec/models/persistence.py": (
        "the declared schema of a recommender's model-file sections and the checks of an untrusted file "
        "against it and against the model before anything is rebuilt: hyperparameters, array layout and "
        "dtypes, invariants, network shapes"
    ),
    "tinyrec/losses/checks.py": (
        "the declared input specs of the losses (Scores, Target, Logits, Classes), the one function that "
        "checks a call against them, and the shared checks of a loss's weights, reduction and grad_output"
    ),
    "tinyrec/optim/spec.py": (
        "what an optimizer accepts, declared once (each optimizer's hyperparameter rules and relations, "
        "its options without a lazy form, the state_dict layout's nodes), and the functions that check "
        "against it: a group's hyperparameters, the params argument, each gradient at step()"
    ),
}

_CHECK_CALL = re.compile(r"_*(check|require|validate)")


def _docstring_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                if isinstance(first.value.value, str):
                    lines.update(range(first.lineno, first.end_lineno + 1))
    return lines


def _is_check_call(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return bool(_CHECK_CALL.match(name))


_COMPOUND = (
    ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If, ast.For, ast.While, ast.With, ast.Try
)  # fmt: skip


def count_lines(source: str) -> tuple[int, int]:
    """``(check_lines, code_lines)`` of one module's source, by the definition above."""
    tree = ast.parse(source)
    text = source.splitlines()
    docs = _docstring_lines(tree)
    code = {n for n, line in enumerate(text, 1) if line.strip() and not line.strip().startswith("#")} - docs
    checks: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise):
            checks.update(range(node.lineno, node.end_lineno + 1))
        elif isinstance(node, (ast.If, ast.ExceptHandler)):
            if all(isinstance(s, ast.Raise) for s in node.body):
                checks.update(range(node.lineno, node.body[0].lineno))
        elif isinstance(node, ast.stmt) and not isinstance(node, _COMPOUND):
            if any(_is_check_call(n) for n in ast.walk(node)):
                checks.update(range(node.lineno, node.end_lineno + 1))
    return len(checks & code), len(code)


def _modules(place: str) -> list[Path]:
    path = ROOT / place
    files = sorted(path.rglob("*.py")) if path.is_dir() else [path.with_suffix(".py")]
    return [f for f in files if f.relative_to(ROOT).as_posix() not in CHECKING_MODULES]


def test_the_counter_counts_what_it_says():
    source = '''
"""Docstring."""
def f(x, y):
    """Docstring."""
    if x < 0:
        raise ValueError(
            "x must be >= 0"
        )
    check_positive(y, "y")
    # a comment
    return x + y
'''
    assert count_lines(source) == (5, 7)  # the if, the three raise lines, the check call; of 7


def test_every_checking_module_exists():
    for path in CHECKING_MODULES:
        assert (ROOT / path).is_file(), f"{path} is listed as a checking module but does not exist"


@pytest.mark.parametrize("place", PLACES)
def test_check_lines_are_at_most_ten_percent(place):
    rows = []
    total_checks = total_code = 0
    for module in _modules(place):
        checks, code = count_lines(module.read_text())
        total_checks += checks
        total_code += code
        rows.append(f"{checks:5d} / {code:5d}  {module.relative_to(ROOT)}")
    assert total_code, f"{place} has no code"
    share = total_checks / total_code
    table = "\n".join(rows)
    assert share <= BUDGET, (
        f"{place}: {total_checks} check lines of {total_code} code lines ({share:.1%}) exceed "
        f"{BUDGET:.0%}; move the checks to the boundary (a spec or a checking module):\n{table}"
    )
