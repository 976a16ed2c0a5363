"""The synthetic sample's workbooks, written with XlsxWriter (constant memory, fixed properties)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter

from sscp_lib.errors import UserError

XLSX_MAX_ROWS = 1_048_576
_EXCEL_EPOCH = np.datetime64("1899-12-30", "D")


def write_xlsx(path: Path, sheets, stamp: datetime, creator: str) -> None:
    """Write sheets (name, title rows, frame, date headings) as an xlsx workbook, byte-reproducibly.

    Dates are real date cells: serial numbers with a dd/mm/yyyy number format. The workbook's
    created date is `stamp` and XlsxWriter stamps every part of the zip 1 January 1980, so the
    same sheets give the same bytes.
    """
    for _name, title_rows, frame, _dates in sheets:
        if len(frame) + len(title_rows) + 1 > XLSX_MAX_ROWS:
            raise UserError(f"{path.name}: {len(frame):,} rows do not fit on an Excel sheet; use a smaller --scale")
    options = {
        "constant_memory": True,
        "strings_to_numbers": False,
        "strings_to_formulas": False,
        "strings_to_urls": False,
    }
    with xlsxwriter.Workbook(str(path), options) as book:
        book.set_properties({"author": creator, "created": stamp})
        date_format = book.add_format({"num_format": "dd/mm/yyyy"})
        heading = book.add_format({"bold": True})
        for name, title_rows, frame, date_cols in sheets:
            sheet = book.add_worksheet(name)
            row = 0
            for title in title_rows:
                for col, value in enumerate(title):
                    if value not in (None, ""):
                        sheet.write_string(row, col, str(value))
                row += 1
            for col, column in enumerate(frame.columns):
                sheet.write_string(row, col, str(column), heading)
            row += 1
            writers = [_column_cells(frame[c], c in date_cols, date_format) for c in frame.columns]
            for offset in range(len(frame)):
                for col, (kind, values, present, fmt) in enumerate(writers):
                    if present[offset]:
                        if kind == "n":
                            sheet.write_number(row + offset, col, values[offset], fmt)
                        else:
                            sheet.write_string(row + offset, col, values[offset])


def _column_cells(series: pd.Series, is_date: bool, date_format):
    """(kind, values, present, format) for one column: numbers (dates as Excel serials) or text."""
    series = series.reset_index(drop=True)
    if is_date:
        days = np.asarray(series, dtype="datetime64[D]")
        return "n", (days - _EXCEL_EPOCH).astype(np.int64).tolist(), (~np.isnat(days)).tolist(), date_format
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        present = series.notna().to_numpy()
        return "n", series.astype(object).where(series.notna(), 0).tolist(), present.tolist(), None
    text = series.astype(object).where(series.notna(), "").astype(str)
    return "s", text.tolist(), (text != "").tolist(), None
