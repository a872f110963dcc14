"""The ``tinyrec`` command (also ``python -m tinyrec``).

Subcommands: ``datasets``, ``train``, ``evaluate``, ``recommend``, ``quickstart`` and
``reference`` (golden vectors: :mod:`~tinyrec.cli.reference`); run
``tinyrec SUBCOMMAND --help`` for each one's options and examples. Progress goes to stderr and
results to stdout, so ``tinyrec train ... --json > result.json`` captures one JSON object.

The package has six modules, read in this order: :mod:`~tinyrec.cli.registry` (the models and
data sets the command knows, extensible by adding an entry), :mod:`~tinyrec.cli.userdata` (how
``--data PATH`` reads your own file or folder), :mod:`~tinyrec.cli.parser` (the subcommands and
their options), :mod:`~tinyrec.cli.commands` (what each subcommand does),
:mod:`~tinyrec.cli.reference` (the ``reference`` subcommand) and this module's :func:`main`.

Global options: ``--version``; ``--threads N``, the threads of NumPy's BLAS and of Numba's parallel
kernels alike (:func:`tinyrec.threads.set_threads`; by default BLAS runs on one thread while
tinyrec trains and evaluates, unless the environment's ``OPENBLAS_NUM_THREADS``, ... say
otherwise); ``--traceback`` (below). Every run is seeded (``--seed``, 0 by default), so the same
command gives the same numbers; a model file records the data, split and seed it was trained on.

Warnings (a model file that does not record its provenance, data that differ from a model's
accepted with ``--allow-mismatch``) are one line each on stderr, ``tinyrec: warning: ...``.

Errors
------
Every error ends the command with **one line** on stderr, ``tinyrec: error: ...``, and exit
status 2 (Ctrl-C: ``tinyrec: interrupted``, status 130). :func:`main` sorts them in two kinds:

* **Your input** (the line is the problem and its fix): a usage error of the command
  (:class:`CLIError`), every :class:`~tinyrec.errors.TinyrecError` (a bad data set or model
  file, a bad hyperparameter, a request for more memory than ``TINYREC_MAX_BYTES`` allows: the
  line gives the size asked for), any ``OSError`` (a missing or unreadable file, a full disk: the
  line names the path when the system gave it), a bare ``MemoryError`` (the machine ran out: the
  line gives the size when NumPy said it, and points at ``TINYREC_MAX_BYTES``, the bound of the
  allocations tinyrec checks), and a ``ValueError`` or ``TypeError`` raised by a ``raise``
  statement of tinyrec's code (its argument checks).
* **Probably a bug in tinyrec**: anything else, for example an ``IndexError``,
  ``AttributeError`` or ``KeyError``, an ``AssertionError``, a Numba error, and a ``ValueError`` or
  ``TypeError`` raised inside NumPy or Python rather than by a tinyrec check (bad input that no
  check stopped is a bug too). The line gives the exception's type, its first line and where it
  was raised, says that it is probably a bug, and how to see the traceback.

``--traceback`` (a global option: ``tinyrec --traceback train ...``, also accepted after the
subcommand) or the environment variable ``TINYREC_TRACEBACK=1`` prints the full traceback
instead of the line, for either kind, so that tinyrec's own bugs stay findable.
"""

from __future__ import annotations

import linecache
import os
import sys
import traceback
import warnings
from pathlib import Path

from ..errors import TinyrecError
from ..limits import ENVIRONMENT_VARIABLE as MAX_BYTES_VARIABLE
from ..limits import format_bytes, max_bytes
from ..threads import set_threads
from .commands import build_model
from .parser import build_parser
from .registry import DATASETS, MODELS, QUICKSTART_MODELS, CLIError, DataSpec, ModelSpec

__all__ = ["DATASETS", "MODELS", "QUICKSTART_MODELS", "CLIError", "DataSpec", "ModelSpec", "build_model",
           "build_parser", "describe_error", "main"]

#: ``TINYREC_TRACEBACK`` set to anything but these (or unset) shows tracebacks, like ``--traceback``.
TRACEBACK_VARIABLE = "TINYREC_TRACEBACK"
_OFF = ("", "0", "false", "no", "off")
_PACKAGE = Path(__file__).resolve().parents[1]  # the tinyrec folder


