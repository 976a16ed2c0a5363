import json

import numpy as np
import pandas as pd
import pytest

from sscp_lib.config import Paths, ReportingYear
from sscp_lib.metrics import (
    MetricStore,
    catalogue_for_stage,
    merge_fragments,
    run_is_synthetic,
    table_value,
    to_jsonable,
)


def test_child_level_counts_are_suppressed_on_the_way_in():
    store = MetricStore("analyse_referrals", suppress_up_to=5)
    store.add("data.contacts", np.int64(4), previous=120)
    store.add("data.referrals", 0)
    assert store.metrics["data.contacts"]["value"] == "c"
    assert store.metrics["data.contacts"]["previous"] == 120
    assert store.metrics["data.referrals"]["value"] == 0  # zero discloses nothing


def test_unknown_metric_and_wrong_stage_are_refused():
    store = MetricStore("clean", suppress_up_to=5)
    with pytest.raises(KeyError, match="not in sscp_lib/metrics_catalogue.yaml"):
        store.add("run.rows_readd", 1)
    with pytest.raises(ValueError, match="belongs to stage"):
        store.add("data.contacts", 100)


def test_write_refuses_an_incomplete_stage(tmp_path):
    store = MetricStore("clean", suppress_up_to=5)
    store.add("run.rows_read", 10)
    with pytest.raises(ValueError, match="did not compute"):
        store.write(tmp_path)
    for name in catalogue_for_stage("clean"):
        store.add(name, 1 if name != "run.synthetic" else "yes")
    path = store.write(tmp_path)
    assert json.loads(path.read_text())["run.rows_read"]["value"] == 1


def test_fragments_merge(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps({"x": {"value": 1}}))
    (tmp_path / "b.json").write_text(json.dumps({"y": {"value": 2}}))
    assert merge_fragments(tmp_path) == {"x": {"value": 1}, "y": {"value": 2}}


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
    assert not run_is_synthetic(paths, year)
    paths.metrics_dir(year).mkdir(parents=True)
    (paths.metrics_dir(year) / "clean.json").write_text(json.dumps({"run.synthetic": {"value": "no"}}))
    assert not run_is_synthetic(paths, year)
    paths.raw_year(year).mkdir(parents=True)
    (paths.raw_year(year) / "_sample.json").write_text("{}")
    assert run_is_synthetic(paths, year)  # the marker alone is enough
    (paths.raw_year(year) / "_sample.json").unlink()
    (paths.metrics_dir(year) / "clean.json").write_text(json.dumps({"run.synthetic": {"value": "yes"}}))
    assert run_is_synthetic(paths, year)
