"""Reuse by content (issue 28): a dataset's clean and validated tables are reused when nothing
that makes them changed, rebuilt when any part of their key did, and the same either way."""

from __future__ import annotations

import copy
import json
import os
import re
import time

import pandas as pd
import pytest
from conftest import YEAR

import sscp_lib
from sscp_lib.config import PartnershipConfig, Paths, ReportingYear, load_config
from sscp_lib.contract import load_contract
from sscp_lib.ingest.clean import clean_year
from sscp_lib.ingest.pseudonymise import load_key
from sscp_lib.reuse import ReuseStore, read_run_inputs, write_run_inputs
from sscp_lib.sample.generate import generate_sample
from sscp_lib.validation.suites import validate_year

pytestmark = pytest.mark.slow
YR = ReportingYear.parse(YEAR)


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    raw = tmp_path_factory.mktemp("reuse-sample") / "raw"
    generate_sample(out_dir=raw)
    return raw


@pytest.fixture()
def paths(sample, tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    for folder in sample.iterdir():
        (raw / folder.name).mkdir()
        for f in folder.iterdir():
            (raw / folder.name / f.name).write_bytes(f.read_bytes())
    return Paths(raw=raw, processed=tmp_path / "processed", reports=tmp_path / "reports")


def run(paths: Paths, config: PartnershipConfig | None = None, fresh: bool = False):
    config = config or load_config()
    store = ReuseStore(paths.reuse_store)
    cleaned = clean_year(YR, paths.raw, paths.clean_dir(YR), config, load_key(), store=store, fresh=fresh)
    report = validate_year(YR, paths, config, stop=False, store=store, fresh=fresh)
    return (
        {r["dataset"]: r["outcome"] for r in cleaned.reuse},
        {r["dataset"]: r["outcome"] for r in report.reuse},
        cleaned,
        report,
    )


def rebuilt(outcomes: dict[str, str]) -> set[str]:
    return {name for name, outcome in outcomes.items() if outcome == "rebuilt"}


def append_last_row(path) -> None:
    text = path.read_bytes().rstrip(b"\r\n")
    path.write_bytes(text + b"\n" + text.splitlines()[-1] + b"\n")


def referring_to(dataset: str) -> set[str]:
    """The datasets whose validation reads `dataset` (directly or through another)."""
    contract = load_contract()
    found = {dataset}
    while True:
        more = {
            name
            for name, ds in contract.datasets.items()
            for col in ds.output_columns
            if col.references and col.references.split(".")[0] in found
        } - found
        if not more:
            return found
        found |= more


def snapshot(paths: Paths) -> dict[str, bytes]:
    folder = paths.processed_year(YR)
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for layer in ("clean", "validated", "quarantine")
        for p in sorted((folder / layer).glob("*.parquet"))
    }


def test_reused_tables_are_the_rebuilt_tables_byte_for_byte(paths):
    clean1, valid1, cleaned1, report1 = run(paths)
    assert rebuilt(clean1) == set(clean1) and rebuilt(valid1) == set(valid1)  # an empty store
    first = snapshot(paths)
    first_report = report1.as_json()
    log1, rejected1 = cleaned1.log.copy(), cleaned1.rejected.copy()

    clean2, valid2, cleaned2, report2 = run(paths)
    assert not rebuilt(clean2) and not rebuilt(valid2)
    assert all(r["reused_from"].startswith(f"the {YEAR} run of ") for r in cleaned2.reuse)
    assert snapshot(paths) == first
    pd.testing.assert_frame_equal(cleaned2.log, log1)
    pd.testing.assert_frame_equal(cleaned2.rejected, rejected1)
    assert cleaned2.year_counts == cleaned1.year_counts and cleaned2.nfa_recoded == cleaned1.nfa_recoded
    second_report = report2.as_json()
    assert {k: v for k, v in second_report.items() if k != "reuse"} == {
        k: v for k, v in first_report.items() if k != "reuse"
    }

    # --fresh rebuilds everything, and gives the same tables again.
    clean3, valid3, *_ = run(paths, fresh=True)
    assert rebuilt(clean3) == set(clean3) and rebuilt(valid3) == set(valid3)
    assert snapshot(paths) == first


def test_a_changed_file_rebuilds_its_dataset_and_what_validation_reads_from_it(paths):
    run(paths)
    append_last_row(paths.raw_year(YR) / "audits.csv")  # one support-team file: one byte more at least
    clean, valid, cleaned, _ = run(paths)
    assert rebuilt(clean) == {"audits"}
    assert rebuilt(valid) == referring_to("audits") == {"audits", "audit_cases", "audit_actions"}
    log = cleaned.log.set_index("file")
    assert log.loc[f"{YEAR}/audits.csv", "duplicates_removed"] == 1  # the copy found, in a rebuilt table

    append_last_row(paths.raw_year(YR) / "police_referrals.csv")
    clean, valid, *_ = run(paths)
    assert rebuilt(clean) == {"police_referrals"} and rebuilt(valid) == referring_to("police_referrals")


