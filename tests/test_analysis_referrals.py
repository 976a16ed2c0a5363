"""Referrals analysis (headings 4 and 6): every figure against a plain pandas count of a fixture."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest

from sscp_lib.analysis import referrals as ra
from sscp_lib.catalogue import load_catalogue
from sscp_lib.config import ReportingYear, load_config
from sscp_lib.contract import load_contract
from sscp_lib.disclosure import recoverable_cells
from sscp_lib.errors import UserError
from sscp_lib.metrics import MetricStore
from sscp_lib.publishing.charts import referrals as drawing
from sscp_lib.stages import StageContext
from sscp_lib.stages import analyse_referrals as stage
from sscp_lib.stages.loading import load_validated

YEAR = ReportingYear.parse("2023-24")
CONFIG = load_config()
THRESHOLD = CONFIG.suppression_threshold
Z = CONFIG["analysis"]["anomaly_z_threshold"]
MIN_COUNT = CONFIG["analysis"]["anomaly_min_count"]

# ---------------------------------------------------------------------------------------------
# Fixture frames with exactly the processed schema
# ---------------------------------------------------------------------------------------------
CONTRACT = load_contract()
SOURCE_GROUP = CONTRACT.code_lists["referral_source"].group_of()
# Source codes and their usual shares; "10" is Unknown.
SOURCES = {"6": 0.28, "2A": 0.22, "3A": 0.12, "3E": 0.06, "5A": 0.1, "1B": 0.1, "4": 0.04, "8": 0.065, "10": 0.015}
CATEGORIES = {"NEG": 0.45, "EMO": 0.25, "PHY": 0.22, "SAB": 0.04, "MUL": 0.04}
OUTCOMES = {"ASSESSMENT": 0.5, "S47": 0.1, "EARLY_HELP": 0.15, "NFA": 0.25}


def reporting_year_of(dates: pd.Series) -> pd.Series:
    start = np.where(dates.dt.month >= 4, dates.dt.year, dates.dt.year - 1)
    return pd.Series([f"{y}-{(y + 1) % 100:02d}" for y in start], index=dates.index)


def _finish(df: pd.DataFrame, dataset: str) -> pd.DataFrame:
    schema = CONTRACT.processed_schema(dataset)
    return df.reindex(columns=list(schema)).astype(schema)  # optional columns the test does not make are empty


def referrals_frame(records) -> pd.DataFrame:
    """Referrals from records with referral_date and, optionally, the source, the outcome as the
    MASH recorded it (`recorded_outcome`), abuse_category; the clean stage's derived columns added."""
    df = pd.DataFrame(records)
    n = len(df)
    df["referral_date"] = pd.to_datetime(df["referral_date"])
    df["referral_pid"] = [f"R{i:06d}" for i in range(n)]
    df["child_pid"] = df.get("child_pid", pd.Series([f"C{i:06d}" for i in range(n)]))
    df["referral_source"] = df.get("referral_source", pd.Series(["6"] * n))
    recorded = df.get("recorded_outcome", pd.Series(["ASSESSMENT"] * n))
    # The clean stage's rule: NFA recorded from the changeover date becomes ADVICE_INFO.
    recoded = (recorded == "NFA") & (df["referral_date"] >= pd.Timestamp("2023-09-01"))
    df["referral_outcome_original"] = recorded
    df["referral_outcome"] = recorded.mask(recoded, "ADVICE_INFO")
    df["referral_outcome_retired"] = df["referral_outcome"] == "NFA"
    df["abuse_category"] = df.get("abuse_category", pd.Series([None] * n))
    df["abuse_category_retired"] = df["abuse_category"] == "MUL"
    df["domestic_abuse"] = df.get("domestic_abuse", pd.Series([False] * n))
    df["referral_source_group"] = df["referral_source"].map(SOURCE_GROUP)
    df["reporting_year"] = reporting_year_of(df["referral_date"])
    return _finish(df, "referrals")


