"""Referrals, child protection and MASH data: statement headings 4 (new challenges) and 6 (data).

Pure functions take validated tables (Contract.processed_schema columns) and configuration values
and return frozen dataclasses of plain values and published tables. Published tables of children's
records go through sscp_lib.disclosure with totals, so small cells and the cells that would
reveal them show "c". `analyse(tables, year, config)` computes the whole stage.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from sscp_lib.analysis.common import NOT_RECORDED, TOTAL, code_labels, flag, percent, rows_in_year
from sscp_lib.config import PartnershipConfig, ReportingYear
from sscp_lib.disclosure import SUPPRESSED, is_small, suppress_table

DATASETS = ("mash_contacts", "referrals", "police_referrals", "cp_plans")
# Contacts are the largest table (millions of rows at a region's scale): this stage counts them
# by year and outcome only, so it reads just those columns.
COLUMNS_READ = {"mash_contacts": ("contact_date", "contact_outcome", "reporting_year")}
# Robust z-score constants (Iglewicz and Hoaglin): scale MAD, or the mean absolute deviation when
# MAD is zero, so the score reads like a z-score for normally distributed shares.
MAD_SCALE = 0.6745
MEAN_AD_SCALE = 1.253314
# Months before the reporting year that make the usual level of a monthly share.
ANOMALY_WINDOW_MONTHS = 24
# A spike counts as resolved when none of the year's last months is anomalous.
RESOLUTION_MONTHS = 3
UNKNOWN_SOURCE_GROUP = "UNKNOWN"
SEXUAL_ABUSE = "SAB"
MULTIPLE_CATEGORY = "MUL"


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def year_months(year: ReportingYear) -> pd.PeriodIndex:
    """The twelve months of a reporting year, April to March."""
    return pd.period_range(f"{year.start_year}-04", periods=12, freq="M")


def month_key(month: pd.Period) -> str:
    """'2023-10' style key used in metrics."""
    return month.strftime("%Y-%m")


def describe_months(keys: list[str]) -> str:
    """'October and November 2023' / 'December 2023 and January 2024' from '2023-10' keys."""
    if not keys:
        return ""
    months = [pd.Period(k, freq="M") for k in sorted(keys)]
    same_year = len({m.year for m in months}) == 1
    names = [m.strftime("%B") if same_year else m.strftime("%B %Y") for m in months]
    text = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"{text} {months[0].year}" if same_year else text


def _count_by(frame: pd.DataFrame, column: str, order: list[str]) -> pd.Series:
    """Counts of each code in `order` (zeros kept); missing codes counted as 'Not recorded'."""
    values = frame[column].astype("string").fillna(NOT_RECORDED)
    counts = values.value_counts()
    index = list(order) + ([NOT_RECORDED] if counts.get(NOT_RECORDED, 0) else [])
    extra = [c for c in counts.index if c not in index]  # codes outside the list, kept visibly
    return counts.reindex(index + extra, fill_value=0).astype("int64")


def published_counts(counts: pd.DataFrame, threshold: int, row_totals: bool = False) -> pd.DataFrame:
    """A table of counts with a Total row (and Total column), primary and secondary suppression."""
    table = counts.astype("int64").copy()
    if row_totals:
        table[TOTAL] = table.sum(axis=1)
    table.loc[TOTAL] = table.sum(axis=0)
    return suppress_table(table, threshold, row_total=TOTAL if row_totals else None, col_total=TOTAL)


def _by_year_table(
    current: pd.Series,
    previous: pd.Series,
    year: ReportingYear,
    index_name: str,
    labels: dict[str, str],
    threshold: int,
    drop_empty: bool = False,
) -> pd.DataFrame:
    counts = pd.DataFrame({year.previous.label: previous, year.label: current}).fillna(0)
    if drop_empty:
        counts = counts[counts.sum(axis=1) > 0]
    counts.index = [labels.get(code, code) for code in counts.index]
    counts.index.name = index_name
    return published_counts(counts, threshold)


def numeric_or_nan(table: pd.DataFrame) -> pd.DataFrame:
    """A published table with suppressed cells as NaN: what a chart may plot."""
    return table.apply(lambda s: pd.to_numeric(s.where(s != SUPPRESSED), errors="coerce"))


# --------------------------------------------------------------------------------------------
# Heading 6: volumes and published breakdowns
# --------------------------------------------------------------------------------------------


def contact_conversion_pct(contacts: pd.DataFrame) -> float | None:
    """Percent of contacts with an outcome recorded whose outcome is REFERRAL."""
    recorded = contacts["contact_outcome"].dropna()
    return percent((recorded == "REFERRAL").sum(), len(recorded), 1)


@dataclass(frozen=True)
class Volumes:
    """Contacts, referrals and contact-to-referral conversion, this year and the previous one
    (None for the previous year when the data hold none of it)."""

    contacts: int
    referrals: int
    conversion_pct: float | None
    contacts_previous: int | None
    referrals_previous: int | None
    conversion_pct_previous: float | None


def volumes(contacts: pd.DataFrame, referrals: pd.DataFrame, year: ReportingYear) -> Volumes:
    """Contacts, referrals and contact-to-referral conversion, this year and the previous one."""
    now_contacts, last_contacts = rows_in_year(contacts, year), rows_in_year(contacts, year.previous)
    last_referrals = len(rows_in_year(referrals, year.previous))
    return Volumes(
        contacts=len(now_contacts),
        referrals=len(rows_in_year(referrals, year)),
        conversion_pct=contact_conversion_pct(now_contacts),
        # No earlier data: no comparison rather than a false zero.
        contacts_previous=len(last_contacts) or None,
        referrals_previous=last_referrals or None,
        conversion_pct_previous=contact_conversion_pct(last_contacts),
    )


def referrals_by_month(referrals: pd.DataFrame, year: ReportingYear, threshold: int) -> pd.DataFrame:
    """Referrals in each month, April to March, this year beside the previous year (published)."""
    columns = {}
    for y in (year.previous, year):
        months = rows_in_year(referrals, y)["referral_date"].dt.to_period("M")
        columns[y.label] = months.value_counts().reindex(year_months(y), fill_value=0).to_numpy()
    counts = pd.DataFrame(columns, index=[m.strftime("%b") for m in year_months(year)])
    counts.index.name = "Month"
    return published_counts(counts, threshold)


def referrals_by_source_agency(referrals: pd.DataFrame, year: ReportingYear, threshold: int) -> pd.DataFrame:
    """Referrals by source agency group, this year and the previous year (published)."""
    labels = code_labels("source_agency")
    return _by_year_table(
        _count_by(rows_in_year(referrals, year), "referral_source_group", list(labels)),
        _count_by(rows_in_year(referrals, year.previous), "referral_source_group", list(labels)),
        year,
        "Source agency",
        labels,
        threshold,
    )


def referrals_by_outcome(referrals: pd.DataFrame, year: ReportingYear, threshold: int) -> pd.DataFrame:
    """Referrals by outcome (after the NFA recoding), this year and the previous year (published)."""
    labels = code_labels("referral_outcome")
    # Outcomes unused in both years (NFA after recoding, Annex A's FURTHER_ACTION) are left out.
    return _by_year_table(
        _count_by(rows_in_year(referrals, year), "referral_outcome", list(labels)),
        _count_by(rows_in_year(referrals, year.previous), "referral_outcome", list(labels)),
        year,
        "Outcome",
        labels,
        threshold,
        drop_empty=True,
    )


# --------------------------------------------------------------------------------------------
# Heading 6: anomalous monthly shares
# --------------------------------------------------------------------------------------------


def monthly_category_counts(
    frame: pd.DataFrame, date_column: str, category_column: str, months: pd.PeriodIndex
) -> pd.DataFrame:
    """Rows per month (index) and category (columns, sorted) over the given months, zeros filled.

    Months are compared as integer ordinals and counted with one bincount: turning millions of
    dates into Period objects (as a crosstab of periods does) took most of the stage at scale.
    """
    ordinals = frame[date_column].dt.to_period("M").array.asi8  # NaT is the smallest int64
    position = pd.Index(months.asi8).get_indexer(ordinals)  # -1 outside the months
    keep = position >= 0
    categories = frame[category_column].astype("string").fillna(NOT_RECORDED)[keep]
    codes, names = pd.factorize(categories, sort=True)
    cells = np.bincount(position[keep] * len(names) + codes, minlength=len(months) * len(names))
    return pd.DataFrame(
        cells.reshape(len(months), len(names)).astype("int64"),
        index=pd.PeriodIndex(months, name="month"),
        columns=pd.Index(names.astype("str"), name=category_column),
    )


def robust_spread(reference: pd.Series) -> float:
    """A standard-deviation-like spread from the MAD (or the mean absolute deviation when the
    MAD is zero); 0 when every value is the same. NaN values are ignored."""
    ref = reference.dropna().astype(float)
    if ref.empty:
        return math.nan
    deviations = (ref - ref.median()).abs()
    mad = deviations.median()
    return mad / MAD_SCALE if mad > 0 else MEAN_AD_SCALE * deviations.mean()


def robust_z(values: pd.Series, reference: pd.Series, floor=0.0) -> pd.Series:
    """Robust z-scores of `values` against the median and MAD of `reference` (NaN ignored).

    `floor` (a number or a Series aligned with `values`) is the least spread to assume, e.g. the
    sampling noise a month's size alone would give."""
    ref = reference.dropna().astype(float)
    if ref.empty:
        return pd.Series(np.nan, index=values.index)
    diff = values.astype(float) - ref.median()
    spread = np.maximum(robust_spread(ref), floor)
    z = diff / spread
    # No spread at all (every reference value the same): any departure is infinitely unusual.
    flat = (spread == 0) if np.ndim(spread) else pd.Series(spread == 0, index=values.index)
    return z.mask(flat & (diff == 0), 0.0).mask(flat & (diff != 0), np.sign(diff) * np.inf)


