"""Run history: the earlier runs of a year kept beside its report, so a rerun can say what moved.

Each earlier run keeps its metrics.json and manifest.json in reports/<year>/history/<run>/, where
<run> is the time the run started (UTC, e.g. 20240601T101500Z). The chain builds a new run in a
staging folder and swaps it into place; before the swap it carries the history and the approvals
over from the report being replaced, adds that report's own run to the history and keeps only the
newest `review.runs_kept` earlier runs (partnership config).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sscp_lib.errors import UserError

HISTORY_FOLDER = "history"
APPROVALS_FILE = "approvals.json"
RUN_FILES = ("metrics.json", "manifest.json")
DEFAULT_RUNS_KEPT = 5  # when the partnership config has no review.runs_kept


def runs_kept(config) -> int:
    """How many earlier runs of a year to keep: config `review: {runs_kept: N}`, N at least 1."""
    value = (config.get("review") or {}).get("runs_kept", DEFAULT_RUNS_KEPT)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        where = getattr(config, "path", "the partnership config")
        raise UserError(f"{where}: review.runs_kept must be a whole number of runs, 1 or more, not {value!r}")
    return value


@dataclass(frozen=True)
class Run:
    """One run of a year as the comparison reads it: its folder, metrics and manifest."""

    folder: Path
    metrics: dict
    manifest: dict

    @property
    def started(self) -> str | None:
        return self.manifest.get("started")

    @property
    def label(self) -> str:
        """The run in words, e.g. "the run of 1 June 2024 at 10:15 UTC"."""
        return f"the run of {describe_time(self.started)}" if self.started else f"the run in {self.folder}"


def describe_time(iso: str | None) -> str:
    if not iso:
        return "an unknown time"
    moment = datetime.fromisoformat(iso)
    return f"{moment.day} {moment:%B %Y at %H:%M} UTC"


def load_run(folder: Path | str) -> Run:
    """A run folder holding metrics.json and manifest.json (a report folder or a history entry)."""
    folder = Path(folder)
    missing = [name for name in RUN_FILES if not (folder / name).is_file()]
    if missing:
        raise UserError(f"{folder}: not a run of the chain (no {' or '.join(missing)})")
    metrics, manifest = (json.loads((folder / name).read_text(encoding="utf-8")) for name in RUN_FILES)
    return Run(folder, metrics, manifest)


def run_id(manifest: dict) -> str:
    """The history folder name of a run: the UTC time it started, e.g. 20240601T101500Z."""
    started = manifest.get("started")
    if not started:
        raise ValueError("a run's manifest has no start time")
    return datetime.fromisoformat(started).strftime("%Y%m%dT%H%M%SZ")


def history_runs(report_root: Path | str) -> list[Path]:
    """The earlier runs kept for a year's report, oldest first."""
    folder = Path(report_root) / HISTORY_FOLDER
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_dir() and all((p / n).is_file() for n in RUN_FILES))


def latest_earlier_run(report_root: Path | str) -> Run | None:
    runs = history_runs(report_root)
    return load_run(runs[-1]) if runs else None


def carry_over(final_root: Path | str, staging_root: Path | str, keep: int) -> Run | None:
    """Before a new run replaces the year's report: bring its history and approvals into the
    staging folder, add the report's own run to the history and prune to `keep` runs.

    Returns the run the new one follows (None for the first run of a year). Safe to call again
    on a staging folder that already holds them (a resumed run)."""
    final_root, staging_root = Path(final_root), Path(staging_root)
    history = staging_root / HISTORY_FOLDER
    for earlier in history_runs(final_root):
        target = history / earlier.name
        if not target.exists():
            shutil.copytree(earlier, target)
    if (final_root / APPROVALS_FILE).is_file():
        # Approvals are recorded in the final report; they win over an older staging copy.
        shutil.copy2(final_root / APPROVALS_FILE, staging_root / APPROVALS_FILE)
    if all((final_root / name).is_file() for name in RUN_FILES):
        previous = load_run(final_root)
        if previous.manifest.get("outcome") == "ok":
            target = history / run_id(previous.manifest)
            target.mkdir(parents=True, exist_ok=True)
            for name in RUN_FILES:
                shutil.copy2(final_root / name, target / name)
    runs = history_runs(staging_root)
    for old in runs[: max(0, len(runs) - keep)]:
        shutil.rmtree(old)
    return latest_earlier_run(staging_root)
