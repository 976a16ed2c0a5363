"""The assurance stage's charts: titles state the computed finding; child-level counts are
suppressed before they are drawn, and every chart has alt text and a source note."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sscp_lib.analysis import assurance as analysis
from sscp_lib.analysis.common import TOTAL, label
from sscp_lib.disclosure import SUPPRESSED, suppress_count
from sscp_lib.publishing.charts import HIGHLIGHT, MUTED, PALETTE, count_axis, new_chart, save_chart


def _fmt_pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}%"


def _fmt_gbp(value: float) -> str:
    return f"£{abs(value):,.0f}"


def chart_audit_grades(result: analysis.AssuranceAnalysis, charts_dir: Path, synthetic: bool) -> Path:
    """Grades of the cases audited in the year (suppressed counts shown as 'c', no bar)."""

    a, year, threshold = result.audits, result.year, result.threshold
    totals = a.grades_by_topic.loc[TOTAL].drop(TOTAL)
    title = f"{_fmt_pct(a.good_or_better_pct)} of cases audited in {year} were graded good or outstanding"
    fig, ax = new_chart(title, "Grade", "Cases audited")
    count_axis(ax.yaxis)
    published = [suppress_count(int(v), threshold) for v in totals]
    heights = [0 if v == SUPPRESSED else v for v in published]
    colours = [
        PALETTE[0] if g in [label("audit_grade", c) for c in analysis.GOOD_OR_BETTER] else MUTED for g in totals.index
    ]
    bars = ax.bar(list(totals.index), heights, color=colours)
    ax.bar_label(bars, labels=[str(v) for v in published], padding=2)
    alt = (
        f"Bar chart of the grades given to {suppress_count(a.cases_graded, threshold)} cases audited in {year} "
        f"across {len(a.topics)} topics: "
        + ", ".join(f"{g} {v}" for g, v in zip(totals.index, published))
        + f". {_fmt_pct(a.good_or_better_pct)} were good or outstanding."
    )
    return save_chart(
        fig,
        charts_dir,
        "audit_grades",
        title=title,
        caption=(
            f"Each case audited in {year} is counted once, under the grade the auditors gave it; good and "
            f"outstanding are the dark bars. Grades given to 1 to {threshold} cases show as c, without a bar."
        ),
        alt=alt,
        source="SSCP audit programme, case grades",
        synthetic=synthetic,
    )


def _gridlines_along_bars(ax) -> None:
    """Horizontal bar charts: vertical gridlines to read the bars' lengths against."""
    ax.grid(axis="x")
    ax.grid(axis="y", visible=False)