def share_profile(
    frame: pd.DataFrame,
    date_column: str,
    category_column: str,
    category: str,
    year: ReportingYear,
    z_threshold: float,
    min_count: int,
    window_months: int = ANOMALY_WINDOW_MONTHS,
) -> pd.DataFrame:
    """Monthly share of one category over the window (previous months plus the year).

    The robust z-score is taken on the (Anscombe) arcsine-square-root of the share, which gives a
    share the same sampling noise whatever its level, and the spread is never taken as less than
    a month of that size would show by chance (about 1 / (2 * sqrt(month total))): a rare
    category's occasional busy month is then not mistaken for a spike.

    Columns: count, total, share_pct, usual_share_pct (window median), upper_pct (the share at
    the z threshold for a month of median size), z, in_year, anomalous (in the year,
    count >= min_count and z >= threshold). Months with no rows at all (before the data start)
    are left out of the usual level.
    """
    counts = monthly_category_counts(frame, date_column, category_column, anomaly_window(year, window_months))
    return profile_of_share(counts, category, year, z_threshold, min_count)


def anomaly_window(year: ReportingYear, window_months: int = ANOMALY_WINDOW_MONTHS) -> pd.PeriodIndex:
    """The months a share is judged over: the year's twelve and the `window_months` before them."""
    return pd.period_range(end=year_months(year)[-1], periods=window_months + 12, freq="M", name="month")


