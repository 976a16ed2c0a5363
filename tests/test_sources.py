"""Source mappings in configuration (issue 12): a partnership's own exports read without touching the package."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from bad_inputs.builders import YEAR, dataset_rows, write_csv, write_xlsx, write_year
from conftest import YEAR as CHAIN_YEAR
from renamed_sample import SOURCES, rename_sample

from sscp_lib.config import DEFAULT_CONFIG, NARRATIVE_DIR, PartnershipConfig, ReportingYear, load_config
from sscp_lib.contract import load_contract
from sscp_lib.errors import InputFileError, UserError
from sscp_lib.ingest.clean import clean_year, discover_files, parse_bools, parse_dates
from sscp_lib.ingest.sources import resolve_sources

KEY = bytes.fromhex("5e" * 32)


def write_config(folder: Path, sources=None, sources_file: str | None = None) -> Path:
    """The project's partnership config with `sources` inline, or in `sources_file` beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    data = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    data["narrative"] = str(NARRATIVE_DIR / "{year}.md")
    if sources is not None and sources_file:
        (folder / sources_file).write_text(yaml.safe_dump({"sources": sources}, sort_keys=False), encoding="utf-8")
        data["sources"] = sources_file
    elif sources is not None:
        data["sources"] = sources
    path = folder / "partnership.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def config_from_text(tmp_path: Path, text: str) -> PartnershipConfig:
    """The project's partnership config with `text` (a sources: section) added at the end."""
    path = tmp_path / "partnership.yaml"
    path.write_text(DEFAULT_CONFIG.read_text(encoding="utf-8") + "\n" + text, encoding="utf-8")
    return load_config(path)


def clean(raw: Path, tmp_path: Path, config) -> object:
    return clean_year(ReportingYear.parse(YEAR), raw, tmp_path / "out", config, KEY)


# ---------------------------------------------------------------------------------------------
# Validation: one clear error naming the config file and every key at fault


def test_unknown_key_is_one_error_naming_file_and_key(tmp_path):
    config = config_from_text(tmp_path, "sources:\n  police_referrals:\n    file: ['WMP*.csv']\n")
    with pytest.raises(UserError) as caught:
        resolve_sources(load_contract(), config)
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'partnership.yaml'}: sources.police_referrals.file: unknown key")
    assert "did you mean 'files'?" in message and "\n" not in message


def test_a_mapping_to_a_column_the_contract_does_not_have_names_the_key(tmp_path):
    config = config_from_text(
        tmp_path, "sources:\n  police_referrals:\n    columns:\n      Subject Person ID: child_ident\n"
    )
    with pytest.raises(
        UserError,
        match=r"sources\.police_referrals\.columns\.\"Subject Person ID\": the data "
        r"contract's police_referrals has no column 'child_ident' \(did you mean 'child_id'\?\)",
    ):
        resolve_sources(load_contract(), config)


def test_every_problem_in_the_mapping_is_listed_at_once(tmp_path):
    text = """
sources:
  polce_referrals: {files: x.csv}
  police_referrals:
    columns: {DASH Risk: risk}
    values:
      risk_level: {S: STD}
      domestic_abuse: {Y: x}
    date_formats: ["%d-%b"]
    yes_words: [Yes]
    no_words: [yes]
    encoding: klingon
    header_row: 0
  annex_a: {sheet: List 1}
"""
    with pytest.raises(UserError) as caught:
        resolve_sources(load_contract(), config_from_text(tmp_path, text))
    message = str(caught.value)
    assert "9 problems in the source mappings" in message and "\n" not in message
    for key in [
        "sources.polce_referrals: the data contract has no dataset 'polce_referrals' (did you mean 'police_referrals'?)",
        "sources.police_referrals.columns.\"DASH Risk\": the data contract's police_referrals has no column 'risk'",
        "sources.police_referrals.values.risk_level.S: 'STD' is not a code of police_risk",
        "sources.police_referrals.values.domestic_abuse: 'domestic_abuse' is a bool column",
        "sources.police_referrals.date_formats: '%d-%b' is not a date format",
        "sources.police_referrals.yes_words: yes given as both yes and no",
        "sources.police_referrals.encoding: unknown text encoding 'klingon'",
        "sources.police_referrals.header_row: expected a row number",
        "sources.annex_a.sheet: unknown key",
    ]:
        assert key in message, key


