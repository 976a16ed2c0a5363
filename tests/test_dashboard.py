"""The Partnership Dashboard without a chain run: periods and path rules, the stages a quarter's run
runs, the words the dashboard uses (not yet received, verdicts, what changed), the commentary's
placeholders, and the page itself (self-contained, marked, DRAFT, synthetic, comparators or their
stated absence), from a made-up dataset in the dataset.json shape (tests/dashboard_fixtures.py)."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from dashboard_fixtures import sample_dataset

from sscp_lib.chain.dashboard_run import parse_period, resume_index, run_stages, write_quarter_metrics
from sscp_lib.config import Paths, Period, ReportingYear, ReportPaths, load_config
from sscp_lib.errors import UserError
from sscp_lib.files import write_json_atomic
from sscp_lib.publishing import dashboard as wording
from sscp_lib.publishing.charts.dashboard import save_dashboard_charts
from sscp_lib.publishing.dashboard_commentary import render_commentary
from sscp_lib.publishing.dashboard_page import write_dashboard_html
from sscp_lib.publishing.narrative import NarrativeError
from sscp_lib.publishing.render import external_references, images_without_alt
from sscp_lib.stages.registry import STAGES, get_stage

YEAR = ReportingYear.parse("2023-24")


# --- Periods and paths --------------------------------------------------------------------------


def test_quarters_run_april_to_march():
    q = [YEAR.quarter(n) for n in (1, 2, 3, 4)]
    assert [(x.start, x.end) for x in q] == [
        (date(2023, 4, 1), date(2023, 6, 30)),
        (date(2023, 7, 1), date(2023, 9, 30)),
        (date(2023, 10, 1), date(2023, 12, 31)),
        (date(2024, 1, 1), date(2024, 3, 31)),
    ]
    assert q[3].months == ["2024-01", "2024-02", "2024-03"]
    assert q[0].previous.label == "2022-23-Q4" and q[2].same_quarter_last_year.label == "2022-23-Q3"


def test_a_quarter_has_a_report_folder_and_processed_tables_of_its_own(tmp_path):
    paths = Paths(raw=tmp_path / "raw", processed=tmp_path / "processed", reports=tmp_path / "reports")
    quarter, year = Period.parse("2023-24", 3), Period.parse("2023-24")
    assert paths.reports_period(quarter) == tmp_path / "reports" / "2023-24-Q3"
    assert paths.reports_period(year) == paths.reports_year(YEAR)
    assert paths.for_period(year) == paths
    assert paths.for_period(quarter).processed_year(YEAR) == tmp_path / "processed" / "2023-24-Q3" / "2023-24"
    assert paths.for_period(quarter).raw == paths.raw
    assert year.dashboard_quarter.label == "2023-24-Q4"  # a year's run publishes Q4 beside the statement


@pytest.mark.parametrize("quarter", ["0", "5", "three", "-1"])
def test_a_quarter_outside_one_to_four_stops_with_one_sentence(quarter):
    with pytest.raises(UserError) as raised:
        parse_period("2023-24", quarter)
    message = str(raised.value)
    assert message.count(".") <= 1 and "1, 2, 3 or 4" in message and quarter in message


def test_a_quarter_that_has_not_begun_stops_with_one_sentence():
    with pytest.raises(UserError, match=r"2023-24-Q4 has not begun: it runs from 1 January 2024"):
        parse_period("2023-24", 4, today=date(2023, 11, 5))
    assert parse_period("2023-24", 3, today=date(2023, 11, 5)).label == "2023-24-Q3"


# --- The stages a run runs ----------------------------------------------------------------------


def test_a_quarters_run_runs_the_stages_the_registry_marks_for_it():
    quarter = [s.name for s in run_stages(Period.parse("2023-24", 3))]
    year = [s.name for s in run_stages(Period.parse("2023-24"))]
    assert quarter == ["clean", "validate", "dashboard"]
    assert year == [s.name for s in STAGES] and "statement" in year and "dashboard" in year
    assert get_stage("dashboard").notebook_path.exists()


def test_resuming_a_quarter_from_a_year_only_stage_says_so():
    period = Period.parse("2023-24", 3)
    assert resume_index(run_stages(period), "dashboard", period) == 2
    with pytest.raises(UserError, match="a quarter's run has no stage 'statement'"):
        resume_index(run_stages(period), "statement", period)


def test_the_dashboard_notebook_is_committed_without_outputs():
    nb = json.loads(get_stage("dashboard").notebook_path.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)
    assert "parameters" in code[0]["metadata"].get("tags", [])
    assert sum("run_stage(" in "".join(c["source"]) for c in code) == 1


# --- The words ----------------------------------------------------------------------------------


def test_a_quarter_not_yet_received_is_said_so_never_zero():
    dataset = sample_dataset("2023-24-Q3", health_missing=True)
    health = next(i for i in dataset["indicators"] if i["id"] == "health_referrals")
    quarter = YEAR.quarter(3)
    cell = wording.value_cell(health, quarter)
    assert (cell.text, cell.state) == ("Not yet received", "not-received")
    assert wording.value_cell(health, quarter.previous).state == "value"  # Q2 arrived
    assert wording.not_received(health, dataset) == ["2023-24-Q3"]
    assert any("not yet received for Q3 2023-24: Health referrals" in s for s in wording.changed_sentences(dataset))


def test_what_changed_names_the_special_cause_with_its_direction_and_values():
    sentences = wording.changed_sentences(sample_dataset("2023-24-Q3", health_missing=False))
    assert sentences[0].startswith("Re-referrals within 12 months rose beyond their usual variation")
    assert (
        ", a concern: " in sentences[0] and "in Q3 2023-24 against" in sentences[0] and "a year earlier" in sentences[0]
    )
    assert len(sentences) == 1  # the other series are common cause; nothing missing


def test_a_rating_that_moved_is_said(tmp_path):
    dataset = sample_dataset("2023-24-Q3", health_missing=False)
    dataset["indicators"][-1]["rag_previous"] = {"status": "amber"}
    assert "Audit actions completed on time moved from Amber to Green since the quarter before." in (
        wording.changed_sentences(dataset)
    )


def test_a_quiet_quarter_says_nothing_changed():
    dataset = sample_dataset("2023-24-Q2", health_missing=False)
    for indicator in dataset["indicators"]:
        indicator["variation"] = {"code": "common_cause"}
    assert wording.changed_sentences(dataset) == [
        "No indicator shows special-cause variation in Q2 2023-24 and no rating changed since the quarter before."
    ]


@pytest.mark.parametrize(
    ("variation", "assurance", "words"),
    [
        ({"code": "improving", "direction": "higher"}, None, ("Special cause: improving (higher)", "No target set")),
        ({"code": "concerning", "direction": "lower"}, {"code": "failing"}, ("Special cause: concerning (lower)", "Consistently failing the target")),
        ({"code": "neither", "direction": "higher"}, {"code": "passing"}, ("Special cause (higher)", "Consistently passing the target")),
        ({"code": "common_cause"}, {"code": "hit_and_miss"}, ("Common cause: no significant change", "Hit and miss: the target may or may not be met")),
        ({"code": "too_few_points"}, {"code": "too_few_points"}, ("Too few months to judge", "Too few months to judge")),
        ({"code": "no_data", "text": "No value for the latest quarter: not yet received"}, None, ("No value for the latest quarter: not yet received", "No target set")),
    ],
)  # fmt: skip
def test_every_verdict_has_words(variation, assurance, words):
    indicator = {"variation": variation, "assurance": assurance}
    assert (wording.variation_verdict(indicator).words, wording.assurance_verdict(indicator).words) == words


# --- The commentary -----------------------------------------------------------------------------


def test_commentary_placeholders_write_the_datasets_figures(tmp_path):
    path = tmp_path / "2023-24-Q3.md"
    path.write_text(
        "## Front door\n\nRe-referrals: {{ d.re_referral_pct }} ({{ d.re_referral_pct.last_year }} a year "
        "earlier, {{ d.re_referral_pct.variation }}); health: {{ d.health_referrals }} in {{ quarter }}.\n",
        encoding="utf-8",
    )
    dataset = sample_dataset("2023-24-Q3")
    text = render_commentary(path, dataset, YEAR.quarter(3))
    re_referrals = next(i for i in dataset["indicators"] if i["id"] == "re_referral_pct")
    latest = wording.format_indicator_value(re_referrals["values"]["2023-24-Q3"], "percent")
    assert f'<span data-indicator="re_referral_pct">{latest}</span>' in text
    assert "special cause: concerning (higher)" in text
    assert '<span data-indicator="health_referrals">Not yet received</span> in Q3 2023-24' in text
    assert "<h3>Front door</h3>" in text  # under the page's Commentary heading


def test_a_placeholder_naming_no_indicator_stops_with_file_and_line(tmp_path):
    path = tmp_path / "2023-24-Q3.md"
    path.write_text("Fine.\n\nThen {{ d.referalls }}.\n", encoding="utf-8")
    with pytest.raises(NarrativeError, match=r"2023-24-Q3\.md, line 3: placeholder 'd\.referalls' names no indicator"):
        render_commentary(path, sample_dataset(), YEAR.quarter(3))


# --- The page -----------------------------------------------------------------------------------


def _page(tmp_path: Path, *, comparators: bool, status: dict | None) -> str:
    report = ReportPaths(tmp_path / "report")
    dataset = sample_dataset("2023-24-Q3", comparators=comparators)
    report.root.mkdir(parents=True)
    write_json_atomic(report.dataset_json, dataset)
    save_dashboard_charts(dataset, report.dashboard_charts, synthetic=True)
    marking = "OFFICIAL" if status and status["approved"] else "OFFICIAL – DRAFT"
    config = load_config()
    config["dashboard_narrative"] = str(tmp_path / "{period}.md")  # none written: the page says so
    path = write_dashboard_html(report, config, synthetic=True, marking=marking, status=status)
    return path.read_text(encoding="utf-8")


def test_the_page_is_self_contained_marked_synthetic_and_a_draft(tmp_path):
    page = _page(tmp_path, comparators=False, status={"approved": False, "text": "Not approved for this run."})
    assert external_references(page) == [] and images_without_alt(page) == [] and "<script" not in page
    assert page.count("OFFICIAL – DRAFT") >= 2  # top and foot (and the PDF's margins)
    assert "<strong>DRAFT.</strong> Not approved for this run." in page
    assert "made from the synthetic sample" in page
    assert len(re.findall(r"<h1[\s>]", page)) == 1
    assert "What changed significantly this quarter" in page and "Not yet received" in page
    assert "No commentary has been written for Q3 2023-24 yet" in page


def test_the_grid_shows_comparators_or_their_stated_absence(tmp_path):
    without = _page(tmp_path / "a", comparators=False, status=None)
    assert "Comparator not supplied" in without and "England" not in without
    with_them = _page(tmp_path / "b", comparators=True, status={"approved": True, "text": "Approved by the chair."})
    assert "England 544.5; region 601.2; neighbours 570.0 (2022-23)" in with_them
    assert "DRAFT" not in with_them


def test_every_chart_has_alt_text_naming_its_special_cause_points(tmp_path):
    dataset = sample_dataset("2023-24-Q3")
    charts = json.loads(
        (
            save_dashboard_charts(dataset, tmp_path, synthetic=False)["re_referral_pct"].parent / "charts.json"
        ).read_text()
    )
    assert set(charts) == {i["id"] for i in dataset["indicators"]}
    assert "Special-cause points: Apr 23, May 23" in charts["re_referral_pct"]["alt"]
    assert charts["contacts"]["alt"].endswith("No special-cause points.")


def test_a_quarters_metrics_json_holds_each_indicators_value(tmp_path):
    report = ReportPaths(tmp_path)
    dataset = sample_dataset("2023-24-Q3")
    write_json_atomic(report.dataset_json, dataset)
    metrics = json.loads(write_quarter_metrics(report).read_text(encoding="utf-8"))
    assert metrics["health_referrals"] == {"value": None, "unit": "count", "label": "Health referrals"}
    assert metrics["re_referral_pct"]["unit"] == "percent"
