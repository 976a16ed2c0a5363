"""Disclosure control for published counts of children's records.

Counts from 1 up to the threshold (config: disclosure.suppress_up_to) are shown as "c".
Zero is not disclosive and is shown. Where a row or column total is published, a single
suppressed cell could be worked out by subtraction, so a second cell is suppressed too.
"""

from __future__ import annotations

import math
from numbers import Number

import pandas as pd

SUPPRESSED = "c"


def is_small(value, threshold: int) -> bool:
    """True for a count that must not be published (1..threshold)."""
    if value is None or isinstance(value, str) or isinstance(value, bool):
        return False
    if isinstance(value, Number) and not (isinstance(value, float) and math.isnan(value)):
        return 0 < value <= threshold
    return False


def suppress_count(value, threshold: int):
    """A single published count: the value, or "c" when it is small."""
    return SUPPRESSED if is_small(value, threshold) else value


def suppress_table(
    counts: pd.DataFrame,
    threshold: int,
    row_total: str | None = None,
    col_total: str | None = None,
) -> pd.DataFrame:
    """Primary and secondary suppression of a table of counts.

    `row_total` names a column holding each row's total; `col_total` names the index label of a
    totals row. Totals are published as they are; cells are suppressed so that no suppressed
    cell can be recovered from a total by subtraction: any row (or column) with a total and
    exactly one suppressed cell has its next smallest non-zero cell suppressed as well,
    repeated until no such row or column is left.
    """
    body_cols = [c for c in counts.columns if c != row_total]
    body_rows = [r for r in counts.index if r != col_total]
    body = counts.loc[body_rows, body_cols]
    hidden = body.apply(lambda s: s.map(lambda v: is_small(v, threshold))).astype(bool)

    def _secondary(frame_hidden: pd.DataFrame, values: pd.DataFrame, other_axis_checked: bool) -> bool:
        changed = False
        for label in frame_hidden.index:
            row_hidden = frame_hidden.loc[label]
            if int(row_hidden.sum()) != 1:
                continue
            candidates = values.loc[label][~row_hidden].astype(float)
            candidates = candidates[candidates.fillna(0) > 0]
            if candidates.empty:
                continue
            # Prefer a cell whose column also has a lone suppressed cell: one choice mends both.
            lone = frame_hidden.sum(axis=0) == 1 if other_axis_checked else frame_hidden.sum(axis=0) < 0
            ranked = sorted(candidates.index, key=lambda c: (not bool(lone[c]), candidates[c], str(c)))
            frame_hidden.loc[label, ranked[0]] = True
            changed = True
        return changed

    while True:
        changed = False
        if row_total is not None:
            changed |= _secondary(hidden, body, col_total is not None)
        if col_total is not None:
            transposed = hidden.T.copy()
            if _secondary(transposed, body.T, row_total is not None):
                hidden = transposed.T.copy()
                changed = True
        if not changed:
            break

    out = counts.astype(object).copy()
    for r in body_rows:
        for c in body_cols:
            if hidden.loc[r, c]:
                out.loc[r, c] = SUPPRESSED
    # A total that is itself small is suppressed as well.
    for r in out.index:
        for c in out.columns:
            if (r == col_total or c == row_total) and is_small(out.loc[r, c], threshold):
                out.loc[r, c] = SUPPRESSED
    return out