def profile_of_share(
    counts: pd.DataFrame, category: str, year: ReportingYear, z_threshold: float, min_count: int
) -> pd.DataFrame:
    """share_profile from the window's monthly counts by category (monthly_category_counts)."""
    months = counts.index
    count = counts[category] if category in counts.columns else pd.Series(0, index=months, dtype="int64")
    total = counts.sum(axis=1)
    share = (count / total.where(total > 0)).astype(float)
    # Anscombe's arcsine transform: the sampling noise of a share becomes about 1 / (2 sqrt(n))
    # whatever its level, even for rare categories with months of 0, 1 or 2.
    months_with_data = total.where(total > 0).astype(float)
    stabilised = np.arcsin(np.sqrt((count + 3 / 8) / (months_with_data + 3 / 4)))
    sampling_noise = 1 / (2 * np.sqrt(months_with_data + 0.5))
    z = robust_z(stabilised, stabilised, floor=sampling_noise)
    centre = stabilised.median()
    usual_size = float(total[total > 0].median()) if (total > 0).any() else 1.0
    spread_at_usual_size = max(robust_spread(stabilised), 1 / (2 * math.sqrt(usual_size + 0.5)))
    upper = min(centre + z_threshold * spread_at_usual_size, math.pi / 2)
    in_year = pd.Series(months.isin(year_months(year)), index=months)
    profile = pd.DataFrame(
        {
            "count": count,
            "total": total,
            "share_pct": 100 * share,
            "usual_share_pct": 100 * share.median(),
            "upper_pct": 100 * ((usual_size + 3 / 4) * math.sin(upper) ** 2 - 3 / 8) / usual_size,
            "z": z,
            "in_year": in_year,
        }
    )
    profile["anomalous"] = profile["in_year"] & (profile["count"] >= min_count) & (profile["z"] >= z_threshold)
    return profile


