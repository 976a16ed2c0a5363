"""The clean stage: headings, types, rejections, duplicates, rules, pseudonyms, outputs."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from bad_inputs.builders import YEAR, dataset_rows, write_csv, write_xlsx, write_year
from hypothesis import given, settings
from hypothesis import strategies as st

from sscp_lib.config import ReportingYear, load_config
from sscp_lib.contract import load_contract
from sscp_lib.errors import InputFileError, UserError
from sscp_lib.ingest.clean import (
    REASON_AFTER_YEAR,
    clean_year,
    normalise_code,
    parse_date_values,
    reporting_year_labels,
)
from sscp_lib.ingest.pseudonymise import pseudonymise
from sscp_lib.metrics import MetricStore
from sscp_lib.stages import clean as clean_stage

KEY = bytes.fromhex("5e" * 32)
CONFIG = load_config()
CONTRACT = load_contract()


def run(raw, out=None):
    return clean_year(ReportingYear.parse(YEAR), raw, out or raw.parent / "clean", CONFIG, KEY)


def referrals(
    folder,
    rows,
    header=("Referral Ref", "CHILD UNIQUE ID", "date of referral", "Source", "Outcome", "Category", "DA flag"),
):
    write_csv(folder / "referrals.csv", list(header), [list(r) for r in rows])


def log_row(result, file):
    return result.log.set_index("file").loc[file]


# --- headings and files ------------------------------------------------------------------------


def test_headings_by_alias_in_any_case_and_extra_columns_listed(tmp_path):
    folder = write_year(tmp_path / "raw")
    write_csv(
        folder / "referrals.csv",
        ["REFERRAL REF", "child ref", "Date_Of_Referral", "source of referral", "Outcome", "Notes", "Worker"],
        [["R1", "C1", "01/05/2023", "Police", "Single assessment", "x", "y"]],
    )
    result = run(tmp_path / "raw")
    row = result.tables["referrals"].iloc[0]
    assert row["referral_source"] == "6" and row["referral_outcome"] == "ASSESSMENT"
    assert pd.isna(row["abuse_category"]) and pd.isna(row["domestic_abuse"])
    assert log_row(result, "2023-24/referrals.csv")["extra_columns"] == "Notes, Worker"
    assert list(result.extra_columns()["file"]) == ["2023-24/referrals.csv"]


def test_missing_required_column_names_file_and_column(tmp_path):
    folder = write_year(tmp_path / "raw")
    write_csv(folder / "referrals.csv", ["child_id", "referral_date", "referral_source"], [["C1", "01/05/2023", "6"]])
    with pytest.raises(InputFileError, match=r"referrals\.csv, column 'referral_outcome': missing required column"):
        run(tmp_path / "raw")


def test_two_headings_for_one_column_is_an_error(tmp_path):
    folder = write_year(tmp_path / "raw")
    write_csv(
        folder / "budget.csv",
        ["financial_year_end", "line", "budget_line", "type", "budget", "actual"],
        [["31/03/2024", "a", "b", "INCOME", "1", "1"]],
    )
    with pytest.raises(InputFileError, match="both mean column 'budget_line'"):
        run(tmp_path / "raw")


def test_missing_dataset_file_for_the_year_names_dataset_and_pattern(tmp_path):
    write_year(tmp_path / "raw", skip=("escalations", "audits"))
    with pytest.raises(UserError, match=r"audits \(a file named audits\*.*escalations \(a file named escalations\*"):
        run(tmp_path / "raw")


def test_missing_year_folder_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="no raw data folder for 2023-24"):
        run(tmp_path / "raw")


def test_earlier_years_are_read_later_years_ignored_and_files_matched_by_pattern(tmp_path):
    raw = tmp_path / "raw"
    write_year(raw)
    earlier = raw / "2022-23"
    header, rows = dataset_rows("audits", 2)
    for r in rows:
        r[header.index("audit_date")] = "10/10/2022"
    write_csv(earlier / "audits_2022-23_export.csv", header, rows)
    write_year(raw, "2024-25")  # a later year: not read for 2023-24
    (raw / YEAR / "notes.docx").write_bytes(b"x")
    result = run(raw)
    assert sorted(result.tables["audits"]["reporting_year"]) == ["2022-23", "2022-23"] + ["2023-24"] * 3
    assert not result.log["file"].str.startswith("2024-25").any()
    assert log_row(result, "2022-23/audits_2022-23_export.csv")["rows_kept"] == 2
    assert result.unrecognised_files == ["2023-24/notes.docx"]
    # 'audit_cases' and 'audit_actions' do not swallow each other's or 'audits' files
    assert set(result.log.loc[result.log["dataset"] == "audits", "file"]) == {
        "2022-23/audits_2022-23_export.csv",
        "2023-24/audits.csv",
    }


# --- types and rejections ----------------------------------------------------------------------


def test_values_parsed_to_contract_types(tmp_path):
    folder = write_year(tmp_path / "raw")
    referrals(
        folder,
        [
            ["R1", "C1", "2023-05-01", "6", "ASSESSMENT", "Neglect", "Yes"],
            ["R2", "C2", "2/5/23", "3A: Health services - GP", "section 47", "a) Neglect", "n"],
            ["R3", "C3", "45049", "u) 10: Unknown", "a&i", "", "TRUE"],
            ["R4", "C4", "04/05/2023 10:15", "school", "Early help", "Emotional", "0"],
            ["R5", "C5", "2023-05-05T09:00:00", "anonymous", "NFA", "MUL", ""],
        ],
    )
    write_csv(
        folder / "communications.csv",
        ["item_id", "type", "title", "date", "opens", "clicks"],
        [["N1", "Newsletter", "Spring", "01/05/2023", "1,204", ""]],
    )
    write_csv(
        folder / "budget.csv",
        ["year end", "line", "type", "budget", "actual"],
        [["31/03/2024", "Hub", "EXPENDITURE", "£12,500.50", "12000"]],
    )
    result = run(tmp_path / "raw")
    table = result.tables["referrals"]
    assert table["referral_date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2023-05-01",
        "2023-05-02",
        "2023-05-03",
        "2023-05-04",
        "2023-05-05",
    ]
    assert table["referral_source"].tolist() == ["6", "3A", "10", "2A", "9"]
    assert table["referral_source_group"].tolist() == ["POLICE", "HEALTH", "UNKNOWN", "EDUCATION", "OTHER"]
    assert table["referral_outcome"].tolist() == ["ASSESSMENT", "S47", "ADVICE_INFO", "EARLY_HELP", "NFA"]
    assert table["abuse_category"].tolist()[:2] == ["NEG", "NEG"] and pd.isna(table["abuse_category"].iloc[2])
    assert table["abuse_category_retired"].tolist()[-1] is True
    assert table["domestic_abuse"].tolist()[:4] == [True, False, True, False] and pd.isna(
        table["domestic_abuse"].iloc[4]
    )
    comms = result.tables["communications"]
    assert comms["opens"].iloc[0] == 1204 and pd.isna(comms["campaign_clicks"].iloc[0])
    budget = result.tables["budget"]
    assert budget["budget_amount"].iloc[0] == 12500.5 and budget["actual_amount"].iloc[0] == 12000.0


def test_rejected_rows_carry_file_row_column_reason_and_no_identifiers(tmp_path):
    folder = write_year(tmp_path / "raw")
    referrals(
        folder,
        [
            ["R1", "SECRET-C1", "31/02/2023", "6", "ASSESSMENT", "", ""],  # row 2: impossible date
            ["R2", "SECRET-C2", "01/05/2023", "99", "ASSESSMENT", "", ""],  # row 3: unknown code
            ["R3", "", "01/05/2023", "6", "ASSESSMENT", "", ""],  # row 4: child id empty
            ["R4", "SECRET-C4", "01/04/2024", "6", "ASSESSMENT", "", ""],  # row 5: after the year end
            ["R5", "SECRET-C5", "01/05/2023", "6", "ASSESSMENT", "", "maybe"],  # row 6: not yes/no
            ["R6", "SECRET-C6", "01/05/1850", "6", "ASSESSMENT", "", ""],  # row 7: implausible
            ["R7", "SECRET-C7", "01/05/2023", "6", "ASSESSMENT", "", ""],  # row 8: fine
        ],
    )
    result = run(tmp_path / "raw")
    rejected = result.rejected[result.rejected["dataset"] == "referrals"].set_index("row")
    assert rejected.loc[2, "reason"] == "unparseable date" and rejected.loc[2, "column"] == "referral_date"
    assert rejected.loc[2, "value"] == "31/02/2023"
    assert (rejected.loc[3, "reason"], rejected.loc[3, "value"]) == ("unknown code", "99")
    assert (rejected.loc[4, "column"], rejected.loc[4, "reason"]) == ("child_id", "required value empty")
    assert rejected.loc[5, "reason"] == REASON_AFTER_YEAR == "date after the end of the reporting year"
    assert rejected.loc[6, "reason"] == "not a yes/no value"
    assert rejected.loc[7, "reason"].startswith("implausible date")
    assert set(rejected["file"]) == {"2023-24/referrals.csv"}
    assert len(result.tables["referrals"]) == 1
    stored = pd.read_parquet(tmp_path / "clean" / "rejected.parquet")
    assert "SECRET" not in stored.astype(str).to_csv() and "R1" not in stored["value"].astype(str).tolist()
    row = log_row(result, "2023-24/referrals.csv")
    assert (row["rows_read"], row["rows_kept"], row["rows_rejected"]) == (7, 1, 6)


def test_numeric_ranges_and_whole_numbers(tmp_path):
    folder = write_year(tmp_path / "raw")
    header, rows = dataset_rows("audits", 4)
    at = header.index("cases_audited")
    rows[0][at], rows[1][at], rows[2][at], rows[3][at] = "-1", "501", "2.5", "many"
    write_csv(folder / "audits.csv", header, rows)
    result = run(tmp_path / "raw")
    reasons = result.rejected.loc[result.rejected["dataset"] == "audits", "reason"].tolist()
    assert reasons == ["below the minimum of 0", "above the maximum of 500", "not a whole number", "not a whole number"]


def test_exact_duplicates_removed_and_counted_duplicate_keys_kept(tmp_path):
    folder = write_year(tmp_path / "raw")
    referrals(
        folder,
        [
            ["R1", "C1", "01/05/2023", "6", "ASSESSMENT", "", "Y"],
            ["R1", "c1", "2023-05-01", "Police", "assessment", "", "yes"],  # same record, other spellings
            ["R1", "C1", "02/05/2023", "6", "ASSESSMENT", "", "Y"],  # same key, different row
        ],
    )
    result = run(tmp_path / "raw")
    assert len(result.tables["referrals"]) == 2
    assert result.tables["referrals"]["referral_pid"].nunique() == 1  # validation quarantines it
    row = log_row(result, "2023-24/referrals.csv")
    assert (row["rows_read"], row["rows_kept"], row["duplicates_removed"]) == (3, 2, 1)


def test_a_record_repeated_in_the_next_years_export_is_a_duplicate_of_the_later_file(tmp_path):
    raw = tmp_path / "raw"
    write_year(raw)
    header, rows = dataset_rows("escalations", 3)
    write_csv(raw / "2022-23" / "escalations.csv", header, rows[:1])
    result = run(raw)
    assert log_row(result, "2023-24/escalations.csv")["duplicates_removed"] == 1
    assert log_row(result, "2022-23/escalations.csv")["rows_kept"] == 1
    assert len(result.tables["escalations"]) == 3


# --- rules and derived columns -----------------------------------------------------------------


def test_nfa_recoded_to_advice_info_from_the_changeover_date(tmp_path):
    changeover = CONFIG.data_rule_date("nfa_changeover_date")
    assert changeover == date(2023, 9, 1)
    folder = write_year(tmp_path / "raw")
    referrals(
        folder,
        [
            ["R1", "C1", "31/08/2023", "6", "NFA", "", ""],
            ["R2", "C2", "01/09/2023", "6", "No further action", "", ""],
            ["R3", "C3", "02/09/2023", "6", "ASSESSMENT", "", ""],
        ],
    )
    result = run(tmp_path / "raw")
    table = result.tables["referrals"].sort_values("referral_date")
    assert table["referral_outcome"].tolist() == ["NFA", "ADVICE_INFO", "ASSESSMENT"]
    assert table["referral_outcome_original"].tolist() == ["NFA", "NFA", "ASSESSMENT"]
    assert table["referral_outcome_retired"].tolist() == [True, False, False]
    assert result.nfa_recoded == 1


def test_processed_tables_have_exactly_the_contract_schema_and_no_raw_identifiers(tmp_path):
    write_year(tmp_path / "raw")
    result = run(tmp_path / "raw")
    raw_ids = set()
    for name, dataset in CONTRACT.datasets.items():
        table = pd.read_parquet(tmp_path / "clean" / f"{name}.parquet")
        schema = CONTRACT.processed_schema(dataset)
        assert list(table.columns) == list(schema), name
        assert {c: str(t) for c, t in table.dtypes.items()} == schema, name
        header, rows = dataset_rows(name)
        raw_ids |= {row[i] for row in rows for i, h in enumerate(header) if dataset.column(h).role is not None}
    text = "".join(pd.read_parquet(p).astype(str).to_csv() for p in (tmp_path / "clean").glob("*.parquet"))
    assert not [v for v in raw_ids if v in text]
    assert not list((tmp_path / "clean").glob(".*tmp"))
    assert {p.name for p in result.written} >= {"clean_log.parquet", "rejected.parquet", "referrals.parquet"}


def test_child_pseudonym_links_across_datasets_and_years(tmp_path):
    raw = tmp_path / "raw"
    folder = write_year(raw)
    referrals(folder, [["R1", "C77", "01/05/2023", "6", "ASSESSMENT", "", ""]])
    header, rows = dataset_rows("cp_plans", 1)
    rows[0][header.index("child_id")] = " c77 "
    rows[0][header.index("cp_plan_start_date")] = "01/06/2022"
    write_csv(raw / "2022-23" / "cp_plans.csv", header, rows)
    result = run(raw)
    expected = pseudonymise(pd.Series(["C77"]), KEY, "child_pid").iloc[0]
    assert result.tables["referrals"]["child_pid"].iloc[0] == expected
    assert expected in set(result.tables["cp_plans"]["child_pid"])


def test_record_ids_derived_when_absent_are_stable_and_distinct(tmp_path):
    folder = write_year(tmp_path / "raw")
    rows = [["C1", "01/05/2023", "6"], ["C1", "01/05/2023", "9"], ["C2", "01/05/2023", "6"]]
    write_csv(folder / "mash_contacts.csv", ["child_id", "contact_date", "contact_source"], rows)
    first = run(tmp_path / "raw").tables["mash_contacts"]
    again = run(tmp_path / "raw", tmp_path / "again").tables["mash_contacts"]
    assert first["contact_pid"].notna().all() and first["contact_pid"].nunique() == 3
    pd.testing.assert_frame_equal(first, again)


def test_reporting_year_labels():
    dates = pd.Series(pd.to_datetime(["2023-03-31", "2023-04-01", "2024-03-31", None])).astype("datetime64[ms]")
    assert reporting_year_labels(dates).tolist()[:3] == ["2022-23", "2023-24", "2023-24"]
    assert pd.isna(reporting_year_labels(dates).iloc[3])


def test_annex_a_and_csv_give_the_same_canonical_tables(tmp_path):
    contacts = [("C1", date(2023, 5, 1), "6", "f) 6: Police"), ("C2", date(2023, 6, 2), "10", "u) 10: Unknown")]
    refs = [
        ("C1", date(2023, 5, 3), "6", "NFA", "Yes"),
        ("C2", date(2023, 10, 4), "3A", "NFA", "y"),
        ("C3", date(2023, 11, 5), "9", "FURTHER_ACTION", "No"),
    ]
    plans = [("C1", date(2023, 7, 1), None, "NEG", "a) Neglect", "PHY", "b) Physical abuse")]
    csv_raw, annex_raw = tmp_path / "csv", tmp_path / "annex"
    skip = ("mash_contacts", "referrals", "cp_plans")
    csv_folder, annex_folder = write_year(csv_raw, skip=skip), write_year(annex_raw, skip=skip)
    write_csv(
        csv_folder / "mash_contacts.csv",
        ["Child ID", "Contact Date", "Contact Source"],
        [[c, d.strftime("%d/%m/%Y"), s] for c, d, s, _ in contacts],
    )
    write_csv(
        csv_folder / "referrals.csv",
        ["child_id", "referral_date", "referral_source", "referral_outcome"],
        [[c, d.isoformat(), s, o] for c, d, s, o, _ in refs],
    )
    write_csv(
        csv_folder / "cp_plans.csv",
        ["child_id", "start date", "end date", "initial_category", "latest_category"],
        [[c, d.strftime("%d/%m/%Y"), "", i, l] for c, d, _, i, _, l, _ in plans],
    )
    title = [["Annex A - children's social care data"], ["Period 01/04/2023 to 31/03/2024"], []]
    write_xlsx(
        annex_folder / "annex_a_2023-24.xlsx",
        {
            "List 1": title
            + [["Child Unique ID", "Gender", "Date of Birth", "Date of Contact", "Contact Source"]]
            + [[c, "a) Male", date(2015, 1, 1), d, a] for c, d, _, a in contacts],
            "List 3": title
            + [["Child Unique ID", "Date of Birth", "Date of referral", "Referral Source", "Referral NFA?"]]
            + [[c, None, d, s, yn] for c, d, s, _, yn in refs],
            "List 2": title  # early help: required in a workbook; it supersedes the year's early_help file
            + [
                [
                    "Child Unique ID",
                    "Assessment start date",
                    "Assessment completion date",
                    "Organisation completing assessment",
                ]
            ]
            + [["C1", date(2023, 5, 10), date(2023, 6, 1), "School"]],
            "List 7": title
            + [
                [
                    "Child Unique ID",
                    "Child Protection Plan Start Date",
                    "Child Protection Plan End Date",
                    "Initial Category of Abuse",
                    "Latest Category of Abuse",
                ]
            ]
            + [[c, d, e, ia, la] for c, d, e, _, ia, _, la in plans],
        },
    )
    # A CSV left beside the workbook is superseded by it, not double counted.
    write_csv(
        annex_folder / "referrals.csv",
        ["child_id", "referral_date", "referral_source", "referral_outcome"],
        [["C9", "01/05/2023", "6", "S47"]],
    )
    from_csv = run(csv_raw, tmp_path / "out_csv")
    from_annex = run(annex_raw, tmp_path / "out_annex")
    for name in skip:
        pd.testing.assert_frame_equal(from_csv.tables[name], from_annex.tables[name], check_exact=True)
    assert from_annex.tables["referrals"]["referral_outcome"].tolist() == ["NFA", "ADVICE_INFO", "FURTHER_ACTION"]
    assert sorted(from_annex.superseded_files) == ["2023-24/early_help.csv", "2023-24/referrals.csv"]
    annex_log = from_annex.log[from_annex.log["file"] == "2023-24/annex_a_2023-24.xlsx"]
    # The lists in the contract's order of datasets (early help was added last).
    assert annex_log["sheet"].tolist() == ["List 1", "List 3", "List 7", "List 2"]
    assert annex_log["extra_columns"].tolist()[0] == "Gender"


# --- log, marker, metrics ----------------------------------------------------------------------


def test_clean_log_reconciles_and_metrics_are_complete(tmp_path):
    raw = tmp_path / "raw"
    folder = write_year(raw, sample=True)
    referrals(
        folder,
        [
            ["R1", "C1", "01/10/2023", "6", "NFA", "", ""],
            ["R1", "C1", "01/10/2023", "6", "NFA", "", ""],
            ["R2", "C2", "xx", "6", "NFA", "", ""],
        ],
    )
    result = run(raw)
    log = pd.read_parquet(tmp_path / "clean" / "clean_log.parquet")
    assert (log["rows_read"] == log["rows_kept"] + log["duplicates_removed"] + log["rows_rejected"]).all()
    assert result.synthetic is True
    store = MetricStore(CONFIG.suppression_threshold).add_all(clean_stage.metric_values(result))
    values = {name: entry["value"] for name, entry in store.metrics.items()}
    assert values["run.synthetic"] is True and values["run.files_read"] == 19
    assert values["run.rows_read"] == 18 * 3 + 3 and values["run.rows_rejected"] == 1
    assert values["run.duplicates_removed"] == 1
    assert values["data.nfa_recoded"] == "c"  # a child-level count of 1 is suppressed
    assert result.nfa_recoded == 1


def test_no_sample_marker_means_not_synthetic(tmp_path):
    write_year(tmp_path / "raw")
    assert run(tmp_path / "raw").synthetic is False


# --- properties --------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    st.dates(min_value=date(1930, 1, 1), max_value=date(2099, 12, 31)),
    st.sampled_from(
        ["%Y-%m-%d", "%d/%m/%Y", "%-d/%-m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%dT00:00:00", "serial", "%d/%m/%y"]
    ),
)
def test_every_supported_date_spelling_parses_to_the_same_day(day, spelling):
    if spelling == "serial":
        text = str((day - date(1899, 12, 30)).days)
    elif spelling == "%d/%m/%y":
        if not 1970 <= day.year <= 2069:
            return
        text = day.strftime(spelling)
    else:
        text = day.strftime(spelling)
    parsed = parse_date_values(pd.Series([text]))
    assert parsed.iloc[0].date() == day


@given(st.text(max_size=12))
def test_date_parser_never_raises_and_returns_dates_or_missing(text):
    result = parse_date_values(pd.Series([text]))
    assert str(result.dtype) == "datetime64[ms]" and len(result) == 1


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(CONTRACT.code_lists)), st.data())
def test_code_normalisation_accepts_code_label_and_annex_a_spellings(list_name, data):
    codes = CONTRACT.code_lists[list_name]
    lookup = codes.lookup()
    code = data.draw(st.sampled_from(sorted(codes.codes)))
    label = codes.codes[code]
    letter = data.draw(st.sampled_from("abcdefghijklmnopqrstuv"))
    spelling = data.draw(
        st.sampled_from(
            [
                code,
                code.lower(),
                label,
                label.upper(),
                f"  {label}  ",
                f"{letter}) {label}",
                f"{letter}) {code}: {label}",
                f"{code}: {label}",
            ]
        )
    )
    assert normalise_code(spelling, lookup) == code


@given(st.text(alphabet="xyzXYZ#@~ ", min_size=1, max_size=10))
def test_unknown_spellings_are_not_codes(text):
    assert normalise_code(text, CONTRACT.code_lists["abuse_category"].lookup()) is None


def test_duplicate_rows_agree_with_pandas():
    """Duplicates found by sorting mark the same rows as DataFrame.duplicated(keep="first")."""
    import numpy as np

    from sscp_lib.ingest.clean import duplicate_rows

    rng = np.random.default_rng(20240331)
    for _ in range(100):
        n = int(rng.integers(0, 40))

        def pick(values, n=n):
            return [values[i] for i in rng.integers(0, len(values), n)]

        frame = pd.DataFrame(
            {
                "text": pd.Series(pick(["a", "b", None, ""]), dtype="string"),
                "date": pd.Series(pick([pd.Timestamp("2023-01-01"), pd.NaT]), dtype="datetime64[ms]"),
                "whole": pd.Series(pick([1, 2, None]), dtype="Int64"),
                "number": pd.Series(pick([1.5, None]), dtype="Float64"),
                "flag": pd.Series(pick([True, False, None]), dtype="boolean"),
                "nan": pd.Series(pick([1.0, np.nan]), dtype="float64"),
            }
        )
        columns = list(rng.permutation(frame.columns)[: int(rng.integers(1, 7))])
        expected = frame[columns].duplicated(keep="first").to_numpy()
        assert (duplicate_rows(frame[columns]) == expected).all(), columns


# --- two processes at scale ----------------------------------------------------------------------


def _sample_raw(tmp_path):
    from sscp_lib.sample.generate import generate_sample

    generate_sample(out_dir=tmp_path / "raw", seed=7, scale=0.2)
    return tmp_path / "raw"


def test_a_second_process_cleans_to_the_same_tables_and_log(tmp_path, monkeypatch):
    import sscp_lib.ingest.clean as clean

    raw = _sample_raw(tmp_path)
    alone = run(raw, tmp_path / "alone")
    monkeypatch.setattr(clean, "SECOND_PROCESS_FROM_BYTES", 0)
    here, there = clean.dataset_lanes(clean.discover_files(raw, ReportingYear.parse(YEAR), CONTRACT)[0])
    assert here and there and "mash_contacts" in here  # the largest stays in the stage's process
    shared = run(raw, tmp_path / "shared")
    assert list(shared.tables) == list(alone.tables)
    for name, table in alone.tables.items():
        pd.testing.assert_frame_equal(shared.tables[name], table, check_exact=True)
    pd.testing.assert_frame_equal(shared.log, alone.log)
    pd.testing.assert_frame_equal(shared.rejected, alone.rejected)
    assert shared.nfa_recoded == alone.nfa_recoded
    for name in alone.tables:
        assert (tmp_path / "shared" / f"{name}.parquet").read_bytes() == (
            tmp_path / "alone" / f"{name}.parquet"
        ).read_bytes()


def test_a_bad_file_in_the_second_process_is_the_same_one_line_message(tmp_path, monkeypatch):
    import sscp_lib.ingest.clean as clean

    raw = _sample_raw(tmp_path)
    monkeypatch.setattr(clean, "dataset_lanes", lambda by: ([n for n in by if n != "referrals"], ["referrals"]))
    referrals(raw / YEAR, [("R1", "C1")], header=("Referral Ref", "CHILD UNIQUE ID"))
    with pytest.raises(InputFileError) as raised:
        run(raw)
    alone = str(raised.value)
    assert "referrals.csv, row 1: 3 problems with the headings: (1) column 'referral_date'" in alone
    assert raised.value.path.name == "referrals.csv" and not getattr(raised.value, "__notes__", None)
    monkeypatch.undo()
    with pytest.raises(InputFileError) as in_one_process:
        run(raw)
    assert str(in_one_process.value) == alone


def test_datasets_read_from_one_workbook_share_a_lane(tmp_path, monkeypatch):
    import sscp_lib.ingest.clean as clean
    from sscp_lib.sample.generate import generate_sample

    generate_sample(out_dir=tmp_path / "annex", seed=7, scale=0.2, annex_a=True)
    monkeypatch.setattr(clean, "SECOND_PROCESS_FROM_BYTES", 0)
    by_dataset = clean.discover_files(tmp_path / "annex", ReportingYear.parse(YEAR), CONTRACT)[0]
    here, there = clean.dataset_lanes(by_dataset)
    from_annex = {n for n, found in by_dataset.items() if any(s.annex_a for s in found)}
    assert here and there and from_annex and (from_annex <= set(here) or from_annex <= set(there))


def test_files_too_small_for_a_second_process_stay_in_one_lane(tmp_path):
    import sscp_lib.ingest.clean as clean

    by_dataset = clean.discover_files(_sample_raw(tmp_path), ReportingYear.parse(YEAR), CONTRACT)[0]
    assert clean.dataset_lanes(by_dataset) == (list(by_dataset), [])


@pytest.mark.parametrize("bad_lane", ["stage's process", "second process"])
def test_a_failed_clean_leaves_the_last_runs_tables_as_they_were(tmp_path, monkeypatch, bad_lane):
    """Tables are written as they are cleaned, but into a staging folder: out_dir changes only
    when every dataset is clean."""
    import sscp_lib.ingest.clean as clean

    raw = _sample_raw(tmp_path)
    out = tmp_path / "out"
    run(raw, out)
    before = {p.name: (p.stat().st_ino, p.read_bytes()) for p in out.iterdir()}  # a rewrite is a new inode
    referral_lane = ["referrals"] if bad_lane == "second process" else []
    monkeypatch.setattr(
        clean,
        "dataset_lanes",
        lambda by: ([n for n in by if n not in referral_lane], referral_lane),
    )
    # A good table written before the bad file is reached: mash_contacts comes first in both lanes' order.
    referrals(raw / YEAR, [("R1", "C1")], header=("Referral Ref", "CHILD UNIQUE ID"))
    with pytest.raises(InputFileError):
        run(raw, out)
    assert {p.name: (p.stat().st_ino, p.read_bytes()) for p in out.iterdir()} == before


def test_an_annex_a_workbook_gives_lists_1_2_3_and_7_with_exact_counts(tmp_path):
    """A workbook as councils fill Ofsted's template (title rows, the extra columns Ofsted asks for,
    lettered codes, a blank row at the end): each list becomes its dataset row for row, and the
    council's separate files for those four datasets that year are not read."""
    title = [["Annex A: children's social care data return"], ["Local authority: Solihull"], [None]]
    extra = ["Gender", "Ethnicity", "Age of Child (Years)", "Allocated Team", "LA"]
    person = ["a) Male", "WBRI", 9, "Locality North", "Solihull"]
    contacts = [
        ["Child Unique ID", "Date of Birth", "Date of Contact", "Contact Source", *extra],
        *[
            [f"C{i}", date(2014, 3, 1), date(2023, 5, i), source, *person]
            for i, source in enumerate(
                ["f) 2A: Schools", "q) 6: Police", "v) 10: Unknown", "c) 1C: Individual - acquaintance"], start=1
            )
        ],
    ]
    early_help = [
        [
            "Child Unique ID",
            "Date of Birth",
            "Assessment start date",
            "Assessment completion date",
            "Organisation completing assessment",
            *extra,
        ],
        ["C1", date(2014, 3, 1), date(2023, 4, 3), date(2023, 5, 2), "a) Local authority", *person],
        ["C2", date(2014, 3, 1), date(2023, 6, 5), None, "b) School", *person],
        ["C3", date(2014, 3, 1), date(2024, 3, 28), None, "c) Health visitor", *person],
        ["C9", date(2014, 3, 1), date(2022, 11, 1), date(2022, 12, 1), "d) Voluntary sector", *person],
        [None] * 10,
    ]
    referral_rows = [
        ["Child Unique ID", "Date of Birth", "Date of referral", "Referral Source", "Referral NFA?", *extra],
        ["C1", date(2014, 3, 1), date(2023, 7, 1), "q) 6: Police", "No", *person],
        ["C2", date(2014, 3, 1), date(2023, 8, 1), "f) 2A: Schools", "Yes", *person],
    ]
    plans = [
        [
            "Child Unique ID",
            "Date of Birth",
            "Child Protection Plan Start Date",
            "Initial Category of Abuse",
            "Latest Category of Abuse",
            "Child Protection Plan End Date",
            *extra,
        ],
        ["C1", date(2014, 3, 1), date(2023, 7, 20), "a) Neglect", "a) Neglect", None, *person],
    ]
    raw = tmp_path / "raw"
    folder = write_year(raw)  # every dataset's own file too: the workbook replaces four of them
    write_xlsx(
        folder / "annex_a_2023-24.xlsx",
        {
            "Cover": [["Ofsted Annex A"]],
            "List 1": title + contacts,
            "List 2": title + early_help,
            "List 3": title + referral_rows,
            "List 7": title + plans,
        },
    )
    result = run(raw)
    from_workbook = result.log[result.log["file"].str.startswith("2023-24/annex_a")].set_index("dataset")
    assert from_workbook["rows_kept"].to_dict() == {"mash_contacts": 4, "early_help": 4, "referrals": 2, "cp_plans": 1}
    assert from_workbook["sheet"].to_dict() == {
        "mash_contacts": "List 1",
        "early_help": "List 2",
        "referrals": "List 3",
        "cp_plans": "List 7",
    }
    assert sorted(result.superseded_files) == sorted(
        f"{YEAR}/{CONTRACT.dataset(n).file_pattern}.csv"
        for n in ("mash_contacts", "early_help", "referrals", "cp_plans")
    )
    early = result.tables["early_help"].sort_values("assessment_start_date")
    assert early["lead_agency"].tolist() == ["VCS", "COUNCIL", "EDUCATION", "HEALTH"]
    assert early["reporting_year"].tolist() == ["2022-23", "2023-24", "2023-24", "2023-24"]
    assert early["assessment_completion_date"].notna().tolist() == [True, True, False, False]
    assert early["early_help_outcome"].isna().all()  # List 2 does not hold the outcome
    assert (early["child_pid"] == pseudonymise(pd.Series(["C1"]), KEY, "child_pid").iloc[0]).sum() == 1
    assert "child_id" not in early.columns and "date_of_birth" not in early.columns
    assert sorted(result.tables["mash_contacts"]["contact_source"]) == ["10", "1C", "2A", "6"]
