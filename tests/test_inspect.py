"""`sscp inspect` (issue 12): findings, the mapping it suggests, and that it never prints personal data."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml
from bad_inputs.builders import dataset_rows, write_csv, write_year
from conftest import CANARY_CHILD_ID, CANARY_DOB, CANARY_NAME, YEAR, plant_canary
from renamed_sample import rename_sample
from test_sources import assert_same_metrics, config_from_text, write_config

from sscp_lib.cli import main
from sscp_lib.config import load_config
from sscp_lib.contract import load_contract
from sscp_lib.ingest.inspection import (
    generalise_file_name,
    inspect_path,
    shape,
    suggest_code,
    suggest_date_formats,
    text_likeness,
    yes_no_suggestion,
)
from sscp_lib.ingest.inspection_report import format_block
from sscp_lib.ingest.sources import resolve_sources


def inspect_cli(capsys, *args) -> tuple[int, str, str]:
    code = main(["inspect", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def block_of(output: str) -> str:
    """The mapping block of inspect's output: from the `sources:` line to the next blank line."""
    lines = output.splitlines()
    start = lines.index("sources:")
    end = next((i for i in range(start, len(lines)) if not lines[i].strip()), len(lines))
    return "\n".join(lines[start:end]) + "\n"


def with_hand_written_mapping(block: str, dataset: str) -> str:
    """The pasted block with one dataset's section replaced by the mapping an analyst writes by hand.

    Known weakness, left open on the tracker: for the renamed exports of the three datasets added
    last (early help, suspensions, mental health) inspect's suggestions are not yet fit to paste as
    they are; for the mental health export it puts "SOLAR Ref" and "Council ID" the wrong way round
    (two identifiers of the same shape) and both yes/no words as yes.
    test_inspect_suggestion_for_the_mental_health_export records it; here the analyst corrects them."""
    from renamed_sample import SOURCES

    lines = block.splitlines()
    start = lines.index(f"  {dataset}:")
    end = next(
        (i for i in range(start + 1, len(lines)) if lines[i].startswith("  ") and lines[i][2] != " "), len(lines)
    )
    own = yaml.safe_dump({dataset: SOURCES[dataset]}, allow_unicode=True, sort_keys=False)
    return "\n".join([*lines[:start], *("  " + line for line in own.splitlines()), *lines[end:]]) + "\n"


@pytest.mark.xfail(strict=True, reason="inspect swaps two same-shaped identifiers of the renamed mental health export")
def test_inspect_suggestion_for_the_mental_health_export(chain_run, tmp_path, capsys):
    raw = tmp_path / "raw"
    rename_sample(chain_run.raw, raw)
    code, out, _ = inspect_cli(capsys, raw / YEAR, "--config", write_config(tmp_path / "config"))
    block = block_of(out)
    section = block[block.index("  mental_health_referrals:") :]
    assert '"SOLAR Ref": mh_referral_id' in section and '"Council ID": child_id' in section


@pytest.fixture(scope="module")
def renamed_small(tmp_path_factory):
    """A small sample (one year) with the canary planted, as renamed exports."""
    from sscp_lib.sample.generate import generate_sample

    root = tmp_path_factory.mktemp("inspect")
    generate_sample(out_dir=root / "sample", seed=11, scale=0.05, years=(YEAR,))
    plant_canary(root / "sample" / YEAR)
    rename_sample(root / "sample", root / "raw")
    return root / "raw" / YEAR


# ---------------------------------------------------------------------------------------------
# The renamed exports


def test_inspect_without_a_mapping_takes_each_file_for_its_dataset_and_exits_1(renamed_small, capsys):
    code, out, err = inspect_cli(capsys, renamed_small)
    assert code == 1 and err == ""
    inspection = inspect_path(renamed_small, config=load_config())
    taken = {f.path.name: f.dataset for f in inspection.files}
    assert taken["WMP PPN extract 2023-24 Q1-Q2.csv"] == "police_referrals"
    assert taken["Audit action tracker 2023-24.csv"] == "audit_actions"
    assert taken["CSPR action log 2023-24.csv"] == "review_actions"
    assert set(taken.values()) == set(load_contract().datasets)
    assert not any(f.claimed for f in inspection.files)
    police = next(f for f in inspection.files if f.path.name.startswith("WMP"))
    how = {h.heading: (h.column, h.how) for h in police.headings}
    assert how["Occurrence Number"] == ("police_referral_id", "alias")
    assert how["Subject Person ID"] == ("child_id", "suggested")
    assert police.missing_required == ["child_id", "referral_date", "domestic_abuse", "dara_submitted"]
    assert police.still_missing == []
    risk = next(c for c in police.columns if c.name == "risk_level")
    assert risk.suggested_values == {"Standard risk": "STANDARD", "Medium risk": "MEDIUM", "High risk": "HIGH"}
    date = next(c for c in police.columns if c.name == "referral_date")
    assert date.date_failures == police.rows and date.failure_shapes == [("99-Xxx-9999", police.rows)]
    assert "Subject Person ID             -> child_id  [suggested (0.87)]" not in out  # widths follow the headings
    assert "  Subject Person ID   -> child_id  [suggested (0.87)]" in out
    assert "no code for: 'Standard risk'" in out and "Not ready" in out


