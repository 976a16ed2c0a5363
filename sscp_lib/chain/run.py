"""One chain run's context: its year, folders and configuration, and its inputs, each loaded once.

The partnership config is read and schema-checked once, when the run's arguments are checked
(`open_run`), and every part of the chain's process reads that object. The files the run reads and
an approval holds for (the raw files of the year and earlier years, the config, a source mapping
kept in its own file, the year's narrative) are hashed once, then: the manifest's fingerprint, the
review's approval state and the stage reports' provenance all read `RunInputs`.

A stage's kernel gets what it needs as its notebook's parameters (stages.context) and reads the
config once itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sscp_lib.config import DEFAULT_CONFIG, PartnershipConfig, Paths, Period, ReportingYear, ReportPaths, load_config
from sscp_lib.errors import UserError
from sscp_lib.files import display_path, sha256_file
from sscp_lib.stages import Stage, get_stage, stages_for

if TYPE_CHECKING:
    from sscp_lib.review.workflow import StatementStatus
    from sscp_lib.stages import StageContext


@dataclass
class StageRecord:
    """One stage's outcome in this run, as the manifest and the index record it."""

    name: str
    notebook: str
    outcome: str = "not run"  # ok | failed | not run | reused
    seconds: float | None = None
    error: str | None = None
    html: str | None = None

    @property
    def stage(self) -> Stage:
        return get_stage(self.name)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def input_files(paths: Paths, year: ReportingYear) -> list[Path]:
    """Raw files the clean stage reads: the reporting year and every earlier year folder."""
    files: list[Path] = []
    if not paths.raw.exists():
        return files
    for folder in sorted(p for p in paths.raw.iterdir() if p.is_dir()):
        try:
            folder_year = ReportingYear.parse(folder.name)
        except ValueError:
            continue
        if folder_year <= year:
            files.extend(sorted(f for f in folder.rglob("*") if f.is_file()))
    return files


@dataclass(frozen=True)
class RunInputs:
    """The files a run reads and an approval holds for, each hashed once (SHA-256 by path)."""

    raw_root: Path
    raw_files: list[Path]
    config: Path
    source_mapping: Path | None  # a source mapping kept in its own file
    narrative: Path | None  # the statement's narrative; a quarter's run: the dashboard's commentary
    sha256: dict[Path, str]
    # A year's run: the Q4 dashboard's commentary beside the statement; its hash (None where none
    # is written) is in the fingerprint too, so changing it makes the approved run a draft again.
    dashboard_commentary: Path | None = None
    period: Period | None = None

    @classmethod
    def hashed(
        cls, paths: Paths, year: ReportingYear, config: PartnershipConfig, period: Period | None = None
    ) -> RunInputs:
        from sscp_lib.ingest.sources import mapping_file
        from sscp_lib.review.workflow import dashboard_commentary_file, narrative_file

        period = period or Period(year)
        mapping = mapping_file(config)
        raw_files, config_path = input_files(paths, year), Path(config.path)
        mapping = mapping if mapping and mapping.is_file() else None
        commentary = dashboard_commentary_file(config, period)
        narrative = commentary if period.quarterly else narrative_file(config, year.label)
        hashed = [path for path in (*raw_files, config_path, mapping, narrative, commentary) if path is not None]
        return cls(
            raw_root=paths.raw,
            raw_files=raw_files,
            config=config_path,
            source_mapping=mapping,
            narrative=narrative,
            sha256={path: sha256_file(path) for path in dict.fromkeys(hashed)},
            dashboard_commentary=None if period.quarterly else commentary,
            period=period,
        )

    def fingerprint(self) -> dict:
        """What an approval holds for (review.approvals.fingerprint), as the manifest records it."""
        mapping, narrative = self.source_mapping, self.narrative
        return {
            "config_sha256": self.sha256[self.config],
            "source_mapping": {"path": str(mapping), "sha256": self.sha256[mapping]} if mapping else None,
            "inputs": {str(f.relative_to(self.raw_root)): self.sha256[f] for f in self.raw_files},
            "narrative_file": display_path(narrative) if narrative else None,
            "narrative_sha256": self.sha256[narrative] if narrative else None,
        } | self._dashboard_fingerprint()

    def _dashboard_fingerprint(self) -> dict:
        if self.period is not None and self.period.quarterly:
            return {}
        commentary = self.dashboard_commentary
        return {"dashboard_narrative_sha256": self.sha256[commentary] if commentary else None}


