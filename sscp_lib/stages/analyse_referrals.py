"""Analyse referrals stage: headings 4 and 6 from the validated contacts, referrals, police
referrals and child protection plans; the stage's metrics by catalogue name, and its charts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sscp_lib.stages.summary import ReportView, SummaryLine, analysis_summary

if TYPE_CHECKING:
    from sscp_lib.analysis import referrals as analysis
    from sscp_lib.stages.context import StageContext
    from sscp_lib.stages.result import StageResult

# What run() works with, imported by the stage's warm kernel before the stage starts.
LIBRARIES = (
    "sscp_lib.analysis.referrals",
    "sscp_lib.publishing.charts.referrals",
    "sscp_lib.stages.loading",
    "sscp_lib.stages.result",
)


def metric_values(result: analysis.ReferralAnalysis) -> dict[str, object]:
    """The stage's metrics by catalogue name."""
    from sscp_lib.analysis import referrals as analysis

    v, cat, cp, dara, nfa = result.volumes, result.categories, result.child_protection, result.dara, result.nfa
    return {
        "data.contacts": v.contacts,
        "data.referrals": v.referrals,
        "data.contact_conversion_pct": v.conversion_pct,
        "data.referrals_by_month": result.by_month,
        "data.referrals_by_source_agency": result.by_source_agency,
        "data.referrals_by_outcome": result.by_outcome,
        "data.anomalies": result.anomalies,
        "data.unknown_source_spike_months": result.unknown_spike.months,
        "data.unknown_source_resolved": result.unknown_spike.resolved,
        "data.unknown_source_share_spike_pct": result.unknown_spike.share_spike_pct,
        "data.unknown_source_share_other_pct": result.unknown_spike.share_other_pct,
        "data.unknown_source_by_month": analysis.unknown_source_table(result.unknown_spike, result.threshold),
        "data.referral_outcomes_by_month": analysis.outcomes_by_month_table(nfa, result.threshold),
        "data.police_da_referrals": dara.da_referrals,
        "data.dara_correction_date": dara.correction_date,
        "data.dara_submitted_before_pct": dara.before_pct,
        "data.dara_submitted_after_pct": dara.after_pct,
        "data.dara_by_month": dara.by_month,
        "data.nfa_changeover_date": nfa.changeover_date,
        "data.nfa_recorded_before": nfa.nfa_before,
        "data.advice_info_after": nfa.advice_info_after,
        "data.multiple_category_last_used": result.multiple.last_used,
        "data.multiple_category_plans_this_year": result.multiple.starts_in_year,
        "challenges.referrals_with_category": cat.with_category,
        "challenges.referrals_by_category": cat.table,
        "challenges.sexual_abuse_share_pct": cat.sexual_share_pct,
        "challenges.sexual_abuse_comparator_pct": cat.comparator_pct,
        "challenges.sexual_abuse_below_comparator": cat.below_comparator,
        "challenges.cp_plan_starts": cp.starts,
        "challenges.cp_plans_open_year_end": cp.open,
        "challenges.cp_plan_rate_per_10k": cp.rate_per_10k,
        "challenges.cp_plans_by_category": cp.by_category,
    }


def previous_values(result: analysis.ReferralAnalysis) -> dict[str, object]:
    """The previous year's values of the metrics that carry one."""
    v, cat, cp = result.volumes, result.categories, result.child_protection
    return {
        "data.contacts": v.contacts_previous,
        "data.referrals": v.referrals_previous,
        "data.contact_conversion_pct": v.conversion_pct_previous,
        "challenges.sexual_abuse_share_pct": cat.sexual_share_pct_previous,
        "challenges.cp_plan_starts": cp.starts_previous,
        "challenges.cp_plans_open_year_end": cp.open_previous,
        "challenges.cp_plan_rate_per_10k": cp.rate_per_10k_previous,
    }


def run(ctx: StageContext) -> StageResult:
    from sscp_lib.analysis import referrals as analysis
    from sscp_lib.metrics import MetricStore
    from sscp_lib.publishing.charts import referrals as drawing
    from sscp_lib.stages.loading import load_validated_tables
    from sscp_lib.stages.result import StageResult

    tables = load_validated_tables(ctx, analysis.DATASETS, analysis.COLUMNS_READ)
    result = analysis.analyse(tables, ctx.year, ctx.config)
    store = MetricStore(ctx.suppress_up_to).add_all(metric_values(result), previous_values(result))
    store.write(ctx.metrics_fragment)
    chart_files = drawing.save_charts(result, ctx.location("charts"), ctx.synthetic)
    return StageResult(
        stage=ctx.stage.name,
        summary=(
            f"{ctx.year}: {len(store.metrics)} metrics written to {ctx.metrics_fragment.name}, "
            f"{len(chart_files)} charts; synthetic sample: {'yes' if ctx.synthetic else 'no'}"
        ),
        tables={
            "by_month": result.by_month,
            "by_source_agency": result.by_source_agency,
            "anomalies": result.anomalies,
            "by_outcome": result.by_outcome,
            "nfa": result.nfa.table,
            "dara_by_month": result.dara.by_month,
            "categories": result.categories.table,
            "cp_by_category": result.child_protection.by_category,
        },
        charts=chart_files,
        metrics=store,
        detail=result,
    )


def report_summary(view: ReportView) -> list[SummaryLine]:
    return analysis_summary(view)
