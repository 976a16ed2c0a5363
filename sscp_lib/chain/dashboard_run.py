"""What a run does for the Partnership Dashboard: which stages a year's or a quarter's run
runs (the registry says), the checks a quarter's arguments get, and the dashboard's page and
PDF once the stages are done.

A quarter's run (`sscp run --year 2023-24 --quarter 3`) publishes the dashboard in a report
folder of its own (config.Paths.reports_period) with the statement's staging swap, manifest,
history, changes page and approval; a year's run publishes the Q4 dashboard beside the statement.
A quarter's report folder has no statement, so its metrics.json (what the history keeps and the
changes page compares) holds the dashboard's figures: each indicator's value for the quarter.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from sscp_lib.config import PartnershipConfig, Period, ReportPaths
from sscp_lib.errors import UserError
from sscp_lib.files import write_json_atomic
from sscp_lib.stages.registry import Stage, stages_for

if TYPE_CHECKING:
    from sscp_lib.publishing.pdf import PdfProcess

DASHBOARD_STAGE = "dashboard"
# dataset.json units as the metrics catalogue names them (for the changes page's formatting).
METRIC_UNITS = {"count": "count", "percent": "percent", "rate": "rate"}


def run_kind(period: Period) -> str:
    return "quarter" if period.quarterly else "year"


def run_stages(period: Period) -> tuple[Stage, ...]:
    """The stages a run of `period` runs, in order (stages/registry.py, `runs_for`)."""
    return stages_for(run_kind(period))


def parse_period(year: str, quarter: int | str | None, today: date | None = None) -> Period:
    """The run's period; a UserError in one sentence for a year or quarter that is not one, or a
    quarter that has not begun."""
    try:
        period = Period.parse(year, quarter)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    today = today or date.today()
    if period.quarterly and period.dashboard_quarter.start > today:
        q = period.dashboard_quarter
        raise UserError(f"{q.label} has not begun: it runs from {q.start:%-d %B %Y} to {q.end:%-d %B %Y}")
    return period


def resume_index(stages: tuple[Stage, ...], start_from: str | None, period: Period) -> int:
    """Where `--from STAGE` starts in this run's stages."""
    if not start_from:
        return 0
    names = [stage.name for stage in stages]
    if start_from not in names:
        raise UserError(f"a {run_kind(period)}'s run has no stage '{start_from}'; its stages are {', '.join(names)}")
    return names.index(start_from)


def finish_dashboard(
    report: ReportPaths,
    config: PartnershipConfig,
    *,
    synthetic: bool,
    marking: str,
    status: dict | None,
    pdf_process: PdfProcess | None,
) -> list[Path]:
    """The dashboard's page from the report's dataset.json and charts; its PDF asked of
    pdf_process (the caller waits for it). Returns the files written or asked for."""
    from sscp_lib.publishing.dashboard_page import write_dashboard_html

    if not report.dataset_json.is_file():
        raise UserError(f"{report.dataset_json}: the dashboard stage wrote no dataset; rerun the run")
    written = [report.dataset_json, report.dataset_xlsx]
    written.append(write_dashboard_html(report, config, synthetic=synthetic, marking=marking, status=status))
    if pdf_process is not None:
        pdf_process.start(report.dashboard_html, report.dashboard_pdf)
        written.append(report.dashboard_pdf)
    elif report.dashboard_pdf.exists():
        report.dashboard_pdf.unlink()  # a PDF from an older run would not match this page
    return [path for path in written if path != report.dataset_xlsx or path.exists()]


def write_quarter_metrics(report: ReportPaths) -> Path:
    """A quarter's metrics.json: each indicator's value for the quarter, as the history keeps and
    the changes page compares a statement's figures."""
    dataset = json.loads(report.dataset_json.read_text(encoding="utf-8"))
    metrics = {}
    for indicator in dataset.get("indicators", []):
        metrics[indicator["id"]] = {
            "value": (indicator.get("values") or {}).get(dataset["period"]),
            "unit": METRIC_UNITS.get(str(indicator.get("unit")), "count"),
            "label": indicator.get("label", indicator["id"]),
        }
    write_json_atomic(report.metrics_json, metrics)
    return report.metrics_json