def contacts_frame(records) -> pd.DataFrame:
    df = pd.DataFrame(records)
    df["contact_date"] = pd.to_datetime(df["contact_date"])
    df["contact_pid"] = [f"K{i:06d}" for i in range(len(df))]
    df["child_pid"] = [f"C{i:06d}" for i in range(len(df))]
    df["contact_source"] = df.get("contact_source", pd.Series(["6"] * len(df)))
    df["contact_source_group"] = df["contact_source"].map(SOURCE_GROUP)
    df["reporting_year"] = reporting_year_of(df["contact_date"])
    return _finish(df, "mash_contacts")


def police_frame(records) -> pd.DataFrame:
    df = pd.DataFrame(records)
    df["referral_date"] = pd.to_datetime(df["referral_date"])
    df["police_referral_pid"] = [f"P{i:06d}" for i in range(len(df))]
    df["child_pid"] = [f"C{i:06d}" for i in range(len(df))]
    df["risk_level"] = "MEDIUM"
    df["reporting_year"] = reporting_year_of(df["referral_date"])
    return _finish(df, "police_referrals")


def plans_frame(records) -> pd.DataFrame:
    df = pd.DataFrame(records)
    df["cp_plan_start_date"] = pd.to_datetime(df["cp_plan_start_date"])
    df["cp_plan_end_date"] = pd.to_datetime(df.get("cp_plan_end_date", pd.Series([None] * len(df))))
    df["cp_plan_pid"] = [f"CP{i:06d}" for i in range(len(df))]
    df["child_pid"] = df.get("child_pid", pd.Series([f"C{i:06d}" for i in range(len(df))]))
    df["latest_category"] = df["initial_category"]
    df["initial_category_retired"] = df["initial_category"] == "MUL"
    df["latest_category_retired"] = df["latest_category"] == "MUL"
    df["reporting_year"] = reporting_year_of(df["cp_plan_start_date"])
    return _finish(df, "cp_plans")


def _draw(rng, options: dict, size: int) -> np.ndarray:
    keys = list(options)
    p = np.array(list(options.values()), dtype=float)
    return rng.choice(keys, size=size, p=p / p.sum()).astype(object)


def _days_in(rng, months: pd.PeriodIndex, per_month, extra: dict | None = None) -> pd.Series:
    """Random dates: Poisson(per_month) in each month (plus `extra` rows in named months)."""
    days = []
    for month in months:
        n = rng.poisson(per_month) + (extra or {}).get(_month_key(month), 0)
        days.append(month.start_time + pd.to_timedelta(rng.integers(0, month.days_in_month, n), unit="D"))
    return pd.Series(np.concatenate(days)) if days else pd.Series([], dtype="datetime64[ns]")


MONTHS = pd.period_range("2021-04", "2024-03", freq="M")


def make_referrals(
    seed: int = 1, spike_months=("2023-10", "2023-11"), spike_extra: int = 30, per_month: int = 200
) -> pd.DataFrame:
    """Three years of noisy referrals (like the sample: ~1.5% Unknown source); `spike_extra`
    Unknown-source referrals are added in each spike month."""
    rng = np.random.default_rng(seed)
    dates = _days_in(rng, MONTHS, per_month)
    sources = _draw(rng, SOURCES, len(dates))
    spike = _days_in(rng, pd.PeriodIndex(list(spike_months), freq="M"), 0, {m: spike_extra for m in spike_months})
    dates = pd.concat([dates, spike], ignore_index=True)
    sources = np.concatenate([sources, np.array(["10"] * len(spike), dtype=object)])
    n = len(dates)
    outcome = _draw(rng, OUTCOMES, n)
    outcome[(outcome == "NFA") & (dates >= pd.Timestamp("2023-09-01")).to_numpy()] = "ADVICE_INFO"
    category = _draw(rng, CATEGORIES, n)
    category[(category == "MUL") & (dates >= pd.Timestamp("2023-04-01")).to_numpy()] = "NEG"
    category[rng.random(n) < 0.4] = None
    return referrals_frame(
        pd.DataFrame(
            {
                "referral_date": dates,
                "referral_source": sources,
                "recorded_outcome": outcome,
                "abuse_category": category,
                "domestic_abuse": rng.random(n) < 0.3,
            }
        )
    )


