"""Assurance analysis (headings 1-3, 4 case reviews, 5, 7-10): each figure against a plain
pandas computation over a small fixture, the boundary rules, and the sample's embedded facts."""

from __future__ import annotations

import json

import nbformat
import pandas as pd
import pytest

from sscp_lib.analysis import assurance as A
from sscp_lib.analysis.common import in_year, percent
from sscp_lib.catalogue import load_catalogue
from sscp_lib.config import PROJECT_ROOT, PartnershipConfig, ReportingYear, load_config
from sscp_lib.contract import load_contract
from sscp_lib.metrics import MetricStore
from sscp_lib.publishing.charts import assurance as drawing
from sscp_lib.stages import StageContext
from sscp_lib.stages import analyse_assurance as stage
from sscp_lib.stages.figures import figures_frame
from sscp_lib.stages.loading import load_validated_tables

YEAR = ReportingYear.parse("2023-24")
START, END = pd.Timestamp("2023-04-01"), pd.Timestamp("2024-03-31")
THRESHOLD = 5


def config_with(threshold: int = THRESHOLD) -> PartnershipConfig:
    config = load_config()
    return PartnershipConfig(
        {**config, "disclosure": {**config["disclosure"], "suppress_up_to": threshold}}, config.path
    )


def metric_store(tables, year=YEAR, threshold=THRESHOLD) -> MetricStore:
    """The stage's metrics as it writes them, from analysis of this year and the one before."""
    config = config_with(threshold)
    result, before = A.analyse(tables, year, config), A.analyse(tables, year.previous, config)
    return MetricStore(threshold).add_all(stage.metric_values(result), stage.previous_values(before))


def make(dataset: str, rows: list[dict]) -> pd.DataFrame:
    """A processed table: the contract's columns and dtypes, reporting_year from the period column."""
    contract = load_contract()
    schema = contract.processed_schema(dataset)
    period = contract.dataset(dataset).period_column
    frame = pd.DataFrame(rows)
    for column, dtype in schema.items():
        if column not in frame:
            frame[column] = None
        if dtype.startswith("datetime"):
            frame[column] = pd.to_datetime(frame[column])
    frame["reporting_year"] = [ReportingYear.containing(d.date()).label for d in frame[period]]
    return frame[list(schema)].astype(schema)


