"""The partnership dataset: every indicator of sscp_lib/indicators.yaml, month by month and
quarter by quarter, with its SPC verdicts, rating and comparator.

`build_dataset(tables, year, quarter, config, comparators)` is the one entry point: pure, over
the validated tables (Contract.processed_schema columns), returning the dataset as plain JSON
values. The publishing layer writes it (sscp_lib/publishing/dataset_files.py: dataset.json and
dataset.xlsx); the dashboard renders it.

The dataset's shape (dataset.json)::

    {
      "period": "2023-24-Q3", "year": "2023-24", "quarter": 3,
      "period_end": "2023-12-31",
      "months": ["2021-04", ..., "2023-12"],          # every month held up to the quarter's end
      "quarters": ["2021-22-Q1", ..., "2023-24-Q3"],   # every quarter held up to the period
      "years": ["2021-22", "2022-23", "2023-24"],
      "themes": {"front_door": "Contacts and referrals", ...},   # in order
      "synthetic": true,                 # made from the synthetic sample
      "suppress_up_to": 5,               # counts of children's records 1..5 show as "c"
      "protective_marking": "OFFICIAL",
      "partnership": "Solihull Safeguarding Children Partnership",
      "comparators_supplied": false,
      "indicators": [{
        "id": "re_referral_pct",         # a breakdown's ids are <id>.<code>
        "label", "theme", "agency", "definition", "note" (or null),
        "unit": "count" | "percent" | "rate",
        "polarity": "higher_is_better" | "lower_is_better" | "neither",
        "measured": "over_period" | "at_period_end",
        "child_level": bool, "statement_metric": metric name or null,
        "breakdown_of": indicator id or null, "breakdown_code": code or null,
        "values":  {"2023-24-Q1": 21.4, ...},    # a number, "c" (suppressed) or null
        "monthly": {"2023-04": 20.9, ...},
        "year_to_date": {"2023-24": 21.0, ...},  # a year's value over its quarters held up to the period
        "reasons": {"2021-22-Q1": "...", "2021-04": "..."},   # why a value is null
        "latest": {"period": "2023-24-Q3", "value": ...},
        "previous_quarter": {"period": "2023-24-Q2", "value": ...} or null,
        "same_quarter_last_year": {"period": "2022-23-Q3", "value": ...} or null,
        "received": bool,                        # the latest quarter's data have arrived
        "target": {"target": 80 or null, "green": 80, "amber": 60} or null,
        "rag": {"status": "green" | "amber" | "red" | "not rated", "text": ...} or null (no thresholds),
        "variation": {"code": "improving" | "concerning" | "neither" | "common_cause" | "too_few_points"
                      | "no_data" (the latest quarter not received or not computable),
                      "direction": "higher" | "lower" | null, "text": ...},
        "assurance": {"code": "passing" | "failing" | "hit_and_miss" | "too_few_points", "text": ...}
                     or null (no target),
        "comparator": {"status": "supplied" | "not_supplied" | "not_published", "text": ...,
                       "measure": DfE measure name or null, and when supplied: "england", "region",
                       "region_name", "statistical_neighbours", "local_authority", "time_period",
                       "source"},
        "spc": {"mean", "lower", "upper", "sigma", "points": [{"month", "value", "special",
                "rules", "direction"}]} or null (fewer than two months to chart)
      }, ...]
    }

Values: a count is the period's number (quarters sum to the year for a count measured over the
period); a percent is 100 x numerator / denominator over the period, one decimal; a rate is per
10,000 children, one decimal. A quarter whose datasets hold no rows yet is null with the reason
"not yet received", never zero. Child-level counts of 1 to the threshold are "c", and so is any
month, quarter or category that subtraction from published totals would reveal (the quarter's
months and the year's quarters, a breakdown's categories and their total), and a percent whose
numerator or its complement is hidden.

The SPC chart is of the monthly series (suppressed months left out); the variation verdict is
taken from the latest special-cause point among the latest quarter's months, so a quarter's
signal is reported even when its last month has settled.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from sscp_lib.analysis import linked, spc
from sscp_lib.analysis.assurance import classify_actions, completed_by
from sscp_lib.analysis.common import flag
from sscp_lib.analysis.referrals import UNKNOWN_SOURCE_GROUP, plans_open_at
from sscp_lib.catalogue import load_indicators
from sscp_lib.config import PartnershipConfig, ReportingYear, rating
from sscp_lib.contract import load_contract
from sscp_lib.disclosure import SUPPRESSED, is_small

NOT_RECEIVED = "not yet received"
NOT_SUPPLIED = "comparator not supplied"
NOT_PUBLISHED = "DfE publishes no comparator for this indicator"
Tally = tuple[int, int | None]  # numerator (or count), denominator (None for a count)


# --------------------------------------------------------------------------------------------
# Periods
# --------------------------------------------------------------------------------------------


def quarter_key(year: ReportingYear, quarter: int) -> str:
    return f"{year.label}-Q{quarter}"


@lru_cache(maxsize=256)
def quarter_months(year: ReportingYear, quarter: int) -> pd.PeriodIndex:
    return pd.period_range(f"{year.start_year}-04", periods=12, freq="M")[3 * (quarter - 1) : 3 * quarter]


def month_key(month: pd.Period) -> str:
    return month.strftime("%Y-%m")


def _start(months: pd.PeriodIndex) -> pd.Timestamp:
    return months[0].start_time


def _end(months: pd.PeriodIndex) -> pd.Timestamp:
    """The period's last day (dates are whole days)."""
    return months[-1].end_time.normalize()


