"""tinyrec.exercises.sandbox: a child process per task, with a time limit and (Linux, macOS) a memory
limit; whatever the task does, the grader's process goes on and says what happened.

The time limits here are short (a second or two) to keep the tests fast; no test asserts a time."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

from tinyrec.exercises.sandbox import Limits, run_isolated, start_method

POSIX = sys.platform != "win32"
FAST = Limits(seconds=1.5, memory_bytes=512 * 1024**2)


def answers(value):
    return {"value": value, "pid": os.getpid()}


def raises():
    raise RuntimeError("the task broke")


def loops_forever():
    while True:
        pass


def aborts():
    os.abort()


def allocates_10_gb():
    return {"sum": float(np.zeros(10 * 1024**3, dtype=np.uint8).sum())}


def exits_early():
    os._exit(3)


def prints_a_lot():
    for _ in range(10_000):
        print("noise from the student's code")
    print("errors too", file=sys.stderr)
    return {"printed": True}


def returns_no_dict():
    return [1, 2, 3]


def test_the_start_method_of_this_platform():
    expected = {"linux": "fork", "darwin": "forkserver", "win32": "spawn"}.get(sys.platform)
    if expected:
        assert start_method() == expected


def test_a_task_runs_in_a_child_and_its_result_comes_back():
    [outcome] = run_isolated([(answers, (42,))], FAST)
    assert outcome.failure == "" and outcome.result["value"] == 42
    assert outcome.result["pid"] != os.getpid()


def test_an_exception_is_reported():
    [outcome] = run_isolated([(raises, ())], FAST)
    assert outcome.result == {"failure": "the grading process stopped: RuntimeError: the task broke"}


def test_an_infinite_loop_is_stopped_at_the_time_limit():
    [outcome] = run_isolated([(loops_forever, ())], Limits(seconds=1.0))
    assert outcome.result is None
    assert "ran longer than the time limit (1 s) and was stopped" in outcome.failure


@pytest.mark.skipif(not POSIX, reason="os.abort() kills by a POSIX signal")
def test_os_abort_is_reported_by_its_signal():
    [outcome] = run_isolated([(aborts, ())], FAST)
    assert outcome.result is None and "SIGABRT (os.abort()" in outcome.failure


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS is enforced on Linux")
def test_a_10_gb_allocation_meets_the_memory_limit():
    [outcome] = run_isolated([(allocates_10_gb, ())], FAST)
    assert outcome.result["failure"].startswith("exceeded the memory limit (0.5 GiB): MemoryError")


def test_an_early_exit_is_reported_with_its_status():
    [outcome] = run_isolated([(exits_early, ())], FAST)
    assert outcome.result is None and "exited (status 3) before any result" in outcome.failure


def test_a_child_s_prints_do_not_reach_the_grader(capfd):
    [outcome] = run_isolated([(prints_a_lot, ())], FAST)
    assert outcome.result == {"printed": True}
    captured = capfd.readouterr()
    assert "noise" not in captured.out and "errors too" not in captured.err


def test_a_result_that_is_not_a_dict_is_refused():
    [outcome] = run_isolated([(returns_no_dict, ())], FAST)
    assert outcome.result is None and "no readable result" in outcome.failure


def test_the_failures_do_not_stop_the_others_and_the_order_is_kept():
    tasks = [(answers, (1,)), (loops_forever, ()), (aborts, ()), (raises, ()), (answers, (2,))]
    outcomes = run_isolated(tasks, Limits(seconds=1.0), workers=2)
    assert [o.result["value"] for o in (outcomes[0], outcomes[4])] == [1, 2]
    assert "time limit" in outcomes[1].failure
    assert "SIGABRT" in outcomes[2].failure or not POSIX
    assert "RuntimeError" in outcomes[3].result["failure"]


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"seconds": 0}, "time limit"),
        ({"seconds": float("inf")}, "time limit"),
        ({"memory_bytes": -1}, "memory"),
    ],
)
def test_limits_are_checked(kwargs, words):
    with pytest.raises(ValueError, match=words):
        Limits(**kwargs)


def test_workers_are_checked():
    with pytest.raises(ValueError, match="workers"):
        run_isolated([(answers, (1,))], FAST, workers=0)


def test_spawn_children_work_too():
    """What a platform without fork gets: each child a fresh interpreter (slower, same answers)."""
    outcomes = run_isolated([(answers, (7,)), (raises, ())], Limits(seconds=60.0), workers=2, method="spawn")
    assert outcomes[0].result["value"] == 7 and outcomes[0].result["pid"] != os.getpid()
    assert "RuntimeError: the task broke" in outcomes[1].result["failure"]