def within(dates: pd.Series, start=START, end=END) -> pd.Series:
    return (dates >= start) & (dates <= end)


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    audits = make(
        "audits",
        [
            {
                "audit_id": "A1",
                "audit_title": "Neglect audit",
                "topic": "NEGLECT",
                "audit_type": "MULTI_AGENCY",
                "audit_date": "2023-05-10",
                "cases_audited": 8,
                "learning_brief_date": "2023-06-20",
            },
            {
                "audit_id": "A2",
                "audit_title": "Voice audit",
                "topic": "VOICE_OF_CHILD",
                "audit_type": "MULTI_AGENCY",
                "audit_date": "2023-09-12",
                "cases_audited": 7,
            },
            {
                "audit_id": "A3",
                "audit_title": "DARA dip sample",
                "topic": "DOMESTIC_ABUSE",
                "audit_type": "DIP_SAMPLE",
                "audit_date": "2024-03-31",
                "cases_audited": 2,
                "learning_brief_date": "2024-04-15",
            },
            {
                "audit_id": "A0",
                "audit_title": "Old audit",
                "topic": "MASH",
                "audit_type": "MULTI_AGENCY",
                "audit_date": "2023-03-31",
                "cases_audited": 3,
            },
        ],
    )
    grades = (
        ["GOOD"] * 4 + ["OUTSTANDING"] * 2 + ["REQUIRES_IMPROVEMENT"] * 2,  # A1
        ["GOOD"] * 3 + ["INADEQUATE"] * 4,  # A2
        ["GOOD", "REQUIRES_IMPROVEMENT"],  # A3
        ["GOOD", "INADEQUATE", "INADEQUATE"],
    )  # A0, previous year
    dates = ("2023-05-10", "2023-09-12", "2024-03-31", "2023-03-31")
    case_rows = [
        {"audit_case_id": f"{aid}-{i}", "audit_id": aid, "child_pid": f"c{aid}{i}", "audit_date": d, "grade": g}
        for aid, d, gs in zip(("A1", "A2", "A3", "A0"), dates, grades)
        for i, g in enumerate(gs)
    ]
    audit_actions = make(
        "audit_actions",
        [
            # completed exactly on the due date: on time
            {
                "audit_action_id": "AA1",
                "audit_id": "A1",
                "action": "a",
                "owner_agency": "POLICE",
                "raised_date": "2023-05-10",
                "due_date": "2023-07-01",
                "completed_date": "2023-07-01",
                "status": "COMPLETE",
            },
            # a day late
            {
                "audit_action_id": "AA2",
                "audit_id": "A1",
                "action": "b",
                "owner_agency": "HEALTH",
                "raised_date": "2023-05-10",
                "due_date": "2023-07-01",
                "completed_date": "2023-07-02",
                "status": "COMPLETE",
            },
            # open, due on the last day of the year: overdue
            {
                "audit_action_id": "AA3",
                "audit_id": "A2",
                "action": "c",
                "owner_agency": "COUNCIL",
                "raised_date": "2023-09-12",
                "due_date": "2024-03-31",
                "status": "OPEN",
            },
            # completed only after the year end: overdue at the year end
            {
                "audit_action_id": "AA4",
                "audit_id": "A2",
                "action": "d",
                "owner_agency": "COUNCIL",
                "raised_date": "2023-09-12",
                "due_date": "2024-02-01",
                "completed_date": "2024-04-10",
                "status": "COMPLETE",
            },
            # open, due after the year end: not overdue, not due in the year
            {
                "audit_action_id": "AA5",
                "audit_id": "A3",
                "action": "e",
                "owner_agency": "POLICE",
                "raised_date": "2024-03-31",
                "due_date": "2024-04-01",
                "status": "OPEN",
            },
            # previous year's action, due in 2022-23, done on time
            {
                "audit_action_id": "AA0",
                "audit_id": "A0",
                "action": "f",
                "owner_agency": "POLICE",
                "raised_date": "2022-10-01",
                "due_date": "2023-01-31",
                "completed_date": "2023-01-15",
                "status": "COMPLETE",
            },
            {
                "audit_action_id": "AA6",
                "audit_id": "A0",
                "action": "g",
                "owner_agency": "EDUCATION",
                "raised_date": "2023-03-01",
                "due_date": "2023-12-01",
                "status": "CLOSED_NOT_DONE",
            },
        ],
    )

    def plan(pid, source, ws, prio, due, status, completed=None, raised="2023-04-15", response=None):
        return {
            "plan_action_id": pid,
            "source": source,
            "workstream": ws,
            "priority": prio,
            "lead_agency": "COUNCIL",
            "action": pid,
            "raised_date": raised,
            "due_date": due,
            "status": status,
            "completed_date": completed,
            "response_date": response,
        }

    plan_rows = [
        plan("P1", "IPBP", "Neglect", "NEGLECT", "2023-06-30", "COMPLETE", "2023-06-01"),
        plan("P2", "IPBP", "Neglect", "NEGLECT", "2023-12-31", "COMPLETE", "2024-01-15"),
        plan("P3", "IPBP", "Neglect", "NEGLECT", "2024-03-31", "DELAYED"),
        plan("P4", "IPBP", "Early help", "EARLY_HELP", "2023-10-31", "COMPLETE", "2023-10-30"),
        plan("P5", "IPBP", "Early help", "EARLY_HELP", "2024-03-31", "COMPLETE", "2024-04-20"),  # after year end
        plan("P6", "IPBP", "Governance", "NONE", "2023-09-30", "COMPLETE"),  # complete, undated
        plan("P7", "JTAI", "Inspection", "INSPECTION_FINDINGS", "2022-12-31", "COMPLETE", "2022-12-01", "2022-06-01"),
        plan("P8", "JTAI", "Inspection", "INSPECTION_FINDINGS", "2023-08-31", "COMPLETE", "2023-08-01"),
        plan("P9", "NATIONAL_PANEL", "Inspection", "INSPECTION_FINDINGS", "2023-11-30", "ON_TRACK"),
        plan(
            "P10", "SCRUTINEER", "Scrutiny", "NONE", "2023-07-31", "COMPLETE", "2023-07-01", "2023-05-01", "2023-05-15"
        ),
        plan(
            "P11", "SCRUTINEER", "Scrutiny", "NONE", "2023-11-30", "COMPLETE", "2023-11-01", "2023-10-01", "2023-10-31"
        ),
        plan("P12", "SCRUTINEER", "Scrutiny", "NONE", "2024-02-28", "ON_TRACK", None, "2024-01-10", "2024-01-20"),
        plan("P13", "SCRUTINEER", "Scrutiny", "NONE", "2024-03-15", "NOT_STARTED", None, "2024-02-01"),
        plan(
            "P0", "IPBP", "Neglect", "NEGLECT", "2022-09-30", "COMPLETE", "2023-05-01", "2022-04-15"
        ),  # late last year
        plan("P00", "IPBP", "Neglect", "NEGLECT", "2023-01-31", "COMPLETE", "2023-01-10", "2022-04-15"),
    ]
    reviews = make(
        "case_reviews",
        [
            {
                "review_id": "R1",
                "review_type": "RAPID_REVIEW",
                "incident_date": "2023-05-01",
                "review_start_date": "2023-05-20",
                "panel_decision": "AGREED_NO_CSPR",
                "themes": "Trauma informed practice; Medical neglect",
            },
            {
                "review_id": "R2",
                "review_type": "RAPID_REVIEW",
                "incident_date": "2023-12-01",
                "review_start_date": "2023-12-15",
                "panel_decision": "AGREED_NO_CSPR",
                "themes": "medical neglect|Parental substance misuse",
            },
            {
                "review_id": "R3",
                "review_type": "RAPID_REVIEW",
                "incident_date": "2024-02-01",
                "review_start_date": "2024-02-20",
                "panel_decision": "PENDING",
            },
            {
                "review_id": "R4",
                "review_type": "CSPR",
                "incident_date": "2023-06-01",
                "review_start_date": "2023-07-01",
            },
            {
                "review_id": "R5",
                "review_type": "CSPR",
                "incident_date": "2022-01-01",
                "review_start_date": "2022-03-01",
                "published_date": "2023-04-20",
                "themes": "Parental alcohol and drug use",
            },
            {
                "review_id": "R0",
                "review_type": "RAPID_REVIEW",
                "incident_date": "2022-05-01",
                "review_start_date": "2022-06-01",
                "panel_decision": "AGREED_CSPR",
            },
        ],
    )
    review_actions = make(
        "review_actions",
        [
            {
                "review_action_id": "RA1",
                "review_id": "R1",
                "action": "x",
                "owner_agency": "HEALTH",
                "raised_date": "2023-06-01",
                "due_date": "2023-09-01",
                "completed_date": "2023-08-01",
                "status": "COMPLETE",
            },
            {
                "review_action_id": "RA2",
                "review_id": "R1",
                "action": "y",
                "owner_agency": "POLICE",
                "raised_date": "2023-06-01",
                "due_date": "2024-01-01",
                "completed_date": "2024-02-01",
                "status": "COMPLETE",
            },
            {
                "review_action_id": "RA3",
                "review_id": "R2",
                "action": "z",
                "owner_agency": "COUNCIL",
                "raised_date": "2023-12-20",
                "due_date": "2024-03-01",
                "status": "OPEN",
            },
            {
                "review_action_id": "RA4",
                "review_id": "R2",
                "action": "w",
                "owner_agency": "COUNCIL",
                "raised_date": "2023-12-20",
                "due_date": "2024-03-01",
                "status": "CLOSED_NOT_DONE",
            },
            {
                "review_action_id": "RA0",
                "review_id": "R0",
                "action": "v",
                "owner_agency": "COUNCIL",
                "raised_date": "2022-07-01",
                "due_date": "2022-12-01",
                "completed_date": "2022-11-01",
                "status": "COMPLETE",
            },
        ],
    )
    # Training: 2023-24 has Q1-Q3 only; 2022-23 and 2021-22 have all four quarters.
    train_rows = []
    spec = {
        "2023-24": {"2023-05-01": 5, "2023-08-01": 4, "2023-11-01": 3},
        "2022-23": {"2022-05-01": 3, "2022-08-01": 3, "2022-11-01": 2, "2023-02-01": 9},
        "2021-22": {"2021-05-01": 4, "2021-08-01": 1, "2021-11-01": 1, "2022-02-01": 1},
    }
    agencies = ["POLICE", "HEALTH", "COUNCIL"]
    for _label, days in spec.items():
        for day, n in days.items():
            for i in range(n):
                train_rows.append(
                    {
                        "attendance_id": f"T{day}{i}",
                        "course_date": day,
                        "module": f"Module {i % 2}",
                        "attendee_agency": agencies[i % 3],
                        "attended": True,
                    }
                )
            train_rows.append(
                {
                    "attendance_id": f"T{day}x",
                    "course_date": day,
                    "module": "Module 9",
                    "attendee_agency": "VCS",
                    "attended": False,
                }
            )  # a no-show
    meetings = []
    for day, fmt in (
        ("2023-05-10", "VIRTUAL"),
        ("2023-09-10", "VIRTUAL"),
        ("2023-11-14", "FACE_TO_FACE"),
        ("2024-02-13", "FACE_TO_FACE"),
    ):
        for agency in ("COUNCIL", "POLICE", "HEALTH", "EDUCATION"):
            meetings.append(
                {
                    "meeting_series": "ARG",
                    "meeting_date": day,
                    "agency": agency,
                    "attended": not (day == "2023-09-10" and agency == "EDUCATION"),
                    "meeting_format": fmt,
                }
            )
    for day in ("2023-06-01", "2023-12-01"):
        for agency in ("COUNCIL", "POLICE", "HEALTH"):
            meetings.append(
                {
                    "meeting_series": "EXECUTIVE",
                    "meeting_date": day,
                    "agency": agency,
                    "attended": not (day == "2023-12-01" and agency == "HEALTH"),
                    "meeting_format": "FACE_TO_FACE",
                }
            )
    for agency in ("COUNCIL", "POLICE"):  # previous year's ARG: half attended, held in person
        meetings.append(
            {
                "meeting_series": "ARG",
                "meeting_date": "2023-02-01",
                "agency": agency,
                "attended": agency == "COUNCIL",
                "meeting_format": "FACE_TO_FACE",
            }
        )
    comms = make(
        "communications",
        [
            {
                "item_id": "N1",
                "item_type": "NEWSLETTER",
                "title": "Autumn newsletter",
                "item_date": "2023-11-20",
                "campaign": "Who's in Charge?",
                "opens": 1401,
                "campaign_clicks": 103,
            },
            {
                "item_id": "N2",
                "item_type": "NEWSLETTER",
                "title": "Winter newsletter",
                "item_date": "2023-12-15",
                "campaign": "Who's in Charge?",
                "opens": 1006,
                "campaign_clicks": 44,
            },
            {
                "item_id": "N0",
                "item_type": "NEWSLETTER",
                "title": "Old newsletter",
                "item_date": "2023-03-01",
                "opens": 500,
                "campaign_clicks": 0,
            },
            {
                "item_id": "E1",
                "item_type": "LEARNING_EVENT",
                "title": "CSPR learning session",
                "item_date": "2023-05-18",
                "attendees": 140,
                "later_views": 90,
            },
            {
                "item_id": "E2",
                "item_type": "LEARNING_EVENT",
                "title": "Practice forum",
                "item_date": "2023-10-05",
                "attendees": 60,
                "later_views": 12,
            },
            {
                "item_id": "E0",
                "item_type": "LEARNING_EVENT",
                "title": "Old event",
                "item_date": "2022-10-05",
                "attendees": 300,
            },
            {"item_id": "B1", "item_type": "BRIEFING", "title": "Brief", "item_date": "2023-07-01"},
        ],
    )
    budget_rows = make(
        "budget",
        [
            {
                "financial_year_end": "2024-03-31",
                "budget_line": "Staffing",
                "line_type": "EXPENDITURE",
                "budget_amount": 200000.0,
                "actual_amount": 190000.0,
            },
            {
                "financial_year_end": "2024-03-31",
                "budget_line": "Training",
                "line_type": "EXPENDITURE",
                "budget_amount": 20000.0,
                "actual_amount": 23000.0,
            },
            {
                "financial_year_end": "2024-03-31",
                "budget_line": "Council contribution",
                "line_type": "INCOME",
                "partner": "COUNCIL",
                "budget_amount": 120000.0,
                "actual_amount": 120000.0,
            },
            {
                "financial_year_end": "2024-03-31",
                "budget_line": "Police contribution",
                "line_type": "INCOME",
                "partner": "POLICE",
                "budget_amount": 50000.0,
                "actual_amount": 50000.0,
            },
            {
                "financial_year_end": "2024-03-31",
                "budget_line": "Section 31 grant",
                "line_type": "INCOME",
                "budget_amount": 0.0,
                "actual_amount": 25000.0,
            },
            {
                "financial_year_end": "2023-03-31",
                "budget_line": "Staffing",
                "line_type": "EXPENDITURE",
                "budget_amount": 180000.0,
                "actual_amount": 185000.0,
            },
        ],
    )
    escalations = make(
        "escalations",
        [
            {
                "escalation_id": "E1",
                "raised_date": "2023-06-01",
                "topic": "MASH one leader role",
                "raised_by": "POLICE",
                "escalation_level": "LSP",
                "status": "RESOLVED",
                "resolved_date": "2023-08-01",
            },
            {
                "escalation_id": "E2",
                "raised_date": "2023-10-01",
                "topic": "Health input to the MASH",
                "raised_by": "COUNCIL",
                "escalation_level": "DSP",
                "status": "RESOLVED",
                "resolved_date": "2023-10-21",
            },
            {
                "escalation_id": "E3",
                "raised_date": "2024-03-01",
                "topic": "Late escalation",
                "raised_by": "HEALTH",
                "escalation_level": "EXECUTIVE",
                "status": "RESOLVED",
                "resolved_date": "2024-04-05",
            },
            {
                "escalation_id": "E0",
                "raised_date": "2022-06-01",
                "topic": "Old",
                "raised_by": "HEALTH",
                "escalation_level": "DSP",
                "status": "RESOLVED",
                "resolved_date": "2022-07-01",
            },
        ],
    )
    return {
        "audits": audits,
        "audit_cases": make("audit_cases", case_rows),
        "audit_actions": audit_actions,
        "business_plan_actions": make("business_plan_actions", plan_rows),
        "case_reviews": reviews,
        "review_actions": review_actions,
        "training_attendance": make("training_attendance", train_rows),
        "meeting_attendance": make("meeting_attendance", meetings),
        "communications": comms,
        "budget": budget_rows,
        "escalations": escalations,
    }