@pytest.mark.slow
def test_the_printed_mapping_pasted_into_the_config_makes_the_chain_run(chain_run, tmp_path, capsys):
    """Inspect the renamed 2023-24 folder without a mapping; paste what it prints; the chain runs on all years."""
    from sscp_lib.chain.pipeline import run_chain

    raw = tmp_path / "raw"
    rename_sample(chain_run.raw, raw)
    base = write_config(tmp_path / "config")
    code, out, _ = inspect_cli(capsys, raw / YEAR, "--config", base)
    assert code == 1
    pasted = tmp_path / "config" / "pasted.yaml"
    block = block_of(out)
    for dataset in ("early_help", "suspensions_exclusions", "mental_health_referrals"):
        block = with_hand_written_mapping(block, dataset)
    pasted.write_text(base.read_text(encoding="utf-8") + "\n" + block, encoding="utf-8")
    code, out, _ = inspect_cli(capsys, raw / YEAR, "--config", pasted)
    assert code == 0, out
    assert "Suggested source mapping" not in out
    code = run_chain(
        year=YEAR, raw=raw, processed=tmp_path / "processed", reports=tmp_path / "reports", config=pasted, pdf=False
    )
    assert code == 0
    expected = json.loads((chain_run.report / "metrics.json").read_text(encoding="utf-8"))
    got = json.loads((tmp_path / "reports" / YEAR / "metrics.json").read_text(encoding="utf-8"))
    assert_same_metrics(got, expected, extra_files=3)


def test_with_the_mapping_inspect_is_ready_and_prints_no_block(renamed_small, tmp_path, capsys):
    from renamed_sample import SOURCES

    config = write_config(tmp_path, SOURCES)
    code, out, _ = inspect_cli(capsys, renamed_small, "--config", config)
    assert code == 0, out
    assert out.count("Ready: the clean stage reads this file") == 20
    assert "sources.police_referrals (pattern 'WMP PPN extract *.csv')" in out


def test_a_mapping_without_the_sheet_or_encoding_it_needs_is_not_ready(renamed_small, tmp_path):
    from renamed_sample import SOURCES

    sources = {name: dict(entry) for name, entry in SOURCES.items()}
    del sources["health_referrals"]["sheet"], sources["training_attendance"]["encoding"]
    inspection = inspect_path(renamed_small, config=load_config(write_config(tmp_path, sources)))
    problems = {f.dataset: f.problems for f in inspection.files if f.problems}
    assert set(problems) == {"health_referrals", "training_attendance"} and not inspection.ok
    assert (
        "the data is on sheet 'Referrals', but the clean stage reads the first sheet ('Notes')"
        in problems["health_referrals"][0]
    )
    assert "`encoding: utf-16-le`" in problems["training_attendance"][0]
    assert inspection.block["health_referrals"]["sheet"] == "Referrals"
    assert inspection.block["training_attendance"]["encoding"] == "utf-16-le"
    assert inspection.block["training_attendance"]["files"] == SOURCES["training_attendance"]["files"]


def test_a_partial_mapping_is_completed_not_replaced(renamed_small, tmp_path, capsys):
    config = config_from_text(
        tmp_path,
        "sources:\n  police_referrals:\n    files: 'WMP*.csv'\n    columns: {Subject Person ID: child_id}\n",
    )
    inspection = inspect_path(renamed_small, config=config)
    entry = inspection.block["police_referrals"]
    assert entry["files"] == ["WMP*.csv"]
    assert list(entry["columns"].items())[0] == ("Subject Person ID", "child_id")
    assert entry["columns"]["PPN Submitted Date"] == "referral_date"
    police = [f for f in inspection.files if f.dataset == "police_referrals"]
    assert all(f.claimed for f in police) and len(police) == 2


