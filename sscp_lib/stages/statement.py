"""Statement stage: the analysis stages' metric fragments merged into the report's metrics.json,
and the year's statement built from that file, the charts, the configuration and the narrative."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from sscp_lib.catalogue import merge_fragments
from sscp_lib.stages.summary import CHANGES_HREF, ReportView, SummaryLine

if TYPE_CHECKING:
    from sscp_lib.stages.context import StageContext
    from sscp_lib.stages.result import StageResult

# What run() works with, imported by the stage's warm kernel before the stage starts.
LIBRARIES = ("sscp_lib.publishing.narrative", "sscp_lib.stages.result")


def run(ctx: StageContext) -> StageResult:
    from sscp_lib.config import charts_index
    from sscp_lib.files import write_json_atomic
    from sscp_lib.publishing.narrative import build_statement, load_charts
    from sscp_lib.stages.result import StageResult

    metrics_json = write_json_atomic(ctx.location("metrics"), merge_fragments(ctx.location("metric_fragments")))
    metrics = json.loads(metrics_json.read_text(encoding="utf-8"))
    charts_dir = ctx.location("charts")
    statement = build_statement(ctx.year, metrics, ctx.config, load_charts(charts_index(charts_dir)), charts_dir)
    return StageResult(
        stage=ctx.stage.name,
        summary=f"{ctx.year}: statement built from {len(metrics)} metrics in {metrics_json.name}",
        detail=statement,
    )


def report_summary(view: ReportView) -> list[SummaryLine]:
    metrics = merge_fragments(view.ctx.location("metric_fragments"))
    return [
        SummaryLine("In", f"{len(metrics)} figures, the partnership configuration and the year's narrative."),
        SummaryLine("Out", "The assurance statement as published (web page and PDF)."),
        SummaryLine(
            "Check",
            (view.approval_line or "Approval state unknown.") + " What changed:",
            CHANGES_HREF,
            "changes page",
        ),
    ]
