"""Write the data-collection templates (sscp_lib.ingest.collection_templates) as Excel workbooks.

The first sheet is the one the clean stage reads: a title, what to do, an example row (row 3, grey,
above the headings, so it is never read as data), the headings (row 4; required ones dark), and from
row 5 cells formatted and validated column by column: drop-downs of the contract's code labels or
Yes/No, dates as dd/mm/yyyy, numbers in the contract's range. The sheet is protected without a
password so the title, example and headings are not typed over; the data rows are not locked. A
Guidance sheet explains every column; a hidden Lists sheet holds the drop-downs' values.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from sscp_lib.config import ReportingYear
from sscp_lib.contract import Contract
from sscp_lib.ingest.clean import EARLIEST_DATE, LATEST_DATE
from sscp_lib.ingest.collection_templates import Template, TemplateColumn, build_templates

TITLE_ROW, NOTE_ROW, EXAMPLE_ROW, HEADING_ROW = 1, 2, 3, 4
FIRST_DATA_ROW = HEADING_ROW + 1
LAST_ROW = 1_048_576
DATE_FORMAT = "dd/mm/yyyy"
GUIDANCE_SHEET, LISTS_SHEET = "Guidance", "Lists"
GUIDANCE_COLUMNS = ("Column", "Required", "What to enter", "Format", "Choices", "Must match", "Also read as heading")
GUIDANCE_WIDTHS = (24, 14, 60, 22, 50, 30, 30)  # characters
LINE_HEIGHT = 15  # points
REQUIRED_FILL = PatternFill("solid", fgColor="1F3864")
OPTIONAL_FILL = PatternFill("solid", fgColor="D9E1F2")
EXAMPLE_FONT = Font(italic=True, color="808080")
# Excel limits: input prompts to 255 characters, their titles to 32.
PROMPT_LIMIT, PROMPT_TITLE_LIMIT = 255, 32


def _limit(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def _excel_date(day) -> str:
    return f"DATE({day.year},{day.month},{day.day})"


def _validation(column: TemplateColumn, list_ranges: dict[str, str]) -> DataValidation | None:
    """The column's Excel data validation (drop-down, date or number range), or None for text."""
    if column.kind == "choice":
        source = list_ranges[column.choice_list] if column.choice_list else '"' + ",".join(column.choices) + '"'
        rule = DataValidation(type="list", formula1=source, allow_blank=True)
        rule.errorTitle, rule.error = "Not in the list", "Choose a value from the drop-down list."
    elif column.kind == "date":
        rule = DataValidation(
            type="date",
            operator="between",
            formula1=_excel_date(EARLIEST_DATE),
            formula2=_excel_date(LATEST_DATE),
            allow_blank=True,
        )
        rule.errorTitle, rule.error = "Not a date", "Enter a date as dd/mm/yyyy."
    elif column.kind in ("whole", "decimal"):
        low, high = column.minimum, column.maximum
        kind = "whole" if column.kind == "whole" else "decimal"
        if low is not None and high is not None:
            rule = DataValidation(type=kind, operator="between", formula1=f"{low:g}", formula2=f"{high:g}")
        elif low is not None:
            rule = DataValidation(type=kind, operator="greaterThanOrEqual", formula1=f"{low:g}")
        elif high is not None:
            rule = DataValidation(type=kind, operator="lessThanOrEqual", formula1=f"{high:g}")
        else:
            rule = DataValidation(type=kind, operator="between", formula1="-1E+15", formula2="1E+15")
        rule.allow_blank = True
        rule.errorTitle, rule.error = (
            "Not allowed",
            f"Enter a {column.format_words[0].lower()}{column.format_words[1:]}.",
        )
    else:
        return None
    rule.errorStyle = "stop"
    rule.showErrorMessage = True
    rule.promptTitle = _limit(column.heading, PROMPT_TITLE_LIMIT)
    rule.prompt = _limit(f"{column.description}. {column.format_words}.", PROMPT_LIMIT)
    rule.showInputMessage = True
    return rule


def _lists_sheet(workbook: Workbook, template: Template) -> dict[str, str]:
    """The hidden sheet of drop-down values: code list -> its range, for the validations."""
    sheet = workbook.create_sheet(LISTS_SHEET)
    ranges = {}
    for index, (name, labels) in enumerate(template.code_lists.items(), start=1):
        letter = get_column_letter(index)
        sheet.cell(1, index, name).font = Font(bold=True)
        for row, label in enumerate(labels, start=2):
            sheet.cell(row, index, label)
        ranges[name] = f"{LISTS_SHEET}!${letter}$2:${letter}${len(labels) + 1}"
    sheet.sheet_state = "hidden"
    sheet.protection.sheet = True
    return ranges


