"""The statement's words: the year's authored narrative, its metric placeholders, and the
assembled statement (the view model the renderer lays out; ratings come from sscp_lib.publishing.rag).

The narrative for a year is Markdown with Jinja placeholders (config key `narrative`, relative
to the config file). `{{ m.business_plan.ipbp_complete_pct }}` writes the formatted figure;
`.value`, `.previous`, `.label`, `.previous_formatted` and `.change` are there too. Naming a
metric that does not exist stops the run with a message naming the placeholder and the file.

Sections are level-two headings: Background, Principles, 1 ... 10 (one per delegated
responsibility, each opening with "Headline: ..."), Assurance opinion, Items received and
Lead partners' statement.
"""

from __future__ import annotations

import html
import json
import re
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import mistune

from sscp_lib.catalogue import load_catalogue
from sscp_lib.config import PartnershipConfig, ReportingYear
from sscp_lib.errors import UserError
from sscp_lib.files import display_path
from sscp_lib.formatting import format_change, format_date, format_metric, format_previous, format_table, public_label
from sscp_lib.publishing.rag import Judgement, judge
from sscp_lib.synthetic import metrics_say_synthetic


class NarrativeError(UserError):
    """The narrative file cannot be rendered: an unknown placeholder or a missing section."""


# --- Metric placeholders -----------------------------------------------------------------------


class Metric:
    """One metric as a placeholder sees it: prints as its formatted value."""

    def __init__(self, name: str, entry: dict):
        self.name = name
        self.entry = entry

    value = property(lambda self: self.entry.get("value"))
    previous = property(lambda self: self.entry.get("previous"))
    unit = property(lambda self: self.entry["unit"])
    label = property(lambda self: public_label(self.entry.get("label", self.name)))

    @property
    def formatted(self) -> str:
        return format_metric(self.entry)

    @property
    def previous_formatted(self) -> str:
        return format_previous(self.entry)

    @property
    def change(self) -> str:
        """E.g. "up 6 percentage points from 85% the previous year"."""
        return format_change(self.value, self.previous, self.unit)

    @property
    def suppressed(self) -> bool:
        return self.value == "c"

    @property
    def text(self) -> str:
        """The formatted value as HTML text; a table has none."""
        if self.unit == "table":
            raise NarrativeError(
                f"placeholder {self.name!r} is a table; tables are placed under their heading, not in the text"
            )
        return html.escape(self.formatted, quote=False)

    def __str__(self) -> str:
        # Marked with its metric so the rendered statement can be checked against metrics.json
        # and its key-figures table (sscp_lib/publishing/consistency.py).
        return f'<span data-metric="{self.name}">{self.text}</span>'


class MetricNamespace:
    """`m.group.name` lookups over the merged metrics; an unknown name is an error that names it."""

    def __init__(self, metrics: dict, prefix: str = ""):
        self._metrics = metrics
        self._prefix = prefix

    def __getattr__(self, attr: str):
        if attr.startswith("_"):  # Jinja and markupsafe probe dunder names; let them fail quietly
            raise AttributeError(attr)
        name = f"{self._prefix}{attr}"
        if name in self._metrics:
            return Metric(name, self._metrics[name])
        if any(key.startswith(name + ".") for key in self._metrics):
            return MetricNamespace(self._metrics, name + ".")
        raise UnknownMetric(name)

    __getitem__ = __getattr__

    def __str__(self) -> str:
        raise NarrativeError(f"placeholder {self._prefix.rstrip('.')!r} names a group of metrics, not one metric")


class UnknownMetric(Exception):
    """Raised inside template rendering; turned into a NarrativeError naming the file."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


def change(metric: Metric) -> str:
    return metric.change


# --- Narrative file ---------------------------------------------------------------------------

FIXED_SECTIONS = {
    "background": "Background",
    "principles": "Principles",
    "opinion": "Assurance opinion",
    "items_received": "Items received",
    "lead_statement": "Lead partners' statement",
}
_SECTION_RE = re.compile(r"^##[ \t]+(.+?)[ \t]*$", re.M)
_HEADLINE_RE = re.compile(r"^\s*Headline:\s*(.+?)\s*(?:\n\s*\n|\Z)", re.S)

_markdown = mistune.create_markdown(escape=False, plugins=["table", "strikethrough"])


def markdown_to_html(text: str) -> str:
    return str(_markdown(text)).strip()


@dataclass
class NarrativeSection:
    key: str
    headline: str  # HTML, empty for sections without a headline
    html: str


def narrative_path(config: PartnershipConfig, year: ReportingYear | str) -> Path:
    """The year's narrative file: config key `narrative`, relative to the config file."""
    year = ReportingYear.parse(str(year))
    template = config.get("narrative")
    if not template:
        raise NarrativeError(f"{display_path(config.path)}: no 'narrative' key saying where the narrative files are")
    path = (Path(config.path).parent / template.format(year=year.label)).resolve()
    if not path.exists():
        raise NarrativeError(
            f"{display_path(config.path)}: narrative file for {year.label} not found: {display_path(path)}"
        )
    return path


