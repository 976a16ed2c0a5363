"""The exploration helpers answer an analyst's questions the way a plain pandas count would.

Each block names the failure of issue 16 it guards against.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess

import matplotlib.pyplot as plt
import openpyxl
import pandas as pd
import pytest
from test_analysis_referrals import (
    _finish,
    contacts_frame,
    plans_frame,
    police_frame,
    referrals_frame,
    reporting_year_of,
)

from sscp_lib import explore
from sscp_lib.config import PROJECT_ROOT, Paths, ReportingYear, load_config
from sscp_lib.contract import load_contract
from sscp_lib.disclosure import SUPPRESSED, recoverable_cells
from sscp_lib.errors import UserError
from sscp_lib.explore import lab, tables
from sscp_lib.explore.answers import WORKING_NOTE
from sscp_lib.explore.dictionary import data_dictionary
from sscp_lib.explore.draw import answer_html, draw, notes

YEAR = ReportingYear.parse("2023-24")
THRESHOLD = load_config().suppression_threshold


def health_frame(records) -> pd.DataFrame:
    df = pd.DataFrame(records)
    df["referral_date"] = pd.to_datetime(df["referral_date"])
    df["health_referral_pid"] = [f"H{i:06d}" for i in range(len(df))]
    df["child_pid"] = [f"C{i:06d}" for i in range(len(df))]
    df["provider"] = df.get("provider", pd.Series(["Solihull Community Trust"] * len(df)))
    df["concern_category"] = df.get("concern_category", pd.Series(["NEG"] * len(df)))
    df["concern_category_retired"] = df["concern_category"] == "MUL"
    df["reporting_year"] = reporting_year_of(df["referral_date"])
    return _finish(df, "health_referrals")


REFERRALS = (
    [{"referral_date": "2023-10-03", "referral_source": "6", "recorded_outcome": "ASSESSMENT", "abuse_category": "NEG"}]
    * 12
    + [{"referral_date": "2023-10-04", "referral_source": "10", "recorded_outcome": "NFA", "domestic_abuse": True}] * 9
    + [{"referral_date": "2023-11-20", "referral_source": "10", "recorded_outcome": "S47", "abuse_category": "SAB"}] * 3
    + [
        {
            "referral_date": "2023-11-21",
            "referral_source": "2A",
            "recorded_outcome": "ASSESSMENT",
            "abuse_category": "EMO",
        }
    ]
    * 20
    + [
        {
            "referral_date": "2024-01-15",
            "referral_source": "1A",
            "recorded_outcome": "ASSESSMENT",
            "abuse_category": "NEG",
        }
    ]
    * 7
    + [
        {
            "referral_date": "2024-03-31",
            "referral_source": "9",
            "recorded_outcome": "EARLY_HELP",
            "abuse_category": "PHY",
        }
    ]
    * 6
    + [{"referral_date": "2023-08-15", "referral_source": "6", "recorded_outcome": "NFA", "domestic_abuse": True}] * 4
    + [{"referral_date": "2022-06-01", "referral_source": "3A", "recorded_outcome": "NFA", "abuse_category": "NEG"}] * 8
)


@pytest.fixture(scope="module")
def processed(tmp_path_factory):
    """A run's validated tables (the 2023-24 run holds 2022-23 too), and an older 2022-23 run."""
    root = tmp_path_factory.mktemp("processed")
    paths = Paths(raw=root / "raw", processed=root, reports=root / "reports")
    frames = {
        "referrals": referrals_frame(REFERRALS),
        "mash_contacts": contacts_frame([{"contact_date": "2023-05-01", "contact_outcome": "REFERRAL"}] * 7),
        "police_referrals": police_frame(
            [{"referral_date": "2023-06-02", "domestic_abuse": True, "dara_submitted": True}] * 10
            + [{"referral_date": "2023-06-09", "domestic_abuse": True, "dara_submitted": False}] * 30
            + [{"referral_date": "2024-01-09", "domestic_abuse": True, "dara_submitted": True}] * 25
            + [{"referral_date": "2024-01-10", "domestic_abuse": False, "dara_submitted": None}] * 40
        ),
        "health_referrals": health_frame([{"referral_date": "2023-07-01"}] * 3),
        "cp_plans": plans_frame([{"cp_plan_start_date": "2023-09-01", "initial_category": "NEG"}] * 4),
    }
    for run in (YEAR, YEAR.previous):
        paths.validated_dir(run).mkdir(parents=True)
        for dataset, frame in frames.items():
            kept = frame if run == YEAR else frame[frame["reporting_year"] == run.label]
            kept.to_parquet(tables.validated_table_path(dataset, run, paths))
    (paths.processed / "2099-00-notes").mkdir()  # not a run folder: ignored
    return root


