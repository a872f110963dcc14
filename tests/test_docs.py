"""The documents hold together: no file cites a document outside the repository, and every
relative link of README.md and docs/*.md points at a file that exists."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tracked_text_files() -> list[Path]:
    try:
        names = subprocess.run(
            ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.split()
    except (OSError, subprocess.CalledProcessError):  # not a git checkout: every text file
        names = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*") if p.is_file() and ".git" not in p.parts]
    return [ROOT / n for n in names if Path(n).suffix in {".py", ".md", ".toml", ".txt", ".cfg", ""}]


def test_no_file_cites_a_document_outside_the_repository():
    outside = re.compile(r"DESIGN\.md|\.\./shared/[A-Za-z_]+\.md")
    offenders = []
    for path in _tracked_text_files():
        if path.is_file() and path.name != "test_docs.py":
            text = path.read_text(errors="replace")
            offenders += [f"{path.relative_to(ROOT)}: {m.group(0)}" for m in outside.finditer(text)]
    assert not offenders, "documents outside the repository are cited:\n" + "\n".join(offenders)


@pytest.mark.parametrize("doc", ["README.md", *sorted(p.name for p in (ROOT / "docs").glob("*.md"))])
def test_relative_links_resolve(doc):
    path = ROOT / doc if doc == "README.md" else ROOT / "docs" / doc
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", path.read_text())
    missing = [link for link in links if "://" not in link and not (path.parent / link).exists()]
    assert not missing, f"{doc} links to files that do not exist: {missing}"


#: the last commit before the rule "a subject line of at most 72 characters" was kept
RULE_SINCE = "da12515"


def test_commit_subjects_are_at_most_72_characters():
    try:
        log = subprocess.run(
            ["git", "log", "--format=%h %s", f"{RULE_SINCE}..HEAD"], cwd=ROOT, capture_output=True, text=True
        )
    except OSError:
        pytest.skip("git is not available")
    if log.returncode != 0:
        pytest.skip(f"not a git checkout holding {RULE_SINCE} (a shallow clone or an export)")
    long = [line for line in log.stdout.splitlines() if len(line.split(" ", 1)[1]) > 72]
    why = "commit subjects longer than 72 characters (put the detail in the body):\n"
    assert not long, why + "\n".join(long)


def _readme_example() -> tuple[str, list[str]]:
    """README's "An example": its Python code, and the output lines it promises (a comment line
    ``# {...}`` right under a ``print`` line)."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## An example", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    lines = code.splitlines()
    pairs = zip(lines, lines[1:], strict=False)
    promised = [nxt[2:] for line, nxt in pairs if line.startswith("print(") and nxt.startswith("# {")]
    return code, promised


@pytest.mark.slow  # trains NeuMF for 5 epochs: about 15 s
def test_readme_example_runs_and_prints_what_it_says(tmp_path, monkeypatch, capsys):
    import doctest

    code, promised = _readme_example()
    assert promised, "README's example promises no printed output to check"
    monkeypatch.chdir(tmp_path)  # it saves neumf.npz
    exec(compile(code, "README.md (An example)", "exec"), {"__name__": "readme_example"})
    printed = capsys.readouterr().out.splitlines()
    checker = doctest.OutputChecker()
    for want in promised:
        assert any(checker.check_output(want + "\n", got + "\n", doctest.ELLIPSIS) for got in printed), (
            f"README promises {want!r}; the example printed:\n" + "\n".join(printed)
        )