# --------------------------------------------------------------------------------------------
# Measures: one computation per indicator
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Events:
    """Rows that each fall in one month: a numerator and (for a percent) a denominator flag.

    Monthly tallies are counted once; a quarter's or year's tally is the sum of its months'."""

    dates: pd.Series
    numerator: np.ndarray
    denominator: np.ndarray | None = None

    def monthly(self, months: pd.PeriodIndex) -> tuple[np.ndarray, np.ndarray | None]:
        ordinals = self.dates.dt.to_period("M").array.asi8
        position = pd.Index(months.asi8).get_indexer(ordinals)
        keep = position >= 0
        num = np.bincount(position[keep], weights=self.numerator[keep].astype(float), minlength=len(months))
        if self.denominator is None:
            return num.astype(np.int64), None
        den = np.bincount(position[keep], weights=self.denominator[keep].astype(float), minlength=len(months))
        return num.astype(np.int64), den.astype(np.int64)


Periods = list[tuple[pd.Timestamp, pd.Timestamp]]


@dataclass(frozen=True)
class Snapshot:
    """Tallies judged for each period as a whole (e.g. as at its last day), all periods in one
    call: `tally_all([(start, end), ...])` -> one tally per period."""

    tally_all: Callable[[Periods], list[Tally]]


Measure = Events | Snapshot


def _all(frame: pd.DataFrame) -> np.ndarray:
    return np.ones(len(frame), dtype=bool)


def _flags(values) -> np.ndarray:
    """Plain booleans, missing meaning False."""
    if isinstance(values, np.ndarray) and values.dtype == bool:
        return values
    return flag(pd.Series(values)).to_numpy()


def _events(frame: pd.DataFrame, column: str, numerator=None, denominator=None) -> Events:
    return Events(
        dates=frame[column],
        numerator=_all(frame) if numerator is None else _flags(numerator),
        denominator=None if denominator is None else _flags(denominator),
    )


def re_referrals(referrals: pd.DataFrame) -> pd.Series:
    """True where the child had an earlier referral (an earlier date) in the 12 months before it."""
    rows = referrals[["child_pid", "referral_date"]].reset_index().dropna(subset=["child_pid", "referral_date"])
    rows = rows.sort_values("referral_date")
    earlier = rows[["child_pid", "referral_date"]].drop_duplicates().rename(columns={"referral_date": "earlier"})
    earlier = earlier.assign(referral_date=earlier["earlier"]).sort_values("referral_date")
    matched = pd.merge_asof(
        rows, earlier, on="referral_date", by="child_pid", allow_exact_matches=False, direction="backward"
    )
    within = matched["earlier"].notna() & (matched["earlier"] >= matched["referral_date"] - pd.DateOffset(months=12))
    return pd.Series(within.to_numpy(), index=matched["index"].to_numpy()).reindex(referrals.index, fill_value=False)


def later_plans(plans: pd.DataFrame) -> pd.Series:
    """True where the child had a plan that started before this one (in the data held)."""
    first = plans.groupby("child_pid")["cp_plan_start_date"].transform("min")
    return flag(plans["cp_plan_start_date"] > first)


def lasted_two_years(plans: pd.DataFrame) -> pd.Series:
    """True where an ended plan lasted two years or more (ended on or after its second anniversary)."""
    return flag(plans["cp_plan_end_date"] >= plans["cp_plan_start_date"] + pd.DateOffset(years=2))


def _stacked(frame: pd.DataFrame, periods: Periods) -> pd.DataFrame:
    """The frame once per period, with the period's `_start`, `_end` and position `_period`:
    the assurance module's own rules then judge every period in one call (they compare dates
    with the as-at date element by element)."""
    n = len(frame)
    stacked = pd.concat([frame] * len(periods), ignore_index=True) if periods else frame.iloc[:0]
    return stacked.assign(
        _period=np.repeat(np.arange(len(periods)), n),
        _start=np.repeat(np.array([p[0] for p in periods], dtype="datetime64[ms]"), n),
        _end=np.repeat(np.array([p[1] for p in periods], dtype="datetime64[ms]"), n),
    )


def _per_period(flags: pd.Series, stacked: pd.DataFrame, periods: Periods) -> list[int]:
    counts = np.bincount(stacked["_period"].to_numpy()[flag(flags).to_numpy()], minlength=len(periods))
    return [int(c) for c in counts]