def make_world(seed: int = 1, **referral_options) -> dict[str, pd.DataFrame]:
    """Referrals plus contacts, police referrals and plans for April 2021 to March 2024."""
    rng = np.random.default_rng(seed + 1000)
    contact_dates = _days_in(rng, MONTHS, 500)
    outcome = _draw(rng, {"REFERRAL": 0.4, "EARLY_HELP": 0.25, "ADVICE_INFO": 0.25, "CLOSED": 0.1}, len(contact_dates))
    outcome[rng.random(len(contact_dates)) < 0.05] = None
    police_dates = _days_in(rng, MONTHS, 60)
    rate = np.where(police_dates >= pd.Timestamp("2023-12-18"), 0.9, 0.4)
    plan_starts = _days_in(rng, MONTHS, 20)
    plan_ends = plan_starts + pd.to_timedelta(rng.integers(30, 600, len(plan_starts)), unit="D")
    plan_category = _draw(rng, CATEGORIES, len(plan_starts))
    plan_category[(plan_category == "MUL") & (plan_starts >= pd.Timestamp("2023-04-01")).to_numpy()] = "EMO"
    return {
        "referrals": make_referrals(seed, **referral_options),
        "mash_contacts": contacts_frame(pd.DataFrame({"contact_date": contact_dates, "contact_outcome": outcome})),
        "police_referrals": police_frame(
            pd.DataFrame(
                {
                    "referral_date": police_dates,
                    "domestic_abuse": rng.random(len(police_dates)) < 0.6,
                    "dara_submitted": rng.random(len(police_dates)) < rate,
                }
            )
        ),
        "cp_plans": plans_frame(
            pd.DataFrame(
                {
                    "cp_plan_start_date": plan_starts,
                    "cp_plan_end_date": plan_ends.where(plan_ends <= pd.Timestamp("2024-03-31")),
                    "initial_category": plan_category,
                    "child_pid": [f"C{i:06d}" for i in range(len(plan_starts))],
                }
            )
        ),
    }


def _month_key(month: pd.Period) -> str:
    return month.strftime("%Y-%m")


@pytest.fixture(scope="module")
def world():
    return make_world()


@pytest.fixture(scope="module")
def result(world):
    return ra.analyse(world, YEAR, CONFIG)


def in_year(frame, date_column, start="2023-04-01", end="2024-03-31"):
    d = frame[date_column]
    return frame[(d >= pd.Timestamp(start)) & (d <= pd.Timestamp(end))]


def published(value):
    return "c" if 0 < value <= THRESHOLD else value


# ---------------------------------------------------------------------------------------------
# Volumes and published breakdowns
# ---------------------------------------------------------------------------------------------


def test_volumes_match_plain_counts(world, result):
    contacts = in_year(world["mash_contacts"], "contact_date")
    contacts_before = in_year(world["mash_contacts"], "contact_date", "2022-04-01", "2023-03-31")
    recorded = contacts["contact_outcome"].dropna()
    assert result.volumes.contacts == len(contacts)
    assert result.volumes.contacts_previous == len(contacts_before)
    assert result.volumes.referrals == len(in_year(world["referrals"], "referral_date"))
    assert result.volumes.referrals_previous == len(
        in_year(world["referrals"], "referral_date", "2022-04-01", "2023-03-31")
    )
    assert result.volumes.conversion_pct == pytest.approx(round(100 * (recorded == "REFERRAL").mean(), 1))


