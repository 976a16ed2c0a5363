"""Referrals, child protection and MASH data: statement headings 4 (new challenges) and 6 (data).

Pure functions take validated tables (Contract.processed_schema columns) and configuration values
and return plain values or published tables. Published tables of children's records go through
sscp_lib.disclosure with totals, so small cells and the cells that would reveal them show "c".
The notebook 03_analyse_referrals.ipynb calls `analyse`, `record_metrics` and `save_charts`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from .. import charts
from ..config import PartnershipConfig, Paths, ReportingYear
from ..contract import load_contract
from ..disclosure import SUPPRESSED, is_small, suppress_table
from ..errors import UserError
from ..metrics import MetricStore

STAGE = "analyse_referrals"
DATASETS = ("mash_contacts", "referrals", "police_referrals", "cp_plans")
TOTAL = "Total"
NOT_RECORDED = "Not recorded"
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
# Inputs
# --------------------------------------------------------------------------------------------


# Contacts are the largest table (millions of rows at a region's scale): this stage counts them
# by year and outcome only, so it reads just those columns.
COLUMNS_READ = {"mash_contacts": ("contact_date", "contact_outcome", "reporting_year")}


def load_validated(dataset: str, year: ReportingYear, paths: Paths, columns=None) -> pd.DataFrame:
    """One validated table (or some of its columns), checked against and cast to the processed schema."""
    path = paths.validated_dir(year) / f"{dataset}.parquet"
    if not path.exists():
        raise UserError(f"{path}: validated table not found; run the validate stage for {year} first")
    schema = load_contract().processed_schema(dataset)
    wanted = list(columns) if columns else list(schema)
    present = set(pq.read_schema(path).names)
    missing = [c for c in wanted if c not in present]
    if missing:
        raise UserError(f"{path}: missing column(s) {', '.join(missing)}")
    frame = pd.read_parquet(path, columns=wanted)
    return frame.astype({c: schema[c] for c in wanted})


def load_validated_tables(year: ReportingYear, paths: Paths) -> dict[str, pd.DataFrame]:
    """The four validated tables this stage reads, by dataset name."""
    return {name: load_validated(name, year, paths, COLUMNS_READ.get(name)) for name in DATASETS}


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


def _flag(series: pd.Series) -> pd.Series:
    """A nullable boolean Series as plain bool, missing meaning False."""
    return series.astype("boolean").fillna(False).astype(bool)


def rows_in_year(frame: pd.DataFrame, year: ReportingYear) -> pd.DataFrame:
    """Rows whose reporting_year (set by the clean stage) is the given year."""
    return frame[_flag(frame["reporting_year"] == year.label)]


def _percent(numerator, denominator) -> float | None:
    return None if not denominator else round(100.0 * float(numerator) / float(denominator), 1)


def _labels(code_list: str) -> dict[str, str]:
    return dict(load_contract().code_lists[code_list].codes)


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
    return _percent((recorded == "REFERRAL").sum(), len(recorded))


def volumes(contacts: pd.DataFrame, referrals: pd.DataFrame, year: ReportingYear) -> dict:
    """Contacts, referrals and contact-to-referral conversion, this year and the previous one."""
    out = {}
    for suffix, y in (("", year), ("_previous", year.previous)):
        year_contacts = rows_in_year(contacts, y)
        out[f"contacts{suffix}"] = len(year_contacts)
        out[f"referrals{suffix}"] = len(rows_in_year(referrals, y))
        out[f"conversion_pct{suffix}"] = contact_conversion_pct(year_contacts)
    for key in ("contacts", "referrals"):
        if out[f"{key}_previous"] == 0:  # no earlier data: no comparison rather than a false zero
            out[f"{key}_previous"] = None
    return out


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
    labels = _labels("source_agency")
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
    labels = _labels("referral_outcome")
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
    """Rows per month (index) and category (columns) over the given months, zeros filled."""
    period = frame[date_column].dt.to_period("M")
    keep = period.isin(months)
    categories = frame.loc[keep, category_column].astype("string").fillna(NOT_RECORDED)
    counts = pd.crosstab(period[keep].to_numpy(), categories.to_numpy())
    counts = counts.reindex(months, fill_value=0)
    counts.index.name, counts.columns.name = "month", category_column
    return counts.astype("int64")


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
    months = pd.period_range(end=year_months(year)[-1], periods=window_months + 12, freq="M")
    counts = monthly_category_counts(frame, date_column, category_column, months)
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
    months = pd.period_range(end=year_months(year)[-1], periods=window_months + 12, freq="M")
    categories = monthly_category_counts(frame, date_column, category_column, months).columns
    rows = []
    for category in categories:
        profile = share_profile(
            frame, date_column, category_column, category, year, z_threshold, min_count, window_months
        )
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
    outcome_labels = _labels("referral_outcome") | {"ADVICE_INFO": "Advice and information (or NFA)"}
    parts = []
    for column, measure, labels in (
        ("referral_source_group", "Source agency", _labels("source_agency")),
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
    resolved: str  # "yes" | "no"
    share_spike_pct: float | None
    share_other_pct: float | None
    profile: pd.DataFrame = field(repr=False)


def category_spike(profile: pd.DataFrame, year: ReportingYear) -> Spike:
    """Summarise a share_profile: spike months, pooled shares in and outside them, resolution.

    Resolved is "yes" when none of the year's last RESOLUTION_MONTHS months is anomalous (so a
    year without a spike is also "yes").
    """
    year_rows = profile[profile["in_year"]]
    spike = year_rows[year_rows["anomalous"]]
    other = year_rows[~year_rows["anomalous"]]
    pooled = lambda rows: _percent(rows["count"].sum(), rows["total"].sum()) if len(rows) else None  # noqa: E731
    resolved = not year_rows["anomalous"].iloc[-RESOLUTION_MONTHS:].any()
    return Spike(
        months=[month_key(m) for m in spike.index],
        resolved="yes" if resolved else "no",
        share_spike_pct=pooled(spike),
        share_other_pct=pooled(other),
        profile=profile,
    )


def unknown_source_spike(referrals: pd.DataFrame, year: ReportingYear, z_threshold: float, min_count: int) -> Spike:
    """Spike in the share of referrals whose source is Unknown (group UNKNOWN, CIN code 10)."""
    profile = share_profile(
        referrals, "referral_date", "referral_source_group", UNKNOWN_SOURCE_GROUP, year, z_threshold, min_count
    )
    return category_spike(profile, year)


# --------------------------------------------------------------------------------------------
# Heading 4: abuse categories and child protection
# --------------------------------------------------------------------------------------------


def abuse_categories(referrals: pd.DataFrame, year: ReportingYear, comparator_share: float, threshold: int) -> dict:
    """Referrals by abuse category and the sexual-abuse share against the comparator (percent)."""
    labels = _labels("abuse_category")
    result = {"comparator_pct": round(100 * comparator_share, 1)}
    series = {}
    for suffix, y in (("", year), ("_previous", year.previous)):
        categorised = rows_in_year(referrals, y).dropna(subset=["abuse_category"])
        series[y.label] = _count_by(categorised, "abuse_category", list(labels))
        result[f"with_category{suffix}"] = len(categorised)
        result[f"sexual_share_pct{suffix}"] = _percent(
            (categorised["abuse_category"] == SEXUAL_ABUSE).sum(), len(categorised)
        )
    share = result["sexual_share_pct"]
    result["below_comparator"] = None if share is None else ("yes" if share < result["comparator_pct"] else "no")
    result["table"] = _by_year_table(
        series[year.label], series[year.previous.label], year, "Abuse category", labels, threshold
    )
    result["shares"] = {  # percent of categorised referrals by category code, for the chart
        label: (100 * counts / counts.sum()) if counts.sum() else counts.astype(float)
        for label, counts in series.items()
    }
    result["counts"] = series
    return result


def plans_open_at(plans: pd.DataFrame, day: date) -> pd.DataFrame:
    """Plans open at the end of `day`: started on or before it, not ended by it."""
    day = pd.Timestamp(day)
    started = plans["cp_plan_start_date"] <= day
    not_ended = plans["cp_plan_end_date"].isna() | (plans["cp_plan_end_date"] > day)
    return plans[_flag(started & not_ended)]


def plans_started_in(plans: pd.DataFrame, year: ReportingYear) -> pd.DataFrame:
    start = plans["cp_plan_start_date"]
    return plans[_flag((start >= pd.Timestamp(year.start)) & (start <= pd.Timestamp(year.end)))]


def child_protection(plans: pd.DataFrame, year: ReportingYear, child_population: int, threshold: int) -> dict:
    """Plan starts, plans open at 31 March and children on a plan per 10,000, with last year's."""
    result = {}
    for suffix, y in (("", year), ("_previous", year.previous)):
        open_plans = plans_open_at(plans, y.end)
        result[f"starts{suffix}"] = len(plans_started_in(plans, y))
        result[f"open{suffix}"] = len(open_plans)
        children = open_plans["child_pid"].nunique()
        result[f"rate_per_10k{suffix}"] = round(10_000 * children / child_population, 1)
    if not (plans["cp_plan_start_date"] < pd.Timestamp(year.start)).any():
        # No plans before the year in the data: no previous-year figures to compare with.
        for key in ("starts", "open", "rate_per_10k"):
            result[f"{key}_previous"] = None
    labels = _labels("abuse_category")
    counts = pd.DataFrame(
        {
            f"Started in {year.label}": _count_by(plans_started_in(plans, year), "initial_category", list(labels)),
            f"Open at {year.end:%d %B %Y}": _count_by(plans_open_at(plans, year.end), "initial_category", list(labels)),
        }
    ).fillna(0)
    counts.index = [labels.get(c, c) for c in counts.index]
    counts.index.name = "Initial category"
    result["by_category"] = published_counts(counts, threshold)
    return result


