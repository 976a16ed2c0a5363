"""Read one raw agency file into a table of strings, keeping its own headings and row numbers.

CSV (UTF-8, UTF-8 with BOM or Windows-1252; comma, semicolon, tab or pipe) and XLSX. The header
row is found below any title rows; blank rows and repeated header rows are dropped; every kept row
carries its row number as the user sees it in the file (the first line of the file is row 1).
Anything unreadable raises InputFileError naming the file, never a raw traceback.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

import numpy as np
import pandas as pd

from sscp_lib.contract import Contract, Dataset, normalise_header
from sscp_lib.errors import InputFileError

CSV_SUFFIXES = {".csv", ".txt"}
XLSX_SUFFIXES = {".xlsx", ".xlsm"}
DELIMITERS = (",", ";", "\t", "|")
# How far down a file the header row may sit below title rows.
HEADER_SEARCH_ROWS = 30
# Without known headings, the header row is the first row with at least this share of the fullest row's cells.
HEADER_FILL_SHARE = 0.6
OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_SIGNATURE = b"PK\x03\x04"
# Text files hold few control characters; more than this share in the first block means binary.
MAX_CONTROL_SHARE = 0.01


@dataclass
class RawTable:
    """One sheet or CSV file: `frame` holds stripped strings ("" for empty) under raw headings."""

    path: Path
    frame: pd.DataFrame
    row_numbers: np.ndarray  # file row of each frame row (header row = its own row number)
    headings: list[str]
    header_row: int
    format: str  # "csv" | "xlsx" | "xml"
    encoding: str | None = None
    sheet: str | None = None
    delimiter: str | None = None
    blank_rows_skipped: int = 0
    header_rows_skipped: int = 0
    notes: list[str] = field(default_factory=list)
    # When rows are numbered by record rather than by line (a CIN census return): maps those numbers
    # to file lines. Finding lines means reading the file again, so it runs only for rows reported.
    locate_rows: Callable[[np.ndarray], np.ndarray] | None = None

    @property
    def rows_skipped(self) -> int:
        return self.blank_rows_skipped + self.header_rows_skipped

    def file_rows(self, mask: np.ndarray) -> np.ndarray:
        """The row (or line) in the file of each row selected by `mask`, as the user sees it."""
        rows = self.row_numbers[mask]
        return self.locate_rows(rows) if self.locate_rows is not None and len(rows) else rows


# ---------------------------------------------------------------------------------------------
# Header detection and tidying shared by CSV and XLSX


def _header_score(cells: Iterable, expected: set[str]) -> int:
    return sum(1 for c in cells if c is not None and str(c).strip() and normalise_header(c) in expected)


def find_header_row(rows: list[list], expected: set[str] | None, fixed: int | None = None) -> int:
    """Index of the header row among the first rows: the row matching most expected headings.

    Without expected headings (or when none match) it is the first row filled nearly as fully as the
    fullest row, which passes over title rows. `fixed` (a row number counted from 1) is taken as given.
    """
    if fixed is not None:
        return fixed - 1 if fixed <= len(rows) else -1
    filled = [sum(1 for c in r if c is not None and str(c).strip()) for r in rows[:HEADER_SEARCH_ROWS]]
    if not any(filled):
        return -1
    if expected:
        scores = [_header_score(r, expected) for r in rows[:HEADER_SEARCH_ROWS]]
        best = max(scores)
        if best > 0:
            return scores.index(best)
    enough = max(min(2, max(filled)), HEADER_FILL_SHARE * max(filled))
    return next(i for i, count in enumerate(filled) if count >= enough)


def _tidy(path: Path, headings: list[str], frame: pd.DataFrame, first_data_row: int, **meta) -> RawTable:
    """Strip values, drop blank and repeated header rows, attach file row numbers."""
    frame = frame.fillna("")
    for column in frame.columns:
        frame[column] = frame[column].astype(str).str.strip()
    row_numbers = np.arange(first_data_row, first_data_row + len(frame), dtype=np.int64)
    blank = np.ones(len(frame), dtype=bool)
    for column in frame.columns:
        blank &= (frame[column] == "").to_numpy()
    # A repeated header row repeats every named heading; only candidates are compared, in any case.
    repeated_header = ~blank
    for column, heading in zip(frame.columns, headings):
        if heading.strip() and repeated_header.any():
            candidates = np.flatnonzero(repeated_header)
            same = frame[column].iloc[candidates].str.lower() == heading.strip().lower()
            repeated_header[candidates[~same.to_numpy()]] = False
    keep = ~(blank | repeated_header)
    frame = frame.loc[keep].reset_index(drop=True)
    frame.columns = range(len(frame.columns))
    return RawTable(
        path=path,
        frame=frame,
        row_numbers=row_numbers[keep],
        headings=headings,
        blank_rows_skipped=int(blank.sum()),
        header_rows_skipped=int(repeated_header.sum()),
        **meta,
    )


# ---------------------------------------------------------------------------------------------
# CSV


# Control characters other than tab, line feed and carriage return: text files have few of them.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _decode_head(path: Path, data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """(encoding, decoded first block); checks the whole file decodes with that encoding.

    `encoding` comes from the file's source mapping; without it UTF-8, UTF-16 with a byte-order
    mark and Windows-1252 are tried.
    """
    if not data.strip():
        raise InputFileError(path, "the file is empty" if data else "the file is empty (0 bytes)")
    if encoding is None and data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    if encoding is not None and not data.startswith((OLE2_SIGNATURE, ZIP_SIGNATURE)):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            raise InputFileError(
                path,
                f"the file is not {encoding} text (byte {exc.start + 1} does not decode); "
                "check the encoding in its source mapping",
            ) from None
        return encoding, text[:65536]
    if data.startswith(OLE2_SIGNATURE):
        raise InputFileError(
            path,
            "this is an Excel binary or password-protected workbook, not a CSV file; "
            "save it as an unprotected .xlsx or as CSV",
        )
    if data.startswith(ZIP_SIGNATURE):
        raise InputFileError(path, "this is a workbook (zip) file with a CSV name; save it as CSV or rename it .xlsx")
    head = data[:65536]
    if b"\x00" in head:
        raise InputFileError(path, "the file holds binary data (NUL bytes), not CSV text; re-export it as CSV")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            data.decode(encoding)
        except UnicodeDecodeError:
            continue
        text = head.decode(encoding, errors="ignore")
        control = len(_CONTROL_CHARACTERS.findall(text))
        if text and control / len(text) > MAX_CONTROL_SHARE:
            raise InputFileError(path, "the file holds binary data, not CSV text; re-export it as CSV")
        if encoding == "utf-8-sig":
            encoding = "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
        return encoding, text
    raise InputFileError(path, "the file is neither UTF-8 nor Windows-1252 text; re-export it as CSV (UTF-8)")


def _choose_delimiter(
    head_lines: list[str], expected: set[str] | None, header_row: int | None = None
) -> tuple[str, list[list[str]], int]:
    """Delimiter, the parsed head rows and the header index that fit the file best."""
    best = None
    for delimiter in DELIMITERS:
        rows = list(csv.reader(head_lines, delimiter=delimiter))
        header = find_header_row(rows, expected, header_row)
        if header < 0:
            continue
        score = (_header_score(rows[header], expected) if expected else 0, len(rows[header]))
        if best is None or score > best[0]:
            best = (score, delimiter, rows, header)
    if best is None:
        return ",", [], -1
    return best[1], best[2], best[3]


def read_csv_file(
    path: Path, expected: set[str] | None = None, header_row: int | None = None, encoding: str | None = None
) -> RawTable:
    path = Path(path)
    data = path.read_bytes()
    encoding, head = _decode_head(path, data, encoding)
    search_rows = max(HEADER_SEARCH_ROWS, header_row or 0)
    head_lines = head.splitlines()[: search_rows + 1]
    if len(head) == 65536 and len(head_lines) > search_rows:
        head_lines = head_lines[:search_rows]
    delimiter, rows, header_index = _choose_delimiter(head_lines, expected, header_row)
    if header_index < 0:
        if header_row is not None:
            raise InputFileError(path, f"the heading row is set to row {header_row}, but the file is shorter")
        raise InputFileError(path, "the file is empty (no header row)")
    text_encoding = "utf-8-sig" if encoding.startswith("utf-8") else encoding
    try:
        frame = pd.read_csv(
            io.BytesIO(data),
            sep=delimiter,
            header=None,
            skiprows=header_index,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            encoding=text_encoding,
            engine="c",
            index_col=False,
        )
    except pd.errors.ParserError as exc:
        # e.g. "Expected 8 fields in line 1203, saw 9" (line of the file, counting from 1).
        found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if found:
            expected_fields, line, seen = found.groups()
            raise InputFileError(
                path,
                f"the CSV rows do not line up with the header: {seen} fields where the header "
                f"has {expected_fields}; check the delimiter and quoting",
                row=int(line),
            ) from None
        detail = " ".join(str(exc).split())
        raise InputFileError(
            path, f"the CSV file cannot be parsed ({detail}); check the delimiter and quoting"
        ) from None
    except (pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as exc:
        raise InputFileError(path, f"the CSV file cannot be read ({' '.join(str(exc).split())})") from None
    if frame.empty:
        raise InputFileError(path, "the file is empty (no header row)")
    headings = [str(h).replace("\ufeff", "").strip() for h in frame.iloc[0].tolist()]
    data_frame = frame.iloc[1:].reset_index(drop=True)
    return _tidy(
        path,
        headings,
        data_frame,
        first_data_row=header_index + 2,
        header_row=header_index + 1,
        format="csv",
        encoding=encoding,
        delimiter=delimiter,
    )


# ---------------------------------------------------------------------------------------------
# XLSX


def cell_text(value) -> str:
    """A worksheet cell as text: dates as ISO, whole numbers without '.0', booleans TRUE/FALSE."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _check_signature(path: Path) -> None:
    with open(path, "rb") as fh:
        signature = fh.read(8)
    if not signature:
        raise InputFileError(path, "the file is empty (0 bytes)")
    if signature.startswith(OLE2_SIGNATURE):
        raise InputFileError(
            path, "the workbook is password-protected or in the old .xls format; save it without a password as .xlsx"
        )
    if not signature.startswith(ZIP_SIGNATURE):
        raise InputFileError(path, "the file is not an Excel workbook (.xlsx); it may be corrupt")


