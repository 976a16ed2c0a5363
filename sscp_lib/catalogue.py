"""The metrics catalogue (`metrics_catalogue.yaml`: every metric's and chart's name, label, unit
and heading, read once per process and checked against its schema), the stages' metric
fragments merged and checked against it, and the indicator catalogue (`indicators.yaml`: the
partnership dataset of the quarterly dashboard, read and checked the same way).

Apart from `metrics`, which computes figures with pandas, so that the chain's own process reads
the catalogue and the fragments without importing pandas.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from sscp_lib.errors import UserError
from sscp_lib.schema import check_catalogue, check_indicators, read_yaml

CATALOGUE_FILE = Path(__file__).with_name("metrics_catalogue.yaml")
INDICATORS_FILE = Path(__file__).with_name("indicators.yaml")


@lru_cache(maxsize=1)
def load_catalogue() -> dict:
    catalogue = read_yaml(CATALOGUE_FILE.read_text(encoding="utf-8"))
    check_catalogue(catalogue, CATALOGUE_FILE)
    return catalogue


@lru_cache(maxsize=1)
def load_indicators() -> dict:
    """indicators.yaml, checked against its schema, the metrics catalogue and the contract."""
    from sscp_lib.contract import load_contract

    catalogue = read_yaml(INDICATORS_FILE.read_text(encoding="utf-8"))
    contract = load_contract()
    check_indicators(
        catalogue,
        INDICATORS_FILE,
        load_catalogue()["metrics"],
        contract.datasets,
        contract.code_lists["agency"].codes,
        contract.code_lists,
    )
    return catalogue


def metric_spec(name: str) -> dict:
    try:
        return load_catalogue()["metrics"][name]
    except KeyError:
        raise KeyError(f"metric {name!r} is not in sscp_lib/metrics_catalogue.yaml") from None


def merge_fragments(directory: Path) -> dict:
    """All stage fragments in a folder, merged into one mapping of metric name -> entry.

    Every catalogue metric must be there, each from one stage only.
    """
    merged: dict[str, dict] = {}
    for path in sorted(Path(directory).glob("*.json")):
        fragment = json.loads(path.read_text(encoding="utf-8"))
        twice = sorted(set(fragment) & set(merged))
        if twice:
            raise UserError(f"{path}: metric(s) {', '.join(twice)} also written by another stage")
        merged.update(fragment)
    missing = [name for name in load_catalogue()["metrics"] if name not in merged]
    if missing:
        raise UserError(f"{directory}: no stage computed {', '.join(missing)} (run every stage of the chain)")
    return dict(sorted(merged.items()))