@pytest.fixture(scope="module")
def result(tables):
    return A.analyse(tables, YEAR, config_with())


# --- helpers -------------------------------------------------------------------------------


def test_quarters_text_and_financial_quarter():
    assert A.quarters_text(["Q1", "Q2", "Q3"]) == "Q1-Q3"
    assert A.quarters_text(["Q3", "Q1"]) == "Q1, Q3"
    assert A.quarters_text(["Q4"]) == "Q4"
    assert A.quarters_text([]) == ""
    days = pd.Series(
        pd.to_datetime(["2023-04-01", "2023-06-30", "2023-07-01", "2023-12-31", "2024-01-01", "2024-03-31"])
    )
    assert list(A.financial_quarter(days)) == ["Q1", "Q1", "Q2", "Q3", "Q4", "Q4"]


def test_in_year_includes_both_ends_and_excludes_missing_dates():
    days = pd.Series(pd.to_datetime(["2023-03-31", "2023-04-01", "2024-03-31", "2024-04-01", None])).astype(
        "datetime64[ms]"
    )
    assert list(in_year(days, YEAR)) == [False, True, True, False, False]


def test_percent_of_nothing_is_none():
    assert percent(0, 0) is None
    assert percent(1, 4) == 25.0
    assert percent(2, 3, 1) == 66.7


