"""The stage layer: the registry of stages, their context, and running one stage.

A notebook runs its stage with one call, e.g.

    result = run_stage("clean", year, raw_dir=raw_dir, processed_dir=processed_dir,
                       reports_dir=reports_dir, report_dir=report_dir, config_path=config_path)

and then displays `result.tables[...]`, `result.chart(...)`. Tests and the benchmark run the
same stages in one process with `sscp_lib.stages.runner.run_in_process`.

Every stage module (`stages/<stage>.py`, named by its registry entry) provides the same three
things: `run(ctx) -> StageResult`, the stage's work; `report_summary(view) -> [SummaryLine]`, the
three lines atop its rendered report (stages/summary.py); and `LIBRARIES`, the modules run() works
with. A stage module imports those inside run(), so the chain's own process can read a stage's
summary without loading pandas or Great Expectations; `import_stage` loads them, as the stage's
warm kernel does before the stage starts.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from sscp_lib.stages.registry import STAGE_NAMES, STAGES, STATEMENT_STAGE, Stage, get_stage, stage_groups

if TYPE_CHECKING:
    from sscp_lib.stages.context import LOCATIONS, StageContext, notebook_parameters
    from sscp_lib.stages.result import StageResult

# The registry loads at once and the rest, which imports pandas, on first use: `sscp run` reads
# the stage names before it starts the kernel zygote, and should not wait 0.5 s for pandas to do so.
_ON_FIRST_USE = {
    "LOCATIONS": ".context",
    "StageContext": ".context",
    "notebook_parameters": ".context",
    "StageResult": ".result",
}


def __getattr__(name: str):
    if name not in _ON_FIRST_USE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_ON_FIRST_USE[name], __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "LOCATIONS",
    "STAGES",
    "STAGE_NAMES",
    "STATEMENT_STAGE",
    "Stage",
    "StageContext",
    "StageResult",
    "get_stage",
    "import_stage",
    "notebook_parameters",
    "run",
    "run_stage",
    "stage_groups",
]


def import_stage(module: str) -> ModuleType:
    """A stage module (the registry's `Stage.module`) with the libraries its run() works with."""
    stage_module = importlib.import_module(module)
    for library in stage_module.LIBRARIES:
        importlib.import_module(library)
    return stage_module


def run(ctx: StageContext) -> StageResult:
    """Run the stage the context is for."""
    return import_stage(ctx.stage.module).run(ctx)


def run_stage(
    stage: str,
    year: str,
    *,
    raw_dir: str | Path | None = None,
    processed_dir: str | Path | None = None,
    reports_dir: str | Path | None = None,
    report_dir: str | Path | None = None,
    config_path: str | Path | None = None,
) -> StageResult:
    """Run one stage from its notebook's parameters (None: the default folders and config)."""
    from sscp_lib.stages.context import StageContext

    ctx = StageContext.from_parameters(
        stage,
        year,
        raw_dir=raw_dir,
        processed_dir=processed_dir,
        reports_dir=reports_dir,
        report_dir=report_dir,
        config_path=config_path,
    )
    return run(ctx)
