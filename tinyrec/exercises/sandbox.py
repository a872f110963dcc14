"""Running a student's code in a child process, with a time limit and a memory limit.

The grader never runs a submission in its own process: each (submission, exercise) pair runs in a
**child process**, which sends back one JSON object through a pipe and exits. Whatever the
student's code does (raise, loop forever, call ``os.abort()``, ask for 10 GB, ``sys.exit()``,
print a million lines), the grader's process goes on and reports it in words.

How the child is made
---------------------
* **Linux**: ``fork`` from the grader, which has imported tinyrec and run every reference
  solution once (:class:`~tinyrec.exercises.grading.Grader` does that), so Numba's kernels are
  compiled or loaded once and every child starts with them, in a few milliseconds.
* **macOS**: a fork server (``forkserver``, with ``tinyrec.exercises`` preloaded): forking a
  process that has used the system's BLAS threads is unsafe there, so the children are forked
  from a small server process that imported tinyrec once instead.
* **Windows** (no ``fork``): ``spawn``: each child is a fresh interpreter that imports tinyrec;
  kernels come from Numba's on-disk cache (``cache=True``), so a child costs an import more.

The limits, in the child
------------------------
* **Time**: the grader waits ``seconds`` of wall-clock time, then kills the child (and any
  process it started: the child leads its own process group on POSIX). ``RLIMIT_CPU`` backs it
  up on POSIX.
* **Memory**: on Linux and macOS, ``RLIMIT_AS`` caps the child's address space at what it
  inherited plus ``memory_bytes``; an allocation beyond it raises ``MemoryError`` in the child,
  which the grader reports as the memory limit. Linux enforces it (tested); macOS accepts it, but
  whether a given release enforces it is not tested here. **Windows gets the time limit only**:
  no memory limit (a huge allocation fails only when the machine cannot commit it).
* Core dumps are switched off (``RLIMIT_CORE = 0``: ``os.abort()`` leaves no core file), and the
  child's standard output and error go to the null device (a submission's prints are not shown).

Not a security boundary
-----------------------
The sandbox protects the grader from mistakes, not from a student set on cheating: code in the
child can read files, use the network, or write a forged result into the pipe. Grade untrusted
submissions inside a container (as Gradescope does), and keep the reference solutions out of it.
"""

from __future__ import annotations

import faulthandler
import json
import math
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import wait

try:  # POSIX only
    import resource
except ImportError:  # Windows
    resource = None

#: the largest result a child may send back, in bytes
MAX_RESULT_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """What one child may use: ``seconds`` of wall-clock time, ``memory_bytes`` of address space on top
    of what it inherits (``None``: no memory limit)."""

    seconds: float = 60.0
    memory_bytes: int | None = 2 * 1024**3

    def __post_init__(self):
        if not (isinstance(self.seconds, (int, float)) and math.isfinite(self.seconds) and self.seconds > 0):
            raise ValueError(f"the time limit must be a number of seconds > 0, got {self.seconds!r}")
        if self.memory_bytes is not None and not (
            isinstance(self.memory_bytes, int) and self.memory_bytes > 0
        ):
            raise ValueError(
                f"the memory limit must be a number of bytes > 0 or None, got {self.memory_bytes!r}"
            )


@dataclass(frozen=True)
class Outcome:
    """What came back from one child: its JSON ``result``, or ``None`` and the ``failure`` in words."""

    result: dict | None
    failure: str
    seconds: float


def start_method() -> str:
    """``"fork"`` on Linux, ``"forkserver"`` on macOS, ``"spawn"`` where there is no fork (Windows)."""
    if sys.platform.startswith("linux"):
        return "fork"
    if "forkserver" in multiprocessing.get_all_start_methods():
        return "forkserver"
    return "spawn"


def _context(method: str | None = None):
    method = method or start_method()
    context = multiprocessing.get_context(method)
    if method == "forkserver":
        context.set_forkserver_preload(["tinyrec.exercises"])
    return context


# -- in the child ----------------------------------------------------------------------------------
def _address_space_now() -> int | None:
    """The address space this process holds, in bytes, or None where it cannot be read.

    Linux: ``VmSize`` in ``/proc/self/status``; macOS: ``ps -o vsz=`` (KiB).
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        out = subprocess.run(["ps", "-o", "vsz=", "-p", str(os.getpid())], capture_output=True, timeout=5)
        return int(out.stdout.split()[0]) * 1024
    except (OSError, ValueError, IndexError, subprocess.SubprocessError):
        return None


def _set_limit(which, soft: int) -> None:
    _, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    try:
        resource.setrlimit(which, (soft, hard))
    except (ValueError, OSError):  # a platform that refuses the limit: the time limit still holds
        pass


def _apply_limits(limits: Limits) -> None:
    if resource is None:
        return
    os.setsid()  # its own process group: the grader kills whatever the student starts, too
    _set_limit(resource.RLIMIT_CORE, 0)
    _set_limit(resource.RLIMIT_CPU, math.ceil(limits.seconds) + 2)
    if limits.memory_bytes is not None:
        base = _address_space_now()
        if base is not None:  # unknown: no limit rather than one below what the process holds
            _set_limit(resource.RLIMIT_AS, base + limits.memory_bytes)


def _silence_output() -> None:
    """Send the child's standard output and error to the null device (a submission may print)."""
    faulthandler.disable()  # it may hold a copy of the grader's stderr (pytest's does)
    null = os.open(os.devnull, os.O_WRONLY)
    for fd in (1, 2):
        os.dup2(null, fd)
    os.close(null)
    sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115 - the process ends with them
    sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115


