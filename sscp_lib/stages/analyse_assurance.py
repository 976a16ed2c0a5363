"""Analyse assurance stage: headings 1-3, the case-review part of 4, 5 and 7-10 from the
validated partnership tables; the stage's metrics by catalogue name, and its charts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from sscp_lib.stages.summary import ReportView, SummaryLine, analysis_summary

if TYPE_CHECKING:
    import pandas as pd

    from sscp_lib.analysis import assurance as analysis
    from sscp_lib.stages.context import StageContext
    from sscp_lib.stages.result import StageResult

# What run() works with, imported by the stage's warm kernel before the stage starts.
LIBRARIES = (
    "sscp_lib.analysis.assurance",
    "sscp_lib.publishing.charts.assurance",
    "sscp_lib.stages.loading",
    "sscp_lib.stages.result",
)

# The share of actions complete for each partnership priority (plan_priority code).
PRIORITY_METRICS = {
    "NEGLECT": "priorities.neglect_complete_pct",
    "EARLY_HELP": "priorities.early_help_complete_pct",
    "INSPECTION_FINDINGS": "priorities.inspection_complete_pct",
}

# The metrics published with the previous year's value, each with the dataset whose rows for
# that year must exist before the value is published.
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


def metric_values(result: analysis.AssuranceAnalysis) -> dict[str, object]:
    """The stage's metrics by catalogue name (tables as DataFrames; child-level tables already suppressed)."""
    from sscp_lib.analysis import assurance as analysis

    a, log, s, p, r = result.audits, result.audit_actions, result.scrutineer, result.plan, result.reviews
    t, e, le, b, x = result.training, result.engagement, result.learning, result.budget, result.escalations
    values = {
        "practice.audits_held": len(a.audits),
        "practice.audits_completed": a.multi_agency_audits,
        "practice.audit_topics": a.topics,
        "practice.audit_cases_graded": a.cases_graded,
        "practice.audit_good_or_better_pct": a.good_or_better_pct,
        "practice.audit_grades_by_topic": analysis.publishable_grades(a, result.threshold),
        "practice.learning_briefs_published": a.learning_briefs,
        "practice.learning_brief_pct": a.learning_brief_pct,
        "practice.audit_actions_total": log.total,
        "practice.audit_actions_on_time": log.on_time,
        "practice.audit_actions_late": log.late,
        "practice.audit_actions_overdue": log.overdue,
        "practice.audit_actions_on_time_pct": log.on_time_pct,
        "practice.audit_actions_by_state": log.counts,
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
    values.update({name: p.priority_pct[code] for code, name in PRIORITY_METRICS.items()})
    return values


def previous_values(before: analysis.AssuranceAnalysis) -> dict[str, object]:
    """The previous year's values of the metrics that carry one, where the data hold that year."""
    values = metric_values(before)
    return {
        name: values[name]
        for name, dataset in PREVIOUS_SOURCE.items()
        if before.has_data[dataset] and values[name] is not None
    }


def run(ctx: StageContext) -> StageResult:
    from sscp_lib.analysis import assurance as analysis
    from sscp_lib.metrics import MetricStore
    from sscp_lib.publishing.charts import assurance as drawing
    from sscp_lib.stages.loading import load_validated_tables
    from sscp_lib.stages.result import StageResult

    tables = load_validated_tables(ctx, analysis.DATASETS)
    result = analysis.analyse(tables, ctx.year, ctx.config)
    before = analysis.analyse(tables, ctx.year.previous, ctx.config)
    store = MetricStore(ctx.suppress_up_to).add_all(metric_values(result), previous_values(before))
    store.write(ctx.metrics_fragment)
    chart_files = drawing.save_charts(result, ctx.location("charts"), ctx.synthetic)
    a, t = result.audits, result.training
    return StageResult(
        stage=ctx.stage.name,
        summary=(
            f"{ctx.year}: {len(store.metrics)} metrics written to {ctx.metrics_fragment.name}, "
            f"{len(chart_files)} charts; synthetic sample: {'yes' if ctx.synthetic else 'no'}"
        ),
        tables={
            "inputs": inputs_frame(tables, ctx),
            "audits": a.audits,
            "grades": analysis.publishable_grades(a, result.threshold),
            "audit_actions": result.audit_actions.counts,
            "audit_action_list": result.audit_actions.actions,
            "scrutineer": result.scrutineer.recommendations,
            "by_workstream": result.plan.by_workstream,
            "by_priority": result.plan.by_priority,
            "reviews": result.reviews.reviews,
            "training_by_quarter": t.by_quarter,
            "training_by_module": t.by_module,
            "training_by_agency": t.by_agency,
            "attendance_by_series": result.engagement.by_series,
            "attendance_by_agency": result.engagement.by_agency,
            "newsletters": result.learning.newsletters,
            "budget_by_line": result.budget.by_line,
            "contributions": result.budget.contributions,
            "escalations": result.escalations.escalations,
        },
        charts=chart_files,
        metrics=store,
        detail=result,
    )


def inputs_frame(tables: Mapping[str, pd.DataFrame], ctx: StageContext) -> pd.DataFrame:
    """Rows per validated table and rows in the reporting year, and whether the data are synthetic."""
    import pandas as pd

    return pd.DataFrame(
        {
            name: {"rows": len(frame), f"rows in {ctx.year}": int((frame["reporting_year"] == ctx.year.label).sum())}
            for name, frame in tables.items()
        }
    ).T.assign(synthetic=ctx.synthetic)


def report_summary(view: ReportView) -> list[SummaryLine]:
    return analysis_summary(view)
