"""Partnership assurance analysis: headings 1-3, the case-review part of 4, 5 and 7-10.

Pure functions turn the validated tables into the tables and figures the statement cites.
Every "in the year" means the reporting year, April to March; every status is judged as at
the year end (31 March), so an action completed after 31 March was still open at the year end.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..config import Paths, ReportingYear
from ..contract import load_contract
from ..disclosure import SUPPRESSED, suppress_count, suppress_table
from ..errors import UserError
from ..metrics import MetricStore, load_catalogue

STAGE = "analyse_assurance"
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
PRIORITIES = {
    "NEGLECT": "priorities.neglect_complete_pct",
    "EARLY_HELP": "priorities.early_help_complete_pct",
    "INSPECTION_FINDINGS": "priorities.inspection_complete_pct",
}
PANEL_AGREED = ("AGREED_NO_CSPR", "AGREED_CSPR")
QUARTERS = ("Q1", "Q2", "Q3", "Q4")
TOTAL = "Total"

# Audit action classes as at the year end, in the order tables and charts show them.
ACTION_CLASSES = {
    "on_time": "Completed on time",
    "late": "Completed late",
    "complete_undated": "Complete, date not recorded",
    "overdue": "Overdue at year end",
    "not_yet_due": "Open, not yet due",
    "closed_not_done": "Closed without completion",
}

# The dataset whose rows for a year must exist before a metric's previous-year value is published.
PREVIOUS_SOURCE = {
    "practice.audits_completed": "audits",
    "practice.audit_good_or_better_pct": "audit_cases",
    "practice.audit_actions_on_time_pct": "audit_actions",
    "business_plan.ipbp_complete_pct": "business_plan_actions",
    "challenges.rapid_reviews": "case_reviews",
    "engagement.arg_representation_pct": "meeting_attendance",
    "engagement.executive_attendance_pct": "meeting_attendance",
    "learning.review_actions_complete_pct": "review_actions",
    "budget.expenditure_budget": "budget",
    "budget.expenditure_actual": "budget",
    "escalations.total": "escalations",
}


# --- small helpers -------------------------------------------------------------------------


def _label(code_list: str, code) -> str:
    """The contract's label for a code (the code itself when the list does not know it)."""
    if code is None or code is pd.NA:
        return "Not recorded"
    return load_contract().code_lists[code_list].codes.get(str(code), str(code))


def _code_order(code_list: str) -> list[str]:
    return list(load_contract().code_lists[code_list].codes)


def _year_end(year: ReportingYear) -> pd.Timestamp:
    return pd.Timestamp(year.end)


def in_year(dates: pd.Series, year: ReportingYear) -> pd.Series:
    """True where a date falls in the reporting year (1 April to 31 March); missing dates are False."""
    inside = (dates >= pd.Timestamp(year.start)) & (dates <= _year_end(year))
    return inside.fillna(False).astype(bool)


def percent(part, whole) -> float | None:
    """part as a percentage of whole (0-100); None when there is nothing to divide by."""
    return None if not whole else 100.0 * float(part) / float(whole)


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


# --- loading -------------------------------------------------------------------------------


