"""Paths, reporting years and the partnership configuration: built here and nowhere else."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sscp_lib.catalogue import load_catalogue
from sscp_lib.files import PROJECT_ROOT
from sscp_lib.schema import check_config, read_yaml

DEFAULT_CONFIG = PROJECT_ROOT / "config" / "partnership.yaml"
NOTEBOOK_DIR = PROJECT_ROOT / "notebooks"
NARRATIVE_DIR = PROJECT_ROOT / "narrative"
KERNEL_NAME = "sscp"

_YEAR_RE = re.compile(r"^(\d{4})-(\d{2})$")


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
        """Stored clean and validated tables by content key, shared by every year and quarter run."""
        return self.processed / ".reuse"

    def reports_year(self, year: ReportingYear) -> Path:
        return self.reports / year.label


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


def load_config(path: Path | str | None = None) -> PartnershipConfig:
    path = Path(path) if path else Path(os.environ.get("SSCP_CONFIG", DEFAULT_CONFIG))
    if not path.exists():
        raise FileNotFoundError(f"partnership configuration not found: {path}")
    data = read_yaml(path.read_text(encoding="utf-8")) or {}
    check_config(data, path, load_catalogue()["metrics"])
    return PartnershipConfig(data, path)