def detect_share_anomalies(
    frame: pd.DataFrame,
    date_column: str,
    category_column: str,
    year: ReportingYear,
    z_threshold: float,
    min_count: int,
    window_months: int = ANOMALY_WINDOW_MONTHS,
) -> pd.DataFrame:
    """Months of the year whose share of a category is unusually high, for every category.

    Returns one row per anomalous (category, month): category, month ('2023-10'), share_pct,
    usual_share_pct, z. Only rises are flagged: a category crowding out the others is the signal.
    """
    counts = monthly_category_counts(frame, date_column, category_column, anomaly_window(year, window_months))
    rows = []
    for category in counts.columns:
        profile = profile_of_share(counts, category, year, z_threshold, min_count)
        for month, row in profile[profile["anomalous"]].iterrows():
            rows.append(
                {
                    "category": category,
                    "month": month_key(month),
                    "share_pct": round(row["share_pct"], 1),
                    "usual_share_pct": round(row["usual_share_pct"], 1),
                    "z": round(float(row["z"]), 1) if math.isfinite(row["z"]) else float(row["z"]),
                }
            )
    columns = ["category", "month", "share_pct", "usual_share_pct", "z"]
    return pd.DataFrame(rows, columns=columns).sort_values(["month", "category"], ignore_index=True)


def comparable_outcome(referrals: pd.DataFrame) -> pd.Series:
    """Referral outcome with NFA counted as Advice and information, so months before and after
    the changeover compare like with like (the MASH renamed the outcome; the work is the same)."""
    return referrals["referral_outcome"].replace({"NFA": "ADVICE_INFO"})


def referral_anomalies(
    referrals: pd.DataFrame, year: ReportingYear, z_threshold: float, min_count: int
) -> pd.DataFrame:
    """Anomalous months by source agency and by outcome, with readable measure and category."""
    frame = referrals.assign(outcome_comparable=comparable_outcome(referrals))
    outcome_labels = code_labels("referral_outcome") | {"ADVICE_INFO": "Advice and information (or NFA)"}
    parts = []
    for column, measure, labels in (
        ("referral_source_group", "Source agency", code_labels("source_agency")),
        ("outcome_comparable", "Outcome", outcome_labels),
    ):
        found = detect_share_anomalies(frame, "referral_date", column, year, z_threshold, min_count)
        found.insert(0, "measure", measure)
        found["category"] = found["category"].map(lambda c, labels=labels: labels.get(c, c))
        parts.append(found)
    return pd.concat(parts, ignore_index=True)


