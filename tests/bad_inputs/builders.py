"""Small raw year folders written programmatically: every dataset of the contract, valid rows.

Tests start from `write_year(...)` and then break one file to make a bad-input case.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from pathlib import Path

from sscp_lib.contract import Column, Dataset, load_contract

YEAR = "2023-24"
# A date inside 2023-24 for every date column (period or not).
IN_YEAR = "15/06/2023"


def valid_value(dataset: Dataset, column: Column, i: int) -> str:
    """A valid raw value for row i of a column."""
    contract = load_contract()
    if column.type == "date":
        return f"{10 + i % 18:02d}/06/2023" if column.role != "drop" else "01/02/2012"
    if column.type == "code":
        if column.name == "referral_outcome":
            return "ASSESSMENT"
        return next(iter(contract.codes_for(column).codes))
    if column.type == "int":
        return str(i % 7)
    if column.type == "float":
        return f"{100 + i}.50"
    if column.type == "bool":
        return "Y" if i % 2 else "N"
    if column.name == "child_id":
        return f"CH{i:05d}"
    if column.role == "drop":
        return f"Person {i}"
    return f"{column.name.upper()}-{i:04d}"


def dataset_rows(name: str, n: int = 3) -> tuple[list[str], list[list[str]]]:
    dataset = load_contract().dataset(name)
    header = [c.name for c in dataset.columns]
    rows = [[valid_value(dataset, c, i) for c in dataset.columns] for i in range(1, n + 1)]
    return header, rows


def csv_text(header: list[str], rows: list[list[str]], delimiter: str = ",") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def write_csv(
    path: Path, header: list[str], rows: list[list[str]], encoding: str = "utf-8", delimiter: str = ","
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(csv_text(header, rows, delimiter).encode(encoding))
    return path


def write_xlsx(path: Path, sheets: dict[str, list[list]]) -> Path:
    """A workbook with the given sheets (rows of Python values: str, int, float, date, datetime)."""
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


def write_year(raw: Path, year: str = YEAR, n: int = 3, skip: tuple[str, ...] = (), sample: bool = False) -> Path:
    """raw/<year>/<dataset>.csv for every dataset (except `skip`), n valid rows each."""
    folder = raw / year
    folder.mkdir(parents=True, exist_ok=True)
    for name, dataset in load_contract().datasets.items():
        if name in skip:
            continue
        header, rows = dataset_rows(name, n)
        write_csv(folder / f"{dataset.file_pattern}.csv", header, rows)
    if sample:
        (folder / "_sample.json").write_text('{"synthetic": true}', encoding="utf-8")
    return folder


def ole2_bytes() -> bytes:
    """The start of an OLE2 compound file: what Excel writes for a password-protected workbook."""
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + b"EncryptedPackage" + b"\x00" * 1000


__all__ = [
    "YEAR",
    "IN_YEAR",
    "dataset_rows",
    "csv_text",
    "write_csv",
    "write_xlsx",
    "write_year",
    "ole2_bytes",
    "valid_value",
    "date",
    "datetime",
]
