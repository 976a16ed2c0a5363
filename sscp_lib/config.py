"""Paths, reporting years and the partnership configuration: built here and nowhere else."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sscp_lib.catalogue import load_catalogue, load_indicators
from sscp_lib.files import PROJECT_ROOT
from sscp_lib.schema import check_config, read_yaml

DEFAULT_CONFIG = PROJECT_ROOT / "config" / "partnership.yaml"
NOTEBOOK_DIR = PROJECT_ROOT / "notebooks"
NARRATIVE_DIR = PROJECT_ROOT / "narrative"
KERNEL_NAME = "sscp"

_YEAR_RE = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER_FOLDER_RE = re.compile(r"^\d{4}-\d{2}-Q[1-4]$")  # a quarter run's processed root (Paths.for_period)


@dataclass(frozen=True, order=True)
class ReportingYear:
    """A financial reporting year, April to March, written '2023-24'."""

    start_year: int

    @classmethod
    def parse(cls, text: str) -> ReportingYear:
        match = _YEAR_RE.match(str(text).strip())
        if not match or (int(match.group(1)) + 1) % 100 != int(match.group(2)):
            raise ValueError(f"reporting year must look like 2023-24, not {text!r}")
        return cls(int(match.group(1)))

    @classmethod
    def containing(cls, day: date) -> ReportingYear:
        return cls(day.year if day.month >= 4 else day.year - 1)

    @property
    def label(self) -> str:
        return f"{self.start_year}-{(self.start_year + 1) % 100:02d}"

    @property
    def start(self) -> date:
        return date(self.start_year, 4, 1)

    @property
    def end(self) -> date:
        return date(self.start_year + 1, 3, 31)

    @property
    def previous(self) -> ReportingYear:
        return ReportingYear(self.start_year - 1)

    def __str__(self) -> str:
        return self.label

    def quarter(self, number: int) -> Quarter:
        return Quarter(self, number)


QUARTERS = (1, 2, 3, 4)


@dataclass(frozen=True, order=True)
class Quarter:
    """A quarter of a reporting year: Q1 is April to June, Q4 January to March."""

    year: ReportingYear
    number: int

    def __post_init__(self) -> None:
        if self.number not in QUARTERS:
            raise ValueError(f"a quarter is 1, 2, 3 or 4 (April-June to January-March), not {self.number!r}")

    @property
    def label(self) -> str:
        return f"{self.year.label}-Q{self.number}"

    @property
    def start(self) -> date:
        month = 4 + 3 * (self.number - 1)
        return date(self.year.start_year + (month > 12), (month - 1) % 12 + 1, 1)

    @property
    def end(self) -> date:
        following = self.next.start if self.number < 4 else date(self.year.start_year + 1, 4, 1)
        return date.fromordinal(following.toordinal() - 1)

    @property
    def next(self) -> Quarter:
        return (
            Quarter(self.year, self.number + 1)
            if self.number < 4
            else Quarter(ReportingYear(self.year.start_year + 1), 1)
        )

    @property
    def previous(self) -> Quarter:
        return Quarter(self.year, self.number - 1) if self.number > 1 else Quarter(self.year.previous, 4)

    @property
    def same_quarter_last_year(self) -> Quarter:
        return Quarter(self.year.previous, self.number)

    @property
    def months(self) -> list[str]:
        """The quarter's months as 'YYYY-MM'."""
        first = self.start
        return [f"{first.year + (first.month + i > 12)}-{(first.month + i - 1) % 12 + 1:02d}" for i in range(3)]

    def __str__(self) -> str:
        return self.label


@dataclass(frozen=True)
class Period:
    """What a run reports on: a whole year (the statement, with the Q4 dashboard beside it) or
    one quarter of it (the dashboard alone, in a report folder of its own)."""

    year: ReportingYear
    quarter_number: int | None = None

    @classmethod
    def parse(cls, year: str, quarter: int | str | None = None) -> Period:
        """ValueError with one sentence for a year or quarter that is not one."""
        reporting_year = ReportingYear.parse(year)
        if quarter is None or quarter == "":
            return cls(reporting_year)
        try:
            number = int(quarter)
        except (TypeError, ValueError):
            number = -1
        if number not in QUARTERS:
            raise ValueError(f"a quarter is 1, 2, 3 or 4 (April-June to January-March), not {quarter!r}")
        return cls(reporting_year, number)

    @property
    def quarterly(self) -> bool:
        return self.quarter_number is not None

    @property
    def dashboard_quarter(self) -> Quarter:
        """The quarter the run's dashboard shows: the quarter run's own, or Q4 for a year."""
        return Quarter(self.year, self.quarter_number or 4)

    @property
    def label(self) -> str:
        """The report folder's name: '2023-24' or '2023-24-Q3'."""
        return self.dashboard_quarter.label if self.quarterly else self.year.label

    @property
    def end(self) -> date:
        return self.dashboard_quarter.end

    def __str__(self) -> str:
        return self.label


