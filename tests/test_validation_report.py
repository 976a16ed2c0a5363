"""The validation report does not change when the way it is computed does.

tests/fixtures/validation_report_2023-24.json holds the report that validate_year gave on the
1x sample, as the sample is and with bad rows injected into its clean tables, before the
validation engine was reworked for speed (issue 15). Every check of every table must come out
the same: name, family, column, severity, level, description, outcome, failing count,
observed value, error, example keys, unexpected values; and the same rows quarantined for the
same checks, the same tables stopped, the same warnings.

The fixture was written by running this file as a script (`.venv/bin/python
tests/test_validation_report.py`) on main's code; rewrite it only when the sample, the contract
or the clean stage change what the tables hold, never to make a changed engine pass.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sscp_lib.config import Paths, ReportingYear, load_config
from sscp_lib.contract import load_contract
from sscp_lib.ingest.clean import clean_year
from sscp_lib.sample.generate import generate_sample
from sscp_lib.validation import suites as validate

FIXTURE = Path(__file__).parent / "fixtures" / "validation_report_2023-24.json"
YEAR = ReportingYear.parse("2023-24")
KEY = bytes.fromhex("5e" * 32)  # the tests' key: example keys in the fixture are hashed with it
SEED = 20240331
CONTRACT = load_contract()


def _put(frame: pd.DataFrame, rows, column: str, value) -> None:
    """Spoil rows in place (each value fits the column's dtype)."""
    frame.loc[rows, column] = value


def inject_bad_rows(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Faults of every family across the sample's clean tables, some rows failing several checks."""
    t = {name: frame.copy() for name, frame in tables.items()}
    r = t["referrals"]
    _put(r, 3, "child_pid", pd.NA)
    _put(r, [3, 4, 5], "referral_source", "ZZ")
    _put(r, 6, "referral_source_group", "MARTIANS")
    _put(r, 7, "referral_outcome_original", "XX")
    _put(r, 8, "referral_outcome", pd.NA)
    _put(r, 8, "abuse_category", pd.NA)
    _put(r, 10, "referral_pid", r.loc[11, "referral_pid"])
    _put(r, 12, "referral_date", pd.Timestamp("2019-03-31"))
    _put(r, 13, "referral_date", pd.Timestamp("2024-04-01"))
    _put(r, 14, "referral_date", pd.Timestamp("3023-05-01"))
    _put(r, 15, "reporting_year", "1999-00")
    _put(r, 16, "domestic_abuse", pd.NA)
    _put(r, 17, "referral_date", pd.NaT)

    m = t["mash_contacts"]
    _put(m, list(range(100, 121)), "contact_outcome", "BOGUS")
    _put(m, [110, 111], "contact_source", "77")
    _put(m, 200, "contact_date", pd.NaT)
    _put(m, 201, "contact_pid", m.loc[202, "contact_pid"])
    _put(m, 203, "contact_source_group", pd.NA)

    a = t["audits"]
    _put(a, 1, "cases_audited", 501)
    _put(a, 2, "cases_audited", -1)
    _put(a, 3, "cases_audited", pd.NA)

    c = t["communications"]
    _put(c, 0, "opens", -1)

    ma = t["meeting_attendance"]
    for column in ("meeting_series", "meeting_date", "agency"):
        _put(ma, 8, column, ma.loc[9, column])

    _put(t["audit_actions"], [0, 1], "audit_id", "AUDIT-NOT-HELD")
    _put(t["audit_actions"], 2, "audit_id", pd.NA)
    _put(t["review_actions"], 1, "review_id", "NO-SUCH-REVIEW")
    _put(t["audit_cases"], 4, "grade", "EXEMPLARY")
    _put(t["cp_plans"], [5, 6], "latest_category", "XXX")
    _put(t["cp_plans"], 7, "initial_category_retired", pd.NA)
    _put(t["police_referrals"], 9, "risk_level", "EXTREME")
    _put(t["health_referrals"], 10, "concern_category_retired", pd.NA)
    bp = t["business_plan_actions"]
    _put(bp, 11, "status", "FORGOTTEN")
    _put(bp, 12, "due_date", pd.NaT)

    # Table-level faults: a column of the wrong type, a missing column, no rows in the year,
    # and a big fall in the year's rows (a warning).
    budget = t["budget"]
    t["budget"] = budget.assign(budget_amount=budget["budget_amount"].astype("string").where(budget.index != 2, "lots"))
    t["escalations"] = t["escalations"].drop(columns=["topic"])
    reviews = t["case_reviews"]
    t["case_reviews"] = reviews[reviews["reporting_year"] != YEAR.label].reset_index(drop=True)
    training = t["training_attendance"]
    in_year = np.flatnonzero(training["reporting_year"] == YEAR.label)
    t["training_attendance"] = training.drop(index=in_year[: int(len(in_year) * 0.7)]).reset_index(drop=True)
    return t


def clean_sample(root: Path) -> Paths:
    """The 1x sample, cleaned with the tests' key into root/processed."""
    paths = Paths(raw=root / "raw", processed=root / "processed", reports=root / "reports")
    generate_sample(out_dir=paths.raw, seed=SEED, scale=1)
    clean_year(YEAR, paths.raw, paths.clean_dir(YEAR), load_config(), KEY)
    return paths


def report_content(paths: Paths) -> dict:
    """What the validation gives: the report (less the GX version) and each table's quarantined rows."""
    report = validate.validate_year(YEAR, paths, load_config(), stop=False)
    saved = json.loads(paths.processed_year(YEAR).joinpath("validation.json").read_text())
    assert saved["tables"].keys() == report.tables.keys()
    saved.pop("great_expectations")
    quarantine = {}
    for name in CONTRACT.datasets:
        path = paths.quarantine_dir(YEAR) / f"{name}.parquet"
        if path.exists():
            frame = pd.read_parquet(path)
            key = list(CONTRACT.dataset(name).key)
            quarantine[name] = sorted(
                [*map(str, row[:-1]), row[-1]]
                for row in frame[[*key, validate.QUARANTINE_REASON_COLUMN]].itertuples(index=False)
            )
    return {"report": saved, "quarantine": quarantine}


def spoil(paths: Paths, into: Path) -> Paths:
    """A copy of the clean tables with the bad rows injected, under `into`."""
    spoiled = Paths(raw=paths.raw, processed=into / "processed", reports=into / "reports")
    tables = {name: pd.read_parquet(paths.clean_dir(YEAR) / f"{name}.parquet") for name in CONTRACT.datasets}
    spoiled.clean_dir(YEAR).mkdir(parents=True)
    for name, frame in inject_bad_rows(tables).items():
        frame.to_parquet(spoiled.clean_dir(YEAR) / f"{name}.parquet", index=False)
    return spoiled


def both_scenarios(root: Path) -> dict:
    paths = clean_sample(root / "sample")
    return {"sample": report_content(paths), "injected": report_content(spoil(paths, root / "injected"))}


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory) -> dict:
    return both_scenarios(tmp_path_factory.mktemp("validation_report"))


@pytest.fixture(scope="module")
def expected() -> dict:
    return json.loads(FIXTURE.read_text())


@pytest.mark.parametrize("scenario", ["sample", "injected"])
def test_every_check_and_outcome_is_as_before(scenarios, expected, scenario):
    got, want = scenarios[scenario]["report"], expected[scenario]["report"]
    assert list(got["tables"]) == list(want["tables"])
    for name in want["tables"]:
        got_table, want_table = dict(got["tables"][name]), dict(want["tables"][name])
        got_results, want_results = got_table.pop("results"), want_table.pop("results")
        assert [r["check"] for r in got_results] == [r["check"] for r in want_results], name
        for got_result, want_result in zip(got_results, want_results):
            assert got_result == want_result, (name, want_result["check"])
        assert got_table == want_table, name
    assert got == want


@pytest.mark.parametrize("scenario", ["sample", "injected"])
def test_the_same_rows_are_quarantined_for_the_same_checks(scenarios, expected, scenario):
    assert scenarios[scenario]["quarantine"] == expected[scenario]["quarantine"]


def test_the_injected_faults_reach_every_family_and_outcome(expected):
    """The fixture itself covers what it should: else the comparison proves little."""
    report = expected["injected"]["report"]
    failed = [r for t in report["tables"].values() for r in t["results"] if not r["success"]]
    assert {r["family"] for r in failed} == set(validate.FAMILIES)
    assert {r["level"] for r in failed} == {"row", "table"}
    assert any(r["severity"] == validate.WARNING for r in failed)
    assert any(len(r["examples"]) == validate.EXAMPLES_KEPT for r in failed)
    assert report["stopped"] and len(report["stops"]) >= 3
    assert sum(len(rows) for rows in expected["injected"]["quarantine"].values()) > 30
    assert all(r["success"] for t in expected["sample"]["report"]["tables"].values() for r in t["results"])


if __name__ == "__main__":  # write the fixture (see the module docstring)
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        content = both_scenarios(Path(folder))
    FIXTURE.parent.mkdir(exist_ok=True)
    FIXTURE.write_text(json.dumps(content, indent=1, sort_keys=False) + "\n")
    sys.stdout.write(f"wrote {FIXTURE}\n")