@dataclass(frozen=True)
class Spike:
    """The anomalous months of one category's share, and whether the year ended back to usual."""

    months: list[str]
    resolved: bool
    share_spike_pct: float | None
    share_other_pct: float | None
    profile: pd.DataFrame = field(repr=False)


def category_spike(profile: pd.DataFrame, year: ReportingYear) -> Spike:
    """Summarise a share_profile: spike months, pooled shares in and outside them, resolution.

    Resolved when none of the year's last RESOLUTION_MONTHS months is anomalous (so a year
    without a spike counts as resolved).
    """
    year_rows = profile[profile["in_year"]]
    spike = year_rows[year_rows["anomalous"]]
    other = year_rows[~year_rows["anomalous"]]
    pooled = lambda rows: percent(rows["count"].sum(), rows["total"].sum(), 1) if len(rows) else None  # noqa: E731
    resolved = not year_rows["anomalous"].iloc[-RESOLUTION_MONTHS:].any()
    return Spike(
        months=[month_key(m) for m in spike.index],
        resolved=bool(resolved),
        share_spike_pct=pooled(spike),
        share_other_pct=pooled(other),
        profile=profile,
    )


def unknown_source_table(spike: Spike, threshold: int) -> pd.DataFrame:
    """The unknown-source chart's data: each month's referrals, unknown-source referrals and
    share, with counts of 1..threshold and their shares shown as "c" (the chart draws a range)."""
    profile = spike.profile[spike.profile["total"] > 0]
    small = profile["count"].map(lambda n: is_small(int(n), threshold)).astype(bool)
    table = pd.DataFrame(
        {
            "Month": [m.strftime("%b %Y") for m in profile.index],
            "Referrals": profile["total"].astype("int64").to_numpy(),
            "Unknown source": [SUPPRESSED if s else int(n) for n, s in zip(profile["count"], small)],
            "Unknown source %": [SUPPRESSED if s else round(float(v), 1) for v, s in zip(profile["share_pct"], small)],
            "Anomalous": ["yes" if a else "" for a in profile["anomalous"]],
        }
    )
    return table.astype(object)


def outcomes_by_month_table(nfa: NfaChangeover, threshold: int) -> pd.DataFrame:
    """The referral-outcomes chart's data: referrals by outcome as recorded, month by month (published)."""
    labels = {**code_labels("referral_outcome"), NOT_RECORDED: "Not recorded"}
    monthly = nfa.monthly_recorded.rename(columns=lambda c: labels.get(c, c), index=lambda m: m.strftime("%b %Y"))
    monthly.index.name = "Month"
    monthly.columns.name = None
    return published_counts(monthly, threshold, row_totals=True)


def unknown_source_spike(referrals: pd.DataFrame, year: ReportingYear, z_threshold: float, min_count: int) -> Spike:
    """Spike in the share of referrals whose source is Unknown (group UNKNOWN, CIN code 10)."""
    profile = share_profile(
        referrals, "referral_date", "referral_source_group", UNKNOWN_SOURCE_GROUP, year, z_threshold, min_count
    )
    return category_spike(profile, year)


# --------------------------------------------------------------------------------------------
# Heading 4: abuse categories and child protection
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AbuseCategories:
    """Referrals by abuse category, and the sexual-abuse share against the comparator (percent)."""

    comparator_pct: float
    with_category: int
    with_category_previous: int
    sexual_share_pct: float | None
    sexual_share_pct_previous: float | None
    below_comparator: bool | None
    table: pd.DataFrame  # published counts by category, both years
    counts: dict[str, pd.Series] = field(repr=False)  # year label -> count by category code
    shares: dict[str, pd.Series] = field(repr=False)  # year label -> percent of categorised referrals