def retired_multiple_category(plans: pd.DataFrame, year: ReportingYear) -> dict:
    """Last plan start recorded with the retired 'multiple' category, and such starts this year."""
    multiple = plans[_flag(plans["initial_category"] == MULTIPLE_CATEGORY)]
    multiple = multiple[_flag(multiple["cp_plan_start_date"] <= pd.Timestamp(year.end))]
    last = multiple["cp_plan_start_date"].max()
    return {
        "last_used": None if pd.isna(last) else last.date(),
        "starts_in_year": len(plans_started_in(multiple, year)),
    }


# --------------------------------------------------------------------------------------------
# Heading 6: DARA and the NFA changeover
# --------------------------------------------------------------------------------------------


def dara_compliance(police: pd.DataFrame, year: ReportingYear, correction_date: date, threshold: int) -> dict:
    """Police domestic-abuse referrals and the share sent with a DARA form, by month and
    before/after the correction date (referrals on the date count as after)."""
    da = rows_in_year(police, year)
    da = da[_flag(da["domestic_abuse"])]
    submitted = _flag(da["dara_submitted"])
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
    pct.loc[TOTAL] = _percent(submitted.sum(), len(da))
    visible = (table["Domestic-abuse referrals"] != SUPPRESSED) & (table["DARA submitted"] != SUPPRESSED)
    table["DARA submitted %"] = pct.where(visible).astype(object).where(lambda s: s.notna(), "")
    return {
        "da_referrals": len(da),
        "before_pct": _percent(submitted[~after].sum(), int((~after).sum())),
        "after_pct": _percent(submitted[after].sum(), int(after.sum())),
        "correction_date": correction_date,
        "by_month": table,
        "monthly_pct": pct.drop(TOTAL).where(visible.drop(TOTAL)).astype(float),
    }