# --- 1. Quality of practice ----------------------------------------------------------------


def test_audit_programme_against_plain_counts(tables, result):
    audits, cases = tables["audits"], tables["audit_cases"]
    held = audits[within(audits["audit_date"])]
    year_cases = cases[within(cases["audit_date"])]
    a = result.audits
    assert a.multi_agency_audits == int((held["audit_type"] == "MULTI_AGENCY").sum()) == 2
    assert a.topics == ["Neglect", "Voice of the child", "Domestic abuse"]
    assert a.cases_graded == len(year_cases) == 17
    good = year_cases["grade"].isin(["GOOD", "OUTSTANDING"]).sum()
    assert a.good_or_better_pct == pytest.approx(100 * good / len(year_cases))
    assert a.learning_briefs == held["learning_brief_date"].notna().sum() == 2
    assert a.learning_brief_pct == pytest.approx(100 * 2 / 3)
    grid = a.grades_by_topic
    assert grid.loc["Neglect", "Good"] == 4 and grid.loc["Voice of the child", "Inadequate"] == 4
    assert grid.loc["Total", "Total"] == len(year_cases)
    assert list(grid["Total"].drop("Total")) == [8, 7, 2]


def test_grade_table_is_suppressed_for_publication(result):
    published = A.publishable_grades(result.audits, THRESHOLD).set_index("Topic")
    # Every body cell 1..5 is hidden; totals stay; no row total lets a hidden cell be recovered.
    body = published.drop(index="Total", columns="Total")
    raw = result.audits.grades_by_topic.drop(index="Total", columns="Total")
    for topic in body.index:
        for grade in body.columns:
            if 0 < raw.loc[topic, grade] <= THRESHOLD:
                assert body.loc[topic, grade] == "c"
        assert (body.loc[topic] == "c").sum() != 1
    assert published.loc["Total", "Total"] == 17