def _open_workbook(path: Path):
    import openpyxl

    _check_signature(path)
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError, IndexError, EOFError) as exc:
        raise InputFileError(path, f"the workbook is corrupt and cannot be opened ({type(exc).__name__})") from None
    except Exception as exc:  # noqa: BLE001 - openpyxl raises assorted parser errors on damaged parts
        raise InputFileError(path, f"the workbook cannot be opened ({type(exc).__name__}: {exc})") from None


def _sheet_rows(path: Path, worksheet) -> list[list[str]]:
    try:
        return [[cell_text(v) for v in row] for row in worksheet.iter_rows(values_only=True)]
    except Exception as exc:  # noqa: BLE001 - damaged sheet XML
        raise InputFileError(path, f"sheet {worksheet.title!r} cannot be read ({type(exc).__name__})") from None


# Whole numbers beyond this are not exact as floats; openpyxl reads them as exact ints.
_EXACT_FLOAT_LIMIT = 2.0**53


class _CalamineUnsure(Exception):
    """A cell calamine may not give as openpyxl does: read the workbook with openpyxl instead."""


def _calamine_cell_text(value) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) >= _EXACT_FLOAT_LIMIT:
        raise _CalamineUnsure
    return cell_text(None if value == "" else value)


def _calamine_sheets(path: Path, titles: Callable[[list[str]], list[str] | None]) -> dict[str, list[list[str]]] | None:
    """Rows of the sheets `titles` picks, read with calamine (Rust, far faster than openpyxl), or None
    where it cannot or may differ: the openpyxl path then gives the rows or the error message."""
    try:
        from python_calamine import CalamineWorkbook, SheetTypeEnum

        workbook = CalamineWorkbook.from_path(str(path))
        try:
            names = [m.name for m in workbook.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet]
            wanted = titles(names)
            if wanted is None:
                return None
            # skip_empty_area=False keeps leading blank rows, so file row numbers match openpyxl's.
            return {
                title: [
                    [_calamine_cell_text(v) for v in row]
                    for row in workbook.get_sheet_by_name(title).to_python(skip_empty_area=False)
                ]
                for title in wanted
            }
        finally:
            workbook.close()
    except Exception:  # noqa: BLE001 - any doubt: openpyxl decides
        return None


