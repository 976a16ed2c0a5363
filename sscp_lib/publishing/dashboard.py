"""The Partnership Dashboard's words: the view model the dashboard page lays out, read from
dataset.json (sscp_lib.analysis.indicators.build_dataset) and the dashboard's charts.json.

What it adds to the dataset is wording only: each value formatted with its quarter ("not yet
received" where the dataset has not arrived, never zero), the RAG, variation and assurance
verdicts as words beside their icons, and the sentences at the top of the page saying what
changed significantly this quarter (special-cause variation, ratings that moved).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from sscp_lib.config import Quarter, ReportingYear
from sscp_lib.formatting import SUPPRESSED, format_value

NOT_RECEIVED_TEXT = "Not yet received"
NO_DATA_TEXT = "No data"
NO_COMPARATOR_TEXT = "Comparator not supplied"
NO_DFE_COMPARATOR_TEXT = "None published"  # DfE publishes no comparator for the indicator


# --- Values -------------------------------------------------------------------------------------


def formatting_unit(unit: str | None) -> str:
    """The formatting unit (sscp_lib.formatting) for an indicator's unit."""
    text = str(unit or "count").lower()
    if "percent" in text or text in {"%", "pct", "share"}:
        return "percent"
    if "rate" in text:
        return "rate"
    if text in {"days", "gbp"}:
        return text
    return "count"


def unit_words(unit: str | None) -> str:
    return {"percent": "%", "rate": "per 10,000 children", "days": "days", "gbp": "£"}.get(
        formatting_unit(unit), "number"
    )


def format_indicator_value(value, unit: str | None) -> str:
    if value is None:
        return NO_DATA_TEXT
    if value == SUPPRESSED:
        return SUPPRESSED
    return format_value(value, formatting_unit(unit))


def period_quarter(period: str) -> Quarter:
    """'2023-24-Q3' as a Quarter ('2023-24' alone: its Q4)."""
    year, _, number = str(period).partition("-Q")
    return ReportingYear.parse(year).quarter(int(number or 4))


def quarter_words(quarter: Quarter) -> str:
    """E.g. 'Q3 2023-24 (October to December 2023)'."""
    start, end = quarter.start, quarter.end
    return f"Q{quarter.number} {quarter.year.label} ({start:%B} to {end:%B %Y})"


def quarter_short(quarter: Quarter) -> str:
    return f"Q{quarter.number} {quarter.year.label}"


@dataclass(frozen=True)
class Cell:
    """One value in the grid: its text and whether it is missing for a reason the reader must see."""

    text: str
    state: str = "value"  # value | not-received | no-data | suppressed


def is_not_received(indicator: Mapping, key: str) -> bool:
    """True where the indicator's value for a quarter or month is missing because its data have not arrived."""
    return (indicator.get("values") or {}).get(key) is None and str(
        (indicator.get("reasons") or {}).get(key, "")
    ).lower().startswith(NOT_RECEIVED_TEXT.lower())


def not_received(indicator: Mapping, dataset: Mapping) -> list[str]:
    """The quarters of the reporting year so far whose data for this indicator have not arrived."""
    quarter = period_quarter(dataset["period"])
    labels = [quarter.year.quarter(n).label for n in range(1, quarter.number + 1)]
    return [label for label in labels if is_not_received(indicator, label)]


def value_cell(indicator: Mapping, quarter: Quarter) -> Cell:
    values = indicator.get("values") or {}
    if is_not_received(indicator, quarter.label):
        return Cell(NOT_RECEIVED_TEXT, "not-received")
    value = values.get(quarter.label)
    if value is None:
        return Cell(NO_DATA_TEXT, "no-data")
    if value == SUPPRESSED:
        return Cell(SUPPRESSED, "suppressed")
    return Cell(format_indicator_value(value, indicator.get("unit")))


# --- Verdicts -----------------------------------------------------------------------------------


def _code(value) -> str:
    """A verdict as a lower-case word, whether dataset.json holds it as text or as {"code": ...}."""
    if isinstance(value, Mapping):
        value = value.get("code") or value.get("status")
    return str(value or "").strip().lower().replace("-", "_").replace(" ", "_")


@dataclass(frozen=True)
class Verdict:
    code: str  # the CSS class and icon: e.g. improving, concerning, common, none
    letter: str  # the icon's letter (the icon itself is hidden from screen readers)
    words: str  # the text equivalent, always shown


def variation_verdict(indicator: Mapping) -> Verdict:
    code = _code(indicator.get("variation"))
    direction = _direction(indicator)
    if "improv" in code:
        return Verdict("improving", "I", f"Special cause: improving{direction}")
    if "concern" in code or "deteriorat" in code:
        return Verdict("concerning", "C", f"Special cause: concerning{direction}")
    if "special" in code or "neither" in code:
        return Verdict("special", "S", f"Special cause{direction}")
    if "common" in code:
        return Verdict("common", "–", "Common cause: no significant change")
    if code == "no_data":  # the latest quarter has no value: say why, in the dataset's words
        variation = indicator.get("variation")
        text = variation.get("text") if isinstance(variation, Mapping) else None
        return Verdict("none", "?", text or "No value for the latest quarter")
    return Verdict("none", "?", "Too few months to judge")


