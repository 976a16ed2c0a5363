"""Dashboard stage: the partnership dataset for the quarter reported on (dataset.json and
dataset.xlsx) and the dashboard's XmR charts, from the validated tables cut at the quarter's end.

A year's run reports on its Q4 (beside the statement); a quarter's run on its own quarter. The
indicators are computed by sscp_lib.analysis.indicators.build_dataset (one computation each,
quarters whose data have not arrived marked "not yet received"); this stage cuts the tables at
the quarter's end, writes the files and draws the charts. The dashboard page and its PDF are
rendered by the chain (chain.dashboard_run), which knows whether the run is approved.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from sscp_lib.stages.summary import ReportView, SummaryLine

if TYPE_CHECKING:
    import pandas as pd

    from sscp_lib.stages.context import StageContext
    from sscp_lib.stages.result import StageResult

# What run() works with, imported by the stage's warm kernel before the stage starts.
LIBRARIES = (
    "sscp_lib.analysis.indicators",
    "sscp_lib.analysis.received",
    "sscp_lib.ingest.comparators",
    "sscp_lib.publishing.charts.dashboard",
    "sscp_lib.publishing.dashboard",
    "sscp_lib.publishing.dataset_files",
    "sscp_lib.stages.loading",
    "sscp_lib.stages.result",
)


def available_datasets(ctx: StageContext) -> list[str]:
    """The contract's datasets with a validated table this run (a partnership may send fewer)."""
    from sscp_lib.contract import load_contract

    folder = ctx.location("validated")
    return [name for name in load_contract().datasets if (folder / f"{name}.parquet").exists()]


def build(ctx: StageContext) -> dict:
    """The quarter's dataset (the dataset.json structure) from the tables cut at its end."""
    from sscp_lib.analysis.indicators import build_dataset
    from sscp_lib.analysis.received import cut_at, quarters_received, year_quarters
    from sscp_lib.errors import UserError
    from sscp_lib.ingest.comparators import read_comparators
    from sscp_lib.stages.loading import load_validated_tables

    quarter = ctx.run_period.dashboard_quarter
    tables = cut_at(load_validated_tables(ctx, available_datasets(ctx)), quarter)
    if not any(quarters_received(tables, year_quarters(quarter)).values()):
        raise UserError(
            f"no data for {quarter.label}: none of the validated tables holds a row dated between "
            f"{quarter.year.start:%-d %B %Y} and {quarter.end:%-d %B %Y}"
        )
    comparators = read_comparators(ctx.config)
    return build_dataset(tables, ctx.year, quarter.number, ctx.config, comparators, synthetic=ctx.synthetic)


def grid_frames(dataset: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The dashboard's summary grid for the notebook: the values (latest quarter, the quarter
    before, the same quarter a year earlier) and the verdicts, indicator first in each."""
    import pandas as pd

    from sscp_lib.publishing import dashboard as wording

    quarter = wording.period_quarter(dataset["period"])
    values, verdicts = [], []
    for _, row in wording.indicator_rows(dataset, {}):
        values.append(
            {
                "indicator": row.label,
                wording.quarter_short(quarter): row.latest.text,
                wording.quarter_short(quarter.previous): row.previous.text,
                wording.quarter_short(quarter.same_quarter_last_year): row.last_year.text,
            }
        )
        verdicts.append(
            {
                "indicator": row.label,
                "rating": row.rag.words,
                "variation": row.variation.words,
                "assurance": row.assurance.words,
                "comparator": row.comparator,
            }
        )
    return pd.DataFrame(values), pd.DataFrame(verdicts)


def received_frame(dataset: dict) -> pd.DataFrame:
    """Indicators with a quarter of the year not yet received."""
    import pandas as pd

    from sscp_lib.publishing import dashboard as wording

    rows = [
        {"indicator": i["label"], "not yet received": ", ".join(wording.not_received(i, dataset))}
        for i in dataset.get("indicators", [])
        if wording.not_received(i, dataset)
    ]
    return pd.DataFrame(rows, columns=["indicator", "not yet received"])


def run(ctx: StageContext) -> StageResult:
    import pandas as pd

    from sscp_lib.publishing import dashboard as wording
    from sscp_lib.publishing.charts.dashboard import save_dashboard_charts
    from sscp_lib.publishing.dataset_files import write_dataset_files
    from sscp_lib.stages.result import StageResult

    dataset = build(ctx)
    write_dataset_files(dataset, ctx.location("dataset"))
    charts = save_dashboard_charts(dataset, ctx.location("dashboard_charts"), ctx.synthetic)
    values, verdicts = grid_frames(dataset)
    return StageResult(
        stage=ctx.stage.name,
        summary=(
            f"{dataset['period']}: {len(dataset.get('indicators', []))} indicators written to dataset.json and "
            f"dataset.xlsx, {len(charts)} charts; synthetic sample: {'yes' if ctx.synthetic else 'no'}"
        ),
        tables={
            "values": values,
            "verdicts": verdicts,
            "not_received": received_frame(dataset),
            "changed": pd.DataFrame({"what changed significantly": wording.changed_sentences(dataset)}),
        },
        charts=charts,
        detail=dataset,
    )


def report_summary(view: ReportView) -> list[SummaryLine]:
    """The stage report's summary, from the dataset.json the stage wrote."""
    path = view.ctx.location("dataset") / "dataset.json"
    dataset = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    indicators = dataset.get("indicators") or []
    return [
        SummaryLine("In", "The validated tables, cut at the end of the quarter reported on."),
        SummaryLine(
            "Out",
            f"The partnership dataset for {dataset.get('period', 'the period')}: {len(indicators)} indicators "
            f"(dataset.json and dataset.xlsx) and {view.charts()} charts.",
        ),
        SummaryLine("Check", "The dashboard itself, linked from the index, says what changed significantly."),
    ]