def template_context(metrics: dict, year: ReportingYear, config: PartnershipConfig) -> dict:
    """What a narrative may refer to besides metrics: the year's labels and the partnership's names."""
    return {
        "m": MetricNamespace(metrics),
        "change": change,
        "year": year.label,
        "previous_year": year.previous.label,
        "next_year": ReportingYear(year.start_year + 1).label,
        "year_start": format_date(year.start),
        "year_end": format_date(year.end),
        "partnership": config.get("partnership", {}),
    }


def render_narrative_text(path: Path, metrics: dict, year: ReportingYear, config: PartnershipConfig) -> str:
    """The narrative file with its placeholders filled in (still Markdown)."""
    path = Path(path).resolve()
    where = display_path(path)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(path.parent)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
    )
    try:
        template = env.get_template(path.name)
        return template.render(**template_context(metrics, year, config))
    except UnknownMetric as exc:
        line = _template_line(exc, path)
        spec = load_catalogue()["metrics"].get(exc.name)
        if spec:
            raise NarrativeError(
                f"{where}{line}: placeholder {exc.name!r} names a metric this run did not compute; "
                f"run every stage of the chain first"
            ) from None
        raise NarrativeError(f"{where}{line}: placeholder {exc.name!r} names no metric") from None
    except NarrativeError as exc:
        raise NarrativeError(f"{where}{_template_line(exc, path)}: {exc}") from None
    except jinja2.TemplateSyntaxError as exc:
        raise NarrativeError(f"{where}, line {exc.lineno}: {exc.message}") from None
    except jinja2.UndefinedError as exc:
        raise NarrativeError(f"{where}{_template_line(exc, path)}: {exc.message}") from None


def _template_line(exc: BaseException, path: Path) -> str:
    """ ", line N" for the template line being rendered when exc was raised, if Jinja kept it."""
    lines = [lineno for frame, lineno in traceback.walk_tb(exc.__traceback__) if frame.f_code.co_filename == str(path)]
    return f", line {lines[-1]}" if lines else ""


def parse_sections(text: str, heading_numbers: list[int], where: str) -> dict[str, NarrativeSection]:
    """Split rendered narrative Markdown into its sections and check every one is there."""
    titles = {v.lower(): k for k, v in FIXED_SECTIONS.items()}
    matches = list(_SECTION_RE.finditer(text))
    sections: dict[str, NarrativeSection] = {}
    for i, match in enumerate(matches):
        title = match.group(1).strip()
        body = text[match.end() : matches[i + 1].start() if i + 1 < len(matches) else len(text)].strip()
        if title.isdigit():
            key = title
            if int(title) not in heading_numbers:
                raise NarrativeError(f"{where}: section '## {title}' is not one of the configured headings")
            headline = _HEADLINE_RE.match(body)
            if not headline:
                raise NarrativeError(f"{where}: section '## {title}' must begin with 'Headline: ...'")
            body = body[headline.end() :]
            headline_html = _inline_html(headline.group(1))
        elif title.lower() in titles:
            key, headline_html = titles[title.lower()], ""
        else:
            expected = ", ".join(list(FIXED_SECTIONS.values()) + ["1 ... 10"])
            raise NarrativeError(f"{where}: unknown section '## {title}' (expected: {expected})")
        if key in sections:
            raise NarrativeError(f"{where}: section '## {title}' appears twice")
        sections[key] = NarrativeSection(key, headline_html, markdown_to_html(body))
    missing = [FIXED_SECTIONS[k] for k in FIXED_SECTIONS if k not in sections]
    missing += [str(n) for n in heading_numbers if str(n) not in sections]
    if missing:
        raise NarrativeError(f"{where}: missing section(s): " + ", ".join(f"'## {m}'" for m in missing))
    return sections


