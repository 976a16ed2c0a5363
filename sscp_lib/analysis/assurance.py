"""Partnership assurance analysis: headings 1-3, the case-review part of 4, 5 and 7-10.

Pure functions turn the validated tables into the tables and figures the statement cites.
Every "in the year" means the reporting year, April to March; every status is judged as at
the year end (31 March), so an action completed after 31 March was still open at the year end.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from sscp_lib.analysis.common import NOT_RECORDED, TOTAL, code_labels, in_year, label, percent, year_end
from sscp_lib.config import PartnershipConfig, ReportingYear
from sscp_lib.disclosure import suppress_table

DATASETS = (
    "audits",
    "audit_cases",
    "audit_actions",
    "business_plan_actions",
    "case_reviews",
    "review_actions",
    "training_attendance",
    "meeting_attendance",
    "communications",
    "budget",
    "escalations",
)
GRADE_ORDER = ("OUTSTANDING", "GOOD", "REQUIRES_IMPROVEMENT", "INADEQUATE")
GOOD_OR_BETTER = ("OUTSTANDING", "GOOD")
PRIORITIES = ("NEGLECT", "EARLY_HELP", "INSPECTION_FINDINGS")
PANEL_AGREED = ("AGREED_NO_CSPR", "AGREED_CSPR")
QUARTERS = ("Q1", "Q2", "Q3", "Q4")

# Audit action classes as at the year end, in the order tables and charts show them.
ACTION_CLASSES = {
    "on_time": "Completed on time",
    "late": "Completed late",
    "complete_undated": "Complete, date not recorded",
    "overdue": "Overdue at year end",
    "not_yet_due": "Open, not yet due",
    "closed_not_done": "Closed without completion",
}

# --- small helpers -------------------------------------------------------------------------


def financial_quarter(dates: pd.Series) -> pd.Series:
    """Q1 (April-June) to Q4 (January-March) of the financial year."""
    number = ((dates.dt.month - 4) % 12) // 3 + 1
    return ("Q" + number.astype("Int64").astype("string")).astype("string")


def quarters_text(quarters) -> str:
    """Quarters as runs: {Q1, Q2, Q3} -> 'Q1-Q3'; {Q1, Q3} -> 'Q1, Q3'; none -> ''."""
    numbers = sorted({int(str(q)[1]) for q in quarters})
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return ", ".join(f"Q{r[0]}" if len(r) == 1 else f"Q{r[0]}-Q{r[-1]}" for r in runs)


def split_themes(values: pd.Series) -> list[str]:
    """Distinct themes from free-text theme lists separated by ';' or '|', first spelling kept."""
    seen: dict[str, str] = {}
    for text in values.dropna():
        for part in str(text).replace("|", ";").split(";"):
            theme = part.strip()
            if theme and theme.lower() not in seen:
                seen[theme.lower()] = theme
    return list(seen.values())


def completed_by(actions: pd.DataFrame, as_of: pd.Timestamp) -> pd.Series:
    """True where an action was complete on `as_of`.

    Complete means a completion date on or before `as_of`, or status COMPLETE with no date
    recorded. Actions closed without completion are never complete.
    """
    dated = actions["completed_date"].notna() & (actions["completed_date"] <= as_of)
    undated_complete = actions["completed_date"].isna() & (actions["status"] == "COMPLETE")
    not_closed = actions["status"] != "CLOSED_NOT_DONE"
    return ((dated | undated_complete) & not_closed).fillna(False).astype(bool)


def _completion_table(actions: pd.DataFrame, done: pd.Series, by: pd.Series, name: str) -> pd.DataFrame:
    """Actions, complete and % complete per group, with a total row."""
    grouped = pd.DataFrame({name: by.to_numpy(), "done": done.to_numpy()})
    table = grouped.groupby(name, sort=False).agg(Actions=("done", "size"), Complete=("done", "sum")).reset_index()
    total = pd.DataFrame({name: [TOTAL], "Actions": [int(done.size)], "Complete": [int(done.sum())]})
    table = pd.concat([table, total], ignore_index=True)
    table["Actions"] = table["Actions"].astype("Int64")
    table["Complete"] = table["Complete"].astype("Int64")
    table["% complete"] = [
        None if a == 0 else round(100.0 * c / a, 1) for a, c in zip(table["Actions"], table["Complete"])
    ]
    return table


# --- 1. Quality of practice ----------------------------------------------------------------


@dataclass(frozen=True)
class AuditProgramme:
    audits: pd.DataFrame  # audits in the year: title, topic, type, date, cases, brief date
    multi_agency_audits: int
    topics: list[str]
    grades_by_topic: pd.DataFrame  # counts of cases: topic rows + Total, grade columns + Total
    cases_graded: int
    good_or_better: int
    good_or_better_pct: float | None
    learning_briefs: int
    learning_brief_pct: float | None


def audit_programme(audits: pd.DataFrame, audit_cases: pd.DataFrame, year: ReportingYear) -> AuditProgramme:
    """Audits held in the year, their topics and learning briefs, and the grades of the cases audited."""
    held = audits[in_year(audits["audit_date"], year)].sort_values(["audit_date", "audit_id"])
    topic_order = [c for c in code_labels("audit_topic") if c in set(held["topic"].dropna())]
    topics = [label("audit_topic", c) for c in topic_order]
    briefs = int(held["learning_brief_date"].notna().sum())

    cases = audit_cases[in_year(audit_cases["audit_date"], year)]
    cases = cases.merge(audits[["audit_id", "topic"]], on="audit_id", how="left")
    topic_labels = cases["topic"].map(lambda c: label("audit_topic", c))
    counts = pd.crosstab(topic_labels, cases["grade"]) if len(cases) else pd.DataFrame()
    counts = counts.reindex(columns=list(GRADE_ORDER), fill_value=0)
    row_order = [label("audit_topic", c) for c in code_labels("audit_topic")] + [NOT_RECORDED]
    counts = counts.reindex([r for r in row_order if r in counts.index]).fillna(0).astype(int)
    counts.columns = [label("audit_grade", g) for g in GRADE_ORDER]
    counts[TOTAL] = counts.sum(axis=1)
    counts.loc[TOTAL] = counts.sum(axis=0)
    counts.index.name = "Topic"
    good = int(cases["grade"].isin(GOOD_OR_BETTER).sum())

    shown = held.assign(
        topic=held["topic"].map(lambda c: label("audit_topic", c)),
        audit_type=held["audit_type"].map(lambda c: label("audit_type", c)),
    )[["audit_id", "audit_title", "topic", "audit_type", "audit_date", "cases_audited", "learning_brief_date"]]
    return AuditProgramme(
        audits=shown.reset_index(drop=True),
        multi_agency_audits=int((held["audit_type"] == "MULTI_AGENCY").sum()),
        topics=topics,
        grades_by_topic=counts.astype("int64"),
        cases_graded=int(len(cases)),
        good_or_better=good,
        good_or_better_pct=percent(good, len(cases)),
        learning_briefs=briefs,
        learning_brief_pct=percent(briefs, len(held)),
    )


def publishable_grades(programme: AuditProgramme, threshold: int) -> pd.DataFrame:
    """The grades-by-topic table with small counts of children's cases suppressed ("c")."""
    published = suppress_table(programme.grades_by_topic, threshold, row_total=TOTAL, col_total=TOTAL)
    return published.reset_index()