@pytest.fixture(scope="module")
def referrals(processed):
    return explore.load_referrals(processed_dir=processed)


# ----------------------------------------------------------------------------------------------
# Loaders: every child-level table, any year the latest run holds, labels beside codes, the NFA
# changeover as a column ("load_referrals('2022-23') fails"; "police referrals, contacts and
# plans have no loader").
# ----------------------------------------------------------------------------------------------


def test_every_child_level_table_loads_from_the_latest_run_with_labels(processed):
    contract = load_contract()
    for name, table in explore.TABLES.items():
        frame = explore.load_table(name, processed_dir=processed)
        assert frame.attrs["run"] == "2023-24" and frame.attrs["table"] == name
        assert list(frame.columns) == tables.exploration_columns(table.dataset)
        for column in contract.dataset(table.dataset).output_columns:
            if column.type in ("code", "bool"):
                assert f"{column.canonical_name}_label" in frame.columns, (name, column.name)
    assert {"contacts", "referrals", "police_referrals", "health_referrals", "plans"} == set(explore.TABLES)


def test_a_year_held_in_the_latest_run_loads_from_it(processed):
    earlier = explore.load_referrals("2022-23", processed_dir=processed)
    assert len(earlier) == 8 and set(earlier["reporting_year"]) == {"2022-23"}
    # The latest run is read, not the 2022-23 run's own folder.
    assert earlier.attrs["run"] == "2023-24"
    with pytest.raises(explore.ExploreError, match="holds referrals for 2022-23, 2023-24, not 2020-21"):
        explore.load_referrals("2020-21", processed_dir=processed)
    assert explore.load_referrals(run="2022-23", processed_dir=processed).attrs["run"] == "2022-23"


def test_labels_and_the_nfa_changeover_are_columns(referrals):
    police_rows = referrals[referrals["referral_source"] == "6"]
    assert set(police_rows["referral_source_label"]) == {"Police"}
    assert list(referrals["referral_source_label"].cat.categories[:2]) == [
        "Individual",
        "Individual - family member, relative or carer",
    ]
    assert set(referrals.loc[referrals["abuse_category"].isna(), "abuse_category_label"]) == {"Not recorded"}
    assert set(referrals.loc[referrals["domestic_abuse"].fillna(False), "domestic_abuse_label"]) == {"Yes"}
    changeover = load_config().data_rule_date("nfa_changeover_date")
    after = referrals["referral_date"] >= pd.Timestamp(changeover)
    assert set(referrals.loc[after, "nfa_changeover"]) == {f"From {changeover:%-d %b %Y}"}
    assert set(referrals.loc[~after, "nfa_changeover"]) == {f"Before {changeover:%-d %b %Y}"}


def test_no_run_is_one_clear_message(tmp_path):
    with pytest.raises(UserError, match="no validated referrals table under"):
        explore.load_referrals(processed_dir=tmp_path)
    with pytest.raises(explore.ExploreError, match="no table 'referals'"):
        explore.load_table("referals", processed_dir=tmp_path)


# ----------------------------------------------------------------------------------------------
# Filters ("months=('2023-10','2024-03') silently read as two months"; "'2023-10:2024-03' raises
# a date parse error"; no year, domestic-abuse or detailed-source filter; "Not recorded" refused).
# ----------------------------------------------------------------------------------------------