@dataclass(frozen=True)
class Paths:
    """Where a run reads and writes. Every stage builds its paths from this."""

    raw: Path
    processed: Path
    reports: Path

    @classmethod
    def default(cls) -> Paths:
        return cls(
            raw=PROJECT_ROOT / "data" / "raw",
            processed=PROJECT_ROOT / "data" / "processed",
            reports=PROJECT_ROOT / "reports",
        )

    @classmethod
    def with_overrides(cls, raw=None, processed=None, reports=None) -> Paths:
        """The default folders, each replaced by the one given (None keeps the default).

        Stage notebooks get their folders as papermill parameters that are None when run by hand.
        """
        default = cls.default()
        return cls(
            raw=Path(raw) if raw else default.raw,
            processed=Path(processed) if processed else default.processed,
            reports=Path(reports) if reports else default.reports,
        )

    def raw_year(self, year: ReportingYear) -> Path:
        return self.raw / year.label

    def processed_year(self, year: ReportingYear) -> Path:
        return self.processed / year.label

    def clean_dir(self, year: ReportingYear) -> Path:
        return self.processed_year(year) / "clean"

    def validated_dir(self, year: ReportingYear) -> Path:
        return self.processed_year(year) / "validated"

    def quarantine_dir(self, year: ReportingYear) -> Path:
        return self.processed_year(year) / "quarantine"

    def validation_report(self, year: ReportingYear) -> Path:
        return self.processed_year(year) / "validation.json"

    def metrics_dir(self, year: ReportingYear) -> Path:
        """Per-stage metric fragments; merged into reports/<year>/metrics.json."""
        return self.processed_year(year) / "metrics"

    @property
    def reuse_store(self) -> Path:
        """Stored clean and validated tables by content key, shared by every year and quarter run:
        a quarter's processed root (<root>/2023-24-Q3, see for_period) uses its root's store."""
        root = self.processed.parent if _QUARTER_FOLDER_RE.match(self.processed.name) else self.processed
        return root / ".reuse"

    def reports_year(self, year: ReportingYear) -> Path:
        return self.reports / year.label

    def reports_period(self, period: Period) -> Path:
        """A run's report folder: reports/2023-24 for a year, reports/2023-24-Q3 for a quarter."""
        return self.reports / period.label

    def staging_period(self, period: Period) -> Path:
        """Where a run's report is built before it is swapped into reports_period."""
        return self.reports / f".staging-{period.label}"

    def for_period(self, period: Period) -> Paths:
        """The folders a run of `period` uses: a quarter run keeps its processed tables apart
        (data/processed/2023-24-Q3/2023-24/...), so it never replaces those the year's
        statement was made from."""
        if not period.quarterly:
            return self
        return Paths(raw=self.raw, processed=self.processed / period.label, reports=self.reports)


def charts_index(charts_dir: Path) -> Path:
    """The index of a charts folder: {name: {title, alt, source, heading, file}}."""
    return Path(charts_dir) / "charts.json"


@dataclass(frozen=True)
class ReportPaths:
    """Layout of one year's report folder (the final one, or the staging copy being built)."""

    root: Path

    @property
    def notebooks(self) -> Path:
        return self.root / "notebooks"

    @property
    def charts(self) -> Path:
        return self.root / "charts"

    @property
    def charts_index(self) -> Path:
        return charts_index(self.charts)

    @property
    def statement_html(self) -> Path:
        return self.root / "assurance-statement.html"

    @property
    def statement_pdf(self) -> Path:
        return self.root / "assurance-statement.pdf"

    @property
    def index_html(self) -> Path:
        return self.root / "index.html"

    @property
    def metrics_json(self) -> Path:
        return self.root / "metrics.json"

    @property
    def manifest_json(self) -> Path:
        return self.root / "manifest.json"

    # The Partnership Dashboard: in a quarter's folder, or beside the statement (Q4).
    @property
    def dashboard_html(self) -> Path:
        return self.root / "partnership-dashboard.html"

    @property
    def dashboard_pdf(self) -> Path:
        return self.root / "partnership-dashboard.pdf"

    @property
    def dataset_json(self) -> Path:
        return self.root / "dataset.json"

    @property
    def dataset_xlsx(self) -> Path:
        return self.root / "dataset.xlsx"

    @property
    def dashboard_charts(self) -> Path:
        return self.root / "dashboard-charts"

    @property
    def dashboard_charts_index(self) -> Path:
        return charts_index(self.dashboard_charts)

    @property
    def run_inputs(self) -> Path:
        """The run's input hashes and whether it rebuilds everything, for its stages (sscp_lib.reuse)."""
        return self.root / "inputs.json"


class PartnershipConfig(dict):
    """config/partnership.yaml as a dict, with the few typed accessors the code needs."""

    def __init__(self, data: dict, path: Path):
        super().__init__(data)
        self.path = path

    @property
    def suppression_threshold(self) -> int:
        return int(self["disclosure"]["suppress_up_to"])

    @property
    def child_population(self) -> int:
        return int(self["child_population"])

    def data_rule_date(self, name: str) -> date:
        value = self["data_rules"][name]
        return value if isinstance(value, date) else date.fromisoformat(str(value))


def indicator_specs() -> dict[str, dict]:
    """Every indicator id (a breakdown's as <id>.<code>) with its catalogue entry."""
    from sscp_lib.contract import load_contract

    specs: dict[str, dict] = {}
    for name, spec in load_indicators()["indicators"].items():
        breakdown = spec.get("breakdown")
        if not breakdown:
            specs[name] = spec
            continue
        for code in load_contract().code_lists[breakdown["codes"]].codes:
            specs[f"{name}.{code}"] = spec
    return specs


def load_config(path: Path | str | None = None) -> PartnershipConfig:
    path = Path(path) if path else Path(os.environ.get("SSCP_CONFIG", DEFAULT_CONFIG))
    if not path.exists():
        raise FileNotFoundError(f"partnership configuration not found: {path}")
    data = read_yaml(path.read_text(encoding="utf-8")) or {}
    check_config(data, path, load_catalogue()["metrics"], indicator_specs())
    return PartnershipConfig(data, path)


def rating(value: float, green: float, amber: float, higher_is_better: bool) -> tuple[str, str]:
    """A figure rated against the partnership's thresholds: (green, amber or red, and "or more" or
    "or less", the words for how a threshold is met). The statement's RAG and the dashboard's share it."""
    if higher_is_better:
        return ("green" if value >= green else "amber" if value >= amber else "red"), "or more"
    return ("green" if value <= green else "amber" if value <= amber else "red"), "or less"
