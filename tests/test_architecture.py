"""The layering of the package (docs/architecture.md): no import cycle, no import from a layer above.

Every ``import`` statement of every module under ``tinyrec/`` is read, those inside functions
included (an import hidden in a function body still ties the two modules together), and resolved
to the tinyrec module it names. Two rules:

* no module imports a module of a higher layer (the table ``LAYERS`` below, lowest first);
* the graph of imports between modules has no cycle.

A package's ``__init__`` belongs to its package's layer; importing ``tinyrec.x`` does not count
as importing ``tinyrec/__init__.py`` (Python runs it first, but that is not a dependency the
code states).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "tinyrec"

#: lowest first; a module may import its own layer and the layers below it
LAYERS = [
    ("foundation", ["tinyrec.errors", "tinyrec.validation", "tinyrec.version", "tinyrec.limits",
                    "tinyrec.modelfile"]),
    ("kernels", ["tinyrec.kernels", "tinyrec.threads"]),
    ("nn", ["tinyrec.nn"]),
    ("losses, optim", ["tinyrec.losses", "tinyrec.optim", "tinyrec.gradcheck"]),
    ("data, metrics", ["tinyrec.data", "tinyrec.metrics"]),
    ("evaluation", ["tinyrec.evaluation", "tinyrec.adapters"]),
    ("train", ["tinyrec.train", "tinyrec.progress"]),
    ("models", ["tinyrec.models"]),
    ("io", ["tinyrec.io"]),
    ("testing, exercises", ["tinyrec.testing", "tinyrec.exercises"]),
    ("cli", ["tinyrec.cli", "tinyrec.__main__", "tinyrec"]),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer_of(name: str) -> int:
    """The index in LAYERS of the longest prefix that names ``name``'s layer."""
    best, best_len = None, -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (name == prefix or name.startswith(prefix + ".")) and len(prefix) > best_len:
                best, best_len = index, len(prefix)
    if best is None:
        raise AssertionError(f"{name} is in no layer of tests/test_architecture.py's LAYERS")
    return best


def _resolve(importer: str, is_package: bool, node: ast.AST) -> list[str]:
    """The tinyrec modules an import statement of ``importer`` names."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if alias.name.split(".")[0] == "tinyrec"]
    if node.level:  # relative: from .x import y / from .. import z
        base = importer.split(".") if is_package else importer.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    if target.split(".")[0] != "tinyrec":
        return []
    # "from package import name": name may be a submodule; else it is an attribute of target
    named = [f"{target}.{alias.name}" for alias in node.names]
    return [n if n in MODULES else target for n in named]


def imports() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        targets: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                targets.update(_resolve(name, path.name == "__init__.py", node))
        graph[name] = {t for t in targets if t != name and t in MODULES}
    return graph


GRAPH = imports()


def test_every_module_has_a_layer():
    for name in MODULES:
        layer_of(name)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_import_from_a_higher_layer(name):
    mine = layer_of(name)
    upward = sorted(t for t in GRAPH[name] if layer_of(t) > mine)
    assert not upward, (
        f"{name} (layer {LAYERS[mine][0]!r}) imports {upward} from a higher layer; move the shared "
        f"piece down, or the importing code up (docs/architecture.md)"
    )


def test_no_import_cycle():
    # depth-first search; a back edge closes a cycle
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    stack: list[str] = []
    cycles = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(GRAPH[node]):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(GRAPH):
        if node not in state:
            visit(node)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_the_resolver_sees_imports_inside_functions():
    source = "def f():\n    from ..io import save\n"
    node = next(n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.ImportFrom))
    assert _resolve("tinyrec.models.base", False, node) == ["tinyrec.io"]