def test_a_two_value_tuple_is_never_read_as_two_months(referrals):
    with pytest.raises(explore.ExploreError, match="ambiguous: for a range write start"):
        explore.filter_rows(referrals, months=("2023-10", "2024-03"))
    dates = referrals["referral_date"]
    expected = ((dates >= "2023-10-01") & (dates <= "2024-03-31")).sum()
    assert len(explore.filter_rows(referrals, start="2023-10", end="2024-03")) == expected == 57
    assert len(explore.filter_rows(referrals, months="2023-10:2024-03")) == expected
    assert len(explore.filter_rows(referrals, months=["2023-10", "2024-03"])) == 21 + 6
    assert len(explore.filter_rows(referrals, start="2023-10-04", end="2023-11-20")) == 9 + 3


def test_dates_and_years_that_do_not_parse_say_what_would(referrals):
    with pytest.raises(explore.ExploreError, match="for a reporting year use year="):
        explore.filter_rows(referrals, start="2023-24")
    with pytest.raises(explore.ExploreError, match="end='2023-01' is before start='2023-10'"):
        explore.filter_rows(referrals, start="2023-10", end="2023-01")
    with pytest.raises(explore.ExploreError, match="not a month"):
        explore.filter_rows(referrals, months="October")


def test_year_domestic_abuse_source_and_not_recorded_filters(referrals, processed):
    assert len(explore.filter_rows(referrals, year="2022-23")) == 8
    assert len(explore.filter_rows(referrals, year=["2022-23", "2023-24"])) == len(referrals)
    assert len(explore.filter_rows(referrals, domestic_abuse="yes")) == 13
    assert len(explore.filter_rows(referrals, domestic_abuse=True, source="Police")) == 4
    # Detailed source and source group, codes or labels in any case.
    assert (
        len(explore.filter_rows(referrals, source="10")) == len(explore.filter_rows(referrals, source="UNKNOWN")) == 12
    )
    assert len(explore.filter_rows(referrals, source_group="unknown")) == 12
    assert len(explore.filter_rows(referrals, agency="Schools and education")) == 20
    assert len(explore.filter_rows(referrals, source=["2a", "health services - gp"])) == 28
    assert len(explore.filter_rows(referrals, category="Not recorded")) == 13
    assert len(explore.filter_rows(referrals, category=["not recorded", "neg"])) == 13 + 27
    assert len(explore.filter_rows(referrals, nfa_changeover="from 1 sep 2023")) == 57
    with pytest.raises(explore.ExploreError, match="'Martians' is neither a code nor a label of referral_source_group"):
        explore.filter_rows(referrals, source_group="Martians")
    with pytest.raises(explore.ExploreError, match="'category' could mean initial_category or latest_category"):
        explore.filter_rows(explore.load_plans(processed_dir=processed), category="NEG")
    with pytest.raises(explore.ExploreError, match="no column 'colour'"):
        explore.filter_rows(referrals, colour="red")


def test_filters_are_remembered_for_titles(referrals):
    rows = explore.filter_rows(referrals, year="2023-24", source_group="Unknown")
    assert rows.attrs["filters"] == ["2023-24", "source agency: Unknown"]
    answer = explore.count(rows, "outcome")
    assert answer.title == "Referrals by referral outcome, 2023-24; source agency: Unknown"


# ----------------------------------------------------------------------------------------------
# Answers: labels in the contract's order ("outputs show codes sorted as strings"), one-way and
# two-way counts with shares, monthly as a long table ("36 months as one wide row") and a chart.
# ----------------------------------------------------------------------------------------------


def test_one_way_counts_use_labels_in_contract_order_with_shares(referrals):
    answer = explore.count(referrals, "source", suppress=False)
    table = answer.table
    labels = list(load_contract().code_lists["referral_source"].codes.values())
    assert list(table.index) == labels + ["Total"]  # '10' (Unknown) after '9', zeros kept
    assert table.loc["Unknown", "Referrals"] == 12 and table.loc["Police", "Referrals"] == 16
    assert table.loc["Housing", "Referrals"] == 0
    assert table.loc["Total", "Referrals"] == len(referrals)
    assert table.loc["Unknown", "% of all"] == round(100 * 12 / len(referrals), 1)
    assert table.loc["Total", "% of all"] == 100.0


