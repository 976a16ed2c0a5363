"""What changed between two runs of a year: figures, input files, config, narrative and code.

A figure is a metric in metrics.json; it changed when its value (or its previous-year value)
differs. Figures are grouped by the statement heading the catalogue gives them, and each is shown
with the sentence of the narrative it appears in, as that sentence reads in the newer run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from sscp_lib.config import ReportingYear
from sscp_lib.errors import UserError
from sscp_lib.formatting import format_value, public_label
from sscp_lib.publishing.narrative import Metric, MetricNamespace, UnknownMetric, template_context
from sscp_lib.review.approvals import ApprovalState, approval_state, fingerprint, load_approvals
from sscp_lib.review.history import Run

DATA_HEADING_TITLE = "About the data (checks and run figures)"
NUMERIC_UNITS = frozenset({"count", "percent", "gbp", "days", "rate"})


@dataclass(frozen=True)
class FigureChange:
    name: str
    label: str
    unit: str
    heading: int | None
    before: str  # formatted as the statement writes it
    after: str
    sentence: str | None  # the narrative sentence quoting the figure, as it reads now
    previous_year: bool = False  # the change is to the figure's previous-year value

    @property
    def numeric(self) -> bool:
        return self.unit in NUMERIC_UNITS


@dataclass
class HeadingChanges:
    number: int | None
    title: str
    figures: list[FigureChange]


@dataclass(frozen=True)
class InputChange:
    file: str
    change: str  # added | removed | changed
    before: str | None  # SHA-256
    after: str | None


@dataclass
class Comparison:
    year: str
    new: Run
    old: Run | None
    headings: list[HeadingChanges] = field(default_factory=list)
    inputs: list[InputChange] = field(default_factory=list)
    settings: list[str] = field(default_factory=list)  # config, narrative and code version changes
    approval: ApprovalState | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def first_run(self) -> bool:
        return self.old is None

    @property
    def figures(self) -> list[FigureChange]:
        return [f for h in self.headings for f in h.figures]

    @property
    def figures_changed(self) -> int:
        return len({f.name for f in self.figures})

    def summary_line(self) -> str:
        """One line for the index and the terminal."""
        if self.old is None:
            return f"The first run of {self.year}: there is no earlier run to compare with."
        count = self.figures_changed
        figures = "No figures changed" if count == 0 else f"{count} figure{'s' if count != 1 else ''} changed"
        files = len(self.inputs)
        inputs = f"{files} input file{'s' if files != 1 else ''}" if files else "no input files"
        return f"{figures} since {self.old.label}; {inputs} changed."


# --- Figures ------------------------------------------------------------------------------------


def _shown(entry: dict | None, key: str) -> str:
    if entry is None or key not in entry:
        return "not in this run" if entry is None else "none"
    value, unit = entry.get(key), entry.get("unit", "text")
    if unit == "table":
        rows = (value or {}).get("rows") if isinstance(value, dict) else None
        return "table not available" if rows is None else f"table of {len(rows)} row{'s' if len(rows) != 1 else ''}"
    try:
        return format_value(value, unit)
    except (TypeError, ValueError):
        return str(value)


def _table_cells_changed(before, after) -> str | None:
    """For a table whose shape held: "3 cells differ"."""
    if not (isinstance(before, dict) and isinstance(after, dict)):
        return None
    rows_b, rows_a = before.get("rows") or [], after.get("rows") or []
    if before.get("columns") != after.get("columns") or len(rows_b) != len(rows_a):
        return None
    cells = sum(x != y for rb, ra in zip(rows_b, rows_a) for x, y in zip(rb, ra))
    return f"{cells} cell{'s' if cells != 1 else ''} differ" if cells else None


def changed_figures(old: dict, new: dict, sentences: dict[str, str]) -> list[FigureChange]:
    """Every metric whose value or previous-year value differs between two metrics.json."""
    found = []
    for name in sorted(set(old) | set(new)):
        before, after = old.get(name), new.get(name)
        entry = after or before or {}
        for key, previous_year in (("value", False), ("previous", True)):
            in_before = before is not None and key in before
            in_after = after is not None and key in after
            if previous_year and not (in_before or in_after):
                continue
            if in_before == in_after and (not in_before or (before or {})[key] == (after or {})[key]):
                continue
            shown_after = _shown(after, key)
            detail = _table_cells_changed((before or {}).get(key), (after or {}).get(key))
            found.append(
                FigureChange(
                    name=name,
                    label=public_label(entry.get("label", name)) + (" (previous year)" if previous_year else ""),
                    unit=entry.get("unit", "text"),
                    heading=entry.get("heading"),
                    before=_shown(before, key),
                    after=f"{shown_after}, {detail}" if detail else shown_after,
                    sentence=sentences.get(name),
                    previous_year=previous_year,
                )
            )
    return found


def group_by_heading(figures: list[FigureChange], config) -> list[HeadingChanges]:
    """Figures under their statement headings in order, heading-less figures last."""
    titles = {int(k): str(v) for k, v in (config.get("headings") or {}).items()}
    groups: dict[int | None, list[FigureChange]] = {}
    for figure in figures:
        groups.setdefault(figure.heading, []).append(figure)
    ordered = sorted((n for n in groups if n is not None), key=int)
    result = [HeadingChanges(n, titles.get(int(n), f"Heading {n}"), groups[n]) for n in ordered]
    if None in groups:
        result.append(HeadingChanges(None, DATA_HEADING_TITLE, groups[None]))
    return result


# --- Sentences ----------------------------------------------------------------------------------

_OPEN, _MID, _CLOSE = "\x02", "\x03", "\x04"
_TAG_RE = re.compile(f"{_OPEN}([^{_MID}]+){_MID}")
_SENTENCE_END_RE = re.compile(r"(?<=[.!?])[\"”')]*\s+(?=[^a-z\s])")
_MARKDOWN_RE = re.compile(r"\*\*|__|(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w)|`")


class _TaggedMetric(Metric):
    """A metric that marks where it is printed, so the sentence holding it can be found."""

    def __str__(self) -> str:
        return f"{_OPEN}{self.name}{_MID}{self.text}{_CLOSE}"

    @property
    def change(self) -> str:
        return f"{_OPEN}{self.name}{_MID}{super().change}{_CLOSE}"


class _TaggedNamespace(MetricNamespace):
    def __getattr__(self, attr: str):
        found = super().__getattr__(attr)
        if isinstance(found, Metric):
            return _TaggedMetric(found.name, found.entry)
        return _TaggedNamespace(self._metrics, found._prefix)

    __getitem__ = __getattr__


def _plain(unit: str) -> str:
    text = unit.replace(_CLOSE, "")
    text = re.sub(f"{_OPEN}[^{_MID}]+{_MID}", "", text)
    text = re.sub(r"^\s*(?:[-*+]|\d+\.)\s+", "", text)
    text = re.sub(r"^Headline:\s*", "", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return " ".join(_MARKDOWN_RE.sub("", text).split())


def narrative_sentences(narrative_file: Path, metrics: dict, year: str, config) -> dict[str, str]:
    """Metric name -> the first narrative sentence that prints it (placeholders filled from
    `metrics`). A metric used only in a condition, or not at all, has no sentence."""
    path = Path(narrative_file)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(path.parent)), undefined=jinja2.StrictUndefined, autoescape=False
    )
    context = template_context(metrics, ReportingYear.parse(year), config)
    context["m"] = _TaggedNamespace(metrics)
    text = env.get_template(path.name).render(**context)
    sentences: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        for unit in _SENTENCE_END_RE.split(line):
            for name in _TAG_RE.findall(unit):
                sentences.setdefault(name, _plain(unit))
    return sentences


# --- Inputs and settings --------------------------------------------------------------------------


def changed_inputs(old_manifest: dict, new_manifest: dict) -> list[InputChange]:
    before, after = old_manifest.get("inputs") or {}, new_manifest.get("inputs") or {}
    changes = []
    for name in sorted(set(before) | set(after)):
        if name not in before:
            changes.append(InputChange(name, "added", None, after[name]))
        elif name not in after:
            changes.append(InputChange(name, "removed", before[name], None))
        elif before[name] != after[name]:
            changes.append(InputChange(name, "changed", before[name], after[name]))
    return changes


def changed_settings(old_manifest: dict, new_manifest: dict) -> list[str]:
    """Config, narrative and code-version changes, in words."""
    found = []
    if old_manifest.get("config_sha256") != new_manifest.get("config_sha256"):
        found.append(f"The partnership configuration changed ({_config_name(new_manifest)}).")
    if old_manifest.get("narrative_sha256") != new_manifest.get("narrative_sha256"):
        where = new_manifest.get("narrative_file") or "the narrative file"
        found.append(f"The narrative changed ({where}).")
    old_git, new_git = old_manifest.get("git") or {}, new_manifest.get("git") or {}
    if old_git.get("commit") != new_git.get("commit"):
        found.append(
            f"The code changed: commit {_short(old_git.get('commit'))} then, {_short(new_git.get('commit'))} now."
        )
    if not old_git.get("uncommitted_changes") and new_git.get("uncommitted_changes"):
        found.append("This run's code had changes not yet committed.")
    old_packages, new_packages = old_manifest.get("packages") or {}, new_manifest.get("packages") or {}
    for package in sorted(set(old_packages) | set(new_packages)):
        if old_packages.get(package) != new_packages.get(package):
            found.append(
                f"Package {package}: version {old_packages.get(package) or 'none'} then, "
                f"{new_packages.get(package) or 'none'} now."
            )
    return found


def _config_name(manifest: dict) -> str:
    return Path((manifest.get("parameters") or {}).get("config_path") or "partnership.yaml").name


def _short(commit: str | None) -> str:
    return commit[:10] if commit else "unknown"


# --- The comparison -------------------------------------------------------------------------------


def compare_runs(new: Run, old: Run | None, config, narrative_file: Path | None = None) -> Comparison:
    """The newer run against an older one (None: the first run of the year), with its approval state."""
    year = new.manifest.get("year") or ""
    # A quarter's run is named by its period ('2023-24-Q3') wherever the comparison is shown.
    comparison = Comparison(year=new.manifest.get("period") or year, new=new, old=old)
    comparison.approval = approval_state(load_approvals(new.folder), fingerprint(new.manifest))
    if old is None:
        return comparison
    sentences: dict[str, str] = {}
    if narrative_file is not None:
        try:
            sentences = narrative_sentences(narrative_file, new.metrics, year, config)
        except (UserError, UnknownMetric, jinja2.TemplateError) as exc:
            comparison.notes.append(f"The narrative's sentences could not be shown: {exc}")
    comparison.headings = group_by_heading(changed_figures(old.metrics, new.metrics, sentences), config)
    comparison.inputs = changed_inputs(old.manifest, new.manifest)
    comparison.settings = changed_settings(old.manifest, new.manifest)
    return comparison
