"""Two runs on the same inputs and key give identical metrics and processed tables."""

import json

import pandas as pd
import pytest
from conftest import YEAR, run_chain_into

pytestmark = pytest.mark.slow


def test_same_inputs_same_outputs(chain_run, tmp_path):
    second = run_chain_into(tmp_path / "second", pdf=False)
    assert second.exit_code == 0
    first_metrics = json.loads((chain_run.report / "metrics.json").read_text())
    second_metrics = json.loads((second.report / "metrics.json").read_text())
    assert first_metrics == second_metrics
    for layer in ("clean", "validated"):
        first_tables = sorted((chain_run.processed / YEAR / layer).glob("*.parquet"))
        assert first_tables
        for path in first_tables:
            other = second.processed / YEAR / layer / path.name
            pd.testing.assert_frame_equal(pd.read_parquet(path), pd.read_parquet(other), obj=path.name)