def test_conversion_ignores_contacts_without_outcome():
    contacts = contacts_frame(
        [
            {"contact_date": "2023-05-01", "contact_outcome": "REFERRAL"},
            {"contact_date": "2023-05-02", "contact_outcome": "CLOSED"},
            {"contact_date": "2023-05-03", "contact_outcome": "EARLY_HELP"},
            {"contact_date": "2023-05-04", "contact_outcome": "REFERRAL"},
            {"contact_date": "2023-05-05", "contact_outcome": None},
        ]
    )
    assert ra.contact_conversion_pct(contacts) == 50.0
    assert ra.contact_conversion_pct(contacts.iloc[[4]]) is None


def test_referrals_by_month_counts_each_month(world, result):
    referrals = in_year(world["referrals"], "referral_date")
    expected = referrals.groupby(referrals["referral_date"].dt.strftime("%b")).size()
    table = result.by_month
    assert list(table.index) == [
        "Apr",
        "May",
        "Jun",
        "Jul",
        "Aug",
        "Sep",
        "Oct",
        "Nov",
        "Dec",
        "Jan",
        "Feb",
        "Mar",
        "Total",
    ]
    for month, n in expected.items():
        assert table.loc[month, "2023-24"] == published(n)
    assert table.loc["Total", "2023-24"] == len(referrals)


def test_referrals_by_source_agency_and_outcome(world, result):
    referrals = in_year(world["referrals"], "referral_date")
    labels = load_contract().code_lists["source_agency"].codes
    by_group = referrals["referral_source"].map(SOURCE_GROUP).value_counts()
    for group, n in by_group.items():
        assert result.by_source_agency.loc[labels[group], "2023-24"] == published(n)
    outcomes = referrals["referral_outcome"].value_counts()
    outcome_labels = load_contract().code_lists["referral_outcome"].codes
    for code, n in outcomes.items():
        assert result.by_outcome.loc[outcome_labels[code], "2023-24"] == published(n)
    assert "Further action (Annex A 'Referral NFA?' = No)" not in result.by_outcome.index  # unused code


def test_small_cell_and_a_second_cell_are_suppressed():
    # 40 police, 30 school, 3 housing, 8 health referrals this year: housing (3) is small and the
    # next smallest (health, 8) must go too, or 3 = total - the rest.
    records = (
        [{"referral_date": "2023-06-01", "referral_source": "6"}] * 40
        + [{"referral_date": "2023-06-01", "referral_source": "2A"}] * 30
        + [{"referral_date": "2023-07-01", "referral_source": "4"}] * 3
        + [{"referral_date": "2023-08-01", "referral_source": "3A"}] * 8
        + [{"referral_date": "2022-08-01", "referral_source": "6"}] * 50
    )
    table = ra.referrals_by_source_agency(referrals_frame(records), YEAR, THRESHOLD)
    assert table.loc["Housing", "2023-24"] == "c"
    assert table.loc["Health", "2023-24"] == "c"
    assert table.loc["Police", "2023-24"] == 40
    assert table.loc["Unknown", "2023-24"] == 0  # zero is not disclosive
    assert table.loc["Total", "2023-24"] == 81
    column = table["2023-24"].drop("Total")
    assert (column == "c").sum() == 2
    assert not any(isinstance(v, int) and 0 < v <= THRESHOLD for v in column)


# ---------------------------------------------------------------------------------------------
# Anomalies: the Unknown spike is found and named; noise is not flagged
# ---------------------------------------------------------------------------------------------


def test_unknown_spike_found_and_named(result):
    spike = result.unknown_spike
    assert spike.months == ["2023-10", "2023-11"]
    assert spike.resolved is True
    assert ra.describe_months(spike.months) == "October and November 2023"
    flagged = result.anomalies[result.anomalies["category"] == "Unknown"]
    assert list(flagged["month"]) == ["2023-10", "2023-11"]
    assert (flagged["z"] >= Z).all()


