"""One way to write a figure: every number in the statement and the notebooks goes through here.

Counts "1,401"; percentages "92%" (one decimal below 10: "4.7%"); money "£123,456"; days
"12 days"; rates per 10,000 "41.2"; dates "18 December 2023"; months "October 2023";
lists "a, b and c". A suppressed count stays "c"; a missing value reads "not available".
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from numbers import Number

SUPPRESSED = "c"
NOT_AVAILABLE = "not available"

_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def _is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _round_half_up(value: float, places: int) -> Decimal:
    # Published statistics round halves up (2.5 -> 3), not to even as round() does.
    quantum = Decimal(1).scaleb(-places)
    return Decimal(str(value)).quantize(quantum, rounding=ROUND_HALF_UP)


def _special(value) -> str | None:
    """The text for a suppressed or missing value, or None for an ordinary one."""
    if _is_missing(value):
        return NOT_AVAILABLE
    if value == SUPPRESSED:
        return SUPPRESSED
    return None


def format_count(value) -> str:
    if (special := _special(value)) is not None:
        return special
    return f"{int(_round_half_up(value, 0)):,}"


def format_percent(value) -> str:
    """A percentage held as 0-100: whole numbers, one decimal below 10 ("4.7%", "5%")."""
    if (special := _special(value)) is not None:
        return special
    places = 1 if abs(value) < 10 else 0
    rounded = _round_half_up(value, places)
    if rounded == rounded.to_integral_value():
        return f"{int(rounded):,}%"
    return f"{rounded}%"


def format_money(value) -> str:
    if (special := _special(value)) is not None:
        return special
    pounds = int(_round_half_up(value, 0))
    return f"-£{-pounds:,}" if pounds < 0 else f"£{pounds:,}"


def format_days(value) -> str:
    if (special := _special(value)) is not None:
        return special
    rounded = _round_half_up(value, 1)
    text = f"{int(rounded):,}" if rounded == rounded.to_integral_value() else f"{rounded}"
    return f"{text} day" if rounded == 1 else f"{text} days"


def format_rate(value) -> str:
    """A rate per 10,000 children, to one decimal place."""
    if (special := _special(value)) is not None:
        return special
    return f"{_round_half_up(value, 1):,}"


def _as_date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def format_date(value) -> str:
    """An ISO date (or date) as "18 December 2023"."""
    if (special := _special(value)) is not None:
        return special
    day = _as_date(value)
    return f"{day.day} {day:%B %Y}"


def format_month(value) -> str:
    """A month "2023-10" as "October 2023"."""
    if (special := _special(value)) is not None:
        return special
    match = _MONTH_RE.match(str(value).strip())
    if not match:
        raise ValueError(f"a month must look like 2023-10, not {value!r}")
    return f"{date(int(match.group(1)), int(match.group(2)), 1):%B %Y}"


def format_list(items) -> str:
    """Items joined in prose: "a", "a and b", "a, b and c"; months are written out."""
    if (special := _special(items)) is not None:
        return special
    words = [format_month(i) if isinstance(i, str) and _MONTH_RE.match(i) else str(i) for i in items]
    if not words:
        return "none"
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " and " + words[-1]


def format_text(value) -> str:
    if (special := _special(value)) is not None:
        return special
    return str(value)


def format_flag(value) -> str:
    if (special := _special(value)) is not None:
        return special
    return "Yes" if value else "No"


FORMATTERS = {
    "count": format_count,
    "percent": format_percent,
    "gbp": format_money,
    "days": format_days,
    "rate": format_rate,
    "date": format_date,
    "month": format_month,
    "list": format_list,
    "text": format_text,
    "flag": format_flag,
}


def format_value(value, unit: str) -> str:
    """A value in one of the catalogue's units (not "table": see format_table)."""
    if unit == "table":
        raise TypeError("a table has no single formatted value: use format_table")
    try:
        formatter = FORMATTERS[unit]
    except KeyError:
        raise ValueError(f"unknown unit {unit!r}; expected one of {', '.join(FORMATTERS)}") from None
    return formatter(value)


def format_metric(entry: dict) -> str:
    """A metric entry ({value, unit, ...}) formatted by its unit."""
    return format_value(entry.get("value"), entry["unit"])