def test_an_annex_a_workbook_under_another_name_is_recognised_by_its_sheets(tmp_path, capsys):
    from sscp_lib.config import ReportingYear
    from sscp_lib.ingest.clean import clean_year
    from sscp_lib.sample.generate import generate_sample

    raw = tmp_path / "raw"
    generate_sample(out_dir=raw, seed=3, scale=0.02, annex_a=True, years=(YEAR,))
    (raw / YEAR / f"annex_a_{YEAR}.xlsx").rename(raw / YEAR / "Annex A return Solihull 2023-24.xlsx")
    code, out, _ = inspect_cli(capsys, raw / YEAR)
    assert code == 1
    assert "it has every sheet of an annex_a workbook (List 1, List 2, List 3, List 7)" in out
    assert block_of(out) == 'sources:\n  annex_a:\n    files: ["Annex A return Solihull *.xlsx"]\n'
    config = config_from_text(tmp_path, block_of(out))
    code, out, _ = inspect_cli(capsys, raw / YEAR, "--config", config.path)
    assert code == 0, out
    assert "sources.annex_a (one part of the file)" in out
    result = clean_year(ReportingYear.parse(YEAR), raw, tmp_path / "out", config, bytes.fromhex("5e" * 32))
    assert set(result.log.loc[result.log["sheet"].notna(), "sheet"]) == {"List 1", "List 2", "List 3", "List 7"}


def test_a_single_file_with_dataset_given(renamed_small, capsys):
    code, out, _ = inspect_cli(capsys, renamed_small / "Escalation log 2023-24.csv", "--dataset", "escalations")
    assert code == 1
    assert "Taken for: escalations: --dataset escalations" in out
    assert '"Escalated To": escalation_level' in out


def test_a_file_two_mappings_claim_is_reported_not_a_traceback(tmp_path, capsys):
    raw = tmp_path / "raw"
    folder = write_year(raw)
    config = config_from_text(tmp_path, "sources:\n  audits: {files: 'audit*.csv'}\n")
    code, out, err = inspect_cli(capsys, folder / "audit_cases.csv", "--config", config.path)
    assert code == 1 and "Traceback" not in out + err
    assert "audit_cases.csv: two source mappings claim this file: sources.audits ('audit*.csv') and the default" in out


def test_a_bad_mapping_is_one_error_and_exit_2(tmp_path, capsys):
    raw = tmp_path / "raw"
    folder = write_year(raw)
    config = config_from_text(tmp_path, "sources:\n  audits: {colums: {}}\n")
    code, out, err = inspect_cli(capsys, folder, "--config", config.path)
    assert code == 2 and out == ""
    assert err.startswith("sscp: ") and "sources.audits.colums: unknown key" in err and err.count("\n") == 1


def test_the_plain_sample_is_ready_and_other_files_are_only_listed(tmp_path, capsys):
    raw = tmp_path / "raw"
    folder = write_year(raw)
    (folder / "Covering note.pdf").write_bytes(b"%PDF-1.4 not data")
    (folder / "contacts to check.csv").write_text("Worker,Team\nA,B\nC,D\n", encoding="utf-8")
    code, out, _ = inspect_cli(capsys, raw, "--year", YEAR)
    assert code == 0, out
    assert out.count("Ready: the clean stage reads this file") == len(load_contract().datasets)
    assert (
        "Not read by the clean stage (no dataset fits them): 2023-24/Covering note.pdf, 2023-24/contacts to check.csv"
        in out
    )


# ---------------------------------------------------------------------------------------------
# Privacy: counts and shapes only


def _assert_no_canary(text: str) -> None:
    day, month, year = CANARY_DOB.split("/")
    for secret in (
        CANARY_CHILD_ID,
        CANARY_NAME,
        *CANARY_NAME.split(),
        CANARY_DOB,
        f"{year}-{month}-{day}",
        "REF-CANARY",
    ):
        assert secret not in text, secret


def test_inspect_output_never_holds_the_planted_identifier_name_or_dob(renamed_small, tmp_path, capsys):
    from renamed_sample import SOURCES

    referrals = renamed_small / "CSC Referrals 2023-24.csv"
    assert CANARY_CHILD_ID in referrals.read_text(encoding="utf-8")
    _, without, _ = inspect_cli(capsys, renamed_small)
    _, with_mapping, _ = inspect_cli(capsys, renamed_small, "--config", write_config(tmp_path, SOURCES))
    _, one_file, _ = inspect_cli(capsys, referrals, "--dataset", "referrals")
    for output in (without, with_mapping, one_file):
        assert "LCS Person ID" in output
        _assert_no_canary(output)