def test_counts_are_suppressed_by_default_with_shares_hidden_beside_them(referrals):
    table = explore.count(referrals, "category").table
    assert table.loc["Sexual abuse", "Referrals"] == SUPPRESSED
    assert table.loc["Sexual abuse", "% of all"] == SUPPRESSED
    assert table.loc["Neglect", "Referrals"] == 27
    assert table.loc["Not recorded", "Referrals"] == 13
    assert recoverable_cells(table[["Referrals"]], col_total="Total") == set()


def test_two_way_counts_have_totals_row_shares_and_no_recoverable_cell(referrals):
    answer = explore.count(referrals, "source_group", "outcome")
    table, shares = answer.table, answer.shares
    assert list(table.columns) == [
        "Single assessment",
        "Strategy discussion and section 47 enquiry",
        "Stepped down to early help",
        "Advice and information",
        "No further action",
        "Total",
    ]  # contract order; Annex A's unused FURTHER_ACTION left out
    assert table.loc["Unknown", "Strategy discussion and section 47 enquiry"] == SUPPRESSED
    assert shares.loc["Unknown", "Strategy discussion and section 47 enquiry"] == SUPPRESSED
    assert table.loc["Schools and education", "Single assessment"] == 20
    assert shares.loc["Schools and education", "Single assessment"] == 100.0
    assert recoverable_cells(table, row_total="Total", col_total="Total") == set()


def test_monthly_is_a_long_table_with_every_month_and_a_chart(referrals):
    rows = explore.filter_rows(referrals, year="2023-24")
    answer = explore.monthly(rows, by="source_group", suppress=False)
    table = answer.table
    assert list(table.columns) == ["Month", "Source agency", "Referrals", "% of month"]
    months = [f"2023-{m:02d}" for m in range(4, 13)] + ["2024-01", "2024-02", "2024-03", "Total"]
    assert list(dict.fromkeys(table["Month"])) == months  # the whole year, empty months included
    row = table[(table["Month"] == "2023-10") & (table["Source agency"] == "Unknown")].iloc[0]
    assert row["Referrals"] == 9 and row["% of month"] == round(100 * 9 / 21, 1)
    assert table[(table["Month"] == "2023-12") & (table["Source agency"] == "Total")]["Referrals"].item() == 0
    figure = draw(answer)
    assert figure.axes and len(figure.axes[0].get_lines()) == answer.counts.shape[1]
    plt.close(figure)


def test_monthly_series_hides_small_counts_by_default(referrals):
    """monthly_series showed counts of 1 and 2; a monthly answer is suppressed unless asked."""
    table = explore.monthly(explore.filter_rows(referrals, year="2023-24")).table
    assert table.loc["2023-08", "Referrals"] == SUPPRESSED  # 4 referrals
    assert table.loc["2024-03", "Referrals"] == SUPPRESSED  # 6, hidden so the total does not reveal August
    assert table.loc["2024-01", "Referrals"] == 7 and table.loc["Total", "Referrals"] == 61
    assert table.loc["2023-12", "Referrals"] == 0
    assert recoverable_cells(table, col_total="Total") == set()


def test_monthly_share_counts_with_and_without_and_hides_revealing_shares(processed):
    police = explore.load_police_referrals(processed_dir=processed)
    da = explore.filter_rows(police, year="2023-24", domestic_abuse="yes")
    answer = explore.monthly_share(da, "dara", "yes", mark="dara_correction_date")
    table = answer.table
    assert list(table.columns) == ["DARA submitted: Yes", "Other", "Total", "% DARA submitted: Yes"]
    assert table.loc["2023-06"].tolist() == [10, 30, 40, 25.0]
    assert table.loc["2024-01"].tolist() == [25, 0, 25, 100.0]
    assert table.loc["Total", "Total"] == 65
    assert answer.mark[0] == pd.Timestamp(load_config().data_rule_date("dara_correction_date"))
    small = explore.monthly_share(explore.filter_rows(police, year="2023-24"), "domestic_abuse", "no").table
    assert (
        small.loc["2023-07", "Total"] == 0 and small.loc["2023-07", "% Domestic abuse: No"] == ""
    )  # no share of nothing
    assert small.loc["2023-06", "% Domestic abuse: No"] == 0.0
    plt.close(draw(answer))


