"""One function call in a fresh interpreter started ahead of the call (`FreshProcess`), to put
work on the second core.

The chain uses it for the statement's PDF (WeasyPrint imported before the PDF is asked for) and
the clean stage for half of its datasets at scale. A fresh interpreter, neither a fork (the
callers run in Jupyter kernels and in the chain's process, whose threads and sockets a forked
child must not inherit) nor multiprocessing's spawn (which re-runs the caller's main script).

Run as ``python -m sscp_lib.worker MODULE ...``: it imports the modules, reads one pickled call
(function, arguments) on standard input, and writes the pickled outcome on the standard output it
was given; whatever the call prints goes to standard error.
"""

from __future__ import annotations

import importlib
import os
import pickle
import subprocess
import sys
import traceback
from typing import Any

from sscp_lib.errors import UserError


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
        ok, value, where = pickle.loads(data)
        if ok:
            return value
        if not isinstance(value, UserError):  # a user's error stays the one line it was raised as
            value.add_note(f"in the worker process:\n{where}")
        raise value

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
