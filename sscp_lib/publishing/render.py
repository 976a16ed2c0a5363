"""Rendering: the statement's HTML parts, executed notebooks as self-contained pages, the PDF and
the index of the reviewer pack.

Every page is self-contained: CSS inline, images as data URIs, no scripts, nothing fetched from
a network (no MathJax, no require.js). `external_references` is the check, and rendering refuses
to write a page that fails it.
"""

from __future__ import annotations

import base64
import functools
import html
import re
import threading
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from markupsafe import Markup

from sscp_lib.errors import UserError
from sscp_lib.publishing.narrative import ChartBlock, Statement

if TYPE_CHECKING:
    import nbformat

TEMPLATES_DIR = Path(__file__).with_name("templates")
NOTEBOOK_TEMPLATE = "sscp"
KINDS = ("report", "statement")


# --- The statement's parts --------------------------------------------------------------------


def _fragment_env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["capitalize_first"] = lambda text: text[:1].upper() + text[1:] if text else text
    return env


def chart_data_uri(chart: ChartBlock) -> str:
    data = base64.b64encode(Path(chart.path).read_bytes()).decode("ascii")
    return f"data:image/png;base64,{data}"


def statement_fragments(statement: Statement) -> list[str]:
    """The statement as a list of HTML parts, in reading order: cover, background, summary of
    ratings, the headings, the delegated partners' opinion, the lead partners' review and the
    note on the data."""
    macros: Any = (  # the template module: one macro per part of the statement
        _fragment_env()
        .get_template("statement/fragments.html.j2")
        .make_module({"year": statement.year, "previous_year": _previous_year(statement.year)})
    )
    figure_numbers: dict[str, int] = {}
    for heading in statement.headings:
        for chart in heading.charts:
            chart.data_uri = chart_data_uri(chart)
            figure_numbers[chart.name] = len(figure_numbers) + 1
    parts = [macros.cover(statement), macros.background(statement), macros.summary(statement)]
    parts += [macros.heading(h, figure_numbers) for h in statement.headings]
    parts += [macros.opinion(statement), macros.lead(statement), macros.data_note(statement)]
    return [str(Markup(p)).strip() for p in parts]


def _previous_year(label: str) -> str:
    start = int(label[:4]) - 1
    return f"{start}-{(start + 1) % 100:02d}"


def display_statement(statement: Statement) -> None:
    """Show the statement in the notebook, one HTML output per part."""
    from IPython.display import HTML, display

    for part in statement_fragments(statement):
        display(HTML(part))


def statement_notebook(statement: Statement) -> nbformat.NotebookNode:
    """A notebook holding the statement's outputs, as the statement stage's notebook produces them: lets the
    statement be rendered (and tested) without starting a kernel."""
    import nbformat  # here, not at import: it costs the statement kernel about a second

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("display_statement(statement)")
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data", data={"text/html": part, "text/plain": "<IPython.core.display.HTML object>"}
        )
        for part in statement_fragments(statement)
    ]
    nb.cells = [cell]
    return nb


# --- Notebook -> self-contained HTML ----------------------------------------------------------


def notebook_to_html(
    notebook_path: Path | str,
    html_path: Path | str,
    *,
    title: str,
    synthetic: bool,
    kind: str = "report",
    marking: str = "OFFICIAL",
    review: dict | None = None,
) -> Path:
    """An executed notebook as one self-contained HTML page without code or prompts.

    kind "report": a stage's notebook for reviewers (Markdown, tables, charts, logs).
    kind "statement": the published statement (outputs only; A4 print CSS for the PDF).
    review: a stage report's summary, failure banner and provenance (stage_report.StageParts.as_dict),
    or the statement's approval status ({"status": {"approved", "line"}}).
    """
    import nbformat

    nb = nbformat.read(str(notebook_path), as_version=4)
    return notebook_node_to_html(
        nb,
        html_path,
        title=title,
        synthetic=synthetic,
        kind=kind,
        marking=marking,
        source_name=Path(notebook_path).name,
        review=review,
    )


