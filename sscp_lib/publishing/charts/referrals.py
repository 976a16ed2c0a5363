"""The referrals stage's charts: titles state the computed finding; only published counts or
rates are plotted, and every chart has alt text and a source note."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sscp_lib.analysis import referrals as analysis
from sscp_lib.analysis.common import TOTAL, code_labels
from sscp_lib.analysis.referrals import describe_months, numeric_or_nan, year_months
from sscp_lib.disclosure import SUPPRESSED, is_small
from sscp_lib.publishing.charts import HIGHLIGHT, MUTED, PALETTE, count_axis, new_chart, save_chart


def _change_phrase(current, previous, previous_label: str) -> str:
    if not previous or current is None:
        return ""
    change = 100 * (current - previous) / previous
    if abs(change) < 0.5:
        return f", level with {previous_label}"
    return f", {'up' if change > 0 else 'down'} {abs(change):.0f}% on {previous_label}"


def chart_referrals_by_month(result: analysis.ReferralAnalysis, charts_dir: Path, synthetic: bool) -> Path:
    year, table = result.year, numeric_or_nan(result.by_month.drop(index=TOTAL))
    current = table[year.label]
    months = list(year_months(year))
    peak = months[int(np.nanargmax(current.to_numpy()))] if current.notna().any() else None
    total = result.volumes.referrals
    title = (
        f"{total:,} referrals in {year}{_change_phrase(total, result.volumes.referrals_previous, str(year.previous))}"
    )
    if peak is not None:
        title += f"; busiest month {peak:%B %Y}"
    fig, ax = new_chart(title, "Month", "Referrals")
    count_axis(ax.yaxis)
    x = np.arange(12)
    ax.bar(x, current.to_numpy(dtype=float), color=PALETTE[0], label=str(year))
    if table[year.previous.label].notna().any() and result.volumes.referrals_previous:
        ax.plot(
            x,
            table[year.previous.label].to_numpy(dtype=float),
            color=PALETTE[3],
            marker="o",
            label=str(year.previous),
        )
    ax.set_xticks(x, list(table.index))
    ax.legend(frameon=False)
    alt = (
        f"Bar chart of referrals to children's social care in each month of {year}, April to March, "
        f"with {year.previous} as a line. "
        + "; ".join(f"{label} {'suppressed' if pd.isna(n) else int(n)}" for label, n in current.items())
        + "."
    )
    return save_chart(
        fig,
        charts_dir,
        "referrals_by_month",
        title=title,
        caption=(
            f"Referrals to children's social care counted by the month they arrived, {year} as bars with "
            f"{year.previous} as a line to compare each month with."
        ),
        alt=alt,
        source=result.sources["referrals"],
        synthetic=synthetic,
    )


def chart_unknown_source_share(result: analysis.ReferralAnalysis, charts_dir: Path, synthetic: bool) -> Path:
    year, spike, threshold = result.year, result.unknown_spike, result.threshold
    profile = spike.profile[spike.profile["total"] > 0]
    # Beside a published month total, the share of a small count would reveal it: such months
    # are drawn as the range of shares 1..threshold referrals would give, which "c" already tells.
    small = profile["count"].map(lambda n: is_small(int(n), threshold)).astype(bool)
    if spike.months:
        title = f"Unknown-source referrals spiked in {describe_months(spike.months)}"
        title += " and were back to usual by year end" if spike.resolved else " and stayed high"
    else:
        title = f"Unknown-source referrals stayed within their usual share in {year}"
    fig, ax = new_chart(title, "Month", "Share of referrals with source Unknown (%)")
    x = pd.Series([m.to_timestamp() for m in profile.index], index=profile.index)
    usual, upper = profile["usual_share_pct"].iloc[0], profile["upper_pct"].iloc[0]
    ax.axhspan(0, upper, color=MUTED, alpha=0.35, label=f"Usual range (robust z below {result.z_threshold:g})")
    ax.axhline(usual, color=PALETTE[4], linewidth=1, linestyle="--", label=f"Usual share {usual:.1f}%")
    shown = profile[~small]
    ax.scatter(x[~small], shown["share_pct"], color=PALETTE[0], s=18, zorder=3, label="Monthly share")
    if small.any():
        totals = profile.loc[small, "total"].astype(float)
        ax.vlines(
            x[small],
            100 / totals,
            100 * threshold / totals,
            color=PALETTE[0],
            alpha=0.45,
            linewidth=3,
            label=f"Month with 1 to {threshold} (range of share)",
        )
    flagged = profile["anomalous"]
    ax.scatter(x[flagged], profile.loc[flagged, "share_pct"], color=HIGHLIGHT, zorder=4, s=45, label="Anomalous month")
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    described = ", ".join(f"{m:%b %Y} {s:.1f}%" for m, s in profile.loc[flagged, "share_pct"].items()) or "none"
    other = "n/a" if spike.share_other_pct is None else f"{spike.share_other_pct:.1f}%"
    alt = (
        f"Chart of the monthly share of referrals whose source was recorded as Unknown, "
        f"{profile.index[0]:%B %Y} to {profile.index[-1]:%B %Y}. The usual share is {usual:.1f}% and "
        f"a month is anomalous above about {upper:.1f}%. Anomalous months: {described}. Share in the "
        f"other months of {year}: {other}. Months with 1 to {threshold} unknown-source referrals "
        f"are shown as a range."
    )
    return save_chart(
        fig,
        charts_dir,
        "unknown_source_share",
        title=title,
        caption=(
            "Each dot is one month's share of referrals whose source was recorded as Unknown; the shaded band "
            "is the usual range, and orange dots are months flagged as anomalous. A month with 1 to "
            f"{threshold} such referrals shows the range its share could take."
        ),
        alt=alt,
        source=result.sources["referrals"],
        synthetic=synthetic,
    )


def _month_axis_with_marker(ax, months: list, when, label: str) -> bool:
    """Month names on the x axis and a dashed line before the month a rule changed; False if outside."""
    ax.set_xticks(range(len(months)), [m.strftime("%b") for m in months])
    position = next((i for i, m in enumerate(months) if m.end_time >= pd.Timestamp(when)), None)
    if position is not None:
        ax.axvline(position - 0.5, color=HIGHLIGHT, linestyle="--", label=label)
    return position is not None


def chart_dara_compliance(result: analysis.ReferralAnalysis, charts_dir: Path, synthetic: bool) -> Path:
    year, dara = result.year, result.dara
    when = dara.correction_date
    before, after = dara.before_pct, dara.after_pct
    if before is not None and after is not None:
        direction = "up" if after > before else "down" if after < before else "unchanged"
        title = (
            f"DARA forms went with {after:.0f}% of police domestic-abuse referrals after the "
            f"{when:%-d %B %Y} correction, {direction} from {before:.0f}%"
        )
    else:
        title = f"DARA forms with police domestic-abuse referrals in {year}"
    fig, ax = new_chart(title, "Month", "Referrals with a DARA form (%)")
    pct = dara.monthly_pct
    months = list(year_months(year))
    colours = [PALETTE[1] if m.to_timestamp() >= pd.Timestamp(when) else PALETTE[0] for m in months]
    ax.bar(range(12), pct.to_numpy(dtype=float), color=colours)
    ax.set_ylim(0, 100)
    if _month_axis_with_marker(ax, months, when, f"Process corrected {when:%-d %b %Y}"):
        ax.legend(frameon=False, fontsize=8, loc="lower left")
    alt = (
        f"Bar chart of the share of police domestic-abuse referrals sent with a DARA form in each month "
        f"of {year}: "
        + "; ".join(f"{m:%b} {'not shown' if pd.isna(p) else f'{p:.0f}%'}" for m, p in zip(months, pct))
        + f". Before {when:%-d %B %Y}: {before}%; from then: {after}%."
    )
    return save_chart(
        fig,
        charts_dir,
        "dara_compliance",
        title=title,
        caption=(
            "Share of each month's police domestic-abuse referrals that arrived with a DARA form; the dashed "
            f"line marks the correction on {when:%-d %B %Y}, and months after it are the turquoise bars."
        ),
        alt=alt,
        source=result.sources["police"],
        synthetic=synthetic,
    )


def chart_referral_outcomes(result: analysis.ReferralAnalysis, charts_dir: Path, synthetic: bool) -> Path:
    year, nfa = result.year, result.nfa
    when = nfa.changeover_date
    monthly = nfa.monthly_recorded
    totals = monthly.sum(axis=1)
    shares = 100 * monthly.div(totals.where(totals > 0), axis=0)
    shares = shares.where(~monthly.apply(lambda s: s.map(lambda n: is_small(int(n), result.threshold))))
    if nfa.nfa_before and not nfa.nfa_after:
        title = f"'No further action' gave way to 'Advice and information' from {when:%B %Y}"
    elif nfa.nfa_after:
        title = f"Some referrals were still recorded as 'No further action' after {when:%B %Y}"
    else:
        title = f"Referral outcomes as recorded in {year}"
    fig, ax = new_chart(title, "Month", "Share of the month's referrals (%)")
    labels = code_labels("referral_outcome")
    for i, code in enumerate([c for c in labels if c in shares.columns]):
        ax.plot(
            range(12),
            shares[code].to_numpy(dtype=float),
            marker="o",
            markersize=3,
            color=PALETTE[i % len(PALETTE)],
            label=labels[code],
        )
    months = list(year_months(year))
    _month_axis_with_marker(ax, months, when, f"Changeover {when:%-d %b %Y}")
    ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    alt = (
        f"Line chart of referral outcomes as recorded by the MASH, as a share of each month's referrals "
        f"in {year}, with the {when:%-d %B %Y} changeover marked. Referrals recorded as no further action "
        f"before the changeover: {SUPPRESSED if is_small(nfa.nfa_before, result.threshold) else nfa.nfa_before}; "
        f"recorded as advice and information after it: "
        f"{SUPPRESSED if is_small(nfa.advice_info_after, result.threshold) else nfa.advice_info_after}. "
        f"Shares resting on 1 to {result.threshold} referrals are not plotted."
    )
    return save_chart(
        fig,
        charts_dir,
        "referral_outcomes",
        title=title,
        caption=(
            "Each line is one outcome's share of the month's referrals as the MASH recorded it; the dashed line "
            f"marks the changeover on {when:%-d %B %Y}. Outcomes recorded for 1 to {result.threshold} referrals "
            "in a month are left out."
        ),
        alt=alt,
        source=result.sources["referrals"],
        synthetic=synthetic,
    )


def chart_referrals_by_category(result: analysis.ReferralAnalysis, charts_dir: Path, synthetic: bool) -> Path:
    year, cat = result.year, result.categories
    labels = code_labels("abuse_category")
    share, comparator = cat.sexual_share_pct, cat.comparator_pct
    if share is None:
        title = f"No referrals in {year} had an abuse category recorded"
    else:
        relation = "below" if share < comparator else "above" if share > comparator else "at"
        title = f"Sexual abuse was {share:.1f}% of categorised referrals in {year}, {relation} the {comparator:g}% comparator"
    fig, ax = new_chart(title, "Share of categorised referrals (%)", "Abuse category")
    codes = list(labels)
    y = np.arange(len(codes))
    for offset, (label, colour) in zip((0.2, -0.2), ((year.previous.label, PALETTE[4]), (year.label, PALETTE[0]))):
        counts, shares = cat.counts[label], cat.shares[label]
        # Shares of small counts would reveal them next to the published total: not plotted.
        visible = [
            np.nan if is_small(int(counts.get(c, 0)), result.threshold) else float(shares.get(c, 0)) for c in codes
        ]
        ax.barh(y + offset, visible, height=0.4, color=colour, label=label)
    ax.axvline(comparator, color=HIGHLIGHT, linestyle="--", label=f"Sexual abuse comparator {comparator:g}%")
    ax.set_yticks(y, [labels[c] for c in codes])
    ax.invert_yaxis()
    ax.grid(axis="x", color="#E5E5E5")
    ax.legend(frameon=False, fontsize=8)
    current = cat.shares[year.label]
    alt = (
        f"Horizontal bar chart of referrals by abuse category as a share of categorised referrals, "
        f"{year.previous} and {year}. In {year}: "
        + "; ".join(
            f"{labels[c]} {'not shown' if is_small(int(cat.counts[year.label].get(c, 0)), result.threshold) else f'{current.get(c, 0):.1f}%'}"
            for c in codes
        )
        + f". The comparator for sexual abuse is {comparator:g}%."
    )
    return save_chart(
        fig,
        charts_dir,
        "referrals_by_category",
        title=title,
        caption=(
            f"Referrals with an abuse category recorded, each category as a share of them, {year.previous} beside "
            f"{year}; the dashed line is the comparator for sexual abuse. Categories with 1 to {result.threshold} "
            "referrals are not plotted."
        ),
        alt=alt,
        source=result.sources["referrals"],
        synthetic=synthetic,
    )


def save_charts(result: analysis.ReferralAnalysis, charts_dir: Path, synthetic: bool) -> dict[str, Path]:
    """Every chart of the referrals stage, written with title, alt text and source note."""
    return {
        "referrals_by_category": chart_referrals_by_category(result, charts_dir, synthetic),
        "referrals_by_month": chart_referrals_by_month(result, charts_dir, synthetic),
        "unknown_source_share": chart_unknown_source_share(result, charts_dir, synthetic),
        "dara_compliance": chart_dara_compliance(result, charts_dir, synthetic),
        "referral_outcomes": chart_referral_outcomes(result, charts_dir, synthetic),
    }