def classify_actions(actions: pd.DataFrame, as_of: pd.Timestamp) -> pd.Series:
    """Each action's state on `as_of` (keys of ACTION_CLASSES).

    Completed on or before its due date is on time (the due date itself counts as on time);
    an action not complete on `as_of` is overdue only when its due date has passed.
    """
    done = completed_by(actions, as_of)
    dated = actions["completed_date"].notna()
    on_time = (actions["completed_date"] <= actions["due_date"]).fillna(False).astype(bool)
    due_passed = (actions["due_date"] <= as_of).fillna(False).astype(bool)
    closed = (actions["status"] == "CLOSED_NOT_DONE").fillna(False).astype(bool)
    state = pd.Series("not_yet_due", index=actions.index, dtype="string")
    state[~done & due_passed] = "overdue"
    state[done & dated & on_time] = "on_time"
    state[done & dated & ~on_time] = "late"
    state[done & ~dated] = "complete_undated"
    state[closed] = "closed_not_done"
    return state


@dataclass(frozen=True)
class ActionLog:
    actions: pd.DataFrame  # actions due in the year with their state
    counts: pd.DataFrame  # State, Actions (due in the year)
    total: int
    on_time: int
    late: int
    overdue: int
    on_time_pct: float | None
    carried_forward: int  # open actions due after the year end