def test_unknown_shares_match_plain_computation(world, result):
    referrals = in_year(world["referrals"], "referral_date")
    month = referrals["referral_date"].dt.strftime("%Y-%m")
    unknown = referrals["referral_source"] == "10"
    spike = month.isin(["2023-10", "2023-11"])
    assert result.unknown_spike.share_spike_pct == pytest.approx(round(100 * unknown[spike].mean(), 1))
    assert result.unknown_spike.share_other_pct == pytest.approx(round(100 * unknown[~spike].mean(), 1))


@pytest.mark.parametrize("seed", [2, 3, 4, 5])
def test_noisy_months_are_not_flagged(seed):
    referrals = make_referrals(seed=seed, spike_months=())
    found = ra.referral_anomalies(referrals, YEAR, Z, MIN_COUNT)
    assert found.empty, found
    spike = ra.unknown_source_spike(referrals, YEAR, Z, MIN_COUNT)
    assert spike.months == [] and spike.resolved is True


def test_nfa_renaming_is_not_an_outcome_anomaly():
    referrals = make_referrals(seed=7, spike_months=())
    # Taken literally, Advice and information jumps from nothing at the changeover ...
    literal = ra.detect_share_anomalies(referrals, "referral_date", "referral_outcome", YEAR, Z, MIN_COUNT)
    assert set(literal["category"]) == {"ADVICE_INFO"}
    # ... but counted with NFA it is the same outcome under a new name, and nothing is flagged.
    assert ra.referral_anomalies(referrals, YEAR, Z, MIN_COUNT).empty


def test_spike_still_running_at_year_end_is_not_resolved():
    referrals = make_referrals(seed=6, spike_months=("2024-02", "2024-03"))
    spike = ra.unknown_source_spike(referrals, YEAR, Z, MIN_COUNT)
    assert spike.months == ["2024-02", "2024-03"]
    assert spike.resolved is False
    assert ra.describe_months(["2023-12", "2024-01"]) == "December 2023 and January 2024"


def test_robust_z_uses_median_and_mad():
    reference = pd.Series([0.10, 0.11, 0.09, 0.10, 0.12, 0.08, 0.10])
    median = 0.10
    mad = float(np.median(np.abs(reference - median)))
    z = ra.robust_z(pd.Series([0.30]), reference)
    assert z.iloc[0] == pytest.approx(0.6745 * (0.30 - median) / mad)
    # A flat history: no spread at all, so a departure is infinitely unusual and equality is 0.
    flat = ra.robust_z(pd.Series([0.1, 0.2]), pd.Series([0.1] * 10))
    assert flat.iloc[0] == 0 and flat.iloc[1] == np.inf


def test_small_counts_are_never_flagged_however_unusual():
    # 100 police referrals a month; one month has 6 unknown (share far above a zero history).
    records = [
        {"referral_date": str(m.start_time.date()), "referral_source": "6"}
        for m in pd.period_range("2021-04", "2024-03", freq="M")
        for _ in range(100)
    ]
    records += [{"referral_date": "2023-10-05", "referral_source": "10"}] * 6
    found = ra.detect_share_anomalies(
        referrals_frame(records), "referral_date", "referral_source_group", YEAR, Z, MIN_COUNT
    )
    assert found.empty


# ---------------------------------------------------------------------------------------------
# Heading 4: abuse categories and child protection
# ---------------------------------------------------------------------------------------------


def test_abuse_categories_and_sexual_abuse_share(world, result):
    referrals = in_year(world["referrals"], "referral_date")
    categorised = referrals["abuse_category"].dropna()
    share = round(100 * (categorised == "SAB").mean(), 1)
    cat = result.categories
    assert cat.with_category == len(categorised)
    assert cat.sexual_share_pct == pytest.approx(share)
    assert cat.comparator_pct == pytest.approx(100 * CONFIG["analysis"]["sexual_abuse_comparator_share"])
    assert cat.below_comparator == (share < cat.comparator_pct)
    assert cat.table.loc["Sexual abuse", "2023-24"] == published((categorised == "SAB").sum())
    assert cat.table.loc["Total", "2023-24"] == len(categorised)