def recorded_outcome(referrals: pd.DataFrame) -> pd.Series:
    """Outcome as the MASH recorded it, before the clean stage recoded NFA."""
    return referrals["referral_outcome_original"].fillna(referrals["referral_outcome"])


def nfa_changeover(referrals: pd.DataFrame, year: ReportingYear, changeover_date: date, threshold: int) -> dict:
    """NFA recorded before the changeover and Advice and Information after it, this year."""
    in_year = rows_in_year(referrals, year)
    outcome = recorded_outcome(in_year)
    after = in_year["referral_date"] >= pd.Timestamp(changeover_date)
    labels = _labels("referral_outcome")
    periods = {f"Before {changeover_date:%d %b %Y}": ~after, f"From {changeover_date:%d %b %Y}": after}
    counts = pd.DataFrame(
        {
            labels[code]: [int((_flag(outcome == code) & mask).sum()) for mask in periods.values()]
            for code in ("NFA", "ADVICE_INFO")
        },
        index=list(periods),
    )
    counts.index.name = "Recorded"
    month = in_year["referral_date"].dt.to_period("M")
    monthly = pd.crosstab(month.to_numpy(), outcome.astype("string").fillna(NOT_RECORDED).to_numpy())
    monthly = monthly.reindex(year_months(year), fill_value=0)
    return {
        "changeover_date": changeover_date,
        "nfa_before": int((_flag(outcome == "NFA") & ~after).sum()),
        "advice_info_after": int((_flag(outcome == "ADVICE_INFO") & after).sum()),
        "nfa_after": int((_flag(outcome == "NFA") & after).sum()),
        "table": published_counts(counts, threshold),
        "monthly_recorded": monthly,
    }