def audit_action_log(actions: pd.DataFrame, year: ReportingYear) -> ActionLog:
    """The audit action log at the year end: actions due in the year by whether they were done on time."""
    end = year_end(year)
    state = classify_actions(actions, end)
    due = in_year(actions["due_date"], year)
    raised_by_end = (actions["raised_date"] <= end).fillna(False).astype(bool)
    carried = int(((actions["due_date"] > end).fillna(False) & raised_by_end & (state == "not_yet_due")).sum())
    log = actions[due].assign(
        state=state[due].map(ACTION_CLASSES),
        owner_agency=actions.loc[due, "owner_agency"].map(lambda c: label("agency", c)),
    )
    tally = state[due].value_counts()
    counts = pd.DataFrame(
        {"State": list(ACTION_CLASSES.values()), "Actions": [int(tally.get(k, 0)) for k in ACTION_CLASSES]}
    )
    counts = counts[
        (counts["Actions"] > 0) | counts["State"].isin([ACTION_CLASSES[k] for k in ("on_time", "late", "overdue")])
    ]
    on_time = int(tally.get("on_time", 0))
    return ActionLog(
        actions=log[
            [
                "audit_action_id",
                "audit_id",
                "action",
                "owner_agency",
                "raised_date",
                "due_date",
                "completed_date",
                "state",
            ]
        ]
        .sort_values(["due_date", "audit_action_id"])
        .reset_index(drop=True),
        counts=counts.reset_index(drop=True),
        total=int(due.sum()),
        on_time=on_time,
        late=int(tally.get("late", 0)),
        overdue=int(tally.get("overdue", 0)),
        on_time_pct=percent(on_time, int(due.sum())),
        carried_forward=carried,
    )


@dataclass(frozen=True)
class ScrutineerResponse:
    recommendations: pd.DataFrame
    count: int
    responded: int
    responded_pct: float | None
    median_response_days: float | None


def scrutineer_response(plan_actions: pd.DataFrame, year: ReportingYear) -> ScrutineerResponse:
    """Independent Scrutineer recommendations due in the year and how quickly partners responded."""
    recs = plan_actions[
        (plan_actions["source"] == "SCRUTINEER").fillna(False) & in_year(plan_actions["due_date"], year)
    ]
    answered = (recs["response_date"].notna() & (recs["response_date"] <= year_end(year))).fillna(False).astype(bool)
    days = (recs.loc[answered, "response_date"] - recs.loc[answered, "raised_date"]).dt.days
    shown = recs.assign(response_days=(recs["response_date"] - recs["raised_date"]).dt.days.where(answered))
    return ScrutineerResponse(
        recommendations=shown[["plan_action_id", "action", "raised_date", "due_date", "response_date", "response_days"]]
        .sort_values(["raised_date", "plan_action_id"])
        .reset_index(drop=True),
        count=int(len(recs)),
        responded=int(answered.sum()),
        responded_pct=percent(int(answered.sum()), len(recs)),
        median_response_days=None if days.empty else float(days.median()),
    )


# --- 2 and 3. Business plan and priorities ---------------------------------------------------


@dataclass(frozen=True)
class BusinessPlan:
    ipbp_actions: int
    ipbp_complete: int
    ipbp_complete_pct: float | None
    by_workstream: pd.DataFrame
    by_priority: pd.DataFrame  # every business-plan action due in the year, by priority
    priority_pct: dict[str, float | None]
    jtai_recommendations: int
    jtai_complete_pct: float | None
    national_panel_recommendations: int
    national_panel_complete_pct: float | None


