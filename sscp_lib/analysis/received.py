"""The data as they stood at a quarter's end, and which quarters each dataset has rows for.

A quarter's run reports on the year's data up to the end of that quarter: `cut_at` drops rows
whose period date (the contract's `period_column`) falls after it. `quarters_received` tells a
quarter no dataset has reached yet, which stops the run (sscp_lib.analysis.indicators marks
each indicator's quarters not yet received, never zero).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from sscp_lib.config import Quarter
from sscp_lib.contract import load_contract


def _period_dates(frame: pd.DataFrame, dataset: str) -> pd.Series:
    column = load_contract().dataset(dataset).period_column
    return pd.to_datetime(frame[column]) if column in frame else pd.Series(pd.NaT, index=frame.index)


def cut_at(tables: Mapping[str, pd.DataFrame], quarter: Quarter) -> dict[str, pd.DataFrame]:
    """The tables as they stood at the quarter's end: rows dated after it are left out (rows
    without a period date are kept; validation has already reported them)."""
    end = pd.Timestamp(quarter.end)
    cut = {}
    for name, frame in tables.items():
        dates = _period_dates(frame, name)
        cut[name] = frame[~(dates > end).fillna(False).astype(bool)]
    return cut


def quarters_received(tables: Mapping[str, pd.DataFrame], quarters: list[Quarter]) -> dict[str, list[str]]:
    """For each dataset, the labels of the quarters (of those given) it has at least one row in."""
    received: dict[str, list[str]] = {}
    for name, frame in tables.items():
        dates = _period_dates(frame, name).dropna()
        received[name] = [
            q.label for q in quarters if bool(((dates >= pd.Timestamp(q.start)) & (dates <= pd.Timestamp(q.end))).any())
        ]
    return received


def year_quarters(quarter: Quarter) -> list[Quarter]:
    """The quarters of the reporting year up to and including `quarter`."""
    return [quarter.year.quarter(n) for n in range(1, quarter.number + 1)]
