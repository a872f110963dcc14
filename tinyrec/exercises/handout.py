"""Handing out exercises: one stub file per exercise, never a solution.

``tinyrec exercises new DIR`` calls :func:`write_handout`. Each exercise becomes ``DIR/<name>.py``:

1. the exercise's docstring (the task, the shapes, the math, the checks and their points);
2. ``import numpy as np`` and the imports its code needs, worked out from the names the code uses
   (``Module``, ``Embedding``, ...);
3. the code the student receives: the tutorial's given code (``TUTORIAL_CODE``) when there is
   some, else the stub(s) (``STUB``), under the names the grader looks for (``SUBMIT``);
4. how to check it.

Only those objects' source is written: the reference solution and the checks stay in tinyrec. A
student hands back the folder (or the files) and the instructor runs ``tinyrec grade``, which
finds each exercise in ``<name>.py``.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import os
import textwrap
import types
from pathlib import Path

from ..version import __version__
from .registry import get, parts


def handed_out(module) -> tuple:
    """The objects whose source a student receives for ``module``: the tutorial's given code, else
    the stub(s)."""
    return tuple(getattr(module, "TUTORIAL_CODE", None) or parts(module.STUB))


def _public_home(obj, name: str) -> str:
    """The shortest module path that exposes ``obj`` as ``name`` (``tinyrec.nn`` rather than
    ``tinyrec.nn.module``)."""
    home = obj.__module__
    pieces = home.split(".")
    for n in range(1, len(pieces) + 1):
        try:
            candidate = importlib.import_module(".".join(pieces[:n]))
        except ImportError:
            continue
        if getattr(candidate, name, None) is obj:
            return ".".join(pieces[:n])
    return home


def imports_for(module, sources) -> list[str]:
    """The import lines that the code ``sources`` needs, from the names it uses that ``module``'s
    globals define and the code does not define itself."""
    trees = [ast.parse(textwrap.dedent(source)) for source in sources]
    defined = {node.name for tree in trees for node in tree.body if hasattr(node, "name")}
    used = {node.id for tree in trees for node in ast.walk(tree) if isinstance(node, ast.Name)}
    plain, origins = set(), {}  # "import numpy as np"; {"tinyrec.nn": {"Module", ...}}
    for name in sorted(used - defined):
        obj = vars(module).get(name)
        if obj is None:
            continue  # a builtin, or a local name
        if isinstance(obj, types.ModuleType):
            plain.add(f"import {obj.__name__}" + (f" as {name}" if obj.__name__ != name else ""))
        elif getattr(obj, "__module__", None) and obj.__module__ != module.__name__:
            origins.setdefault(_public_home(obj, name), set()).add(name)
    return sorted(plain) + [
        f"from {home} import {', '.join(sorted(names))}" for home, names in sorted(origins.items())
    ]


def merge_imports(lines) -> list[str]:
    """Several :func:`imports_for` lists as one: each plain import once, one line per module."""
    plain, origins = set(), {}
    for line in lines:
        if line.startswith("from "):
            home, names = line[len("from ") :].split(" import ")
            origins.setdefault(home, set()).update(names.split(", "))
        else:
            plain.add(line)
    return sorted(plain) + [
        f"from {home} import {', '.join(sorted(names))}" for home, names in sorted(origins.items())
    ]


def stub_file(module) -> str:
    """The text of the file a student receives for the exercise ``module``."""
    sources = [inspect.getsource(obj) for obj in handed_out(module)]
    doc = inspect.getdoc(module) or f"Exercise {module.NAME}."
    submit = getattr(module, "SUBMIT", None) or tuple(s.__name__ for s in parts(module.STUB))
    lines = [
        ('r"""' if "\\" in doc else '"""') + doc + '\n"""',
        "",
        f"# Handed out by tinyrec {__version__}. Write {', '.join(submit)} in this file, then check it:",
        f"#     tinyrec grade {module.NAME}.py --exercise {module.NAME}",
        "",
        *merge_imports(["import numpy as np", *imports_for(module, sources)]),  # NumPy: always at hand
        "",
    ]
    for source in sources:
        lines += ["", textwrap.dedent(source).rstrip(), ""]
    for name, stub in zip(submit, parts(module.STUB), strict=True):
        if name != stub.__name__:  # the grader looks the code up under SUBMIT's names
            lines += [f"{name} = {stub.__name__}", ""]
    return "\n".join(lines).rstrip() + "\n"


def write_handout(folder, names, *, overwrite: bool = False) -> list[Path]:
    """Write ``<name>.py`` for each exercise of ``names`` into ``folder`` (made if need be), and a
    ``README.md`` that lists them; returns the paths written.

    A file that exists is refused unless ``overwrite`` (a student's work may be in it). Each file is
    written through a temporary file and renamed, so a failure leaves no half-written file.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"{folder} is a file; give a folder (it is made if need be)")
    modules = [get(name) for name in names]
    targets = [folder / f"{m.NAME}.py" for m in modules] + [folder / "README.md"]
    if not overwrite:
        taken = [str(p) for p in targets if p.exists()]
        if taken:
            raise FileExistsError(
                f"{', '.join(taken)} already exist(s); choose an empty folder, or overwrite"
            )
    folder.mkdir(parents=True, exist_ok=True)
    texts = [stub_file(m) for m in modules] + [_readme(modules)]
    for path, text in zip(targets, texts, strict=True):
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    return targets


def _readme(modules) -> str:
    from .checking import points_of

    rows = "\n".join(
        f"| `{m.NAME}.py` | {(inspect.getdoc(m) or f'Exercise {m.NAME}.').splitlines()[0]} | "
        f"{sum(points_of(c) for c in m.CHECKS)} |"
        for m in modules
    )
    return (
        "# Exercises\n\n"
        "Each file states its task, the shapes and the math, and holds the code to complete (each\n"
        "`raise NotImplementedError` is yours to replace). Check one file as you go with\n"
        "`tinyrec grade FILE --exercise NAME`, or the whole folder with\n"
        f"`tinyrec grade . --exercise {','.join(m.NAME for m in modules)}`.\n\n"
        f"| file | task | points |\n|---|---|---|\n{rows}\n"
    )