def business_plan(plan_actions: pd.DataFrame, year: ReportingYear) -> BusinessPlan:
    """IPBP actions, JTAI and National Panel recommendations and priorities: those due in the year, complete at its end."""
    end = year_end(year)
    done = completed_by(plan_actions, end)
    due = in_year(plan_actions["due_date"], year)
    source = plan_actions["source"]
    # Each year's plan export is a snapshot of that year's actions, so every figure is for
    # actions due in the year (an earlier year's row keeps the status it had then).
    ipbp = due & (source == "IPBP").fillna(False)
    jtai = due & (source == "JTAI").fillna(False)
    panel = due & (source == "NATIONAL_PANEL").fillna(False)

    by_workstream = _completion_table(
        plan_actions[ipbp], done[ipbp], plan_actions.loc[ipbp, "workstream"], "Workstream"
    )
    body, total = by_workstream.iloc[:-1], by_workstream.iloc[-1:]
    by_workstream = pd.concat([body.sort_values("Workstream"), total], ignore_index=True)

    in_plan = plan_actions[due]
    order = {code: i for i, code in enumerate(code_labels("plan_priority"))}
    ranked = in_plan.assign(_rank=in_plan["priority"].map(order)).sort_values("_rank", kind="stable")
    by_priority = _completion_table(
        ranked, done[ranked.index], ranked["priority"].map(lambda c: label("plan_priority", c)), "Priority"
    )
    priority_pct = {
        code: percent(
            int((done & due & (plan_actions["priority"] == code).fillna(False)).sum()),
            int((due & (plan_actions["priority"] == code).fillna(False)).sum()),
        )
        for code in PRIORITIES
    }
    return BusinessPlan(
        ipbp_actions=int(ipbp.sum()),
        ipbp_complete=int((done & ipbp).sum()),
        ipbp_complete_pct=percent(int((done & ipbp).sum()), int(ipbp.sum())),
        by_workstream=by_workstream,
        by_priority=by_priority,
        priority_pct=priority_pct,
        jtai_recommendations=int(jtai.sum()),
        jtai_complete_pct=percent(int((done & jtai).sum()), int(jtai.sum())),
        national_panel_recommendations=int(panel.sum()),
        national_panel_complete_pct=percent(int((done & panel).sum()), int(panel.sum())),
    )


# --- 4. Case reviews -----------------------------------------------------------------------


@dataclass(frozen=True)
class CaseReviews:
    reviews: pd.DataFrame  # reviews started or published in the year
    rapid_reviews: int
    cspr_started: int
    cspr_published: int
    panel_agreed: int
    themes: list[str]


def case_reviews(reviews: pd.DataFrame, year: ReportingYear) -> CaseReviews:
    """Rapid reviews and CSPRs started in the year, CSPRs published in it, and their themes."""
    started = in_year(reviews["review_start_date"], year)
    published = in_year(reviews["published_date"], year)
    rapid = started & (reviews["review_type"] == "RAPID_REVIEW").fillna(False)
    cspr = reviews["review_type"] == "CSPR"
    agreed = rapid & reviews["panel_decision"].isin(PANEL_AGREED).fillna(False)
    in_scope = reviews[started | published].sort_values(["review_start_date", "review_id"])
    shown = in_scope.assign(
        review_type=in_scope["review_type"].map(lambda c: label("review_type", c)),
        panel_decision=in_scope["panel_decision"].map(lambda c: None if pd.isna(c) else label("panel_decision", c)),
    )
    return CaseReviews(
        reviews=shown[["review_type", "review_start_date", "panel_decision", "published_date", "themes"]].reset_index(
            drop=True
        ),
        rapid_reviews=int(rapid.sum()),
        cspr_started=int((started & cspr.fillna(False)).sum()),
        cspr_published=int((published & cspr.fillna(False)).sum()),
        panel_agreed=int(agreed.sum()),
        themes=split_themes(in_scope["themes"]),
    )


# --- 5. Support hub: training --------------------------------------------------------------


@dataclass(frozen=True)
class Training:
    attendees: int
    quarters_reported: list[str]
    quarters_text: str
    earlier_same_quarters: dict[str, int]  # earlier year -> attendees in the same quarters
    previous_max: int | None
    above_previous: bool | None  # None when there is no earlier year
    by_quarter: pd.DataFrame  # Quarter + one column per year (None where a quarter has no data)
    by_module: pd.DataFrame
    by_agency: pd.DataFrame
    modules: int


