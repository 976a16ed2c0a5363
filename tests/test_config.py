from datetime import date

import pytest

from sscp_lib.config import Paths, ReportingYear, ReportPaths, load_config


def test_reporting_year_bounds():
    year = ReportingYear.parse("2023-24")
    assert (year.start, year.end) == (date(2023, 4, 1), date(2024, 3, 31))
    assert year.previous.label == "2022-23"
    assert ReportingYear.containing(date(2024, 3, 31)) == year
    assert ReportingYear.containing(date(2024, 4, 1)).label == "2024-25"
    assert ReportingYear.parse("1999-00").label == "1999-00"


@pytest.mark.parametrize("bad", ["2023-25", "2023", "23-24", "2023/24", ""])
def test_reporting_year_rejects_bad_labels(bad):
    with pytest.raises(ValueError, match="2023-24"):
        ReportingYear.parse(bad)


def test_paths_are_built_from_one_place(tmp_path):
    paths = Paths(raw=tmp_path / "raw", processed=tmp_path / "p", reports=tmp_path / "r")
    year = ReportingYear.parse("2023-24")
    assert paths.clean_dir(year) == tmp_path / "p" / "2023-24" / "clean"
    assert paths.quarantine_dir(year) == tmp_path / "p" / "2023-24" / "quarantine"
    report = ReportPaths(paths.reports_year(year))
    assert report.statement_pdf == tmp_path / "r" / "2023-24" / "assurance-statement.pdf"


def test_default_config_has_what_the_chain_needs():
    config = load_config()
    assert config.suppression_threshold >= 1
    assert config.child_population > 0
    assert sorted(int(h) for h in config["headings"]) == list(range(1, 11))
    assert sorted(int(h) for h in config["rag"]) == list(range(1, 11))
    for name in ("nfa_changeover_date", "dara_correction_date", "multiple_category_retired_from"):
        assert config.data_rule_date(name).year >= 2020


def test_missing_config_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="partnership configuration not found"):
        load_config(tmp_path / "nope.yaml")