def notebook_node_to_html(
    nb: nbformat.NotebookNode,
    html_path: Path | str,
    *,
    title: str,
    synthetic: bool,
    kind: str = "report",
    marking: str = "OFFICIAL",
    source_name: str = "",
    review: dict | None = None,
) -> Path:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    exporter = _notebook_exporter()
    footer = (
        title if kind == "statement" else f"{title}. Rendered from {source_name or 'the notebook'} without its code."
    )
    resources = {
        "sscp": {
            "title": title,
            "kind": kind,
            "synthetic": bool(synthetic),
            "marking": marking,
            "marking_css": _css_string(marking),
            "kicker": "Reviewer pack: stage report",
            "footer": footer,
            "review": review or {},
        }
    }
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    page = _one_title(unlink_external(body))
    if kind == "report":
        page = _nest_output_headings(page)
    page = add_table_of_contents(page, heading_level=2)
    _refuse_external(page, html_path, alt_text=True)
    html_path = Path(html_path)
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(page, encoding="utf-8")
    return html_path


_exporters = threading.local()


def _notebook_exporter():
    """This thread's exporter: its Jinja templates are compiled once, not for every page (the
    chain renders stage reports on one thread and the statement on another)."""
    exporter = getattr(_exporters, "exporter", None)
    if exporter is None:
        exporter = _exporters.exporter = _exporter_class()(
            template_name=NOTEBOOK_TEMPLATE,
            extra_template_basedirs=[str(TEMPLATES_DIR)],
            exclude_input=True,
            exclude_input_prompt=True,
            exclude_output_prompt=True,
        )
    return exporter


@functools.cache
def _exporter_class():
    from nbconvert import HTMLExporter
    from nbconvert.exporters.html import Highlight2HTML, WidgetsDataTypeFilter
    from nbconvert.exporters.templateexporter import TemplateExporter

    class NotebookPageExporter(HTMLExporter):
        """HTMLExporter without its closing BeautifulSoup pass, which re-parses the whole page
        (two fifths of rendering it) to give images without alt text a stock one and JupyterLab
        cells a tabindex. Our template has no such cells, and a page with an image lacking alt
        text is refused instead (`_refuse_external`)."""

        def from_notebook_node(self, nb, resources=None, **kw):
            language = nb.metadata.get("language_info", {})
            lexer = language.get("pygments_lexer", language.get("name"))
            resources = self._init_resources(resources)
            self.register_filter("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self))
            data_type = WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self, resources=resources)
            self.register_filter("filter_data_type", data_type)
            return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

    return NotebookPageExporter


_LEADING_H1_RE = re.compile(r'<main class="document">\s*<div class="cell markdown"[^>]*>\s*<h1')
_REPORT_TITLE_RE = re.compile(r'<h1 class="report-title">.*?</h1>\s*', re.S)


def _one_title(page: str) -> str:
    """A notebook that opens with its own title keeps it; the page's title heading then goes."""
    return _REPORT_TITLE_RE.sub("", page, count=1) if _LEADING_H1_RE.search(page) else page


_SEGMENT_RE = re.compile(r'(?=<div class="(?:output|cell markdown)">)')


def _nest_output_headings(page: str) -> str:
    """Headings an output brings with it (the statement shown in its stage report has its own
    h1) go one level down, so the page keeps one h1 and skips no level."""
    if len(re.findall(r"<h1[\s>]", page)) < 2:
        return page

    def demote(match: re.Match) -> str:
        level = min(int(match.group(1)) + 1, 6)
        return f"<h{level}{match.group(2) or ''}>{match.group(3)}</h{level}>"

    parts = _SEGMENT_RE.split(page)
    return "".join(_HEADING_RE.sub(demote, p) if p.startswith('<div class="output">') else p for p in parts)


def _css_string(text: str) -> str:
    return str(text).replace("\\", "\\\\").replace('"', '\\"').replace("<", "")


_HEADING_RE = re.compile(r"<h([1-6])((?:\s[^>]*)?)>(.*?)</h\1>", re.S | re.I)
_ID_RE = re.compile(r"""\sid=["']([^"']*)["']""")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def _plain(fragment: str) -> str:
    text = html.unescape(re.sub(r"<[^>]+>", "", fragment)).replace("¶", "")
    return re.sub(r"\s+", " ", text).strip()


