"""Early help, school suspensions and exclusions, children's mental health, and the figures that
follow one child across agencies (the place-based dataset).

Records link by the pseudonymised child id (`child_pid`): the same key gives a child the same
pseudonym in every table, so no raw identifier is needed here. A record "links" when its child
also has a record in the council's children's social care data (contacts, referrals, child
protection plans, early help: the contract's COUNCIL datasets other than the record's own), in
any year the run holds. Every figure that follows a child across agencies carries the linkage of
the records it starts from (`Linkage`): how many of them could be linked at all.

Pure functions take validated tables (Contract.processed_schema columns) and configuration values
and return frozen dataclasses of plain values and published tables; counts of children's records
are suppressed by the metric store, shares of a small count here (`share`), tables through
sscp_lib.disclosure. `analyse(tables, year, config)` computes the whole stage.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from sscp_lib.analysis.common import NOT_RECORDED, TOTAL, code_labels, flag, percent, rows_in_year
from sscp_lib.config import PartnershipConfig, ReportingYear
from sscp_lib.contract import load_contract
from sscp_lib.disclosure import SUPPRESSED, is_small, suppress_table

EARLY_HELP = "early_help"
EXCLUSIONS = "suspensions_exclusions"
MENTAL_HEALTH = "mental_health_referrals"
COUNCIL = "COUNCIL"
# The council's children's social care records a child may link to: the contract's COUNCIL datasets.
COUNCIL_DATASETS = tuple(name for name, ds in load_contract().datasets.items() if ds.agency == COUNCIL)
DATASETS = tuple(dict.fromkeys((EARLY_HELP, EXCLUSIONS, MENTAL_HEALTH, *COUNCIL_DATASETS)))
# The council tables are read for their children (and the referrals and plans for their dates) only.
COLUMNS_READ = {
    "mash_contacts": ("child_pid",),
    "referrals": ("child_pid", "referral_date", "referral_outcome", "reporting_year"),
    "cp_plans": ("child_pid", "cp_plan_start_date", "cp_plan_end_date"),
}
PERMANENT = "PERM"
STEPPED_DOWN_TO_EARLY_HELP = "EARLY_HELP"  # the referral outcome
STEPPED_UP = "STEPPED_UP"  # the early help outcome
OPEN_EPISODE = "Open, or outcome not recorded"  # an early help episode without an outcome
# School terms by the months they run in (a reporting year holds the summer, autumn and spring terms).
TERMS = {"Summer term (April to July)": (4, 5, 6, 7, 8), "Autumn term (September to December)": (9, 10, 11, 12)}
SPRING_TERM = "Spring term (January to March)"
# Waits to a first appointment, in bands (upper bound in days, inclusive); 18 weeks is the NHS's
# referral-to-treatment standard, 52 weeks a year.
WAIT_BANDS = (
    ("Up to 4 weeks", 28),
    ("4 to 12 weeks", 84),
    ("12 to 18 weeks", 126),
    ("18 to 52 weeks", 364),
    ("Over 52 weeks", None),
)
STILL_WAITING = "Accepted, not yet seen"


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def share(part: int, whole: int, threshold: int, ndigits: int = 1):
    """part as a percentage of whole, or "c" when the part is a small count (it would give it away)."""
    if is_small(part, threshold):
        return SUPPRESSED
    return percent(part, whole, ndigits)


def published_counts(counts: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """A table of counts with a Total row, small cells and the cells that would reveal them as "c"."""
    table = counts.astype("int64").copy()
    table.loc[TOTAL] = table.sum(axis=0)
    return suppress_table(table, threshold, col_total=TOTAL)


def counts_by_code(
    frame: pd.DataFrame, column: str, code_list: str, name: str, index_name: str, blank: str = NOT_RECORDED
) -> pd.DataFrame:
    """One column of counts by the code list's labels (codes not used dropped; blanks counted as `blank`)."""
    labels = code_labels(code_list)
    values = frame[column].astype("string").map(lambda c: labels.get(c, c), na_action="ignore")
    counts = values.fillna(blank).value_counts()
    order = [label for label in [*labels.values(), blank] if counts.get(label, 0)]
    order += [label for label in counts.index if label not in order]
    return counts.reindex(order).rename(name).rename_axis(index_name).to_frame()


def children(frame: pd.DataFrame) -> set[str]:
    return set(frame["child_pid"].dropna())


def median_days(days: pd.Series) -> float | None:
    days = days.dropna()
    return float(days.median()) if len(days) else None


