"""Disclosure control for published counts of children's records.

Counts from 1 up to the threshold (config: disclosure.suppress_up_to) are shown as "c".
Zero is not disclosive and is shown. Where a row or column total is published, a single
suppressed cell could be worked out by subtraction, so a second cell is suppressed too.
"""

from __future__ import annotations

import math
from numbers import Real

import pandas as pd

SUPPRESSED = "c"


def is_small(value, threshold: int) -> bool:
    """True for a count that must not be published (1..threshold)."""
    if value is None or isinstance(value, str) or isinstance(value, bool):
        return False
    if isinstance(value, Real) and not (isinstance(value, float) and math.isnan(value)):
        return 0 < float(value) <= threshold
    return False


def suppress_count(value, threshold: int):
    """A single published count: the value, or "c" when it is small."""
    return SUPPRESSED if is_small(value, threshold) else value


def _lines(index: list, columns: list, row_total, col_total) -> list[tuple[list[tuple], tuple | None]]:
    """Every published sum: (cells, total cell) for rows, columns and the totals row/column."""
    body_rows = [r for r in index if r != col_total]
    body_cols = [c for c in columns if c != row_total]
    lines: list[tuple[list[tuple], tuple | None]] = []
    if row_total is not None:
        lines += [([(r, c) for c in body_cols], (r, row_total)) for r in body_rows]
    if col_total is not None:
        lines += [([(r, c) for r in body_rows], (col_total, c)) for c in body_cols]
    if row_total is not None and col_total is not None:
        lines.append(([(col_total, c) for c in body_cols], (col_total, row_total)))
        lines.append(([(r, row_total) for r in body_rows], (col_total, row_total)))
    return lines


def suppress_table(
    counts: pd.DataFrame,
    threshold: int,
    row_total: str | None = None,
    col_total: str | None = None,
) -> pd.DataFrame:
    """Primary and secondary suppression of a table of counts.

    `row_total` names a column holding each row's total; `col_total` names the index label of a
    totals row. Small cells (and small totals) are hidden; then, until no published sum has
    exactly one hidden cell (which subtraction would recover), another cell of that sum is
    hidden: preferably one that also mends a crossing sum, else the smallest non-zero cell,
    else the sum's total itself.
    """
    index, columns = list(counts.index), list(counts.columns)
    values = {(r, c): counts.loc[r, c] for r in index for c in columns}
    hidden: set = {cell for cell, v in values.items() if is_small(v, threshold)}
    lines = _lines(index, columns, row_total, col_total)
    lines_of: dict[tuple, list[int]] = {}
    for i, (cells, _) in enumerate(lines):
        for cell in cells:
            lines_of.setdefault(cell, []).append(i)

    def hidden_count(i: int) -> int:
        cells, total = lines[i]
        return sum(cell in hidden for cell in cells) + (total in hidden if total else 0)

    def non_zero(cell) -> bool:
        v = values[cell]
        return not (v is None or (isinstance(v, float) and math.isnan(v))) and v != 0

    def rank(cell, own: int):
        crossing = [i for i in lines_of.get(cell, []) if i != own]
        mends = any(hidden_count(i) == 1 for i in crossing)
        # A cell that is the only non-zero of its crossing sum would be given away by that sum.
        strands = any(
            hidden_count(i) == 0 and not any(non_zero(c) and c != cell and c not in hidden for c in lines[i][0])
            for i in crossing
        )
        return (not mends, strands, float(values[cell]), str(cell))

    changed = True
    while changed:
        changed = False
        for i, (cells, total) in enumerate(lines):
            if total in hidden or hidden_count(i) != 1:
                continue
            candidates = [c for c in cells if c not in hidden and non_zero(c)]
            hidden.add(min(candidates, key=lambda c: rank(c, i)) if candidates else total)
            changed = True

    out = counts.astype(object).copy()
    for r, c in hidden:
        out.loc[r, c] = SUPPRESSED
    return out


def recoverable_cells(table: pd.DataFrame, row_total: str | None = None, col_total: str | None = None) -> set:
    """Suppressed cells of a published table that subtraction from its totals would reveal."""
    unknown = {(r, c) for r in table.index for c in table.columns if table.loc[r, c] == SUPPRESSED}
    hidden_at_start = set(unknown)
    lines = _lines(list(table.index), list(table.columns), row_total, col_total)
    changed = True
    while changed:
        changed = False
        for cells, total in lines:
            if total in unknown:
                continue
            missing = [cell for cell in cells if cell in unknown]
            if len(missing) == 1:
                unknown.discard(missing[0])
                changed = True
    return hidden_at_start - unknown