def _child(connection, target, args, limits: Limits) -> None:
    """The child's body: limits, then ``target(*args)``, whose dict goes back as JSON."""
    _apply_limits(limits)
    _silence_output()
    sys.dont_write_bytecode = True  # never write __pycache__ into a student's folder
    try:
        result = target(*args)
    except MemoryError as exc:
        result = {"failure": memory_message(limits, exc)}
    except BaseException as exc:  # the target reports the student's errors itself; this is a last resort
        result = {"failure": f"the grading process stopped: {type(exc).__name__}: {exc}"[:2000]}
    connection.send_bytes(json.dumps(result).encode("utf-8"))
    connection.close()


def memory_message(limits: Limits, exc: BaseException) -> str:
    size = "the memory limit"
    if limits.memory_bytes is not None:
        size += f" ({_gib(limits.memory_bytes)})"
    return (
        f"exceeded {size}: MemoryError: {str(exc)[:300]}. Hint: look for an array whose size grows with "
        f"a product of dimensions (an outer product, a dense table) where a smaller one would do"
    )


def _gib(n: int) -> str:
    return f"{n / 1024**3:.3g} GiB"


# -- in the grader ---------------------------------------------------------------------------------
def run_isolated(
    tasks: Sequence[tuple[Callable, tuple]], limits: Limits, workers: int = 1, method: str | None = None
) -> list[Outcome]:
    """Run each ``target(*args)`` of ``tasks`` in its own child process, ``workers`` at a time.

    ``method`` overrides the platform's start method (:func:`start_method`): ``"spawn"`` shows
    what a platform without ``fork`` pays.

    ``target`` is a module-level function (spawn pickles it by name) returning a JSON-able dict.
    Returns one :class:`Outcome` per task, in order. A child that runs out of time is killed; one
    that dies (a signal, ``os._exit``) or sends no valid JSON gets a ``failure`` saying so.
    """
    if not (isinstance(workers, int) and workers >= 1):
        raise ValueError(f"workers must be a positive int, got {workers!r}")
    context = _context(method)
    outcomes: list[Outcome | None] = [None] * len(tasks)
    pending = list(range(len(tasks)))[::-1]  # popped from the end: in order
    running = {}  # connection -> (index, process, started)
    try:
        while pending or running:
            while pending and len(running) < workers:
                index = pending.pop()
                target, args = tasks[index]
                receiver, sender = context.Pipe(duplex=False)
                process = context.Process(target=_child, args=(sender, target, args, limits), daemon=True)
                process.start()
                sender.close()  # the child holds the only writer: its death is an end of file here
                running[receiver] = (index, process, time.perf_counter())
            now = time.perf_counter()
            deadline = min(started + limits.seconds for _, _, started in running.values())
            for receiver in wait(list(running), timeout=max(0.0, deadline - now)):
                index, process, started = running.pop(receiver)
                outcomes[index] = _collect(receiver, process, started)
            now = time.perf_counter()
            for receiver, (index, process, started) in list(running.items()):
                if now - started >= limits.seconds:
                    del running[receiver]
                    _kill(process)
                    receiver.close()
                    outcomes[index] = Outcome(None, _timeout_message(limits), now - started)
    finally:
        for receiver, (_, process, _) in running.items():  # interrupted: leave no child behind
            _kill(process)
            receiver.close()
    return outcomes


def _collect(receiver, process, started) -> Outcome:
    """Read a child's answer (or learn that it died), then make sure it is gone."""
    try:
        data = receiver.recv_bytes(MAX_RESULT_BYTES)
    except EOFError:
        data = None
    except OSError:  # longer than MAX_RESULT_BYTES
        data = b""
    finally:
        receiver.close()
    process.join(timeout=5.0)
    seconds = time.perf_counter() - started
    _kill(process)
    if data is None:
        return Outcome(None, _death_message(process.exitcode), seconds)
    try:
        result = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        result = None
    if not isinstance(result, dict):
        return Outcome(None, "the grading process sent back no readable result", seconds)
    return Outcome(result, "", seconds)


def _kill(process) -> None:
    """Kill the child and its process group (what the student started too), and reap it."""
    if process.pid is not None and resource is not None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    if process.is_alive():
        process.kill()
    process.join(timeout=5.0)


def _timeout_message(limits: Limits) -> str:
    return (
        f"ran longer than the time limit ({limits.seconds:g} s) and was stopped. Hint: an infinite loop, "
        f"or a Python loop over every entry where one NumPy expression would do?"
    )


def _death_message(exitcode) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        why = {
            "SIGABRT": " (os.abort(), or a crash in compiled code)",
            "SIGSEGV": " (a crash in compiled code)",
            "SIGKILL": " (killed: out of memory?)",
            "SIGXCPU": " (the CPU time limit)",
        }.get(name, "")
        return f"the process running your code was ended by {name}{why}, before any result"
    return (
        f"the process running your code exited (status {exitcode}) before any result: sys.exit() or "
        f"os._exit() in your code?"
    )