def abuse_categories(
    referrals: pd.DataFrame, year: ReportingYear, comparator_share: float, threshold: int
) -> AbuseCategories:
    """Referrals by abuse category and the sexual-abuse share against the comparator (percent)."""
    labels = code_labels("abuse_category")
    comparator_pct = round(100 * comparator_share, 1)
    counts, categorised, sexual_pct = {}, {}, {}
    for y in (year, year.previous):
        rows = rows_in_year(referrals, y).dropna(subset=["abuse_category"])
        counts[y.label] = _count_by(rows, "abuse_category", list(labels))
        categorised[y.label] = len(rows)
        sexual_pct[y.label] = percent((rows["abuse_category"] == SEXUAL_ABUSE).sum(), len(rows), 1)
    share = sexual_pct[year.label]
    return AbuseCategories(
        comparator_pct=comparator_pct,
        with_category=categorised[year.label],
        with_category_previous=categorised[year.previous.label],
        sexual_share_pct=share,
        sexual_share_pct_previous=sexual_pct[year.previous.label],
        below_comparator=None if share is None else share < comparator_pct,
        table=_by_year_table(
            counts[year.label], counts[year.previous.label], year, "Abuse category", labels, threshold
        ),
        counts=counts,
        shares={
            label: (100 * values / values.sum()) if values.sum() else values.astype(float)
            for label, values in counts.items()
        },
    )


def plans_open_at(plans: pd.DataFrame, day: date | pd.Series) -> pd.DataFrame:
    """Plans open at the end of `day`: started on or before it, not ended by it (`day` may be a
    Series aligned with the plans: each row judged on its own day)."""
    day = pd.to_datetime(day)
    started = plans["cp_plan_start_date"] <= day
    not_ended = plans["cp_plan_end_date"].isna() | (plans["cp_plan_end_date"] > day)
    return plans[flag(started & not_ended)]


def plans_started_in(plans: pd.DataFrame, year: ReportingYear) -> pd.DataFrame:
    return rows_in_year(plans, year, date_column="cp_plan_start_date")


@dataclass(frozen=True)
class ChildProtection:
    """Plan starts, plans open at 31 March and children on a plan per 10,000, with last year's
    (None when the data hold no plans before the year)."""

    starts: int
    open: int
    rate_per_10k: float
    starts_previous: int | None
    open_previous: int | None
    rate_per_10k_previous: float | None
    by_category: pd.DataFrame  # published counts by initial category


def child_protection(
    plans: pd.DataFrame, year: ReportingYear, child_population: int, threshold: int
) -> ChildProtection:
    """Plan starts, plans open at 31 March and children on a plan per 10,000, with last year's."""
    figures = {}
    for y in (year, year.previous):
        open_plans = plans_open_at(plans, y.end)
        figures[y.label] = (
            len(plans_started_in(plans, y)),
            len(open_plans),
            round(10_000 * open_plans["child_pid"].nunique() / child_population, 1),
        )
    # No plans before the year in the data: no previous-year figures to compare with.
    has_previous = bool((plans["cp_plan_start_date"] < pd.Timestamp(year.start)).any())
    previous = figures[year.previous.label] if has_previous else (None, None, None)
    labels = code_labels("abuse_category")
    counts = pd.DataFrame(
        {
            f"Started in {year.label}": _count_by(plans_started_in(plans, year), "initial_category", list(labels)),
            f"Open at {year.end:%d %B %Y}": _count_by(plans_open_at(plans, year.end), "initial_category", list(labels)),
        }
    ).fillna(0)
    counts.index = [labels.get(c, c) for c in counts.index]
    counts.index.name = "Initial category"
    starts, open_count, rate = figures[year.label]
    return ChildProtection(
        starts=starts,
        open=open_count,
        rate_per_10k=rate,
        starts_previous=previous[0],
        open_previous=previous[1],
        rate_per_10k_previous=previous[2],
        by_category=published_counts(counts, threshold),
    )


@dataclass(frozen=True)
class MultipleCategory:
    """The retired 'multiple' abuse category: its last plan start, and starts with it this year."""

    last_used: date | None
    starts_in_year: int