def test_audit_actions_boundaries(tables):
    state = A.classify_actions(tables["audit_actions"], END).set_axis(tables["audit_actions"]["audit_action_id"])
    assert state["AA1"] == "on_time"  # completed on the due date
    assert state["AA2"] == "late"
    assert state["AA3"] == "overdue"  # due on 31 March, still open
    assert state["AA4"] == "overdue"  # completed only after the year end
    assert state["AA5"] == "not_yet_due"  # open but due after the year end
    assert state["AA6"] == "closed_not_done"


def test_audit_action_log_counts(tables, result):
    actions = tables["audit_actions"]
    due = actions[within(actions["due_date"])]
    log = result.audit_actions
    assert log.total == len(due) == 5
    assert log.on_time == ((due["completed_date"] <= due["due_date"]) & (due["completed_date"] <= END)).sum() == 1
    assert log.late == 1 and log.overdue == 2
    assert log.on_time_pct == pytest.approx(20.0)
    assert log.carried_forward == 1
    assert dict(zip(log.counts["State"], log.counts["Actions"]))["Closed without completion"] == 1


def test_scrutineer_response(tables, result):
    plan = tables["business_plan_actions"]
    recs = plan[(plan["source"] == "SCRUTINEER") & within(plan["due_date"])]
    answered = recs[recs["response_date"].notna()]
    s = result.scrutineer
    assert s.count == len(recs) == 4
    assert s.responded_pct == pytest.approx(75.0)
    assert s.median_response_days == (answered["response_date"] - answered["raised_date"]).dt.days.median() == 14


