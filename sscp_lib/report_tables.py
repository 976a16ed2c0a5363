"""Tables in the stage reports, written for reviewers rather than as pandas prints them.

Human headings (a label given by the caller, the catalogue's label for a metric, a contract
column's label, else the column name in words), no index column unless the index means
something, numbers right-aligned with thousands separators (formatting.format_cell), wide tables
split into parts that fit the text column (the first column repeated in each), and an empty
result shown as a sentence.

`report_frame(frame, empty=...)` gives a DataFrame that displays this way in a notebook and is
otherwise an ordinary DataFrame; `table_html(frame, ...)` gives the HTML.
"""

from __future__ import annotations

import html
from datetime import date, datetime, time
from numbers import Number

import pandas as pd

from sscp_lib.catalogue import load_catalogue
from sscp_lib.formatting import SUPPRESSED, column_heading, format_cell, format_date, public_label

# The text column holds about this many characters of table text (0.9rem type in the 57rem column
# on screen; 9pt type across A4's 180 mm in print).
TEXT_WIDTH_CHARS = 110
WIDEST_TEXT_COLUMN = 28  # characters a wrapping text column needs at least, however long its text
NUM_CLASS = ' class="num"'
DEFAULT_EMPTY = "Nothing to show: the table is empty."


def heading_for(column, labels: dict | None = None) -> str:
    """The heading a reviewer reads for a column name."""
    name = str(column)
    if labels and name in labels:
        return str(labels[name])
    spec = load_catalogue()["metrics"].get(name)
    if spec:
        return public_label(spec["label"])
    label = _contract_labels().get(name)
    return label or column_heading(name)


def _contract_labels() -> dict[str, str]:
    """Contract column name -> its label, where the contract gives one."""
    from sscp_lib.contract import load_contract

    found: dict[str, str] = {}
    for dataset in load_contract().datasets.values():
        for column in dataset.columns:
            label = getattr(column, "label", None)
            if label:
                found.setdefault(column.canonical_name, str(label))
    return found


def _is_number(value) -> bool:
    return isinstance(value, Number) and not isinstance(value, bool) and not pd.isna(value)


def _cell(value, column: str) -> str:
    if isinstance(value, (list, tuple)):
        return format_cell(list(value), column)
    if value is None or (not isinstance(value, (list, tuple, dict)) and pd.isna(value)):
        return format_cell(None, column)
    if isinstance(value, datetime):  # a timestamp at midnight is a date
        return format_date(value) + ("" if value.time() == time() else f" {value:%H:%M}")
    if isinstance(value, date):
        return format_date(value)
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()  # numpy scalar -> Python
    try:
        return format_cell(value, column)
    except ValueError:  # text that only looks like a month or a date, e.g. the year "2023-24"
        return str(value)


