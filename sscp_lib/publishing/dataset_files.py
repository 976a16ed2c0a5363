"""The dataset the partners receive: dataset.json and dataset.xlsx from `build_dataset`.

dataset.json is the dataset exactly as sscp_lib/analysis/indicators.py documents it.
dataset.xlsx has an About sheet (partnership, period, protective marking, the synthetic-data
note when the sample made it, how to read "c" and blank cells), one sheet per theme (indicators
as rows; months, quarters and the year to date as columns, then the latest quarter, the previous
quarter, the same quarter last year, the rating, the SPC verdicts and the comparator) and a
Definitions sheet. Suppressed values stay "c"; values not yet received or not computable are
left blank, with the reason in the About sheet's notes.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from sscp_lib.files import write_atomic, write_json_atomic

DATASET_JSON = "dataset.json"
DATASET_XLSX = "dataset.xlsx"
SYNTHETIC_NOTE = "Made from the synthetic sample: every figure is invented and describes no real child or agency."
UNIT_NAMES = {"count": "Count", "percent": "Percent", "rate": "Rate per 10,000 children"}
POLARITY_NAMES = {
    "higher_is_better": "Higher is better",
    "lower_is_better": "Lower is better",
    "neither": "Neither direction is better",
}
BOLD = Font(bold=True)


def write_dataset_files(dataset: dict, folder: Path | str) -> dict[str, Path]:
    """Write dataset.json and dataset.xlsx into `folder`; return their paths by name."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    json_path = write_json_atomic(folder / DATASET_JSON, dataset)
    workbook = dataset_workbook(dataset)
    xlsx_path = write_atomic(folder / DATASET_XLSX, workbook.save)
    return {"json": json_path, "xlsx": xlsx_path}


def _sheet_title(text: str, taken: set[str]) -> str:
    title = "".join(c for c in text if c not in "[]:*?/\\")[:31]
    base, n = title, 2
    while title in taken:
        title = f"{base[:28]} {n}"
        n += 1
    taken.add(title)
    return title


def _cell(value):
    return "" if value is None else value


def _width(sheet, widths: dict[int, int]) -> None:
    for column, width in widths.items():
        sheet.column_dimensions[get_column_letter(column)].width = width


def dataset_workbook(dataset: dict) -> Workbook:
    book = Workbook()
    about = book.active
    assert about is not None
    about.title = "About"
    marking = dataset.get("protective_marking") or ""
    rows = [
        [marking],
        [f"{dataset.get('partnership', '')}: partnership dataset, {dataset['period']}"],
        [f"Months {dataset['months'][0]} to {dataset['months'][-1]}; period ends {dataset['period_end']}."],
    ]
    if dataset.get("synthetic"):
        rows.append([SYNTHETIC_NOTE])
    rows += [
        [],
        ["Notes"],
        [
            f"c: a count of 1 to {dataset['suppress_up_to']} children's records, or a figure from which one could "
            "be worked out, is suppressed."
        ],
        [
            "A blank cell: the data for that period have not yet been received, or the figure cannot be computed "
            "(the indicator needs earlier months than the data hold); the Definitions sheet says which."
        ],
        ["Percentages are of the period's denominator (see Definitions); rates are per 10,000 children."],
        ["Variation and assurance follow NHS England's Making Data Count rules for XmR charts of the monthly series."],
        [
            "Comparators are DfE's published figures from the files the partnership supplies; "
            "'comparator not supplied' means no file was given."
        ],
    ]
    for row in rows:
        about.append(row)
    about["A1"].font = BOLD
    about["A2"].font = Font(bold=True, size=14)
    _width(about, {1: 120})

    taken = {"About"}
    by_theme: dict[str, list[dict]] = {key: [] for key in dataset["themes"]}
    for entry in dataset["indicators"]:
        by_theme.setdefault(entry["theme"], []).append(entry)
    for theme, entries in by_theme.items():
        if entries:
            _theme_sheet(book, _sheet_title(dataset["themes"].get(theme, theme), taken), entries, dataset)
    _definitions_sheet(book, _sheet_title("Definitions", taken), dataset)
    for sheet in book.worksheets:
        sheet.oddHeader.center.text = marking
        sheet.oddFooter.center.text = marking
    return book


def _theme_sheet(book: Workbook, title: str, entries: list[dict], dataset: dict) -> None:
    sheet = book.create_sheet(title)
    fixed = ["ID", "Indicator", "Unit"]
    tail = [
        "Latest quarter",
        "Previous quarter",
        "Same quarter last year",
        "RAG",
        "Variation",
        "Assurance",
        "Comparator",
    ]
    periods = dataset["months"] + dataset["quarters"] + [f"{y} to date" for y in dataset["years"]]
    sheet.append([dataset.get("protective_marking") or ""])
    if dataset.get("synthetic"):
        sheet.append([SYNTHETIC_NOTE])
    sheet.append(fixed + periods + tail)
    header_row = sheet.max_row
    for cell in sheet[header_row]:
        cell.font = BOLD
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for entry in entries:
        values = (
            [entry["monthly"].get(m) for m in dataset["months"]]
            + [entry["values"].get(q) for q in dataset["quarters"]]
            + [entry["year_to_date"].get(y) for y in dataset["years"]]
        )
        sheet.append(
            [entry["id"], entry["label"], UNIT_NAMES[entry["unit"]]]
            + [_cell(v) for v in values]
            + [
                _cell((entry.get("latest") or {}).get("value")),
                _cell((entry.get("previous_quarter") or {}).get("value")),
                _cell((entry.get("same_quarter_last_year") or {}).get("value")),
                (entry.get("rag") or {}).get("text", "No target set"),
                entry["variation"]["text"],
                (entry.get("assurance") or {}).get("text", "No target set"),
                entry["comparator"]["text"],
            ]
        )
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=3)
    _width(sheet, {1: 30, 2: 50, 3: 12})


def _definitions_sheet(book: Workbook, title: str, dataset: dict) -> None:
    sheet = book.create_sheet(title)
    header = [
        "ID",
        "Indicator",
        "Theme",
        "Agency",
        "Definition",
        "Unit",
        "Polarity",
        "Measured",
        "Children's records (suppressed when small)",
        "Note",
        "Target",
        "Comparator",
        "Same figure in the statement",
        "Why values are blank",
    ]
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = BOLD
    for entry in dataset["indicators"]:
        target = entry.get("target")
        reasons = sorted(set(entry["reasons"].values()))
        sheet.append(
            [
                entry["id"],
                entry["label"],
                dataset["themes"].get(entry["theme"], entry["theme"]),
                entry["agency"],
                entry["definition"],
                UNIT_NAMES[entry["unit"]],
                POLARITY_NAMES[entry["polarity"]],
                "Over the period" if entry["measured"] == "over_period" else "On the period's last day",
                "Yes" if entry["child_level"] else "No",
                _cell(entry.get("note")),
                ""
                if not target
                else f"green {target['green']:g}, amber {target['amber']:g}"
                + (f", target {target['target']:g}" if target.get("target") is not None else ""),
                entry["comparator"].get("measure") or entry["comparator"]["text"],
                _cell(entry.get("statement_metric")),
                "; ".join(reasons),
            ]
        )
    _width(sheet, {1: 30, 2: 50, 5: 90, 10: 60, 14: 50})