@dataclass
class RunContext:
    year: ReportingYear
    period: Period  # the year (statement and Q4 dashboard) or one quarter (its dashboard)
    paths: Paths
    config: PartnershipConfig  # read and checked once for the run
    inputs: RunInputs  # hashed once for the run
    staging: ReportPaths
    final: ReportPaths
    make_pdf: bool
    started: datetime
    stages: list[StageRecord] = field(default_factory=list)
    statement_status: StatementStatus | None = None  # draft or approved
    fresh: bool = False  # rebuild every clean and validated table, reusing none (sscp run --fresh)

    @property
    def config_path(self) -> Path:
        return Path(self.config.path)

    @property
    def run_stages(self) -> tuple[Stage, ...]:
        return tuple(record.stage for record in self.stages)

    @property
    def run_arguments(self) -> str:
        """The run's `sscp run` arguments, for the messages that say how to resume."""
        return f"--year {self.year}" + (f" --quarter {self.period.quarter_number}" if self.period.quarterly else "")

    @property
    def partnership(self) -> str:
        return self.config["partnership"]["name"]

    @property
    def marking(self) -> str:
        return self.config.get("protective_marking", "OFFICIAL")

    def stage_context(self, record: StageRecord) -> StageContext:
        """The stage's context as its kernel builds it, with this run's config (for its report)."""
        from sscp_lib.stages import StageContext

        return StageContext(
            stage=record.stage,
            year=self.year,
            paths=self.paths,
            report=self.staging,
            config=self.config,
            period=self.period,
        )


def years_with_data(paths: Paths) -> list[ReportingYear]:
    """The reporting years that have a folder in the raw data folder, oldest first."""
    found = []
    for folder in paths.raw.iterdir() if paths.raw.is_dir() else []:
        try:
            found.append(ReportingYear.parse(folder.name))
        except ValueError:
            continue
    return sorted(found)


def check_year_in_range(year: ReportingYear, config: PartnershipConfig, config_path: Path) -> None:
    """A year before config data_rules.earliest_year stops here, before any stage, in one sentence."""
    configured = (config.get("data_rules") or {}).get("earliest_year")
    if not configured:
        return
    try:
        earliest = ReportingYear.parse(str(configured))
    except ValueError as exc:
        raise UserError(f"{display_path(config_path)}: data_rules.earliest_year: {exc}") from None
    if year < earliest:
        raise UserError(
            f"{year} is before the earliest reporting year the partnership keeps (data_rules.earliest_year is "
            f'"{earliest}" in {display_path(config_path)}); to report on {year}, set data_rules.earliest_year '
            f'to "{year}" there.'
        )


def open_run(
    year: ReportingYear,
    raw: str | Path | None,
    processed: str | Path | None,
    reports: str | Path | None,
    config: str | Path | None,
    pdf: bool,
    quarter: int | None = None,
) -> RunContext:
    """The run's context once its folders, configuration and source mapping are checked; a
    quarter's run (quarter 1-4) has its own report folder and processed tables (Paths.for_period)."""
    period = Period(year, quarter)
    paths = Paths.with_overrides(*(Path(folder).resolve() if folder else None for folder in (raw, processed, reports)))
    paths = paths.for_period(period)
    config_path = Path(config).resolve() if config else DEFAULT_CONFIG
    try:
        partnership_config = load_config(config_path)
    except FileNotFoundError as exc:
        raise UserError(str(exc)) from None
    from sscp_lib.contract import load_contract
    from sscp_lib.ingest.sources import resolve_sources

    resolve_sources(load_contract(), partnership_config)  # A bad source mapping stops here, in one message
    check_year_in_range(year, partnership_config, config_path)
    if not paths.raw_year(year).is_dir():
        years = ", ".join(str(y) for y in years_with_data(paths)) or "none"
        raise UserError(
            f"no raw data for {year}: expected a folder {paths.raw_year(year)} "
            f"(years with a folder: {years}; `make report` writes the synthetic sample there)"
        )
    started = datetime.now(UTC)
    return RunContext(
        year=year,
        period=period,
        paths=paths,
        config=partnership_config,
        inputs=RunInputs.hashed(paths, year, partnership_config, period),
        staging=ReportPaths(paths.staging_period(period)),
        final=ReportPaths(paths.reports_period(period)),
        make_pdf=pdf,
        started=started,
        stages=[StageRecord(stage.name, stage.notebook) for stage in stages_for("quarter" if quarter else "year")],
    )
