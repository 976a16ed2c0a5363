"""Approvals: the statement is a draft until the signatories approve the run it was made from.

`sscp approve` records, in reports/<year>/approvals.json (kept with the report, never in the
repository), who approved and on what date, against the run's fingerprint: the SHA-256 of every
input file, of the partnership config and of the narrative. A later run whose fingerprint differs
is a draft again, and the reasons say which change did it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from sscp_lib.errors import UserError
from sscp_lib.files import write_json_atomic
from sscp_lib.formatting import format_date
from sscp_lib.review.history import APPROVALS_FILE, describe_time, load_run

FINGERPRINT_KEYS = ("inputs", "config_sha256", "narrative_sha256")
# The hash of a source mapping kept in its own file; absent (None) when there is none.
OPTIONAL_FINGERPRINT_KEYS = ("source_mapping", "dashboard_narrative_sha256")


@dataclass(frozen=True)
class Signatory:
    role: str
    organisation: str

    @property
    def label(self) -> str:
        return f"{self.role}, {self.organisation}"


def signatories(config) -> list[Signatory]:
    """Every signatory in config `signatories` (delegated, then lead), each once."""
    found: list[Signatory] = []
    for group in ("delegated", "lead"):
        for entry in (config.get("signatories") or {}).get(group) or []:
            person = Signatory(str(entry["role"]), str(entry.get("organisation", "")))
            if person not in found:
                found.append(person)
    return found


def resolve_roles(config, requested: list[str]) -> list[Signatory]:
    """The signatories named by `--by`: a role alone where only one signatory holds it, else
    "role, organisation". Unknown or ambiguous names give one error listing the roles in config."""
    people = signatories(config)
    chosen, problems = [], []
    for text in requested:
        wanted = " ".join(str(text).split()).casefold()
        matches = [p for p in people if wanted in (p.label.casefold(), p.role.casefold())]
        if len(matches) == 1:
            if matches[0] not in chosen:
                chosen.append(matches[0])
        elif matches:
            problems.append(f"{text!r} is held by {len(matches)} signatories: add the organisation")
        else:
            problems.append(f"{text!r} is not a signatory's role")
    if problems or not chosen:
        roles = "; ".join(f'"{p.label}"' for p in people) or "none"
        where = getattr(config, "path", "the partnership config")
        raise UserError(f"{'; '.join(problems) or 'no role given'}. Roles in {where}: {roles}")
    return chosen


def fingerprint(manifest: dict) -> dict:
    """What an approval is given against: input, config and narrative hashes of a run."""
    return {key: manifest.get(key) for key in FINGERPRINT_KEYS + OPTIONAL_FINGERPRINT_KEYS}


def differences(approved: dict, current: dict) -> list[str]:
    """The changes between two fingerprints, in words, e.g. "input file 2023-24/referrals.csv changed"."""
    reasons = []
    before, after = approved.get("inputs") or {}, current.get("inputs") or {}
    for name in sorted(set(before) | set(after)):
        if name not in before:
            reasons.append(f"input file {name} added")
        elif name not in after:
            reasons.append(f"input file {name} removed")
        elif before[name] != after[name]:
            reasons.append(f"input file {name} changed")
    if approved.get("config_sha256") != current.get("config_sha256"):
        reasons.append("the partnership configuration changed")
    if approved.get("source_mapping") != current.get("source_mapping"):  # a separate sources file
        reasons.append("the source mapping changed")
    if approved.get("narrative_sha256") != current.get("narrative_sha256"):
        reasons.append("the narrative changed")
    if approved.get("dashboard_narrative_sha256") != current.get("dashboard_narrative_sha256"):
        reasons.append("the dashboard's commentary changed")
    return reasons


def load_approvals(report_root: Path | str) -> list[dict]:
    path = Path(report_root) / APPROVALS_FILE
    if not path.is_file():
        return []
    return json.loads(path.read_text(encoding="utf-8")).get("approvals", [])


def parse_date(text: str | None) -> date:
    if text is None:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(str(text))
    except ValueError:
        raise UserError(f"approval date must look like 2024-06-30, not {text!r}") from None


def record_approval(report_root: Path | str, config, roles: list[str], on: str | None = None) -> list[dict]:
    """Record approvals of the year's current run by these roles; returns the new records."""
    report_root = Path(report_root)
    people = resolve_roles(config, roles)
    day = parse_date(on)
    run = load_run(report_root)
    if run.manifest.get("outcome") != "ok":
        raise UserError(f"{report_root}: the last run did not finish; only a finished run can be approved")
    if any(run.manifest.get(key) is None for key in FINGERPRINT_KEYS):
        raise UserError(f"{report_root}/manifest.json has no narrative hash: rerun the year, then approve it")
    records = [
        {
            "role": person.role,
            "organisation": person.organisation,
            "date": day.isoformat(),
            "recorded": datetime.now(UTC).isoformat(timespec="seconds"),
            "run_started": run.manifest.get("started"),
            "fingerprint": fingerprint(run.manifest),
        }
        for person in people
    ]
    write_json_atomic(report_root / APPROVALS_FILE, {"approvals": load_approvals(report_root) + records})
    return records


@dataclass
class ApprovalState:
    """Whether a run's statement is approved: by whom and when, or why it is a draft."""

    approved_by: list[dict] = field(default_factory=list)  # records matching the run
    reasons: list[str] = field(default_factory=list)  # why an earlier approval no longer holds
    earlier: dict | None = None  # the latest approval of another run, if any

    @property
    def approved(self) -> bool:
        return bool(self.approved_by)

    def approved_line(self) -> str:
        """ "Approved by the Chief Constable, West Midlands Police on 12 June 2024 and ..." """
        parts = [f"the {r['role']}, {r['organisation']} on {format_date(r['date'])}" for r in self.approved_by]
        return "Approved by " + _join(parts) + "."

    def draft_line(self, run_started: str | None) -> str:
        """Why the statement is a draft, without the word "Draft" (the page marks it)."""
        run = f"Made from the run of {describe_time(run_started)}" if run_started else "Made from this run"
        if self.earlier is not None:
            return (
                f"{run}. It was approved on {format_date(self.earlier['date'])} but is a draft again "
                f"because {_join(self.reasons)} since."
            )
        return f"{run}; not yet approved by the partners."

    def line(self, run_started: str | None) -> str:
        return self.approved_line() if self.approved else "Draft. " + self.draft_line(run_started)


def approval_state(approvals: list[dict], current: dict) -> ApprovalState:
    """The approval state of a run with fingerprint `current`, given the recorded approvals."""
    current = fingerprint(current)
    matching = [a for a in approvals if fingerprint(a.get("fingerprint") or {}) == current]
    if matching:
        latest: dict[tuple, dict] = {}
        for record in matching:  # one line per signatory: their latest approval
            latest[(record["role"], record["organisation"])] = record
        return ApprovalState(approved_by=list(latest.values()))
    if not approvals:
        return ApprovalState()
    earlier = approvals[-1]
    return ApprovalState(reasons=differences(earlier.get("fingerprint") or {}, current), earlier=earlier)


def _join(parts: list[str]) -> str:
    if not parts:
        return "a different run was approved"
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