# --- 2 and 3. Business plan ----------------------------------------------------------------


def test_business_plan_completion(tables, result):
    plan = tables["business_plan_actions"]
    ipbp = plan[(plan["source"] == "IPBP") & within(plan["due_date"])]
    done = (ipbp["status"] == "COMPLETE") & ~(ipbp["completed_date"] > END)
    p = result.plan
    assert p.ipbp_actions == len(ipbp) == 6
    assert p.ipbp_complete == done.sum() == 4  # P5 was completed after the year end
    assert p.ipbp_complete_pct == pytest.approx(100 * 4 / 6)
    ws = p.by_workstream.set_index("Workstream")
    assert ws.loc["Neglect", "Complete"] == 2 and ws.loc["Neglect", "Actions"] == 3
    assert ws.loc["Total", "Actions"] == 6
    assert p.jtai_recommendations == 1 and p.jtai_complete_pct == 100.0  # P7 fell due in 2022-23
    assert p.national_panel_recommendations == 1 and p.national_panel_complete_pct == 0.0


def test_priorities(tables, result):
    plan = tables["business_plan_actions"]
    due = plan[within(plan["due_date"])]
    for code in A.PRIORITIES:
        rows = due[due["priority"] == code]
        expected = 100 * ((rows["status"] == "COMPLETE") & ~(rows["completed_date"] > END)).sum() / len(rows)
        assert result.plan.priority_pct[code] == pytest.approx(expected)
    by_priority = result.plan.by_priority.set_index("Priority")
    assert by_priority.loc["Total", "Actions"] == len(due)
    assert list(by_priority.index[:3]) == ["Neglect", "Early help", "Responding to inspections and peer reviews"]


# --- 4. Case reviews -----------------------------------------------------------------------


def test_case_reviews(tables, result):
    reviews = tables["case_reviews"]
    started = reviews[within(reviews["review_start_date"])]
    r = result.reviews
    assert r.rapid_reviews == (started["review_type"] == "RAPID_REVIEW").sum() == 3
    assert r.cspr_started == 1
    assert r.cspr_published == 1  # R5: started 2021-22, published in the year
    assert r.panel_agreed == 2
    # In order of review start (R5 started first); 'medical neglect' repeats with other spelling.
    assert r.themes == [
        "Parental alcohol and drug use",
        "Trauma informed practice",
        "Medical neglect",
        "Parental substance misuse",
    ]


# --- 5. Training ---------------------------------------------------------------------------


def test_training_same_quarter_comparison(tables, result):
    t = result.training
    frame = tables["training_attendance"]
    attended = frame[frame["attended"]]
    assert t.attendees == within(attended["course_date"]).sum() == 12
    assert t.quarters_text == "Q1-Q3"
    # 2022-23 Q1-Q3 = 8 (its Q4 of 9 must not count); 2021-22 Q1-Q3 = 6.
    assert t.earlier_same_quarters == {"2021-22": 6, "2022-23": 8}
    assert t.previous_max == 8 and t.above_previous is True
    q = t.by_quarter.set_index("Quarter")
    assert q.loc["Q1", "2023-24"] == 5 and pd.isna(q.loc["Q4", "2023-24"]) and q.loc["Q4", "2022-23"] == 9
    assert t.by_module["Attendees"].sum() == 12 and t.by_agency["Attendees"].sum() == 12
    assert "Module 9" not in set(t.by_module["Module"])  # no-shows are not attendees
    assert t.modules == 3  # modules run in the year, attended or not


def test_training_not_above_when_an_earlier_year_matches(tables):
    frame = tables["training_attendance"]
    extra = (
        frame[(frame["reporting_year"] == "2022-23") & frame["attended"]]
        .head(4)
        .assign(attendance_id=lambda f: f["attendance_id"] + "b")
    )
    t = A.training(pd.concat([frame, extra], ignore_index=True), YEAR)
    assert t.previous_max == 12 and t.above_previous is False


# --- 7. Engagement -------------------------------------------------------------------------


def test_engagement(tables, result):
    meetings = tables["meeting_attendance"]
    year_rows = meetings[within(meetings["meeting_date"])]
    arg = year_rows[year_rows["meeting_series"] == "ARG"]
    e = result.engagement
    assert e.arg_representation_pct == pytest.approx(100 * arg["attended"].mean()) == pytest.approx(93.75)
    assert e.executive_attendance_pct == pytest.approx(100 * 5 / 6)
    assert e.arg_face_to_face_from == pd.Timestamp("2023-11-14")
    series = e.by_series.set_index("Meeting")
    assert series.loc["Assurance and Review Group", "Meetings"] == 4
    agency = e.by_agency.set_index("Agency")
    assert agency.loc["Schools and education", "Places"] == 4 and agency.loc["Schools and education", "Attended"] == 3


