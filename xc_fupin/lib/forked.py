"""Run one function in a forked child process, so that a native crash cannot kill the caller.

Some native code (calamine, the Rust spreadsheet reader) aborts the whole process on
hostile input instead of raising: a failed allocation in Rust calls abort(). Run inside a
gunicorn or Celery worker, that kills the worker, and a Celery job that is acknowledged
late is then handed to the next worker, which dies the same way.

`run_forked(func, args, ...)` forks; the child runs `func(*args)` and writes the pickled
result into a pipe; the parent reads it back. If the child dies (a signal, abort(), the
memory cap, any exception) the parent gets `ChildCrashed`; if it has not delivered its
result within `time_limit` seconds it is killed and the parent gets `ChildTimedOut`. The
child is always reaped before `run_forked` returns or raises, and it is killed if the
caller is interrupted while waiting (a Celery soft time limit, Ctrl-C).

In the child:

* The address space may grow by at most `memory_limit` bytes beyond what it inherited
  (RLIMIT_AS), so a memory bomb fails there instead of pushing the machine into swap
  or the OOM killer. The limit is relative because a worker process already maps
  hundreds of megabytes (libraries, thread stacks, malloc arenas) before it reads a file.
* CPU time is capped near `time_limit` (RLIMIT_CPU) and the child is killed when the
  parent thread dies (PR_SET_PDEATHSIG), so it cannot outlive a worker that was killed
  while waiting for it.
* It touches nothing it inherited but `func`, its arguments and the pipe. It must not use
  the ORM or any connection: the sockets of the caller's database and broker
  connections are shared with the child, and the child leaves through os._exit(), so no
  atexit handler, finaliser or destructor ever runs there (nothing is closed, flushed or
  sent on the parent's behalf). Nothing is imported and no lock is taken in the child
  beyond what `func` does; another thread of the parent may have held a lock at fork
  time, and if `func` blocks on one the time limit ends it. (This is also why Python
  3.12+ warns, with a DeprecationWarning, about fork() in a process with threads.)
* SIGINT, SIGTERM, SIGHUP, SIGUSR1 and SIGUSR2 get their default action, so a signal to
  the process group does not run the worker's own handlers in the child; faulthandler
  is off, so an abort there does not print the caller's stack as a fatal error.

Forking needs Linux (`FORK_AVAILABLE`). Elsewhere (Windows has no fork; on macOS fork is
unsafe once system frameworks are loaded and RLIMIT_AS is not enforced) `func` runs in the
calling process, unprotected: that is for development machines only.

The function and its arguments are not pickled (the child has them through fork); only the
result is, so it must be picklable. A result is accepted only when all of it arrived,
so a child that dies half-way through writing is a crash, never a truncated result.
"""

from __future__ import annotations

import ctypes
import faulthandler
import functools
import os
import pickle
import resource
import select
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TypeVar

__all__ = ["FORK_AVAILABLE", "ChildCrashed", "ChildTimedOut", "run_forked"]

FORK_AVAILABLE = sys.platform.startswith("linux") and hasattr(os, "fork")

T = TypeVar("T")

# 1 byte (1: a pickled result follows; 0: the child's traceback as text), 8: its length.
_HEADER = 9
_EXIT_FAILED = 70
_PR_SET_PDEATHSIG = 1
_DEFAULT_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP", "SIGUSR1", "SIGUSR2")
# Forks made by run_forked in other threads must not inherit this call's pipe.
_FORK_LOCK = threading.Lock()


