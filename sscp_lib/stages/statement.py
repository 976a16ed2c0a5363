"""Statement stage: the analysis stages' metric fragments merged into the report's metrics.json,
and the year's statement built from that file, the charts, the configuration and the narrative."""

from __future__ import annotations

import json

from sscp_lib.catalogue import merge_fragments
from sscp_lib.config import charts_index
from sscp_lib.files import write_json_atomic
from sscp_lib.publishing.narrative import build_statement, load_charts
from sscp_lib.stages.context import StageContext
from sscp_lib.stages.result import StageResult


def run(ctx: StageContext) -> StageResult:
    metrics_json = write_json_atomic(ctx.location("metrics"), merge_fragments(ctx.location("metric_fragments")))
    metrics = json.loads(metrics_json.read_text(encoding="utf-8"))
    charts_dir = ctx.location("charts")
    statement = build_statement(ctx.year, metrics, ctx.config, load_charts(charts_index(charts_dir)), charts_dir)
    return StageResult(
        stage=ctx.stage.name,
        summary=f"{ctx.year}: statement built from {len(metrics)} metrics in {metrics_json.name}",
        detail=statement,
    )