# --- 8. Learning ---------------------------------------------------------------------------


def test_learning(tables, result):
    le = result.learning
    assert (le.event_title, le.event_attendees, le.event_later_views) == ("CSPR learning session", 140, 90)
    assert le.event_date == pd.Timestamp("2023-05-18")
    assert le.newsletter_count == 2
    assert list(zip(le.newsletters["Opens"], le.newsletters["Campaign clicks"])) == [(1401, 103), (1006, 44)]
    assert (le.opens_total, le.clicks_total) == (2407, 147)
    assert le.newsletter_campaign == "Who's in Charge?"
    ra = tables["review_actions"]
    due = ra[within(ra["due_date"])]
    assert le.review_actions == len(due) == 4
    assert le.review_actions_complete_pct == pytest.approx(100 * due["completed_date"].notna().sum() / len(due))


# --- 9. Budget -----------------------------------------------------------------------------


def test_budget(result):
    b = result.budget
    assert (b.expenditure_budget, b.expenditure_actual) == (220000.0, 213000.0)
    assert b.variance == -7000.0
    assert b.variance_pct == pytest.approx(-7000 / 220000 * 100)
    assert b.income_actual == 195000.0
    lines = b.by_line.set_index("Line")
    assert lines.loc["Training", "Variance"] == 3000.0 and lines.loc["Training", "Variance %"] == 15.0
    contributions = b.contributions.set_index("Contributor")
    assert contributions.loc["Local authority (children's services)", "Actual"] == 120000.0
    assert contributions.loc["Section 31 grant", "Actual"] == 25000.0
    assert contributions.loc["Total", "Actual"] == 195000.0


# --- 10. Escalations -----------------------------------------------------------------------


def test_escalations(result):
    x = result.escalations
    assert (x.total, x.resolved, x.open) == (3, 2, 1)  # E3 was resolved only after the year end
    assert x.median_days_to_resolve == pytest.approx((61 + 20) / 2)
    assert x.topics == ["MASH one leader role", "Health input to the MASH", "Late escalation"]
    assert x.to_lsp == 1


# --- metrics and charts --------------------------------------------------------------------


def test_store_has_every_catalogue_metric_with_previous_year(tables, result, tmp_path):
    store = metric_store(tables)
    path = store.write(tmp_path / "analyse_assurance.json")
    metrics = json.loads(path.read_text())
    referral_metrics = {n for n in load_catalogue()["metrics"] if n.startswith(("data.", "run.", "validation."))}
    assert set(metrics) <= set(load_catalogue()["metrics"]) - referral_metrics
    assert metrics["challenges.rapid_reviews"]["value"] == 3  # reviews are public: not suppressed
    assert metrics["practice.audit_cases_graded"]["value"] == 17
    strict = metric_store(tables, threshold=20).metrics
    assert strict["practice.audit_cases_graded"]["value"] == "c"  # 17 children's cases, threshold 20
    assert metrics["practice.audits_completed"]["previous"] == 1
    assert metrics["practice.audit_good_or_better_pct"]["previous"] == pytest.approx(100 / 3, abs=1e-4)
    assert metrics["practice.audit_actions_on_time_pct"]["previous"] == 100.0
    assert metrics["business_plan.ipbp_complete_pct"]["previous"] == 50.0  # P0 done after its year end
    assert metrics["engagement.arg_representation_pct"]["previous"] == 50.0
    assert metrics["budget.expenditure_actual"]["previous"] == 185000.0
    assert metrics["escalations.total"]["previous"] == 1
    assert metrics["learning.review_actions_complete_pct"]["previous"] == 100.0
    assert "previous" not in metrics["engagement.executive_attendance_pct"]  # no Executive rows in 2022-23
    assert metrics["engagement.arg_face_to_face_from"]["value"] == "2023-11-14"
    assert metrics["support_hub.training_quarters_reported"]["value"] == "Q1-Q3"
    grades = metrics["practice.audit_grades_by_topic"]["value"]
    assert grades["columns"][0] == "Topic" and "c" in [v for row in grades["rows"] for v in row]
    assert all(load_catalogue()["metrics"][n].get("previous") for n in stage.PREVIOUS_SOURCE)


