from __future__ import annotations

import os
import resource
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import pytest

from xc_fupin.lib import forked
from xc_fupin.lib.forked import ChildCrashed, ChildTimedOut, run_forked

pytestmark = pytest.mark.skipif(not forked.FORK_AVAILABLE, reason="needs fork (Linux)")

MB = 1024 * 1024


def gone(pid: int) -> bool:
    """True once a process no longer exists (exited and reaped), not even as a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def pid_of_child(path: Path) -> int:
    for _attempt in range(200):
        if path.exists() and path.read_text():
            return int(path.read_text())
        time.sleep(0.01)
    raise AssertionError("the child never started")


def test_it_returns_what_the_function_returned_in_another_process() -> None:
    result = run_forked(
        lambda a, b: (os.getpid(), a + b), (2, 3), time_limit=30, memory_limit=256 * MB
    )
    assert result[1] == 5
    assert result[0] != os.getpid()
    assert gone(result[0])


def test_a_large_result_arrives_whole() -> None:
    blob = os.urandom(3 * MB)
    assert run_forked(lambda: [blob] * 10, time_limit=30, memory_limit=None) == [blob] * 10


def test_an_abort_in_the_child_is_an_exception_in_the_parent() -> None:
    with pytest.raises(ChildCrashed) as excinfo:
        run_forked(os.abort, time_limit=30, memory_limit=None)
    assert "SIGABRT" in excinfo.value.detail


def test_an_exception_in_the_child_is_reported_with_its_traceback() -> None:
    with pytest.raises(ChildCrashed) as excinfo:
        run_forked(lambda: 1 // 0, time_limit=30, memory_limit=None)
    assert "ZeroDivisionError" in excinfo.value.detail


def test_a_result_that_cannot_be_pickled_is_a_failure_not_a_hang() -> None:
    with pytest.raises(ChildCrashed, match="pickle"):
        run_forked(lambda: threading.Lock(), time_limit=30, memory_limit=None)


def test_the_child_cannot_grow_past_its_memory_limit() -> None:
    def allocate(megabytes: int) -> int:
        return len(bytearray(megabytes * MB))

    assert run_forked(allocate, (100,), time_limit=30, memory_limit=512 * MB) == 100 * MB
    with pytest.raises(ChildCrashed, match="MemoryError"):
        run_forked(allocate, (600,), time_limit=30, memory_limit=512 * MB)


def test_the_limits_are_set_in_the_child_only() -> None:
    before = resource.getrlimit(resource.RLIMIT_AS), resource.getrlimit(resource.RLIMIT_CPU)
    address_space, cpu = run_forked(
        lambda: (resource.getrlimit(resource.RLIMIT_AS), resource.getrlimit(resource.RLIMIT_CPU)),
        time_limit=10,
        memory_limit=256 * MB,
    )
    assert 256 * MB < address_space[0] <= forked._address_space() + 300 * MB
    assert cpu == (12, 15)
    assert (resource.getrlimit(resource.RLIMIT_AS), resource.getrlimit(resource.RLIMIT_CPU)) == (
        before
    )


def test_a_child_past_its_time_limit_is_killed(tmp_path: Path) -> None:
    marker = tmp_path / "pid"

    def hang() -> None:
        marker.write_text(str(os.getpid()))
        time.sleep(60)

    start = time.monotonic()
    with pytest.raises(ChildTimedOut):
        run_forked(hang, time_limit=0.5, memory_limit=None)
    assert time.monotonic() - start < 5
    assert gone(pid_of_child(marker))


class Interrupted(Exception):
    pass


@pytest.fixture
def alarm() -> Iterator[None]:
    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise Interrupted

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_a_caller_interrupted_while_waiting_leaves_no_child_behind(
    tmp_path: Path, alarm: None
) -> None:
    # What a Celery soft time limit does: a signal handler raises in the waiting worker.
    marker = tmp_path / "pid"

    def hang() -> None:
        marker.write_text(str(os.getpid()))
        time.sleep(60)

    signal.setitimer(signal.ITIMER_REAL, 0.5)
    with pytest.raises(Interrupted):
        run_forked(hang, time_limit=30, memory_limit=None)
    assert gone(pid_of_child(marker))


def test_the_callers_termination_handler_does_not_run_in_the_child() -> None:
    # Workers install SIGTERM handlers; a SIGTERM to the process group must simply end
    # the child, not run the worker's shutdown code there.
    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise Interrupted

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:

        def terminate_self() -> None:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)

        with pytest.raises(ChildCrashed, match="SIGTERM"):
            run_forked(
                terminate_self,
                time_limit=30,
                memory_limit=None,
            )
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_threads_can_fork_at_the_same_time() -> None:
    # One thread's child must not hold another call's pipe open (its end would never come).
    results: dict[int, object] = {}

    def work(number: int) -> None:
        def nap_then_answer() -> int:
            time.sleep(0.05 * (number % 3))
            return number

        results[number] = run_forked(
            nap_then_answer,
            time_limit=30,
            memory_limit=None,
        )

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results == {n: n for n in range(8)}


def test_without_fork_the_function_runs_here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forked, "FORK_AVAILABLE", False)
    assert run_forked(os.getpid, time_limit=1, memory_limit=1) == os.getpid()


def test_it_copes_with_children_reaped_elsewhere() -> None:
    # With SIGCHLD ignored the kernel reaps children itself: no exit status to read.
    previous = signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    try:
        assert run_forked(lambda: "ok", time_limit=30, memory_limit=None) == "ok"
        with pytest.raises(ChildCrashed, match="status unknown"):
            run_forked(os.abort, time_limit=30, memory_limit=None)
    finally:
        signal.signal(signal.SIGCHLD, previous)