def training(attendance: pd.DataFrame, year: ReportingYear) -> Training:
    """Training attendance in the year so far, compared with the same quarters of earlier years."""
    frame = attendance[(attendance["course_date"] <= year_end(year)).fillna(False)]
    frame = frame.assign(
        quarter=financial_quarter(frame["course_date"]), attended=frame["attended"].fillna(False).astype(bool)
    )
    this = frame[in_year(frame["course_date"], year)]
    reported = sorted(set(this["quarter"].dropna()))
    attended = this[this["attended"]]

    years = sorted(set(frame["reporting_year"].dropna()))
    earlier = [y for y in years if y < year.label]
    earlier_counts = {
        y: int((frame["attended"] & (frame["reporting_year"] == y) & frame["quarter"].isin(reported)).sum())
        for y in earlier
    }
    previous_max = max(earlier_counts.values()) if earlier_counts else None

    by_quarter = pd.DataFrame({"Quarter": list(QUARTERS)})
    for y in years:
        rows = frame[(frame["reporting_year"] == y).fillna(False)]
        held = set(rows["quarter"].dropna())
        counts = rows[rows["attended"]].groupby("quarter").size()
        by_quarter[y] = pd.array([int(counts.get(q, 0)) if q in held else None for q in QUARTERS], dtype="Int64")

    by_module = (
        attended.groupby("module")
        .size()
        .rename("Attendees")
        .reset_index()
        .rename(columns={"module": "Module"})
        .sort_values(["Attendees", "Module"], ascending=[False, True])
        .reset_index(drop=True)
    )
    by_agency = attended.groupby("attendee_agency").size().rename("Attendees").reset_index()
    by_agency = by_agency.assign(Agency=by_agency["attendee_agency"].map(lambda c: label("agency", c)))
    by_agency = (
        by_agency[["Agency", "Attendees"]]
        .sort_values(["Attendees", "Agency"], ascending=[False, True])
        .reset_index(drop=True)
    )
    return Training(
        attendees=int(len(attended)),
        quarters_reported=reported,
        quarters_text=quarters_text(reported),
        earlier_same_quarters=earlier_counts,
        previous_max=previous_max,
        above_previous=None if previous_max is None else len(attended) > previous_max,
        by_quarter=by_quarter,
        by_module=by_module,
        by_agency=by_agency,
        modules=int(this["module"].nunique()),
    )


# --- 7. Engagement -------------------------------------------------------------------------


@dataclass(frozen=True)
class Engagement:
    by_series: pd.DataFrame
    by_agency: pd.DataFrame
    arg_representation_pct: float | None
    executive_attendance_pct: float | None
    arg_face_to_face_from: pd.Timestamp | None


def _attendance_rates(frame: pd.DataFrame, key: str, code_list: str, name: str) -> pd.DataFrame:
    grouped = frame.groupby(key).agg(
        Meetings=("meeting_date", "nunique"), Places=("attended", "size"), Attended=("attended", "sum")
    )
    order = [c for c in code_labels(code_list) if c in grouped.index]
    grouped = grouped.reindex(order).reset_index()
    grouped.insert(0, name, grouped[key].map(lambda c: label(code_list, c)))
    grouped = grouped.drop(columns=[key]).astype({"Meetings": "int64", "Places": "int64", "Attended": "int64"})
    grouped["Attendance %"] = (100.0 * grouped["Attended"] / grouped["Places"]).round(1)
    return grouped


def engagement(meetings: pd.DataFrame, year: ReportingYear) -> Engagement:
    """Attendance rates: each row is one agency's expected place at one meeting."""
    held = meetings[in_year(meetings["meeting_date"], year)]
    held = held.assign(attended=held["attended"].fillna(False).astype(bool))

    def rate(series: str) -> float | None:
        rows = held[(held["meeting_series"] == series).fillna(False)]
        return percent(int(rows["attended"].sum()), len(rows))

    arg_in_person = held[((held["meeting_series"] == "ARG") & (held["meeting_format"] == "FACE_TO_FACE")).fillna(False)]
    return Engagement(
        by_series=_attendance_rates(held, "meeting_series", "meeting_series", "Meeting"),
        by_agency=_attendance_rates(held, "agency", "agency", "Agency").drop(columns=["Meetings"]),
        arg_representation_pct=rate("ARG"),
        executive_attendance_pct=rate("EXECUTIVE"),
        arg_face_to_face_from=None if arg_in_person.empty else arg_in_person["meeting_date"].min(),
    )


