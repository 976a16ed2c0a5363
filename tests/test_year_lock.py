"""One run of a year at a time (sscp_lib/chain/year_lock.py), and a year outside the range stops
before any stage. Real `sscp run` processes on the session's sample."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import YEAR

from sscp_lib.chain.year_lock import Holder, holder_file, year_lock
from sscp_lib.errors import UserError

pytestmark = pytest.mark.slow


def _sscp(*args: str) -> list[str]:
    return [sys.executable, "-m", "sscp_lib.cli", *args]


def _run_args(run, *more: str, year: str = YEAR) -> list[str]:
    folders = ["--raw", str(run.raw), "--processed", str(run.processed), "--reports", str(run.reports)]
    return _sscp("run", "--year", year, *folders, "--no-pdf", *more)


def _start(cmd: list[str]) -> subprocess.Popen:
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def _dead_pid() -> int:
    """The id of a process that has just ended."""
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


def _metrics(report: Path) -> dict:
    return json.loads((report / "metrics.json").read_text(encoding="utf-8"))


def _assert_whole(run, lone_metrics: dict) -> None:
    """The report left is complete, finished and carries the lone run's figures."""
    report = run.report
    for name in ("assurance-statement.html", "index.html", "manifest.json", "metrics.json", "changes.html"):
        assert (report / name).is_file(), name
    assert json.loads((report / "manifest.json").read_text())["outcome"] == "ok"
    assert _metrics(report) == lone_metrics
    assert not (run.reports / f".staging-{YEAR}").exists()
    assert not holder_file(run.reports, YEAR).exists() and not holder_file(run.processed, YEAR).exists()


def test_two_runs_of_a_year_at_once_one_finishes_and_the_other_stops_in_one_line(chain_run, chain_copy):
    lone = _metrics(chain_run.report)
    first = _start(_run_args(chain_copy))
    time.sleep(0.5)  # the first holds the lock; the second is started while it works
    second = _start(_run_args(chain_copy))
    out2, err2 = second.communicate(timeout=300)
    out1, err1 = first.communicate(timeout=300)
    # Whichever took the lock first finishes (on a busy machine the second can overtake the first
    # before the lock); the other stops at once, in one line naming it.
    runs = [(first, err1), (second, err2)]
    finished = [(p, err) for p, err in runs if p.returncode == 0]
    stopped = [(p, err) for p, err in runs if p.returncode == 2]
    assert len(finished) == 1 and len(stopped) == 1, (err1[-2000:], err2[-2000:])
    (winner, _), (_, err_stopped) = finished[0], stopped[0]
    lines = err_stopped.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err1 + err2, err_stopped
    said = lines[0]
    assert f"process {winner.pid} on host {socket.gethostname()}" in said
    assert "started" in said and f"sscp run --year {YEAR} --wait" in said
    _assert_whole(chain_copy, lone)


def test_with_wait_the_second_run_waits_and_then_runs(chain_run, chain_copy):
    lone = _metrics(chain_run.report)
    first = _start(_run_args(chain_copy))
    time.sleep(0.5)
    second = _start(_run_args(chain_copy, "--wait"))
    out1, err1 = first.communicate(timeout=300)
    out2, err2 = second.communicate(timeout=300)
    assert first.returncode == 0, err1[-2000:]
    assert second.returncode == 0, err2[-2000:]
    assert "Traceback" not in err1 + err2
    waited, other = (err2, first) if "waiting for" in err2 else (err1, second)  # the one that took the lock second
    assert f"waiting for `sscp run --year {YEAR}` (process {other.pid}" in waited
    _assert_whole(chain_copy, lone)
    # The second run followed the first: the first's run is in the year's history.
    assert len(list((chain_copy.report / "history").iterdir())) >= 1


def test_a_killed_runs_lock_does_not_block_the_next_run(chain_run, chain_copy):
    lone = _metrics(chain_run.report)
    killed = _start(_run_args(chain_copy))
    assert killed.stdout is not None
    for line in killed.stdout:
        if "running" in line:  # it holds the lock and a stage has started
            os.killpg(killed.pid, signal.SIGKILL)
            break
    killed.wait(timeout=60)
    left = Holder.read(holder_file(chain_copy.reports, YEAR))
    assert left is not None and left.pid == killed.pid  # the killed run could not tidy up
    nxt = subprocess.run(_run_args(chain_copy), capture_output=True, text=True, timeout=300)
    assert nxt.returncode == 0, nxt.stderr[-2000:]
    note = [line for line in nxt.stderr.splitlines() if "took over" in line]
    assert len(note) == 1 and f"process {killed.pid}" in note[0] and "no longer running" in note[0], nxt.stderr
    _assert_whole(chain_copy, lone)


def test_a_lock_file_naming_a_dead_process_is_taken_over_with_a_note(tmp_path, capsys):
    dead = _dead_pid()
    stale = Holder(socket.gethostname(), dead, "2024-06-01T10:15:00+00:00", f"sscp run --year {YEAR}")
    holder_file(tmp_path, YEAR).write_text(json.dumps(stale.__dict__), encoding="utf-8")
    with year_lock([tmp_path], YEAR, command=f"sscp run --year {YEAR}"):
        now = Holder.read(holder_file(tmp_path, YEAR))
        assert now is not None and now.pid == os.getpid()
    said = capsys.readouterr().err
    assert f"took over the {YEAR} lock left by `sscp run --year {YEAR}` (process {dead}" in said
    assert "1 June 2024 at 10:15:00 UTC" in said and "no longer running" in said
    assert not holder_file(tmp_path, YEAR).exists()


def test_approve_and_diff_stop_while_a_run_holds_the_year(tmp_path):
    holding = (
        "import sys, time; from sscp_lib.chain.year_lock import year_lock\n"
        f"with year_lock([sys.argv[1]], '{YEAR}', command='sscp run --year {YEAR}'):\n"
        "    print('held', flush=True); time.sleep(60)\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", holding, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        for command in (["approve", "--by", "Chair"], ["diff"]):
            said = subprocess.run(
                _sscp(*command, "--year", YEAR, "--reports", str(tmp_path)), capture_output=True, text=True
            )
            assert said.returncode == 2 and "Traceback" not in said.stderr
            assert len(said.stderr.strip().splitlines()) == 1
            assert f"process {holder.pid}" in said.stderr and f"sscp {command[0]} --year {YEAR} --wait" in said.stderr
        with pytest.raises(UserError, match="is in use by"):
            with year_lock([tmp_path], YEAR, command="test"):
                pass
    finally:
        holder.kill()
        holder.wait()


def test_a_year_before_the_earliest_year_stops_before_any_stage(chain_copy):
    early = "2019-20"
    (chain_copy.raw / YEAR).rename(chain_copy.raw / early)  # a folder is there: only the range stops it
    said = subprocess.run(_run_args(chain_copy, year=early), capture_output=True, text=True, timeout=120)
    assert said.returncode == 2 and "Traceback" not in said.stderr
    lines = said.stderr.strip().splitlines()
    assert len(lines) == 1, said.stderr
    assert lines[0].count(". ") == 0 and lines[0].endswith(".")  # one sentence
    assert early in lines[0] and "data_rules.earliest_year" in lines[0] and "config/partnership.yaml" in lines[0]
    assert f'set data_rules.earliest_year to "{early}"' in lines[0]
    assert "running" not in said.stdout  # no stage ran
    assert not (chain_copy.reports / f".staging-{early}").exists()
    assert not (chain_copy.processed / early).exists()