def _direction(indicator: Mapping) -> str:
    variation = indicator.get("variation")
    direction = variation.get("direction") if isinstance(variation, Mapping) else indicator.get("direction")
    text = str(direction or "").lower()
    if text in {"high", "higher", "up", "rising", "increase"}:
        return " (higher)"
    if text in {"low", "lower", "down", "falling", "decrease"}:
        return " (lower)"
    return ""


def assurance_verdict(indicator: Mapping) -> Verdict:
    if indicator.get("assurance") is None:
        return Verdict("none", "", "No target set")
    code = _code(indicator.get("assurance"))
    if "pass" in code:
        return Verdict("pass", "P", "Consistently passing the target")
    if "fail" in code:
        return Verdict("fail", "F", "Consistently failing the target")
    if "hit" in code or "miss" in code or "random" in code:
        return Verdict("hitmiss", "?", "Hit and miss: the target may or may not be met")
    return Verdict("unknown", "", "Too few months to judge")


RAG_WORDS = {"red": "Red", "amber": "Amber", "green": "Green"}


def rag_verdict(rag) -> Verdict:
    code = _code(rag)
    if code in RAG_WORDS:
        return Verdict(code, RAG_WORDS[code][0], RAG_WORDS[code])
    return Verdict("none", "", "Not rated")


def previous_rag(indicator: Mapping, quarter: Quarter):
    """The indicator's rating the quarter before, where dataset.json holds it."""
    return (indicator.get("rag_by_quarter") or {}).get(quarter.previous.label) or indicator.get("rag_previous")


def current_rag(indicator: Mapping, quarter: Quarter):
    return indicator.get("rag")


def comparator_text(indicator: Mapping) -> str:
    comparator = indicator.get("comparator")
    if not comparator:
        return NO_COMPARATOR_TEXT
    if isinstance(comparator, Mapping) and comparator.get("status") not in (None, "supplied"):
        return NO_DFE_COMPARATOR_TEXT if comparator.get("status") == "not_published" else NO_COMPARATOR_TEXT
    if isinstance(comparator, Mapping):
        unit = indicator.get("unit")
        parts = []
        for key, name in (("england", "England"), ("region", "region"), ("statistical_neighbours", "neighbours")):
            if comparator.get(key) is not None:
                parts.append(f"{name} {format_indicator_value(comparator[key], unit)}")
        if not parts and comparator.get("text"):
            return str(comparator["text"])
        year = comparator.get("period") or comparator.get("time_period")
        return "; ".join(parts) + (f" ({year})" if year and parts else "") if parts else NO_COMPARATOR_TEXT
    return str(comparator)


# --- What changed significantly -----------------------------------------------------------------


def changed_sentences(dataset: Mapping) -> list[str]:
    """Sentences for the top of the dashboard, generated from the data: each indicator whose
    chart shows special-cause variation, each rating that changed since the quarter before, and
    the datasets not yet received for the quarter."""
    quarter = period_quarter(dataset["period"])
    sentences: list[str] = []
    order = {"concerning": 0, "improving": 1, "special": 2}  # concerns first
    indicators = sorted(dataset.get("indicators", []), key=lambda i: order.get(variation_verdict(i).code, 3))
    for indicator in indicators:
        verdict = variation_verdict(indicator)
        if verdict.code in {"improving", "concerning", "special"}:
            sentences.append(special_cause_sentence(indicator, verdict, quarter))
    for indicator in dataset.get("indicators", []):
        now, then = rag_verdict(current_rag(indicator, quarter)), rag_verdict(previous_rag(indicator, quarter))
        if now.code != "none" and then.code != "none" and now.code != then.code:
            sentences.append(f"{indicator['label']} moved from {then.words} to {now.words} since the quarter before.")
    missing = [i["label"] for i in dataset.get("indicators", []) if is_not_received(i, quarter.label)]
    if missing:
        listed = _join(missing)
        sentences.append(
            f"{len(missing)} indicator{'s are' if len(missing) != 1 else ' is'} not yet received for "
            f"{quarter_short(quarter)}: {listed}."
        )
    if not sentences:
        sentences.append(
            f"No indicator shows special-cause variation in {quarter_short(quarter)} and no rating changed "
            "since the quarter before."
        )
    return sentences


_RULES_RE = re.compile(r"\((?:higher|lower):\s*(.+)\)\s*$")


