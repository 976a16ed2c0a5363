"""The run's manifest (reports/<year>/manifest.json): its arguments, the fingerprint of its inputs
(hashed once, chain.run.RunInputs), the packages and commit that made it, and each stage's outcome."""

from __future__ import annotations

import json
import platform
import subprocess
from datetime import datetime
from importlib import metadata
from pathlib import Path

from sscp_lib.chain.run import RunContext
from sscp_lib.config import PROJECT_ROOT, Paths, ReportingYear
from sscp_lib.files import write_json_atomic
from sscp_lib.reuse import RECORD_FILE

# Packages whose versions go into the manifest.
MANIFEST_PACKAGES = (
    "pandas",
    "pyarrow",
    "numpy",
    "great-expectations",
    "papermill",
    "nbconvert",
    "nbformat",
    "ipykernel",
    "matplotlib",
    "weasyprint",
    "openpyxl",
    "jinja2",
    "pyyaml",
)


def _git_commit() -> dict:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = (
            subprocess.run(
                ["git", "status", "--porcelain", "--untracked-files=no"],
                cwd=PROJECT_ROOT,
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            != ""
        )
        return {"commit": commit, "uncommitted_changes": dirty}
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "uncommitted_changes": None}


def _package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in MANIFEST_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def dataset_keys(paths: Paths, year: ReportingYear) -> dict:
    """Per dataset, the clean and validation keys of this run's tables and whether each was
    reused, and from which run (as the clean folder's reuse.json and validation.json record them)."""
    records: dict[str, dict] = {}
    for stage, path, listed in (
        ("clean", paths.clean_dir(year) / RECORD_FILE, "datasets"),
        ("validate", paths.validation_report(year), "reuse"),
    ):
        try:
            found = json.loads(path.read_text(encoding="utf-8")).get(listed, [])
        except (OSError, ValueError):
            continue
        for record in found:
            records.setdefault(record["dataset"], {})[stage] = {
                k: record.get(k) for k in ("key", "outcome", "reused_from")
            }
    return records


def write_manifest(ctx: RunContext, finished: datetime | None, outcome: str) -> Path:
    manifest = {
        "year": ctx.year.label,
        "period": ctx.period.label,  # the year, or the quarter a dashboard's run reports on
        "outcome": outcome,
        "parameters": {
            "raw_dir": str(ctx.paths.raw),
            "processed_dir": str(ctx.paths.processed),
            "reports_dir": str(ctx.paths.reports),
            "config_path": str(ctx.config_path),
            "pdf": ctx.make_pdf,
        },
        **ctx.inputs.fingerprint(),
        "packages": _package_versions(),
        "git": _git_commit(),
        "started": ctx.started.isoformat(timespec="seconds"),
        "finished": finished.isoformat(timespec="seconds") if finished else None,
        "stages": [s.as_dict() for s in ctx.stages],
        "datasets": dataset_keys(ctx.paths, ctx.year),
    }
    write_json_atomic(ctx.staging.manifest_json, manifest)
    return ctx.staging.manifest_json