def _inline_html(text: str) -> str:
    """One line of Markdown as inline HTML (no wrapping paragraph)."""
    rendered = markdown_to_html(text)
    return re.sub(r"^<p>(.*)</p>$", r"\1", rendered, flags=re.S)


def load_narrative(config: PartnershipConfig, year: ReportingYear | str, metrics: dict) -> dict[str, NarrativeSection]:
    year = ReportingYear.parse(str(year))
    path = narrative_path(config, year)
    text = render_narrative_text(path, metrics, year, config)
    return parse_sections(text, heading_numbers(config), display_path(path))


def heading_numbers(config: PartnershipConfig) -> list[int]:
    return sorted(int(n) for n in config["headings"])


# --- The assembled statement ------------------------------------------------------------------


@dataclass
class KeyFigure:
    label: str
    value: str
    previous: str | None  # None when the catalogue keeps no previous year for it
    name: str = ""  # the metric


@dataclass
class TableBlock:
    title: str
    headers: list[str]
    rows: list[list[str]]
    name: str = ""  # the metric it shows: a chart's data link points here


@dataclass
class ChartData:
    """Where a chart's figures are in the statement: the table of its catalogue `data` metric."""

    metric: str
    title: str


@dataclass
class ChartBlock:
    name: str
    title: str
    caption: str
    alt: str
    source: str
    path: Path
    data_uri: str = ""  # filled in by the renderer
    data: ChartData | None = None  # the table of its figures, when the statement shows it


@dataclass
class HeadingSection:
    number: int
    title: str
    headline: str
    body_html: str
    judgement: Judgement
    key_figures: list[KeyFigure]
    tables: list[TableBlock]
    charts: list[ChartBlock]


@dataclass
class Signatory:
    role: str
    organisation: str
    name: str | None = None


@dataclass
class Statement:
    partnership: str
    short_name: str
    area: str
    year: str
    year_end: str
    synthetic: bool
    marking: str
    background_html: str
    principles_html: str
    headings: list[HeadingSection]
    opinion_html: str
    delegated_signatories: list[Signatory]
    items_received_html: str
    lead_statement_html: str
    lead_signatories: list[Signatory]
    data_quality: list[KeyFigure]
    data_quality_tables: list[TableBlock]
    data_warnings: list[str]
    suppression_threshold: int
    narrative_file: str
    extra: dict = field(default_factory=dict)

    @property
    def title(self) -> str:
        return statement_title(self.partnership, self.year)


def statement_title(partnership: str, year: str) -> str:
    """The statement's title, for the page <title> and the index."""
    return f"{partnership}: Lead Safeguarding Partners' assurance statement {year}"


def key_figures(names: list[str], metrics: dict) -> list[KeyFigure]:
    """Label, this year and previous year for each non-table metric in `names`."""
    catalogue = load_catalogue()["metrics"]
    figures: list[KeyFigure] = []
    units: list[str] = []
    for name in names:
        spec = catalogue.get(name, {})
        entry = metrics.get(name) or {"value": None, "unit": spec.get("unit", "text"), "label": spec.get("label", name)}
        if entry["unit"] == "table":
            continue
        previous = format_previous(entry) if spec.get("previous") or "previous" in entry else None
        value = format_metric(entry)
        figures.append(KeyFigure(public_label(entry.get("label", name)), value, previous, name))
        units.append(entry["unit"])
    # A count and its percentage can share a label ("Audit actions completed on time").
    labels = [f.label for f in figures]
    for figure, unit in zip(figures, units):
        if labels.count(figure.label) > 1 and unit == "percent":
            figure.label += " (%)"
    return figures


def table_blocks(names: list[str], metrics: dict) -> list[TableBlock]:
    blocks = []
    for name in names:
        entry = metrics.get(name)
        if entry is None or entry["unit"] != "table" or not isinstance(entry.get("value"), dict):
            continue
        headers, rows = format_table(entry["value"])
        if rows:
            blocks.append(TableBlock(public_label(entry.get("label", name)), headers, rows, name))
    return blocks


