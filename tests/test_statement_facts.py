"""Backtest: the figures of the published 2023-24 statement come out of the sample.

The synthetic sample embodies the reference statement's facts; if the chain computes them from
the data, a real year's data will be evidenced the same way.
"""

import json
from datetime import date

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def m(chain_run):
    metrics = json.loads((chain_run.report / "metrics.json").read_text())
    return {name: entry["value"] for name, entry in metrics.items()}


def _rows(table):
    return [dict(zip(table["columns"], row)) for row in table["rows"]]


def test_audit_programme_topics(m):
    topics = " ".join(m["practice.audit_topics"]).lower()
    for topic in ("neglect", "voice of the child", "supervision", "exploitation"):
        assert topic in topics
    assert m["practice.learning_brief_pct"] == 100


def test_business_plan_and_recommendations(m):
    assert m["business_plan.ipbp_complete_pct"] > 90
    assert m["business_plan.jtai_complete_pct"] == 100
    assert m["business_plan.national_panel_complete_pct"] == 100


def test_training_nearly_600_in_q1_to_q3_and_above_earlier_years(m):
    assert 550 <= m["support_hub.training_attendees"] < 600
    assert m["support_hub.training_quarters_reported"] == "Q1-Q3"
    assert m["support_hub.training_above_previous_years"] is True
    assert m["support_hub.training_same_quarters_previous_max"] < m["support_hub.training_attendees"]


def test_arg_representation_over_90(m):
    assert m["engagement.arg_representation_pct"] > 90
    assert m["engagement.arg_face_to_face_from"].startswith("2023-11")


def test_newsletters_and_learning_event(m):
    rows = _rows(m["learning.newsletter_table"])
    opens_clicks = sorted(
        (next(v for k, v in r.items() if "open" in k.lower()), next(v for k, v in r.items() if "click" in k.lower()))
        for r in rows
    )
    assert (1401, 103) in opens_clicks and (1006, 44) in opens_clicks
    assert m["learning.event_attendees"] == 140 and m["learning.event_later_views"] == 90
    assert "who" in m["learning.newsletter_campaign"].lower()


def test_unknown_referral_spike_found_and_resolved(m):
    assert m["data.unknown_source_spike_months"] == ["2023-10", "2023-11"]
    assert m["data.unknown_source_resolved"] is True
    assert m["data.unknown_source_share_spike_pct"] > 5 * m["data.unknown_source_share_other_pct"]


def test_dara_improved_after_the_correction(m):
    assert m["data.dara_submitted_before_pct"] < 50
    assert m["data.dara_submitted_after_pct"] >= 85


def test_nfa_changeover_and_retired_multiple_category(m):
    assert m["data.nfa_recorded_before"] not in (0, None)
    assert m["data.advice_info_after"] not in (0, None)
    assert m["data.multiple_category_plans_this_year"] == 0
    assert date.fromisoformat(m["data.multiple_category_last_used"]) < date(2023, 4, 1)


def test_low_sexual_abuse_share(m):
    assert m["challenges.sexual_abuse_share_pct"] < m["challenges.sexual_abuse_comparator_pct"]
    assert m["challenges.sexual_abuse_below_comparator"] is True


def test_case_reviews_and_escalations(m):
    assert m["challenges.rapid_reviews"] >= 1
    assert m["learning.rapid_review_panel_agreed"] >= 1
    assert m["escalations.total"] == 2 and m["escalations.resolved"] == 2 and m["escalations.open"] == 0


def test_statement_pdf_evidences_every_heading(chain_run):
    from pypdf import PdfReader

    from sscp_lib.config import load_config

    text = " ".join(
        " ".join((p.extract_text() or "").split())
        for p in PdfReader(chain_run.report / "assurance-statement.pdf").pages
    )
    for title in load_config()["headings"].values():
        assert " ".join(title.split()) in text, title
    assert "1,401" in text and "140" in text
    assert "synthetic" in text.lower()
