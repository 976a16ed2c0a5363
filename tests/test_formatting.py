"""One way to write each kind of figure."""

from datetime import date

import pytest

from sscp_lib.catalogue import load_catalogue
from sscp_lib.formatting import (
    FORMATTERS,
    column_heading,
    format_cell,
    format_change,
    format_count,
    format_date,
    format_days,
    format_list,
    format_metric,
    format_money,
    format_month,
    format_percent,
    format_rate,
    format_table,
    format_value,
)


@pytest.mark.parametrize(
    "value, expected",
    [(1401, "1,401"), (0, "0"), (1234567, "1,234,567"), (12.0, "12"), (2.5, "3")],
)
def test_counts_have_thousands_separators_and_round_half_up(value, expected):
    assert format_count(value) == expected


@pytest.mark.parametrize(
    "value, expected",
    [
        (92, "92%"),
        (92.5, "93%"),
        (91.96, "92%"),
        (4.72, "4.7%"),
        (5.0, "5%"),
        (9.96, "10%"),
        (0, "0%"),
        (100, "100%"),
        (10.4, "10%"),
    ],
)
def test_percentages_whole_with_one_decimal_below_ten(value, expected):
    assert format_percent(value) == expected


@pytest.mark.parametrize("value, expected", [(123456, "£123,456"), (99.5, "£100"), (-1234.4, "-£1,234"), (0, "£0")])
def test_money(value, expected):
    assert format_money(value) == expected


@pytest.mark.parametrize("value, expected", [(12, "12 days"), (1, "1 day"), (12.5, "12.5 days"), (0, "0 days")])
def test_days(value, expected):
    assert format_days(value) == expected


@pytest.mark.parametrize("value, expected", [(41.23, "41.2"), (41.25, "41.3"), (40, "40.0"), (10234.5, "10,234.5")])
def test_rates_per_ten_thousand_to_one_decimal(value, expected):
    assert format_rate(value) == expected


def test_dates_and_months_are_written_out():
    assert format_date("2023-12-18") == "18 December 2023"
    assert format_date(date(2024, 3, 1)) == "1 March 2024"
    assert format_date("2023-12-18T00:00:00") == "18 December 2023"
    assert format_month("2023-10") == "October 2023"
    with pytest.raises(ValueError, match="2023-10"):
        format_month("October")


@pytest.mark.parametrize(
    "items, expected",
    [
        (["a"], "a"),
        (["a", "b"], "a and b"),
        (["a", "b", "c"], "a, b and c"),
        ([], "none"),
        (["2023-10", "2023-11"], "October 2023 and November 2023"),
    ],
)
def test_lists_read_as_prose(items, expected):
    assert format_list(items) == expected


@pytest.mark.parametrize("unit", sorted(FORMATTERS))
def test_every_unit_keeps_c_and_says_when_a_value_is_missing(unit):
    assert format_value("c", unit) == "c"
    assert format_value(None, unit) == "not available"
    assert format_value(float("nan"), unit) == "not available"


def test_format_metric_uses_the_entry_unit():
    assert format_metric({"value": 1401, "unit": "count"}) == "1,401"
    assert format_metric({"value": 92.0, "unit": "percent"}) == "92%"
    assert format_metric({"value": "2023-12-18", "unit": "date"}) == "18 December 2023"
    assert format_metric({"value": "c", "unit": "count"}) == "c"
    with pytest.raises(TypeError, match="format_table"):
        format_metric({"value": {"columns": [], "rows": []}, "unit": "table"})
    with pytest.raises(ValueError, match="furlongs"):
        format_metric({"value": 1, "unit": "furlongs"})


def test_every_catalogue_unit_has_a_formatter():
    units = {spec["unit"] for spec in load_catalogue()["metrics"].values()}
    assert units - {"table"} <= set(FORMATTERS)


@pytest.mark.parametrize(
    "value, previous, unit, expected",
    [
        (92, 85, "percent", "up 7 percentage points from 85% the previous year"),
        (80, 81, "percent", "down 1 percentage point from 81% the previous year"),
        (5.5, 4.2, "percent", "up 1.3 percentage points from 4.2% the previous year"),
        (1401, 1200, "count", "up from 1,200 the previous year"),
        (900, 1200, "count", "down from 1,200 the previous year"),
        (1200, 1200, "count", "unchanged from 1,200 the previous year"),
        (300000, 310000, "gbp", "down from £310,000 the previous year"),
        (41.2, 38.0, "rate", "up from 38.0 the previous year"),
        ("c", 12, "count", "no comparison with the previous year is available"),
        (12, None, "count", "no comparison with the previous year is available"),
    ],
)
def test_year_on_year_phrases(value, previous, unit, expected):
    assert format_change(value, previous, unit) == expected


def test_no_change_phrase_for_units_without_a_scale():
    with pytest.raises(ValueError, match="list"):
        format_change(["a"], ["b"], "list")


def test_tables_format_cells_by_column_name_and_type():
    headers, rows = format_table(
        {
            "columns": ["month", "referrals", "share_pct", "budget_gbp", "median_days", "resolved"],
            "rows": [["2023-10", 1401, 4.72, 12000.0, 3, "yes"], ["2023-11", "c", None, 0, 1, "no"]],
        }
    )
    assert headers == ["Month", "Referrals", "Share", "Budget", "Median", "Resolved"]
    assert rows[0] == ["October 2023", "1,401", "4.7%", "£12,000", "3 days", "Yes"]
    assert rows[1] == ["November 2023", "c", "–", "£0", "1 day", "No"]


def test_cells_without_a_unit_in_their_name():
    assert format_cell(12.345) == "12.3"
    assert format_cell(7.0) == "7"
    assert format_cell(True) == "Yes"
    assert format_cell("2023-12-18") == "18 December 2023"
    assert format_cell("Neglect") == "Neglect"
    assert column_heading("cp_plan_rate_per_10k") == "Cp plan rate per 10,000"