def test_count_axes_tick_whole_numbers(result, tmp_path, monkeypatch):
    """A count axis reads 0, 1, 2 ..., never 0.5 actions (the sample's 5 audit actions gave 0.5 steps)."""
    drawn = {}
    save = drawing.save_chart

    def keep(fig, charts_dir, name, **chart):
        fig.canvas.draw()  # ticks as saved
        drawn[name] = fig.axes[0]
        return save(fig, charts_dir, name, **chart)

    monkeypatch.setattr(drawing, "save_chart", keep)
    drawing.save_charts(result, tmp_path, synthetic=True)
    counted = {"audit_grades": "y", "audit_actions": "x", "training_by_quarter": "y", "newsletter_reach": "y"}
    for name, axis in counted.items():
        ticks = getattr(drawn[name], f"get_{axis}ticks")()
        assert all(float(t).is_integer() for t in ticks), (name, list(ticks))


def test_charts_are_saved_with_findings_and_alt_text(result, tmp_path):
    saved = drawing.save_charts(result, tmp_path, synthetic=True)
    expected = set(saved)
    assert expected <= set(load_catalogue()["charts"]) and len(expected) == 7
    index = json.loads((tmp_path / "charts.json").read_text())
    assert index["audit_actions"]["title"] == "1 of 5 audit actions due in 2023-24 were completed on time"
    assert index["newsletter_reach"]["title"] == (
        "2 newsletters in 2023-24 were opened 2,407 times, with 147 clicks on the Who's in Charge? campaign"
    )
    assert index["budget_lines"]["title"] == "Spending in 2023-24 was £7,000 (3.2%) under budget"
    for name in expected:
        assert (tmp_path / f"{name}.png").stat().st_size > 1000
        assert "Synthetic" in index[name]["source"] and len(index[name]["alt"]) > 40


def test_published_figures_read_as_the_statement_will(tables, result):
    shown = figures_frame(metric_store(tables)).set_index("metric")
    assert shown.loc["practice.audit_topics", "value"] == "Neglect; Voice of the child; Domestic abuse"
    assert shown.loc["business_plan.ipbp_complete_pct", "value"] == 66.7
    assert shown.loc["business_plan.ipbp_complete_pct", "previous year"] == 50.0
    assert shown.loc["engagement.executive_attendance_pct", "previous year"] == ""


def test_missing_validated_table_is_a_user_error(tmp_path):
    from sscp_lib.errors import UserError

    ctx = StageContext.from_parameters("analyse_assurance", str(YEAR), processed_dir=tmp_path / "processed")
    with pytest.raises(UserError, match="audits.parquet"):
        load_validated_tables(ctx, A.DATASETS)


def test_notebook_is_a_clean_report():
    nb = nbformat.read(PROJECT_ROOT / "notebooks" / "04_analyse_assurance.ipynb", as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "sscp"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)


# --- the sample's embedded facts -----------------------------------------------------------


@pytest.mark.slow
def test_sample_facts(chain_run):
    """On the chain's own validated tables of the sample (the session run in conftest)."""
    ctx = StageContext.from_parameters("analyse_assurance", str(YEAR), processed_dir=chain_run.processed)
    r = A.analyse(load_validated_tables(ctx, A.DATASETS), YEAR, config_with())
    assert {"Neglect", "Voice of the child", "Supervision", "Exploitation"} <= set(r.audits.topics)
    assert r.plan.ipbp_complete_pct > 90
    assert r.plan.jtai_complete_pct == 100 and r.plan.national_panel_complete_pct == 100
    assert r.training.quarters_text == "Q1-Q3"
    assert 550 <= r.training.attendees < 600 and r.training.above_previous is True
    assert r.engagement.arg_representation_pct > 90
    assert r.engagement.arg_face_to_face_from.strftime("%Y-%m") == "2023-11"
    letters = list(zip(r.learning.newsletters["Opens"], r.learning.newsletters["Campaign clicks"]))
    assert (1401, 103) in letters and (1006, 44) in letters
    assert (r.learning.event_attendees, r.learning.event_later_views) == (140, 90)
    assert r.learning.event_date.strftime("%Y-%m") == "2023-05"
    assert (r.escalations.total, r.escalations.resolved) == (2, 2)


def test_a_year_without_data_gives_empty_figures_not_errors(tables):
    early = ReportingYear.parse("2019-20")
    r = A.analyse(tables, early, config_with())
    assert r.audits.cases_graded == 0 and r.audits.good_or_better_pct is None
    assert r.audit_actions.on_time_pct is None and r.plan.ipbp_complete_pct is None
    assert r.training.attendees == 0 and r.training.quarters_text == "" and r.training.above_previous is None
    assert r.engagement.arg_representation_pct is None and r.engagement.arg_face_to_face_from is None
    assert r.learning.event_title is None and r.learning.newsletter_count == 0
    assert r.budget.expenditure_budget == 0 and r.budget.variance_pct is None
    assert r.escalations.total == 0 and r.escalations.median_days_to_resolve is None
    assert stage.previous_values(A.analyse(tables, early.previous, config_with())) == {}
    assert set(metric_store(tables, early).metrics) == set(stage.metric_values(r))
