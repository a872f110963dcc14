"""The exercise registry, public: an instructor adds exercises without editing tinyrec.

An **exercise spec** is a Python module with these attributes:

==============  ==========================================================================
``NAME``        the exercise's name, an identifier (``"ndcg"``)
``STUB``        what the student receives: a function or class whose body raises
                ``NotImplementedError`` (a tuple of them when the student writes several)
``SOLUTION``    the reference solution, the same shape as ``STUB``
``CHECKS``      a tuple of checks: functions of the candidate that raise ``AssertionError``
                with a message and a hint (``@points(n)`` from :mod:`~tinyrec.exercises.checking`
                makes one worth ``n`` points)
``SUBMIT``      optional: the names a submission defines (default: the stub's name)
``CANDIDATE``   optional, with several names: builds the one candidate the checks take
``TUTORIAL``    optional: the tutorial that shows the exercise (default ``None``)
==============  ==========================================================================

:func:`register` checks a spec and adds it to :data:`tinyrec.exercises.EXERCISES` (and to
:data:`~tinyrec.exercises.COURSE` unless ``course=False``); :func:`load` imports a ``.py`` file,
or every ``.py`` file of a folder, and registers each module that defines ``NAME`` and
``CHECKS``. ``tinyrec grade --exercises-from PATH`` and ``tinyrec exercises new DIR
--exercises-from PATH`` call :func:`load`. Whether the reference gets full marks is checked by the
grader before it grades anyone (:class:`~tinyrec.exercises.grading.Grader`).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import re
import sys
import types
from pathlib import Path

from .checking import points_of

#: where :func:`load` puts the modules it imports, in ``sys.modules``
LOADED_PREFIX = "tinyrec_exercise_"

#: name -> module of every exercise (the tutorials' first, then the course's, then those registered);
#: re-exported as :data:`tinyrec.exercises.EXERCISES`, filled by ``tinyrec/exercises/__init__.py``
EXERCISES: dict = {}
#: name -> module of the course exercises, in the order of the course (``tinyrec grade``'s default)
COURSE: dict = {}


def get(name: str):
    """The module of the exercise called ``name``."""
    if name not in EXERCISES:
        raise KeyError(f"no exercise named {name!r}; the exercises are {list(EXERCISES)}")
    return EXERCISES[name]


def parts(value) -> tuple:
    """``STUB`` or ``SOLUTION`` as a tuple of its parts (one function or class, or several)."""
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def validate(spec) -> None:
    """Raise ``ValueError`` naming what ``spec`` lacks to be an exercise (see the module's table)."""
    name = getattr(spec, "NAME", None)
    where = getattr(spec, "__file__", None) or repr(spec)
    if not isinstance(spec, types.ModuleType):
        raise ValueError(f"an exercise is a module (a .py file of your own), not {type(spec).__name__}")
    if not (isinstance(name, str) and name.isidentifier()):
        raise ValueError(f"an exercise needs NAME, an identifier such as 'my_loss'; {where} has {name!r}")
    for attr in ("STUB", "SOLUTION", "CHECKS"):
        if not hasattr(spec, attr):
            raise ValueError(f"exercise {name!r} ({where}) defines no {attr}; see tinyrec.exercises.registry")
    stubs, solutions = parts(spec.STUB), parts(spec.SOLUTION)
    if not all(callable(s) for s in stubs + solutions) or len(stubs) != len(solutions):
        raise ValueError(
            f"exercise {name!r}: STUB and SOLUTION must be a function or class each, or tuples of the same "
            f"length; got {len(stubs)} and {len(solutions)} parts"
        )
    submit = getattr(spec, "SUBMIT", None)
    if submit is not None and not (
        isinstance(submit, (tuple, list))
        and len(submit) == len(stubs)
        and all(isinstance(s, str) for s in submit)
    ):
        raise ValueError(f"exercise {name!r}: SUBMIT must be a tuple of {len(stubs)} name(s), got {submit!r}")
    if len(stubs) > 1 and not callable(getattr(spec, "CANDIDATE", None)):
        raise ValueError(
            f"exercise {name!r} has {len(stubs)} parts: it needs CANDIDATE to build one candidate"
        )
    checks = spec.CHECKS
    if not (isinstance(checks, (tuple, list)) and checks and all(callable(c) for c in checks)):
        raise ValueError(f"exercise {name!r}: CHECKS must be a non-empty tuple of functions")
    names = [c.__name__ for c in checks]
    if len(set(names)) != len(names):
        raise ValueError(f"exercise {name!r}: two checks share a name: {sorted(names)}")
    for c in checks:
        if not (isinstance(points_of(c), int) and points_of(c) >= 1):
            raise ValueError(f"exercise {name!r}: check {c.__name__} is worth {points_of(c)!r} points")


def register(spec, *, course: bool = True, replace: bool = False):
    """Check ``spec`` (:func:`validate`) and add it to the registry; returns ``spec``.

    ``course=False`` adds it to :data:`~tinyrec.exercises.EXERCISES` only (``tinyrec grade``
    grades :data:`~tinyrec.exercises.COURSE` by default). A name already taken is refused unless
    ``replace=True``.
    """
    validate(spec)
    if spec.NAME in EXERCISES and EXERCISES[spec.NAME] is not spec and not replace:
        raise ValueError(
            f"there is already an exercise named {spec.NAME!r} ({EXERCISES[spec.NAME].__name__}); rename "
            f"yours, or pass replace=True"
        )
    EXERCISES[spec.NAME] = spec
    if course:
        COURSE[spec.NAME] = spec
    return spec


def load(path, *, course: bool = True, replace: bool = False) -> list[str]:
    """Import the exercise modules of ``path`` (a ``.py`` file, or a folder of them) and
    :func:`register` each; returns their names, in file order.

    In a folder, a module that defines no ``NAME`` and ``CHECKS`` (a helper) is imported and left
    alone; the folder is put on ``sys.path`` so that exercises can import their helpers. This runs
    the modules' code: load only exercises you trust (yours).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no exercises at {path}: give a .py file or a folder of them")
    files = [path] if path.is_file() else sorted(p for p in path.glob("*.py") if not p.name.startswith("_"))
    if not files:
        raise ValueError(f"{path} holds no .py file to load exercises from")
    folder = str(path.resolve().parent if path.is_file() else path.resolve())
    if folder not in sys.path:
        sys.path.insert(0, folder)
    names = []
    for file in files:
        module = import_file(file)
        if hasattr(module, "NAME") and hasattr(module, "CHECKS"):
            names.append(register(module, course=course, replace=replace).NAME)
    if not names:
        raise ValueError(f"no module of {path} defines an exercise (NAME and CHECKS)")
    return names


def import_file(file) -> object:
    """Import the module at ``file`` under a name of its own (``tinyrec_exercise_<stem>_<hash of the
    path>``), once."""
    file = Path(file).resolve()
    digest = hashlib.sha256(str(file).encode()).hexdigest()[:8]
    stem = re.sub(r"\W", "_", file.stem)
    key = f"{LOADED_PREFIX}{stem}_{digest}"
    loaded = sys.modules.get(key)
    if loaded is not None and Path(getattr(loaded, "__file__", "")).resolve() == file:
        return loaded
    spec = importlib.util.spec_from_file_location(key, file)
    if spec is None or spec.loader is None:
        raise ValueError(f"cannot import {file}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[key] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[key]
        raise
    return module


def exercise_module(module_name: str, file: str | None = None):
    """The exercise module ``module_name``: already imported, importable, or loaded from ``file``
    (how a grading child finds an instructor's exercise when it was not forked from the grader)."""
    if module_name in sys.modules:
        return sys.modules[module_name]
    if file is not None and module_name.startswith(LOADED_PREFIX):
        return import_file(file)
    return importlib.import_module(module_name)
