"""Metrics: the figures a stage computes, checked against the catalogue and written as JSON.

Each stage writes a fragment (data/processed/<year>/metrics/<stage>.json); the statement stage
merges them into the report's metrics.json (`catalogue.merge_fragments`) and builds the statement
from that file. The catalogue itself is read by `sscp_lib.catalogue`.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from sscp_lib.catalogue import metric_spec
from sscp_lib.disclosure import suppress_count
from sscp_lib.files import write_json_atomic


def to_jsonable(value):
    """Plain JSON types from numpy/pandas values; NaN and NaT become None."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if math.isnan(value) else round(float(value), 6)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, (pd.Timestamp, datetime)):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, pd.Period):
        return str(value)
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray, pd.Index, pd.Series)):
        return [to_jsonable(v) for v in list(value)]
    return value


def table_value(frame: pd.DataFrame, index_name: str | None = None) -> dict:
    """A DataFrame as the catalogue's table unit: {columns, rows}; the index becomes column one."""
    frame = frame.reset_index() if index_name is not None or frame.index.name else frame
    if index_name is not None:
        frame = frame.rename(columns={frame.columns[0]: index_name})
    return {
        "columns": [str(c) for c in frame.columns],
        "rows": [[to_jsonable(v) for v in row] for row in frame.itertuples(index=False, name=None)],
    }


class MetricStore:
    """Collects one stage's metrics; small child-level counts are suppressed on the way in."""

    def __init__(self, suppress_up_to: int):
        self.suppress_up_to = suppress_up_to
        self.metrics: dict[str, dict] = {}

    def add(self, name: str, value, previous=None) -> None:
        spec = metric_spec(name)
        if isinstance(value, pd.DataFrame):
            value = table_value(value)
        entry = {
            "value": self._publishable(spec, value),
            "unit": spec["unit"],
            "label": spec["label"],
            "heading": spec.get("heading"),
        }
        if previous is not None:
            entry["previous"] = self._publishable(spec, previous)
        self.metrics[name] = entry

    def add_all(self, values: dict, previous: dict | None = None) -> MetricStore:
        """Add each metric name -> value, with the previous year's value where `previous` has one."""
        previous = previous or {}
        for name, value in values.items():
            self.add(name, value, previous=previous.get(name))
        return self

    def _publishable(self, spec: dict, value):
        value = to_jsonable(value)
        if spec.get("child_level") and spec["unit"] == "count":
            return suppress_count(value, self.suppress_up_to)
        return value

    def write(self, path: Path) -> Path:
        return write_json_atomic(path, self.metrics)