def _match_sheet(names: list[str], sheet: str) -> str | None:
    wanted = normalise_header(sheet)
    return next((name for name in names if normalise_header(name) == wanted), None)


def _table_from_rows(
    path: Path, rows: list[list[str]], expected: set[str] | None, sheet: str, header_row: int | None = None
) -> RawTable:
    header_index = find_header_row(rows, expected, header_row)
    if header_index < 0:
        if header_row is not None and rows:
            raise InputFileError(path, f"the heading row is set to row {header_row}, but sheet {sheet!r} is shorter")
        raise InputFileError(path, f"sheet {sheet!r} is empty (no header row)")
    width = max(len(r) for r in rows[header_index:])
    headings = [c for c in rows[header_index]] + [""] * (width - len(rows[header_index]))
    body = [r + [""] * (width - len(r)) for r in rows[header_index + 1 :]]
    frame = (
        pd.DataFrame(body, columns=range(width), dtype=str) if body else pd.DataFrame(columns=range(width), dtype=str)
    )
    # Trailing unnamed, empty columns are formatting, not data.
    while headings and not headings[-1].strip() and (frame.empty or (frame[len(headings) - 1] == "").all()):
        frame = frame.drop(columns=[len(headings) - 1])
        headings.pop()
    return _tidy(
        path,
        [h.strip() for h in headings],
        frame,
        first_data_row=header_index + 2,
        header_row=header_index + 1,
        format="xlsx",
        sheet=sheet,
    )