def test_personal_data_under_a_code_heading_is_shown_as_shapes(tmp_path, capsys):
    """Names and ids in a column whose heading means a code column: unknown 'codes' are not printed."""
    raw = tmp_path / "raw"
    folder = write_year(raw)
    header = ["Child ID", "Category", "Referral Date", "Source", "Outcome", "Notes"]
    rows = [
        [CANARY_CHILD_ID, CANARY_NAME, "01/06/2023", "Police", "Single assessment", f"born {CANARY_DOB}"],
        ["SMBC-000002", "Ada Lovelace", "02/06/2023", "Police", "Single assessment", "x"],
        ["SMBC-000003", "Neglect", CANARY_DOB, "GP", "NFA", "y"],
    ]
    write_csv(folder / "referrals.csv", header, rows)
    code, out, _ = inspect_cli(capsys, folder / "referrals.csv")
    _assert_no_canary(out)
    assert "Xxxxxxx Xxxxxxxxxx (1)" in out and "is the right heading mapped to this column?" in out


def test_a_file_without_a_heading_row_shows_shapes_not_values(tmp_path, capsys):
    raw = tmp_path / "raw"
    folder = write_year(raw)
    header, rows = dataset_rows("referrals", 3)
    rows[0][header.index("child_id")] = CANARY_CHILD_ID
    rows[0][header.index("child_name")] = CANARY_NAME
    rows[0][header.index("date_of_birth")] = CANARY_DOB
    write_csv(folder / "referrals.csv", rows[0], rows[1:])
    code, out, _ = inspect_cli(capsys, folder / "referrals.csv")
    assert code == 1
    _assert_no_canary(out)
    assert "the heading row looks like data" in out
    assert "XXXX-XXXXXX-999999" in out


# ---------------------------------------------------------------------------------------------
# Pieces


def test_shapes_mask_letters_and_digits():
    assert shape("SMBC-CANARY-918273") == "XXXX-XXXXXX-999999"
    assert shape("Zoë O'Brien") == "Xxx X'Xxxxx"
    assert len(shape("x" * 100)) == 25


@pytest.mark.parametrize(
    "name, pattern",
    [
        ("WMP PPN extract 2023-24.csv", "WMP PPN extract *.csv"),
        ("Referrals Q1 2023-24.xlsx", "Referrals Q*.xlsx"),
        ("contacts_20240401.csv", "contacts_*.csv"),
        ("Budget.csv", "Budget.csv"),
    ],
)
def test_file_names_generalise_over_years_and_quarters(name, pattern):
    assert generalise_file_name(name) == pattern


def test_heading_likeness_reads_initials_and_word_endings():
    assert text_likeness("DA Factor", "domestic abuse factor") == 1.0
    assert text_likeness("CP Start Date", "child protection plan start date") > 0.8
    assert text_likeness("Escalated To", "escalation level") >= 0.6
    assert text_likeness("Subject Name", "risk") == 0.0


def test_yes_no_words_split_by_negation():
    assert yes_no_suggestion(["Attended", "Did not attend"]) == (["Attended"], ["Did not attend"])
    assert yes_no_suggestion(["Complete", "Incomplete"]) == (["Complete"], ["Incomplete"])
    assert yes_no_suggestion(["Present", "Apologies", "DNA"]) == (["Present"], ["Apologies", "DNA"])


def test_code_suggestions_need_one_clear_winner():
    column = load_contract().dataset("referrals").column("referral_outcome")
    assert suggest_code("Strategy / S47", column, load_contract()) == "S47"
    assert suggest_code("Ada Lovelace", column, load_contract()) is None


def test_suggested_date_formats_keep_the_day_first_spellings_in_use():
    from sscp_lib.ingest.sources import default_spec

    spec = default_spec(load_contract().dataset("referrals"))
    formats, left = suggest_date_formats({"01-Apr-2023": 3, "junk": 1}, ["02/04/2023", "2023-04-03"], spec)
    assert formats == ["%d/%m/%Y", "%d-%b-%Y"] and left == 1


def test_the_block_is_yaml_that_validates(renamed_small, tmp_path):
    inspection = inspect_path(renamed_small, config=load_config())
    text = format_block(inspection)
    parsed = yaml.safe_load(text)
    assert set(parsed["sources"]) == set(load_contract().datasets)
    config = config_from_text(tmp_path, text)
    resolve_sources(load_contract(), config)
    assert parsed["sources"]["training_attendance"]["encoding"] == "utf-16-le"
    assert parsed["sources"]["health_referrals"]["sheet"] == "Referrals"
    assert pd.Series(parsed["sources"]["police_referrals"]["date_formats"]).tolist() == ["%d-%b-%Y"]