def retired_multiple_category(plans: pd.DataFrame, year: ReportingYear) -> MultipleCategory:
    """Last plan start recorded with the retired 'multiple' category, and such starts this year."""
    multiple = plans[flag(plans["initial_category"] == MULTIPLE_CATEGORY)]
    multiple = multiple[flag(multiple["cp_plan_start_date"] <= pd.Timestamp(year.end))]
    last = multiple["cp_plan_start_date"].max()
    return MultipleCategory(
        last_used=None if pd.isna(last) else last.date(),
        starts_in_year=len(plans_started_in(multiple, year)),
    )


# --------------------------------------------------------------------------------------------
# Heading 6: DARA and the NFA changeover
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DaraCompliance:
    """Police domestic-abuse referrals in the year and the share sent with a DARA form."""

    da_referrals: int
    before_pct: float | None  # before the correction date
    after_pct: float | None  # on or after it
    correction_date: date
    by_month: pd.DataFrame  # published counts and share by month
    monthly_pct: pd.Series  # share by month, NaN where a count is suppressed


def dara_compliance(police: pd.DataFrame, year: ReportingYear, correction_date: date, threshold: int) -> DaraCompliance:
    """Police domestic-abuse referrals and the share sent with a DARA form, by month and
    before/after the correction date (referrals on the date count as after)."""
    da = rows_in_year(police, year)
    da = da[flag(da["domestic_abuse"])]
    submitted = flag(da["dara_submitted"])
    after = da["referral_date"] >= pd.Timestamp(correction_date)
    month = da["referral_date"].dt.to_period("M")
    counts = pd.DataFrame(
        {
            "Domestic-abuse referrals": month.value_counts().reindex(year_months(year), fill_value=0),
            "DARA submitted": month[submitted].value_counts().reindex(year_months(year), fill_value=0),
        }
    )
    counts.index = [m.strftime("%b %Y") for m in year_months(year)]
    counts.index.name = "Month"
    table = published_counts(counts, threshold)
    # A percentage would reveal a suppressed count, so it is shown only beside published counts.
    pct = (100 * counts["DARA submitted"] / counts["Domestic-abuse referrals"].where(lambda s: s > 0)).round(1)
    pct.loc[TOTAL] = percent(submitted.sum(), len(da), 1)
    visible = (table["Domestic-abuse referrals"] != SUPPRESSED) & (table["DARA submitted"] != SUPPRESSED)
    table["DARA submitted %"] = pct.where(visible).astype(object).where(lambda s: s.notna(), "")
    return DaraCompliance(
        da_referrals=len(da),
        before_pct=percent(submitted[~after].sum(), int((~after).sum()), 1),
        after_pct=percent(submitted[after].sum(), int(after.sum()), 1),
        correction_date=correction_date,
        by_month=table,
        monthly_pct=pct.drop(TOTAL).where(visible.drop(TOTAL)).astype(float),
    )


def recorded_outcome(referrals: pd.DataFrame) -> pd.Series:
    """Outcome as the MASH recorded it, before the clean stage recoded NFA."""
    return referrals["referral_outcome_original"].fillna(referrals["referral_outcome"])


@dataclass(frozen=True)
class NfaChangeover:
    """Outcomes as the MASH recorded them around the date 'No further action' was retired."""

    changeover_date: date
    nfa_before: int
    advice_info_after: int
    nfa_after: int
    table: pd.DataFrame  # published counts before and from the changeover
    monthly_recorded: pd.DataFrame  # referrals by month and recorded outcome (unpublished)