def test_working_figures_say_so_wherever_they_are_shown(referrals):
    working = explore.count(referrals, "category", suppress=False)
    assert working.table.loc["Sexual abuse", "Referrals"] == 3
    assert WORKING_NOTE in repr(working)
    assert WORKING_NOTE in answer_html(working)
    figure = draw(working)
    assert any(WORKING_NOTE.upper() in text.get_text() for text in figure.texts)
    plt.close(figure)
    suppressed = explore.count(referrals, "category")
    assert WORKING_NOTE not in answer_html(suppressed)
    assert any("shown as 'c'" in line for line in notes(suppressed))


# ----------------------------------------------------------------------------------------------
# Saving for briefings: suppressed whatever was shown, with marking, source and synthetic note.
# ----------------------------------------------------------------------------------------------


def test_saving_a_working_answer_writes_it_suppressed_with_notes(referrals, tmp_path):
    working = explore.count(referrals, "source_group", "outcome", suppress=False)
    working = working.__class__(**{**working.__dict__, "synthetic": True})
    csv_path = working.save(tmp_path / "brief.csv")
    rows = list(csv.reader(csv_path.open(encoding="utf-8")))
    flat = [cell for row in rows for cell in row]
    assert rows[0] == [load_config()["protective_marking"]] and rows[1] == [working.title]
    assert "Synthetic sample data: not real children's records." in flat
    assert any(cell.startswith("Source: ") for cell in flat)
    header = next(i for i, row in enumerate(rows) if row and row[0] == "Source agency")
    unknown = next(row for row in rows[header:] if row and row[0] == "Unknown")
    assert "3" not in unknown and SUPPRESSED in unknown
    book = openpyxl.load_workbook(working.save(tmp_path / "brief.xlsx"))
    assert book.sheetnames == ["Table", "% of each row"]
    cells = [c for row in book["Table"].iter_rows(values_only=True) for c in row if c is not None]
    assert cells[0] == load_config()["protective_marking"] and SUPPRESSED in cells
    assert "Synthetic sample data: not real children's records." in cells
    png = working.save(tmp_path / "brief.png")
    assert png.read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(explore.ExploreError, match="save as one of"):
        working.save(tmp_path / "brief.docx")


# ----------------------------------------------------------------------------------------------
# The data dictionary ("nothing lists the columns and codes an analyst can filter on") and the
# contract docs' derived columns with their codes.
# ----------------------------------------------------------------------------------------------


def test_the_data_dictionary_lists_every_loaded_column_with_meaning_and_codes(processed):
    dictionary = data_dictionary()
    for name in explore.TABLES:
        frame = explore.load_table(name, processed_dir=processed)
        listed = dictionary.columns[dictionary.columns["table"] == name]
        assert list(listed["column"]) == list(frame.columns)
        assert listed["meaning"].str.len().min() > 10
    by_column = dictionary.columns.set_index(["table", "column"])
    assert by_column.loc[("referrals", "referral_source_group"), "codes"] == "source_agency"
    assert by_column.loc[("police_referrals", "dara_submitted"), "codes"] == "Yes / No"
    assert "NFA changeover" in by_column.loc[("referrals", "nfa_changeover"), "meaning"]
    codes = dictionary.codes
    assert codes[(codes["code list"] == "referral_source") & (codes["code"] == "10")]["label"].item() == "Unknown"
    assert "<h4>plans</h4>" in dictionary._repr_html_()


# ----------------------------------------------------------------------------------------------
# Drop-downs drive the same helpers.
# ----------------------------------------------------------------------------------------------


def test_drop_downs_give_the_same_answer_as_the_helpers(referrals):
    from sscp_lib.explore.widgets import explorer

    view = explorer(referrals)
    assert set(view.filters) == {"year", "source_group", "source", "outcome", "category"}
    view.filters["year"].value = "2023-24"
    view.filters["category"].value = "Neglect"
    view.by.value = "outcome"
    expected = explore.count(explore.filter_rows(referrals, year="2023-24", category="Neglect"), "outcome")
    pd.testing.assert_frame_equal(view.answer.table, expected.table)
    assert view.answer.title == expected.title and view.answer.suppressed
    assert "<table" in view.view.value and "data:image/png;base64," in view.view.value
    view.by.value = "month"
    assert view.answer.kind == "monthly"
    assert "Not recorded" in view.filters["category"].options


