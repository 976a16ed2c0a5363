"""Save: an answer for a briefing, always suppressed, with marking, title, source and notes.

    answer.save("unknown-spike.xlsx")   # or .csv: the table; .png or .svg: the chart

A working (unsuppressed) answer is suppressed before it is written: nothing small leaves the
notebook through here.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from sscp_lib.explore.draw import draw, notes
from sscp_lib.explore.vocabulary import ExploreError

if TYPE_CHECKING:  # answers imports this module when an answer is drawn or saved
    from sscp_lib.explore.answers import Answer

TABLE_SUFFIXES = (".csv", ".xlsx")
CHART_SUFFIXES = (".png", ".svg")


def _keeps_index(table: pd.DataFrame) -> bool:
    return not isinstance(table.index, pd.RangeIndex)


def _write_csv(answer: Answer, path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        for line in [answer.marking, answer.title]:
            if line:
                writer.writerow([line])
        writer.writerow([])
        tables = [answer.table] + ([answer.shares] if answer.shares is not None else [])
        for i, table in enumerate(tables):
            if i:
                writer.writerow([])
                writer.writerow(["% of each row"])
            table.to_csv(fh, index=_keeps_index(table), lineterminator="\n")
        writer.writerow([])
        for line in notes(answer):
            writer.writerow([line])


def _write_xlsx(answer: Answer, path: Path) -> None:
    sheets = {"Table": answer.table}
    if answer.shares is not None:
        sheets["% of each row"] = answer.shares
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, table in sheets.items():
            header = [line for line in (answer.marking, answer.title) if line]
            table.to_excel(writer, sheet_name=name, startrow=len(header) + 1, index=_keeps_index(table))
            sheet = writer.sheets[name]
            for row, line in enumerate(header, start=1):
                sheet.cell(row=row, column=1, value=line)
            last = sheet.max_row + 2
            for offset, line in enumerate(notes(answer)):
                sheet.cell(row=last + offset, column=1, value=line)


def save(answer: Answer, path, *, dpi: int = 150) -> Path:
    """Write the suppressed answer to `path`: a table (.csv, .xlsx) or its chart (.png, .svg)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES + CHART_SUFFIXES:
        raise ExploreError(f"{path}: save as one of {', '.join(TABLE_SUFFIXES + CHART_SUFFIXES)}")
    published = answer.with_suppression()
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        _write_csv(published, path)
    elif suffix == ".xlsx":
        _write_xlsx(published, path)
    else:
        import matplotlib.pyplot as plt

        fig = draw(published)
        fig.savefig(path, dpi=dpi)
        plt.close(fig)
    return path