def chart_audit_actions(result: analysis.AssuranceAnalysis, charts_dir: Path, synthetic: bool) -> Path:

    log, year = result.audit_actions, result.year
    title = f"{log.on_time} of {log.total} audit actions due in {year} were completed on time"
    fig, ax = new_chart(title, "Audit actions", "")
    count_axis(ax.xaxis)
    _gridlines_along_bars(ax)
    counts = log.counts.iloc[::-1]
    colours = [
        PALETTE[1]
        if s == analysis.ACTION_CLASSES["on_time"]
        else HIGHLIGHT
        if s == analysis.ACTION_CLASSES["overdue"]
        else PALETTE[0]
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
    return save_chart(
        fig,
        charts_dir,
        "audit_actions",
        title=title,
        caption=(
            f"Audit actions that fell due in {year}, by where each stood at 31 March: completed by its due "
            "date, completed after it, or still open."
            + (
                f" A further {log.carried_forward} open actions fall due after the year end and are not shown."
                if log.carried_forward
                else ""
            )
        ),
        alt=alt,
        source="SSCP audit action log",
        synthetic=synthetic,
    )


def chart_ipbp_workstreams(result: analysis.AssuranceAnalysis, charts_dir: Path, synthetic: bool) -> Path:

    p, year = result.plan, result.year
    body = p.by_workstream[p.by_workstream["Workstream"] != TOTAL].iloc[::-1]
    title = f"{_fmt_pct(p.ipbp_complete_pct)} of IPBP actions due in {year} were complete at year end"
    fig, ax = new_chart(title, "Actions complete (%)", "Workstream")
    _gridlines_along_bars(ax)
    bars = ax.barh(body["Workstream"], body["% complete"].astype(float), color=PALETTE[0])
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
    return save_chart(
        fig,
        charts_dir,
        "ipbp_workstreams",
        title=title,
        caption=(
            f"Each bar is one workstream's share of its business-plan actions due in {year} that were complete "
            "at 31 March; the label gives the actions complete and due, so a short bar on few actions weighs little."
        ),
        alt=alt,
        source="SSCP Integrated Partnership Business Plan tracker",
        synthetic=synthetic,
    )


def chart_training_by_quarter(result: analysis.AssuranceAnalysis, charts_dir: Path, synthetic: bool) -> Path:

    t, year = result.training, result.year
    compare = (
        ""
        if t.previous_max is None
        else ", more than in the same quarters of any earlier year"
        if t.above_previous
        else f", not more than the {t.previous_max:,} of an earlier year's same quarters"
    )
    title = f"{t.attendees:,} staff attended training in {t.quarters_text} of {year}{compare}"
    fig, ax = new_chart(title, "Quarter of the financial year", "Attendees")
    count_axis(ax.yaxis)
    years = [c for c in t.by_quarter.columns if c != "Quarter"]
    width = 0.8 / max(len(years), 1)
    for i, y in enumerate(years):
        values = t.by_quarter[y].astype("Float64").fillna(0).astype(float)
        # The reporting year in the lead colour; earlier years in the palette's other colours.
        colour = PALETTE[0] if y == year.label else PALETTE[1 + i % (len(PALETTE) - 1)]
        ax.bar([q + i * width - 0.4 + width / 2 for q in range(4)], values, width=width, label=y, color=colour)
    ax.set_xticks(range(4), list(analysis.QUARTERS))
    ax.legend(frameon=False, title="Year", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    earlier = "; ".join(f"{y} {n}" for y, n in t.earlier_same_quarters.items()) or "no earlier years in the data"
    alt = (
        f"Grouped bar chart of training attendees by quarter for each year. In {t.quarters_text} of {year} "
        f"{t.attendees} staff attended; the same quarters of earlier years had: {earlier}."
    )
    return save_chart(
        fig,
        charts_dir,
        "training_by_quarter",
        title=title,
        caption=(
            "Staff from partner agencies attending the partnership's training, counted by quarter of the "
            f"financial year (Q1 is April to June), {year} beside earlier years; compare the quarters {year} "
            "has reported so far."
        ),
        alt=alt,
        source="SSCP training attendance records",
        synthetic=synthetic,
    )


def chart_meeting_attendance(result: analysis.AssuranceAnalysis, charts_dir: Path, synthetic: bool) -> Path:

    e, year = result.engagement, result.year
    title = f"ARG representation was {_fmt_pct(e.arg_representation_pct)} and Executive attendance {_fmt_pct(e.executive_attendance_pct)} in {year}"
    fig, ax = new_chart(title, "Agency places attended (%)", "Meeting")
    _gridlines_along_bars(ax)
    body = e.by_series.iloc[::-1]
    colours = [
        PALETTE[0] if m in (label("meeting_series", "ARG"), label("meeting_series", "EXECUTIVE")) else PALETTE[1]
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
    return save_chart(
        fig,
        charts_dir,
        "meeting_attendance",
        title=title,
        caption=(
            f"Share of the agency places expected at each meeting series in {year} that were filled, over all "
            "its meetings; the ARG and the Executive are the dark bars."
        ),
        alt=alt,
        source="SSCP meeting attendance records",
        synthetic=synthetic,
    )


def chart_newsletter_reach(result: analysis.AssuranceAnalysis, charts_dir: Path, synthetic: bool) -> Path:

    le, year = result.learning, result.year
    campaign = (
        f", with {le.clicks_total:,} clicks on the {le.newsletter_campaign} campaign" if le.newsletter_campaign else ""
    )
    title = f"{le.newsletter_count} newsletters in {year} were opened {le.opens_total:,} times{campaign}"
    fig, ax = new_chart(title, "Newsletter", "Count")
    count_axis(ax.yaxis)
    labels = [f"{n}\n{pd.Timestamp(d):%d %b %Y}" for n, d in zip(le.newsletters["Newsletter"], le.newsletters["Date"])]
    x = range(len(labels))
    opens = le.newsletters["Opens"].astype("Float64").fillna(0).astype(float)
    clicks = le.newsletters["Campaign clicks"].astype("Float64").fillna(0).astype(float)
    b1 = ax.bar([i - 0.2 for i in x], opens, width=0.4, label="Opens", color=PALETTE[0])
    b2 = ax.bar([i + 0.2 for i in x], clicks, width=0.4, label="Campaign clicks", color=PALETTE[1])
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
    return save_chart(
        fig,
        charts_dir,
        "newsletter_reach",
        title=title,
        caption=(
            f"Opens of each newsletter sent in {year}, counting repeat opens and forwarded copies, beside the "
            "clicks on the campaign link it carried."
        ),
        alt=alt,
        source="SSCP newsletter mailing statistics",
        synthetic=synthetic,
    )


def chart_budget_lines(result: analysis.AssuranceAnalysis, charts_dir: Path, synthetic: bool) -> Path:

    b, year = result.budget, result.year
    direction = "under" if b.variance < 0 else "over" if b.variance > 0 else "on"
    amount = "" if b.variance == 0 else f"{_fmt_gbp(b.variance)} ({abs(b.variance_pct or 0):.1f}%) "
    title = f"Spending in {year} was {amount}{direction} budget"
    fig, ax = new_chart(title, "Amount (£)", "Expenditure line")
    _gridlines_along_bars(ax)
    body = b.by_line[b.by_line["Line"] != TOTAL].iloc[::-1]
    y = range(len(body))
    ax.barh([i + 0.2 for i in y], body["Budget"], height=0.4, label="Budget", color=MUTED)
    ax.barh([i - 0.2 for i in y], body["Actual"], height=0.4, label="Actual", color=PALETTE[0])
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
    return save_chart(
        fig,
        charts_dir,
        "budget_lines",
        title=title,
        caption=(
            f"Budget (grey) against actual spending (blue) for each expenditure line in {year}; a blue bar "
            "longer than its grey one is a line that overspent."
        ),
        alt=alt,
        source="SSCP budget outturn report",
        synthetic=synthetic,
    )


def save_charts(result: analysis.AssuranceAnalysis, charts_dir: Path, synthetic: bool) -> dict[str, Path]:
    """Every chart of the assurance stage, written with title, alt text and source note."""
    return {
        "audit_grades": chart_audit_grades(result, charts_dir, synthetic),
        "audit_actions": chart_audit_actions(result, charts_dir, synthetic),
        "ipbp_workstreams": chart_ipbp_workstreams(result, charts_dir, synthetic),
        "training_by_quarter": chart_training_by_quarter(result, charts_dir, synthetic),
        "meeting_attendance": chart_meeting_attendance(result, charts_dir, synthetic),
        "newsletter_reach": chart_newsletter_reach(result, charts_dir, synthetic),
        "budget_lines": chart_budget_lines(result, charts_dir, synthetic),
    }