# ----------------------------------------------------------------------------------------------
# make lab: root only where needed, the repository as Lab's root, a working copy in an ignored
# folder ("make lab as root stops"; "Lab's root becomes notebooks/"; "saving writes counts into git").
# ----------------------------------------------------------------------------------------------


def test_lab_allows_root_only_when_running_as_root(tmp_path):
    notebook = tmp_path / "nb.ipynb"
    as_root = lab.lab_command(notebook, as_root=True)
    as_user = lab.lab_command(notebook, as_root=False)
    assert "--allow-root" in as_root and "--allow-root" not in as_user
    for command in (as_root, as_user):
        assert f"--ServerApp.root_dir={PROJECT_ROOT}" in command and command[-1] == str(notebook)
    assert ("--allow-root" in lab.lab_command(notebook)) == lab.running_as_root()


def test_make_lab_goes_through_sscp_lab():
    """make lab runs `sscp lab` (which decides --allow-root and the root folder), not Lab on a file."""
    # Under `make test` the outer make's flags would make this one print "Entering directory" lines.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    dry_run = subprocess.run(
        ["make", "--no-print-directory", "-n", "lab"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert dry_run.returncode == 0, dry_run.stderr
    commands = [line for line in dry_run.stdout.strip().splitlines() if not line.startswith("make")]
    assert commands[-1] == ".venv/bin/sscp lab"
    assert "--allow-root" not in (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")


def test_sscp_lab_passes_other_arguments_on_to_jupyter_lab(monkeypatch):
    from sscp_lib import cli

    seen = []
    monkeypatch.setattr(lab, "main", lambda extra: seen.append(extra) or 0)
    assert cli.main(["lab", "--no-browser", "--ServerApp.port=8899"]) == 0
    assert seen == [["--no-browser", "--ServerApp.port=8899"]]
    with pytest.raises(SystemExit):
        cli.main(["kernel", "--no-browser"])


def test_working_copy_is_made_once_in_an_ignored_folder(tmp_path):
    template = tmp_path / "template.ipynb"
    template.write_text("{}", encoding="utf-8")
    copy, stale = lab.working_copy(template, tmp_path / "scratch")
    assert copy.read_text(encoding="utf-8") == "{}" and not stale
    copy.write_text('{"mine": 1}', encoding="utf-8")
    assert lab.working_copy(template, tmp_path / "scratch")[0].read_text(encoding="utf-8") == '{"mine": 1}'
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", str(lab.SCRATCH_DIR / "explore_referrals.ipynb")], cwd=PROJECT_ROOT
    )
    assert ignored.returncode == 0, "scratch/ must be ignored by git"


# ----------------------------------------------------------------------------------------------
# The tracked notebook is a clean template ("saving it after a run writes counts into git").
# ----------------------------------------------------------------------------------------------


def test_tracked_exploration_notebook_carries_no_outputs():
    notebook = json.loads(lab.TEMPLATE.read_text(encoding="utf-8"))
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert code and all(cell["outputs"] == [] and cell["execution_count"] is None for cell in code)
    assert notebook["metadata"]["kernelspec"]["name"] == "sscp"
    assert "widgets" not in notebook["metadata"]  # no saved widget state either


def test_a_bad_question_in_a_notebook_is_one_line_not_a_traceback():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shown = []
    try:
        shell._showtraceback = lambda etype, value, stb: shown.append(stb)
        shell.set_custom_exc((UserError,), explore.one_line_error)
        result = shell.run_cell(
            "from sscp_lib.explore.filters import months_wanted; months_wanted(('2023-10', '2024-03'))"
        )
        assert isinstance(result.error_in_exec, explore.ExploreError)
        assert shown == [[f"ExploreError: {result.error_in_exec}"]]
    finally:
        InteractiveShell.clear_instance()