def test_sexual_abuse_above_comparator_says_no():
    records = (
        [{"referral_date": "2023-05-01", "abuse_category": "SAB"}] * 10
        + [{"referral_date": "2023-05-01", "abuse_category": "NEG"}] * 90
        + [{"referral_date": "2023-05-01", "abuse_category": None}] * 50
    )
    cat = ra.abuse_categories(referrals_frame(records), YEAR, 0.05, THRESHOLD)
    assert cat.with_category == 100
    assert cat.sexual_share_pct == 10.0
    assert cat.below_comparator is False
    assert cat.sexual_share_pct_previous is None


def test_plans_open_at_31_march_edges():
    plans = plans_frame(
        [
            {
                "cp_plan_start_date": "2023-06-01",
                "cp_plan_end_date": "2024-03-31",
                "initial_category": "NEG",
            },  # ended on the day
            {"cp_plan_start_date": "2023-06-01", "cp_plan_end_date": "2024-04-01", "initial_category": "NEG"},  # open
            {"cp_plan_start_date": "2022-01-10", "cp_plan_end_date": None, "initial_category": "EMO"},  # open
            {
                "cp_plan_start_date": "2024-03-31",
                "cp_plan_end_date": None,
                "initial_category": "PHY",
            },  # started on the day
            {"cp_plan_start_date": "2024-04-01", "cp_plan_end_date": None, "initial_category": "PHY"},  # next year
            {
                "cp_plan_start_date": "2022-05-01",
                "cp_plan_end_date": "2023-02-01",
                "initial_category": "SAB",
            },  # ended earlier
        ]
    )
    open_plans = ra.plans_open_at(plans, date(2024, 3, 31))
    assert sorted(open_plans["cp_plan_pid"]) == ["CP000001", "CP000002", "CP000003"]
    cp = ra.child_protection(plans, YEAR, 10_000, THRESHOLD)
    assert cp.open == 3 and cp.starts == 3
    assert cp.rate_per_10k == 3.0
    assert cp.open_previous == 1  # at 31 March 2023 only the January 2022 plan was running
    assert cp.starts_previous == 1  # May 2022


def test_child_protection_matches_plain_counts(world, result):
    plans = world["cp_plans"]
    start, end = plans["cp_plan_start_date"], plans["cp_plan_end_date"]
    year_end = pd.Timestamp("2024-03-31")
    open_mask = (start <= year_end) & (end.isna() | (end > year_end))
    started = in_year(plans, "cp_plan_start_date")
    cp = result.child_protection
    assert cp.starts == len(started)
    assert cp.open == int(open_mask.sum())
    assert cp.rate_per_10k == pytest.approx(
        round(plans.loc[open_mask, "child_pid"].nunique() / CONFIG.child_population * 10_000, 1)
    )
    by_cat = cp.by_category
    assert by_cat.loc["Total", "Started in 2023-24"] == len(started)
    assert by_cat.loc["Neglect", "Started in 2023-24"] == published((started["initial_category"] == "NEG").sum())
    assert by_cat.loc["Neglect", "Open at 31 March 2024"] == published(
        (plans.loc[open_mask, "initial_category"] == "NEG").sum()
    )


def test_rate_counts_children_once():
    plans = plans_frame(
        [
            {"cp_plan_start_date": "2023-06-01", "initial_category": "NEG", "child_pid": "A"},
            {"cp_plan_start_date": "2023-07-01", "initial_category": "EMO", "child_pid": "A"},
            {"cp_plan_start_date": "2023-08-01", "initial_category": "EMO", "child_pid": "B"},
        ]
    )
    cp = ra.child_protection(plans, YEAR, 20_000, THRESHOLD)
    assert cp.open == 3
    assert cp.rate_per_10k == 1.0
    assert cp.open_previous is None  # no earlier plans in the data: nothing to compare


