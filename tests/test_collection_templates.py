"""Data-collection templates: generated from the contract, filled in, cleaned."""

from __future__ import annotations

from datetime import date, datetime

import openpyxl
import pandas as pd
import pytest
from bad_inputs.builders import YEAR, write_year

from sscp_lib.analysis import assurance
from sscp_lib.cli import main
from sscp_lib.config import ReportingYear, load_config
from sscp_lib.contract import load_contract, normalise_header
from sscp_lib.ingest.clean import clean_year
from sscp_lib.ingest.collection_templates import YES_NO, build_templates, template_datasets
from sscp_lib.ingest.collection_workbooks import (
    DATE_FORMAT,
    EXAMPLE_ROW,
    FIRST_DATA_ROW,
    GUIDANCE_SHEET,
    HEADING_ROW,
    LISTS_SHEET,
    REQUIRED_FILL,
    write_templates,
)
from sscp_lib.ingest.readers import expected_headings, read_xlsx_file

KEY = bytes.fromhex("5e" * 32)
CONTRACT = load_contract()
TEMPLATE_YEAR = ReportingYear.parse(YEAR)
SUPPORT_HUB = tuple(template_datasets(CONTRACT))


@pytest.fixture(scope="module")
def workbooks(tmp_path_factory):
    folder = tmp_path_factory.mktemp("templates")
    return {path.stem: path for path in write_templates(folder, year=TEMPLATE_YEAR)}


def _validation_at(sheet, cell: str):
    found = [dv for dv in sheet.data_validations.dataValidation if cell in dv]
    assert len(found) <= 1, cell
    return found[0] if found else None


def _list_values(book, formula: str) -> list[str]:
    sheet_name, cells = formula.split("!")
    first, last = cells.replace("$", "").split(":")
    return [cells[0].value for cells in book[sheet_name][f"{first}:{last}"]]


def test_a_template_for_each_support_hub_dataset(workbooks):
    # Every dataset the partnership analysis reads comes from the support team's trackers; the
    # Education Inclusion Service's log of suspensions and exclusions is a tracker too.
    assert SUPPORT_HUB == (*assurance.DATASETS, "suspensions_exclusions")
    assert [n for n in SUPPORT_HUB if CONTRACT.dataset(n).agency != "SSCP"] == ["suspensions_exclusions"]
    assert {path.name for path in workbooks.values()} == {
        f"{CONTRACT.dataset(n).file_pattern}.xlsx" for n in SUPPORT_HUB
    }


@pytest.mark.parametrize("name", SUPPORT_HUB)
def test_templates_follow_the_contract(workbooks, name):
    """Fails when the contract changes and the templates no longer say the same thing."""
    dataset = CONTRACT.dataset(name)
    book = openpyxl.load_workbook(workbooks[name])
    data = book.worksheets[0]
    assert book.sheetnames[1:] == [GUIDANCE_SHEET, LISTS_SHEET] and book[LISTS_SHEET].sheet_state == "hidden"
    asked = [c for c in dataset.columns if c.role != "drop"]  # personal data the statement does not need: not asked
    headings = [c.value for c in data[HEADING_ROW] if c.value]
    lookup = dataset.header_lookup()
    assert [lookup[normalise_header(h)] for h in headings] == [c.name for c in asked]
    assert data.protection.sheet and data.freeze_panes == f"A{FIRST_DATA_ROW}"
    guidance = {row[0]: row for row in book[GUIDANCE_SHEET].iter_rows(values_only=True) if row[0] in headings}
    for index, (heading, column) in enumerate(zip(headings, asked), start=1):
        letter = openpyxl.utils.get_column_letter(index)
        cell = data.cell(HEADING_ROW, index)
        assert (cell.fill.fgColor.rgb[-6:] == REQUIRED_FILL.fgColor.rgb[-6:]) == column.required, heading
        assert guidance[heading][1].startswith("Yes" if column.required else "No")
        assert guidance[heading][2] == column.description and column.description
        dimension = data.column_dimensions[letter]
        assert dimension.protection.locked is False  # cells typed in from row 5 are not locked
        rule = _validation_at(data, f"{letter}{FIRST_DATA_ROW}")
        assert rule is None or f"{letter}{FIRST_DATA_ROW + 5000}" in rule
        if column.type == "code":
            codes = CONTRACT.codes_for(column)
            offered = [label for code, label in codes.codes.items() if code not in codes.retired]
            assert rule.type == "list" and _list_values(book, rule.formula1) == offered
            assert guidance[heading][4] == "; ".join(offered)
        elif column.type == "bool":
            assert rule.type == "list" and rule.formula1 == '"' + ",".join(YES_NO) + '"'
        elif column.type == "date":
            assert rule.type == "date" and dimension.number_format == DATE_FORMAT
        elif column.type in ("int", "float"):
            assert rule.type == ("whole" if column.type == "int" else "decimal")
            bounds = [v for v in (column.min, column.max) if v is not None]
            assert [float(f) for f in (rule.formula1, rule.formula2) if f is not None][: len(bounds)] == bounds
        else:
            assert rule is None and dimension.number_format == "@"
        if column.references:
            assert guidance[heading][5].startswith("the ")


