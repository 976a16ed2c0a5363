"""What a stage knows when it runs: the year, the folders, the configuration, whether the data
are the synthetic sample, and where each dataset it reads or writes lives.

`StageContext.from_parameters` is the one place that turns a notebook's papermill parameters
into these; `notebook_parameters` is its inverse, used by the chain. The parameters mean the
same everywhere:

    year           the reporting year, '2023-24'
    raw_dir        root of the raw agency files (holds one folder per year); None: data/raw
    processed_dir  root of the processed tables (one folder per year); None: data/processed
    reports_dir    root of the reports (one folder per year); None: reports
    report_dir     the folder this run's report is built in: the chain passes its staging
                   folder; None: <reports_dir>/<year>
    config_path    the partnership configuration; None: config/partnership.yaml (or $SSCP_CONFIG)
    quarter        the quarter a quarter's run reports on (1-4); None: the whole year, whose
                   dashboard is Q4's. A quarter's run passes the processed_dir of its own
                   (config.Paths.for_period), so it never replaces the year's tables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from sscp_lib.config import PartnershipConfig, Paths, Period, ReportingYear, ReportPaths, load_config
from sscp_lib.errors import UserError
from sscp_lib.reuse import StageInputs, read_run_inputs
from sscp_lib.stages.registry import Stage, get_stage
from sscp_lib.synthetic import is_synthetic

# The dataset catalogue: every location a stage reads or writes, by name (kedro's catalogue in
# miniature). The path rules themselves live in config.Paths and config.ReportPaths.
LOCATIONS: dict[str, tuple[str, Callable[[StageContext], Path]]] = {
    "raw": ("raw agency files of the year (earlier year folders are read too)", lambda c: c.paths.raw_year(c.year)),
    "clean": (
        "pseudonymous tables, clean_log.parquet and rejected.parquet",
        lambda c: c.paths.clean_dir(c.year),
    ),
    "validated": ("rows that passed every critical check", lambda c: c.paths.validated_dir(c.year)),
    "quarantine": ("rows that failed a critical check", lambda c: c.paths.quarantine_dir(c.year)),
    "validation_report": ("every expectation's result", lambda c: c.paths.validation_report(c.year)),
    "metric_fragments": ("one JSON file of metrics per stage", lambda c: c.paths.metrics_dir(c.year)),
    "charts": ("chart PNGs and charts.json", lambda c: c.report.charts),
    "metrics": ("every figure the statement uses (metrics.json)", lambda c: c.report.metrics_json),
    "dataset": ("the partnership dataset: dataset.json and dataset.xlsx", lambda c: c.report.root),
    "dashboard_charts": ("the dashboard's XmR charts and their charts.json", lambda c: c.report.dashboard_charts),
}


@dataclass(frozen=True)
class StageContext:
    stage: Stage
    year: ReportingYear
    paths: Paths
    report: ReportPaths
    config: PartnershipConfig
    period: Period | None = None  # None: the whole year (set in __post_init__)

    def __post_init__(self) -> None:
        if self.period is None:
            object.__setattr__(self, "period", Period(self.year))

    @property
    def run_period(self) -> Period:
        """The year, or the quarter of it, the run reports on."""
        assert self.period is not None
        return self.period

    @classmethod
    def from_parameters(
        cls,
        stage: str,
        year: str,
        raw_dir: str | Path | None = None,
        processed_dir: str | Path | None = None,
        reports_dir: str | Path | None = None,
        report_dir: str | Path | None = None,
        config_path: str | Path | None = None,
        quarter: int | str | None = None,
    ) -> StageContext:
        try:
            period = Period.parse(year, quarter)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        reporting_year = period.year
        paths = Paths.with_overrides(raw=raw_dir, processed=processed_dir, reports=reports_dir)
        report = ReportPaths(Path(report_dir) if report_dir else paths.reports_period(period))
        try:
            config = load_config(config_path)
        except FileNotFoundError as exc:
            raise UserError(str(exc)) from None
        return cls(
            stage=get_stage(stage), year=reporting_year, paths=paths, report=report, config=config, period=period
        )

    @cached_property
    def synthetic(self) -> bool:
        return is_synthetic(self.paths, self.year)

    @property
    def suppress_up_to(self) -> int:
        return self.config.suppression_threshold

    def run_inputs(self) -> StageInputs:
        """The chain's hashes of the raw inputs and its --fresh flag (none when run by hand)."""
        return read_run_inputs(self.report.run_inputs, self.paths.raw)

    @property
    def metrics_fragment(self) -> Path:
        """Where this stage writes its metrics (merged into metrics.json by the statement stage)."""
        return self.location("metric_fragments") / f"{self.stage.name}.json"

    def location(self, name: str, table: str | None = None) -> Path:
        """A catalogue location; with `table`, that dataset's parquet file inside it."""
        if name not in LOCATIONS:
            raise KeyError(f"no location {name!r} in the dataset catalogue")
        if name not in self.stage.reads + self.stage.writes:
            raise KeyError(f"stage {self.stage.name} declares no use of {name!r} (stages/registry.py)")
        folder = LOCATIONS[name][1](self)
        return folder / f"{table}.parquet" if table else folder


def notebook_parameters(
    year: ReportingYear, paths: Paths, report: ReportPaths, config_path: Path, quarter: int | None = None
) -> dict[str, str | int | None]:
    """The papermill parameters every stage notebook takes (see the module docstring)."""
    return {
        "year": year.label,
        "raw_dir": str(paths.raw),
        "processed_dir": str(paths.processed),
        "reports_dir": str(paths.reports),
        "report_dir": str(report.root),
        "config_path": str(config_path),
        "quarter": quarter,
    }
