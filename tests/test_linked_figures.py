"""Every figure of the analyse_linked stage, recomputed from the RAW sample with plain pandas.

The chain's figures come from pseudonymised, cleaned and validated tables; here the raw files are
read as they came (headings named through the contract's accepted headings, codes through its
labels) and children are linked by their raw ids, as an analyst with the agencies' files would.
Published counts of children's records from 1 to the threshold show as "c"; so do shares of them.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from sscp_lib.config import load_config
from sscp_lib.contract import load_contract, normalise_header

pytestmark = pytest.mark.slow

CONTRACT = load_contract()
CONFIG = load_config()
THRESHOLD = CONFIG.suppression_threshold
RULES = CONFIG["analysis"]
START, END = pd.Timestamp("2023-04-01"), pd.Timestamp("2024-03-31")
PREVIOUS = (pd.Timestamp("2022-04-01"), pd.Timestamp("2023-03-31"))


def blank(value) -> bool:
    return value is None or value == "" or (not isinstance(value, str) and pd.isna(value))


def raw_table(raw, name: str) -> pd.DataFrame:
    """Every year's raw file of a dataset, headings as contract column names, dates parsed, codes as codes."""
    dataset = CONTRACT.dataset(name)
    lookup = dataset.header_lookup()
    frames = []
    for path in sorted(raw.glob(f"*/{dataset.file_pattern}.*")):
        if path.suffix == ".xlsx":
            frame = pd.read_excel(path, dtype=object)
        else:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        frames.append(frame.rename(columns=lambda h: lookup[normalise_header(h)]))
    table = pd.concat(frames, ignore_index=True)
    for column in dataset.columns:
        if column.name not in table:  # an optional column the files do not carry (List 3's count)
            continue
        values = table[column.name]
        if column.type == "date":
            text = pd.Series([None if blank(v) else str(v) for v in values], dtype="string")
            table[column.name] = pd.to_datetime(text, format="%d/%m/%Y", errors="coerce").fillna(
                pd.to_datetime(text.str[:10], format="%Y-%m-%d", errors="coerce")
            )
        elif column.type == "code":
            codes = CONTRACT.codes_for(column)
            spellings = {**{c.lower(): c for c in codes.codes}, **{v.lower(): c for c, v in codes.codes.items()}}
            table[column.name] = [None if blank(v) else spellings[str(v).lower()] for v in values]
        elif column.type == "bool":
            table[column.name] = [None if blank(v) else str(v).lower() in {"yes", "y", "true"} for v in values]
        elif column.type == "int":
            table[column.name] = pd.to_numeric(pd.Series([None if blank(v) else v for v in values], dtype=object))
        else:
            table[column.name] = [None if blank(v) else str(v) for v in values]
    return table


@pytest.fixture(scope="module")
def raw(chain_run):
    names = (
        "mash_contacts",
        "referrals",
        "cp_plans",
        "early_help",
        "suspensions_exclusions",
        "mental_health_referrals",
    )
    return {name: raw_table(chain_run.raw, name) for name in names}


@pytest.fixture(scope="module")
def metrics(chain_run):
    return json.loads((chain_run.report / "metrics.json").read_text(encoding="utf-8"))


def published(count: int):
    return "c" if 0 < count <= THRESHOLD else count


def published_share(part: int, whole: int):
    return "c" if 0 < part <= THRESHOLD else round(100 * part / whole, 1)


def between(dates: pd.Series, start, end) -> pd.Series:
    return (dates >= start) & (dates <= end)


def check(metrics: dict, expected: dict, previous: dict | None = None) -> None:
    for name, value in expected.items():
        got = metrics[name]["value"]
        if isinstance(value, float):
            assert got == pytest.approx(value, abs=0.05), name
        else:
            assert got == value, name
    for name, value in (previous or {}).items():
        assert metrics[name]["previous"] == value, name


def check_table(metrics: dict, name: str, expected: dict[str, dict[str, int]]) -> None:
    """Every published cell of a table equals the raw count (a suppressed one is a count withheld)."""
    table = metrics[name]["value"]
    rows = {row[0]: dict(zip(table["columns"][1:], row[1:])) for row in table["rows"]}
    for label, cells in expected.items():
        for column, count in cells.items():
            got = rows.get(label, {}).get(column, 0)
            assert got == count or (got == "c" and count > 0), (name, label, column, got, count)
    assert set(rows) - {"Total"} == {label for label, cells in expected.items() if any(cells.values())}


def council_children(raw: dict, besides: str) -> set:
    council = [n for n, ds in CONTRACT.datasets.items() if ds.agency == "COUNCIL" and n != besides]
    return set().union(*(set(raw[n]["child_id"].dropna()) for n in council))