def special_cause_sentence(indicator: Mapping, verdict: Verdict, quarter: Quarter) -> str:
    """E.g. "Health referrals rose beyond their usual variation (a run of 7 or more points on one
    side of the mean): 291 in Q3 2023-24 against 246 the quarter before." """
    direction = _direction(indicator).strip(" ()")
    moved = {"higher": "rose", "lower": "fell"}.get(direction, "changed")
    variation = indicator.get("variation")
    rules = _RULES_RE.search(str(variation.get("text", ""))) if isinstance(variation, Mapping) else None
    sentence = f"{indicator['label']} {moved} beyond their usual variation"
    if rules:
        sentence += f" ({rules.group(1)})"
    sentence += {"improving": ", an improvement", "concerning": ", a concern"}.get(verdict.code, "")
    # Against the same quarter a year earlier: a shift shows there without the seasons' noise.
    latest, before = value_cell(indicator, quarter), value_cell(indicator, quarter.same_quarter_last_year)
    if latest.state == "value":
        sentence += f": {latest.text} in {quarter_short(quarter)}"
        if before.state == "value":
            sentence += f" against {before.text} a year earlier"
    return sentence + "."


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


# --- The page's view model ----------------------------------------------------------------------


@dataclass
class IndicatorRow:
    id: str
    label: str
    unit: str
    definition: str
    latest: Cell
    previous: Cell
    last_year: Cell
    comparator: str
    rag: Verdict
    variation: Verdict
    assurance: Verdict
    chart: dict | None = None  # {"data_uri", "alt"} where the indicator has a monthly chart


@dataclass
class Theme:
    name: str
    anchor: str
    rows: list[IndicatorRow] = field(default_factory=list)

    @property
    def charts(self) -> list[IndicatorRow]:
        return [row for row in self.rows if row.chart]


@dataclass
class Dashboard:
    title: str
    partnership: str
    quarter: Quarter
    quarter_words: str
    changed: list[str]
    themes: list[Theme]
    commentary_html: str  # the authored commentary, placeholders filled ('' where none is written)
    commentary_note: str  # where the commentary comes from, or why there is none
    synthetic: bool
    marking: str
    status: dict | None  # {"approved", "text"}: DRAFT until approved
    comparators_supplied: bool
    suppress_up_to: int

    @property
    def previous_label(self) -> str:
        return quarter_short(self.quarter.previous)

    @property
    def last_year_label(self) -> str:
        return quarter_short(self.quarter.same_quarter_last_year)

    @property
    def latest_label(self) -> str:
        return quarter_short(self.quarter)


def _unit_shown(indicator: Mapping) -> str:
    """The unit to print after the label ('number' and a unit the label already says: none)."""
    words = unit_words(indicator.get("unit"))
    label = str(indicator.get("label", "")).lower()
    return "number" if words == "number" or words.lower() in label else words


def _anchor(text: str) -> str:
    import re

    return "theme-" + (re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "other")


def indicator_rows(dataset: Mapping, charts: Mapping[str, dict]) -> list[tuple[str, IndicatorRow]]:
    quarter = period_quarter(dataset["period"])
    rows = []
    for indicator in dataset.get("indicators", []):
        chart = charts.get(indicator["id"])
        theme = str(indicator.get("theme") or "Other")
        rows.append(
            (
                str((dataset.get("themes") or {}).get(theme, theme)),
                IndicatorRow(
                    id=indicator["id"],
                    label=str(indicator.get("label", indicator["id"])),
                    unit=_unit_shown(indicator),
                    definition=str(indicator.get("definition") or ""),
                    latest=value_cell(indicator, quarter),
                    previous=value_cell(indicator, quarter.previous),
                    last_year=value_cell(indicator, quarter.same_quarter_last_year),
                    comparator=comparator_text(indicator),
                    rag=rag_verdict(current_rag(indicator, quarter)),
                    variation=variation_verdict(indicator),
                    assurance=assurance_verdict(indicator),
                    chart=dict(chart) if chart else None,
                ),
            )
        )
    return rows


def build_dashboard(
    dataset: Mapping,
    charts: Mapping[str, dict],
    *,
    partnership: str,
    commentary_html: str,
    commentary_note: str,
    synthetic: bool,
    marking: str,
    status: dict | None,
    suppress_up_to: int,
) -> Dashboard:
    """The dashboard as the page lays it out. charts: charts.json with each entry's data_uri added."""
    quarter = period_quarter(dataset["period"])
    themes: dict[str, Theme] = {}  # in the order of the indicators (a JSON file may hold `themes` sorted)
    for theme, row in indicator_rows(dataset, charts):
        themes.setdefault(theme, Theme(theme, _anchor(theme))).rows.append(row)
    return Dashboard(
        title=f"{partnership}: Partnership Dashboard, {quarter_short(quarter)}",
        partnership=partnership,
        quarter=quarter,
        quarter_words=quarter_words(quarter),
        changed=changed_sentences(dataset),
        themes=list(themes.values()),
        commentary_html=commentary_html,
        commentary_note=commentary_note,
        synthetic=synthetic,
        marking=marking,
        status=status,
        comparators_supplied=bool(dataset.get("comparators_supplied")),
        suppress_up_to=suppress_up_to,
    )
