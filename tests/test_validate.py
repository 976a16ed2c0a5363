"""The validate stage: suites from the contract, each expectation family, quarantine, stops, metrics."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sscp_lib.config import PROJECT_ROOT, Paths, ReportingYear, load_config
from sscp_lib.contract import Contract, load_contract
from sscp_lib.errors import ValidationStop
from sscp_lib.metrics import MetricStore
from sscp_lib.stages import StageContext
from sscp_lib.stages import validate as validate_stage
from sscp_lib.validation import screens as expectations
from sscp_lib.validation import suites as validate

YEAR = ReportingYear.parse("2023-24")
YEARS = (YEAR.previous, YEAR)
CONTRACT = load_contract()


@pytest.fixture(scope="session", autouse=True)
def gx_context():
    """One GX context for the session (importing GX costs seconds)."""
    return validate.gx_context()


# --- canonical fixture frames, built from the contract's processed schema ------------------


def canonical_table(
    contract: Contract,
    name: str,
    rows_per_year: dict[ReportingYear, int],
    references: dict[str, pd.Series] | None = None,
) -> pd.DataFrame:
    """A clean table that meets the contract: every column typed as processed_schema says."""
    ds = contract.dataset(name)
    schema = contract.processed_schema(ds)
    years = [y for y, n in rows_per_year.items() for _ in range(n)]
    n = len(years)
    i = np.arange(n)
    period = pd.Series([y.start + timedelta(days=int(k * 7 % 365)) for k, y in zip(i, years)])
    period = pd.to_datetime(period).astype("datetime64[ms]")
    data: dict[str, pd.Series] = {}
    for col in ds.output_columns:
        column = col.canonical_name
        dtype = schema[column]
        if col.references:
            pool = list((references or {})[col.references])
            values = [pool[k % len(pool)] for k in i]
        elif column == ds.period_column or col.type == "date":
            values = period
        elif col.type == "code":
            codes = [c for c in contract.codes_for(col).codes if c not in contract.codes_for(col).retired]
            values = [codes[k % len(codes)] for k in i]
        elif col.type == "int":
            top = int(col.max) if col.max is not None else 1000
            values = [int(k % (top + 1)) for k in i]
        elif col.type == "float":
            values = [float(k) * 10.5 for k in i]
        elif col.type == "bool":
            values = [bool(k % 2) for k in i]
        else:
            values = [f"{name}-{column}-{k:06d}" for k in i]
        data[column] = pd.Series(values, dtype=dtype)
    # Compound keys stay unique through their date member: period dates differ row by row.
    for col in ds.output_columns:
        if col.type != "code":
            continue
        codes = contract.codes_for(col)
        if codes.groups:
            data[f"{col.name}_group"] = data[col.name].map(codes.group_of()).astype("string")
        if codes.retired:
            data[f"{col.name}_retired"] = data[col.name].isin(list(codes.retired)).astype("boolean")
        if f"{col.name}_original" in schema:
            data[f"{col.name}_original"] = data[col.name].copy()
    data["reporting_year"] = pd.Series([y.label for y in years], dtype="string")
    frame = pd.DataFrame(data)[list(schema)]
    assert frame.dtypes.astype(str).to_dict() == schema
    return frame


def canonical_year(contract: Contract = CONTRACT, rows: int = 12) -> dict[str, pd.DataFrame]:
    """Every dataset, referenced tables first, with `rows` rows in each of two years."""
    tables: dict[str, pd.DataFrame] = {}
    for name in validate._validation_order(contract):
        refs = {}
        for col in contract.dataset(name).output_columns:
            if col.references:
                target, column = col.references.split(".")
                refs[col.references] = tables[target][column]
        tables[name] = canonical_table(contract, name, {y: rows for y in YEARS}, refs)
    return tables


def inputs_for(**changes) -> validate.SuiteInputs:
    base = dict(year=YEAR, earliest_year=YEAR.previous, row_count_change_share=0.5)
    base.update(changes)
    return validate.SuiteInputs(**base)


def result(report: validate.TableReport, check: str) -> validate.ExpectationResult:
    return next(r for r in report.results if r.check == check)


def failed_checks(report: validate.TableReport) -> set[str]:
    return {r.check for r in report.results if not r.success}


@pytest.fixture(scope="module")
def good_year() -> dict[str, pd.DataFrame]:
    return canonical_year()


def audit_refs(good_year) -> dict:
    return {
        "audits.audit_id": good_year["audits"]["audit_id"].unique(),
        "case_reviews.review_id": good_year["case_reviews"]["review_id"].unique(),
    }


# --- Great Expectations is imported with the module --------------------------------------


def test_importing_the_module_imports_great_expectations():
    """The chain's warm kernel imports the stage's module ahead of the stage: GX's import (seconds)
    must come with it, not with the first validation. In the chain's processes (lean imports
    installed), jsonschema's IRI parser is left out of it, and the modules GX imports for features
    unused here wait for their first use, which works."""
    probe = (
        "import sys, types\n"
        "from sscp_lib.chain.lean_imports import DEFERRED_IMPORTS, install\n"
        "install()\n"
        "import sscp_lib.validation.suites\n"
        "print(sorted(m for m in ('great_expectations', 'rfc3987_syntax') if sys.modules.get(m)))\n"
        "print(sorted(m for m in DEFERRED_IMPORTS if type(sys.modules[m]) is types.ModuleType))\n"
        "print(all(sys.modules[m].__file__ and sys.modules[m].__name__ == m for m in DEFERRED_IMPORTS))\n"
        "print(sorted(m for m in DEFERRED_IMPORTS if type(sys.modules[m]) is types.ModuleType))\n"
        "import scipy.stats, altair\n"
        "print(scipy.stats.norm.cdf(0.0), altair.Chart.__name__)\n"
        "print(sorted(m for m in DEFERRED_IMPORTS if type(sys.modules[m]) is types.ModuleType))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    # A deferred module's name and file are read without loading it (ipykernel reads every module's file).
    assert out.splitlines() == ["['great_expectations']", "[]", "True", "[]", "0.5 Chart", "['altair', 'scipy.stats']"]


def test_importing_the_library_leaves_the_import_system_alone():
    """Only the chain's processes (the `sscp` command, the kernel zygote) install lean imports: a
    notebook or program importing sscp_lib gets Python's import system as it was."""
    probe = (
        "import sys\n"
        "finders = list(sys.meta_path)\n"
        "import sscp_lib, sscp_lib.cli, sscp_lib.stages, sscp_lib.chain\n"
        "print(sys.meta_path == finders, 'rfc3987_syntax' in sys.modules)\n"
        "from sscp_lib.chain import lean_imports\n"
        "lean_imports.install(); lean_imports.install()\n"
        "print(len(sys.meta_path) - len(finders), sys.modules['rfc3987_syntax'])"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["True False", "1 None"]


# --- suites come from the contract -------------------------------------------------------


def test_every_expectation_carries_meta():
    suites = {
        name: validate.build_suites(CONTRACT, name, inputs_for(previous_year_rows=5)) for name in CONTRACT.datasets
    }
    everything = [e for by_batch in suites.values() for s in by_batch.values() for e in s.expectations]
    checks = [c for by_batch in suites.values() for s in by_batch.values() for c in validate.suite_checks(s)]
    assert {e.meta["family"] for e in everything} == {c["family"] for c in checks} == set(validate.FAMILIES)
    for meta in [e.meta for e in everything] + checks:
        assert set(meta) >= {"check", "severity", "family", "column", "description"}
        assert meta["severity"] in {"critical", "warning"}
        assert meta["description"]
    referrals = [c for s in suites["referrals"].values() for c in validate.suite_checks(s)]
    exists = [c["column"] for c in referrals if c["family"] == "exists"]
    assert exists == list(CONTRACT.processed_schema("referrals"))
    assert len({c["check"] for c in checks if c in referrals}) == len(referrals)


def test_an_extra_code_in_the_contract_changes_the_suite():
    code_list = CONTRACT.code_lists["audit_grade"]
    wider = dataclasses.replace(code_list, codes={**code_list.codes, "EXEMPLARY": "Exemplary"})
    contract = dataclasses.replace(CONTRACT, code_lists={**CONTRACT.code_lists, "audit_grade": wider})

    def grade_codes(c):
        suite = validate.build_suites(c, "audit_cases", inputs_for())[validate.ALL_ROWS]
        return next(e.value_set for e in suite.expectations if e.meta["check"] == "codes:grade")

    assert "EXEMPLARY" not in grade_codes(CONTRACT)
    assert "EXEMPLARY" in grade_codes(contract)


def test_a_new_range_and_a_warning_severity_come_from_the_contract():
    ds = CONTRACT.dataset("cp_plans")
    columns = tuple(
        dataclasses.replace(c, severity="warning") if c.name == "latest_category" else c for c in ds.columns
    )
    contract = dataclasses.replace(
        CONTRACT, datasets={**CONTRACT.datasets, "cp_plans": dataclasses.replace(ds, columns=columns)}
    )
    suite = validate.build_suites(contract, "cp_plans", inputs_for())[validate.ALL_ROWS]
    meta = {e.meta["check"]: e.meta for e in suite.expectations}
    assert meta["codes:latest_category"]["severity"] == "warning"
    assert meta["codes:initial_category"]["severity"] == "critical"


def test_row_count_change_expectation_only_with_a_previous_year():
    assert len(validate.build_suites(CONTRACT, "audits", inputs_for())[validate.YEAR_ROWS].expectations) == 1
    year_suite = validate.build_suites(CONTRACT, "audits", inputs_for(previous_year_rows=10))[validate.YEAR_ROWS]
    change = year_suite.expectations[1]
    assert (change.min_value, change.max_value, change.meta["severity"]) == (5, 15, "warning")


# --- each family fails on a crafted bad frame and passes on a good one ---------------------


def _with(frame: pd.DataFrame, row: int, column: str, value) -> pd.DataFrame:
    frame = frame.copy()
    frame.loc[row, column] = value
    return frame


ROW_FAMILY_CASES = [
    # (family, dataset, how the frame is spoiled, check expected to fail, failing rows)
    ("non_null", "referrals", lambda f: _with(f, 3, "child_pid", pd.NA), "non_null:child_pid", [3]),
    ("codes", "referrals", lambda f: _with(f, 4, "referral_source", "ZZ"), "codes:referral_source", [4]),
    (
        "codes",
        "referrals",
        lambda f: _with(f, 5, "referral_source_group", "MARTIANS"),
        "codes:referral_source_group",
        [5],
    ),
    ("range", "audits", lambda f: _with(f, 2, "cases_audited", 501), "range:cases_audited", [2]),
    ("range", "communications", lambda f: _with(f, 1, "opens", -1), "range:opens", [1]),
    (
        "unique",
        "referrals",
        lambda f: _with(f, 6, "referral_pid", f.loc[7, "referral_pid"]),
        "unique:referral_pid",
        [6, 7],
    ),
    (
        "unique",
        "meeting_attendance",
        lambda f: _with(
            _with(
                _with(f, 8, "meeting_series", f.loc[9, "meeting_series"]), 8, "meeting_date", f.loc[9, "meeting_date"]
            ),
            8,
            "agency",
            f.loc[9, "agency"],
        ),
        "unique:meeting_series+meeting_date+agency",
        [8, 9],
    ),
    (
        "window",
        "referrals",
        lambda f: _with(f, 10, "referral_date", pd.Timestamp("2024-04-01")),
        "window:referral_date",
        [10],
    ),
    (
        "window",
        "referrals",
        lambda f: _with(f, 11, "referral_date", pd.Timestamp("2022-03-31")),
        "window:referral_date",
        [11],
    ),
    (
        "window",
        "referrals",
        lambda f: _with(f, 12, "referral_date", pd.Timestamp("3023-05-01")),
        "window:referral_date",
        [12],
    ),
    ("reference", "audit_actions", lambda f: _with(f, 0, "audit_id", "AUDIT-NOT-HELD"), "reference:audit_id", [0]),
    ("reference", "review_actions", lambda f: _with(f, 1, "review_id", "NO-SUCH-REVIEW"), "reference:review_id", [1]),
    (
        "type",
        "audits",
        lambda f: f.assign(cases_audited=f["cases_audited"].astype(object).where(f.index != 3, "seven")),
        "type:cases_audited",
        None,
    ),
]


@pytest.mark.parametrize(
    "family, dataset, spoil, check, rows", ROW_FAMILY_CASES, ids=[f"{c[0]}-{c[3]}" for c in ROW_FAMILY_CASES]
)
def test_each_row_family_catches_its_fault(good_year, family, dataset, spoil, check, rows):
    frame = spoil(good_year[dataset])
    report, validated, quarantined = validate.validate_table(
        frame, dataset, inputs_for(reference_values=audit_refs(good_year))
    )
    failing = result(report, check)
    assert failing.family == family and not failing.success
    assert check in failed_checks(report)
    if rows is not None:
        assert failing.level == "row"
        assert sorted(failing.failing_rows.tolist()) == rows
        assert failing.unexpected_count == len(rows)
        key = CONTRACT.dataset(dataset).key
        assert (
            failing.examples
            == [{k: validate.to_jsonable(frame.loc[r, k]) for k in key} for r in rows][: validate.EXAMPLES_KEPT]
        )
        assert len(quarantined) == len(rows) and len(validated) == len(frame) - len(rows)
        assert all(check in reasons for reasons in quarantined[validate.QUARANTINE_REASON_COLUMN])
        assert not report.stops


# --- screens: many per-column checks decided by one expectation, GX's own only when needed ----


def _spoiled_referrals(good_year) -> pd.DataFrame:
    """Referrals with a fault for every screen, and values a screen must not flag."""
    frame = good_year["referrals"].copy()
    frame.loc[1, "child_pid"] = pd.NA  # a null in a required column
    frame.loc[2, "referral_source"] = "ZZ"  # a code outside its list
    frame.loc[3, "referral_source_group"] = pd.NA  # a null in a coded column: the codes check skips it
    frame = frame.drop(columns=["abuse_category"])  # an absent column: every check on it raises
    frame["referral_outcome"] = frame["referral_outcome"].astype(object)  # object: checked value by value
    return frame.assign(domestic_abuse=frame["domestic_abuse"].astype("Int64"))  # the wrong type


def _suite_results(frame, dataset, inputs, screened=True):
    """Every check's result on the all-rows suite; screened=False: each check by its own expectation."""
    suite = validate.build_suites(CONTRACT, dataset, inputs)[validate.ALL_ROWS]
    with pytest.MonkeyPatch.context() as patch:
        if not screened:
            patch.setattr(validate, "SCREENABLE", ())
        return [r.as_json() for r in validate.run_suite(frame, suite, dataset, CONTRACT.dataset(dataset).key)]


@pytest.mark.parametrize("spoilt", [False, True], ids=["clean", "spoilt"])
def test_screened_results_are_the_results_of_each_checks_own_expectation(good_year, spoilt):
    frame = _spoiled_referrals(good_year) if spoilt else good_year["referrals"]
    screened = _suite_results(frame, "referrals", inputs_for())
    one_by_one = _suite_results(frame, "referrals", inputs_for(), screened=False)
    assert screened == one_by_one
    failed = {r["check"] for r in screened if not r["success"]}
    if spoilt:
        assert {"non_null:child_pid", "codes:referral_source", "type:domestic_abuse"} <= failed
        assert {"codes:abuse_category", "type:abuse_category"} <= failed
        assert "codes:referral_source_group" not in failed
    else:
        assert not failed


def test_screens_decide_the_per_column_checks_of_a_clean_table(good_year, monkeypatch):
    validated = []
    gx_results = validate._gx_results

    def recording(batch, suite_expectations, result_format):
        validated.extend(type(e).__name__ for e in suite_expectations)
        return gx_results(batch, suite_expectations, result_format)

    monkeypatch.setattr(validate, "_gx_results", recording)
    results = _suite_results(good_year["referrals"], "referrals", inputs_for())
    assert all(r["success"] for r in results)
    kinds = [name.removesuffix("ConfiguredOnce") for name in validated]
    assert sorted(k for k in kinds if k in expectations.SCREENS) == sorted(expectations.SCREENS)  # each screen once
    per_column = {"ExpectColumnValuesToNotBeNull", "ExpectColumnValuesToBeOfType", "ExpectColumnValuesToBeInSet"}
    assert not per_column & set(kinds)


def test_a_screen_that_raises_leaves_every_check_to_its_own_expectation(good_year, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the screen broke")

    frame = _spoiled_referrals(good_year)
    one_by_one = _suite_results(frame, "referrals", inputs_for(), screened=False)
    for screen in expectations.SCREENS.values():
        monkeypatch.setattr(screen, "_validate", broken)
    assert _suite_results(frame, "referrals", inputs_for()) == one_by_one


def test_codes_failures_show_the_unexpected_code(good_year):
    frame = _with(good_year["referrals"], 4, "referral_source", "Polce")
    report, _, _ = validate.validate_table(frame, "referrals", inputs_for())
    assert result(report, "codes:referral_source").unexpected_values == ["Polce"]


def test_a_missing_column_stops_with_its_name(good_year):
    frame = good_year["audits"].drop(columns=["audit_date"])
    report, _, _ = validate.validate_table(frame, "audits", inputs_for())
    assert not result(report, "exists:audit_date").success
    assert report.stops == ["table audits has no column audit_date"]


def test_a_column_of_the_wrong_type_stops(good_year):
    frame = good_year["audits"].assign(cases_audited=good_year["audits"]["cases_audited"].astype("Float64"))
    report, _, _ = validate.validate_table(frame, "audits", inputs_for())
    assert result(report, "type:cases_audited").level == "table"
    assert report.stops == ["column cases_audited of table audits holds float64 values, but whole numbers are expected"]


def test_no_rows_in_the_year_stops(good_year):
    frame = good_year["audits"]
    frame = frame[frame["reporting_year"] != YEAR.label]
    report, _, _ = validate.validate_table(frame, "audits", inputs_for())
    assert report.stops == ["table audits has no rows in 2023-24"]


def test_a_big_change_in_rows_is_a_warning_not_a_stop():
    frame = canonical_table(CONTRACT, "escalations", {YEAR.previous: 10, YEAR: 16})
    report, _, quarantined = validate.validate_table(frame, "escalations", inputs_for())
    change = result(report, "row_count:change")
    assert not change.success and change.severity == "warning"
    assert report.stops == [] and len(quarantined) == 0
    steady = canonical_table(CONTRACT, "escalations", {YEAR.previous: 10, YEAR: 15})
    report, _, _ = validate.validate_table(steady, "escalations", inputs_for())
    assert result(report, "row_count:change").success


def test_a_warning_column_is_reported_not_quarantined(good_year):
    ds = CONTRACT.dataset("cp_plans")
    columns = tuple(
        dataclasses.replace(c, severity="warning") if c.name == "latest_category" else c for c in ds.columns
    )
    contract = dataclasses.replace(
        CONTRACT, datasets={**CONTRACT.datasets, "cp_plans": dataclasses.replace(ds, columns=columns)}
    )
    frame = _with(good_year["cp_plans"], 2, "latest_category", "XXX")
    report, validated, quarantined = validate.validate_table(frame, "cp_plans", inputs_for(), contract)
    assert not result(report, "codes:latest_category").success
    assert len(quarantined) == 0 and len(validated) == len(frame)
    assert report.counts()["warned"] == 1 and report.counts()["failed"] == 0


# --- a whole year: files written, quarantine exact, stop after validation.json --------------


def write_clean(tables: dict[str, pd.DataFrame], paths: Paths) -> None:
    clean = paths.clean_dir(YEAR)
    clean.mkdir(parents=True)
    for name, frame in tables.items():
        frame.to_parquet(clean / f"{name}.parquet", index=False)


def paths_under(root: Path) -> Paths:
    return Paths(raw=root / "raw", processed=root / "processed", reports=root / "reports")


def contract_with(*names: str) -> Contract:
    """The contract cut down to a few datasets, to keep whole-year runs quick."""
    return dataclasses.replace(CONTRACT, datasets={n: CONTRACT.datasets[n] for n in names})


BAD_ROWS = {"referrals": [2, 9, 15], "audit_actions": [4]}


@pytest.fixture(scope="module")
def injected_run(good_year, tmp_path_factory):
    """One whole-year run over every dataset, with bad rows injected in two tables."""
    root = tmp_path_factory.mktemp("injected")
    paths = paths_under(root)
    tables = dict(good_year)
    referrals = tables["referrals"].copy()
    referrals.loc[[2, 9], "referral_source"] = "ZZ"
    referrals.loc[9, "child_pid"] = pd.NA
    referrals.loc[15, "referral_date"] = pd.Timestamp("2024-06-01")
    tables["referrals"] = referrals
    actions = tables["audit_actions"].copy()
    actions.loc[4, "audit_id"] = "AUDIT-NOT-HELD"
    tables["audit_actions"] = actions
    write_clean(tables, paths)
    cwd = Path.cwd()
    os.chdir(root)  # any GX project files would land here
    try:
        report = validate.validate_year(YEAR, paths, load_config())
    finally:
        os.chdir(cwd)
    return root, paths, tables, report


def test_injected_bad_rows_are_quarantined_exactly(injected_run):
    _, paths, tables, report = injected_run
    for name, frame in tables.items():
        key = list(CONTRACT.dataset(name).key)
        validated = pd.read_parquet(paths.validated_dir(YEAR) / f"{name}.parquet")
        quarantined = pd.read_parquet(paths.quarantine_dir(YEAR) / f"{name}.parquet")
        bad = BAD_ROWS.get(name, [])
        assert sorted(map(tuple, quarantined[key].astype(str).to_numpy())) == sorted(
            map(tuple, frame.loc[bad, key].astype(str).to_numpy())
        ), name
        # validated = clean - quarantined, with the clean schema and dtypes kept
        pd.testing.assert_frame_equal(validated, frame.drop(index=bad).reset_index(drop=True))
        assert list(quarantined.columns) == [*frame.columns, validate.QUARANTINE_REASON_COLUMN]
    reasons = pd.read_parquet(paths.quarantine_dir(YEAR) / "referrals.parquet")[validate.QUARANTINE_REASON_COLUMN]
    assert reasons.tolist() == [
        "codes:referral_source",
        "non_null:child_pid; codes:referral_source",
        "window:referral_date",
    ]
    assert report.rows_quarantined == 4 and report.stops == []
    # Every other expectation of every table passes on the canonical frames.
    assert {(r.dataset, r.check) for r in report.results if not r.success} == {
        ("referrals", "codes:referral_source"),
        ("referrals", "non_null:child_pid"),
        ("referrals", "window:referral_date"),
        ("audit_actions", "reference:audit_id"),
    }


def test_validation_json_lists_every_expectation(injected_run):
    _, paths, tables, report = injected_run
    saved = json.loads((paths.processed_year(YEAR) / "validation.json").read_text())
    assert set(saved["tables"]) == set(CONTRACT.datasets)
    checks = {e["check"]: e for e in saved["tables"]["referrals"]["results"]}
    assert len(checks) == len(report.tables["referrals"].results)
    assert checks["codes:referral_source"]["unexpected_count"] == 2
    assert checks["codes:referral_source"]["unexpected_values"] == ["ZZ"]
    assert checks["codes:referral_source"]["examples"] == [
        {"referral_pid": tables["referrals"].loc[r, "referral_pid"]} for r in (2, 9)
    ]
    for entry in checks.values():
        assert {"family", "column", "severity", "success", "unexpected_count", "examples"} <= set(entry)
    assert saved["stopped"] is False and saved["rows_quarantined"] == 4
    # The window opens at config data_rules.earliest_year, not at the data's first date.
    assert saved["window"] == {"start": "2021-04-01", "end": "2024-03-31"}
    assert any(
        w.startswith("Referrals to children's social care from the MASH: 3 records are left out")
        for w in saved["warnings"]
    )


def test_no_great_expectations_files_anywhere(injected_run):
    root = injected_run[0]
    for folder in (root, PROJECT_ROOT, PROJECT_ROOT / "notebooks", PROJECT_ROOT / "sscp_lib"):
        assert not (folder / "gx").exists() and not (folder / "great_expectations").exists()
        assert not (folder / "great_expectations.yml").exists()
    assert not list(root.rglob("*.yml")) and not list(root.rglob("*.html"))
    assert validate.gx_context().get_config().data_docs_sites == {}


def test_metrics_cover_the_catalogue(injected_run):
    report = injected_run[3]
    store = MetricStore(5).add_all(validate_stage.metric_values(report))
    values = {name: entry["value"] for name, entry in store.metrics.items()}
    total = len(report.results)
    assert values["validation.expectations_failed"] == 4
    assert values["validation.expectations_warned"] == 0
    assert values["validation.expectations_passed"] == total - 4
    assert values["validation.rows_quarantined"] == 4
    by_table = values["validation.by_table"]
    assert by_table["columns"] == ["dataset", "expectations", "passed", "failed", "warned", "rows_quarantined"]
    n = len(report.tables["referrals"].results)
    assert ["referrals", n, n - 3, 3, 0, 3] in by_table["rows"]
    assert values["validation.warnings"] == report.warnings and len(report.warnings) == 2


def test_a_critical_table_failure_stops_after_writing_the_report(good_year, tmp_path):
    paths = paths_under(tmp_path)
    contract = contract_with("audits", "audit_actions")
    audits = good_year["audits"]
    write_clean(
        {"audits": audits[audits["reporting_year"] != YEAR.label], "audit_actions": good_year["audit_actions"]}, paths
    )
    with pytest.raises(ValidationStop, match="table audits has no rows in 2023-24") as caught:
        validate.validate_year(YEAR, paths, load_config(), contract=contract)
    saved = json.loads((paths.processed_year(YEAR) / "validation.json").read_text())
    assert saved["stopped"] is True and saved["stops"] == ["table audits has no rows in 2023-24"]
    assert not (paths.validated_dir(YEAR) / "audits.parquet").exists()
    assert (paths.validated_dir(YEAR) / "audit_actions.parquet").exists()
    assert caught.value.report.tables["audits"].stops


def test_a_missing_clean_file_stops(good_year, tmp_path):
    paths = paths_under(tmp_path)
    write_clean({"escalations": good_year["escalations"]}, paths)
    report = validate.validate_year(
        YEAR, paths, load_config(), contract=contract_with("escalations", "budget"), stop=False
    )
    assert report.stops == ["table budget was not written by the clean stage (budget.parquet is missing)"]
    with pytest.raises(ValidationStop, match="budget"):
        report.raise_if_stopped()


def test_the_stage_writes_the_fragment_or_removes_a_stale_one(injected_run, tmp_path, monkeypatch):
    ctx = StageContext.from_parameters("validate", YEAR.label, processed_dir=tmp_path / "processed")
    monkeypatch.setattr(validate, "validate_year", lambda *args, **kwargs: injected_run[3])
    validate_stage.run(ctx).raise_if_stopped()
    fragment = ctx.metrics_fragment
    assert json.loads(fragment.read_text())["validation.rows_quarantined"]["value"] == 4
    stopped = validate.ValidationReport(
        year=YEAR,
        earliest_year=YEAR.previous,
        tables={
            "budget": validate.TableReport(
                dataset="budget", title="Budget", key=("budget_line",), missing_file=Path("budget.parquet")
            )
        },
    )
    monkeypatch.setattr(validate, "validate_year", lambda *args, **kwargs: stopped)
    result = validate_stage.run(ctx)
    assert not fragment.exists()
    with pytest.raises(ValidationStop, match="table budget was not written"):
        result.raise_if_stopped()


def test_without_a_configured_earliest_year_the_window_opens_at_the_first_period_date(good_year, tmp_path):
    paths = paths_under(tmp_path)
    audits = good_year["audits"].copy()
    audits.loc[0, "audit_date"] = pd.Timestamp("2019-05-01")  # 2019-20: the earliest row of any table
    write_clean({"audits": audits, "escalations": good_year["escalations"]}, paths)
    config = load_config()
    config = type(config)({**config, "data_rules": {**config["data_rules"], "earliest_year": None}}, config.path)
    report = validate.validate_year(YEAR, paths, config, contract=contract_with("audits", "escalations"), stop=False)
    assert report.earliest_year == ReportingYear.parse("2019-20")
    assert result(report.tables["audits"], "window:audit_date").success