def _audit_actions_on_time(actions: pd.DataFrame) -> Snapshot:
    """Audit actions due in the period, completed on time as at its last day (the statement's
    rule, sscp_lib.analysis.assurance.classify_actions)."""

    def tally_all(periods: Periods) -> list[Tally]:
        stacked = _stacked(actions, periods)
        due = flag((stacked["due_date"] >= stacked["_start"]) & (stacked["due_date"] <= stacked["_end"]))
        stacked = stacked[due]
        on_time = classify_actions(stacked, stacked["_end"]) == "on_time"
        return list(zip(_per_period(on_time, stacked, periods), _per_period(due[due], stacked, periods)))

    return Snapshot(tally_all)


def _plan_actions_complete(plan: pd.DataFrame) -> Snapshot:
    """IPBP actions due in the period, complete on its last day (assurance.completed_by)."""
    ipbp = plan[flag(plan["source"] == "IPBP")]

    def tally_all(periods: Periods) -> list[Tally]:
        stacked = _stacked(ipbp, periods)
        due = flag((stacked["due_date"] >= stacked["_start"]) & (stacked["due_date"] <= stacked["_end"]))
        stacked = stacked[due]
        done = completed_by(stacked, stacked["_end"])
        return list(zip(_per_period(done, stacked, periods), _per_period(due[due], stacked, periods)))

    return Snapshot(tally_all)


def _escalations_open(frame: pd.DataFrame) -> Snapshot:
    """Escalations raised by the period's last day and not resolved by it (resolved means a
    resolution date by then, or resolved with no date, as the statement counts them)."""

    def tally_all(periods: Periods) -> list[Tally]:
        stacked = _stacked(frame, periods)
        raised = flag(stacked["raised_date"] <= stacked["_end"])
        resolved = flag(stacked["resolved_date"] <= stacked["_end"]) | flag(
            stacked["resolved_date"].isna() & (stacked["status"] == "RESOLVED")
        )
        return [(n, None) for n in _per_period(raised & ~resolved, stacked, periods)]

    return Snapshot(tally_all)


def _children_on_plan(plans: pd.DataFrame) -> Snapshot:
    """Children on a plan at the end of the period's last day (referrals.plans_open_at)."""

    def tally_all(periods: Periods) -> list[Tally]:
        stacked = _stacked(plans[["child_pid", "cp_plan_start_date", "cp_plan_end_date"]], periods)
        open_plans = plans_open_at(stacked, stacked["_end"])
        children = open_plans.groupby("_period")["child_pid"].nunique()
        return [(int(children.get(i, 0)), None) for i in range(len(periods))]

    return Snapshot(tally_all)


def _period_tallies(tally: Callable[[pd.Timestamp, pd.Timestamp], Tally]) -> Snapshot:
    """A Snapshot from a tally of one period (start, end), judged period by period."""
    return Snapshot(lambda periods: [tally(start, end) for start, end in periods])


def _excluded_on_plan(exclusions: pd.DataFrame, plans: pd.DataFrame) -> Snapshot:
    """Children on a plan in the period who were suspended or excluded in it (analysis.linked)."""
    return _period_tallies(lambda start, end: linked.excluded_children_on_plan(exclusions, plans, start, end))


def _after_social_care(mental_health: pd.DataFrame, referrals: pd.DataFrame, months: int) -> Snapshot:
    """Children referred for mental health support in the period who were referred to social care
    in the months before, over the children referred in the period (analysis.linked)."""

    def tally(start: pd.Timestamp, end: pd.Timestamp) -> Tally:
        period = mental_health[flag(mental_health["referral_date"].between(start, end))]
        referred = linked.children(period)
        return len(linked.referred_after_social_care(period, referrals, months) & referred), len(referred)

    return _period_tallies(tally)


def _linked_measures(tables: Mapping[str, pd.DataFrame], config: PartnershipConfig | None) -> dict:
    """The early help, schools and mental health indicators, and those that follow a child across
    agencies, computed as sscp_lib.analysis.linked computes the statement's figures."""
    rules: dict = dict(config["analysis"]) if config is not None else {}
    eh = lambda: tables[linked.EARLY_HELP]  # noqa: E731
    ex = lambda: tables[linked.EXCLUSIONS]  # noqa: E731
    mh = lambda: tables[linked.MENTAL_HEALTH]  # noqa: E731

    def downs() -> pd.DataFrame:
        return linked.stepped_down(tables["referrals"])

    def permanent() -> pd.Series:
        return ex()["exclusion_category"] == linked.PERMANENT

    return {
        "early_help_assessments": lambda: _events(eh(), "assessment_start_date"),
        "early_help_step_up_pct": lambda: _events(
            eh(),
            "assessment_start_date",
            linked.followed_within(
                eh(),
                "assessment_start_date",
                tables["referrals"],
                "referral_date",
                int(rules["early_help_step_up_months"]),
            ),
            _all(eh()),
        ),
        "step_downs_assessed_pct": lambda: _events(
            downs(),
            "referral_date",
            linked.assessed_after(downs(), eh(), int(rules["early_help_step_down_months"])),
            _all(downs()),
        ),
        "early_help_linked_pct": lambda: _events(
            eh(), "assessment_start_date", linked.links(eh(), linked.EARLY_HELP, tables), _all(eh())
        ),
        "suspensions": lambda: _events(ex(), "start_date", ~permanent()),
        "permanent_exclusions": lambda: _events(ex(), "start_date", permanent()),
        "cp_children_excluded_pct": lambda: _excluded_on_plan(ex(), tables["cp_plans"]),
        "exclusion_linked_pct": lambda: _events(
            ex(), "start_date", linked.links(ex(), linked.EXCLUSIONS, tables), _all(ex())
        ),
        "mental_health_referrals": lambda: _events(mh(), "referral_date"),
        "mental_health_accepted_pct": lambda: _events(mh(), "referral_date", mh()["accepted"], _all(mh())),
        "mental_health_after_social_care_pct": lambda: _after_social_care(
            mh(), tables["referrals"], int(rules["mental_health_prior_referral_months"])
        ),
        "mental_health_linked_pct": lambda: _events(
            mh(), "referral_date", linked.links(mh(), linked.MENTAL_HEALTH, tables), _all(mh())
        ),
    }