def read_xlsx_file(
    path: Path, expected: set[str] | None = None, sheet: str | None = None, header_row: int | None = None
) -> RawTable:
    path = Path(path)
    _check_signature(path)

    def pick(names):
        title = (names[0] if names else None) if sheet is None else _match_sheet(names, sheet)
        return None if title is None else [title]

    fast = _calamine_sheets(path, pick)
    if fast is not None:
        ((title, rows),) = fast.items()
        return _table_from_rows(path, rows, expected, title, header_row)
    workbook = _open_workbook(path)
    try:
        if sheet is None:
            worksheet = workbook.worksheets[0]
        else:
            worksheet = _find_sheet(path, workbook, sheet)
        rows = _sheet_rows(path, worksheet)
        return _table_from_rows(path, rows, expected, worksheet.title, header_row)
    finally:
        workbook.close()


def sheet_names(path: Path) -> list[str]:
    """The worksheet names of an .xlsx workbook, in order."""
    path = Path(path)
    _check_signature(path)
    try:
        from python_calamine import CalamineWorkbook, SheetTypeEnum

        workbook = CalamineWorkbook.from_path(str(path))
        try:
            return [m.name for m in workbook.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet]
        finally:
            workbook.close()
    except Exception:  # noqa: BLE001 - openpyxl gives the names or the error message
        workbook = _open_workbook(path)
        try:
            return list(workbook.sheetnames)
        finally:
            workbook.close()


def _find_sheet(path: Path, workbook, sheet: str):
    wanted = normalise_header(sheet)
    for worksheet in workbook.worksheets:
        if normalise_header(worksheet.title) == wanted:
            return worksheet
    raise InputFileError(path, f"the workbook has no sheet {sheet!r} (sheets: {', '.join(workbook.sheetnames)})")


# ---------------------------------------------------------------------------------------------
# Entry points


def expected_headings(dataset: Dataset) -> set[str]:
    """Normalised headings that identify a dataset's header row (names, aliases, Annex A)."""
    expected = set(dataset.header_lookup())
    if dataset.annex_a:
        expected |= {normalise_header(h) for h in dataset.annex_a.get("columns", {})}
    return expected


def read_raw_file(
    path: Path,
    expected: set[str] | None = None,
    *,
    sheet: str | None = None,
    header_row: int | None = None,
    encoding: str | None = None,
) -> RawTable:
    """Read a CSV or XLSX raw file into a RawTable of strings.

    `sheet` (default the first), `header_row` (default found) and `encoding` (CSV; default
    detected) come from the file's source mapping (sscp_lib.ingest.sources).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.is_file():
        raise InputFileError(path, "file not found")
    if suffix in XLSX_SUFFIXES:
        return read_xlsx_file(path, expected, sheet=sheet, header_row=header_row)
    if suffix in CSV_SUFFIXES:
        return read_csv_file(path, expected, header_row=header_row, encoding=encoding)
    raise InputFileError(path, f"unsupported file type {suffix!r}: send CSV or .xlsx")


def read_annex_a(path: Path, contract: Contract) -> dict[str, RawTable]:
    """An Ofsted Annex A workbook: one RawTable per dataset with an `annex_a` sheet (List 1, 3, 7)."""
    path = Path(path)
    if path.suffix.lower() not in XLSX_SUFFIXES:
        raise InputFileError(path, "an Annex A return must be an .xlsx workbook")
    _check_signature(path)
    annex = {name: dataset for name, dataset in contract.datasets.items() if dataset.annex_a}
    sheets = {name: str((dataset.annex_a or {})["sheet"]) for name, dataset in annex.items()}

    def pick(names):
        titles = [_match_sheet(names, sheet) for sheet in sheets.values()]
        return None if None in titles else titles

    fast = _calamine_sheets(path, pick)
    if fast is not None:  # pick found every sheet
        titles = {name: str(_match_sheet(list(fast), sheet)) for name, sheet in sheets.items()}
        return {
            name: _table_from_rows(path, fast[titles[name]], expected_headings(dataset), titles[name])
            for name, dataset in annex.items()
        }
    workbook = _open_workbook(path)
    try:
        tables = {}
        for name, dataset in contract.datasets.items():
            if not dataset.annex_a:
                continue
            worksheet = _find_sheet(path, workbook, dataset.annex_a["sheet"])
            rows = _sheet_rows(path, worksheet)
            tables[name] = _table_from_rows(path, rows, expected_headings(dataset), worksheet.title)
        return tables
    finally:
        workbook.close()