def test_retired_multiple_category():
    plans = plans_frame(
        [
            {"cp_plan_start_date": "2022-11-03", "initial_category": "MUL"},
            {"cp_plan_start_date": "2023-04-20", "initial_category": "MUL"},
            {"cp_plan_start_date": "2023-05-20", "initial_category": "NEG"},
            {"cp_plan_start_date": "2021-05-20", "initial_category": "MUL"},
        ]
    )
    found = ra.retired_multiple_category(plans, YEAR)
    assert found == ra.MultipleCategory(last_used=date(2023, 4, 20), starts_in_year=1)
    none = ra.retired_multiple_category(plans.iloc[[2]], YEAR)
    assert none == ra.MultipleCategory(last_used=None, starts_in_year=0)


# ---------------------------------------------------------------------------------------------
# DARA and NFA changeover
# ---------------------------------------------------------------------------------------------


def test_dara_before_and_after_correction():
    records = (
        [{"referral_date": "2023-11-10", "domestic_abuse": True, "dara_submitted": s} for s in [True] * 4 + [False] * 6]
        + [{"referral_date": "2023-12-18", "domestic_abuse": True, "dara_submitted": True}]  # on the date: after
        + [{"referral_date": "2024-01-10", "domestic_abuse": True, "dara_submitted": s} for s in [True] * 8 + [False]]
        + [{"referral_date": "2024-01-11", "domestic_abuse": False, "dara_submitted": False}] * 5
        + [{"referral_date": "2023-01-11", "domestic_abuse": True, "dara_submitted": False}] * 5
    )
    dara = ra.dara_compliance(police_frame(records), YEAR, date(2023, 12, 18), THRESHOLD)
    assert dara.da_referrals == 20
    assert dara.before_pct == 40.0
    assert dara.after_pct == 90.0
    table = dara.by_month
    assert table.loc["Nov 2023", "Domestic-abuse referrals"] == 10
    assert table.loc["Nov 2023", "DARA submitted"] == "c"  # 4 is small
    assert table.loc["Nov 2023", "DARA submitted %"] == ""  # its percentage would reveal it
    assert table.loc["Total", "DARA submitted"] == 13
    submitted = table["DARA submitted"].drop("Total")
    assert (submitted == "c").sum() >= 2  # a second cell hides the first from the total


def test_dara_matches_plain_counts(world, result):
    police = in_year(world["police_referrals"], "referral_date")
    da = police[police["domestic_abuse"]]
    after = da["referral_date"] >= pd.Timestamp("2023-12-18")
    assert result.dara.da_referrals == len(da)
    assert result.dara.before_pct == pytest.approx(round(100 * da.loc[~after, "dara_submitted"].mean(), 1))
    assert result.dara.after_pct == pytest.approx(round(100 * da.loc[after, "dara_submitted"].mean(), 1))
    assert result.dara.after_pct > result.dara.before_pct


def test_nfa_changeover_counts_as_recorded():
    records = (
        [{"referral_date": "2023-08-31", "recorded_outcome": "NFA"}] * 7
        + [{"referral_date": "2023-09-01", "recorded_outcome": "ADVICE_INFO"}] * 9
        + [{"referral_date": "2023-10-01", "recorded_outcome": "NFA"}] * 2
        + [{"referral_date": "2023-03-01", "recorded_outcome": "NFA"}] * 4
        + [{"referral_date": "2023-05-01", "recorded_outcome": "ASSESSMENT"}] * 20
    )
    nfa = ra.nfa_changeover(referrals_frame(records), YEAR, date(2023, 9, 1), THRESHOLD)
    assert nfa.nfa_before == 7
    assert nfa.advice_info_after == 9
    assert nfa.nfa_after == 2
    table = nfa.table
    assert table.loc["From 01 Sep 2023", "No further action"] == "c"  # 2 is small
    assert table.loc["Before 01 Sep 2023", "No further action"] == "c"  # else 9 - 7 gives it away
    assert table.loc["Total", "No further action"] == 9
    assert table.loc["From 01 Sep 2023", "Advice and information"] == 9
    assert recoverable_cells(table, col_total="Total") == set()