# --- 8. Learning ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Learning:
    event_title: str | None
    event_date: pd.Timestamp | None
    event_attendees: int | None
    event_later_views: int | None
    newsletters: pd.DataFrame  # Newsletter, Date, Campaign, Opens, Campaign clicks
    newsletter_count: int
    newsletter_campaign: str | None
    opens_total: int
    clicks_total: int
    review_actions: int
    review_actions_complete: int
    review_actions_complete_pct: float | None


def _int_or_none(value) -> int | None:
    return None if pd.isna(value) else int(value)


def learning(communications: pd.DataFrame, review_actions: pd.DataFrame, year: ReportingYear) -> Learning:
    """The main learning event, the newsletters' reach and completion of case review actions."""
    items = communications[in_year(communications["item_date"], year)]
    events = items[(items["item_type"] == "LEARNING_EVENT").fillna(False) & items["attendees"].notna()]
    main = None if events.empty else events.sort_values(["attendees", "item_date"], ascending=[False, True]).iloc[0]

    letters = items[(items["item_type"] == "NEWSLETTER").fillna(False)].sort_values(["item_date", "item_id"])
    table = pd.DataFrame(
        {
            "Newsletter": letters["title"].to_numpy(),
            "Date": letters["item_date"].to_numpy(),
            "Campaign": letters["campaign"].to_numpy(),
            "Opens": letters["opens"].astype("Int64").to_numpy(),
            "Campaign clicks": letters["campaign_clicks"].astype("Int64").to_numpy(),
        }
    )
    campaigns = list(dict.fromkeys(letters["campaign"].dropna()))

    end = year_end(year)
    due = in_year(review_actions["due_date"], year)
    done = completed_by(review_actions, end) & due
    return Learning(
        event_title=None if main is None else str(main["title"]),
        event_date=None if main is None else main["item_date"],
        event_attendees=None if main is None else _int_or_none(main["attendees"]),
        event_later_views=None if main is None else _int_or_none(main["later_views"]),
        newsletters=table,
        newsletter_count=int(len(letters)),
        newsletter_campaign=" and ".join(campaigns) if campaigns else None,
        opens_total=int(letters["opens"].sum()),
        clicks_total=int(letters["campaign_clicks"].sum()),
        review_actions=int(due.sum()),
        review_actions_complete=int(done.sum()),
        review_actions_complete_pct=percent(int(done.sum()), int(due.sum())),
    )


# --- 9. Budget -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Budget:
    by_line: pd.DataFrame  # expenditure lines: Line, Budget, Actual, Variance, Variance % (+ Total)
    contributions: pd.DataFrame  # income lines by contributor: Contributor, Budget, Actual (+ Total)
    expenditure_budget: float
    expenditure_actual: float
    variance: float
    variance_pct: float | None
    income_actual: float


def budget(lines: pd.DataFrame, year: ReportingYear) -> Budget:
    """Budget against outturn for the financial year; variance is actual minus budget."""
    year_lines = lines[in_year(lines["financial_year_end"], year)]
    spend = year_lines[(year_lines["line_type"] == "EXPENDITURE").fillna(False)].sort_values("budget_line")
    income = year_lines[(year_lines["line_type"] == "INCOME").fillna(False)]

    by_line = pd.DataFrame(
        {
            "Line": spend["budget_line"].to_numpy(),
            "Budget": spend["budget_amount"].astype(float).to_numpy(),
            "Actual": spend["actual_amount"].astype(float).to_numpy(),
        }
    )
    by_line = pd.concat(
        [
            by_line,
            pd.DataFrame({"Line": [TOTAL], "Budget": [by_line["Budget"].sum()], "Actual": [by_line["Actual"].sum()]}),
        ],
        ignore_index=True,
    )
    by_line["Variance"] = by_line["Actual"] - by_line["Budget"]
    by_line["Variance %"] = [
        None if b == 0 else round(100.0 * v / b, 1) for v, b in zip(by_line["Variance"], by_line["Budget"])
    ]

    contributor = income["partner"].map(lambda c: None if pd.isna(c) else label("agency", c))
    contributor = contributor.where(contributor.notna(), income["budget_line"])
    contributions = (
        pd.DataFrame(
            {
                "Contributor": contributor.to_numpy(),
                "Budget": income["budget_amount"].astype(float).to_numpy(),
                "Actual": income["actual_amount"].astype(float).to_numpy(),
            }
        )
        .groupby("Contributor", as_index=False)
        .sum()
        .sort_values(["Actual", "Contributor"], ascending=[False, True])
    )
    contributions = pd.concat(
        [
            contributions,
            pd.DataFrame(
                {
                    "Contributor": [TOTAL],
                    "Budget": [contributions["Budget"].sum()],
                    "Actual": [contributions["Actual"].sum()],
                }
            ),
        ],
        ignore_index=True,
    )
    total = by_line.iloc[-1]
    return Budget(
        by_line=by_line,
        contributions=contributions,
        expenditure_budget=float(total["Budget"]),
        expenditure_actual=float(total["Actual"]),
        variance=float(total["Variance"]),
        variance_pct=percent(total["Variance"], total["Budget"]),
        income_actual=float(income["actual_amount"].astype(float).sum()),
    )