def test_yes_and_no_keep_their_words_in_the_config(tmp_path):
    """YAML 1.1 reads bare Yes/No as booleans; the mapping is read as written."""
    text = (
        "sources:\n  referrals:\n    values:\n      referral_outcome: {Yes: NFA, No: ASSESSMENT}\n    yes_words: [On]\n"
    )
    sources = resolve_sources(load_contract(), config_from_text(tmp_path, text))
    (spec,) = sources.by_dataset["referrals"]
    assert spec.values["referral_outcome"] == {"yes": "NFA", "no": "ASSESSMENT"}
    assert "on" in spec.yes_words


def test_a_key_given_twice_is_an_error_naming_the_line(tmp_path):
    text = "sources:\n  budget: {files: a.csv}\n  budget: {files: b.csv}\n"
    with pytest.raises(
        UserError, match=r"partnership\.yaml, line \d+: not valid YAML \(the key 'budget' is given twice"
    ):
        resolve_sources(load_contract(), config_from_text(tmp_path, text))


def test_sources_in_a_file_beside_the_config(tmp_path):
    path = write_config(tmp_path, {"budget": {"files": "Budget *.csv"}}, sources_file="sources.yaml")
    sources = resolve_sources(load_contract(), load_config(path))
    assert sources.config_file == tmp_path / "sources.yaml"
    assert sources.by_dataset["budget"][0].rule.patterns == ("Budget *.csv",)
    (tmp_path / "sources.yaml").unlink()
    with pytest.raises(UserError, match=r"sources\.yaml: source mapping file not found"):
        resolve_sources(load_contract(), load_config(path))
    (tmp_path / "sources.yaml").write_text("budget: {files: x}\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"sources\.yaml: a source mapping file holds one `sources:` section"):
        resolve_sources(load_contract(), load_config(path))


def test_the_project_configs_validate():
    for path in [DEFAULT_CONFIG, *sorted((DEFAULT_CONFIG.parent / "examples").glob("*.yaml"))]:
        resolve_sources(load_contract(), load_config(path))


# ---------------------------------------------------------------------------------------------
# Discovery: patterns, several files, conflicts


def test_two_mappings_claiming_one_file_is_an_error_naming_both(tmp_path):
    raw = tmp_path / "raw"
    folder = write_year(raw)
    (folder / "audits.csv").rename(folder / "Audit programme 2023-24.csv")
    config = config_from_text(
        tmp_path,
        "sources:\n  audits: {files: 'Audit*.csv'}\n  audit_actions: {files: '*2023-24.csv'}\n",
    )
    with pytest.raises(UserError) as caught:
        clean(raw, tmp_path, config)
    message = str(caught.value)
    assert message.startswith("2023-24/Audit programme 2023-24.csv: two source mappings claim this file:")
    assert "sources.audits ('Audit*.csv') and sources.audit_actions ('*2023-24.csv')" in message
    assert str(tmp_path / "partnership.yaml") in message


def test_a_pattern_claiming_another_datasets_default_file_is_a_conflict(tmp_path):
    raw = tmp_path / "raw"
    write_year(raw)
    config = config_from_text(tmp_path, "sources:\n  referrals: {files: '*referrals*.csv'}\n")
    with pytest.raises(
        UserError,
        match=r"2023-24/health_referrals\.csv: two source mappings claim this file: sources\.referrals "
        r"\('\*referrals\*\.csv'\) and the default name rule of health_referrals \('health_referrals\*'\)",
    ):
        clean(raw, tmp_path, config)


def test_missing_file_names_the_configured_pattern(tmp_path):
    raw = tmp_path / "raw"
    write_year(raw)
    config = config_from_text(tmp_path, "sources:\n  budget: {files: 'Partnership budget *.csv'}\n")
    with pytest.raises(UserError) as caught:
        clean(raw, tmp_path, config)
    message = str(caught.value)
    assert (
        "missing required dataset file(s) for 2023-24: budget (a file matching 'Partnership budget *.csv' " in message
    )
    assert "run `sscp inspect" in message


def test_quarterly_files_are_read_and_concatenated(tmp_path):
    raw = tmp_path / "raw"
    folder = write_year(raw)
    (folder / "police_referrals.csv").unlink()
    header, rows = dataset_rows("police_referrals", 6)
    write_csv(folder / "PPN Q1 2023.csv", header, rows[:2])
    write_csv(folder / "PPN Q2 2023.csv", header, rows[2:])
    config = config_from_text(tmp_path, "sources:\n  police_referrals: {files: 'ppn q? *.CSV'}\n")
    result = clean(raw, tmp_path, config)
    assert len(result.tables["police_referrals"]) == 6
    assert set(result.log.loc[result.log["dataset"] == "police_referrals", "file"]) == {
        "2023-24/PPN Q1 2023.csv",
        "2023-24/PPN Q2 2023.csv",
    }


def test_default_discovery_is_unchanged_without_a_mapping(tmp_path):
    raw = tmp_path / "raw"
    folder = write_year(raw)
    (folder / "notes.txt").write_text("x")
    by_dataset, unrecognised, _ = discover_files(raw, ReportingYear.parse(YEAR), load_contract())
    assert [s.path.name for s in by_dataset["audit_actions"]] == ["audit_actions.csv"]
    assert [p.name for p in unrecognised] == ["notes.txt"]


# ---------------------------------------------------------------------------------------------
# Reading with a mapping


def test_headings_values_dates_words_sheet_and_encoding_from_the_mapping(tmp_path):
    raw = tmp_path / "raw"
    folder = write_year(raw)
    (folder / "police_referrals.csv").unlink()
    (folder / "training_attendance.csv").unlink()
    police = [
        [
            "Occurrence Number",
            "Subject Person ID",
            "Subject Name",
            "PPN Submitted Date",
            "DA Related (Y/N)",
            "DARA Completed",
            "DASH Risk",
            "Name",
        ],
        ["OC1", "C1", "A B", "01-Jun-2023", "Y", "Completed", "Std", "PC Smith"],
        ["OC2", "C2", "C D", "02/06/2023", "N", "", "High risk", "PC Jones"],
        ["OC3", "C3", "E F", "2023-06-03", "Y", "Not completed", "std", "PC Smith"],
    ]
    write_xlsx(folder / "WMP extract.xlsx", {"Notes": [["about this extract"]], "Data": [["title"], [], *police]})
    header, rows = dataset_rows("training_attendance", 2)
    header[header.index("attended")] = "Attendance Status"
    rows[0][header.index("Attendance Status")] = "Attended"
    rows[1][header.index("Attendance Status")] = "Did not attend"
    write_csv(folder / "Bookings.csv", header, rows, encoding="utf-16-le", delimiter="\t")
    text = """
sources:
  police_referrals:
    files: WMP extract.xlsx
    sheet: data
    columns:
      Occurrence Number: police_referral_id
      Subject Person ID: child_id
      PPN Submitted Date: referral_date
      DA Related (Y/N): domestic_abuse
      DARA Completed: dara_submitted
      Name: ~
    values:
      risk_level: {Std: STANDARD, High risk: high}
    date_formats: ["%d-%b-%Y", "%d/%m/%Y"]
    yes_words: Completed
    no_words: [Not  completed]
  training_attendance:
    files: Bookings.csv
    encoding: UTF-16LE
    columns: {Attendance Status: attended}
    yes_words: [Attended]
    no_words: [Did not attend]
"""
    result = clean(raw, tmp_path, config_from_text(tmp_path, text))
    police_table = result.tables["police_referrals"]
    assert list(police_table["referral_date"].dt.strftime("%Y-%m-%d")) == ["2023-06-01", "2023-06-02", "2023-06-03"]
    assert list(police_table["dara_submitted"].astype(object)) == [True, pd.NA, False]
    assert list(police_table["risk_level"]) == ["STANDARD", "HIGH", "STANDARD"]
    assert list(result.tables["training_attendance"]["attended"]) == [True, False]
    log = result.log.set_index("file")
    assert log.loc["2023-24/WMP extract.xlsx", "sheet"] == "Data"
    assert log.loc["2023-24/WMP extract.xlsx", "extra_columns"] == "Name"
    assert log.loc["2023-24/Bookings.csv", "encoding"] == "utf-16-le"
    assert result.rejected.empty


def test_configured_date_formats_replace_the_day_first_spellings():
    values = pd.Series(["04/13/2023", "13/04/2023", "2023-04-13", "45029", ""])
    parsed, reasons = parse_dates(values, ("%m/%d/%Y",))
    assert list(parsed.dt.strftime("%Y-%m-%d").fillna("-")) == ["2023-04-13", "-", "2023-04-13", "2023-04-13", "-"]
    assert list(reasons.fillna("")) == ["", "unparseable date", "", "", ""]


def test_configured_words_override_built_in_ones():
    values = pd.Series(["Y", "1", "0", "Nope"])
    parsed, reasons = parse_bools(values, frozenset({"y", "0"}), frozenset({"1", "nope"}))
    assert list(parsed) == [True, False, True, False]
    assert reasons.isna().all()


def test_header_row_from_the_mapping(tmp_path):
    raw = tmp_path / "raw"
    folder = write_year(raw)
    header, rows = dataset_rows("budget", 2)
    (folder / "budget.csv").write_text(
        "Budget report\n"
        + ",".join(["x"] * len(header))
        + "\n"
        + ",".join(header)
        + "\n"
        + "\n".join(",".join(r) for r in rows)
        + "\n",
        encoding="utf-8",
    )
    config = config_from_text(tmp_path, "sources:\n  budget: {header_row: 3}\n")
    result = clean(raw, tmp_path, config)
    assert len(result.tables["budget"]) == 2
    config = config_from_text(tmp_path, "sources:\n  budget: {header_row: 40}\n")
    with pytest.raises(InputFileError, match=r"budget\.csv: the heading row is set to row 40, but the file is shorter"):
        clean(raw, tmp_path, config)


def test_every_heading_problem_of_a_file_is_listed_at_once_with_the_inspect_hint(tmp_path):
    raw = tmp_path / "raw"
    folder = write_year(raw)
    header, rows = dataset_rows("police_referrals", 2)
    renamed = {
        "child_id": "Subject Person ID",
        "referral_date": "PPN Submitted Date",
        "dara_submitted": "DARA Completed",
    }
    header = [renamed.get(h, h) for h in header] + ["Name"]
    rows = [r + ["PC X"] for r in rows]
    write_csv(folder / "police_referrals.csv", header, rows)
    with pytest.raises(InputFileError) as caught:
        clean(raw, tmp_path, load_config())
    message = str(caught.value)
    assert message.startswith(f"{folder / 'police_referrals.csv'}, row 1: 4 problems with the headings:")
    assert "headings 'child_name' and 'Name' both mean column 'child_name'" in message
    for column in ("child_id", "referral_date", "dara_submitted"):
        assert f"column '{column}': missing required column" in message
    assert message.endswith(f"run `sscp inspect {folder / 'police_referrals.csv'}` for a suggested mapping")
    assert "\n" not in message


# ---------------------------------------------------------------------------------------------
# The chain on renamed exports, configured only


@pytest.mark.slow
def test_renamed_exports_with_only_configuration_give_the_same_metrics(chain_run, tmp_path):
    from sscp_lib.chain.pipeline import run_chain

    raw = tmp_path / "raw"
    written = rename_sample(chain_run.raw, raw)
    contract = load_contract()
    assert not {p.name for p in written} & {f"{ds.file_pattern}.csv" for ds in contract.datasets.values()}
    config = write_config(tmp_path / "config", SOURCES, sources_file="sources.yaml")
    code = run_chain(
        year=CHAIN_YEAR,
        raw=raw,
        processed=tmp_path / "processed",
        reports=tmp_path / "reports",
        config=config,
        pdf=False,
    )
    assert code == 0
    expected = json.loads((chain_run.report / "metrics.json").read_text(encoding="utf-8"))
    got = json.loads((tmp_path / "reports" / CHAIN_YEAR / "metrics.json").read_text(encoding="utf-8"))
    assert_same_metrics(got, expected, extra_files=3)
    manifest = json.loads((tmp_path / "reports" / CHAIN_YEAR / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["source_mapping"]["path"] == str(tmp_path / "config" / "sources.yaml")
    assert len(manifest["source_mapping"]["sha256"]) == 64


def test_the_chain_stops_on_a_bad_mapping_before_any_stage(tmp_path):
    from sscp_lib.chain.pipeline import run_chain

    raw = tmp_path / "raw"
    write_year(raw)
    config = write_config(tmp_path / "config", {"budget": {"columns": {"Budget £": "budget_gbp"}}})
    with pytest.raises(
        UserError, match=r"sources\.budget\.columns\.\"Budget £\": the data contract's budget has no column"
    ):
        run_chain(year=YEAR, raw=raw, processed=tmp_path / "p", reports=tmp_path / "r", config=config, pdf=False)
    assert not (tmp_path / "r").exists()


def assert_same_metrics(got: dict, expected: dict, extra_files: int) -> None:
    """Equal metrics; the police extract is split in two files per year, so `extra_files` more files are read."""
    files = "run.files_read"
    assert got[files]["value"] == expected[files]["value"] + extra_files
    assert {k: v for k, v in got.items() if k != files} == {k: v for k, v in expected.items() if k != files}


def test_a_changed_source_mapping_file_makes_an_approved_run_a_draft_again():
    from sscp_lib.review.approvals import differences, fingerprint

    manifest = {"inputs": {}, "config_sha256": "c" * 64, "narrative_sha256": "d" * 64}
    before = fingerprint(dict(manifest, source_mapping={"path": "config/sources.yaml", "sha256": "a" * 64}))
    after = dict(before, source_mapping={"path": "config/sources.yaml", "sha256": "b" * 64})
    assert differences(before, after) == ["the source mapping changed"]
    assert differences(fingerprint(manifest), fingerprint(dict(manifest, source_mapping=None))) == []