def labels(code_list: str) -> dict[str, str]:
    return CONTRACT.code_lists[code_list].codes


def test_early_help_figures_from_the_raw_files(raw, metrics):
    eh, referrals = raw["early_help"], raw["referrals"]
    year = eh[between(eh["assessment_start_date"], START, END)]
    months_up, months_down = int(RULES["early_help_step_up_months"]), int(RULES["early_help_step_down_months"])
    # Step-ups: a referral of the same child after the start, within the window.
    pairs = year.reset_index().merge(referrals[["child_id", "referral_date"]], on="child_id")
    up = pairs[
        (pairs["referral_date"] > pairs["assessment_start_date"])
        & (pairs["referral_date"] <= pairs["assessment_start_date"] + pd.DateOffset(months=months_up))
    ]["index"].nunique()
    # Step-downs: the year's referrals stepped down to early help; an assessment on or after the day.
    downs = referrals[between(referrals["referral_date"], START, END) & (referrals["referral_outcome"] == "EARLY_HELP")]
    pairs = downs.reset_index().merge(eh[["child_id", "assessment_start_date"]], on="child_id")
    assessed = pairs[
        (pairs["assessment_start_date"] >= pairs["referral_date"])
        & (pairs["assessment_start_date"] <= pairs["referral_date"] + pd.DateOffset(months=months_down))
    ]["index"].nunique()
    linked = int(year["child_id"].isin(council_children(raw, "early_help")).sum())
    days = (year["assessment_completion_date"] - year["assessment_start_date"]).dt.days.dropna()
    previous = between(eh["assessment_start_date"], *PREVIOUS).sum()
    assert 0 < up < len(year) and 0 < assessed < len(downs) and 0 < linked < len(year)
    check(
        metrics,
        {
            "early_help.assessments": published(len(year)),
            "early_help.median_days_to_complete": float(days.median()),
            "early_help.recorded_step_ups": published(int((year["early_help_outcome"] == "STEPPED_UP").sum())),
            "linked.early_help_step_up_months": months_up,
            "linked.early_help_step_ups": published(up),
            "linked.early_help_step_up_pct": published_share(up, len(year)),
            "linked.step_downs": published(len(downs)),
            "linked.early_help_step_down_months": months_down,
            "linked.step_downs_assessed": published(assessed),
            "linked.step_downs_assessed_pct": published_share(assessed, len(downs)),
            "linked.early_help_linked": published(linked),
            "linked.early_help_linked_pct": published_share(linked, len(year)),
        },
        {"early_help.assessments": published(int(previous))},
    )
    agencies = year["lead_agency"].map(labels("agency")).fillna("Not recorded").value_counts()
    check_table(metrics, "early_help.by_lead_agency", {k: {"assessments": v} for k, v in agencies.items()})
    outcomes = year["early_help_outcome"].map(labels("early_help_outcome"))
    outcomes = outcomes.fillna("Open, or outcome not recorded").value_counts()
    check_table(metrics, "early_help.by_outcome", {k: {"assessments": v} for k, v in outcomes.items()})


def test_suspension_and_exclusion_figures_from_the_raw_files(raw, metrics):
    ex, plans = raw["suspensions_exclusions"], raw["cp_plans"]
    year = ex[between(ex["start_date"], START, END)]
    before = ex[between(ex["start_date"], *PREVIOUS)]
    permanent = year["exclusion_category"] == "PERM"
    on_plan = set(
        plans.loc[
            (plans["cp_plan_start_date"] <= END)
            & (plans["cp_plan_end_date"].isna() | (plans["cp_plan_end_date"] >= START)),
            "child_id",
        ]
    )
    excluded = on_plan & set(year["child_id"])
    linked = int(year["child_id"].isin(council_children(raw, "suspensions_exclusions")).sum())
    assert 0 < len(excluded) < len(on_plan) and 0 < linked < len(year)
    check(
        metrics,
        {
            "education.suspensions": published(int((~permanent).sum())),
            "education.permanent_exclusions": published(int(permanent.sum())),
            "education.pupils_suspended": published(year.loc[~permanent, "child_id"].nunique()),
            "education.sessions_missed": int(year["sessions"].sum()),
            "linked.cp_children": published(len(on_plan)),
            "linked.cp_children_excluded": published(len(excluded)),
            "linked.cp_children_excluded_pct": published_share(len(excluded), len(on_plan)),
            "linked.exclusion_records": published(len(year)),
            "linked.exclusion_records_linked": published(linked),
            "linked.exclusion_linked_pct": published_share(linked, len(year)),
        },
        {
            "education.suspensions": published(int((before["exclusion_category"] != "PERM").sum())),
            "education.permanent_exclusions": published(int((before["exclusion_category"] == "PERM").sum())),
        },
    )
    month = year["start_date"].dt.month
    term = month.map(
        lambda m: (
            "Summer term (April to July)"
            if 4 <= m <= 8
            else "Autumn term (September to December)"
            if m >= 9
            else "Spring term (January to March)"
        )
    )
    by_term = {
        name: {
            "suspensions": int(((term == name) & ~permanent).sum()),
            "permanent exclusions": int(((term == name) & permanent).sum()),
        }
        for name in term.unique()
    }
    check_table(metrics, "education.by_term", by_term)
    # Term time shows: the autumn term, with the most school days, has the most suspensions.
    assert by_term["Autumn term (September to December)"]["suspensions"] == max(
        cells["suspensions"] for cells in by_term.values()
    )
    reasons = year["exclusion_reason"].map(labels("exclusion_reason")).value_counts()
    check_table(metrics, "education.by_reason", {k: {"suspensions and exclusions": v} for k, v in reasons.items()})