# --------------------------------------------------------------------------------------------
# The whole stage
# --------------------------------------------------------------------------------------------


@dataclass
class ReferralAnalysis:
    year: ReportingYear
    threshold: int
    z_threshold: float
    volumes: dict
    by_month: pd.DataFrame
    by_source_agency: pd.DataFrame
    by_outcome: pd.DataFrame
    anomalies: pd.DataFrame
    unknown_spike: Spike
    categories: dict
    child_protection: dict
    dara: dict
    nfa: dict
    multiple: dict
    sources: dict[str, str]


def data_sources(config: PartnershipConfig) -> dict[str, str]:
    """Source notes for charts, from the partnership configuration."""
    council = config["partnership"]["local_authority"]
    police = next((p["organisation"] for p in config.get("partners", []) if p["agency"] == "POLICE"), "Police")
    return {
        "referrals": f"{council}, MASH referrals to children's social care",
        "police": f"{police}, child referrals to the MASH",
    }


def analyse(tables: dict[str, pd.DataFrame], config: PartnershipConfig, year: ReportingYear) -> ReferralAnalysis:
    """Every table and figure of the stage from the validated tables."""
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
        categories=abuse_categories(referrals, year, float(rules["sexual_abuse_comparator_share"]), threshold),
        child_protection=child_protection(tables["cp_plans"], year, config.child_population, threshold),
        dara=dara_compliance(
            tables["police_referrals"], year, config.data_rule_date("dara_correction_date"), threshold
        ),
        nfa=nfa_changeover(referrals, year, config.data_rule_date("nfa_changeover_date"), threshold),
        multiple=retired_multiple_category(tables["cp_plans"], year),
        sources=data_sources(config),
    )


def record_metrics(result: ReferralAnalysis, store: MetricStore) -> MetricStore:
    """Add every analyse_referrals metric of the catalogue to the store."""
    v, cat, cp, dara, nfa = result.volumes, result.categories, result.child_protection, result.dara, result.nfa
    store.add("data.contacts", v["contacts"], previous=v["contacts_previous"])
    store.add("data.referrals", v["referrals"], previous=v["referrals_previous"])
    store.add("data.contact_conversion_pct", v["conversion_pct"], previous=v["conversion_pct_previous"])
    store.add("data.referrals_by_month", result.by_month)
    store.add("data.referrals_by_source_agency", result.by_source_agency)
    store.add("data.referrals_by_outcome", result.by_outcome)
    store.add("data.anomalies", result.anomalies)
    store.add("data.unknown_source_spike_months", result.unknown_spike.months)
    store.add("data.unknown_source_resolved", result.unknown_spike.resolved)
    store.add("data.unknown_source_share_spike_pct", result.unknown_spike.share_spike_pct)
    store.add("data.unknown_source_share_other_pct", result.unknown_spike.share_other_pct)
    store.add("data.police_da_referrals", dara["da_referrals"])
    store.add("data.dara_correction_date", dara["correction_date"])
    store.add("data.dara_submitted_before_pct", dara["before_pct"])
    store.add("data.dara_submitted_after_pct", dara["after_pct"])
    store.add("data.dara_by_month", dara["by_month"])
    store.add("data.nfa_changeover_date", nfa["changeover_date"])
    store.add("data.nfa_recorded_before", nfa["nfa_before"])
    store.add("data.advice_info_after", nfa["advice_info_after"])
    store.add("data.multiple_category_last_used", result.multiple["last_used"])
    store.add("data.multiple_category_plans_this_year", result.multiple["starts_in_year"])
    store.add("challenges.referrals_with_category", cat["with_category"])
    store.add("challenges.referrals_by_category", cat["table"])
    store.add("challenges.sexual_abuse_share_pct", cat["sexual_share_pct"], previous=cat["sexual_share_pct_previous"])
    store.add("challenges.sexual_abuse_comparator_pct", cat["comparator_pct"])
    store.add("challenges.sexual_abuse_below_comparator", cat["below_comparator"])
    store.add("challenges.cp_plan_starts", cp["starts"], previous=cp["starts_previous"])
    store.add("challenges.cp_plans_open_year_end", cp["open"], previous=cp["open_previous"])
    store.add("challenges.cp_plan_rate_per_10k", cp["rate_per_10k"], previous=cp["rate_per_10k_previous"])
    store.add("challenges.cp_plans_by_category", cp["by_category"])
    return store