def load_charts(charts_index: Path | None) -> dict:
    """charts.json as {name: entry}; an absent index means no charts were drawn."""
    if charts_index is None or not Path(charts_index).exists():
        return {}
    return json.loads(Path(charts_index).read_text(encoding="utf-8"))


def chart_blocks(heading: int, charts: dict, charts_dir: Path, tables: Sequence[TableBlock] = ()) -> list[ChartBlock]:
    catalogue_charts = load_catalogue().get("charts", {})
    order = list(catalogue_charts)
    shown = {t.name: t for t in tables}
    names = [n for n, c in charts.items() if int(c.get("heading") or 0) == heading]
    names.sort(key=lambda n: (order.index(n) if n in order else len(order), n))
    blocks = []
    for name in names:
        chart = charts[name]
        path = Path(charts_dir) / chart.get("file", f"{name}.png")
        if not path.exists():
            raise UserError(
                f"{display_path(Path(charts_dir) / 'charts.json')}: chart {name!r} has no image file {path.name}"
            )
        if not chart.get("caption"):
            raise UserError(
                f"{display_path(Path(charts_dir) / 'charts.json')}: chart {name!r} has no caption; run its stage again"
            )
        data = shown.get(str((catalogue_charts.get(name) or {}).get("data")))
        blocks.append(
            ChartBlock(
                name,
                chart["title"],
                chart["caption"],
                chart["alt"],
                chart.get("source", ""),
                path,
                data=ChartData(data.name, data.title) if data else None,
            )
        )
    return blocks


def _signatories(entries) -> list[Signatory]:
    return [Signatory(e["role"], e["organisation"], e.get("name")) for e in entries or []]


DATA_QUALITY_METRICS = (
    "run.files_read",
    "run.rows_read",
    "run.rows_rejected",
    "run.duplicates_removed",
    "validation.expectations_passed",
    "validation.expectations_failed",
    "validation.expectations_warned",
    "validation.rows_quarantined",
)


def build_statement(
    year: ReportingYear | str,
    metrics: dict,
    config: PartnershipConfig,
    charts: dict | None = None,
    charts_dir: Path | None = None,
) -> Statement:
    """Everything the statement shows, from the merged metrics, charts, config and narrative."""
    year = ReportingYear.parse(str(year))
    sections = load_narrative(config, year, metrics)
    catalogue = load_catalogue()["metrics"]
    charts = charts or {}
    rules = {int(k): v for k, v in (config.get("rag") or {}).items()}
    headings = []
    for number in heading_numbers(config):
        names = [n for n, s in catalogue.items() if s.get("heading") == number]
        names += sorted(n for n, e in metrics.items() if e.get("heading") == number and n not in catalogue)
        section = sections[str(number)]
        tables = table_blocks(names, metrics)
        headings.append(
            HeadingSection(
                number=number,
                title=config["headings"][number] if number in config["headings"] else config["headings"][str(number)],
                headline=section.headline,
                body_html=section.html,
                judgement=judge(rules.get(number), metrics),
                key_figures=key_figures(names, metrics),
                tables=tables,
                charts=chart_blocks(number, charts, charts_dir, tables) if charts and charts_dir else [],
            )
        )
    partnership = config.get("partnership", {})
    warnings = (metrics.get("validation.warnings") or {}).get("value") or []
    return Statement(
        partnership=partnership.get("name", ""),
        short_name=partnership.get("short_name", ""),
        area=partnership.get("area", ""),
        year=year.label,
        year_end=format_date(year.end),
        synthetic=metrics_say_synthetic(metrics),
        marking=str(config.get("protective_marking", "OFFICIAL")),
        background_html=sections["background"].html,
        principles_html=sections["principles"].html,
        headings=headings,
        opinion_html=sections["opinion"].html,
        delegated_signatories=_signatories(config.get("signatories", {}).get("delegated")),
        items_received_html=sections["items_received"].html,
        lead_statement_html=sections["lead_statement"].html,
        lead_signatories=_signatories(config.get("signatories", {}).get("lead")),
        data_quality=key_figures(list(DATA_QUALITY_METRICS), metrics),
        data_quality_tables=table_blocks(["validation.by_table"], metrics),
        data_warnings=[str(w) for w in warnings] if isinstance(warnings, list) else [],
        suppression_threshold=config.suppression_threshold,
        narrative_file=display_path(narrative_path(config, year)),
    )
