"""The chain's stages run one after another in this process, without kernels or notebooks:
the same `run(ctx)` calls the notebooks make, for tests and the benchmark. `sscp run` (papermill)
remains the way the chain is run for a report."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from sscp_lib.config import DEFAULT_CONFIG, Paths, ReportingYear
from sscp_lib.stages import STAGE_NAMES, get_stage, run

if TYPE_CHECKING:
    from sscp_lib.stages import StageResult


@dataclass
class StageRun:
    result: StageResult
    seconds: float


def discard_derived_data(paths: Paths, year: ReportingYear) -> None:
    """A full run rebuilds the year's processed data from raw: nothing stale survives it."""
    folder = paths.processed_year(year)
    if folder.exists():
        shutil.rmtree(folder)


def run_in_process(
    year: str,
    *,
    raw_dir: str | Path | None = None,
    processed_dir: str | Path | None = None,
    reports_dir: str | Path | None = None,
    report_dir: str | Path | None = None,
    config_path: str | Path | None = None,
    stages: tuple[str, ...] = STAGE_NAMES,
) -> dict[str, StageRun]:
    """Run `stages` in order; a stage that stops the chain raises its error after it has run. The
    config is read once, for every stage."""
    from sscp_lib.stages import StageContext  # with pandas: `sscp run` imports this module for discard_derived_data

    runs: dict[str, StageRun] = {}
    first = StageContext.from_parameters(
        stages[0],
        year,
        raw_dir=raw_dir,
        processed_dir=processed_dir,
        reports_dir=reports_dir,
        report_dir=report_dir,
        config_path=config_path or DEFAULT_CONFIG,
    )
    for name in stages:
        ctx = replace(first, stage=get_stage(name))
        if name == STAGE_NAMES[0]:
            discard_derived_data(ctx.paths, ctx.year)
        started = time.perf_counter()
        result = run(ctx)
        runs[name] = StageRun(result, time.perf_counter() - started)
        result.raise_if_stopped()
    return runs
