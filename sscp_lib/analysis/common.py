"""What both analysis modules share: the year's rows, percentages, code labels and table words.

Every "in the year" means the reporting year, April to March. A row's year is its dataset's
period date (the clean stage's `reporting_year` column); other dates (a due date, a start date)
are tested with `in_year`.
"""

from __future__ import annotations

import pandas as pd

from sscp_lib.config import ReportingYear
from sscp_lib.contract import load_contract

TOTAL = "Total"
NOT_RECORDED = "Not recorded"


def flag(series: pd.Series) -> pd.Series:
    """A nullable boolean Series as plain bool, missing meaning False."""
    return series.astype("boolean").fillna(False).astype(bool)


def year_end(year: ReportingYear) -> pd.Timestamp:
    return pd.Timestamp(year.end)


def in_year(dates: pd.Series, year: ReportingYear) -> pd.Series:
    """True where a date falls in the reporting year (1 April to 31 March); missing dates are False."""
    return flag((dates >= pd.Timestamp(year.start)) & (dates <= year_end(year)))


def rows_in_year(frame: pd.DataFrame, year: ReportingYear, date_column: str | None = None) -> pd.DataFrame:
    """The year's rows: by the clean stage's reporting_year, or by `date_column` when given."""
    if date_column is not None:
        return frame[in_year(frame[date_column], year)]
    return frame[flag(frame["reporting_year"] == year.label)]


def percent(part, whole, ndigits: int | None = None) -> float | None:
    """part as a percentage of whole (0-100), rounded to `ndigits` when given; None when whole is 0."""
    if not whole:
        return None
    value = 100.0 * float(part) / float(whole)
    return value if ndigits is None else round(value, ndigits)


def code_labels(code_list: str) -> dict[str, str]:
    """Code -> label for a contract code list, in the contract's order."""
    return dict(load_contract().code_lists[code_list].codes)


def label(code_list: str, code) -> str:
    """The contract's label for a code (the code itself when the list does not know it)."""
    if code is None or code is pd.NA:
        return NOT_RECORDED
    return code_labels(code_list).get(str(code), str(code))
