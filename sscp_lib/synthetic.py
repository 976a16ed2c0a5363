"""The synthetic-sample marker: written by `sscp sample`, read by every stage that labels outputs.

A raw year folder holding `_sample.json` is the bundled synthetic sample. The clean stage
records the fact as the metric `run.synthetic` (a boolean); later stages ask `is_synthetic`.
Labelling real data synthetic is harmless; the reverse is not, so either sign is enough.
"""

from __future__ import annotations

import json
from pathlib import Path

SAMPLE_MARKER = "_sample.json"
SYNTHETIC_METRIC = "run.synthetic"


def has_sample_marker(folder: Path) -> bool:
    return (Path(folder) / SAMPLE_MARKER).exists()


def metrics_say_synthetic(metrics: dict) -> bool:
    """True when a metrics mapping (metrics.json or a fragment) records run.synthetic."""
    return (metrics.get(SYNTHETIC_METRIC) or {}).get("value") is True


def is_synthetic(paths, year) -> bool:
    """True when a stage's metrics record run.synthetic or the raw year folder carries the marker."""
    fragments = sorted(paths.metrics_dir(year).glob("*.json")) if paths.metrics_dir(year).is_dir() else []
    if any(metrics_say_synthetic(json.loads(f.read_text(encoding="utf-8"))) for f in fragments):
        return True
    return has_sample_marker(paths.raw_year(year))
