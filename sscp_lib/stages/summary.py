"""A stage report's summary: the three lines at the top of a stage's rendered report (what came in,
what went out, anything to check and where to look), for its reviewer.

Every stage module provides `report_summary(view: ReportView) -> list[SummaryLine]`; the chain
renders what the registry's stage module says. This module holds what those functions share and
imports no table library: the chain's own process reads summaries without loading pandas.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sscp_lib.formatting import format_count

if TYPE_CHECKING:
    from sscp_lib.stages.context import StageContext

CHANGES_HREF = "../changes.html"  # stage reports live in <report>/notebooks/


@dataclass
class SummaryLine:
    label: str  # "In", "Out", "Check"
    text: str
    href: str | None = None
    link_text: str | None = None


@dataclass(frozen=True)
class ReportView:
    """What a stage's summary is written from, once the stage has run."""

    ctx: StageContext  # the stage, year, folders and configuration
    notebook: Any  # the executed notebook (nbformat)
    metrics: dict  # the stage's metric fragment, as written ({} if none)
    approval_line: str | None = None  # the statement's approval state, for the statement stage

    def value(self, name: str):
        """A metric's value in the stage's fragment (None if absent)."""
        return (self.metrics.get(name) or {}).get("value")

    def anchor(self, phrase: str) -> str | None:
        """#cell-<id> of the first Markdown cell mentioning `phrase` (the template gives cells ids)."""
        for cell in self.notebook.cells:
            if cell.cell_type == "markdown" and phrase.lower() in cell.source.lower() and cell.get("id"):
                return f"#cell-{cell['id']}"
        return None

    def charts(self) -> int:
        """Charts the executed notebook shows."""
        return sum(
            1
            for c in self.notebook.cells
            if c.cell_type == "code"
            for o in c.get("outputs", [])
            if "image/png" in o.get("data", {})
        )

    def dataset_tables(self, location: str) -> int:
        """The contract's datasets written to a location (not the logs beside them)."""
        from sscp_lib.contract import load_contract

        folder = self.ctx.location(location)
        datasets = load_contract().datasets
        return sum(1 for p in sorted(folder.glob("*.parquet")) if p.stem in datasets) if folder.is_dir() else 0


def in_words(value) -> str:
    """A count as the summary reads it; a dash for a figure not written."""
    return format_count(value) if isinstance(value, (int, float)) else str(value if value is not None else "–")


def read_fragment(metrics_dir: Path, stage: str) -> dict:
    """A stage's metric fragment ({} if it wrote none)."""
    path = Path(metrics_dir) / f"{stage}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def analysis_summary(view: ReportView) -> list[SummaryLine]:
    """The summary of an analysis stage: its figures and charts, and where to see what moved."""
    suppressed = sum(1 for e in view.metrics.values() if e.get("value") == "c")
    return [
        SummaryLine("In", "The validated tables: the rows that passed every critical check."),
        SummaryLine("Out", f"{len(view.metrics)} figures for the statement and {view.charts()} charts."),
        SummaryLine(
            "Check",
            f"{suppressed} figures suppressed as small counts (shown as c); figures that moved since the last run:",
            CHANGES_HREF,
            "changes page",
        ),
    ]