def test_mental_health_figures_from_the_raw_files(raw, metrics):
    mh, referrals = raw["mental_health_referrals"], raw["referrals"]
    year = mh[between(mh["referral_date"], START, END)]
    accepted = year[year["accepted"].fillna(False).astype(bool)]
    waits = (accepted["first_appointment_date"] - accepted["referral_date"]).dt.days
    months = int(RULES["mental_health_prior_referral_months"])
    pairs = year.merge(referrals[["child_id", "referral_date"]], on="child_id", suffixes=("", "_csc"))
    after = set(
        pairs.loc[
            (pairs["referral_date_csc"] <= pairs["referral_date"])
            & (pairs["referral_date_csc"] >= pairs["referral_date"] - pd.DateOffset(months=months)),
            "child_id",
        ]
    )
    children = year["child_id"].nunique()
    linked = int(year["child_id"].isin(council_children(raw, "mental_health_referrals")).sum())
    assert 0 < len(after) < children and 0 < linked < len(year)
    # A long tail: one child seen in ten waited more than twice the median.
    assert waits.quantile(0.9) > 2 * waits.median()
    check(
        metrics,
        {
            "mental_health.referrals": published(len(year)),
            "mental_health.accepted": published(len(accepted)),
            "mental_health.accepted_pct": published_share(len(accepted), len(year)),
            "mental_health.median_wait_days": float(waits.median()),
            "mental_health.wait_90th_percentile_days": float(waits.quantile(0.9)),
            "mental_health.still_waiting": published(int(waits.isna().sum())),
            "linked.mh_children": published(children),
            "linked.mh_prior_referral_months": months,
            "linked.mh_children_after_social_care": published(len(after)),
            "linked.mh_children_after_social_care_pct": published_share(len(after), children),
            "linked.mh_records_linked": published(linked),
            "linked.mh_linked_pct": published_share(linked, len(year)),
        },
        {"mental_health.referrals": published(int(between(mh["referral_date"], *PREVIOUS).sum()))},
    )
    sources = year["referral_source"].map(labels("mh_referral_source")).value_counts()
    check_table(metrics, "mental_health.by_source", {k: {"referrals": v} for k, v in sources.items()})
    bands = pd.cut(waits, [-1, 28, 84, 126, 364, float("inf")], labels=False)
    names = ["Up to 4 weeks", "4 to 12 weeks", "12 to 18 weeks", "18 to 52 weeks", "Over 52 weeks"]
    by_wait = {name: {"accepted referrals": int((bands == i).sum())} for i, name in enumerate(names)}
    by_wait["Accepted, not yet seen"] = {"accepted referrals": int(waits.isna().sum())}
    table = metrics["mental_health.by_wait"]["value"]
    rows = {row[0]: row[1] for row in table["rows"]}
    for name, cells in by_wait.items():
        assert rows[name] == cells["accepted referrals"] or (rows[name] == "c" and cells["accepted referrals"])


def test_linkage_table_from_the_raw_files(raw, metrics):
    table = metrics["linked.linkage"]["value"]
    rows = {row[0]: dict(zip(table["columns"][1:], row[1:])) for row in table["rows"]}
    for name, date_column in (
        ("early_help", "assessment_start_date"),
        ("suspensions_exclusions", "start_date"),
        ("mental_health_referrals", "referral_date"),
    ):
        frame = raw[name]
        year = frame[between(frame[date_column], START, END)]
        linked = int(year["child_id"].isin(council_children(raw, name)).sum())
        row = rows[CONTRACT.dataset(name).description.split(" (")[0]]
        assert row["records in the year"] == published(len(year))
        assert row["linked to a council record"] == published(linked)
        assert row["linked (%)"] == published_share(linked, len(year))