# --------------------------------------------------------------------------------------------
# Linkage
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Linkage:
    """How many of a dataset's records in the year have a child found in the council's records."""

    dataset: str
    records: int
    linked: int
    linked_pct: float | str | None


def council_children(tables: Mapping[str, pd.DataFrame], besides: str) -> set[str]:
    """Every child in the council's records (all years held), the dataset `besides` left out."""
    return set().union(*(children(tables[name]) for name in COUNCIL_DATASETS if name != besides))


def links(records: pd.DataFrame, dataset: str, tables: Mapping[str, pd.DataFrame]) -> pd.Series:
    """True for each record whose child is in the council's records (its own dataset left out)."""
    return records["child_pid"].isin(council_children(tables, dataset))


def linkage(records: pd.DataFrame, dataset: str, tables: Mapping[str, pd.DataFrame], threshold: int) -> Linkage:
    linked = int(links(records, dataset, tables).sum())
    return Linkage(dataset, len(records), linked, share(linked, len(records), threshold))


# --------------------------------------------------------------------------------------------
# Early help
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EarlyHelp:
    assessments: int
    assessments_previous: int | None
    median_days_to_complete: float | None
    by_lead_agency: pd.DataFrame
    by_outcome: pd.DataFrame
    recorded_step_ups: int  # episodes closed as stepped up to social care, as the service recorded them
    step_ups: int  # assessments followed by a referral to social care within the window (linked)
    step_up_pct: float | str | None
    step_up_months: int
    step_downs: int  # referrals in the year stepped down to early help
    step_downs_assessed: int  # of them, followed by an early help assessment within the window (linked)
    step_downs_assessed_pct: float | str | None
    step_down_months: int
    linkage: Linkage


def followed_within(first: pd.DataFrame, first_date: str, then: pd.DataFrame, then_date: str, months: int) -> pd.Series:
    """For each row of `first`: does the same child have a row of `then` dated after it, within `months`?"""
    events = first[["child_pid", first_date]].reset_index().rename(columns={"index": "_row", first_date: "_first"})
    later = then[["child_pid", then_date]].rename(columns={then_date: "_then"}).dropna()
    pairs = events.merge(later, on="child_pid")
    hit = (pairs["_then"] > pairs["_first"]) & (pairs["_then"] <= pairs["_first"] + pd.DateOffset(months=months))
    rows = set(pairs.loc[hit, "_row"])
    return pd.Series([row in rows for row in first.index], index=first.index, dtype=bool)


def stepped_down(referrals: pd.DataFrame) -> pd.DataFrame:
    """Referrals whose outcome is a step-down to early help."""
    return referrals[flag(referrals["referral_outcome"] == STEPPED_DOWN_TO_EARLY_HELP)]


def assessed_after(downs: pd.DataFrame, assessments: pd.DataFrame, months: int) -> pd.Series:
    """For each step-down: an early help assessment of the child on or after its day, within `months`."""
    day_before = downs.assign(referral_date=downs["referral_date"] - pd.Timedelta(days=1))
    return followed_within(day_before, "referral_date", assessments, "assessment_start_date", months)


def early_help(
    tables: Mapping[str, pd.DataFrame], year: ReportingYear, step_up_months: int, step_down_months: int, threshold: int
) -> EarlyHelp:
    assessments = tables[EARLY_HELP]
    this_year = rows_in_year(assessments, year)
    referrals = tables["referrals"]
    stepped_up = followed_within(this_year, "assessment_start_date", referrals, "referral_date", step_up_months)
    downs = stepped_down(rows_in_year(referrals, year))
    assessed = assessed_after(downs, assessments, step_down_months)
    days = (this_year["assessment_completion_date"] - this_year["assessment_start_date"]).dt.days
    return EarlyHelp(
        assessments=len(this_year),
        # No earlier data: no comparison rather than a false zero.
        assessments_previous=len(rows_in_year(assessments, year.previous)) or None,
        median_days_to_complete=median_days(days[days >= 0]),
        by_lead_agency=published_counts(
            counts_by_code(this_year, "lead_agency", "agency", "assessments", "lead agency"), threshold
        ),
        by_outcome=published_counts(
            counts_by_code(
                this_year, "early_help_outcome", "early_help_outcome", "assessments", "outcome", OPEN_EPISODE
            ),
            threshold,
        ),
        recorded_step_ups=int(flag(this_year["early_help_outcome"] == STEPPED_UP).sum()),
        step_ups=int(stepped_up.sum()),
        step_up_pct=share(int(stepped_up.sum()), len(this_year), threshold),
        step_up_months=step_up_months,
        step_downs=len(downs),
        step_downs_assessed=int(assessed.sum()),
        step_downs_assessed_pct=share(int(assessed.sum()), len(downs), threshold),
        step_down_months=step_down_months,
        linkage=linkage(this_year, EARLY_HELP, tables, threshold),
    )


