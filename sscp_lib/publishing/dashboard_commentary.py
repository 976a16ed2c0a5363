"""The dashboard's commentary: a Markdown file written for each quarter, with indicator
placeholders filled from dataset.json, as the statement's narrative has metric placeholders.

The config key `dashboard_narrative` (relative to the config file, with `{period}` for
'2023-24-Q3') says where the files are. `{{ d.referral_rate }}` writes the indicator's value
for the quarter reported on; `.previous` (the quarter before), `.last_year` (the same quarter a
year earlier), `.label`, `.variation`, `.assurance`, `.rag` and `.comparator` write the rest.
Naming an indicator the dataset does not hold stops the run with the file and line.
A quarter with no commentary file is published without commentary, and the page says so.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path

import jinja2

from sscp_lib.config import PartnershipConfig, Quarter
from sscp_lib.files import display_path
from sscp_lib.publishing.dashboard import (
    assurance_verdict,
    comparator_text,
    current_rag,
    quarter_short,
    quarter_words,
    rag_verdict,
    value_cell,
    variation_verdict,
)
from sscp_lib.publishing.narrative import NarrativeError, _template_line, markdown_to_html

CONFIG_KEY = "dashboard_narrative"
DEFAULT_LOCATION = "../narrative/dashboard/{period}.md"


def commentary_path(config: PartnershipConfig, quarter: Quarter) -> Path:
    """Where the quarter's commentary is (whether or not it exists yet)."""
    template = config.get(CONFIG_KEY) or DEFAULT_LOCATION
    return (Path(config.path).parent / template.format(period=quarter.label, year=quarter.year.label)).resolve()


class IndicatorPlaceholder:
    """One indicator as a placeholder sees it: prints as its value for the quarter."""

    def __init__(self, indicator: Mapping, quarter: Quarter):
        self._indicator, self._quarter = indicator, quarter

    def _text(self, text: str) -> str:
        return f'<span data-indicator="{html.escape(self._indicator["id"])}">{html.escape(text)}</span>'

    def __str__(self) -> str:
        return self._text(value_cell(self._indicator, self._quarter).text)

    @property
    def previous(self) -> str:
        return self._text(value_cell(self._indicator, self._quarter.previous).text)

    @property
    def last_year(self) -> str:
        return self._text(value_cell(self._indicator, self._quarter.same_quarter_last_year).text)

    @property
    def label(self) -> str:
        return html.escape(str(self._indicator.get("label", self._indicator["id"])))

    @property
    def variation(self) -> str:
        return variation_verdict(self._indicator).words.lower()

    @property
    def assurance(self) -> str:
        return assurance_verdict(self._indicator).words.lower()

    @property
    def rag(self) -> str:
        return rag_verdict(current_rag(self._indicator, self._quarter)).words

    @property
    def comparator(self) -> str:
        return html.escape(comparator_text(self._indicator))


class UnknownIndicator(Exception):
    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


class IndicatorNamespace:
    def __init__(self, dataset: Mapping, quarter: Quarter):
        self._by_id = {i["id"]: i for i in dataset.get("indicators", [])}
        self._quarter = quarter

    def __getattr__(self, name: str) -> IndicatorPlaceholder:
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self._by_id:
            raise UnknownIndicator(name)
        return IndicatorPlaceholder(self._by_id[name], self._quarter)

    __getitem__ = __getattr__


def render_commentary(path: Path, dataset: Mapping, quarter: Quarter) -> str:
    """The commentary file as HTML, its placeholders filled in."""
    path = Path(path).resolve()
    where = display_path(path)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(path.parent)), undefined=jinja2.StrictUndefined, autoescape=False
    )
    context = {
        "d": IndicatorNamespace(dataset, quarter),
        "quarter": quarter_short(quarter),
        "quarter_words": quarter_words(quarter),
        "previous_quarter": quarter_short(quarter.previous),
        "year": quarter.year.label,
    }
    try:
        text = env.get_template(path.name).render(**context)
    except UnknownIndicator as exc:
        raise NarrativeError(
            f"{where}{_template_line(exc, path)}: placeholder 'd.{exc.name}' names no indicator in the dataset "
            f"(sscp_lib/indicators.yaml)"
        ) from None
    except jinja2.TemplateSyntaxError as exc:
        raise NarrativeError(f"{where}, line {exc.lineno}: {exc.message}") from None
    except jinja2.UndefinedError as exc:
        raise NarrativeError(f"{where}{_template_line(exc, path)}: {exc.message}") from None
    return markdown_to_html(_demoted(text))


def _demoted(text: str) -> str:
    """Headings in the commentary sit under the page's 'Commentary' heading (h2): '#' and '##' become h3."""
    import re

    return re.sub(r"^#{1,2}(?=\s)", "###", text, flags=re.M)


def commentary(config: PartnershipConfig, dataset: Mapping, quarter: Quarter) -> tuple[str, str]:
    """(HTML, note): the quarter's commentary and where it came from; ('', why) when none is written."""
    path = commentary_path(config, quarter)
    if not path.is_file():
        return "", (
            f"No commentary has been written for {quarter_short(quarter)} yet (expected in {display_path(path)})."
        )
    return render_commentary(path, dataset, quarter), f"Commentary from {display_path(path)}."
