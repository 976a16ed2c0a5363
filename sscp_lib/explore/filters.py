"""Compute: the rows an analyst asks for, by date, year and any code or flag column.

    filter_rows(referrals, start="2023-10", end="2024-03", source_group="Unknown")
    filter_rows(police, year="2023-24", domestic_abuse="yes")
    filter_rows(referrals, months="2023-10:2024-03", category="Not recorded")

Dates are the table's period date (referral date, contact date, plan start date). `start` and
`end` are inclusive: a month ("2023-10") means its first day as a start and its last as an end.
`months` is one month, a range "2023-10:2024-03", or a list of months; a tuple is refused, as
("2023-10", "2024-03") could mean two months or a range. Other keywords name a column (see
vocabulary.column_for) and take one value or a list.
"""

from __future__ import annotations

import re
from datetime import date

import pandas as pd

from sscp_lib.config import ReportingYear
from sscp_lib.contract import load_contract
from sscp_lib.explore.tables import table_of
from sscp_lib.explore.vocabulary import NOT_RECORDED, ExploreError, as_list, column_for, heading, labels_for, values_for

_MONTH = re.compile(r"^\d{4}-\d{2}$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _date(value, name: str, *, month_end: bool) -> pd.Timestamp:
    """A start or end date: a day, or a month meaning its first (start) or last (end) day."""
    if isinstance(value, (date, pd.Timestamp)):
        return pd.Timestamp(value)
    text = str(value).strip()
    try:
        if _MONTH.match(text):
            month = pd.Period(text, freq="M")
            return month.end_time.normalize() if month_end else month.start_time
        if _DAY.match(text):
            return pd.Timestamp(text)
    except ValueError:
        pass
    hint = " (for a reporting year use year=...)" if re.match(r"^\d{4}-\d{2}$", text) else ""
    raise ExploreError(f"{name}={value!r} is not a date: write a month (2023-10) or a day (2023-10-15){hint}")


def _month(value, name: str = "months") -> pd.Period:
    text = str(value).strip()
    if isinstance(value, pd.Period) or _MONTH.match(text):
        try:
            return pd.Period(value, freq="M")
        except ValueError:
            pass
    raise ExploreError(f"{name}: {value!r} is not a month: write 2023-10")


def months_wanted(months) -> tuple[set[pd.Period], str]:
    """The months meant by `months`, and how to say them."""
    if isinstance(months, tuple):
        shown = ", ".join(repr(m) for m in months)
        raise ExploreError(
            f"months=({shown}) is ambiguous: for a range write start=..., end=... or months='first:last'; "
            f"for separate months write a list [{shown}]"
        )
    if isinstance(months, str) and ":" in months:
        first, _, last = months.partition(":")
        first, last = _month(first), _month(last)
        if last < first:
            raise ExploreError(f"months={months!r} ends before it starts")
        wanted = set(pd.period_range(first, last, freq="M"))
        return wanted, f"{first:%b %Y} to {last:%b %Y}"
    wanted = {_month(m) for m in as_list(months)}
    return wanted, ", ".join(f"{m:%b %Y}" for m in sorted(wanted))


def filter_rows(frame: pd.DataFrame, *, start=None, end=None, year=None, months=None, **columns) -> pd.DataFrame:
    """The rows matching every filter given (see the module docstring); None means no filter."""
    table = table_of(frame)
    dates = frame[load_contract().dataset(table.dataset).period_column]
    keep = pd.Series(True, index=frame.index)
    said = list(frame.attrs.get("filters", []))
    span = frame.attrs.get("span")  # the first and last day asked for, so monthly answers show empty months
    if start is not None or end is not None:
        first = _date(start, "start", month_end=False) if start is not None else None
        last = _date(end, "end", month_end=True) if end is not None else None
        if first is not None and last is not None and last < first:
            raise ExploreError(f"end={end!r} is before start={start!r}")
        lo, hi = span or (None, None)
        span = (first if first is not None else lo, last if last is not None else hi)
        if first is not None:
            keep &= (dates >= first).fillna(False).astype(bool)
        if last is not None:
            keep &= (dates < last + pd.Timedelta(days=1)).fillna(False).astype(bool)
        said.append(
            f"{first:%-d %b %Y} to {last:%-d %b %Y}"
            if first is not None and last is not None
            else f"from {first:%-d %b %Y}"
            if first is not None
            else f"to {last:%-d %b %Y}"
        )
    if months is not None:
        chosen, words = months_wanted(months)
        keep &= dates.dt.to_period("M").isin(chosen).fillna(False).astype(bool)
        said.append(words)
        span = (min(chosen).start_time, max(chosen).end_time.normalize())
    if year is not None:
        years = [values_for(frame, table.dataset, "reporting_year", y)[0] for y in as_list(year)]
        starts = [pd.Timestamp(ReportingYear.parse(y).start) for y in years]
        span = (min(starts), max(starts) + pd.DateOffset(years=1) - pd.Timedelta(days=1))

        columns = {"reporting_year": year, **columns}
    for name, values in columns.items():
        if values is None:
            continue
        column = column_for(frame, name).removesuffix("_label")
        if column not in frame.columns:
            column = column_for(frame, name)
        wanted = values_for(frame, table.dataset, column, values)
        codes = [v for v in wanted if not pd.isna(v)]
        match = frame[column].isin(codes).fillna(False).astype(bool) if codes else pd.Series(False, index=frame.index)
        if len(codes) < len(wanted):
            match |= frame[column].isna()
        keep &= match
        said.append(_describe(table.dataset, column, wanted))
    out = frame[keep.to_numpy()]
    out.attrs = {**frame.attrs, "filters": said, "span": span}
    return out


def _describe(dataset: str, column: str, wanted: list) -> str:
    labels = labels_for(dataset, column) or {}
    shown = [NOT_RECORDED if pd.isna(v) else labels.get(v, str(v)) for v in wanted]
    if column == "reporting_year":
        return ", ".join(shown)
    return f"{heading(dataset, column)}: {', '.join(shown)}"