def metrics_frame(store: MetricStore) -> pd.DataFrame:
    """The store's single-value metrics as published (suppressed), for display."""
    rows = [
        {"metric": name, "label": m["label"], "value": m["value"], "previous": m.get("previous", "")}
        for name, m in store.metrics.items()
        if m["unit"] != "table"
    ]
    return pd.DataFrame(rows).set_index("metric")


# --------------------------------------------------------------------------------------------
# Charts: titles state the computed finding; only published counts or rates are plotted
# --------------------------------------------------------------------------------------------


def _change_phrase(current, previous, previous_label: str) -> str:
    if not previous or current is None:
        return ""
    change = 100 * (current - previous) / previous
    if abs(change) < 0.5:
        return f", level with {previous_label}"
    return f", {'up' if change > 0 else 'down'} {abs(change):.0f}% on {previous_label}"


def chart_referrals_by_month(result: ReferralAnalysis, charts_dir: Path, synthetic: bool) -> Path:
    year, table = result.year, numeric_or_nan(result.by_month.drop(index=TOTAL))
    current = table[year.label]
    months = list(year_months(year))
    peak = months[int(np.nanargmax(current.to_numpy()))] if current.notna().any() else None
    total = result.volumes["referrals"]
    title = f"{total:,} referrals in {year}{_change_phrase(total, result.volumes['referrals_previous'], str(year.previous))}"
    if peak is not None:
        title += f"; busiest month {peak:%B %Y}"
    fig, ax = charts.new_chart(title, "Month", "Referrals")
    x = np.arange(12)
    ax.bar(x, current.to_numpy(dtype=float), color=charts.PALETTE[0], label=str(year))
    if table[year.previous.label].notna().any() and result.volumes["referrals_previous"]:
        ax.plot(
            x,
            table[year.previous.label].to_numpy(dtype=float),
            color=charts.PALETTE[3],
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
    return charts.save_chart(
        fig,
        charts_dir,
        "referrals_by_month",
        title=title,
        alt=alt,
        source=result.sources["referrals"],
        heading=6,
        synthetic=synthetic,
    )


def chart_unknown_source_share(result: ReferralAnalysis, charts_dir: Path, synthetic: bool) -> Path:
    year, spike, threshold = result.year, result.unknown_spike, result.threshold
    profile = spike.profile[spike.profile["total"] > 0]
    # Beside a published month total, the share of a small count would reveal it: such months
    # are drawn as the range of shares 1..threshold referrals would give, which "c" already tells.
    small = profile["count"].map(lambda n: is_small(int(n), threshold)).astype(bool)
    if spike.months:
        title = f"Unknown-source referrals spiked in {describe_months(spike.months)}"
        title += " and were back to usual by year end" if spike.resolved == "yes" else " and stayed high"
    else:
        title = f"Unknown-source referrals stayed within their usual share in {year}"
    fig, ax = charts.new_chart(title, "Month", "Share of referrals with source Unknown (%)")
    x = pd.Series([m.to_timestamp() for m in profile.index], index=profile.index)
    usual, upper = profile["usual_share_pct"].iloc[0], profile["upper_pct"].iloc[0]
    ax.axhspan(0, upper, color=charts.MUTED, alpha=0.35, label=f"Usual range (robust z below {result.z_threshold:g})")
    ax.axhline(usual, color=charts.PALETTE[4], linewidth=1, linestyle="--", label=f"Usual share {usual:.1f}%")
    shown = profile[~small]
    ax.scatter(x[~small], shown["share_pct"], color=charts.PALETTE[0], s=18, zorder=3, label="Monthly share")
    if small.any():
        totals = profile.loc[small, "total"].astype(float)
        ax.vlines(
            x[small],
            100 / totals,
            100 * threshold / totals,
            color=charts.PALETTE[0],
            alpha=0.45,
            linewidth=3,
            label=f"Month with 1 to {threshold} (range of share)",
        )
    flagged = profile["anomalous"]
    ax.scatter(
        x[flagged], profile.loc[flagged, "share_pct"], color=charts.HIGHLIGHT, zorder=4, s=45, label="Anomalous month"
    )
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
    return charts.save_chart(
        fig,
        charts_dir,
        "unknown_source_share",
        title=title,
        alt=alt,
        source=result.sources["referrals"],
        heading=6,
        synthetic=synthetic,
    )


def _month_axis_with_marker(ax, months: list, when, label: str) -> bool:
    """Month names on the x axis and a dashed line before the month a rule changed; False if outside."""
    ax.set_xticks(range(len(months)), [m.strftime("%b") for m in months])
    position = next((i for i, m in enumerate(months) if m.end_time >= pd.Timestamp(when)), None)
    if position is not None:
        ax.axvline(position - 0.5, color=charts.HIGHLIGHT, linestyle="--", label=label)
    return position is not None


def chart_dara_compliance(result: ReferralAnalysis, charts_dir: Path, synthetic: bool) -> Path:
    year, dara = result.year, result.dara
    when = dara["correction_date"]
    before, after = dara["before_pct"], dara["after_pct"]
    if before is not None and after is not None:
        direction = "up" if after > before else "down" if after < before else "unchanged"
        title = (
            f"DARA forms went with {after:.0f}% of police domestic-abuse referrals after the "
            f"{when:%-d %B %Y} correction, {direction} from {before:.0f}%"
        )
    else:
        title = f"DARA forms with police domestic-abuse referrals in {year}"
    fig, ax = charts.new_chart(title, "Month", "Referrals with a DARA form (%)")
    pct = dara["monthly_pct"]
    months = list(year_months(year))
    colours = [charts.PALETTE[1] if m.to_timestamp() >= pd.Timestamp(when) else charts.PALETTE[0] for m in months]
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
    return charts.save_chart(
        fig,
        charts_dir,
        "dara_compliance",
        title=title,
        alt=alt,
        source=result.sources["police"],
        heading=6,
        synthetic=synthetic,
    )


def chart_referral_outcomes(result: ReferralAnalysis, charts_dir: Path, synthetic: bool) -> Path:
    year, nfa = result.year, result.nfa
    when = nfa["changeover_date"]
    monthly = nfa["monthly_recorded"]
    totals = monthly.sum(axis=1)
    shares = 100 * monthly.div(totals.where(totals > 0), axis=0)
    shares = shares.where(~monthly.apply(lambda s: s.map(lambda n: is_small(int(n), result.threshold))))
    if nfa["nfa_before"] and not nfa["nfa_after"]:
        title = f"'No further action' gave way to 'Advice and information' from {when:%B %Y}"
    elif nfa["nfa_after"]:
        title = f"Some referrals were still recorded as 'No further action' after {when:%B %Y}"
    else:
        title = f"Referral outcomes as recorded in {year}"
    fig, ax = charts.new_chart(title, "Month", "Share of the month's referrals (%)")
    labels = _labels("referral_outcome")
    for i, code in enumerate([c for c in labels if c in shares.columns]):
        ax.plot(
            range(12),
            shares[code].to_numpy(dtype=float),
            marker="o",
            markersize=3,
            color=charts.PALETTE[i % len(charts.PALETTE)],
            label=labels[code],
        )
    months = list(year_months(year))
    _month_axis_with_marker(ax, months, when, f"Changeover {when:%-d %b %Y}")
    ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    alt = (
        f"Line chart of referral outcomes as recorded by the MASH, as a share of each month's referrals "
        f"in {year}, with the {when:%-d %B %Y} changeover marked. Referrals recorded as no further action "
        f"before the changeover: {SUPPRESSED if is_small(nfa['nfa_before'], result.threshold) else nfa['nfa_before']}; "
        f"recorded as advice and information after it: "
        f"{SUPPRESSED if is_small(nfa['advice_info_after'], result.threshold) else nfa['advice_info_after']}. "
        f"Shares resting on 1 to {result.threshold} referrals are not plotted."
    )
    return charts.save_chart(
        fig,
        charts_dir,
        "referral_outcomes",
        title=title,
        alt=alt,
        source=result.sources["referrals"],
        heading=6,
        synthetic=synthetic,
    )


def chart_referrals_by_category(result: ReferralAnalysis, charts_dir: Path, synthetic: bool) -> Path:
    year, cat = result.year, result.categories
    labels = _labels("abuse_category")
    share, comparator = cat["sexual_share_pct"], cat["comparator_pct"]
    if share is None:
        title = f"No referrals in {year} had an abuse category recorded"
    else:
        relation = "below" if share < comparator else "above" if share > comparator else "at"
        title = f"Sexual abuse was {share:.1f}% of categorised referrals in {year}, {relation} the {comparator:g}% comparator"
    fig, ax = charts.new_chart(title, "Share of categorised referrals (%)", "Abuse category")
    codes = list(labels)
    y = np.arange(len(codes))
    for offset, (label, colour) in zip(
        (0.2, -0.2), ((year.previous.label, charts.PALETTE[4]), (year.label, charts.PALETTE[0]))
    ):
        counts, shares = cat["counts"][label], cat["shares"][label]
        # Shares of small counts would reveal them next to the published total: not plotted.
        visible = [
            np.nan if is_small(int(counts.get(c, 0)), result.threshold) else float(shares.get(c, 0)) for c in codes
        ]
        ax.barh(y + offset, visible, height=0.4, color=colour, label=label)
    ax.axvline(comparator, color=charts.HIGHLIGHT, linestyle="--", label=f"Sexual abuse comparator {comparator:g}%")
    ax.set_yticks(y, [labels[c] for c in codes])
    ax.invert_yaxis()
    ax.grid(axis="x", color="#E5E5E5")
    ax.legend(frameon=False, fontsize=8)
    current = cat["shares"][year.label]
    alt = (
        f"Horizontal bar chart of referrals by abuse category as a share of categorised referrals, "
        f"{year.previous} and {year}. In {year}: "
        + "; ".join(
            f"{labels[c]} {'not shown' if is_small(int(cat['counts'][year.label].get(c, 0)), result.threshold) else f'{current.get(c, 0):.1f}%'}"
            for c in codes
        )
        + f". The comparator for sexual abuse is {comparator:g}%."
    )
    return charts.save_chart(
        fig,
        charts_dir,
        "referrals_by_category",
        title=title,
        alt=alt,
        source=result.sources["referrals"],
        heading=4,
        synthetic=synthetic,
    )


def save_charts(result: ReferralAnalysis, charts_dir: Path, synthetic: bool) -> dict[str, Path]:
    """Every analyse_referrals chart of the catalogue, written with title, alt text and source."""
    return {
        "referrals_by_category": chart_referrals_by_category(result, charts_dir, synthetic),
        "referrals_by_month": chart_referrals_by_month(result, charts_dir, synthetic),
        "unknown_source_share": chart_unknown_source_share(result, charts_dir, synthetic),
        "dara_compliance": chart_dara_compliance(result, charts_dir, synthetic),
        "referral_outcomes": chart_referral_outcomes(result, charts_dir, synthetic),
    }