# --------------------------------------------------------------------------------------------
# School suspensions and exclusions
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Exclusions:
    suspensions: int
    suspensions_previous: int | None
    permanent_exclusions: int
    permanent_exclusions_previous: int | None
    pupils_suspended: int
    sessions_missed: int
    by_term: pd.DataFrame
    by_reason: pd.DataFrame
    cp_children: int  # children on a child protection plan at any time in the year
    cp_children_excluded: int  # of them, suspended or excluded in the year (linked)
    cp_children_excluded_pct: float | str | None
    linkage: Linkage


def term_of(dates: pd.Series) -> pd.Series:
    months = dates.dt.month
    term = pd.Series(SPRING_TERM, index=dates.index, dtype="string")
    for name, in_term in TERMS.items():
        term[months.isin(in_term)] = name
    return term


def children_on_plan(plans: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> set[str]:
    """Children with a child protection plan open on any day from start to end."""
    started = plans["cp_plan_start_date"] <= end
    not_ended = plans["cp_plan_end_date"].isna() | (plans["cp_plan_end_date"] >= start)
    return children(plans[flag(started & not_ended)])


def excluded_children_on_plan(
    exclusions: pd.DataFrame, plans: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp
) -> tuple[int, int]:
    """(children on a plan from start to end who were suspended or excluded then, children on a plan then)."""
    on_plan = children_on_plan(plans, start, end)
    return len(on_plan & children(exclusions[flag(exclusions["start_date"].between(start, end))])), len(on_plan)


def referred_after_social_care(mental_health: pd.DataFrame, referrals: pd.DataFrame, months: int) -> set[str]:
    """Children with a mental health referral (of `mental_health`) that a referral to social care
    preceded in the `months` months up to it (the same day included)."""
    events = mental_health[["child_pid", "referral_date"]].rename(columns={"referral_date": "_mh"})
    pairs = events.merge(referrals[["child_pid", "referral_date"]].dropna(), on="child_pid")
    before = (pairs["referral_date"] <= pairs["_mh"]) & (
        pairs["referral_date"] >= pairs["_mh"] - pd.DateOffset(months=months)
    )
    return set(pairs.loc[before, "child_pid"])


def exclusions(tables: Mapping[str, pd.DataFrame], year: ReportingYear, threshold: int) -> Exclusions:
    table = tables[EXCLUSIONS]
    this_year = rows_in_year(table, year)
    previous = rows_in_year(table, year.previous)
    permanent = flag(this_year["exclusion_category"] == PERMANENT)
    suspended = this_year[~permanent]
    term = term_of(this_year["start_date"])
    by_term = pd.DataFrame(
        {
            "suspensions": suspended.groupby(term[~permanent]).size(),
            "permanent exclusions": this_year[permanent].groupby(term[permanent]).size(),
        }
    )
    by_term = by_term.reindex([*TERMS, SPRING_TERM]).fillna(0).rename_axis("school term")
    on_plan = children_on_plan(tables["cp_plans"], pd.Timestamp(year.start), pd.Timestamp(year.end))
    excluded = children(this_year)
    return Exclusions(
        suspensions=len(suspended),
        suspensions_previous=int(flag(previous["exclusion_category"] != PERMANENT).sum()) if len(previous) else None,
        permanent_exclusions=int(permanent.sum()),
        permanent_exclusions_previous=int(flag(previous["exclusion_category"] == PERMANENT).sum())
        if len(previous)
        else None,
        pupils_suspended=len(children(suspended)),
        sessions_missed=int(this_year["sessions"].fillna(0).sum()),
        by_term=published_counts(by_term, threshold),
        by_reason=published_counts(
            counts_by_code(this_year, "exclusion_reason", "exclusion_reason", "suspensions and exclusions", "reason"),
            threshold,
        ),
        cp_children=len(on_plan),
        cp_children_excluded=len(on_plan & excluded),
        cp_children_excluded_pct=share(len(on_plan & excluded), len(on_plan), threshold),
        linkage=linkage(this_year, EXCLUSIONS, tables, threshold),
    )


# --------------------------------------------------------------------------------------------
# Children's mental health
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MentalHealth:
    referrals: int
    referrals_previous: int | None
    accepted: int
    accepted_pct: float | str | None
    seen: int  # accepted referrals with a first appointment
    median_wait_days: float | None
    wait_90th_percentile_days: float | None
    still_waiting: int
    by_source: pd.DataFrame
    by_wait: pd.DataFrame
    children_referred: int
    children_after_social_care: int  # referred to social care in the months before (linked)
    children_after_social_care_pct: float | str | None
    prior_referral_months: int
    linkage: Linkage


def wait_band(days: pd.Series) -> pd.Series:
    """Each wait's band (WAIT_BANDS); no wait yet (accepted, not yet seen) is STILL_WAITING."""
    edges = [-1, *(upper for _, upper in WAIT_BANDS if upper is not None), float("inf")]
    band = pd.cut(days.astype("Float64").astype(float), edges, labels=[name for name, _ in WAIT_BANDS])
    return band.astype("string").fillna(STILL_WAITING)


def mental_health(
    tables: Mapping[str, pd.DataFrame], year: ReportingYear, prior_months: int, threshold: int
) -> MentalHealth:
    table = tables[MENTAL_HEALTH]
    this_year = rows_in_year(table, year)
    accepted = this_year[flag(this_year["accepted"])]
    waits = (accepted["first_appointment_date"] - accepted["referral_date"]).dt.days
    seen = waits.dropna()
    seen = seen[seen >= 0]
    by_wait = wait_band(waits).value_counts().reindex([name for name, _ in WAIT_BANDS] + [STILL_WAITING], fill_value=0)
    after_care = referred_after_social_care(this_year, tables["referrals"], prior_months)
    referred = children(this_year)
    return MentalHealth(
        referrals=len(this_year),
        referrals_previous=len(rows_in_year(table, year.previous)) or None,
        accepted=len(accepted),
        accepted_pct=share(len(accepted), len(this_year), threshold),
        seen=len(seen),
        median_wait_days=median_days(seen),
        wait_90th_percentile_days=float(seen.quantile(0.9)) if len(seen) else None,
        still_waiting=int(waits.isna().sum()),
        by_source=published_counts(
            counts_by_code(this_year, "referral_source", "mh_referral_source", "referrals", "referred by"), threshold
        ),
        by_wait=published_counts(
            by_wait.rename("accepted referrals").rename_axis("wait to first appointment").to_frame(), threshold
        ),
        children_referred=len(referred),
        children_after_social_care=len(after_care & referred),
        children_after_social_care_pct=share(len(after_care & referred), len(referred), threshold),
        prior_referral_months=prior_months,
        linkage=linkage(this_year, MENTAL_HEALTH, tables, threshold),
    )


# --------------------------------------------------------------------------------------------
# The stage
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkedAnalysis:
    year: ReportingYear
    threshold: int
    early_help: EarlyHelp
    exclusions: Exclusions
    mental_health: MentalHealth

    @property
    def linkage(self) -> pd.DataFrame:
        """Each agency's records in the year and how many link to the council's records (suppressed)."""
        rows = []
        for link in (self.early_help.linkage, self.exclusions.linkage, self.mental_health.linkage):
            dataset = load_contract().dataset(link.dataset)
            agency = code_labels("agency").get(dataset.agency, dataset.agency)
            rows.append(
                {
                    "records": dataset.description.split(" (")[0],
                    "agency": agency,
                    "records in the year": link.records,
                    "linked to a council record": link.linked,
                }
            )
        frame = pd.DataFrame(rows).set_index("records")
        counts = suppress_table(frame[["records in the year", "linked to a council record"]], self.threshold)
        counts.insert(0, "agency", frame["agency"])
        counts["linked (%)"] = [
            link.linked_pct if link.linked_pct is not None else ""
            for link in (self.early_help.linkage, self.exclusions.linkage, self.mental_health.linkage)
        ]
        return counts


def analyse(tables: Mapping[str, pd.DataFrame], year: ReportingYear, config: PartnershipConfig) -> LinkedAnalysis:
    """Every table and figure of the stage from the validated tables."""
    threshold = config.suppression_threshold
    rules = config["analysis"]
    return LinkedAnalysis(
        year=year,
        threshold=threshold,
        early_help=early_help(
            tables,
            year,
            int(rules["early_help_step_up_months"]),
            int(rules["early_help_step_down_months"]),
            threshold,
        ),
        exclusions=exclusions(tables, year, threshold),
        mental_health=mental_health(tables, year, int(rules["mental_health_prior_referral_months"]), threshold),
    )