def main(argv=None) -> int:
    """Run the command with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    args = build_parser().parse_args(argv)
    show_traceback = bool(getattr(args, "traceback", False)) or (
        os.environ.get(TRACEBACK_VARIABLE, "").strip().lower() not in _OFF
    )
    threads = getattr(args, "threads", None)
    try:
        if getattr(args, "seed", None) is not None and args.seed < 0:
            raise CLIError(f"--seed must be a non-negative integer, got {args.seed}")
        if threads is not None:
            if threads < 1:
                raise CLIError(f"--threads must be a positive integer, got {threads}")
            set_threads(threads)
        with warnings.catch_warnings():
            warnings.simplefilter("always", UserWarning)  # each of tinyrec's warnings, every time
            warnings.showwarning = _show_warning
            return args.func(args)
    except KeyboardInterrupt:
        if show_traceback:
            traceback.print_exc(file=sys.stderr)
        print("tinyrec: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # SystemExit (argparse, --help) passes through
        if show_traceback:
            traceback.print_exc(file=sys.stderr)
        else:
            print(f"tinyrec: error: {describe_error(exc)}", file=sys.stderr)
        return 2
    finally:
        if threads is not None and threads >= 1:
            set_threads(None)  # main may run again in this process (tests, a notebook)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """A warning as one line on stderr: ``tinyrec: warning: ...`` (the category when not a UserWarning)."""
    kind = "" if category is UserWarning else f"{category.__name__}: "
    print(f"tinyrec: warning: {kind}{_one_line(str(message))}", file=sys.stderr)


def describe_error(exc: Exception) -> str:
    """The one line :func:`main` prints for ``exc`` (after ``tinyrec: error: ``); see the module docstring."""
    if isinstance(exc, (CLIError, TinyrecError)):  # AllocationError (a MemoryError) included
        return _one_line(str(exc))
    if isinstance(exc, OSError):
        return _os_error(exc)
    if isinstance(exc, MemoryError):
        asked = _one_line(str(exc)).rstrip(".") or "an allocation failed, of a size not given"
        return (
            f"out of memory: {asked}. Ask for less (a smaller model or data set) or free memory. "
            f"{MAX_BYTES_VARIABLE} ({_bound()}) bounds the allocations tinyrec checks before making "
            f"them; one it did not check ran out here, which is worth reporting"
        )
    raiser = _raiser(exc)
    if isinstance(exc, (ValueError, TypeError)) and raiser is not None and raiser[1]:
        return _one_line(str(exc))  # raised by a tinyrec check: the message names the problem and fix
    where = f" (raised at {raiser[0]})" if raiser else ""
    lines = str(exc).strip().splitlines()
    first = _one_line(lines[0], limit=300) if lines else "(no message)"
    return (
        f"{type(exc).__name__}: {first}{where}. This is probably a bug in tinyrec: no check of the input "
        f"caught it. Run again with --traceback (or {TRACEBACK_VARIABLE}=1) to see the traceback, and "
        f"please report it"
    )


def _one_line(text: str, limit: int | None = None) -> str:
    """``text`` on one line (line breaks become spaces), cut to ``limit`` characters."""
    text = " ".join(part.strip() for part in text.splitlines() if part.strip())
    if limit is not None and len(text) > limit:
        text = text[: limit - 3] + "..."
    return text


def _os_error(exc: OSError) -> str:
    """``path: reason``, as the system said it (with the path when it gave one)."""
    reason = exc.strerror or _one_line(str(exc)) or type(exc).__name__
    if exc.filename is None:
        return reason
    where = os.fsdecode(exc.filename)
    if exc.filename2 is not None:
        where += f" -> {os.fsdecode(exc.filename2)}"
    return f"{where}: {reason}"


def _bound() -> str:
    """The allocation bound, for a message (``TINYREC_MAX_BYTES`` may itself be malformed)."""
    try:
        return f"now {format_bytes(max_bytes())}"
    except TinyrecError:
        return f"now {os.environ.get(MAX_BYTES_VARIABLE)!r}, which is not a size"


def _raiser(exc: BaseException) -> tuple[str, bool] | None:
    """``(where, by_a_check)``: ``file:line`` of the innermost frame of ``exc``'s traceback, and
    whether that is a ``raise`` statement of tinyrec's code (not NumPy or Python failing inside a
    tinyrec line, as ``a, b = x`` or ``None[0]`` do)."""
    tb = exc.__traceback__
    if tb is None:
        return None
    while tb.tb_next is not None:
        tb = tb.tb_next
    code = tb.tb_frame.f_code
    path = Path(code.co_filename)
    try:
        inside = path.resolve().is_relative_to(_PACKAGE)
    except (OSError, ValueError):
        inside = False
    where = f"{path.resolve().relative_to(_PACKAGE.parent) if inside else path}:{tb.tb_lineno}"
    raised = linecache.getline(str(path), tb.tb_lineno).lstrip().startswith("raise ")  # a check's raise
    return where, inside and raised