@pytest.mark.parametrize("name", SUPPORT_HUB)
def test_an_unfilled_template_reads_as_headings_and_no_rows(workbooks, name):
    table = read_xlsx_file(workbooks[name], expected_headings(CONTRACT.dataset(name)))
    assert table.header_row == HEADING_ROW and table.frame.empty and table.rows_skipped == 0


def _valid_value(column, i: int):
    """A value an officer might type in row i (0-based) of a template column."""
    if column.kind == "choice":
        return column.choices[i % len(column.choices)]
    if column.kind == "date":
        return datetime(2023, 6, 10 + i)
    if column.kind in ("whole", "decimal"):
        low = column.minimum or 0
        return int(low) + i if column.kind == "whole" else low + 100.25 + i
    return f"{column.column.name}-{i + 1}"  # ids match across workbooks (audit_id in audits and in audit_cases)


def _fill(path, rows: int, change=None):
    """Fill the first sheet from row 5 as an officer would; the example row is left in place."""
    template = next(t for t in build_templates(CONTRACT, TEMPLATE_YEAR) if t.file_name == path.name)
    book = openpyxl.load_workbook(path)
    sheet = book.worksheets[0]
    for i in range(rows):
        for index, column in enumerate(template.columns, start=1):
            value = _valid_value(column, i)
            if change and (i, column.column.name) in change:
                value = change[(i, column.column.name)]
            sheet.cell(FIRST_DATA_ROW + i, index, value)
    book.save(path)
    return path


def _year_with_templates(tmp_path, workbooks, rows=3, change=None):
    raw = tmp_path / "raw"
    folder = write_year(raw, skip=SUPPORT_HUB)
    for name, path in workbooks.items():
        target = folder / path.name
        target.write_bytes(path.read_bytes())
        _fill(target, rows, change.get(name) if change else None)
    return raw


def test_filled_templates_clean_with_no_rejections(tmp_path, workbooks):
    raw = _year_with_templates(tmp_path, workbooks)
    result = clean_year(TEMPLATE_YEAR, raw, tmp_path / "clean", load_config(), KEY)
    assert result.rejected.empty
    for name in SUPPORT_HUB:
        table = result.tables[name]
        assert len(table) == 3 and (table["reporting_year"] == YEAR).all(), name  # the example row not counted
        log = result.log.set_index("dataset").loc[name]
        assert (log["format"], log["rows_read"], log["rows_skipped"]) == ("xlsx", 3, 0)
    audits = result.tables["audits"]
    assert set(audits["topic"]) <= set(CONTRACT.code_lists["audit_topic"].codes)  # labels read back as codes
    assert audits["audit_date"].tolist() == [pd.Timestamp(2023, 6, 10 + i) for i in range(3)]
    assert result.tables["meeting_attendance"]["attended"].tolist() == [True, False, True]


def test_a_value_outside_the_drop_down_is_rejected_naming_row_and_column(tmp_path, workbooks):
    change = {"audits": {(1, "topic"): "Not a topic"}, "training_attendance": {(2, "attended"): "Maybe"}}
    raw = _year_with_templates(tmp_path, workbooks, change=change)
    result = clean_year(TEMPLATE_YEAR, raw, tmp_path / "clean", load_config(), KEY)
    rejected = result.rejected.set_index("dataset")
    assert sorted(rejected.index) == ["audits", "training_attendance"]
    audit = rejected.loc["audits"]
    assert (audit["file"], audit["row"], audit["column"], audit["reason"], audit["value"]) == (
        f"{YEAR}/audits.xlsx",
        FIRST_DATA_ROW + 1,
        "topic",
        "unknown code",
        "Not a topic",
    )
    training = rejected.loc["training_attendance"]
    assert (training["row"], training["column"], training["reason"]) == (
        FIRST_DATA_ROW + 2,
        "attended",
        "not a yes/no value",
    )
    assert len(result.tables["audits"]) == 2


def test_the_example_row_is_plausible_and_above_the_headings(workbooks):
    for template in build_templates(CONTRACT, TEMPLATE_YEAR):
        sheet = openpyxl.load_workbook(workbooks[template.dataset.name]).worksheets[0]
        examples = [c.value for c in sheet[EXAMPLE_ROW]][: len(template.columns)]
        for value, column in zip(examples, template.columns):
            if column.kind == "date":
                assert TEMPLATE_YEAR.start <= value.date() <= TEMPLATE_YEAR.end
            elif column.kind == "choice":
                assert value in column.choices
            elif column.kind in ("whole", "decimal"):
                assert (column.minimum is None or value >= column.minimum) and (
                    column.maximum is None or value <= column.maximum
                )
    budget = next(t for t in build_templates(CONTRACT, TEMPLATE_YEAR) if t.dataset.name == "budget")
    assert budget.columns[0].example == date(2024, 3, 31)


def test_sscp_templates_command(tmp_path, capsys):
    assert main(["templates", "--out", str(tmp_path / "t"), "--year", "2024-25"]) == 0
    assert len(list((tmp_path / "t").glob("*.xlsx"))) == len(SUPPORT_HUB)
    assert "audits.xlsx" in capsys.readouterr().out
    assert main(["templates", "--out", str(tmp_path / "t"), "--year", "2024"]) == 2
    assert "reporting year must look like 2023-24" in capsys.readouterr().err