def _data_sheet(sheet, template: Template, list_ranges: dict[str, str]) -> None:
    columns = template.columns
    last_letter = get_column_letter(len(columns))
    sheet.title = template.sheet_title
    title = sheet.cell(TITLE_ROW, 1, f"{template.sheet_title}: data collection template")
    title.font = Font(bold=True, size=14)
    note = sheet.cell(
        NOTE_ROW,
        1,
        f"Enter one row per record from row {FIRST_DATA_ROW} down, under the headings in row {HEADING_ROW}. "
        f"Row {EXAMPLE_ROW} (grey) is an example and is never read. Dark headings are required. "
        f"The {GUIDANCE_SHEET} sheet explains every column and where to save this file.",
    )
    note.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.merge_cells(f"A{NOTE_ROW}:{last_letter}{NOTE_ROW}")
    sheet.row_dimensions[NOTE_ROW].height = 45
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        example = sheet.cell(EXAMPLE_ROW, index, column.example)
        example.font = EXAMPLE_FONT
        if column.kind == "date":
            example.number_format = DATE_FORMAT
        heading = sheet.cell(HEADING_ROW, index, column.heading)
        heading.font = Font(bold=True, color="FFFFFF" if column.required else "000000")
        heading.fill = REQUIRED_FILL if column.required else OPTIONAL_FILL
        heading.alignment = Alignment(wrap_text=True, vertical="top")
        words = f"{column.description}.\n{column.format_words}." + (
            f"\nMust be {column.must_match}." if column.must_match else ""
        )
        heading.comment = Comment(words, "SSCP data contract", width=300, height=120)
        # Cells typed in later take the column's format and are left unlocked by the sheet protection.
        dimension = sheet.column_dimensions[letter]
        dimension.width = min(max(len(column.heading), len(str(column.example)), 10) + 4, 48)
        dimension.number_format = DATE_FORMAT if column.kind == "date" else "@" if column.kind == "text" else "General"
        dimension.protection = Protection(locked=False)
        rule = _validation(column, list_ranges)
        if rule is not None:
            rule.add(f"{letter}{FIRST_DATA_ROW}:{letter}{LAST_ROW}")
            sheet.add_data_validation(rule)
    sheet.cell(EXAMPLE_ROW, 1).comment = Comment(
        f"An example: never read. Enter records from row {FIRST_DATA_ROW}.", "SSCP data contract"
    )
    sheet.freeze_panes = f"A{FIRST_DATA_ROW}"
    protection = sheet.protection
    protection.sheet = True
    # Locked: the title, note, example and headings. Allowed: everything an officer does with rows.
    protection.formatColumns = protection.formatRows = protection.formatCells = False
    protection.insertRows = protection.deleteRows = protection.sort = protection.autoFilter = False


def _guidance_sheet(workbook: Workbook, template: Template) -> None:
    sheet = workbook.create_sheet(GUIDANCE_SHEET)
    sheet.cell(1, 1, f"{template.sheet_title}: how to fill in the template").font = Font(bold=True, size=14)
    row = 2
    for text in template.notes:
        cell = sheet.cell(row, 1, text)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=len(GUIDANCE_COLUMNS))
        sheet.row_dimensions[row].height = 32
        row += 1
    row += 1
    for index, heading in enumerate(GUIDANCE_COLUMNS, start=1):
        cell = sheet.cell(row, index, heading)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = REQUIRED_FILL
    for column in template.columns:
        row += 1
        values = (
            column.heading,
            column.required_words,
            column.description,
            column.format_words,
            "; ".join(column.choices),
            column.must_match,
            ", ".join(column.column.aliases),
        )
        for index, value in enumerate(values, start=1):
            sheet.cell(row, index, value).alignment = Alignment(wrap_text=True, vertical="top")
        # Spreadsheets do not grow a row for wrapped text written by a program: size it from the text.
        lines = max(-(-len(str(v)) // max(w - 4, 1)) for v, w in zip(values, GUIDANCE_WIDTHS))
        sheet.row_dimensions[row].height = LINE_HEIGHT * max(lines, 1)
    for index, width in enumerate(GUIDANCE_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = sheet.cell(len(template.notes) + 4, 1).coordinate


def _print_across_one_page(sheet) -> None:
    """Printed landscape, every column on one page wide."""
    sheet.page_setup.orientation = "landscape"
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0


def write_template(template: Template, path: Path) -> Path:
    workbook = Workbook()
    data = workbook.active
    _guidance_sheet(workbook, template)
    list_ranges = _lists_sheet(workbook, template)
    _data_sheet(data, template, list_ranges)
    for sheet in (data, workbook[GUIDANCE_SHEET]):
        _print_across_one_page(sheet)
    workbook.properties.creator = "sscp templates (generated from the data contract)"
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


def write_templates(out_dir: Path, contract: Contract | None = None, year: ReportingYear | None = None) -> list[Path]:
    """One workbook per support-hub dataset in out_dir; returns their paths."""
    out_dir = Path(out_dir)
    return [write_template(t, out_dir / t.file_name) for t in build_templates(contract, year)]