def measures(
    tables: Mapping[str, pd.DataFrame], config: PartnershipConfig | None = None
) -> dict[str, Callable[[], Measure]]:
    """Each indicator id's computation (a breakdown's per code: see `breakdown_measure`), made
    lazily so that an indicator whose table is absent costs nothing."""
    contacts = lambda: tables["mash_contacts"]  # noqa: E731
    refs = lambda: tables["referrals"]  # noqa: E731
    police = lambda: tables["police_referrals"]  # noqa: E731
    plans = lambda: tables["cp_plans"]  # noqa: E731

    def da() -> pd.DataFrame:
        frame = police()
        return frame[flag(frame["domestic_abuse"])]

    def ended() -> pd.DataFrame:
        frame = plans()
        return frame[frame["cp_plan_end_date"].notna()]

    return {
        "contacts": lambda: _events(contacts(), "contact_date"),
        "contact_conversion_pct": lambda: _events(
            contacts(),
            "contact_date",
            contacts()["contact_outcome"] == "REFERRAL",
            contacts()["contact_outcome"].notna(),
        ),
        "referrals": lambda: _events(refs(), "referral_date"),
        "referral_rate": lambda: _events(refs(), "referral_date"),
        "re_referral_pct": lambda: _events(refs(), "referral_date", re_referrals(refs()), _all(refs())),
        "nfa_advice_pct": lambda: _events(
            refs(), "referral_date", refs()["referral_outcome"].isin(["NFA", "ADVICE_INFO"]), _all(refs())
        ),
        "unknown_source_pct": lambda: _events(
            refs(), "referral_date", refs()["referral_source_group"] == UNKNOWN_SOURCE_GROUP, _all(refs())
        ),
        "police_referrals": lambda: _events(police(), "referral_date"),
        "police_da_referrals": lambda: _events(da(), "referral_date"),
        "dara_submitted_pct": lambda: _events(da(), "referral_date", da()["dara_submitted"], _all(da())),
        "health_referrals": lambda: _events(tables["health_referrals"], "referral_date"),
        "cp_plans_started": lambda: _events(plans(), "cp_plan_start_date"),
        "cp_plan_rate": lambda: _children_on_plan(plans()),
        "cp_second_plan_pct": lambda: _events(plans(), "cp_plan_start_date", later_plans(plans()), _all(plans())),
        "cp_two_year_plans_pct": lambda: _events(ended(), "cp_plan_end_date", lasted_two_years(ended()), _all(ended())),
        "audit_actions_on_time_pct": lambda: _audit_actions_on_time(tables["audit_actions"]),
        "business_plan_complete_pct": lambda: _plan_actions_complete(tables["business_plan_actions"]),
        "training_attendees": lambda: _events(
            tables["training_attendance"], "course_date", tables["training_attendance"]["attended"]
        ),
        "escalations_open": lambda: _escalations_open(tables["escalations"]),
        **_linked_measures(tables, config),
    }


BREAKDOWN_DATES = {"referrals": "referral_date", "cp_plans": "cp_plan_start_date"}


def breakdown_measure(frame: pd.DataFrame, dataset: str, column: str, code: str, unit: str) -> Events:
    """One code of a breakdown: rows with the code (over every row, for a percent)."""
    rows = frame[column] == code
    return _events(frame, BREAKDOWN_DATES[dataset], rows, _all(frame) if unit == "percent" else None)


# --------------------------------------------------------------------------------------------
# Indicator definitions, with breakdowns expanded
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Indicator:
    id: str
    spec: dict
    label: str
    breakdown_of: str | None = None
    code: str | None = None


def indicator_list() -> list[Indicator]:
    """The catalogue's indicators in its order, each breakdown expanded into one per code."""
    contract = load_contract()
    out: list[Indicator] = []
    for name, spec in load_indicators()["indicators"].items():
        breakdown = spec.get("breakdown")
        if not breakdown:
            out.append(Indicator(name, spec, spec["label"]))
            continue
        for code, code_label in contract.code_lists[breakdown["codes"]].codes.items():
            out.append(Indicator(f"{name}.{code}", spec, f"{spec['label']}: {code_label}", name, str(code)))
    return out


