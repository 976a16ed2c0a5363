"""Figures that agree with each other: checks over a run's metrics.json and its rendered statement.

On the metrics, from the relations the catalogue declares beside each metric:
- a part (`part_of`) is never larger than its whole;
- a share (`share_of: {part, whole}`) equals 100 * part / whole, within rounding.
Both hold for this year's values and, where both are there, for the previous year's.

On the statement (every figure the narrative quotes is a `<span data-metric>`, every key-figures
row a `<tr data-metric>`):
- a figure quoted in the prose is the metric's value as metrics.json holds it, and the same as
  that metric's row in the key-figures table;
- a paragraph that quotes a share together with its part also quotes its whole, so the reader
  is told what the percentage is of and does not take it to be of another count nearby.

Suppressed ("c") and missing values are not compared: they state nothing to disagree with.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from numbers import Number

from .formatting import format_metric

# Shares are stored to 6 decimal places by the metric store, or to 1 by some analyses: half a
# unit of the coarser rounding, and a little room for float arithmetic.
SHARE_TOLERANCE = 0.05 + 1e-6


def _number(value):
    return value if isinstance(value, Number) and not isinstance(value, bool) else None


def _wholes(spec: dict) -> list[str]:
    wholes = spec.get("part_of") or []
    return [wholes] if isinstance(wholes, str) else list(wholes)


def check_metrics(metrics: dict, catalogue: dict) -> list[str]:
    """Every part larger than its whole and every share that is not its part over its whole."""
    problems = []
    for name, spec in catalogue["metrics"].items():
        if name not in metrics:
            continue
        for which in ("value", "previous"):
            value = _number(metrics[name].get(which))
            if value is None:
                continue
            year = "" if which == "value" else " (previous year)"
            for whole_name in _wholes(spec):
                whole = _number((metrics.get(whole_name) or {}).get(which))
                if whole is not None and value > whole:
                    problems.append(f"{name} = {value:g} is larger than its whole {whole_name} = {whole:g}{year}")
            share = spec.get("share_of")
            if share:
                part = _number((metrics.get(share["part"]) or {}).get(which))
                whole = _number((metrics.get(share["whole"]) or {}).get(which))
                if part is not None and whole:
                    expected = 100 * part / whole
                    if abs(value - expected) > SHARE_TOLERANCE:
                        problems.append(
                            f"{name} = {value:g}% is not {share['part']} / {share['whole']} = "
                            f"{part:g} / {whole:g} = {expected:.1f}%{year}"
                        )
    return problems


# --- The rendered statement --------------------------------------------------------------------

_BLOCKS = {"p", "li", "td", "th", "caption", "figcaption", "h1", "h2", "h3", "h4", "h5", "h6"}


class _StatementReader(HTMLParser):
    """Quoted figures by paragraph, and key-figures rows, of a rendered statement."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[list[tuple[str, str]]] = []  # [(metric, text shown)] per block
        self.rows: dict[str, str] = {}  # metric -> this year's cell in its key-figures row
        self._spans: list[list] = []  # open data-metric spans: [metric, text, depth]
        self._depth = 0
        self._block: list[tuple[str, str]] | None = None
        self._row: list | None = None  # [metric, cells seen, text of the first value cell]

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in _BLOCKS and self._block is None and self._row is None:
            self._block = []
            self._block_tag = tag
        if tag == "tr" and attrs.get("data-metric"):
            self._row = [attrs["data-metric"], 0, None]
        if tag == "td" and self._row is not None:
            self._row[1] += 1
            if self._row[1] == 1:
                self._row[2] = ""
        self._depth += 1
        if tag == "span" and attrs.get("data-metric"):
            self._spans.append([attrs["data-metric"], "", self._depth])

    def handle_endtag(self, tag):
        if tag == "span" and self._spans and self._spans[-1][2] == self._depth:
            metric, text, _ = self._spans.pop()
            if self._block is not None:
                self._block.append((metric, _squash(text)))
        self._depth -= 1
        if tag == "tr" and self._row is not None:
            self.rows[self._row[0]] = _squash(self._row[2] or "")
            self._row = None
        if self._block is not None and tag == getattr(self, "_block_tag", None):
            if self._block:
                self.paragraphs.append(self._block)
            self._block = None

    def handle_data(self, data):
        for span in self._spans:
            span[1] += data
        if self._row is not None and self._row[1] == 1:
            self._row[2] += data


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(text)).strip()


def check_statement(page: str, metrics: dict, catalogue: dict) -> list[str]:
    """Problems with the figures a rendered statement quotes (see the module's docstring)."""
    reader = _StatementReader()
    reader.feed(page)
    reader.close()
    problems = []
    specs = catalogue["metrics"]
    for paragraph in reader.paragraphs:
        quoted = {name for name, _ in paragraph}
        for name, shown in paragraph:
            entry = metrics.get(name)
            if entry is None:
                problems.append(f"the statement quotes {name}, which metrics.json does not hold")
                continue
            expected = format_metric(entry)
            if shown != _squash(expected):
                problems.append(f"the statement quotes {name} as {shown!r}; metrics.json gives {expected!r}")
            row = reader.rows.get(name)
            if row is not None and row.lower() != shown.lower():
                problems.append(f"{name} reads {shown!r} in the text but {row!r} in the key figures")
        for name in quoted:
            share = (specs.get(name) or {}).get("share_of")
            if share and share["part"] in quoted and share["whole"] not in quoted:
                problems.append(
                    f"a paragraph quotes {name} with its part {share['part']} but not its whole "
                    f"{share['whole']}: say what the percentage is of ({_excerpt(paragraph)})"
                )
    return problems


def _excerpt(paragraph: list[tuple[str, str]]) -> str:
    return ", ".join(f"{name} {shown}" for name, shown in paragraph)


def check_run(metrics: dict, page: str, catalogue: dict) -> list[str]:
    """Both checks on one run: its merged metrics and its rendered statement."""
    return check_metrics(metrics, catalogue) + check_statement(page, metrics, catalogue)
