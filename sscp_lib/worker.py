"""One function call on the second core: in a fresh interpreter started ahead of the call
(`FreshProcess`), or in a child forked for it (`ForkedProcess`). Both have one interface:
submit(function, *args), result(), close().

The chain makes the statement's PDF in a fresh process (WeasyPrint imported before the PDF is
asked for), and the clean stage at scale cleans half its datasets in one: the chain's process
and the stages' Jupyter kernels have threads and sockets, and a fresh interpreter inherits
none of them (multiprocessing's spawn is not used: it re-runs the caller's main script). The
validate stage forks for half its tables, since the child needs Great Expectations, whose
import costs seconds, and only computes: it writes nothing to the kernel's streams.

Run as ``python -m sscp_lib.worker MODULE ...``: it imports the modules, reads one pickled call
(function, arguments) on standard input, and writes the pickled outcome on the standard output it
was given; whatever the call prints goes to standard error.
"""

from __future__ import annotations

import importlib
import logging
import os
import pickle
import signal
import subprocess
import sys
import traceback
import warnings
from typing import Any

from .errors import UserError


class WorkerFailed(RuntimeError):
    """The process ended without an outcome, or its exception could not be sent back."""


class FreshProcess:
    """`python -m sscp_lib.worker` with `preload` imported; one call, then it ends."""

    def __init__(self, preload: tuple[str, ...] = ()):
        # Standard error is the caller's, so what the process says is seen where it happens.
        self.process = subprocess.Popen(
            [sys.executable, "-m", __name__, *preload], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )

    def submit(self, function, *args) -> None:
        """Send the call (a module-level function and picklable arguments); `result` waits for it."""
        assert self.process.stdin is not None
        try:
            pickle.dump((function, args), self.process.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            self.process.stdin.close()
        except OSError:
            pass  # the process has gone: `result` says how it ended

    def result(self) -> Any:
        """The call's return value, or its exception raised here (a UserError as it was raised,
        any other with the process's traceback as a note); WorkerFailed if the process ended
        without an outcome."""
        assert self.process.stdout is not None
        data = self.process.stdout.read()
        code = self.process.wait()
        if not data:
            raise WorkerFailed(f"the worker process ended with exit code {code} and no outcome")
        return _unpack(data)

    def close(self) -> None:
        """End the process if it is still running (its caller stopped before the outcome)."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass


class ForkedProcess:
    """A child forked from this process for one call, with FreshProcess's interface. It starts
    with everything this process has imported and read (Great Expectations, say), so it pays no
    imports; for computation only: it writes nothing to this process's streams (in a Jupyter
    kernel they are sockets the kernel's threads own) and ends without running exit handlers."""

    def __init__(self) -> None:
        self.pid: int | None = None
        self._outcome: Any = None

    def submit(self, function, *args) -> None:
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: compute, send, end
            code = 0
            try:
                os.close(read)
                sys.stdout = sys.stderr = open(os.devnull, "w")
                logging.disable(logging.CRITICAL)
                warnings.simplefilter("ignore")
                with os.fdopen(write, "wb") as out:
                    out.write(_outcome(function, args))
            except BaseException:  # noqa: BLE001 - the parent sees no outcome and says so
                code = 1
            finally:
                os._exit(code)
        os.close(write)
        self.pid, self._outcome = pid, os.fdopen(read, "rb")

    def result(self) -> Any:
        """As FreshProcess.result."""
        assert self.pid is not None and self._outcome is not None
        data = self._outcome.read()
        _, status = os.waitpid(self.pid, 0)
        self.pid = None
        if not data:
            raise WorkerFailed(f"the forked process ended with status {status} and no outcome")
        return _unpack(data)

    def close(self) -> None:
        """End the child if it is still running (its caller stopped before the outcome)."""
        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(self.pid, 0)
            self.pid = None
        if self._outcome is not None:
            self._outcome.close()


def _unpack(data: bytes) -> Any:
    ok, value, where = pickle.loads(data)
    if ok:
        return value
    if not isinstance(value, UserError):  # a user's error stays the one line it was raised as
        value.add_note(f"in the worker process:\n{where}")
    raise value


def _outcome(function, args) -> bytes:
    try:
        return pickle.dumps((True, function(*args), None), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # noqa: BLE001 - every failure goes back to the caller, who decides
        where = traceback.format_exc()
        try:
            return pickle.dumps((False, exc, where), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 - an exception that cannot be pickled is sent as text
            return pickle.dumps((False, WorkerFailed(f"{type(exc).__name__}: {exc}"), where))


def main() -> None:
    outcome = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # what the call prints must not mix with the outcome
    for module in sys.argv[1:]:
        importlib.import_module(module)  # before the call comes: that is the point
    data = sys.stdin.buffer.read()
    if not data:
        return  # the caller stopped before asking
    function, args = pickle.loads(data)
    outcome.write(_outcome(function, args))
    outcome.close()


if __name__ == "__main__":
    main()
