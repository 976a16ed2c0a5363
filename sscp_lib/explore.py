"""Helpers for ad-hoc questions about referrals, a few lines each in a notebook.

    referrals = load_referrals("2023-24")
    police = filter_referrals(referrals, months=["2023-10", "2023-11"], agency="POLICE")
    monthly_series(referrals, by="referral_source_group")
    crosstab(referrals, "referral_source_group", "referral_outcome")   # small cells shown as "c"

Filters accept codes (e.g. "POLICE", "ADVICE_INFO", "SAB") or their labels ("Police",
"Advice and information", "Sexual abuse"), one value or a list.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from .analysis.common import TOTAL
from .analysis.referrals import published_counts
from .config import Paths, ReportingYear, load_config
from .contract import load_contract
from .errors import UserError
from .stages.loading import read_processed_table


def load_referrals(year: str | ReportingYear, processed_dir: Path | str | None = None) -> pd.DataFrame:
    """The validated referrals of a year's run (every year up to it, column reporting_year)."""
    year = year if isinstance(year, ReportingYear) else ReportingYear.parse(year)
    path = Paths.with_overrides(processed=processed_dir).validated_dir(year) / "referrals.parquet"
    if not path.exists():
        raise UserError(f"{path}: validated referrals not found; run the chain for {year} first")
    return read_processed_table(path, "referrals")


def _as_list(value) -> list:
    if isinstance(value, (str, pd.Period)) or not isinstance(value, Iterable):
        return [value]
    return list(value)


def _codes(values, code_list: str) -> list[str]:
    """Codes for the given codes or labels (case-insensitive); unknown values are an error."""
    lookup = load_contract().code_lists[code_list].lookup()
    codes = []
    for value in _as_list(values):
        code = lookup.get(str(value).strip().lower())
        if code is None:
            raise ValueError(f"{value!r} is not a code or label of {code_list}")
        codes.append(code)
    return codes


def filter_referrals(df: pd.DataFrame, months=None, agency=None, outcome=None, category=None) -> pd.DataFrame:
    """Referrals in the given months ('2023-10'), source agency groups, outcomes and abuse categories.

    Each argument is one value or a list; None means no filter on that column. `outcome` matches
    the processed outcome (NFA recorded from the changeover date is Advice and information).
    """
    keep = pd.Series(True, index=df.index)
    if months is not None:
        wanted = {pd.Period(m, freq="M") for m in _as_list(months)}
        keep &= df["referral_date"].dt.to_period("M").isin(wanted)
    for column, values, code_list in (
        ("referral_source_group", agency, "source_agency"),
        ("referral_outcome", outcome, "referral_outcome"),
        ("abuse_category", category, "abuse_category"),
    ):
        if values is not None:
            keep &= df[column].isin(_codes(values, code_list)).fillna(False).astype(bool)
    return df[keep]


def monthly_series(df: pd.DataFrame, by: str | None = None) -> pd.Series | pd.DataFrame:
    """Referrals per month ('2023-04' ...), every month from the first to the last present.

    With `by` (a column, e.g. referral_source_group) a table of months by that column's values.
    These are unsuppressed working figures: publish counts through `crosstab`.
    """
    month = df["referral_date"].dt.to_period("M")
    if month.empty:
        return pd.Series(dtype="int64", name="referrals") if by is None else pd.DataFrame()
    months = pd.period_range(month.min(), month.max(), freq="M")
    if by is None:
        series = month.value_counts().reindex(months, fill_value=0).astype("int64")
        series.index = [m.strftime("%Y-%m") for m in months]
        series.index.name, series.name = "month", "referrals"
        return series
    table = pd.crosstab(month.to_numpy(), df[by].astype("string").fillna("Not recorded").to_numpy())
    table = table.reindex(months, fill_value=0).astype("int64")
    table.index = [m.strftime("%Y-%m") for m in months]
    table.index.name, table.columns.name = "month", by
    return table


def crosstab(
    df: pd.DataFrame, rows: str, cols: str, suppress: bool = True, threshold: int | None = None
) -> pd.DataFrame:
    """Counts of referrals by two columns, with row and column totals.

    With `suppress` (the default) small cells and the cells that would reveal them from a total
    show "c", using the partnership's threshold unless `threshold` is given.
    """
    counts = pd.crosstab(
        df[rows].astype("string").fillna("Not recorded").to_numpy(),
        df[cols].astype("string").fillna("Not recorded").to_numpy(),
    )
    counts.index.name, counts.columns.name = rows, cols
    if not suppress:
        table = counts.copy()
        table[TOTAL] = table.sum(axis=1)
        table.loc[TOTAL] = table.sum(axis=0)
        return table
    threshold = load_config().suppression_threshold if threshold is None else threshold
    return published_counts(counts, threshold, row_totals=True)