def test_the_mapping_a_data_rule_and_the_package_version_are_in_the_key(paths, monkeypatch):
    config = load_config()
    run(paths, config)

    mapped = copy.deepcopy(dict(config))
    mapped["sources"] = {"police_referrals": {"files": ["police_referrals*.csv"]}}
    clean, valid, *_ = run(paths, PartnershipConfig(mapped, config.path))
    assert rebuilt(clean) == {"police_referrals"} and rebuilt(valid) == referring_to("police_referrals")

    ruled = copy.deepcopy(dict(config))
    ruled["data_rules"]["nfa_changeover_date"] = "2023-10-01"
    clean, _, cleaned, _ = run(paths, PartnershipConfig(ruled, config.path))
    assert rebuilt(clean) == set(clean)  # the data rules are in every dataset's key
    outcomes = cleaned.tables["referrals"]
    assert (outcomes["referral_outcome_original"] == "NFA").any()

    run(paths, config)  # back as it was: reused, from the first run
    monkeypatch.setattr(sscp_lib, "__version__", sscp_lib.__version__ + ".post1")
    clean, valid, *_ = run(paths, config)
    assert rebuilt(clean) == set(clean) and rebuilt(valid) == set(valid)


def test_a_reused_table_is_never_older_than_its_inputs(paths):
    run(paths)
    time.sleep(0.05)
    police = paths.raw_year(YR) / "police_referrals.csv"
    os.utime(police)  # touched, content unchanged: reused, and the table is newer than the file
    clean, *_ = run(paths)
    assert clean["police_referrals"] == "reused"
    for name in clean:
        table = paths.clean_dir(YR) / f"{name}.parquet"
        newest_input = max(p.stat().st_mtime_ns for p in paths.raw.rglob("*") if p.is_file())
        assert table.stat().st_mtime_ns >= newest_input, name


def test_run_inputs_are_trusted_only_for_files_unchanged_since(paths, tmp_path):
    police = paths.raw_year(YR) / "police_referrals.csv"
    relative = f"{YEAR}/police_referrals.csv"
    record = tmp_path / "inputs.json"
    write_run_inputs(record, paths.raw, {relative: "0" * 64}, fresh=True)
    recorded = read_run_inputs(record, paths.raw)
    assert recorded.hashes == {relative: "0" * 64} and recorded.fresh
    append_last_row(police)
    assert read_run_inputs(record, paths.raw).hashes == {}  # changed since: hashed again


def test_a_rerun_of_the_chain_reuses_every_table_and_publishes_the_same_figures_and_pages(chain_copy):
    from sscp_lib.chain.pipeline import run_chain

    first = chain_copy.report
    before = {p.relative_to(first): p.read_bytes() for p in (first / "charts").rglob("*") if p.is_file()}
    metrics = (first / "metrics.json").read_bytes()
    statement = (first / "assurance-statement.html").read_text(encoding="utf-8")
    code = run_chain(
        year=YEAR, raw=chain_copy.raw, processed=chain_copy.processed, reports=chain_copy.reports, pdf=False
    )
    assert code == 0
    manifest = json.loads((first / "manifest.json").read_text())
    assert manifest["datasets"] and all(
        d["clean"]["outcome"] == "reused" and d["validate"]["outcome"] == "reused"
        for d in manifest["datasets"].values()
    )
    assert {p.relative_to(first): p.read_bytes() for p in (first / "charts").rglob("*") if p.is_file()} == before
    assert (first / "metrics.json").read_bytes() == metrics

    # The statement names when it was run; apart from that it is the same, byte for byte.
    def undated(text: str) -> str:
        return re.sub(r"\d{1,2} \w+ \d{4} at \d{2}:\d{2} UTC", "(when)", text)

    assert undated((first / "assurance-statement.html").read_text(encoding="utf-8")) == undated(statement)
    clean_page = (first / "notebooks" / "01_clean.html").read_text(encoding="utf-8")
    assert "reused" in clean_page and f"the {YEAR} run of " in clean_page


def test_the_store_keeps_what_it_stored_first_and_the_most_recently_used_entries(tmp_path):
    store = ReuseStore(tmp_path / ".reuse")
    table = tmp_path / "table.parquet"
    table.write_bytes(b"first")
    entry = store.save("clean", "audits", "k0", {"table.parquet": table}, {"year": YEAR})
    table.unlink()
    table.write_bytes(b"second")  # a run storing the same key again (a quarter run beside the year's)
    again = store.save("clean", "audits", "k0", {"table.parquet": table}, {"year": YEAR})
    assert again.folder == entry.folder and again.file("table.parquet").read_bytes() == b"first"
    for i in range(1, 6):
        time.sleep(0.01)
        store.save("clean", "audits", f"k{i}", {"table.parquet": table}, {"year": YEAR})
    kept = sorted(p.name for p in (store.root / "clean" / "audits").iterdir())
    assert kept == ["k2", "k3", "k4", "k5"]
    assert store.find("clean", "audits", "k0") is None and store.find("clean", "audits", "k5") is not None
