"""DfE comparators read from Explore Education Statistics CSVs (sscp_lib/ingest/comparators.py),
on the made-up fixture in tests/fixtures/comparators: present, absent, and bad files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from sscp_lib.config import DEFAULT_CONFIG, load_config
from sscp_lib.ingest.comparators import ComparatorFileError, read_comparators, sexual_abuse_comparator_share

FIXTURE = Path(__file__).parent / "fixtures" / "comparators"
FILE = "made_up_cin_cpp_comparators.csv"


def config_with(tmp_path: Path, comparators: dict | None, folder: Path = FIXTURE):
    data = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    data["narrative"] = str(DEFAULT_CONFIG.parent.parent / "narrative" / "{year}.md")
    if comparators is not None:
        data["dashboard"]["comparators"] = {"folder": str(folder), **comparators}
    path = tmp_path / "partnership.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return load_config(path)


SOLIHULL = {
    "local_authority": "E08000029",
    # one neighbour by its old code, one whose value is suppressed ("c") in the file
    "statistical_neighbours": ["E08000025", "359", "E06000051"],
    "measures": {
        "referral_rate": {"file": FILE, "column": "referral_rate_per_10000"},
        "re_referral_pct": {"file": FILE, "column": "re_referrals_within_12_months_percent"},
        "sexual_abuse_share": {"file": FILE, "column": "sexual_abuse_factor_percent"},
    },
}


def test_the_fixture_says_it_is_made_up():
    assert "made_up" in FILE
    assert "made up" in (FIXTURE / "README.md").read_text(encoding="utf-8").lower()


def test_england_region_and_neighbours_of_the_latest_period(tmp_path):
    comparators = read_comparators(config_with(tmp_path, SOLIHULL))
    rate = comparators["referral_rate"]
    assert rate["time_period"] == "2022-23"
    assert rate["england"] == 544.5
    assert rate["region"] == 610.0 and rate["region_name"] == "West Midlands"
    assert rate["local_authority"] == 500.0
    assert rate["statistical_neighbours"] == round((710 + 630 + 570) / 3, 1)
    assert rate["statistical_neighbours_count"] == 3
    assert "England 544.5" in rate["text"] and "2022-23" in rate["text"]
    # "x" (not available) and "c" (suppressed) leave a neighbour out rather than count as 0
    assert comparators["re_referral_pct"]["statistical_neighbours"] == round((26.0 + 20.0) / 2, 1)
    assert comparators["sexual_abuse_share"]["statistical_neighbours_count"] == 2


def test_a_chosen_time_period(tmp_path):
    comparators = read_comparators(config_with(tmp_path, {**SOLIHULL, "time_period": 202122}))
    assert comparators["referral_rate"]["england"] == 540.1
    assert comparators["referral_rate"]["time_period"] == "2021-22"


def test_no_comparator_section_means_not_supplied(tmp_path):
    config = config_with(tmp_path, None)
    assert read_comparators(config) is None
    assert sexual_abuse_comparator_share(config, None) == config["analysis"]["sexual_abuse_comparator_share"]


def test_the_sexual_abuse_comparator_comes_from_the_file_when_supplied(tmp_path):
    config = config_with(tmp_path, SOLIHULL)
    assert sexual_abuse_comparator_share(config, read_comparators(config)) == pytest.approx(0.048)


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    folder = tmp_path / "files"
    folder.mkdir()
    text = (FIXTURE / FILE).read_text(encoding="utf-8")
    assert old in text
    (folder / FILE).write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder


def test_a_bad_value_names_file_row_and_column(tmp_path):
    folder = _broken(tmp_path, "544.5", "five hundred")
    with pytest.raises(ComparatorFileError) as caught:
        read_comparators(config_with(tmp_path, SOLIHULL, folder))
    message = str(caught.value)
    assert FILE in message and "row 9" in message and "referral_rate_per_10000" in message


def test_a_missing_column_or_file_is_named(tmp_path):
    folder = _broken(tmp_path, "new_la_code", "la_code_new")
    with pytest.raises(ComparatorFileError, match="new_la_code"):
        read_comparators(config_with(tmp_path, SOLIHULL, folder))
    wrong_column = {**SOLIHULL, "measures": {"referral_rate": {"file": FILE, "column": "no_such_measure"}}}
    with pytest.raises(ComparatorFileError, match="no_such_measure"):
        read_comparators(config_with(tmp_path, wrong_column))
    shutil.rmtree(folder)
    with pytest.raises(ComparatorFileError, match="not found"):
        read_comparators(config_with(tmp_path, SOLIHULL, folder))
