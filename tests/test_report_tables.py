"""Tables in the stage reports: human headings, no index, right-aligned numbers, split to fit, empty as a sentence."""

import re

import pandas as pd

from sscp_lib.report_tables import column_parts, heading_for, report_frame, table_html


def _headers(page: str) -> list[str]:
    return re.findall(r'<th scope="col"[^>]*>([^<]*)</th>', page)


def test_headings_are_human_and_the_plain_index_is_gone():
    frame = pd.DataFrame({"dataset": ["referrals"], "rows_validated": [12000], "rows_quarantined": [3]})
    page = table_html(frame)
    assert _headers(page) == ["Dataset", "Rows validated", "Rows quarantined"]
    assert ">0<" not in page  # no index number


def test_a_metric_column_takes_the_catalogue_label_and_a_caller_label_wins():
    assert heading_for("data.referrals") == "Referrals"
    assert heading_for("rows", {"rows": "Rows read"}) == "Rows read"
    assert heading_for("complete_pct") == "Complete"


def test_numbers_are_right_aligned_with_thousands_separators_and_suppressed_counts_stay_c():
    frame = pd.DataFrame({"table": ["a", "b"], "rows": [1234567, "c"], "note": ["x", None]})
    page = table_html(frame)
    assert '<td class="num">1,234,567</td>' in page and '<td class="num">c</td>' in page
    assert '<th scope="col" class="num">Rows</th>' in page
    assert "<td>–</td>" in page  # a missing text value
    assert '<th scope="row">a</th>' in page


def test_a_meaningful_index_becomes_the_first_column():
    frame = pd.DataFrame({"rows": [5, 6]}, index=pd.Index(["clean", "validated"], name="layer"))
    page = table_html(frame)
    assert _headers(page) == ["Layer", "Rows"]
    assert '<th scope="row">clean</th>' in page


def test_an_empty_result_is_a_sentence_not_an_empty_table():
    page = table_html(pd.DataFrame({"check": []}), empty="No expectation failed.")
    assert page == '<p class="empty-result">No expectation failed.</p>'
    assert report_frame(pd.DataFrame(), empty="No rows were quarantined.")._repr_html_() == (
        '<p class="empty-result">No rows were quarantined.</p>'
    )


def test_a_wide_table_is_split_into_parts_that_repeat_the_first_column():
    frame = pd.DataFrame({f"measure_number_{i}": [1000 * i] for i in range(12)})
    frame.insert(0, "dataset", ["referrals"])
    page = table_html(frame, caption="Wide")
    tables = page.count("<table")
    assert tables >= 2
    assert page.count('<th scope="row">referrals</th>') == tables
    assert "Wide, part 1 of" in page
    for i in range(12):
        assert f"Measure number {i}<" in page


def test_column_parts_fit_the_budget_and_keep_every_column():
    widths = [10, 30, 30, 30, 30, 30]
    parts = column_parts(widths, budget=75)
    assert all(p[0] == 0 for p in parts)
    assert sorted({i for p in parts for i in p}) == list(range(6))
    assert all(sum(widths[i] for i in p) <= 75 for p in parts)
    assert column_parts([10, 20], budget=5) == [[0, 1]]


def test_a_report_frame_is_still_a_dataframe_for_the_metrics():
    frame = report_frame(pd.DataFrame({"dataset": ["a"], "rows": [1]}), empty="None.")
    assert isinstance(frame[["rows"]], pd.DataFrame)
    assert frame["rows"].sum() == 1


def test_text_that_looks_like_a_month_is_left_as_it_is():
    page = table_html(pd.DataFrame({"value": ["2023-24", "2023-10"]}, index=pd.Index(["year", "month"], name="")))
    assert "<td>2023-24</td>" in page and "<td>October 2023</td>" in page


def test_dates_read_as_dates():
    frame = pd.DataFrame(
        {"audit": ["A"], "audit_date": [pd.Timestamp("2023-05-18")], "sent": [pd.Timestamp("2023-05-18 09:30")]}
    )
    page = table_html(frame)
    assert "<td>18 May 2023</td>" in page and "09:30" in page


def test_every_table_scrolls_in_a_region_a_keyboard_reaches_and_a_screen_reader_names():
    captioned = table_html(pd.DataFrame({"dataset": ["referrals"], "rows": [3]}), caption="Rows by dataset")
    assert '<div class="table-wrap" role="region" tabindex="0" aria-label="Rows by dataset">' in captioned
    wide = pd.DataFrame({name: [1] for name in ("check", "family", "severity", "result", "failing_rows")})
    assert 'aria-label="Table of Check, Family, Severity and 2 more columns"' in table_html(wide, budget=1000)


def test_the_validation_summary_fits_the_page_unsplit():
    """Ten columns (the dataset, its rows, checks and outcome) of the validation report's summary
    fit the text column at 1,280 px: one table, not two parts."""
    columns = ["dataset", "rows", "rows in 2023-24", "expectations", "passed", "failed", "warned"]
    frame = pd.DataFrame(
        [["business_plan_actions", 43200, 15000, 40, 40, 0, 0, 0, "ok"]],
        columns=[*columns, "rows_quarantined", "outcome"],
    )
    page = table_html(frame)
    assert page.count("<table") == 1 and "part 1 of" not in page