def load_validated_tables(paths: Paths, year: ReportingYear) -> dict[str, pd.DataFrame]:
    """The validated tables this stage reads, each checked for the processed schema's columns."""
    contract = load_contract()
    folder = paths.validated_dir(year)
    tables = {}
    for name in DATASETS:
        path = folder / f"{name}.parquet"
        if not path.exists():
            raise UserError(f"{path}: validated table not found; run the validate stage for {year} first")
        frame = pd.read_parquet(path)
        missing = [c for c in contract.processed_schema(name) if c not in frame.columns]
        if missing:
            raise UserError(f"{path}: missing column(s) {', '.join(missing)}")
        tables[name] = frame
    return tables


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
    topic_order = [c for c in _code_order("audit_topic") if c in set(held["topic"].dropna())]
    topics = [_label("audit_topic", c) for c in topic_order]
    briefs = int(held["learning_brief_date"].notna().sum())

    cases = audit_cases[in_year(audit_cases["audit_date"], year)]
    cases = cases.merge(audits[["audit_id", "topic"]], on="audit_id", how="left")
    topic_labels = cases["topic"].map(lambda c: _label("audit_topic", c))
    counts = pd.crosstab(topic_labels, cases["grade"]) if len(cases) else pd.DataFrame()
    counts = counts.reindex(columns=list(GRADE_ORDER), fill_value=0)
    row_order = [_label("audit_topic", c) for c in _code_order("audit_topic")] + ["Not recorded"]
    counts = counts.reindex([r for r in row_order if r in counts.index]).fillna(0).astype(int)
    counts.columns = [_label("audit_grade", g) for g in GRADE_ORDER]
    counts[TOTAL] = counts.sum(axis=1)
    counts.loc[TOTAL] = counts.sum(axis=0)
    counts.index.name = "Topic"
    good = int(cases["grade"].isin(GOOD_OR_BETTER).sum())

    shown = held.assign(
        topic=held["topic"].map(lambda c: _label("audit_topic", c)),
        audit_type=held["audit_type"].map(lambda c: _label("audit_type", c)),
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
    end = _year_end(year)
    state = classify_actions(actions, end)
    due = in_year(actions["due_date"], year)
    raised_by_end = (actions["raised_date"] <= end).fillna(False).astype(bool)
    carried = int(((actions["due_date"] > end).fillna(False) & raised_by_end & (state == "not_yet_due")).sum())
    log = actions[due].assign(
        state=state[due].map(ACTION_CLASSES),
        owner_agency=actions.loc[due, "owner_agency"].map(lambda c: _label("agency", c)),
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
    answered = (recs["response_date"].notna() & (recs["response_date"] <= _year_end(year))).fillna(False).astype(bool)
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
    end = _year_end(year)
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
    order = {code: i for i, code in enumerate(_code_order("plan_priority"))}
    ranked = in_plan.assign(_rank=in_plan["priority"].map(order)).sort_values("_rank", kind="stable")
    by_priority = _completion_table(
        ranked, done[ranked.index], ranked["priority"].map(lambda c: _label("plan_priority", c)), "Priority"
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
        review_type=in_scope["review_type"].map(lambda c: _label("review_type", c)),
        panel_decision=in_scope["panel_decision"].map(lambda c: None if pd.isna(c) else _label("panel_decision", c)),
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
    above_previous: str | None  # "yes" / "no"; None when there is no earlier year
    by_quarter: pd.DataFrame  # Quarter + one column per year (None where a quarter has no data)
    by_module: pd.DataFrame
    by_agency: pd.DataFrame
    modules: int


def training(attendance: pd.DataFrame, year: ReportingYear) -> Training:
    """Training attendance in the year so far, compared with the same quarters of earlier years."""
    frame = attendance[(attendance["course_date"] <= _year_end(year)).fillna(False)]
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
    by_agency = by_agency.assign(Agency=by_agency["attendee_agency"].map(lambda c: _label("agency", c)))
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
        above_previous=None if previous_max is None else ("yes" if len(attended) > previous_max else "no"),
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
    order = [c for c in _code_order(code_list) if c in grouped.index]
    grouped = grouped.reindex(order).reset_index()
    grouped.insert(0, name, grouped[key].map(lambda c: _label(code_list, c)))
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

    end = _year_end(year)
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

    contributor = income["partner"].map(lambda c: None if pd.isna(c) else _label("agency", c))
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
    end = _year_end(year)
    raised = frame[in_year(frame["raised_date"], year)].sort_values(["raised_date", "escalation_id"])
    dated = raised["resolved_date"].notna() & (raised["resolved_date"] <= end)
    undated = raised["resolved_date"].isna() & (raised["status"] == "RESOLVED")
    resolved = (dated | undated).fillna(False).astype(bool)
    days = (raised.loc[resolved, "resolved_date"] - raised.loc[resolved, "raised_date"]).dt.days.dropna()
    shown = raised.assign(
        raised_by=raised["raised_by"].map(lambda c: _label("agency", c)),
        escalation_level=raised["escalation_level"].map(lambda c: _label("escalation_level", c)),
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


def analyse_assurance(tables: Mapping[str, pd.DataFrame], year: ReportingYear) -> AssuranceAnalysis:
    """Every heading's analysis for one reporting year."""
    return AssuranceAnalysis(
        year=year,
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


def metric_values(result: AssuranceAnalysis, threshold: int) -> dict[str, object]:
    """Catalogue metric name -> value (tables as DataFrames; child-level tables already suppressed)."""
    a, log, s, p, r = result.audits, result.audit_actions, result.scrutineer, result.plan, result.reviews
    t, e, le, b, x = result.training, result.engagement, result.learning, result.budget, result.escalations
    values = {
        "practice.audits_completed": a.multi_agency_audits,
        "practice.audit_topics": a.topics,
        "practice.audit_cases_graded": a.cases_graded,
        "practice.audit_good_or_better_pct": a.good_or_better_pct,
        "practice.audit_grades_by_topic": publishable_grades(a, threshold),
        "practice.learning_briefs_published": a.learning_briefs,
        "practice.learning_brief_pct": a.learning_brief_pct,
        "practice.audit_actions_total": log.total,
        "practice.audit_actions_on_time": log.on_time,
        "practice.audit_actions_late": log.late,
        "practice.audit_actions_overdue": log.overdue,
        "practice.audit_actions_on_time_pct": log.on_time_pct,
        "practice.scrutineer_recommendations": s.count,
        "practice.scrutineer_responded_pct": s.responded_pct,
        "practice.scrutineer_median_response_days": s.median_response_days,
        "business_plan.ipbp_actions": p.ipbp_actions,
        "business_plan.ipbp_complete": p.ipbp_complete,
        "business_plan.ipbp_complete_pct": p.ipbp_complete_pct,
        "business_plan.ipbp_by_workstream": p.by_workstream,
        "business_plan.jtai_recommendations": p.jtai_recommendations,
        "business_plan.jtai_complete_pct": p.jtai_complete_pct,
        "business_plan.national_panel_recommendations": p.national_panel_recommendations,
        "business_plan.national_panel_complete_pct": p.national_panel_complete_pct,
        "priorities.by_priority": p.by_priority,
        "challenges.rapid_reviews": r.rapid_reviews,
        "challenges.cspr_started": r.cspr_started,
        "challenges.cspr_published": r.cspr_published,
        "challenges.review_themes": r.themes,
        "support_hub.training_attendees": t.attendees,
        "support_hub.training_quarters_reported": t.quarters_text,
        "support_hub.training_same_quarters_previous_max": t.previous_max,
        "support_hub.training_above_previous_years": t.above_previous,
        "support_hub.training_by_quarter": t.by_quarter,
        "support_hub.training_by_module": t.by_module,
        "support_hub.training_by_agency": t.by_agency,
        "support_hub.training_modules": t.modules,
        "engagement.arg_representation_pct": e.arg_representation_pct,
        "engagement.executive_attendance_pct": e.executive_attendance_pct,
        "engagement.arg_face_to_face_from": e.arg_face_to_face_from,
        "engagement.attendance_by_series": e.by_series,
        "engagement.attendance_by_agency": e.by_agency,
        "learning.event_title": le.event_title,
        "learning.event_date": le.event_date,
        "learning.event_attendees": le.event_attendees,
        "learning.event_later_views": le.event_later_views,
        "learning.newsletters": le.newsletter_count,
        "learning.newsletter_campaign": le.newsletter_campaign,
        "learning.newsletter_table": le.newsletters,
        "learning.newsletter_opens_total": le.opens_total,
        "learning.newsletter_clicks_total": le.clicks_total,
        "learning.review_actions": le.review_actions,
        "learning.review_actions_complete_pct": le.review_actions_complete_pct,
        "learning.rapid_review_panel_agreed": r.panel_agreed,
        "budget.expenditure_budget": b.expenditure_budget,
        "budget.expenditure_actual": b.expenditure_actual,
        "budget.variance": b.variance,
        "budget.variance_pct": b.variance_pct,
        "budget.income_actual": b.income_actual,
        "budget.by_line": b.by_line,
        "budget.contributions": b.contributions,
        "escalations.total": x.total,
        "escalations.resolved": x.resolved,
        "escalations.open": x.open,
        "escalations.median_days_to_resolve": x.median_days_to_resolve,
        "escalations.topics": x.topics,
        "escalations.to_lsp": x.to_lsp,
    }
    values.update({name: p.priority_pct[code] for code, name in PRIORITIES.items()})
    return values


def previous_metric_names() -> list[str]:
    """Catalogue metrics of this stage that also carry the previous year's value."""
    metrics = load_catalogue()["metrics"]
    return [n for n, spec in metrics.items() if spec["stage"] == STAGE and spec.get("previous")]


def previous_values(tables: Mapping[str, pd.DataFrame], year: ReportingYear, threshold: int) -> dict[str, object]:
    """Previous-year values of the metrics marked previous, where the data hold that year."""
    before = analyse_assurance(tables, year.previous)
    values = metric_values(before, threshold)
    return {
        name: values[name]
        for name in previous_metric_names()
        if before.has_data[PREVIOUS_SOURCE[name]] and values[name] is not None
    }


def build_metric_store(
    tables: Mapping[str, pd.DataFrame], year: ReportingYear, threshold: int, result: AssuranceAnalysis | None = None
) -> MetricStore:
    """The stage's MetricStore: every catalogue metric, with previous-year values where possible."""
    result = result or analyse_assurance(tables, year)
    store = MetricStore(STAGE, threshold)
    previous = previous_values(tables, year, threshold)
    for name, value in metric_values(result, threshold).items():
        store.add(name, value, previous=previous.get(name))
    return store


def published_figures(store: MetricStore, names: list[str]) -> pd.DataFrame:
    """Figures as the statement will read them (suppressed, JSON values), with their labels."""
    rows = []
    for name in names:
        entry = store.metrics[name]
        rows.append(
            {
                "figure": entry["label"],
                "value": _shown(entry["value"]),
                "previous year": _shown(entry.get("previous")),
                "metric": name,
            }
        )
    return pd.DataFrame(rows, dtype=object)


def _shown(value):
    """A figure for reading: lists joined, fractions to one decimal place, nothing as blank."""
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(map(str, value))
    if isinstance(value, float):
        return round(value, 1)
    return value


# --- charts --------------------------------------------------------------------------------


def _fmt_pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}%"


def _fmt_gbp(value: float) -> str:
    return f"£{abs(value):,.0f}"


def chart_audit_grades(result: AssuranceAnalysis, charts_dir: Path, threshold: int, synthetic: bool) -> Path:
    """Grades of the cases audited in the year (suppressed counts shown as 'c', no bar)."""
    from .. import charts

    a, year = result.audits, result.year
    totals = a.grades_by_topic.loc[TOTAL].drop(TOTAL)
    title = f"{_fmt_pct(a.good_or_better_pct)} of cases audited in {year} were graded good or outstanding"
    fig, ax = charts.new_chart(title, "Grade", "Cases audited")
    published = [suppress_count(int(v), threshold) for v in totals]
    heights = [0 if v == SUPPRESSED else v for v in published]
    colours = [
        charts.PALETTE[0] if g in [_label("audit_grade", c) for c in GOOD_OR_BETTER] else charts.MUTED
        for g in totals.index
    ]
    bars = ax.bar(list(totals.index), heights, color=colours)
    ax.bar_label(bars, labels=[str(v) for v in published], padding=2)
    alt = (
        f"Bar chart of the grades given to {suppress_count(a.cases_graded, threshold)} cases audited in {year} "
        f"across {len(a.topics)} topics: "
        + ", ".join(f"{g} {v}" for g, v in zip(totals.index, published))
        + f". {_fmt_pct(a.good_or_better_pct)} were good or outstanding."
    )
    return charts.save_chart(
        fig,
        charts_dir,
        "audit_grades",
        title=title,
        alt=alt,
        source="SSCP audit programme, case grades",
        heading=1,
        synthetic=synthetic,
    )


def _gridlines_along_bars(ax) -> None:
    """Horizontal bar charts: vertical gridlines to read the bars' lengths against."""
    ax.grid(axis="x")
    ax.grid(axis="y", visible=False)


def chart_audit_actions(result: AssuranceAnalysis, charts_dir: Path, synthetic: bool) -> Path:
    from .. import charts

    log, year = result.audit_actions, result.year
    title = f"{log.on_time} of {log.total} audit actions due in {year} were completed on time"
    fig, ax = charts.new_chart(title, "Audit actions", "")
    _gridlines_along_bars(ax)
    counts = log.counts.iloc[::-1]
    colours = [
        charts.PALETTE[1]
        if s == ACTION_CLASSES["on_time"]
        else charts.HIGHLIGHT
        if s == ACTION_CLASSES["overdue"]
        else charts.PALETTE[0]
        for s in counts["State"]
    ]
    bars = ax.barh(counts["State"], counts["Actions"], color=colours)
    ax.bar_label(bars, padding=2)
    alt = (
        f"Horizontal bar chart of the {log.total} audit actions due in {year} by state at 31 March: "
        + ", ".join(f"{s.lower()} {n}" for s, n in zip(log.counts["State"], log.counts["Actions"]))
        + "."
        + (f" A further {log.carried_forward} open actions fall due after the year end." if log.carried_forward else "")
    )
    return charts.save_chart(
        fig,
        charts_dir,
        "audit_actions",
        title=title,
        alt=alt,
        source="SSCP audit action log",
        heading=1,
        synthetic=synthetic,
    )


def chart_ipbp_workstreams(result: AssuranceAnalysis, charts_dir: Path, synthetic: bool) -> Path:
    from .. import charts

    p, year = result.plan, result.year
    body = p.by_workstream[p.by_workstream["Workstream"] != TOTAL].iloc[::-1]
    title = f"{_fmt_pct(p.ipbp_complete_pct)} of IPBP actions due in {year} were complete at year end"
    fig, ax = charts.new_chart(title, "Actions complete (%)", "Workstream")
    _gridlines_along_bars(ax)
    bars = ax.barh(body["Workstream"], body["% complete"].astype(float), color=charts.PALETTE[0])
    ax.bar_label(bars, labels=[f"{c} of {n}" for c, n in zip(body["Complete"], body["Actions"])], padding=2)
    ax.set_xlim(0, 110)
    alt = (
        f"Horizontal bar chart of the share of Integrated Partnership Business Plan actions due in {year} "
        f"complete at 31 March, by workstream: "
        + "; ".join(
            f"{w} {c} of {n}"
            for w, c, n in zip(body["Workstream"][::-1], body["Complete"][::-1], body["Actions"][::-1])
        )
        + f". Overall {p.ipbp_complete} of {p.ipbp_actions}."
    )
    return charts.save_chart(
        fig,
        charts_dir,
        "ipbp_workstreams",
        title=title,
        alt=alt,
        source="SSCP Integrated Partnership Business Plan tracker",
        heading=2,
        synthetic=synthetic,
    )


def chart_training_by_quarter(result: AssuranceAnalysis, charts_dir: Path, synthetic: bool) -> Path:
    from .. import charts

    t, year = result.training, result.year
    compare = (
        ""
        if t.previous_max is None
        else ", more than in the same quarters of any earlier year"
        if t.above_previous == "yes"
        else f", not more than the {t.previous_max:,} of an earlier year's same quarters"
    )
    title = f"{t.attendees:,} staff attended training in {t.quarters_text} of {year}{compare}"
    fig, ax = charts.new_chart(title, "Quarter of the financial year", "Attendees")
    years = [c for c in t.by_quarter.columns if c != "Quarter"]
    width = 0.8 / max(len(years), 1)
    for i, y in enumerate(years):
        values = t.by_quarter[y].astype("Float64").fillna(0).astype(float)
        # The reporting year in the lead colour; earlier years in the palette's other colours.
        colour = charts.PALETTE[0] if y == year.label else charts.PALETTE[1 + i % (len(charts.PALETTE) - 1)]
        ax.bar([q + i * width - 0.4 + width / 2 for q in range(4)], values, width=width, label=y, color=colour)
    ax.set_xticks(range(4), list(QUARTERS))
    ax.legend(frameon=False, title="Year", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    earlier = "; ".join(f"{y} {n}" for y, n in t.earlier_same_quarters.items()) or "no earlier years in the data"
    alt = (
        f"Grouped bar chart of training attendees by quarter for each year. In {t.quarters_text} of {year} "
        f"{t.attendees} staff attended; the same quarters of earlier years had: {earlier}."
    )
    return charts.save_chart(
        fig,
        charts_dir,
        "training_by_quarter",
        title=title,
        alt=alt,
        source="SSCP training attendance records",
        heading=5,
        synthetic=synthetic,
    )


def chart_meeting_attendance(result: AssuranceAnalysis, charts_dir: Path, synthetic: bool) -> Path:
    from .. import charts

    e, year = result.engagement, result.year
    title = f"ARG representation was {_fmt_pct(e.arg_representation_pct)} and Executive attendance {_fmt_pct(e.executive_attendance_pct)} in {year}"
    fig, ax = charts.new_chart(title, "Agency places attended (%)", "Meeting")
    _gridlines_along_bars(ax)
    body = e.by_series.iloc[::-1]
    colours = [
        charts.PALETTE[0]
        if m in (_label("meeting_series", "ARG"), _label("meeting_series", "EXECUTIVE"))
        else charts.PALETTE[1]
        for m in body["Meeting"]
    ]
    bars = ax.barh(body["Meeting"], body["Attendance %"], color=colours)
    ax.bar_label(bars, labels=[f"{v:.0f}%" for v in body["Attendance %"]], padding=2)
    ax.set_xlim(0, 110)
    alt = (
        f"Horizontal bar chart of attendance at partnership meetings in {year} as a share of expected agency places: "
        + "; ".join(
            f"{m} {v:.0f}% over {n} meetings"
            for m, v, n in zip(e.by_series["Meeting"], e.by_series["Attendance %"], e.by_series["Meetings"])
        )
        + "."
    )
    return charts.save_chart(
        fig,
        charts_dir,
        "meeting_attendance",
        title=title,
        alt=alt,
        source="SSCP meeting attendance records",
        heading=7,
        synthetic=synthetic,
    )


def chart_newsletter_reach(result: AssuranceAnalysis, charts_dir: Path, synthetic: bool) -> Path:
    from .. import charts

    le, year = result.learning, result.year
    campaign = (
        f", with {le.clicks_total:,} clicks on the {le.newsletter_campaign} campaign" if le.newsletter_campaign else ""
    )
    title = f"{le.newsletter_count} newsletters in {year} were opened {le.opens_total:,} times{campaign}"
    fig, ax = charts.new_chart(title, "Newsletter", "Count")
    labels = [f"{n}\n{pd.Timestamp(d):%d %b %Y}" for n, d in zip(le.newsletters["Newsletter"], le.newsletters["Date"])]
    x = range(len(labels))
    opens = le.newsletters["Opens"].astype("Float64").fillna(0).astype(float)
    clicks = le.newsletters["Campaign clicks"].astype("Float64").fillna(0).astype(float)
    b1 = ax.bar([i - 0.2 for i in x], opens, width=0.4, label="Opens", color=charts.PALETTE[0])
    b2 = ax.bar([i + 0.2 for i in x], clicks, width=0.4, label="Campaign clicks", color=charts.PALETTE[1])
    ax.bar_label(b1, labels=[f"{v:,.0f}" for v in opens], padding=2)
    ax.bar_label(b2, labels=[f"{v:,.0f}" for v in clicks], padding=2)
    ax.set_xticks(list(x), labels)
    ax.legend(frameon=False)
    alt = (
        f"Bar chart of opens and campaign link clicks for each of the {le.newsletter_count} newsletters sent in {year}: "
        + "; ".join(
            f"{n} opened {int(o)} times with {int(c)} clicks"
            for n, o, c in zip(le.newsletters["Newsletter"], opens, clicks)
        )
        + "."
    )
    return charts.save_chart(
        fig,
        charts_dir,
        "newsletter_reach",
        title=title,
        alt=alt,
        source="SSCP newsletter mailing statistics",
        heading=8,
        synthetic=synthetic,
    )


def chart_budget_lines(result: AssuranceAnalysis, charts_dir: Path, synthetic: bool) -> Path:
    from .. import charts

    b, year = result.budget, result.year
    direction = "under" if b.variance < 0 else "over" if b.variance > 0 else "on"
    amount = "" if b.variance == 0 else f"{_fmt_gbp(b.variance)} ({abs(b.variance_pct or 0):.1f}%) "
    title = f"Spending in {year} was {amount}{direction} budget"
    fig, ax = charts.new_chart(title, "Amount (£)", "Expenditure line")
    _gridlines_along_bars(ax)
    body = b.by_line[b.by_line["Line"] != TOTAL].iloc[::-1]
    y = range(len(body))
    ax.barh([i + 0.2 for i in y], body["Budget"], height=0.4, label="Budget", color=charts.MUTED)
    ax.barh([i - 0.2 for i in y], body["Actual"], height=0.4, label="Actual", color=charts.PALETTE[0])
    ax.set_yticks(list(y), list(body["Line"]))
    ax.xaxis.set_major_formatter(lambda v, _pos: f"£{v:,.0f}")
    ax.legend(frameon=False)
    alt = (
        f"Bar chart of budget against actual spend by expenditure line for {year}: "
        + "; ".join(
            f"{l} budget {_fmt_gbp(bu)}, actual {_fmt_gbp(ac)}"
            for l, bu, ac in zip(b.by_line["Line"], b.by_line["Budget"], b.by_line["Actual"])
            if l != TOTAL
        )
        + f". In total {_fmt_gbp(b.expenditure_actual)} was spent against a budget of {_fmt_gbp(b.expenditure_budget)}."
    )
    return charts.save_chart(
        fig,
        charts_dir,
        "budget_lines",
        title=title,
        alt=alt,
        source="SSCP budget outturn report",
        heading=9,
        synthetic=synthetic,
    )


def save_assurance_charts(
    result: AssuranceAnalysis, charts_dir: Path, threshold: int, synthetic: bool
) -> dict[str, Path]:
    """Every chart of this stage; name -> PNG path."""
    return {
        "audit_grades": chart_audit_grades(result, charts_dir, threshold, synthetic),
        "audit_actions": chart_audit_actions(result, charts_dir, synthetic),
        "ipbp_workstreams": chart_ipbp_workstreams(result, charts_dir, synthetic),
        "training_by_quarter": chart_training_by_quarter(result, charts_dir, synthetic),
        "meeting_attendance": chart_meeting_attendance(result, charts_dir, synthetic),
        "newsletter_reach": chart_newsletter_reach(result, charts_dir, synthetic),
        "budget_lines": chart_budget_lines(result, charts_dir, synthetic),
    }
