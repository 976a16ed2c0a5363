"""Clean stage: every raw file of the year (and earlier years) to pseudonymous canonical tables,
with a clean log that reconciles each file and the rows it rejected."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sscp_lib.stages.summary import ReportView, SummaryLine, in_words
from sscp_lib.synthetic import SYNTHETIC_METRIC

if TYPE_CHECKING:
    import pandas as pd

    from sscp_lib.ingest.clean import CleanResult
    from sscp_lib.metrics import MetricStore
    from sscp_lib.stages.context import StageContext
    from sscp_lib.stages.result import StageResult

# What run() works with, imported by the stage's warm kernel before the stage starts.
LIBRARIES = ("pandas", "sscp_lib.ingest.clean", "sscp_lib.ingest.pseudonymise", "sscp_lib.stages.result")

RECONCILIATION_COLUMNS = [
    "dataset",
    "file",
    "sheet",
    "format",
    "encoding",
    "rows_read",
    "rows_kept",
    "duplicates_removed",
    "rows_rejected",
    "rows_skipped",
]


def metric_values(result: CleanResult) -> dict[str, object]:
    """The clean stage's metrics by catalogue name: the run and its data-quality figures."""
    return {
        SYNTHETIC_METRIC: bool(result.synthetic),
        "run.files_read": int(result.log["file"].nunique()),
        "run.rows_read": int(result.log["rows_read"].sum()),
        "run.rows_rejected": int(result.log["rows_rejected"].sum()),
        "run.duplicates_removed": int(result.log["duplicates_removed"].sum()),
        "data.nfa_recoded": int(result.nfa_recoded),
    }


def rows_by_year(result: CleanResult) -> pd.DataFrame:
    """Rows in each processed table by reporting year."""
    import pandas as pd

    return (
        pd.DataFrame(
            {
                name: pd.Series(
                    list(counts.values()),
                    index=pd.Index(list(counts), dtype="string", name="reporting_year"),
                    name="count",
                    dtype="int64",
                )
                for name, counts in result.year_counts.items()
            }
        )
        .T.fillna(0)
        .astype(int)
    )


def reuse_table(records: list[dict]) -> pd.DataFrame:
    """Each dataset's clean key and whether its table was rebuilt or reused, and from which run."""
    import pandas as pd

    from sscp_lib.report_tables import report_frame

    frame = pd.DataFrame(
        [
            {
                "dataset": r["dataset"],
                "key": r["key"][:16],
                "table": r["outcome"],
                "from": r["reused_from"] or "this run",
            }
            for r in records
        ],
        columns=["dataset", "key", "table", "from"],
    )
    return report_frame(frame, empty="No reuse store: every table was cleaned in this run.")


def metrics_table(store: MetricStore) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(
        [(name, entry["label"], entry["value"]) for name, entry in store.metrics.items()],
        columns=["metric", "label", "value"],
    )


def run(ctx: StageContext) -> StageResult:
    from sscp_lib.ingest.clean import clean_year
    from sscp_lib.ingest.pseudonymise import load_key
    from sscp_lib.metrics import MetricStore
    from sscp_lib.reuse import ReuseStore
    from sscp_lib.stages.result import StageResult

    run_inputs = ctx.run_inputs()
    result = clean_year(
        ctx.year,
        ctx.paths.raw,
        ctx.location("clean"),
        ctx.config,
        load_key(),
        store=ReuseStore(ctx.paths.reuse_store),
        input_hashes=run_inputs.hashes,
        fresh=run_inputs.fresh,
    )
    reused = sum(r["outcome"] == "reused" for r in result.reuse)
    store = MetricStore(ctx.suppress_up_to).add_all(metric_values(result))
    store.write(ctx.metrics_fragment)
    return StageResult(
        stage=ctx.stage.name,
        summary=(
            f"{ctx.year}: {len(result.log)} files read, {result.rows_read:,} rows; "
            f"synthetic sample: {'yes' if result.synthetic else 'no'}; tables written to {result.out_dir}; "
            f"{reused} of {len(result.reuse)} tables reused from earlier runs (their inputs unchanged)"
        ),
        tables={
            "reconciliation": result.log[RECONCILIATION_COLUMNS],
            "rows_by_year": rows_by_year(result),
            "rejected_by_reason": result.rejected_by_reason(),
            "extra_columns": result.extra_columns(),
            "files_not_read": result.files_not_read(),
            "reuse": reuse_table(result.reuse),
            "metrics": metrics_table(store),
        },
        metrics=store,
        detail=result,
    )


def report_summary(view: ReportView) -> list[SummaryLine]:
    rejected, duplicates = view.value("run.rows_rejected"), view.value("run.duplicates_removed")
    read = view.value("run.rows_read")
    kept = read - rejected - duplicates if all(isinstance(v, int) for v in (read, rejected, duplicates)) else None
    tables = view.dataset_tables("clean")
    return [
        SummaryLine("In", f"{in_words(view.value('run.files_read'))} raw files, {in_words(read)} rows."),
        SummaryLine(
            "Out", f"{tables} pseudonymous tables holding {in_words(kept)} rows; names and dates of birth dropped."
        ),
        SummaryLine(
            "Check",
            f"{in_words(rejected)} rows rejected and {in_words(duplicates)} exact duplicates removed:",
            view.anchor("Rejected rows"),
            "rejected rows by file, column and reason",
        ),
    ]