# --------------------------------------------------------------------------------------------
# Receipt and look-back
# --------------------------------------------------------------------------------------------


def _months_held(tables: Mapping[str, pd.DataFrame], dataset: str) -> set[int]:
    frame = tables.get(dataset)
    if frame is None or frame.empty:
        return set()
    column = load_contract().datasets[dataset].period_column
    months = frame[column].dropna().dt.to_period("M").array.asi8
    return set(np.unique(months).tolist())


def _years_held(tables: Mapping[str, pd.DataFrame], dataset: str) -> set[str]:
    frame = tables.get(dataset)
    if frame is None or frame.empty:
        return set()
    return {str(y) for y in frame["reporting_year"].dropna().unique()}


@dataclass(frozen=True)
class Receipt:
    """Which quarters each dataset has arrived for."""

    months: dict[str, set[int]]
    years: dict[str, set[str]]
    by_year: frozenset[str]

    @classmethod
    def of(cls, tables: Mapping[str, pd.DataFrame]) -> Receipt:
        catalogue = load_indicators()
        datasets = {d for spec in catalogue["indicators"].values() for d in spec["datasets"]}
        by_year = frozenset(d for d, how in (catalogue.get("receipt") or {}).items() if how == "year")
        return cls(
            months={d: _months_held(tables, d) for d in datasets},
            years={d: _years_held(tables, d) for d in datasets},
            by_year=by_year,
        )

    def received(self, dataset: str, year: ReportingYear, months: pd.PeriodIndex) -> bool:
        if dataset in self.by_year:
            return year.label in self.years.get(dataset, set())
        return bool(self.months.get(dataset, set()) & set(months.asi8.tolist()))

    def first_month(self, dataset: str) -> int | None:
        held = self.months.get(dataset)
        return min(held) if held else None


# --------------------------------------------------------------------------------------------
# Disclosure across linked figures
# --------------------------------------------------------------------------------------------


def suppress_linked(values: dict, lines: list[tuple[list, object]], threshold: int) -> set:
    """Cells to hide: small counts (1..threshold), then, while any published sum (its `cells`
    adding to `total`, a cell or a label for a total published elsewhere) has exactly one hidden
    cell, another of its cells (the smallest non-zero) or, failing that, its total."""
    hidden = {cell for cell, v in values.items() if is_small(v, threshold)}
    lines_of: dict = {}
    for i, (cells, total) in enumerate(lines):
        for cell in [*cells, total]:
            lines_of.setdefault(cell, []).append(i)
    pending = set(range(len(lines)))
    while pending:
        i = pending.pop()
        cells, total = lines[i]
        if total in hidden or sum(c in hidden for c in cells) != 1:
            continue
        candidates = [c for c in cells if c not in hidden and values.get(c)]
        more = min(candidates, key=lambda c: (values[c], str(c))) if candidates else total
        hidden.add(more)
        pending.update(lines_of.get(more, []))
    return hidden


# --------------------------------------------------------------------------------------------
# The dataset
# --------------------------------------------------------------------------------------------


