"""Shared fixtures: a test pseudonymisation key, and one full run of the chain on the sample.

The chain run (scale 1, like `make report`) is made once per session into a temporary folder;
the integration, facts, canary and determinism tests all read it.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

# Tests never touch the user's real key.
os.environ.setdefault("SSCP_PSEUDONYMISATION_KEY", "5e" * 32)

YEAR = "2023-24"
# Distinctive identifiers planted in the raw data: none may reach any output.
CANARY_CHILD_ID = "SMBC-CANARY-918273"
CANARY_NAME = "Quillon Canarywood"
CANARY_DOB = "14/02/2013"
# The same child's other identifiers, planted in the school and mental health records.
CANARY_UPN = "Z334918273645"
CANARY_NHS_NUMBER = "9994445552"
CANARY_RECORD_IDS = {
    "referrals": "REF-CANARY-55501",
    "early_help": "EHA-CANARY-55502",
    "suspensions_exclusions": "EIS-CANARY-55503",
    "mental_health_referrals": "SOLAR-CANARY-55504",
}


@dataclass
class ChainRun:
    root: Path
    raw: Path
    processed: Path
    reports: Path
    exit_code: int

    @property
    def report(self) -> Path:
        return self.reports / YEAR


def _canary_value(column: str, dataset: str, iso_dates: bool):
    """The canary's value for an identifier column, None for a column to copy from a real row."""
    day, month, year = CANARY_DOB.split("/")
    values = {
        "child_id": CANARY_CHILD_ID,
        "child_name": CANARY_NAME,
        "date_of_birth": f"{year}-{month}-{day}" if iso_dates else CANARY_DOB,
        "upn": CANARY_UPN,
        "nhs_number": CANARY_NHS_NUMBER,
    }
    if column in values:
        return values[column]
    from sscp_lib.contract import load_contract

    record_id = load_contract().dataset(dataset).key[0].replace("_pid", "_id")
    return CANARY_RECORD_IDS[dataset] if column == record_id else None


def plant_canary(raw_year: Path) -> None:
    """Append a valid record for a made-up child whose identifiers we then hunt for: a referral,
    an early help assessment, a school suspension and a mental health referral (each a copy of the
    file's first row with the child's identifiers, name and date of birth put in)."""
    import csv
    from datetime import date

    from sscp_lib.contract import load_contract, normalise_header

    for dataset in ("referrals", "early_help", "mental_health_referrals"):
        path = raw_year / f"{dataset}.csv"
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            row = list(next(reader))
        lookup = load_contract().dataset(dataset).header_lookup()
        iso = "-" in row[[lookup.get(normalise_header(h)) for h in header].index("date_of_birth")]
        for i, heading in enumerate(header):
            value = _canary_value(lookup.get(normalise_header(heading)) or "", dataset, iso)
            row[i] = row[i] if value is None else value
        with open(path, "a", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerow(row)
    import openpyxl

    path = raw_year / "suspensions_exclusions.xlsx"
    book = openpyxl.load_workbook(path)
    sheet = book.worksheets[0]
    lookup = load_contract().dataset("suspensions_exclusions").header_lookup()
    header = [lookup.get(normalise_header(c.value or "")) for c in sheet[1]]
    row = [c.value for c in sheet[2]]
    for i, column in enumerate(header):
        value = _canary_value(column or "", "suspensions_exclusions", iso_dates=True)
        if column == "date_of_birth":
            value = date(*map(int, reversed(CANARY_DOB.split("/"))))
        row[i] = row[i] if value is None else value
    sheet.append(row)
    book.save(path)


def run_chain_into(root: Path, *, scale: float = 1.0, seed: int = 20240331, pdf: bool = True) -> ChainRun:
    from sscp_lib.chain.pipeline import run_chain
    from sscp_lib.sample.generate import generate_sample

    raw, processed, reports = root / "raw", root / "processed", root / "reports"
    generate_sample(out_dir=raw, seed=seed, scale=scale)
    plant_canary(raw / YEAR)
    code = run_chain(year=YEAR, raw=raw, processed=processed, reports=reports, pdf=pdf)
    return ChainRun(root=root, raw=raw, processed=processed, reports=reports, exit_code=code)


@pytest.fixture(scope="session")
def chain_run(tmp_path_factory) -> ChainRun:
    run = run_chain_into(tmp_path_factory.mktemp("chain"))
    assert run.exit_code == 0, "the chain failed on the sample"
    return run


@pytest.fixture()
def chain_copy(chain_run, tmp_path) -> ChainRun:
    """A private copy of the session run, for tests that break or rerun things."""
    root = tmp_path / "copy"
    shutil.copytree(chain_run.root, root, symlinks=True)
    return ChainRun(
        root=root,
        raw=root / "raw",
        processed=root / "processed",
        reports=root / "reports",
        exit_code=chain_run.exit_code,
    )
