"""Load: the child-level tables an analyst asks about, from the latest run, with labels beside codes.

    referrals = load_table("referrals")              # every year the latest run holds
    police = load_table("police_referrals", "2022-23")  # one of those years

A run of year Y (`sscp run --year Y`) validates Y and the earlier years kept for comparison, so
the latest run holds every year there is. Each code and yes/no column gets a `<column>_label`
beside it (labels in the contract's order, missing values as "Not recorded"); referrals get
`nfa_changeover`, which side of the date the MASH stopped recording 'No further action'.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sscp_lib.config import Paths, ReportingYear, load_config
from sscp_lib.contract import RECODED_COLUMNS, load_contract
from sscp_lib.errors import UserError
from sscp_lib.explore.vocabulary import NOT_RECORDED, ExploreError, label_order, labels_for
from sscp_lib.stages.loading import read_processed_table
from sscp_lib.synthetic import is_synthetic

NFA_CHANGEOVER_RULE = "nfa_changeover_date"
NFA_CHANGEOVER_COLUMN = "nfa_changeover"


@dataclass(frozen=True)
class Table:
    """A table an analyst can load: its contract dataset and what one row is, in words."""

    dataset: str
    rows: str  # "referrals": for titles and column headings


# The child-level tables of the exploration, by the name an analyst uses.
TABLES = {
    "contacts": Table("mash_contacts", "contacts"),
    "referrals": Table("referrals", "referrals"),
    "police_referrals": Table("police_referrals", "police referrals"),
    "health_referrals": Table("health_referrals", "health referrals"),
    "plans": Table("cp_plans", "child protection plans"),
}


def table_named(name: str) -> Table:
    """A table by its exploration name or its contract dataset name."""
    for key, table in TABLES.items():
        if name in (key, table.dataset):
            return table
    raise ExploreError(f"no table {name!r}: load one of {', '.join(TABLES)}")


def table_of(frame: pd.DataFrame) -> Table:
    """The table a frame came from: recorded by the loader, else found from its key column."""
    name = frame.attrs.get("table")
    if name:
        return table_named(name)
    contract = load_contract()
    for table in TABLES.values():
        if set(contract.dataset(table.dataset).key) <= set(frame.columns):
            return table
    raise ExploreError("this table is not one the exploration helpers know: load it with load_table")


# --------------------------------------------------------------------------------------------
# Where the validated tables are: one function, to be pointed at the dataset catalogue later.
# --------------------------------------------------------------------------------------------

_YEAR_FOLDER = re.compile(r"^\d{4}-\d{2}$")


def validated_table_path(dataset: str, run: ReportingYear, paths: Paths) -> Path:
    """The validated table of `dataset` written by the run of year `run` (the catalogue's
    'validated' location; the path rule is config.Paths')."""
    return paths.validated_dir(run) / f"{dataset}.parquet"


def runs_holding(dataset: str, paths: Paths) -> list[ReportingYear]:
    """The runs (by year, oldest first) that wrote a validated table of `dataset`."""
    if not paths.processed.is_dir():
        return []
    years = [ReportingYear.parse(p.name) for p in paths.processed.iterdir() if _YEAR_FOLDER.match(p.name)]
    return sorted(y for y in years if validated_table_path(dataset, y, paths).exists())


def latest_run(dataset: str, paths: Paths) -> ReportingYear:
    runs = runs_holding(dataset, paths)
    if not runs:
        raise UserError(
            f"no validated {dataset} table under {paths.processed}: run the chain first "
            "(`make report`, or `sscp run --year 2023-24`)"
        )
    return runs[-1]


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def has_nfa_changeover(dataset: str) -> bool:
    """True for a table with a recoded outcome column (referrals: NFA became Advice and information)."""
    return any(c.canonical_name in RECODED_COLUMNS for c in load_contract().dataset(dataset).output_columns)


def exploration_columns(dataset: str) -> list[str]:
    """The columns of a loaded table, in order: each processed column, its label after it if it
    has codes or is yes/no, then nfa_changeover where the table has it."""
    columns = []
    for column in load_contract().processed_schema(dataset):
        columns.append(column)
        if labels_for(dataset, column) is not None:
            columns.append(f"{column}_label")
    return columns + ([NFA_CHANGEOVER_COLUMN] if has_nfa_changeover(dataset) else [])


def with_labels(frame: pd.DataFrame, dataset: str) -> pd.DataFrame:
    """`<column>_label` after each code and yes/no column: ordered labels, missing as "Not recorded"."""
    out = {}
    for column in frame.columns:
        out[column] = frame[column]
        labels = labels_for(dataset, column)
        if labels is not None:
            text = (
                frame[column]
                .astype("object")
                .map(lambda v, lab=labels: NOT_RECORDED if pd.isna(v) else lab.get(v, str(v)))
            )
            out[f"{column}_label"] = pd.Categorical(text, categories=label_order(labels, frame[column]), ordered=True)
    return pd.DataFrame(out, index=frame.index)


def with_nfa_changeover(frame: pd.DataFrame, period_column: str) -> pd.DataFrame:
    """Which side of the NFA changeover (config data_rules) each referral falls."""
    when = pd.Timestamp(load_config().data_rule_date(NFA_CHANGEOVER_RULE))
    before, after = f"Before {when:%-d %b %Y}", f"From {when:%-d %b %Y}"
    from_changeover = (frame[period_column] >= when).fillna(False).astype(bool)
    frame[NFA_CHANGEOVER_COLUMN] = pd.Categorical(
        from_changeover.map({False: before, True: after}), categories=[before, after], ordered=True
    )
    return frame


def partnership_settings() -> dict:
    """What answers need from the partnership config, noted on each loaded table."""
    config = load_config()
    return {
        "threshold": config.suppression_threshold,
        "marking": str(config.get("protective_marking") or "").strip(),
    }


def load_table(
    table: str,
    year: str | ReportingYear | None = None,
    *,
    run: str | ReportingYear | None = None,
    processed_dir: Path | str | None = None,
) -> pd.DataFrame:
    """A validated child-level table with labels beside codes.

    `table`: contacts, referrals, police_referrals, health_referrals or plans. `year`: only the
    rows of that reporting year; None keeps every year the run holds (column reporting_year).
    `run`: the run to read (default the latest under the processed folder).
    """
    spec = table_named(table)
    paths = Paths.with_overrides(processed=processed_dir)
    run = _year(run) if run is not None else latest_run(spec.dataset, paths)
    path = validated_table_path(spec.dataset, run, paths)
    if not path.exists():
        raise UserError(f"{path}: validated table not found; run the chain for {run} first")
    frame = read_processed_table(path, spec.dataset)
    if year is not None:
        year = _year(year)
        held = sorted(frame["reporting_year"].dropna().unique())
        if year.label not in held:
            raise ExploreError(
                f"the {run} run holds {spec.rows} for {', '.join(held) or 'no year'}, not {year}: "
                "pick one of those, or load a later run"
            )
        frame = frame[(frame["reporting_year"] == year.label).fillna(False).astype(bool)]
    frame = with_labels(frame.reset_index(drop=True), spec.dataset)
    if has_nfa_changeover(spec.dataset):
        frame = with_nfa_changeover(frame, load_contract().dataset(spec.dataset).period_column)
    frame = frame[exploration_columns(spec.dataset)]
    frame.attrs.update(
        {
            "table": next(k for k, t in TABLES.items() if t == spec),
            "run": run.label,
            "source": f"{load_contract().dataset(spec.dataset).description}; validated in the {run} run",
            "path": str(path),
            "synthetic": is_synthetic(paths, run),
            "filters": [],
            **partnership_settings(),
        }
    )
    return frame


def _year(value) -> ReportingYear:
    try:
        return value if isinstance(value, ReportingYear) else ReportingYear.parse(value)
    except ValueError as exc:
        raise ExploreError(str(exc)) from None


def load_contacts(year=None, **kwargs) -> pd.DataFrame:
    """MASH contacts (see load_table)."""
    return load_table("contacts", year, **kwargs)


def load_referrals(year=None, **kwargs) -> pd.DataFrame:
    """Referrals to children's social care (see load_table)."""
    return load_table("referrals", year, **kwargs)


def load_police_referrals(year=None, **kwargs) -> pd.DataFrame:
    """Police child referrals (PPNs) with domestic abuse and DARA flags (see load_table)."""
    return load_table("police_referrals", year, **kwargs)


def load_health_referrals(year=None, **kwargs) -> pd.DataFrame:
    """Safeguarding referrals by health providers (see load_table)."""
    return load_table("health_referrals", year, **kwargs)


def load_plans(year=None, **kwargs) -> pd.DataFrame:
    """Child protection plans, placed in a year by their start date (see load_table)."""
    return load_table("plans", year, **kwargs)


def describe(frame: pd.DataFrame) -> str:
    """One line saying what a loaded (or filtered) table holds."""
    table = table_of(frame)
    dates = frame[load_contract().dataset(table.dataset).period_column]
    if dates.dropna().empty:
        return f"no {table.rows}"
    years = ", ".join(sorted(frame["reporting_year"].dropna().unique()))
    noun = "reporting years" if "," in years else "reporting year"
    said = f"{len(frame):,} {table.rows} from {dates.min():%-d %B %Y} to {dates.max():%-d %B %Y} ({noun} {years})"
    if frame.attrs.get("run"):
        said += f", from the {frame.attrs['run']} run"
    if frame.attrs.get("filters"):
        said += f"; {'; '.join(frame.attrs['filters'])}"
    return said + (" [synthetic sample data]" if frame.attrs.get("synthetic") else "")