def format_previous(entry: dict) -> str:
    """The entry's previous-year value, formatted; "not available" when there is none."""
    return format_value(entry.get("previous"), entry["unit"])


_NUMERIC_UNITS = {"count", "percent", "gbp", "days", "rate"}


def format_change(value, previous, unit: str) -> str:
    """A year-on-year phrase: "up from 85%", "down 4 percentage points from 85%", ...

    Percentages say the change in percentage points; other numeric units say the earlier value.
    Where either year is suppressed or missing the phrase says no comparison can be made.
    """
    if unit not in _NUMERIC_UNITS:
        raise ValueError(f"no year-on-year change for unit {unit!r}")
    if any(_special(v) is not None for v in (value, previous)) or not all(
        isinstance(v, Number) for v in (value, previous)
    ):
        return "no comparison with the previous year is available"
    before = format_value(previous, unit)
    if format_value(value, unit) == before:
        return f"unchanged from {before} the previous year"
    direction = "up" if value > previous else "down"
    if unit == "percent":
        points = _round_half_up(abs(value - previous), 1 if abs(value - previous) < 10 else 0)
        points_text = f"{int(points)}" if points == points.to_integral_value() else f"{points}"
        unit_word = "percentage point" if points == 1 else "percentage points"
        return f"{direction} {points_text} {unit_word} from {before} the previous year"
    return f"{direction} from {before} the previous year"


# Table cells: the unit is read from the column name (suffix convention: _pct, _gbp, _days,
# _rate, _date, month). Columns are headed in plain words.
_COLUMN_UNITS = (
    (re.compile(r"(_pct|percent|%)$", re.I), "percent"),
    (re.compile(r"(_gbp|£)$", re.I), "gbp"),
    (re.compile(r"_days$", re.I), "days"),
    (re.compile(r"_rate(_per_10k)?$", re.I), "rate"),
    (re.compile(r"(_date|^date)$", re.I), "date"),
    (re.compile(r"(^|_)month$", re.I), "month"),
)
# The cell carries the unit ("92%", "£1,200"), so the heading drops the suffix.
_HEADER_SUFFIXES = (("_pct", ""), ("_gbp", ""), ("_days", ""), ("_per_10k", " per 10,000"))


def column_unit(column: str) -> str | None:
    for pattern, unit in _COLUMN_UNITS:
        if pattern.search(column):
            return unit
    return None


def column_heading(column: str) -> str:
    """A column name as a heading: "complete_pct" -> "Complete", "first_month" -> "First month"."""
    text = str(column)
    suffix = ""
    for ending, words in _HEADER_SUFFIXES:
        if text.lower().endswith(ending):
            text, suffix = text[: -len(ending)], words
            break
    text = text.replace("_", " ").strip()
    return text[:1].upper() + text[1:] + suffix


def format_cell(value, column: str = "") -> str:
    """One table cell: by the column's unit where its name says, else by the value's type."""
    if _is_missing(value):
        return "–"  # a dash reads better than words inside a table
    if value == SUPPRESSED:
        return SUPPRESSED
    unit = column_unit(str(column))
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if unit in ("percent", "gbp", "days", "rate") and isinstance(value, Number):
        return format_value(value, unit)
    if isinstance(value, int):
        return format_count(value)
    if isinstance(value, float):
        return format_count(value) if value.is_integer() else f"{_round_half_up(value, 1):,}"
    if isinstance(value, str):
        if _MONTH_RE.match(value):
            return format_month(value)
        if _DATE_RE.match(value):
            try:
                return format_date(value)
            except ValueError:
                return value
        if value in ("yes", "no"):
            return value.capitalize()
    if isinstance(value, (list, tuple)):
        return format_list(value)
    return str(value)


def format_table(value: dict) -> tuple[list[str], list[list[str]]]:
    """A table metric ({columns, rows}) as headings and rows of formatted cells."""
    if _special(value) is not None:
        return [], []
    columns = [str(c) for c in value.get("columns", [])]
    rows = [[format_cell(cell, col) for cell, col in zip(row, columns)] for row in value.get("rows", [])]
    return [column_heading(c) for c in columns], rows


def public_label(label: str) -> str:
    """A catalogue label without its notes for developers ("(config)", "(yes/no)")."""
    return re.sub(r"\s*\((config|yes/no|e\.g\.[^)]*)\)", "", label).strip()
