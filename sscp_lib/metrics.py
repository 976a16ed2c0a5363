"""Metrics: the figures a stage computes, checked against the catalogue and written as JSON.

Each stage writes a fragment (data/processed/<year>/metrics/<stage>.json); the chain merges
them into reports/<year>/metrics.json, which is what the statement reads.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from .disclosure import suppress_count

CATALOGUE_FILE = Path(__file__).with_name("metrics_catalogue.yaml")


@lru_cache(maxsize=1)
def load_catalogue() -> dict:
    return yaml.safe_load(CATALOGUE_FILE.read_text(encoding="utf-8"))


def metric_spec(name: str) -> dict:
    try:
        return load_catalogue()["metrics"][name]
    except KeyError:
        raise KeyError(f"metric {name!r} is not in sscp_lib/metrics_catalogue.yaml") from None


def catalogue_for_stage(stage: str) -> list[str]:
    return [n for n, s in load_catalogue()["metrics"].items() if s["stage"] == stage]


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

    def __init__(self, stage: str, suppress_up_to: int):
        self.stage = stage
        self.suppress_up_to = suppress_up_to
        self.metrics: dict[str, dict] = {}

    def add(self, name: str, value, previous=None) -> None:
        spec = metric_spec(name)
        if spec["stage"] != self.stage:
            raise ValueError(f"metric {name} belongs to stage {spec['stage']}, not {self.stage}")
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

    def _publishable(self, spec: dict, value):
        value = to_jsonable(value)
        if spec.get("child_level") and spec["unit"] == "count":
            return suppress_count(value, self.suppress_up_to)
        return value

    def missing(self) -> list[str]:
        """Catalogue metrics of this stage not yet added."""
        return [n for n in catalogue_for_stage(self.stage) if n not in self.metrics]

    def write(self, directory: Path) -> Path:
        missing = self.missing()
        if missing:
            raise ValueError(f"stage {self.stage} did not compute: {', '.join(missing)}")
        path = Path(directory) / f"{self.stage}.json"
        write_json_atomic(path, self.metrics)
        return path


def _write_atomically(path: Path, write) -> Path:
    """Call write(temporary path) in the target folder, then rename: never half a file under its name."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; these are outputs like any other
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json_atomic(path: Path, data) -> Path:
    def write(tmp):
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, sort_keys=True, ensure_ascii=False)
            fh.write("\n")

    return _write_atomically(path, write)


def write_parquet_atomic(frame: pd.DataFrame, path: Path) -> Path:
    """A table written to a temporary file, then renamed."""
    return _write_atomically(path, lambda tmp: frame.to_parquet(tmp, index=False))


def run_is_synthetic(paths, year) -> bool:
    """True when either the clean stage recorded run.synthetic = yes or the raw year carries the
    sample marker: labelling real data synthetic is harmless, the reverse is not."""
    clean_metrics = paths.metrics_dir(year) / "clean.json"
    if clean_metrics.exists():
        entry = json.loads(clean_metrics.read_text(encoding="utf-8")).get("run.synthetic", {})
        if str(entry.get("value")).lower() == "yes":
            return True
    return (paths.raw_year(year) / "_sample.json").exists()


def merge_fragments(directory: Path) -> dict:
    """All stage fragments in a folder, merged into one mapping of metric name -> entry."""
    merged: dict[str, dict] = {}
    for path in sorted(Path(directory).glob("*.json")):
        merged.update(json.loads(path.read_text(encoding="utf-8")))
    return dict(sorted(merged.items()))