class ChildCrashed(Exception):
    """The child died or failed before delivering its whole result; `detail` says how.

    `traceback` is set when `func` raised (the child's formatted traceback), None when the
    child died (a signal, abort(), the memory cap).
    """

    def __init__(self, detail: str, *, traceback: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.traceback = traceback


class ChildTimedOut(Exception):
    """The child did not deliver its result within the time limit and was killed."""

    def __init__(self, time_limit: float) -> None:
        super().__init__(f"no result within {time_limit:g} s")
        self.time_limit = time_limit


def run_forked(
    func: Callable[..., T],
    args: Sequence[Any] = (),
    *,
    time_limit: float,
    memory_limit: int | None,
) -> T:
    """Return func(*args), computed in a forked child; see the module docstring.

    `time_limit` is wall-clock seconds from the fork to the last byte of the result;
    `memory_limit` is how many bytes the child's address space may grow (None: no cap).
    Raises ChildCrashed or ChildTimedOut; an OSError from fork() itself (no memory, too
    many processes) propagates, since the input is not to blame.
    """
    if not FORK_AVAILABLE:
        return func(*args)
    deadline = time.monotonic() + time_limit
    address_space = _address_space() if memory_limit is not None else 0
    set_death_signal = _death_signal_setter()
    parent = os.getpid()
    cap = address_space + memory_limit if memory_limit is not None else None
    child: _Child | None = None
    read_fd = write_fd = -1
    try:
        with _FORK_LOCK:  # so that no other run_forked child inherits this pipe
            read_fd, write_fd = os.pipe()
            pid = os.fork()
            if pid == 0:  # never returns
                _child(write_fd, read_fd, func, args, time_limit, cap, set_death_signal, parent)
            child = _Child(pid)
            os.close(write_fd)
            write_fd = -1
        data = _receive(read_fd, deadline)
        if data is None:
            child.kill_and_reap()
            raise ChildTimedOut(time_limit)
        if len(data) < _HEADER or len(data) != _HEADER + int.from_bytes(data[1:_HEADER], "little"):
            raise ChildCrashed(_describe(child.reap(deadline)))
        payload = memoryview(data)[_HEADER:]
        if data[0] != 1:
            child.kill_and_reap()
            text = bytes(payload).decode("utf-8", "replace")
            raise ChildCrashed("exception in the child:\n" + text, traceback=text)
        # Written by our own child, by pickle.dumps of what `func` returned: input data can
        # only choose the values, not the opcodes. (A child taken over by a memory-safety
        # exploit could write anything, but it already runs as us, holding our sockets.)
        result: T = pickle.loads(payload)  # noqa: S301
        child.kill_and_reap()
        return result
    finally:
        if os.getpid() != parent:  # a signal handler raised in the child before _child ran
            os._exit(_EXIT_FAILED)
        for fd in (read_fd, write_fd):
            if fd >= 0:
                os.close(fd)
        if child is not None:
            child.kill_and_reap()  # if interrupted while waiting (a signal handler raised)
            child.close()


# --- the child ------------------------------------------------------------------------


def _child(
    write_fd: int,
    read_fd: int,
    func: Callable[..., object],
    args: Sequence[Any],
    time_limit: float,
    address_space_cap: int | None,
    set_death_signal: Callable[[], None] | None,
    parent: int,
) -> NoReturn:
    code = _EXIT_FAILED
    try:
        os.close(read_fd)
        _limit_child(time_limit, address_space_cap, set_death_signal, parent)
        try:
            kind, data = 1, pickle.dumps(func(*args), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:
            kind, data = 0, traceback.format_exc().encode("utf-8", "replace")
        _write_all(write_fd, bytes([kind]) + len(data).to_bytes(8, "little"))
        _write_all(write_fd, data)
        os.close(write_fd)  # the parent sees the end now, not after the heap is unmapped
        code = 0
    except BaseException:  # MemoryError, KeyboardInterrupt, SystemExit: exit, never return
        code = _EXIT_FAILED
    finally:
        os._exit(code)


def _limit_child(
    time_limit: float,
    address_space_cap: int | None,
    set_death_signal: Callable[[], None] | None,
    parent: int,
) -> None:
    for name in _DEFAULT_SIGNALS:
        try:
            signal.signal(getattr(signal, name), signal.SIG_DFL)
        except (AttributeError, OSError, ValueError):
            pass
    # An abort in the child is expected and reported by the parent; a "Fatal Python error"
    # with the caller's stack in the worker's log would only mislead.
    faulthandler.disable()
    if set_death_signal is not None:
        set_death_signal()
    if os.getppid() != parent:  # the parent died before the death signal was armed
        os._exit(_EXIT_FAILED)
    if address_space_cap is not None:
        _lower_limit(resource.RLIMIT_AS, address_space_cap, address_space_cap)
    # Past the soft limit the kernel sends SIGXCPU, past the hard one SIGKILL.
    seconds = int(time_limit) + 2
    _lower_limit(resource.RLIMIT_CPU, seconds, seconds + 3)


def _lower_limit(which: int, soft: int, hard: int) -> None:
    """Set a limit, keeping any stricter one the process already had."""
    old_soft, old_hard = resource.getrlimit(which)
    if old_hard != resource.RLIM_INFINITY:
        hard = min(hard, old_hard)
    if old_soft != resource.RLIM_INFINITY:
        soft = min(soft, old_soft)
    resource.setrlimit(which, (min(soft, hard), hard))


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


# --- the parent -----------------------------------------------------------------------


def _address_space() -> int:
    """Return the current size of this process's address space in bytes (Linux)."""
    try:
        with open("/proc/self/statm", "rb") as handle:
            pages = int(handle.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0
    return pages * resource.getpagesize()


@functools.cache
def _death_signal_setter() -> Callable[[], None] | None:
    """Return a function arming PR_SET_PDEATHSIG = SIGKILL, resolved in the parent."""
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    prctl.restype = ctypes.c_int

    def arm() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)

    return arm


def _receive(fd: int, deadline: float) -> bytearray | None:
    """Read until the whole framed result or the end of the pipe; None at the deadline."""
    poller = select.poll()  # select() cannot watch descriptors above 1023
    poller.register(fd, select.POLLIN)
    data = bytearray()
    expected = -1
    while expected < 0 or len(data) < expected:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not poller.poll(max(1, int(remaining * 1000))):
            if time.monotonic() < deadline:
                continue  # woken early
            return None
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        data += chunk
        if expected < 0 and len(data) >= _HEADER:
            expected = _HEADER + int.from_bytes(data[1:_HEADER], "little")
    return data


class _Child:
    """A forked child, killed through a pidfd where there is one: if something else
    reaps it (SIGCHLD ignored, or a handler calling waitpid(-1)), its pid may be reused,
    and os.kill(pid) could then hit an unrelated process; a pidfd cannot."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.status: int | None = None  # set once reaped; -1 if reaped elsewhere
        self.pidfd = -1
        if hasattr(os, "pidfd_open"):
            try:
                self.pidfd = os.pidfd_open(pid)
            except OSError:  # Linux before 5.3, or already reaped elsewhere
                pass

    def kill(self) -> None:
        try:
            if self.pidfd >= 0:
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
            else:
                os.kill(self.pid, signal.SIGKILL)  # while unreaped its pid is not reused
        except ProcessLookupError:
            pass

    def _wait(self, flags: int) -> bool:
        try:
            done, status = os.waitpid(self.pid, flags)
        except ChildProcessError:
            self.status = -1
            return True
        if done:
            self.status = status
        return bool(done)

    def reap(self, deadline: float) -> int:
        """Wait for a child that has closed its end of the pipe; kill it at the deadline."""
        pause = 0.001
        while self.status is None and not self._wait(os.WNOHANG):
            if time.monotonic() >= deadline:
                return self.kill_and_reap()
            time.sleep(pause)
            pause = min(pause * 2, 0.05)
        assert self.status is not None
        return self.status

    def kill_and_reap(self) -> int:
        if self.status is None:
            self.kill()
            self._wait(0)
        assert self.status is not None
        return self.status

    def close(self) -> None:
        if self.pidfd >= 0:
            os.close(self.pidfd)
            self.pidfd = -1


def _describe(status: int) -> str:
    if status == -1:
        return "the child exited without a result (status unknown)"
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = str(number)
        return f"the child was killed by {name}"
    if os.WIFEXITED(status):
        return f"the child exited with status {os.WEXITSTATUS(status)} without a result"
    return f"the child ended with wait status {status}"