# --- 10. Escalations -----------------------------------------------------------------------


@dataclass(frozen=True)
class Escalations:
    escalations: pd.DataFrame
    total: int
    resolved: int
    open: int
    median_days_to_resolve: float | None
    topics: list[str]
    to_lsp: int


def escalations(frame: pd.DataFrame, year: ReportingYear) -> Escalations:
    """Escalations raised in the year; resolved means resolved by the year end."""
    end = year_end(year)
    raised = frame[in_year(frame["raised_date"], year)].sort_values(["raised_date", "escalation_id"])
    dated = raised["resolved_date"].notna() & (raised["resolved_date"] <= end)
    undated = raised["resolved_date"].isna() & (raised["status"] == "RESOLVED")
    resolved = (dated | undated).fillna(False).astype(bool)
    days = (raised.loc[resolved, "resolved_date"] - raised.loc[resolved, "raised_date"]).dt.days.dropna()
    shown = raised.assign(
        raised_by=raised["raised_by"].map(lambda c: label("agency", c)),
        escalation_level=raised["escalation_level"].map(lambda c: label("escalation_level", c)),
        resolved_by_year_end=resolved,
    )
    return Escalations(
        escalations=shown[
            [
                "escalation_id",
                "raised_date",
                "topic",
                "raised_by",
                "escalation_level",
                "resolved_date",
                "resolved_by_year_end",
            ]
        ].reset_index(drop=True),
        total=int(len(raised)),
        resolved=int(resolved.sum()),
        open=int((~resolved).sum()),
        median_days_to_resolve=None if days.empty else float(days.median()),
        topics=list(dict.fromkeys(raised["topic"].dropna())),
        to_lsp=int((raised["escalation_level"] == "LSP").fillna(False).sum()),
    )


# --- the whole stage -----------------------------------------------------------------------


@dataclass(frozen=True)
class AssuranceAnalysis:
    year: ReportingYear
    threshold: int  # counts of children's records from 1 to this are suppressed when published
    audits: AuditProgramme
    audit_actions: ActionLog
    scrutineer: ScrutineerResponse
    plan: BusinessPlan
    reviews: CaseReviews
    training: Training
    engagement: Engagement
    learning: Learning
    budget: Budget
    escalations: Escalations
    has_data: dict[str, bool] = field(default_factory=dict)  # dataset -> rows for this year exist


def analyse(tables: Mapping[str, pd.DataFrame], year: ReportingYear, config: PartnershipConfig) -> AssuranceAnalysis:
    """Every heading's analysis for one reporting year."""
    return AssuranceAnalysis(
        year=year,
        threshold=config.suppression_threshold,
        audits=audit_programme(tables["audits"], tables["audit_cases"], year),
        audit_actions=audit_action_log(tables["audit_actions"], year),
        scrutineer=scrutineer_response(tables["business_plan_actions"], year),
        plan=business_plan(tables["business_plan_actions"], year),
        reviews=case_reviews(tables["case_reviews"], year),
        training=training(tables["training_attendance"], year),
        engagement=engagement(tables["meeting_attendance"], year),
        learning=learning(tables["communications"], tables["review_actions"], year),
        budget=budget(tables["budget"], year),
        escalations=escalations(tables["escalations"], year),
        has_data={name: bool((tables[name]["reporting_year"] == year.label).fillna(False).any()) for name in DATASETS},
    )
