"""A stage's single-value figures as the statement will read them, for the stage's report."""

from __future__ import annotations

import pandas as pd

from sscp_lib.metrics import MetricStore


def _shown(value):
    """A figure for reading: lists joined, fractions to one decimal place, nothing as blank."""
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(map(str, value))
    if isinstance(value, float):
        return round(value, 1)
    return value


def figures_frame(store: MetricStore, heading: int | None = None) -> pd.DataFrame:
    """The store's single-value figures (suppressed, as published) with labels and the previous
    year where held; only those of one statement heading when `heading` is given."""
    rows = [
        {
            "figure": entry["label"],
            "value": _shown(entry["value"]),
            "previous year": _shown(entry.get("previous")),
            "metric": name,
        }
        for name, entry in store.metrics.items()
        if entry["unit"] != "table" and (heading is None or entry.get("heading") == heading)
    ]
    return pd.DataFrame(rows, columns=["figure", "value", "previous year", "metric"], dtype=object)