def add_table_of_contents(page: str, heading_level: int = 2) -> str:
    """Give every heading of that level an id and put a contents list where the template
    marked <!--sscp:toc--> (nothing when the page has fewer than two such headings)."""
    entries: list[tuple[str, str]] = []
    used: set[str] = set(_ID_RE.findall(page))

    def visit(match: re.Match) -> str:
        level, attrs, inner = int(match.group(1)), match.group(2) or "", match.group(3)
        if level != heading_level:
            return match.group(0)
        text = _plain(inner)
        id_match = _ID_RE.search(attrs)
        if id_match:
            anchor = id_match.group(1)
        else:
            anchor = base = "s-" + _slug(text)
            n = 2
            while anchor in used:
                anchor, n = f"{base}-{n}", n + 1
            used.add(anchor)
            attrs += f' id="{anchor}"'
        entries.append((anchor, text))
        return f"<h{level}{attrs}>{inner}</h{level}>"

    marker = "<!--sscp:toc-->"
    head, sep, rest = page.partition(marker)
    if not sep:
        return page
    rest = _HEADING_RE.sub(visit, rest)
    if len(entries) < 2:
        return head + rest
    items = "\n".join(f'<li><a href="#{html.escape(a)}">{html.escape(t)}</a></li>' for a, t in entries)
    nav = f'<nav class="toc" aria-label="Contents">\n<h2 class="toc-title">Contents</h2>\n<ol>\n{items}\n</ol>\n</nav>'
    # A page whose title (h1) comes after the marker gets its contents after the title.
    first = _HEADING_RE.search(rest)
    if first and first.group(1) == "1":
        return head + rest[: first.end()] + nav + rest[first.end() :]
    return head + nav + rest


_EXTERNAL_LINK_RE = re.compile(r'<a\s[^>]*href="(https?:)?//[^"]*"[^>]*>(.*?)</a>', re.S | re.I)


def unlink_external(page: str) -> str:
    """Hyperlinks to the web become their text: a published page refers to no web address."""
    return _EXTERNAL_LINK_RE.sub(lambda m: m.group(2), page)


# --- Self-containment check -------------------------------------------------------------------

_URL_ATTRIBUTES = {
    "src",
    "href",
    "srcset",
    "action",
    "data",
    "poster",
    "xlink:href",
    "background",
    "formaction",
    "cite",
}
_EXTERNAL_RE = re.compile(r"^\s*(https?:)?//", re.I)
_CSS_URL_RE = re.compile(r"""(?:url\(\s*['"]?|@import\s+['"])\s*((?:https?:)?//[^'")\s]+)""", re.I)


class _ReferenceFinder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.without_alt: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        if tag == "img" and not any(name == "alt" for name, _ in attrs):
            self.without_alt.append(f"<img src={(dict(attrs).get('src') or '')[:40]!r}>")
        for name, value in attrs:
            if value is None:
                continue
            if name.lower() in _URL_ATTRIBUTES and any(_EXTERNAL_RE.match(v) for v in value.split(",")):
                self.found.append(f"<{tag} {name}={value!r}>")
            elif name.lower() == "style":
                self.found += [f"<{tag} style> {u}" for u in _CSS_URL_RE.findall(value)]
        if tag == "script" and any(n == "src" for n, _ in attrs):
            self.found.append(f"<script src={dict(attrs)['src']!r}>")
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.found += [f"<style> {u}" for u in _CSS_URL_RE.findall(data)]


def _find_references(page: str) -> _ReferenceFinder:
    finder = _ReferenceFinder()
    finder.feed(page)
    finder.close()
    return finder


def external_references(page: str) -> list[str]:
    """Everything in a page that would make a browser reach beyond the file: attributes that
    point at http(s) or protocol-relative URLs, CSS url()/@import of them, and <script src>."""
    return _find_references(page).found


def images_without_alt(page: str) -> list[str]:
    """Each <img> with no alt attribute (alt="" marks a decorative image and is allowed)."""
    return _find_references(page).without_alt


