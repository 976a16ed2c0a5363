"""Disclosure control (sscp_lib.disclosure): small counts and the cells that would reveal them."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sscp_lib.disclosure import SUPPRESSED, is_small, recoverable_cells, suppress_count, suppress_table

THRESHOLD = 5


def with_totals(body: pd.DataFrame, rows: bool = True) -> pd.DataFrame:
    table = body.copy()
    if rows:
        table["Total"] = table.sum(axis=1)
    table.loc["Total"] = table.sum(axis=0)
    return table


@pytest.mark.parametrize(
    "value, small",
    [
        (0, False),
        (1, True),
        (5, True),
        (6, False),
        (None, False),
        (math.nan, False),
        ("c", False),
        (True, False),
        (3.0, True),
    ],
)
def test_is_small(value, small):
    assert is_small(value, THRESHOLD) is small


def test_suppress_count_keeps_zero_and_large():
    assert [suppress_count(v, THRESHOLD) for v in (0, 1, 5, 6, 120)] == [0, "c", "c", 6, 120]


def test_primary_and_secondary_in_a_column_with_a_total():
    body = pd.DataFrame({"referrals": [40, 3, 9, 0, 25]}, index=list("ABCDE"))
    out = suppress_table(with_totals(body, rows=False), THRESHOLD, col_total="Total")
    assert out.loc["B", "referrals"] == SUPPRESSED  # primary: 3
    assert out.loc["C", "referrals"] == SUPPRESSED  # secondary: next smallest non-zero
    assert out.loc["D", "referrals"] == 0  # zero is not disclosive and is not a useful second cell
    assert out.loc["Total", "referrals"] == 77
    assert recoverable_cells(out, col_total="Total") == set()


def test_secondary_prefers_a_cell_that_mends_row_and_column():
    body = pd.DataFrame({"x": [2, 20, 30], "y": [15, 4, 40], "z": [50, 60, 70]}, index=list("ABC"))
    out = suppress_table(with_totals(body), THRESHOLD, row_total="Total", col_total="Total")
    hidden = {(r, c) for r in "ABC" for c in "xyz" if out.loc[r, c] == SUPPRESSED}
    assert {("A", "x"), ("B", "y")} <= hidden
    # Swapping the two primaries' partners (A-y, B-x) closes both rows and both columns.
    assert hidden == {("A", "x"), ("B", "y"), ("A", "y"), ("B", "x")}
    assert recoverable_cells(out, row_total="Total", col_total="Total") == set()
    assert out.loc["Total", "Total"] == 291


def test_small_total_is_suppressed():
    body = pd.DataFrame({"a": [2, 0], "b": [30, 40]}, index=["r1", "r2"])
    out = suppress_table(with_totals(body), THRESHOLD, row_total="Total", col_total="Total")
    assert out.loc["Total", "a"] == SUPPRESSED


def test_secondary_cell_never_given_away_by_a_zero_row():
    body = pd.DataFrame(
        {"ADVICE_INFO": [0, 0, 4, 9], "ASSESSMENT": [20, 7, 12, 0], "S47": [0, 0, 0, 3]},
        index=["EDUCATION", "HEALTH", "POLICE", "UNKNOWN"],
    )
    out = suppress_table(with_totals(body), THRESHOLD, row_total="Total", col_total="Total")
    assert recoverable_cells(out, row_total="Total", col_total="Total") == set()


# ---------------------------------------------------------------------------------------------
# Properties over random tables
# ---------------------------------------------------------------------------------------------

cell = st.one_of(st.just(0), st.integers(1, THRESHOLD), st.integers(THRESHOLD + 1, 200))


@st.composite
def count_tables(draw):
    n_rows, n_cols = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    values = draw(st.lists(st.lists(cell, min_size=n_cols, max_size=n_cols), min_size=n_rows, max_size=n_rows))
    return pd.DataFrame(values, index=[f"r{i}" for i in range(n_rows)], columns=[f"c{j}" for j in range(n_cols)])


def _lines(out: pd.DataFrame, body: pd.DataFrame, row_totals: bool):
    """(body values, published flags, total) for every row and column that carries a total."""
    if row_totals:
        for r in body.index:
            yield body.loc[r], out.loc[r, body.columns], out.loc[r, "Total"]
    for c in body.columns:
        yield body[c], out.loc[body.index, c], out.loc["Total", c]


def _check(body: pd.DataFrame, row_totals: bool) -> pd.DataFrame:
    out = suppress_table(
        with_totals(body, rows=row_totals), THRESHOLD, row_total="Total" if row_totals else None, col_total="Total"
    )
    published_body = out.loc[body.index, body.columns]
    # 1. No published body cell is a small count.
    for value in published_body.to_numpy().ravel():
        assert value == SUPPRESSED or not is_small(value, THRESHOLD)
    # 2. No row or column with a published total has exactly one suppressed cell.
    for _values, published, total in _lines(out, body, row_totals):
        if total == SUPPRESSED:
            continue
        assert (published == SUPPRESSED).sum() != 1, "a hidden cell equals its total minus the rest"
    # 3. Nothing hidden can be worked out by repeated subtraction.
    assert recoverable_cells(out, row_total="Total" if row_totals else None, col_total="Total") == set()
    return out


@settings(max_examples=150, deadline=None)
@given(count_tables())
def test_two_way_tables_hide_small_cells(body):
    _check(body, row_totals=True)


@settings(max_examples=150, deadline=None)
@given(count_tables())
def test_tables_with_column_totals_give_nothing_away(body):
    out = _check(body, row_totals=False)
    assert recoverable_cells(out, col_total="Total") == set()