def nfa_changeover(
    referrals: pd.DataFrame, year: ReportingYear, changeover_date: date, threshold: int
) -> NfaChangeover:
    """NFA recorded before the changeover and Advice and Information after it, this year."""
    in_year = rows_in_year(referrals, year)
    outcome = recorded_outcome(in_year)
    after = in_year["referral_date"] >= pd.Timestamp(changeover_date)
    labels = code_labels("referral_outcome")
    periods = {f"Before {changeover_date:%d %b %Y}": ~after, f"From {changeover_date:%d %b %Y}": after}
    counts = pd.DataFrame(
        {
            labels[code]: [int((flag(outcome == code) & mask).sum()) for mask in periods.values()]
            for code in ("NFA", "ADVICE_INFO")
        },
        index=list(periods),
    )
    counts.index.name = "Recorded"
    month = in_year["referral_date"].dt.to_period("M")
    monthly = pd.crosstab(month.to_numpy(), outcome.astype("string").fillna(NOT_RECORDED).to_numpy())
    monthly = monthly.reindex(year_months(year), fill_value=0)
    return NfaChangeover(
        changeover_date=changeover_date,
        nfa_before=int((flag(outcome == "NFA") & ~after).sum()),
        advice_info_after=int((flag(outcome == "ADVICE_INFO") & after).sum()),
        nfa_after=int((flag(outcome == "NFA") & after).sum()),
        table=published_counts(counts, threshold),
        monthly_recorded=monthly,
    )


# --------------------------------------------------------------------------------------------
# The whole stage
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReferralAnalysis:
    year: ReportingYear
    threshold: int
    z_threshold: float
    volumes: Volumes
    by_month: pd.DataFrame
    by_source_agency: pd.DataFrame
    by_outcome: pd.DataFrame
    anomalies: pd.DataFrame
    unknown_spike: Spike
    categories: AbuseCategories
    child_protection: ChildProtection
    dara: DaraCompliance
    nfa: NfaChangeover
    multiple: MultipleCategory
    sources: dict[str, str]


def data_sources(config: PartnershipConfig) -> dict[str, str]:
    """Source notes for charts, from the partnership configuration."""
    council = config["partnership"]["local_authority"]
    police = next((p["organisation"] for p in config.get("partners", []) if p["agency"] == "POLICE"), "Police")
    return {
        "referrals": f"{council}, MASH referrals to children's social care",
        "police": f"{police}, child referrals to the MASH",
    }


def analyse(
    tables: Mapping[str, pd.DataFrame],
    year: ReportingYear,
    config: PartnershipConfig,
    sexual_abuse_comparator_share: float | None = None,
) -> ReferralAnalysis:
    """Every table and figure of the stage from the validated tables. The sexual-abuse comparator
    (a share, 0-1) is DfE's when the partnership supplies its file (the stage reads it with
    sscp_lib.ingest.comparators), else the config's `analysis.sexual_abuse_comparator_share`."""
    threshold = config.suppression_threshold
    rules = config["analysis"]
    z_threshold, min_count = float(rules["anomaly_z_threshold"]), int(rules["anomaly_min_count"])
    referrals = tables["referrals"]
    return ReferralAnalysis(
        year=year,
        threshold=threshold,
        z_threshold=z_threshold,
        volumes=volumes(tables["mash_contacts"], referrals, year),
        by_month=referrals_by_month(referrals, year, threshold),
        by_source_agency=referrals_by_source_agency(referrals, year, threshold),
        by_outcome=referrals_by_outcome(referrals, year, threshold),
        anomalies=referral_anomalies(referrals, year, z_threshold, min_count),
        unknown_spike=unknown_source_spike(referrals, year, z_threshold, min_count),
        categories=abuse_categories(
            referrals,
            year,
            float(rules["sexual_abuse_comparator_share"])
            if sexual_abuse_comparator_share is None
            else sexual_abuse_comparator_share,
            threshold,
        ),
        child_protection=child_protection(tables["cp_plans"], year, config.child_population, threshold),
        dara=dara_compliance(
            tables["police_referrals"], year, config.data_rule_date("dara_correction_date"), threshold
        ),
        nfa=nfa_changeover(referrals, year, config.data_rule_date("nfa_changeover_date"), threshold),
        multiple=retired_multiple_category(tables["cp_plans"], year),
        sources=data_sources(config),
    )