def test_nfa_changeover_matches_plain_counts(world, result):
    referrals = in_year(world["referrals"], "referral_date")
    after = referrals["referral_date"] >= pd.Timestamp("2023-09-01")
    original = referrals["referral_outcome_original"]
    assert result.nfa.nfa_before == int(((original == "NFA") & ~after).sum())
    assert result.nfa.advice_info_after == int(((original == "ADVICE_INFO") & after).sum())


# ---------------------------------------------------------------------------------------------
# Metrics, charts, inputs
# ---------------------------------------------------------------------------------------------


def test_metric_values_cover_the_stage_and_suppress(result, tmp_path):
    store = MetricStore(THRESHOLD).add_all(stage.metric_values(result), stage.previous_values(result))
    path = store.write(tmp_path / "analyse_referrals.json")
    written = json.loads(path.read_text())
    catalogue = load_catalogue()["metrics"]
    assert set(written) <= set(catalogue)
    assert {n for n in catalogue if n.startswith("data.") and n != "data.nfa_recoded"} <= set(written)
    for name in stage.previous_values(result):
        assert catalogue[name].get("previous") and "previous" in written[name], name
    assert written["data.unknown_source_spike_months"]["value"] == ["2023-10", "2023-11"]
    assert written["data.referrals"]["value"] == result.volumes.referrals
    assert written["data.multiple_category_plans_this_year"]["value"] == 0
    assert written["data.dara_correction_date"]["value"] == "2023-12-18"
    by_month = written["data.referrals_by_month"]["value"]
    assert by_month["columns"] == ["Month", "2022-23", "2023-24"]


def test_small_child_level_metric_published_as_c():
    store = MetricStore(THRESHOLD)
    store.add("data.multiple_category_plans_this_year", 3)
    assert store.metrics["data.multiple_category_plans_this_year"]["value"] == "c"


def test_save_charts_writes_every_catalogue_chart(result, tmp_path):
    saved = drawing.save_charts(result, tmp_path, synthetic=True)
    index = json.loads((tmp_path / "charts.json").read_text())
    assert set(index) == set(saved) and set(saved) <= set(load_catalogue()["charts"]) and len(saved) == 5
    for _name, entry in index.items():
        assert (tmp_path / entry["file"]).stat().st_size > 5_000
        assert entry["alt"] and "Synthetic" in entry["source"]
    assert index["unknown_source_share"]["title"] == (
        "Unknown-source referrals spiked in October and November 2023 and were back to usual by year end"
    )
    assert "below the 5% comparator" in index["referrals_by_category"]["title"]
    assert index["dara_compliance"]["title"].startswith(f"DARA forms went with {result.dara.after_pct:.0f}%")


def test_load_validated_checks_schema(world, tmp_path):
    ctx = StageContext.from_parameters("analyse_referrals", str(YEAR), processed_dir=tmp_path / "processed")
    folder = ctx.location("validated")
    folder.mkdir(parents=True)
    world["referrals"].to_parquet(folder / "referrals.parquet")
    loaded = load_validated(ctx, "referrals")
    pd.testing.assert_frame_equal(loaded, world["referrals"])
    world["referrals"].drop(columns="referral_outcome_original").to_parquet(folder / "referrals.parquet")
    with pytest.raises(UserError, match="referral_outcome_original"):
        load_validated(ctx, "referrals")
    with pytest.raises(UserError, match="cp_plans.parquet"):
        load_validated(ctx, "cp_plans")
