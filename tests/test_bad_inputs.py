"""The bad-input corpus (tests/bad_inputs/corpus.py) through the clean stage.

Each case breaks one file of a valid year folder; the stage must either raise one clear
InputFileError/UserError naming the file (and row/column where relevant) or reject rows with a
reason, and every file must reconcile: rows read = kept + duplicates removed + rejected.
"""

from __future__ import annotations

import pandas as pd
import pytest
from bad_inputs.builders import YEAR, write_year
from bad_inputs.corpus import CASES, Case

from sscp_lib.config import ReportingYear, load_config
from sscp_lib.contract import load_contract
from sscp_lib.errors import InputFileError, UserError
from sscp_lib.ingest.clean import clean_dataset, clean_year, discover_files

KEY = bytes.fromhex("5e" * 32)
CONFIG = load_config()


def clean_one(raw, dataset):
    """Clean one dataset of the folder (all its files), as clean_year would."""
    contract, year = load_contract(), ReportingYear.parse(YEAR)
    by_dataset, _, _ = discover_files(raw, year, contract)
    table, log_rows, rejected, _ = clean_dataset(dataset, by_dataset[dataset], contract, year, raw, CONFIG, KEY, {})
    return table, pd.DataFrame(log_rows), rejected


def test_corpus_is_big_enough():
    assert len(CASES) >= 25
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input(case: Case, tmp_path):
    raw = tmp_path / "raw"
    folder = write_year(raw, n=3)
    bad_file = case.build(folder)
    relative = bad_file.relative_to(raw).as_posix()
    if case.error:
        with pytest.raises(UserError, match=case.error) as caught:
            clean_one(raw, case.dataset)
        message = str(caught.value)
        assert bad_file.name in message and "\n" not in message and "Traceback" not in message
        if isinstance(caught.value, InputFileError):
            assert caught.value.path == bad_file
        return
    table, log, rejected = clean_one(raw, case.dataset)
    assert (log["rows_read"] == log["rows_kept"] + log["duplicates_removed"] + log["rows_rejected"]).all()
    row = log.set_index("file").loc[relative]
    if isinstance(row, pd.DataFrame):  # an Annex A workbook feeds several datasets; one row each
        row = row[row["dataset"] == case.dataset].iloc[0]
    if case.kept is not None:
        assert row["rows_kept"] == case.kept
        assert row["rows_read"] == case.kept + len(case.rejected) + case.duplicates
    assert row["duplicates_removed"] == case.duplicates
    assert row["rows_skipped"] == case.skipped
    mine = rejected[rejected["file"] == relative]
    assert dict(zip(mine["row"], mine["reason"])) == case.rejected
    if case.rejected_column:
        assert set(mine["column"]) == {case.rejected_column}
    assert mine["value"].dropna().str.len().le(100).all()
    if case.check:
        assert case.check(table, row)


def test_missing_dataset_file_is_one_user_error(tmp_path):
    raw = tmp_path / "raw"
    folder = write_year(raw)
    (folder / "cp_plans.csv").unlink()
    with pytest.raises(
        UserError, match=r"missing required dataset file\(s\) for 2023-24: cp_plans \(a file named cp_plans\*"
    ):
        clean_year(ReportingYear.parse(YEAR), raw, tmp_path / "out", CONFIG, KEY)


def test_a_bad_earlier_year_file_still_stops_the_run_naming_it(tmp_path):
    raw = tmp_path / "raw"
    write_year(raw)
    (raw / "2022-23").mkdir()
    (raw / "2022-23" / "audits.csv").write_bytes(b"")
    with pytest.raises(InputFileError, match=r"2022-23/audits\.csv: the file is empty"):
        clean_year(ReportingYear.parse(YEAR), raw, tmp_path / "out", CONFIG, KEY)
