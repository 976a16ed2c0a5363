"""One run of a year at a time: a lock per year on the reports and processed folders.

Two runs of one year (two analysts on a shared drive, or a run started twice) would clear each
other's staging folder and write the same processed tables. `sscp run`, `sscp approve` and
`sscp diff` therefore take the year's lock first: `.sscp-<year>.lock` in each folder they write,
held with `filelock` (an OS lock, released by the system when its process dies, so a killed run
never blocks the next one). Beside it, `.sscp-<year>.lock.json` says who holds it, for the one-line
message a second run stops with; a holder file left by a process that died is reported and replaced.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock, Timeout

from sscp_lib.errors import UserError
from sscp_lib.files import write_json_atomic


@dataclass(frozen=True)
class Holder:
    """Who holds (or held) a year's lock."""

    host: str
    pid: int
    started: str  # ISO time, UTC
    command: str

    @classmethod
    def this_process(cls, command: str) -> Holder:
        return cls(socket.gethostname(), os.getpid(), datetime.now(UTC).isoformat(timespec="seconds"), command)

    @classmethod
    def read(cls, path: Path) -> Holder | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(str(data["host"]), int(data["pid"]), str(data["started"]), str(data["command"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def describe(self) -> str:
        """e.g. "`sscp run` (process 4242 on host lsp-analyst-1, started 7 December 2026 at 23:40 UTC)"."""
        try:
            moment = datetime.fromisoformat(self.started)
            when = f"{moment.day} {moment:%B %Y at %H:%M:%S} UTC"
        except ValueError:
            when = self.started
        return f"`{self.command}` (process {self.pid} on host {self.host}, started {when})"

    def is_dead(self) -> bool:
        """True only when the holder ran on this host and its process is gone."""
        if self.host != socket.gethostname():
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:  # alive, another user's
            return False
        return False


def lock_file(folder: Path, year_label: str) -> Path:
    return Path(folder) / f".sscp-{year_label}.lock"


def holder_file(folder: Path, year_label: str) -> Path:
    return Path(folder) / f".sscp-{year_label}.lock.json"


@contextmanager
def year_lock(
    folders: Sequence[Path], year_label: str, *, command: str, wait: bool = False, wait_hint: str = "--wait"
) -> Iterator[None]:
    """Hold the year's lock in each of `folders` (made if missing) for the body.

    Held by another process: with wait, block until it is free (saying so once); without, stop
    with one line naming the holder and how to wait. A holder file left by a dead process is noted.
    """
    me = Holder.this_process(command)
    # One order for every process (by path), so that two commands locking overlapping folders never deadlock.
    ordered = sorted({Path(folder).resolve() for folder in folders}, key=str)
    left_behind: list[Holder] = []
    with ExitStack() as held:
        for folder in ordered:
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise UserError(f"cannot make the folder {folder} for the {year_label} lock: {exc.strerror}") from None
            lock = FileLock(lock_file(folder, year_label), blocking=False)
            try:
                lock.acquire()
            except Timeout:
                holder = Holder.read(holder_file(folder, year_label))
                who = holder.describe() if holder else f"another process (lock file {lock_file(folder, year_label)})"
                if not wait:
                    raise UserError(
                        f"{year_label} is in use by {who}; wait for it with `{command} {wait_hint}`, "
                        f"or try again when it has finished"
                    ) from None
                print(f"sscp: waiting for {who} to finish with {year_label} ...", file=sys.stderr, flush=True)
                lock = FileLock(lock_file(folder, year_label))
                lock.acquire()
            except OSError as exc:
                raise UserError(
                    f"cannot lock {lock_file(folder, year_label)} for {year_label}: {exc.strerror or exc}"
                ) from None
            held.callback(lock.release)
            left = _claim(folder, year_label, me)
            if left is not None and left not in left_behind:  # one note per run that left its lock
                left_behind.append(left)
                why = "whose process is no longer running" if left.is_dead() else "which no longer holds the lock"
                print(f"sscp: note: took over the {year_label} lock left by {left.describe()}, {why}", file=sys.stderr)
            held.callback(_unclaim, folder, year_label, me)
        yield


def _claim(folder: Path, year_label: str, me: Holder) -> Holder | None:
    """Record this process as the holder; returns the holder a run that did not release the lock left."""
    path = holder_file(folder, year_label)
    left = Holder.read(path)
    write_json_atomic(path, me.__dict__)
    return left if left != me else None


def _unclaim(folder: Path, year_label: str, me: Holder) -> None:
    path = holder_file(folder, year_label)
    if Holder.read(path) == me:
        path.unlink(missing_ok=True)
