"""Analyse linked stage: early help (heading 3), school suspensions and exclusions and children's
mental health (headings 4 and 6), and the figures that follow one child across agencies, each
with how many records could be linked; the stage's metrics by catalogue name."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sscp_lib.stages.summary import ReportView, SummaryLine, analysis_summary

if TYPE_CHECKING:
    from sscp_lib.analysis import linked as analysis
    from sscp_lib.stages.context import StageContext
    from sscp_lib.stages.result import StageResult

# What run() works with, imported by the stage's warm kernel before the stage starts.
LIBRARIES = (
    "sscp_lib.analysis.linked",
    "sscp_lib.stages.loading",
    "sscp_lib.stages.result",
)


def metric_values(result: analysis.LinkedAnalysis) -> dict[str, object]:
    """The stage's metrics by catalogue name (child-level tables already suppressed)."""
    eh, ex, mh = result.early_help, result.exclusions, result.mental_health
    return {
        "early_help.assessments": eh.assessments,
        "early_help.median_days_to_complete": eh.median_days_to_complete,
        "early_help.by_lead_agency": eh.by_lead_agency,
        "early_help.by_outcome": eh.by_outcome,
        "early_help.recorded_step_ups": eh.recorded_step_ups,
        "linked.early_help_step_up_months": eh.step_up_months,
        "linked.early_help_step_ups": eh.step_ups,
        "linked.early_help_step_up_pct": eh.step_up_pct,
        "linked.step_downs": eh.step_downs,
        "linked.early_help_step_down_months": eh.step_down_months,
        "linked.step_downs_assessed": eh.step_downs_assessed,
        "linked.step_downs_assessed_pct": eh.step_downs_assessed_pct,
        "linked.early_help_linked": eh.linkage.linked,
        "linked.early_help_linked_pct": eh.linkage.linked_pct,
        "linked.cp_children": ex.cp_children,
        "linked.cp_children_excluded": ex.cp_children_excluded,
        "linked.cp_children_excluded_pct": ex.cp_children_excluded_pct,
        "linked.exclusion_records": ex.linkage.records,
        "linked.exclusion_records_linked": ex.linkage.linked,
        "linked.exclusion_linked_pct": ex.linkage.linked_pct,
        "education.suspensions": ex.suspensions,
        "education.permanent_exclusions": ex.permanent_exclusions,
        "education.pupils_suspended": ex.pupils_suspended,
        "education.sessions_missed": ex.sessions_missed,
        "education.by_term": ex.by_term,
        "education.by_reason": ex.by_reason,
        "mental_health.referrals": mh.referrals,
        "mental_health.accepted": mh.accepted,
        "mental_health.accepted_pct": mh.accepted_pct,
        "mental_health.median_wait_days": mh.median_wait_days,
        "mental_health.wait_90th_percentile_days": mh.wait_90th_percentile_days,
        "mental_health.still_waiting": mh.still_waiting,
        "mental_health.by_source": mh.by_source,
        "mental_health.by_wait": mh.by_wait,
        "linked.mh_children": mh.children_referred,
        "linked.mh_prior_referral_months": mh.prior_referral_months,
        "linked.mh_children_after_social_care": mh.children_after_social_care,
        "linked.mh_children_after_social_care_pct": mh.children_after_social_care_pct,
        "linked.mh_records_linked": mh.linkage.linked,
        "linked.mh_linked_pct": mh.linkage.linked_pct,
        "linked.linkage": result.linkage,
    }


def previous_values(result: analysis.LinkedAnalysis) -> dict[str, object]:
    """The previous year's values of the metrics that carry one."""
    return {
        "early_help.assessments": result.early_help.assessments_previous,
        "education.suspensions": result.exclusions.suspensions_previous,
        "education.permanent_exclusions": result.exclusions.permanent_exclusions_previous,
        "mental_health.referrals": result.mental_health.referrals_previous,
    }


def run(ctx: StageContext) -> StageResult:
    from sscp_lib.analysis import linked as analysis
    from sscp_lib.metrics import MetricStore
    from sscp_lib.stages.loading import load_validated_tables
    from sscp_lib.stages.result import StageResult

    tables = load_validated_tables(ctx, analysis.DATASETS, analysis.COLUMNS_READ)
    result = analysis.analyse(tables, ctx.year, ctx.config)
    store = MetricStore(ctx.suppress_up_to).add_all(metric_values(result), previous_values(result))
    store.write(ctx.metrics_fragment)
    return StageResult(
        stage=ctx.stage.name,
        summary=(
            f"{ctx.year}: {len(store.metrics)} metrics written to {ctx.metrics_fragment.name}; "
            f"synthetic sample: {'yes' if ctx.synthetic else 'no'}"
        ),
        tables={
            "linkage": result.linkage,
            "early_help_by_lead_agency": result.early_help.by_lead_agency,
            "early_help_by_outcome": result.early_help.by_outcome,
            "exclusions_by_term": result.exclusions.by_term,
            "exclusions_by_reason": result.exclusions.by_reason,
            "mental_health_by_source": result.mental_health.by_source,
            "mental_health_by_wait": result.mental_health.by_wait,
        },
        metrics=store,
        detail=result,
    )


def report_summary(view: ReportView) -> list[SummaryLine]:
    return analysis_summary(view)