def _round(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else round(value, 1)


def _value(unit: str, measured: str, tally: Tally, n_months: int, population: int) -> float | int | None:
    num, den = tally
    if unit == "count":
        return int(num)
    if unit == "percent":
        return None if not den else _round(100.0 * num / den)
    scale = 12 / n_months if measured == "over_period" else 1.0  # a flow's rate is put on a yearly basis
    return _round(10_000 * num * scale / population)


@dataclass
class _Series:
    """One indicator's tallies by month, quarter and year (key -> tally or None with a reason)."""

    tallies: dict[str, Tally | None]
    reasons: dict[str, str]
    months_of: dict[str, pd.PeriodIndex]


def _rag(value, rule: dict | None, polarity: str, unit: str) -> dict | None:
    if not rule:
        return None
    green, amber = rule["green"], rule["amber"]
    if value is None or value == SUPPRESSED:
        why = "suppressed" if value == SUPPRESSED else "no value for the latest quarter"
        return {"status": "not rated", "text": f"Not rated: {why}"}
    suffix = "%" if unit == "percent" else ""
    status, test = rating(value, green, amber, polarity == "higher_is_better")
    text = f"{status.capitalize()}: {value:g}{suffix} (green at {green:g}{suffix} {test}, amber at {amber:g}{suffix} {test})"
    return {"status": status, "text": text}


def _comparator(indicator: Indicator, comparators: Mapping[str, dict] | None) -> dict:
    measure = indicator.spec.get("comparator")
    if measure is None:
        return {"status": "not_published", "text": NOT_PUBLISHED, "measure": None}
    if indicator.code is not None:
        measure = f"{measure}.{indicator.code}"
    found = (comparators or {}).get(measure)
    if not found:
        return {"status": "not_supplied", "text": NOT_SUPPLIED, "measure": measure}
    return {"status": "supplied", "measure": measure, **found}


def build_dataset(
    tables: Mapping[str, pd.DataFrame],
    year: ReportingYear | str,
    quarter: int,
    config: PartnershipConfig,
    comparators: Mapping[str, dict] | None = None,
    synthetic: bool = False,
) -> dict:
    """The partnership dataset for a quarter (1-4) of a year, as plain JSON values (see the
    module docstring). `comparators` maps a DfE measure name to its values
    (sscp_lib.ingest.comparators.read_comparators); None when the partnership supplies none."""
    year = ReportingYear.parse(year) if isinstance(year, str) else year
    if quarter not in (1, 2, 3, 4):
        raise ValueError(f"quarter must be 1, 2, 3 or 4, not {quarter!r}")
    threshold = config.suppression_threshold
    population = config.child_population
    targets = (config.get("dashboard") or {}).get("targets") or {}
    receipt = Receipt.of(tables)
    period_end = _end(quarter_months(year, quarter))

    # Every month held: from the April of the earliest reporting year in the tables.
    held_years = sorted({y for ys in receipt.years.values() for y in ys if y <= year.label}) or [year.label]
    first_year = ReportingYear.parse(held_years[0])
    months = pd.period_range(f"{first_year.start_year}-04", period_end.strftime("%Y-%m"), freq="M")
    years = [ReportingYear(y) for y in range(first_year.start_year, year.start_year + 1)]
    quarters = [(y, q) for y in years for q in (1, 2, 3, 4) if (y, q) <= (year, quarter)]

    computations = measures(tables, config)
    out: list[dict] = []
    for indicator in indicator_list():
        spec = indicator.spec
        datasets = spec["datasets"]
        missing = [d for d in datasets if d not in tables]
        measure: Measure | None = None
        if not missing:
            if indicator.breakdown_of:
                dataset = datasets[0]
                measure = breakdown_measure(
                    tables[dataset], dataset, spec["breakdown"]["column"], str(indicator.code), spec["unit"]
                )
            else:
                measure = computations[indicator.id]()
        series = _tally_series(measure, spec, receipt, months, quarters, years, year, quarter)
        out.append(_indicator_entry(indicator, series, months, quarters, years, population, threshold))

    _suppress(out, threshold)
    for entry in out:
        _judge(entry, targets.get(entry["id"]), comparators, months, year, quarter)
    for entry in out:
        entry.pop("_tallies")
        entry.pop("_monthly")
        entry["comparator"] = _comparator(entry.pop("_indicator"), comparators)

    return {
        "period": quarter_key(year, quarter),
        "year": year.label,
        "quarter": quarter,
        "period_end": period_end.date().isoformat(),
        "months": [month_key(m) for m in months],
        "quarters": [quarter_key(y, q) for y, q in quarters],
        "years": [y.label for y in years],
        "themes": dict(load_indicators()["themes"]),
        "synthetic": bool(synthetic),
        "suppress_up_to": threshold,
        "protective_marking": config.get("protective_marking", "OFFICIAL"),
        "partnership": (config.get("partnership") or {}).get("name", ""),
        "comparators_supplied": bool(comparators),
        "indicators": out,
    }


def _tally_series(
    measure: Measure | None,
    spec: dict,
    receipt: Receipt,
    months: pd.PeriodIndex,
    quarters: list[tuple[ReportingYear, int]],
    years: list[ReportingYear],
    year: ReportingYear,
    quarter: int,
) -> _Series:
    """Tallies of every month, quarter and year (to date) held, or None with the reason."""
    tallies: dict[str, Tally | None] = {}
    reasons: dict[str, str] = {}
    months_of: dict[str, pd.PeriodIndex] = {}
    datasets = spec["datasets"]
    lookback = spec.get("lookback_months")
    first = [receipt.first_month(d) for d in datasets]
    computable_from = (
        None
        if lookback is None or None in first
        else pd.Period(ordinal=max(f for f in first if f is not None), freq="M") + lookback
    )

    def blocked(y: ReportingYear, period_months: pd.PeriodIndex) -> str | None:
        if measure is None:
            return NOT_RECEIVED
        if not all(receipt.received(d, y, period_months) for d in datasets):
            return NOT_RECEIVED
        if lookback is not None and (computable_from is None or period_months[0] < computable_from):
            return f"not computable: needs {lookback} months of earlier data"
        return None

    monthly_num = monthly_den = None
    if isinstance(measure, Events):
        monthly_num, monthly_den = measure.monthly(months)
    position = {m: i for i, m in enumerate(months)}

    def events_tally(period_months: pd.PeriodIndex) -> Tally:
        assert monthly_num is not None
        idx = [position[m] for m in period_months]
        num = int(monthly_num[idx].sum())
        den = None if monthly_den is None else int(monthly_den[idx].sum())
        return num, den

    wanted: dict[str, pd.PeriodIndex] = {}  # a snapshot's periods, tallied together at the end

    def record(key: str, y: ReportingYear, period_months: pd.PeriodIndex, receipt_months: pd.PeriodIndex) -> None:
        months_of[key] = period_months
        why = blocked(y, receipt_months)
        if why:
            tallies[key], reasons[key] = None, why
        elif isinstance(measure, Events):
            tallies[key] = events_tally(period_months)
        else:
            wanted[key] = period_months

    for y, q in quarters:
        qm = quarter_months(y, q)
        record(quarter_key(y, q), y, qm, qm)
        for m in qm:
            record(month_key(m), y, pd.PeriodIndex([m]), qm)
    if isinstance(measure, Snapshot):
        # A year's tally (to date) is wanted too, over the months of its quarters held.
        for y in years:
            last_q = quarter if y == year else 4
            if any(quarter_key(y, q) in wanted for q in range(1, last_q + 1)):
                wanted[y.label] = pd.period_range(f"{y.start_year}-04", periods=3 * last_q, freq="M")
        found = measure.tally_all([(_start(m), _end(m)) for m in wanted.values()])
        tallies.update(zip(wanted, found))
    for y in years:
        last_q = quarter if y == year else 4
        held = [quarter_key(y, q) for q in range(1, last_q + 1) if tallies.get(quarter_key(y, q)) is not None]
        ym = pd.period_range(f"{y.start_year}-04", periods=3 * last_q, freq="M")
        months_of[y.label] = ym
        if not held:
            tallies[y.label], reasons[y.label] = None, reasons.get(quarter_key(y, 1), NOT_RECEIVED)
        elif spec["measured"] == "at_period_end":
            tallies[y.label] = tallies[quarter_key(y, int(held[-1][-1]))]
        elif isinstance(measure, Events):
            # The year to date covers the quarters held (a rate is scaled to a year from them).
            months_of[y.label] = pd.PeriodIndex([m for k in held for m in months_of[k]])
            parts = [tallies[k] for k in held]
            num = sum(p[0] for p in parts if p)
            den = None if parts[0] is None or parts[0][1] is None else sum(int(p[1] or 0) for p in parts if p)
            tallies[y.label] = (num, den)
        # A snapshot's year was tallied with its quarters (a tracker arrives for the whole year).
    return _Series(tallies, reasons, months_of)


def _indicator_entry(
    indicator: Indicator,
    series: _Series,
    months: pd.PeriodIndex,
    quarters: list[tuple[ReportingYear, int]],
    years: list[ReportingYear],
    population: int,
    threshold: int,
) -> dict:
    spec = indicator.spec

    def value(key: str):
        tally = series.tallies.get(key)
        if tally is None:
            return None
        return _value(spec["unit"], spec["measured"], tally, len(series.months_of[key]), population)

    return {
        "id": indicator.id,
        "label": indicator.label,
        "theme": spec["theme"],
        "agency": spec["agency"],
        "definition": spec["definition"],
        "note": spec.get("note"),
        "unit": spec["unit"],
        "polarity": spec["polarity"],
        "measured": spec["measured"],
        "child_level": spec["child_level"],
        "statement_metric": spec.get("statement_metric"),
        "breakdown_of": indicator.breakdown_of,
        "breakdown_code": indicator.code,
        "values": {quarter_key(y, q): value(quarter_key(y, q)) for y, q in quarters},
        "monthly": {month_key(m): value(month_key(m)) for m in months},
        "year_to_date": {y.label: value(y.label) for y in years},
        "reasons": dict(series.reasons),
        "_tallies": series.tallies,
        "_monthly": {month_key(m): value(month_key(m)) for m in months},  # before suppression, for SPC
        "_indicator": indicator,
    }


def _suppress(entries: list[dict], threshold: int) -> None:
    """Hide child-level counts of 1..threshold and every figure that would reveal one.

    One pass over every child-level indicator at once: the same count reached by two indicators
    (a breakdown's category and a share's numerator, e.g. unknown-source referrals) is one cell,
    so what one hides the other cannot show."""
    child = [e for e in entries if e["child_level"]]
    series_ids: dict[tuple, int] = {}

    def series(entry: dict, part: str) -> int:
        """One id per distinct series of counts (its dataset and its values in every period)."""
        tallies = entry["_tallies"]
        values = tuple(
            (k, t[0] if part == "num" else int(t[1] or 0) - t[0]) for k, t in tallies.items() if t is not None
        )
        return series_ids.setdefault((tuple(entry["_indicator"].spec["datasets"]), values), len(series_ids))

    values: dict = {}
    lines: set[tuple] = set()  # each line: its cells, then its total
    cells_of: dict[str, dict[str, list]] = {}
    families: dict[str, list[tuple[dict, int]]] = {}
    for entry in child:
        num_id = series(entry, "num")
        percent = any(t is not None and t[1] is not None for t in entry["_tallies"].values())
        rest_id = series(entry, "rest") if percent else None
        families.setdefault(entry["breakdown_of"] or entry["id"], []).append((entry, num_id))
        cells_of[entry["id"]] = {}
        for key, tally in entry["_tallies"].items():
            if tally is None:
                continue
            cells = [(num_id, key)]
            values[(num_id, key)] = tally[0]
            if rest_id is not None:
                values[(rest_id, key)] = int(tally[1] or 0) - tally[0]
                cells.append((rest_id, key))
                # The percent with its denominator reveals the numerator and the rest.
                lines.add(((num_id, key), (rest_id, key)) + (("den", entry["id"], key),))
            cells_of[entry["id"]][key] = cells
        if entry["measured"] == "over_period":
            for part_id in (num_id, rest_id):
                if part_id is not None:
                    lines.update(_period_lines(entry["_tallies"], part_id))
    for members in families.values():
        if len(members) > 1:
            # A breakdown's categories add up to the whole (published as its own indicator).
            for key in members[0][0]["_tallies"]:
                lines.add(tuple((num_id, key) for _, num_id in members) + (("whole", members[0][0]["id"], key),))
    # In a fixed order: a set of tuples of strings iterates in an order that changes from one
    # process to the next (string hashing), and so would the cells chosen to hide.
    ordered = sorted(lines, key=repr)
    hidden = suppress_linked(values, [(list(line[:-1]), line[-1]) for line in ordered], threshold)
    for entry in child:
        for key, cells in cells_of[entry["id"]].items():
            if any(cell in hidden for cell in cells):
                _set(entry, key, SUPPRESSED)


def _period_lines(tallies: dict, series_id: int) -> list[tuple]:
    """A quarter's months add to the quarter, a year's quarters to the year (each line its
    cells, then its total)."""
    lines: list[tuple] = []
    for key in tallies:
        if "-Q" in key:
            year, q = key.split("-Q")
            qm = quarter_months(ReportingYear.parse(year), int(q))
            lines.append(tuple((series_id, month_key(m)) for m in qm) + ((series_id, key),))
        elif _is_year_key(key):
            parts = [k for k in tallies if k.startswith(key + "-Q")]
            lines.append(tuple((series_id, k) for k in parts) + ((series_id, key),))
    return lines


def _is_year_key(key: str) -> bool:
    try:
        ReportingYear.parse(key)
    except ValueError:
        return False
    return True


def _set(entry: dict, key: str, value) -> None:
    if key in entry["values"]:
        entry["values"][key] = value
    elif key in entry["monthly"]:
        entry["monthly"][key] = value
    elif key in entry["year_to_date"]:
        entry["year_to_date"][key] = value


def _judge(
    entry: dict,
    rule: dict | None,
    comparators: Mapping[str, dict] | None,
    months: pd.PeriodIndex,
    year: ReportingYear,
    quarter: int,
) -> None:
    """Latest, previous and same-quarter-last-year values, RAG, SPC verdicts."""
    latest_key = quarter_key(year, quarter)
    prev_year, prev_q = (year, quarter - 1) if quarter > 1 else (year.previous, 4)
    previous_key = quarter_key(prev_year, prev_q)
    last_year_key = quarter_key(year.previous, quarter)
    values = entry["values"]

    def at(key: str) -> dict | None:
        return {"period": key, "value": values[key]} if key in values else None

    entry["latest"] = at(latest_key)
    entry["previous_quarter"] = at(previous_key)
    entry["same_quarter_last_year"] = at(last_year_key)
    entry["received"] = entry["reasons"].get(latest_key) != NOT_RECEIVED
    entry["target"] = dict(rule) if rule else None
    latest_value = values.get(latest_key)
    entry["rag"] = _rag(latest_value, rule, entry["polarity"], entry["unit"])

    # The chart is drawn from every month's value, suppressed or not: its limits and verdicts
    # reveal no month's count, and its points show a suppressed month as "c".
    chart = spc.xmr([entry["_monthly"][month_key(m)] for m in months])
    latest_positions = [i for i, m in enumerate(months) if m in set(quarter_months(year, quarter))]
    variation = spc.variation(chart, entry["polarity"], latest_positions)
    missing = entry["reasons"].get(latest_key)
    if missing:
        # No months of the latest quarter to judge: say so rather than "common cause".
        variation = spc.Verdict("no_data", f"No value for the latest quarter: {missing}")
    entry["variation"] = {"code": variation.code, "direction": variation.direction, "text": variation.text}
    target = None if not rule else rule.get("target")
    assurance = spc.assurance_after(variation, spc.assurance(chart, entry["polarity"], target))
    entry["assurance"] = None if assurance is None else {"code": assurance.code, "text": assurance.text}
    entry["spc"] = (
        None
        if chart is None
        else {
            "mean": _round(chart.mean),
            "lower": _round(chart.lower),
            "upper": _round(chart.upper),
            "sigma": _round(chart.sigma),
            "points": [
                {
                    "month": month_key(months[p.index]),
                    "value": p.value if entry["monthly"][month_key(months[p.index])] != SUPPRESSED else SUPPRESSED,
                    "special": p.special,
                    "rules": list(p.rules),
                    "direction": p.direction,
                }
                for p in chart.points
            ],
        }
    )


def statement_year_values(dataset: dict) -> dict[str, object]:
    """Each indicator's value for the dataset's year (to date) by the statement metric it equals."""
    return {
        entry["statement_metric"]: entry["year_to_date"].get(dataset["year"])
        for entry in dataset["indicators"]
        if entry["statement_metric"]
    }
