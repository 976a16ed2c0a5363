"""Review of a year's runs: the chain's hooks (history, approval state, changes page) and the
`sscp diff` and `sscp approve` commands. The work is done by history, approvals, changes and
changes_report; this module wires them to the report folders."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sscp_lib.config import DEFAULT_CONFIG, Paths, ReportingYear, load_config
from sscp_lib.errors import UserError
from sscp_lib.review.approvals import ApprovalState, approval_state, fingerprint, load_approvals, record_approval
from sscp_lib.review.changes import Comparison, compare_runs
from sscp_lib.review.changes_report import CHANGES_PAGE, changes_text, write_changes_page
from sscp_lib.review.history import Run, carry_over, latest_earlier_run, load_run, runs_kept


def narrative_file(config, year: str) -> Path | None:
    """The year's narrative file, or None where the config names none that exists."""
    from sscp_lib.publishing.narrative import narrative_path

    try:
        return narrative_path(config, year)
    except UserError:
        return None


# --- Hooks for the chain ------------------------------------------------------------------------


@dataclass
class StatementStatus:
    """What the statement's page shows about approval: the marking and one line on the first page."""

    approved: bool
    text: str  # "Approved by ..." or why it is a draft

    @property
    def line(self) -> str:
        return self.text if self.approved else f"Draft. {self.text}"

    def marking(self, marking: str) -> str:
        return marking if self.approved else f"{marking} – DRAFT"

    def as_dict(self) -> dict:
        return {"approved": self.approved, "text": self.text}


def before_statement(
    final_root: Path, staging_root: Path, config, current: dict, started: str
) -> tuple[Run | None, StatementStatus]:
    """Carry the history and approvals into the staging folder; the statement's approval status
    for a run with fingerprint `current` (see approvals.fingerprint)."""
    previous = carry_over(final_root, staging_root, runs_kept(config))
    state = approval_state(load_approvals(staging_root), current)
    return previous, StatementStatus(
        state.approved, state.approved_line() if state.approved else state.draft_line(started)
    )


def after_manifest(
    staging_root: Path, previous: Run | None, config, *, partnership: str, synthetic: bool, marking: str
):
    """Write the changes page into the staging folder; returns the comparison."""
    new = load_run(staging_root)
    comparison = compare_runs(new, previous, config, narrative_file(config, new.manifest["year"]))
    write_changes_page(comparison, staging_root, partnership=partnership, synthetic=synthetic, marking=marking)
    return comparison


def index_entry(comparison: Comparison) -> dict:
    """The changes page as the index links it, with its one-line count."""
    return {"html": CHANGES_PAGE, "line": comparison.summary_line(), "approval": _approval_words(comparison.approval)}


def _approval_words(state: ApprovalState | None) -> str:
    if state is None or not state.approved:
        return "Draft: not approved for this run's inputs, configuration and narrative."
    return state.approved_line()


# --- Commands -----------------------------------------------------------------------------------


def _year_root(year: str, reports: str | Path | None) -> tuple[str, Path]:
    try:
        label = ReportingYear.parse(year).label
    except ValueError as exc:
        raise UserError(str(exc)) from None
    root = Paths.with_overrides(reports=Path(reports).resolve() if reports else None).reports / label
    return label, root


def _config_for(run: Run, config: str | Path | None):
    path = config or (run.manifest.get("parameters") or {}).get("config_path") or DEFAULT_CONFIG
    try:
        return load_config(path)
    except FileNotFoundError as exc:
        raise UserError(str(exc)) from None


def diff(
    year: str,
    reports: str | Path | None = None,
    against: str | Path | None = None,
    run: str | Path | None = None,
    config: str | Path | None = None,
) -> str:
    """`sscp diff`: the year's run (or `run`) against the last earlier run kept (or `against`)."""
    label, root = _year_root(year, reports)
    newer = load_run(Path(run) if run else root)
    older = load_run(against) if against else latest_earlier_run(root if not run else Path(run))
    cfg = _config_for(newer, config)
    comparison = compare_runs(newer, older, cfg, narrative_file(cfg, newer.manifest.get("year") or label))
    return changes_text(comparison)


def approve(
    year: str,
    roles: list[str],
    on: str | None = None,
    reports: str | Path | None = None,
    config: str | Path | None = None,
) -> str:
    """`sscp approve`: record the roles' approval of the year's current run."""
    _, root = _year_root(year, reports)
    if not root.is_dir():
        raise UserError(f"no report for {year} in {root.parent}: run the year first (`sscp run --year {year}`)")
    cfg = _config_for(load_run(root), config)
    records = record_approval(root, cfg, roles, on)
    state = approval_state(load_approvals(root), fingerprint(load_run(root).manifest))
    who = "; ".join(f"{r['role']}, {r['organisation']}" for r in records)
    return f"recorded approval of the {year} run by {who} on {records[0]['date']}\n{state.approved_line()}\n"
