"""Canary test: identifiers in the raw data appear in no output (issue: hardening)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from conftest import (
    CANARY_CHILD_ID,
    CANARY_DOB,
    CANARY_NAME,
    CANARY_NHS_NUMBER,
    CANARY_RECORD_IDS,
    CANARY_UPN,
    YEAR,
)
from pypdf import PdfReader

from sscp_lib.contract import load_contract, normalise_header

pytestmark = pytest.mark.slow


def _raw_identifiers(raw_year: Path, limit: int = 200) -> set[str]:
    """Child ids, UPNs, NHS numbers, record ids and names from the raw referrals, early help,
    suspensions and mental health files (a sample of each) plus the canary's."""
    found = {CANARY_CHILD_ID, CANARY_NAME, CANARY_UPN, CANARY_NHS_NUMBER, *CANARY_RECORD_IDS.values()}
    identifiers = {"child_id", "child_name", "upn", "nhs_number", "referral_id", "mh_referral_id", "early_help_id"}
    for name in ("referrals", "early_help", "mental_health_referrals", "suspensions_exclusions"):
        lookup = load_contract().dataset(name).header_lookup()
        path = next(raw_year.glob(f"{name}.*"))
        if path.suffix == ".xlsx":
            frame = pd.read_excel(path, dtype=str, nrows=limit).fillna("")
        else:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", nrows=limit)
        for heading in frame.columns:
            if lookup.get(normalise_header(heading)) in identifiers:
                found.update(v.strip() for v in frame[heading] if v.strip())
    return found


def _texts(run) -> dict[str, str]:
    texts = {}
    for root in (run.processed, run.reports):
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            if path.suffix == ".parquet":
                frame = pd.read_parquet(path)
                texts[str(path)] = "\n".join(frame.astype(str).to_csv(index=False).splitlines())
            elif path.suffix == ".pdf":
                texts[str(path)] = "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)
            elif path.suffix in {".json", ".html", ".ipynb", ".md", ".txt", ".log", ".csv"}:
                texts[str(path)] = path.read_text(encoding="utf-8", errors="replace")
    return texts


def test_no_raw_identifier_reaches_any_output(chain_run):
    identifiers = _raw_identifiers(chain_run.raw / YEAR)
    assert len(identifiers) > 50
    texts = _texts(chain_run)
    assert any(p.endswith(".pdf") for p in texts) and any(p.endswith(".parquet") for p in texts)
    leaks = [(ident, path) for path, text in texts.items() for ident in identifiers if ident in text]
    assert leaks == []


def test_no_date_of_birth_reaches_any_output(chain_run):
    day, month, year = CANARY_DOB.split("/")
    patterns = [CANARY_DOB, f"{year}-{month}-{day}"]
    for path, text in _texts(chain_run).items():
        for pattern in patterns:
            assert pattern not in text, f"{pattern} in {path}"


def test_processed_tables_hold_no_identifier_columns(chain_run):
    contract = load_contract()
    for dataset in contract.datasets.values():
        frame = pd.read_parquet(chain_run.processed / YEAR / "clean" / f"{dataset.name}.parquet")
        banned = {c.name for c in dataset.columns if c.is_identifier}
        assert not banned & set(frame.columns), dataset.name
        for column in frame.columns:
            if column.endswith("_pid"):
                assert frame[column].dropna().map(lambda v: bool(re.fullmatch(r"[0-9a-f]{16}", v))).all()


def test_the_canary_child_is_linked_not_named(chain_run):
    """The planted referral is kept (pseudonymised), so the test above would have caught a leak."""
    clean = pd.read_parquet(chain_run.processed / YEAR / "clean" / "referrals.parquet")
    from sscp_lib.ingest.pseudonymise import load_key, pseudonymise

    pid = pseudonymise(pd.Series([CANARY_CHILD_ID]), load_key(), "child_pid").iloc[0]
    assert (clean["child_pid"] == pid).sum() == 1

    # The same child in the early help, school and mental health records, under the same pseudonym:
    # each planted record kept, its UPN and NHS number pseudonymised too.
    key = load_key()
    for dataset in ("early_help", "suspensions_exclusions", "mental_health_referrals"):
        table = pd.read_parquet(chain_run.processed / YEAR / "clean" / f"{dataset}.parquet")
        mine = table[table["child_pid"] == pid]
        assert len(mine) == 1, dataset
    exclusions = pd.read_parquet(chain_run.processed / YEAR / "clean" / "suspensions_exclusions.parquet")
    upn_pid = pseudonymise(pd.Series([CANARY_UPN]), key, "upn_pid").iloc[0]
    assert exclusions.loc[exclusions["child_pid"] == pid, "upn_pid"].tolist() == [upn_pid]
    referrals = pd.read_parquet(chain_run.processed / YEAR / "clean" / "mental_health_referrals.parquet")
    nhs_pid = pseudonymise(pd.Series([CANARY_NHS_NUMBER]), key, "nhs_number_pid").iloc[0]
    assert referrals.loc[referrals["child_pid"] == pid, "nhs_number_pid"].tolist() == [nhs_pid]