def _annex_a_list_3(path, count_heading: str) -> None:
    """An Annex A workbook (Lists 1, 2, 3 and 7) whose List 3 has a count column under `count_heading`."""
    from bad_inputs.builders import write_xlsx

    title = [["Annex A"], []]
    referrals = [
        ["C1", "02/05/2023", "6", "No", 0],
        ["C2", "03/05/2023", "9", "Yes", 1],
        ["C1", "04/09/2023", "6", "No", 1],
    ]
    plan_heading = ["Child Unique ID", "Child Protection Plan Start Date", "Initial Category of Abuse"]
    write_xlsx(
        path,
        {
            "List 1": title + [["Child Unique ID", "Date of Contact", "Contact Source"], ["C1", "01/05/2023", "6"]],
            "List 2": title
            + [
                [
                    "Child Unique ID",
                    "Assessment start date",
                    "Assessment completion date",
                    "Organisation completing assessment",
                ]
            ]
            + [["C1", "10/05/2023", "01/06/2023", "School"]],
            "List 3": title
            + [["Child Unique ID", "Date of referral", "Referral Source", "Referral NFA?", count_heading]]
            + referrals * 4,
            "List 7": title
            + [[*plan_heading, "Number of Previous Child Protection Plans"], ["C1", "01/06/2023", "a) Neglect", 1]],
        },
    )


def test_a_count_is_never_suggested_as_an_identifier_under_ready(tmp_path, capsys):
    """A heading that reads like a referral id but holds a count (a partner's own Annex A layout): the file is
    Ready and nothing is suggested for an identifier (optional ids are derived when absent)."""
    path = tmp_path / "annex_a_2023-24.xlsx"
    _annex_a_list_3(path, "Referral Number Count")
    code, out, _ = inspect_cli(capsys, path, "--year", YEAR)
    section = out.split("[List 3]")[1].split("\n\n")[0]
    assert "Ready: the clean stage reads this file" in section
    assert "referral_id" not in section  # a count is at most suggested as the count column
    assert "Referral Number Count  -> referrals_last_12_months  [suggested" in section


def test_annex_a_list_3_and_list_7_counts_are_read_as_optional_columns(tmp_path, capsys):
    path = tmp_path / "annex_a_2023-24.xlsx"
    _annex_a_list_3(path, "Number of Referrals in Last 12 Months")
    code, out, _ = inspect_cli(capsys, path, "--year", YEAR)
    assert "Number of Referrals in Last 12 Months  -> referrals_last_12_months  [Annex A heading]" in out
    annex = load_contract().dataset("cp_plans").annex_a
    assert annex["columns"]["Number of Previous Child Protection Plans"] == "previous_cp_plans"


def test_sscp_sample_annex_a_writes_the_counts_the_councils_system_keeps(tmp_path):
    from sscp_lib.sample.generate import generate_sample

    years = ("2022-23", "2023-24")
    generate_sample(out_dir=tmp_path, seed=5, scale=0.3, years=years, annex_a=True)
    book = tmp_path / YEAR / f"annex_a_{YEAR}.xlsx"
    referrals = pd.read_excel(book, sheet_name="List 3", header=2, engine="openpyxl")
    plans = pd.read_excel(book, sheet_name="List 7", header=2, engine="openpyxl")
    counts = referrals["Number of Referrals in Last 12 Months"]
    assert counts.min() == 0 and counts.max() >= 1  # re-referrals happen, and they are counted
    assert (plans["Number of Previous Child Protection Plans"] >= 0).all()
    # A child's count: their referrals in the 365 days before (this year's file and last year's).
    earlier = pd.read_excel(
        tmp_path / "2022-23" / "annex_a_2022-23.xlsx", sheet_name="List 3", header=2, engine="openpyxl"
    )
    both = pd.concat([earlier, referrals], ignore_index=True)
    both["date"] = pd.to_datetime(both["Date of referral"])
    row = referrals.loc[counts.idxmax()]
    day = pd.Timestamp(row["Date of referral"])
    same = both[(both["Child Unique ID"] == row["Child Unique ID"]) & (both["date"] < day)]
    assert (same["date"] >= day - pd.Timedelta(days=365)).sum() == row["Number of Referrals in Last 12 Months"]
