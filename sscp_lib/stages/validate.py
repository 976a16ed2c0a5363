"""Validate stage: the clean tables checked with Great Expectations against the data contract.

Rows failing a critical row-level check are quarantined; a critical table-level failure stops
the chain, after the whole report has been shown (`StageResult.raise_if_stopped`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sscp_lib.stages.summary import ReportView, SummaryLine, in_words

if TYPE_CHECKING:
    import pandas as pd

    from sscp_lib.stages.context import StageContext
    from sscp_lib.stages.result import StageResult
    from sscp_lib.validation.suites import ValidationReport

# What run() works with, imported by the stage's warm kernel before the stage starts (Great
# Expectations: seconds).
LIBRARIES = ("pandas", "sscp_lib.validation.suites", "sscp_lib.stages.result")

BY_TABLE_COLUMNS = ["dataset", "expectations", "passed", "failed", "warned", "rows_quarantined"]


def metric_values(report: ValidationReport) -> dict[str, object]:
    """The validate stage's metrics by catalogue name."""
    from sscp_lib.validation import suites as validate

    results = report.results
    return {
        "validation.expectations_passed": sum(r.success for r in results),
        "validation.expectations_failed": sum((not r.success) and r.critical for r in results),
        "validation.expectations_warned": sum((not r.success) and not r.critical for r in results),
        "validation.rows_quarantined": report.rows_quarantined,
        "validation.by_table": validate.summary_frame(report)[BY_TABLE_COLUMNS].assign(
            dataset=[table.title for table in report.tables.values()]  # in words on the statement's page
        ),
        "validation.warnings": report.warnings,
    }


def reuse_table(records: list[dict]) -> pd.DataFrame:
    """Each table's validation key and whether its validation was rebuilt or reused, and from which run."""
    import pandas as pd

    from sscp_lib.report_tables import report_frame

    frame = pd.DataFrame(
        [
            {
                "dataset": r["dataset"],
                "key": (r["key"] or "")[:16] or "(none: its clean table was not keyed)",
                "validation": r["outcome"],
                "from": r["reused_from"] or "this run",
            }
            for r in records
        ],
        columns=["dataset", "key", "validation", "from"],
    )
    return report_frame(frame, empty="No reuse store: every table was validated in this run.")


def expectation_sections(report: ValidationReport) -> list[tuple[str, pd.DataFrame | None]]:
    """For each table: a heading line, then its expectations (or why it was not validated)."""
    from sscp_lib.validation import suites as validate

    sections: list[tuple[str, pd.DataFrame | None]] = []
    for name, table in report.tables.items():
        sections.append(
            (
                f"### {name}\n\n{table.title}: {table.rows:,} rows, {table.rows_in_year:,} in {report.year}; "
                f"{table.rows_quarantined:,} quarantined.",
                None,
            )
        )
        if table.missing_file is not None:
            sections.append((f"**Not validated:** {'; '.join(table.stops)}.", None))
        else:
            sections.append(("", validate.expectations_frame(report, name)))
    return sections


def run(ctx: StageContext) -> StageResult:
    import pandas as pd

    from sscp_lib.metrics import MetricStore
    from sscp_lib.reuse import ReuseStore
    from sscp_lib.stages.result import StageResult
    from sscp_lib.validation import suites as validate

    report = validate.validate_year(
        ctx.year,
        ctx.paths,
        ctx.config,
        stop=False,
        store=ReuseStore(ctx.paths.reuse_store),
        fresh=ctx.run_inputs().fresh,
    )
    reused = sum(r["outcome"] == "reused" for r in report.reuse)
    store = None
    if report.stopped:
        ctx.metrics_fragment.unlink(missing_ok=True)  # no stale figures outlive a stopped run
    else:
        store = MetricStore(ctx.suppress_up_to).add_all(metric_values(report))
        store.write(ctx.metrics_fragment)
    metrics = (
        pd.DataFrame(
            {
                name: {"value": entry["value"]}
                for name, entry in store.metrics.items()
                if name not in ("validation.by_table", "validation.warnings")
            }
        ).T
        if store
        else pd.DataFrame()
    )
    return StageResult(
        stage=ctx.stage.name,
        summary=(
            f"{ctx.year}: {len(report.tables)} tables, {len(report.results)} expectations; "
            f"{report.rows_quarantined:,} rows quarantined; "
            + ("validation STOPPED the chain" if report.stopped else "the chain goes on")
            + f"; {reused} of {len(report.reuse)} tables' validation reused from earlier runs (nothing it depends on changed)"
        ),
        tables={
            "run": validate.run_summary(report),
            "summary": validate.summary_frame(report),
            "failures": validate.failures_frame(report),
            "quarantine": validate.quarantine_frame(report),
            "warnings": pd.DataFrame({"data-quality note": report.warnings}),
            "reuse": reuse_table(report.reuse),
            "metrics": metrics,
        },
        sections={"expectations": expectation_sections(report)},
        metrics=store,
        detail=report,
        stop=report.stop_error(),
    )


def report_summary(view: ReportView) -> list[SummaryLine]:
    failed, warned = view.value("validation.expectations_failed"), view.value("validation.expectations_warned")
    passed = view.value("validation.expectations_passed")
    total = sum(v for v in (failed, warned, passed) if isinstance(v, int))
    tables = view.dataset_tables("validated")
    return [
        SummaryLine("In", f"{tables} clean tables checked against {in_words(total)} expectations."),
        SummaryLine(
            "Out",
            f"{tables} validated tables; {in_words(view.value('validation.rows_quarantined'))} rows quarantined.",
        ),
        SummaryLine(
            "Check",
            f"{in_words(failed)} critical expectations failed and {in_words(warned)} warnings:",
            view.anchor("Every expectation not met"),
            "every expectation not met",
        ),
    ]