def _refuse_external(page: str, target, *, alt_text: bool = False) -> None:
    """Refuse a page that would load from the network (and, with alt_text, one with an image
    a screen reader could not describe)."""
    finder = _find_references(page)
    if finder.found:
        raise UserError(f"{target}: the page would load from the network: " + "; ".join(finder.found[:5]))
    if alt_text and finder.without_alt:
        raise UserError(f"{target}: images without alt text: " + "; ".join(finder.without_alt[:5]))


# --- Index of the reviewer pack ---------------------------------------------------------------

PACK_PAGE_CSS = ("sscp-page.css", "sscp-review.css")


def pack_page_css() -> str:
    """The style sheets of the reviewer pack's own pages (index, changes), to inline."""
    return "\n".join((TEMPLATES_DIR / "sscp" / name).read_text(encoding="utf-8") for name in PACK_PAGE_CSS)


_GOOD_OUTCOMES = {"ok", "passed", "success", "succeeded", "done", "completed"}
_BAD_OUTCOMES = {"failed", "failure", "error", "stopped", "validation stopped"}


def _outcome_state(outcome) -> str:
    """ok, failed or other (e.g. skipped, reused), for the colour of a stage's outcome."""
    text = str(outcome or "").strip().lower()
    return "ok" if text in _GOOD_OUTCOMES else "failed" if text in _BAD_OUTCOMES or text.startswith("fail") else "other"


def write_index(
    report_root: Path | str,
    *,
    year: str,
    partnership: str,
    stages: list[dict],
    synthetic: bool,
    changes: dict | None = None,
) -> Path:
    """report_root/index.html: the statement (a year's run) and the Partnership Dashboard with its
    dataset, each stage's rendered notebook, and the files a reviewer checks first (validation
    report, clean log, metrics.json, manifest.json). `year` is the run's label: '2023-24', or
    '2023-24-Q3' for a quarter's run, which publishes the dashboard alone."""
    root = Path(report_root)
    root.mkdir(parents=True, exist_ok=True)

    def present(name: str) -> str | None:
        return name if (root / name).exists() else None

    by_name = {s["name"]: s for s in stages}
    rows = []
    for stage in stages:
        seconds = stage.get("seconds")
        rows.append(
            {
                "name": stage["name"],
                "title": stage.get("title") or stage["name"],
                "html": stage.get("html") if stage.get("html") and (root / stage["html"]).exists() else None,
                "ipynb": stage.get("ipynb") if stage.get("ipynb") and (root / stage["ipynb"]).exists() else None,
                "outcome": str(stage.get("outcome") or "not run"),
                "state": _outcome_state(stage.get("outcome")),
                "seconds": f"{seconds:.1f} seconds" if isinstance(seconds, (int, float)) else None,
            }
        )
    quarterly = "-Q" in year
    dashboard_period = year if quarterly else f"{year}-Q4"
    what = f"Partnership Dashboard {year}" if quarterly else f"assurance statement {year}"
    context = {
        "title": f"{partnership}: {what} and reviewer pack",
        "heading": f"Partnership Dashboard {year}" if quarterly else f"Assurance statement {year}",
        "quarterly": quarterly,
        "dashboard_period": dashboard_period,
        "dashboard_html": present("partnership-dashboard.html"),
        "dashboard_pdf": present("partnership-dashboard.pdf"),
        "dataset_xlsx": present("dataset.xlsx"),
        "dataset_json": present("dataset.json"),
        "year": year,
        "partnership": partnership,
        "synthetic": synthetic,
        "statement_html": present("assurance-statement.html"),
        "statement_pdf": present("assurance-statement.pdf"),
        "validation": by_name.get("validate"),
        "clean": by_name.get("clean"),
        "metrics_json": present("metrics.json"),
        "manifest_json": present("manifest.json"),
        "stages": rows,
        "changes": changes if changes and (root / changes["html"]).exists() else None,
        "generated": datetime.now(UTC).strftime("%d %B %Y at %H:%M UTC").lstrip("0"),
        "page_css": pack_page_css(),
    }
    page = _fragment_env().get_template("index.html.j2").render(**context)
    _refuse_external(page, root / "index.html")
    path = root / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
