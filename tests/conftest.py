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


def plant_canary(raw_year: Path) -> None:
    """Append a valid referral for a made-up child whose identifiers we then hunt for."""
    import csv

    path = raw_year / "referrals.csv"
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        sample_row = next(reader)
    from sscp_lib.contract import load_contract, normalise_header

    lookup = load_contract().dataset("referrals").header_lookup()
    row = list(sample_row)
    for i, heading in enumerate(header):
        column = lookup.get(normalise_header(heading))
        if column == "child_id":
            row[i] = CANARY_CHILD_ID
        elif column == "child_name":
            row[i] = CANARY_NAME
        elif column == "date_of_birth":
            row[i] = CANARY_DOB
        elif column == "referral_id":
            row[i] = "REF-CANARY-55501"
    with open(path, "a", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerow(row)


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