def _displayed(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with a meaningful index as its first column, a plain 0..n-1 index dropped."""
    index = frame.index
    plain = isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1 and index.name is None
    if plain:
        return frame
    names = [n if n is not None else "" for n in (index.names or [None])]
    out = frame.copy()
    out.index = index.set_names(names)
    return out.reset_index()


def _numeric_column(values: list) -> bool:
    """Numbers (and suppressed counts, "c") in every filled cell, and at least one number."""
    filled = [v for v in values if isinstance(v, (list, tuple, dict)) or not pd.isna(v)]
    return any(_is_number(v) for v in filled) and all(_is_number(v) or v == SUPPRESSED for v in filled)


def _column_min_width(heading: str, cells: list[str]) -> int:
    """Characters a column needs when text wraps at spaces (numbers never wrap)."""
    words = [w for text in [heading, *cells] for w in text.split()] or [""]
    longest = max(len(w) for w in words)
    full = max([len(c) for c in cells] or [0])
    return min(max(longest, min(full, WIDEST_TEXT_COLUMN)), WIDEST_TEXT_COLUMN) + 3


def column_parts(widths: list[int], budget: int = TEXT_WIDTH_CHARS) -> list[list[int]]:
    """Column positions for each part of a table split to fit `budget` characters; every part
    starts with column 0 (the row's name)."""
    if sum(widths) <= budget or len(widths) <= 2:
        return [list(range(len(widths)))]
    parts: list[list[int]] = []
    current, used = [0], widths[0]
    for i in range(1, len(widths)):
        if len(current) > 1 and used + widths[i] > budget:
            parts.append(current)
            current, used = [0], widths[0]
        current.append(i)
        used += widths[i]
    parts.append(current)
    return parts


def table_html(
    frame: pd.DataFrame,
    *,
    caption: str | None = None,
    empty: str = DEFAULT_EMPTY,
    labels: dict | None = None,
    budget: int = TEXT_WIDTH_CHARS,
) -> str:
    """A DataFrame as one or more accessible HTML tables, or a sentence when it has no rows."""
    if frame is None or len(frame) == 0:
        return f'<p class="empty-result">{html.escape(empty)}</p>'
    shown = _displayed(frame)
    columns = [str(c) for c in shown.columns]
    headings = [heading_for(c, labels) if c else "" for c in columns]
    values = [list(row) for row in shown.itertuples(index=False, name=None)]
    cells = [[_cell(v, c) for v, c in zip(row, columns)] for row in values]
    numeric = [_numeric_column([row[i] for row in values]) for i in range(len(columns))]
    widths = [_column_min_width(headings[i], [r[i] for r in cells]) for i in range(len(columns))]
    parts = column_parts(widths, budget)
    out = []
    for number, part in enumerate(parts, start=1):
        title = caption or ""
        if len(parts) > 1:
            shown_columns = ", ".join(headings[i] for i in part[1:])
            part_words = f"part {number} of {len(parts)} ({shown_columns})"
            title = f"{title}, {part_words}" if title else part_words[:1].upper() + part_words[1:]
        head = "".join(
            f'<th scope="col"{NUM_CLASS if numeric[i] else ""}>{html.escape(headings[i])}</th>' for i in part
        )
        body = []
        for row in cells:
            tds = []
            for position, i in enumerate(part):
                text = html.escape(row[i])
                if position == 0 and not numeric[i]:
                    tds.append(f'<th scope="row">{text}</th>')
                else:
                    tds.append(f'<td class="num">{text}</td>' if numeric[i] else f"<td>{text}</td>")
            body.append("<tr>" + "".join(tds) + "</tr>")
        caption_html = f"<caption>{html.escape(title)}</caption>" if title else ""
        # A table wider than the page scrolls in its wrapper: a keyboard reaches it, a screen reader names it.
        name = title or _table_name([headings[i] for i in part])
        out.append(
            f'<div class="table-wrap" role="region" tabindex="0" aria-label="{html.escape(name)}">'
            f'<table class="review-table">{caption_html}<thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table></div>"
        )
    return "\n".join(out)


def _table_name(headings: list[str]) -> str:
    """A table without a caption named by its columns, e.g. "Table of Check, Family, Severity and 5 more columns"."""
    named = [h for h in headings if h]
    shown = ", ".join(named[:3])
    more = len(named) - 3
    return f"Table of {shown}" + (f" and {more} more column{'s' if more > 1 else ''}" if more > 0 else "")


class ReportFrame(pd.DataFrame):
    """A DataFrame that shows itself in a notebook as table_html draws it."""

    _metadata = ["report_options"]

    @property
    def _constructor(self):
        return ReportFrame

    def _repr_html_(self) -> str:
        return table_html(pd.DataFrame(self), **(getattr(self, "report_options", None) or {}))


def report_frame(
    frame: pd.DataFrame, *, empty: str = DEFAULT_EMPTY, caption: str | None = None, labels: dict | None = None
) -> ReportFrame:
    """`frame`, displayed for reviewers when it is a notebook cell's result."""
    shown = ReportFrame(frame)
    shown.report_options = {"empty": empty, "caption": caption, "labels": labels}
    return shown


def as_report_frame(frame: pd.DataFrame) -> ReportFrame:
    """`frame` displayed for reviewers, keeping the options of one that already is."""
    return frame if isinstance(frame, ReportFrame) else report_frame(frame)
