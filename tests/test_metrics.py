import json

import numpy as np
import pandas as pd
import pytest

from sscp_lib.catalogue import load_catalogue, merge_fragments
from sscp_lib.config import Paths, ReportingYear
from sscp_lib.errors import UserError
from sscp_lib.metrics import MetricStore, table_value, to_jsonable
from sscp_lib.synthetic import SAMPLE_MARKER, is_synthetic


def test_child_level_counts_are_suppressed_on_the_way_in():
    store = MetricStore(suppress_up_to=5)
    store.add("data.contacts", np.int64(4), previous=120)
    store.add("data.referrals", 0)
    assert store.metrics["data.contacts"]["value"] == "c"
    assert store.metrics["data.contacts"]["previous"] == 120
    assert store.metrics["data.referrals"]["value"] == 0  # zero discloses nothing


def test_unknown_metric_is_refused():
    store = MetricStore(suppress_up_to=5)
    with pytest.raises(KeyError, match="not in sscp_lib/metrics_catalogue.yaml"):
        store.add("run.rows_readd", 1)


def _fragment(names):
    return {name: {"value": 1} for name in names}


def test_fragments_merge_into_every_catalogue_metric_once(tmp_path):
    names = list(load_catalogue()["metrics"])
    (tmp_path / "a.json").write_text(json.dumps(_fragment(names[:10])))
    (tmp_path / "b.json").write_text(json.dumps(_fragment(names[10:])))
    merged = merge_fragments(tmp_path)
    assert list(merged) == sorted(names)


def test_merge_refuses_a_missing_metric_or_one_written_twice(tmp_path):
    names = list(load_catalogue()["metrics"])
    (tmp_path / "a.json").write_text(json.dumps(_fragment(names[:10])))
    (tmp_path / "b.json").write_text(json.dumps(_fragment(names[10:-1])))
    with pytest.raises(UserError, match=f"no stage computed {names[-1]}"):
        merge_fragments(tmp_path)
    (tmp_path / "b.json").write_text(json.dumps(_fragment(names[9:])))
    with pytest.raises(UserError, match=f"{names[9]} also written by another stage"):
        merge_fragments(tmp_path)


def test_json_conversion_of_pandas_values():
    assert to_jsonable(pd.Timestamp("2023-12-18")) == "2023-12-18"
    assert to_jsonable(float("nan")) is None
    assert to_jsonable(pd.NA) is None
    assert to_jsonable(np.float64(1 / 3)) == 0.333333
    frame = pd.DataFrame({"n": [1, 2]}, index=pd.Index(["a", "b"], name="k"))
    assert table_value(frame) == {"columns": ["k", "n"], "rows": [["a", 1], ["b", 2]]}


def test_synthetic_run_is_recognised_from_either_marker(tmp_path):
    year = ReportingYear.parse("2023-24")
    paths = Paths(raw=tmp_path / "raw", processed=tmp_path / "processed", reports=tmp_path / "reports")
    assert not is_synthetic(paths, year)
    paths.metrics_dir(year).mkdir(parents=True)
    (paths.metrics_dir(year) / "clean.json").write_text(json.dumps({"run.synthetic": {"value": False}}))
    assert not is_synthetic(paths, year)
    paths.raw_year(year).mkdir(parents=True)
    (paths.raw_year(year) / SAMPLE_MARKER).write_text("{}")
    assert is_synthetic(paths, year)  # the marker alone is enough
    (paths.raw_year(year) / SAMPLE_MARKER).unlink()
    (paths.metrics_dir(year) / "clean.json").write_text(json.dumps({"run.synthetic": {"value": True}}))
    assert is_synthetic(paths, year)
