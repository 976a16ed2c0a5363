"""The validate stage: Great Expectations suites built from the data contract.

For each clean table the contract gives the expectations: columns present, required values
present, types, allowed codes, numeric ranges, unique keys, period dates inside the years the
data cover, references to other tables, and row counts in the reporting year. Rows that fail a
critical row-level expectation are quarantined; the rest are the validated tables the analysis
reads. A critical table-level failure stops the chain (ValidationStop) once validation.json
has been written, so the reviewer sees every result.

Great Expectations runs in an ephemeral context: no project files, no Data Docs.
"""

from __future__ import annotations

import dataclasses
import math
import pickle
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

# Great Expectations is imported with this module, not on first use: the chain's warm kernel
# imports the stage's module while the stage before runs, and so pays GX's import (seconds) then.
import great_expectations as gx
import great_expectations.execution_engine.pandas_execution_engine as pandas_engine
import great_expectations.expectations as gxe
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from great_expectations.data_context.types.base import (
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)

from sscp_lib.config import PartnershipConfig, Paths, ReportingYear
from sscp_lib.contract import RECODED_COLUMNS, Contract, Dataset, load_contract
from sscp_lib.errors import ValidationStop
from sscp_lib.files import write_json_atomic, write_parquet_atomic
from sscp_lib.metrics import to_jsonable
from sscp_lib.report_tables import report_frame
from sscp_lib.reuse import Entry, ReuseStore, link_or_copy, now_label, recorded_keys
from sscp_lib.validation.reuse import STAGE as VALIDATE_STAGE
from sscp_lib.validation.reuse import validation_keys
from sscp_lib.validation.screens import expectation_class

FAMILIES = ("exists", "non_null", "type", "codes", "range", "unique", "window", "reference", "row_count")
CRITICAL, WARNING = "critical", "warning"
QUARANTINE_REASON_COLUMN = "failed_checks"
EXAMPLES_KEPT = 5
# The two batches a table is validated as: every row, and the rows of the reporting year.
ALL_ROWS, YEAR_ROWS = "all_rows", "year_rows"

# Processed dtype -> the type name Great Expectations compares with the column's scalar type
# (Int64 holds numpy int64 scalars, string holds str, boolean holds numpy bool).
GX_TYPE_NAMES = {
    "string": "str",
    "datetime64[ms]": "datetime64",
    "Int64": "int64",
    "Float64": "float64",
    "boolean": "bool",
}
TYPE_WORDS = {
    "string": "text",
    "datetime64[ms]": "dates",
    "Int64": "whole numbers",
    "Float64": "numbers",
    "boolean": "yes/no values",
}
# Each check is validated first with the least GX result that gives its verdict, and again with the
# complete result only when it did not pass cleanly (GX computes a metric per detail asked for,
# for every expectation, so the complete format everywhere costs more than the data).
# Row-level checks pass or fail on GX's count of unexpected rows (mostly = 1: a pass means none).
PASS_OR_FAIL = {"result_format": "BOOLEAN_ONLY"}
# Table-level checks: the observed value (column type, row count) is part of the report.
OBSERVED = {"result_format": "BASIC"}
COMPLETE = {
    # Failing rows come back as positions in the frame (a RangeIndex): cheaper than key
    # dictionaries, and exact even when the key itself is duplicated.
    "result_format": "COMPLETE",
    "return_unexpected_index_query": False,
}
# Families whose GX expectations are always row by row (column map expectations).
ROW_FAMILIES = frozenset({"non_null", "codes", "range", "unique", "window", "reference"})


# --------------------------------------------------------------------------------------
# Great Expectations' context, made once per process
# --------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def gx_context():
    """The process's ephemeral GX context, with one pandas data source for every table."""
    # GX fingerprints every pandas batch by hashing all of its rows (seconds per suite at
    # 1.5 M rows); the fingerprint is a batch marker this stage never reads.
    pandas_engine.HASH_THRESHOLD = 0
    # In-memory stores and no Data Docs site at all (Data Docs load CDN assets).
    project = DataContextConfig(store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False))
    context = gx.get_context(mode="ephemeral", project_config=project)
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_or_update_pandas("sscp_clean")
    source.add_dataframe_asset("clean_table").add_batch_definition_whole_dataframe("whole_table")
    return context


def _batch_definition(context):
    return context.data_sources.get("sscp_clean").get_asset("clean_table").get_batch_definition("whole_table")


# --------------------------------------------------------------------------------------
# Suites from the contract
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SuiteInputs:
    """What a table's suites need beyond the contract: the years and the other tables."""

    year: ReportingYear
    earliest_year: ReportingYear
    # "dataset.column" -> values present in that (validated) table
    reference_values: Mapping[str, Iterable] = field(default_factory=dict)
    previous_year_rows: int = 0
    row_count_change_share: float = 0.5


def _long_date(day) -> str:
    return f"{day.day} {day:%B %Y}"


def _expectation(
    kind: str,
    *,
    check: str,
    family: str,
    severity: str,
    description: str,
    about: str | None = None,
    checks: list[dict] | None = None,
    **kwargs,
):
    """One GX expectation with the meta every result carries; `about` names the column(s) checked.

    `checks`: the report's checks, when one GX expectation decides several (one per column).
    """
    about = about if about is not None else kwargs.get("column")
    meta = {"check": check, "family": family, "column": about, "severity": severity, "description": description}
    if checks:
        meta["checks"] = checks
    return expectation_class(kind)(meta=meta, **kwargs)


def suite_checks(suite) -> list[dict]:
    """The report's checks in a suite, in order: each expectation's meta, or the checks it decides."""
    return [check for e in suite.expectations for check in e.meta.get("checks", [e.meta])]


def _code_columns(contract: Contract, ds: Dataset) -> list[tuple[str, list[str], str, str]]:
    """(column, allowed codes, words for them, severity) for code columns and their derived columns."""

    def words(kind: str, list_name: str, allowed: list[str]) -> str:
        shown = f" ({', '.join(allowed)})" if len(allowed) <= 8 else ""
        return f"a {kind} of the {list_name} list{shown}"

    out = []
    for col in ds.output_columns:
        if col.type != "code":
            continue
        codes = contract.codes_for(col)
        allowed = list(codes.codes)
        out.append((col.name, allowed, words("code", codes.name, allowed), col.severity))
        if codes.groups:
            groups = list(codes.groups)
            out.append((f"{col.name}_group", groups, words("group", codes.name, groups), col.severity))
        if col.name in RECODED_COLUMNS:
            out.append((f"{col.name}_original", allowed, words("code", codes.name, allowed), col.severity))
    return out


def _column_severity(ds: Dataset, column: str) -> str:
    """Derived columns take the severity of the contract column they come from."""
    for col in ds.output_columns:
        if column in (col.canonical_name, f"{col.name}_group", f"{col.name}_retired", f"{col.name}_original"):
            return col.severity
    return CRITICAL


def build_suites(contract: Contract, dataset: str, inputs: SuiteInputs) -> dict:
    """The table's two GX suites, generated from the contract: {ALL_ROWS: suite, YEAR_ROWS: suite}.

    ALL_ROWS runs on every row of the clean table (columns, types, values, keys, dates,
    references); YEAR_ROWS on the rows of the reporting year (row counts).
    """
    ds = contract.dataset(dataset)
    schema = contract.processed_schema(ds)
    year = inputs.year
    expect = []

    # One GX expectation for the table's columns; the report keeps a check per column.
    expect.append(
        _expectation(
            "ExpectTableColumnsToMatchSet",
            check="exists",
            family="exists",
            severity=CRITICAL,
            description="every column of the table is present",
            column_set=list(schema),
            exact_match=False,
            checks=[
                {
                    "check": f"exists:{column}",
                    "family": "exists",
                    "column": column,
                    "severity": CRITICAL,
                    "description": f"column {column} is present",
                }
                for column in schema
            ],
        )
    )

    key_columns = list(ds.key)
    not_null = [c.canonical_name for c in ds.output_columns if not c.nullable]
    for column in dict.fromkeys([*key_columns, *not_null, "reporting_year"]):
        expect.append(
            _expectation(
                "ExpectColumnValuesToNotBeNull",
                check=f"non_null:{column}",
                family="non_null",
                severity=_column_severity(ds, column),
                description=f"every row has a {column}",
                column=column,
            )
        )

    for column, dtype in schema.items():
        expect.append(
            _expectation(
                "ExpectColumnValuesToBeOfType",
                check=f"type:{column}",
                family="type",
                severity=_column_severity(ds, column),
                description=f"{column} holds {TYPE_WORDS[dtype]}",
                column=column,
                type_=GX_TYPE_NAMES[dtype],
            )
        )

    for column, codes, words, severity in _code_columns(contract, ds):
        expect.append(
            _expectation(
                "ExpectColumnValuesToBeInSet",
                check=f"codes:{column}",
                family="codes",
                severity=severity,
                description=f"every {column} is {words}",
                column=column,
                value_set=codes,
            )
        )
    year_labels = [ReportingYear(y).label for y in range(inputs.earliest_year.start_year, year.start_year + 1)]
    expect.append(
        _expectation(
            "ExpectColumnValuesToBeInSet",
            check="codes:reporting_year",
            family="codes",
            severity=CRITICAL,
            description=f"every reporting_year is a year from {year_labels[0]} to {year.label}",
            column="reporting_year",
            value_set=year_labels,
        )
    )

    for col in ds.output_columns:
        if col.min is None and col.max is None:
            continue
        if col.min is not None and col.max is not None:
            words = f"between {col.min:g} and {col.max:g}"
        elif col.min is not None:
            words = f"at least {col.min:g}"
        else:
            words = f"at most {col.max:g}"
        expect.append(
            _expectation(
                "ExpectColumnValuesToBeBetween",
                check=f"range:{col.canonical_name}",
                family="range",
                severity=col.severity,
                description=f"{col.canonical_name} is {words}",
                column=col.canonical_name,
                min_value=col.min,
                max_value=col.max,
            )
        )

    key_words = " and ".join(key_columns)
    if len(key_columns) == 1:
        expect.append(
            _expectation(
                "ExpectColumnValuesToBeUnique",
                check=f"unique:{key_columns[0]}",
                family="unique",
                severity=CRITICAL,
                description=f"no two rows share a {key_words}",
                column=key_columns[0],
            )
        )
    else:
        expect.append(
            _expectation(
                "ExpectCompoundColumnsToBeUnique",
                check=f"unique:{'+'.join(key_columns)}",
                family="unique",
                severity=CRITICAL,
                description=f"no two rows share the same {key_words}",
                about="+".join(key_columns),
                column_list=key_columns,
            )
        )

    period = ds.period_column
    window_start = datetime.combine(inputs.earliest_year.start, datetime.min.time())
    day_after_window = datetime.combine(year.end, datetime.min.time()) + timedelta(days=1)
    expect.append(
        _expectation(
            "ExpectColumnValuesToBeBetween",
            check=f"window:{period}",
            family="window",
            severity=_column_severity(ds, period),
            description=f"{period} falls between {_long_date(inputs.earliest_year.start)} and {_long_date(year.end)}",
            column=period,
            min_value=window_start,
            max_value=day_after_window,
            strict_max=True,
        )
    )

    for col in ds.output_columns:
        if not col.references:
            continue
        target_table, target_column = col.references.split(".", 1)
        values = sorted({str(v) for v in inputs.reference_values.get(col.references, ())})
        expect.append(
            _expectation(
                "ExpectColumnValuesToBeInSet",
                check=f"reference:{col.canonical_name}",
                family="reference",
                severity=col.severity,
                description=f"every {col.canonical_name} matches a {target_column} in {target_table}",
                column=col.canonical_name,
                value_set=values,
            )
        )

    year_expect = [
        _expectation(
            "ExpectTableRowCountToBeBetween",
            check="row_count:reporting_year",
            family="row_count",
            severity=CRITICAL,
            description=f"the table has at least one row in {year.label}",
            min_value=1,
        )
    ]
    previous = inputs.previous_year_rows
    if previous > 0:
        share = inputs.row_count_change_share
        year_expect.append(
            _expectation(
                "ExpectTableRowCountToBeBetween",
                check="row_count:change",
                family="row_count",
                severity=WARNING,
                description=(
                    f"the rows in {year.label} are within {share:.0%} of the {previous:,} rows in {year.previous.label}"
                ),
                min_value=math.ceil(previous * (1 - share) - 1e-9),
                max_value=math.floor(previous * (1 + share) + 1e-9),
            )
        )

    return {
        ALL_ROWS: gx.ExpectationSuite(name=f"{dataset}.{ALL_ROWS}", expectations=expect),
        YEAR_ROWS: gx.ExpectationSuite(name=f"{dataset}.{YEAR_ROWS}", expectations=year_expect),
    }


# --------------------------------------------------------------------------------------
# Running suites
# --------------------------------------------------------------------------------------

TABLE_LEVEL_FAMILIES = {"exists", "row_count"}
# Dates GX can hold as nanoseconds; values beyond are clipped to these ends, still outside any window.
_NS_SAFE_FIRST, _NS_SAFE_LAST = pd.Timestamp("1678-01-01"), pd.Timestamp("2262-01-01")


@dataclass
class ExpectationResult:
    """One expectation's outcome on one table, in the words the report uses."""

    dataset: str
    check: str
    family: str
    column: str | None
    severity: str
    description: str
    level: str  # "table" (the whole table passes or fails) | "row" (failing rows identified)
    success: bool
    unexpected_count: int | None = None
    observed: object = None
    error: str | None = None
    examples: list[dict] = field(default_factory=list)
    unexpected_values: list = field(default_factory=list)
    # Positions of failing rows in the clean table (row-level checks only; not written out).
    failing_rows: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64), repr=False)

    @property
    def critical(self) -> bool:
        return self.severity == CRITICAL

    def as_json(self) -> dict:
        return to_jsonable(
            {
                "check": self.check,
                "family": self.family,
                "column": self.column,
                "severity": self.severity,
                "level": self.level,
                "description": self.description,
                "success": self.success,
                "unexpected_count": self.unexpected_count,
                "observed": self.observed,
                "error": self.error,
                "examples": self.examples,
                "unexpected_values": self.unexpected_values,
            }
        )


def _frame_for_gx(frame: pd.DataFrame, compared: set[str]) -> pd.DataFrame:
    """The frame as GX reads it: the dates of the `compared` columns as nanoseconds.

    GX compares nanosecond dates with a window vectorised but any other unit one value at a
    time (minutes at 1.5 M rows), and the processed tables hold milliseconds. Other checks read
    either unit alike (a type check observes datetime64 for both).
    """
    out = frame.copy(deep=False)
    for column, dtype in frame.dtypes.items():
        if column not in compared:
            continue
        if isinstance(dtype, np.dtype) and dtype.kind == "M" and dtype != np.dtype("datetime64[ns]"):
            out[column] = frame[column].clip(lower=_NS_SAFE_FIRST, upper=_NS_SAFE_LAST).astype("datetime64[ns]")
    return out


def _error_message(exception_info) -> str | None:
    if not exception_info:
        return None
    infos = [exception_info] if "raised_exception" in exception_info else list(exception_info.values())
    for info in infos:
        if isinstance(info, dict) and info.get("raised_exception"):
            return str(info.get("exception_message") or "the check raised an error")
    return None


def _gx_results(batch, expectations: list, result_format: dict) -> dict:
    """GX's result for each expectation, by check name (one validation of the batch)."""
    if not expectations:
        return {}
    suite = gx.ExpectationSuite(name="sscp", expectations=expectations)
    outcome = batch.validate(suite, result_format=result_format)
    return {r.expectation_config.meta["check"]: r for r in outcome.results}


def _passed_cleanly(gx_result) -> bool:
    return bool(gx_result.success) and _error_message(gx_result.exception_info) is None


@dataclass(frozen=True)
class ScreenedPass:
    """A check its screen cleared, read as GX's result for it would be: a pass, no error, and for a
    type check the column's type as observed by GX."""

    result: dict
    success: bool = True
    exception_info: None = None


# Per-column GX expectations a screen can clear: (the expectation, its screen, the item it checks).
SCREENABLE = (
    (gxe.ExpectColumnValuesToNotBeNull, "ExpectTableColumnsToHaveNoNulls", lambda e: [e.column]),
    (gxe.ExpectColumnValuesToBeInSet, "ExpectTableColumnValuesToBeInSets", lambda e: [e.column, list(e.value_set)]),
    (gxe.ExpectColumnValuesToBeOfType, "ExpectTableColumnsToBeOfTypes", lambda e: [e.column, e.type_]),
)
SCREEN = "screen"  # the family of a screen's own result, which the report never shows


def _screens(expectations: list) -> tuple[list, dict]:
    """Screens for a suite's per-column checks, and the checks they screen by name.

    A kind is screened when two or more of its checks apply to every row (no `mostly`, no row
    condition), as the stage's suites do."""
    screens: list = []
    screened: dict = {}
    for narrow, screen, item in SCREENABLE:
        kind: list = [e for e in expectations if isinstance(e, narrow) and e.mostly == 1 and e.row_condition is None]
        if len(kind) < 2:
            continue
        screens.append(
            expectation_class(screen)(
                items=[item(e) for e in kind],
                meta={"check": f"{SCREEN}:{screen}", "family": SCREEN, "screens": [e.meta["check"] for e in kind]},
            )
        )
        screened.update((e.meta["check"], e) for e in kind)
    return screens, screened


def _cleared(screen, gx_result) -> dict:
    """The checks a screen's result clears, each as a ScreenedPass by check name."""
    if _error_message(gx_result.exception_info) is not None:
        return {}
    flagged = set(gx_result.result["details"]["flagged"])
    observed = gx_result.result["observed_value"]
    return {
        check: ScreenedPass(result={"observed_value": observed[position]} if observed is not None else {})
        for position, check in enumerate(screen.meta["screens"])
        if position not in flagged
    }


def _least_detail(batch, expectations: list) -> tuple[dict, set[str]]:
    """GX's result for each expectation by check name, and the checks whose result is complete.

    Every expectation is validated once with the least result its verdict needs; those that fail
    or raise (screens aside) are validated again with the complete result, which is what the
    report shows for them (failing rows, counts, errors) and what the quarantine reads.
    """
    by_check = _gx_results(batch, [e for e in expectations if e.meta["family"] in ROW_FAMILIES], PASS_OR_FAIL)
    by_check.update(_gx_results(batch, [e for e in expectations if e.meta["family"] not in ROW_FAMILIES], OBSERVED))
    again = [e for e in expectations if e.meta["family"] != SCREEN and not _passed_cleanly(by_check[e.meta["check"]])]
    by_check.update(_gx_results(batch, again, COMPLETE))
    return by_check, {e.meta["check"] for e in again}


def _validate_with_least_detail(frame: pd.DataFrame, expectations: list) -> tuple[dict, set[str]]:
    """GX's result for each check by name (or the screen's pass), and the checks whose result is complete.

    Screened checks are validated with their screens; those a screen does not clear are then
    validated with their own expectations, exactly as an unscreened check is.
    """
    columns = {e.column for e in expectations if isinstance(e, gxe.ExpectColumnValuesToBeBetween)}
    batch = _batch_definition(gx_context()).get_batch(batch_parameters={"dataframe": _frame_for_gx(frame, columns)})
    screens, screened = _screens(expectations)
    by_check, complete = _least_detail(batch, [e for e in expectations if e.meta["check"] not in screened] + screens)
    for screen in screens:
        by_check.update(_cleared(screen, by_check.pop(screen.meta["check"])))
    more, more_complete = _least_detail(batch, [e for check, e in screened.items() if check not in by_check])
    return by_check | more, complete | more_complete


def _columns_present(dataset: str, meta: dict, gx_result) -> list[ExpectationResult]:
    """The per-column checks of the one expectation over the table's columns: each column is
    present unless GX lists it missing."""
    error = _error_message(gx_result.exception_info)
    missing = set((gx_result.result or {}).get("details", {}).get("mismatched", {}).get("missing", ()))
    return [
        ExpectationResult(
            dataset=dataset,
            **{k: check[k] for k in ("check", "family", "column", "severity", "description")},
            level="table",
            success=error is None and (bool(gx_result.success) or check["column"] not in missing),
            error=error,
        )
        for check in meta["checks"]
    ]


def _check_result(
    frame: pd.DataFrame, dataset: str, key: list[str], meta: dict, gx_result, complete: bool
) -> ExpectationResult:
    """One check's result from GX's; failing rows, examples and unexpected values when it fails row by row."""
    details = gx_result.result or {}
    error = _error_message(gx_result.exception_info)
    if complete:
        row_level = error is None and meta["family"] not in TABLE_LEVEL_FAMILIES and "unexpected_index_list" in details
    elif meta["family"] in ROW_FAMILIES:  # passed, so no unexpected rows
        row_level, details = True, {"unexpected_count": 0}
    else:
        row_level = meta["family"] not in TABLE_LEVEL_FAMILIES and "unexpected_count" in details
    result = ExpectationResult(
        dataset=dataset,
        check=meta["check"],
        family=meta["family"],
        column=meta["column"],
        severity=meta["severity"],
        description=meta["description"],
        level="row" if row_level else "table",
        success=bool(gx_result.success) and error is None,
        unexpected_count=details.get("unexpected_count"),
        observed=details.get("observed_value"),
        error=error,
    )
    if row_level and not result.success:
        positions = np.asarray(details["unexpected_index_list"], dtype=np.int64)
        result.failing_rows = positions
        result.unexpected_count = int(len(positions))
        sample = frame.iloc[positions[:EXAMPLES_KEPT]]
        result.examples = [to_jsonable(dict(zip(key, row))) for row in sample[key].itertuples(index=False)]
        if result.family in {"codes", "reference"} and result.column in frame.columns:
            values = pd.unique(frame[result.column].iloc[positions])
            result.unexpected_values = to_jsonable(list(values[:EXAMPLES_KEPT]))
    return result


def run_suite(frame: pd.DataFrame, suite, dataset: str, key: Iterable[str] = ()) -> list[ExpectationResult]:
    """Validate a frame (RangeIndex) with a suite; results in the order of suite_checks(suite)."""
    by_check, complete = _validate_with_least_detail(frame, list(suite.expectations))
    key = [k for k in key if k in frame.columns]
    results = []
    for expectation in suite.expectations:
        meta = expectation.meta
        if "checks" in meta:
            results += _columns_present(dataset, meta, by_check[meta["check"]])
        else:
            results.append(_check_result(frame, dataset, key, meta, by_check[meta["check"]], meta["check"] in complete))
    return results


# --------------------------------------------------------------------------------------
# One table, one year
# --------------------------------------------------------------------------------------


def _table_title(ds: Dataset) -> str:
    """The dataset in words for sentences and tables: its label in the contract."""
    return ds.label


@dataclass
class TableReport:
    dataset: str
    title: str
    key: tuple[str, ...]
    year: str = ""
    rows: int = 0
    rows_in_year: int = 0
    rows_previous_year: int = 0
    rows_quarantined: int = 0
    results: list[ExpectationResult] = field(default_factory=list)
    missing_file: Path | None = None

    @property
    def rows_validated(self) -> int:
        return 0 if self.stops else self.rows - self.rows_quarantined

    @property
    def stops(self) -> list[str]:
        """Critical table-level failures, in plain words (one per column at most)."""
        if self.missing_file is not None:
            return [f"table {self.dataset} was not written by the clean stage ({self.missing_file.name} is missing)"]
        messages, missing_columns = [], set()
        for r in self.results:
            if r.success or not r.critical or r.level != "table":
                continue
            if r.family == "exists":
                missing_columns.add(r.column)
                messages.append(f"table {self.dataset} has no column {r.column}")
            elif r.column in missing_columns:
                continue  # already said: the column is missing
            elif r.error is not None:
                messages.append(f"table {self.dataset}: could not check that {r.description} ({r.error})")
            elif r.check == "row_count:reporting_year":
                messages.append(f"table {self.dataset} has no rows in {self.year}")
            elif r.family == "type":
                messages.append(
                    f"column {r.column} of table {self.dataset} holds {r.observed} values, "
                    f"but {r.description.split(' holds ', 1)[-1]} are expected"
                )
            else:
                messages.append(f"table {self.dataset} fails the check that {r.description}")
        return messages

    def counts(self) -> dict:
        evaluated = self.results
        return {
            "expectations": len(evaluated),
            "passed": sum(r.success for r in evaluated),
            "failed": sum((not r.success) and r.critical for r in evaluated),
            "warned": sum((not r.success) and not r.critical for r in evaluated),
        }

    def as_json(self) -> dict:
        return {
            "title": self.title,
            "key": list(self.key),
            "rows": self.rows,
            "rows_in_year": self.rows_in_year,
            "rows_previous_year": self.rows_previous_year,
            "rows_validated": self.rows_validated,
            "rows_quarantined": self.rows_quarantined,
            "stopped": bool(self.stops),
            "stops": self.stops,
            **self.counts(),
            "results": [r.as_json() for r in self.results],
        }


def _year_counts(frame: pd.DataFrame, year: ReportingYear) -> tuple[int, int]:
    if "reporting_year" not in frame.columns:
        return 0, 0
    counts = frame["reporting_year"].value_counts()
    return int(counts.get(year.label, 0)), int(counts.get(year.previous.label, 0))


def quarantine_mask(results: Iterable[ExpectationResult], n_rows: int) -> tuple[np.ndarray, pd.Series]:
    """Rows failing a critical row-level check, and for each the checks it failed ('; '-joined)."""
    mask = np.zeros(n_rows, dtype=bool)
    reasons = []
    for r in results:
        if r.critical and r.level == "row" and not r.success and len(r.failing_rows):
            mask[r.failing_rows] = True
            reasons.append(pd.Series(r.check, index=r.failing_rows))
    if not reasons:
        return mask, pd.Series([], dtype="string")
    joined = pd.concat(reasons).groupby(level=0, sort=True).agg("; ".join)
    return mask, joined.astype("string")


def validate_table(
    frame: pd.DataFrame, dataset: str, inputs: SuiteInputs, contract: Contract | None = None
) -> tuple[TableReport, pd.DataFrame, pd.DataFrame]:
    """Run a table's suites: (report, validated rows, quarantined rows with failed_checks)."""
    contract = contract or load_contract()
    ds = contract.dataset(dataset)
    frame = frame.reset_index(drop=True)
    rows_in_year, rows_previous = _year_counts(frame, inputs.year)
    inputs = SuiteInputs(
        year=inputs.year,
        earliest_year=inputs.earliest_year,
        reference_values=inputs.reference_values,
        previous_year_rows=rows_previous,
        row_count_change_share=inputs.row_count_change_share,
    )
    suites = build_suites(contract, dataset, inputs)
    results = run_suite(frame, suites[ALL_ROWS], dataset, ds.key)
    if "reporting_year" in frame.columns:
        in_year = frame[frame["reporting_year"] == inputs.year.label].reset_index(drop=True)
    else:
        in_year = frame.iloc[0:0]
    results += run_suite(in_year, suites[YEAR_ROWS], dataset, ds.key)

    mask, reasons = quarantine_mask(results, len(frame))
    quarantined = frame[mask].copy()
    quarantined[QUARANTINE_REASON_COLUMN] = reasons.reindex(np.flatnonzero(mask)).to_numpy()
    quarantined[QUARANTINE_REASON_COLUMN] = quarantined[QUARANTINE_REASON_COLUMN].astype("string")
    validated = frame[~mask].reset_index(drop=True) if mask.any() else frame
    report = TableReport(
        dataset=dataset,
        title=_table_title(ds),
        key=ds.key,
        year=inputs.year.label,
        rows=len(frame),
        rows_in_year=rows_in_year,
        rows_previous_year=rows_previous,
        rows_quarantined=int(mask.sum()),
        results=results,
    )
    return report, validated, quarantined.reset_index(drop=True)


def _validation_order(contract: Contract) -> list[str]:
    """Datasets with every referenced table before the tables that refer to it."""
    order: list[str] = []

    def visit(name: str, seen: tuple[str, ...] = ()) -> None:
        if name in order or name in seen:
            return
        for col in contract.dataset(name).output_columns:
            if col.references:
                visit(col.references.split(".", 1)[0], (*seen, name))
        order.append(name)

    for name in contract.datasets:
        visit(name)
    return order


def earliest_year_in(
    frames: Mapping[str, pd.DataFrame | None], contract: Contract, year: ReportingYear
) -> ReportingYear:
    """The earliest reporting year holding a row of any table (by its period date), at most `year`."""
    earliest = year
    for name, frame in frames.items():
        period = contract.dataset(name).period_column
        if frame is None or period not in frame.columns or not pd.api.types.is_datetime64_any_dtype(frame[period]):
            continue
        first = frame[period].min()
        if pd.notna(first):
            earliest = min(earliest, ReportingYear.containing(first.date()))
    return earliest


@dataclass
class ValidationReport:
    year: ReportingYear
    earliest_year: ReportingYear
    tables: dict[str, TableReport]
    # With a reuse store: per dataset, its validation key and whether it was reused (from which run).
    reuse: list[dict] = field(default_factory=list)

    @property
    def results(self) -> list[ExpectationResult]:
        return [r for t in self.tables.values() for r in t.results]

    @property
    def stops(self) -> list[str]:
        return [m for t in self.tables.values() for m in t.stops]

    @property
    def stopped(self) -> bool:
        return bool(self.stops)

    @property
    def rows_quarantined(self) -> int:
        return sum(t.rows_quarantined for t in self.tables.values() if not t.stops)

    @property
    def warnings(self) -> list[str]:
        """Sentences for the statement's data-quality note."""
        sentences = []
        for t in self.tables.values():
            if t.stops:
                continue
            for r in t.results:
                if r.success or r.critical:
                    continue
                if r.check == "row_count:change":
                    previous, current = t.rows_previous_year, t.rows_in_year
                    change = (current - previous) / previous
                    sentences.append(
                        f"{t.title}: {current:,} records in {self.year.label}, {abs(change):.0%} "
                        f"{'more' if change > 0 else 'fewer'} than the {previous:,} in {self.year.previous.label}."
                    )
                elif r.level == "row":
                    sentences.append(
                        f"{t.title}: {r.unexpected_count:,} records fail the check that "
                        f"{r.description}; they are kept in the figures."
                    )
                else:
                    sentences.append(f"{t.title}: the table fails the check that {r.description}.")
            if t.rows_quarantined:
                failed = [r.description for r in t.results if r.critical and r.level == "row" and not r.success]
                sentences.append(
                    f"{t.title}: {t.rows_quarantined:,} records are left out of the figures because they "
                    f"fail validation ({'; '.join(failed)})."
                )
        return sentences

    def stop_message(self) -> str:
        return "validation stopped the chain: " + "; ".join(self.stops)

    def stop_error(self) -> ValidationStop | None:
        """The error that stops the chain, or None when no table stopped it."""
        if not self.stopped:
            return None
        return ValidationStop(self.stop_message(), report=self)

    def raise_if_stopped(self) -> None:
        error = self.stop_error()
        if error is not None:
            raise error

    def as_json(self) -> dict:
        return {
            "year": self.year.label,
            "window": {"start": self.earliest_year.start.isoformat(), "end": self.year.end.isoformat()},
            "great_expectations": gx.__version__,
            "stopped": self.stopped,
            "stops": self.stops,
            "warnings": self.warnings,
            "rows_quarantined": self.rows_quarantined,
            "tables": {name: t.as_json() for name, t in self.tables.items()},
            **({"reuse": self.reuse} if self.reuse else {}),
        }


def _read_columns(path: Path, columns: list[str]) -> pd.DataFrame | None:
    """Those of `columns` a clean table holds (a column-pruned read), or None when there is no file."""
    if not path.exists():
        return None
    present = set(pq.read_schema(path).names)
    return pd.read_parquet(path, columns=[c for c in columns if c in present])


class _LazyValues:
    """A reused validated table's referenced values, read only when a rebuilt table needs them."""

    def __init__(self, path: Path, column: str):
        self.path, self.column = path, column

    def __call__(self) -> np.ndarray:
        frame = _read_columns(self.path, [self.column])
        if frame is None or self.column not in frame.columns:
            return np.array([], dtype=object)
        return frame[self.column].dropna().unique()


def _store_validation(
    store: ReuseStore,
    name: str,
    key: tuple[str, dict],
    report: TableReport,
    validated: Path,
    quarantined: Path,
    year: ReportingYear,
    built: str,
) -> None:
    """Keep a table's validation: its files, and its report (failing rows' positions left out:
    they served the quarantine, which is kept)."""
    kept = dataclasses.replace(
        report, results=[dataclasses.replace(r, failing_rows=np.empty(0, dtype=np.int64)) for r in report.results]
    )
    store.root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=store.root, prefix=".report-") as folder:
        pickled = Path(folder) / "report.pickle"
        pickled.write_bytes(pickle.dumps(kept, protocol=pickle.HIGHEST_PROTOCOL))
        store.save(
            VALIDATE_STAGE,
            name,
            key[0],
            {"validated.parquet": validated, "quarantine.parquet": quarantined, "report.pickle": pickled},
            {"year": year.label, "built": built, "key_parts": key[1]},
        )


def validate_year(
    year: ReportingYear,
    paths: Paths,
    config: PartnershipConfig,
    *,
    contract: Contract | None = None,
    earliest_year: ReportingYear | None = None,
    stop: bool = True,
    store: ReuseStore | None = None,
    fresh: bool = False,
) -> ValidationReport:
    """Validate the year's clean tables and write validated/, quarantine/ and validation.json.

    A critical table-level failure raises ValidationStop after validation.json is written
    (with stop=False the report is returned; call report.raise_if_stopped() when shown).
    A stopped table gets no validated or quarantine file (an older one is removed).
    With a `store`, a table whose validation key (sscp_lib.validation.reuse) has an entry there is
    reused unless `fresh`: its validated and quarantine files linked in, its report as it was.
    """
    contract = contract or load_contract()
    clean_dir = paths.clean_dir(year)
    clean_files = {name: clean_dir / f"{name}.parquet" for name in contract.datasets}
    configured = config.get("data_rules", {}).get("earliest_year")
    earliest = earliest_year or (
        ReportingYear.parse(configured)
        if configured
        else earliest_year_in(
            {name: _read_columns(path, [contract.dataset(name).period_column]) for name, path in clean_files.items()},
            contract,
            year,
        )
    )
    share = float(config["analysis"]["row_count_change_warning_share"])

    # One table in memory at a time; of a validated table only the values other tables refer to.
    referenced = {col.references for ds in contract.datasets.values() for col in ds.output_columns if col.references}
    reference_values: dict[str, np.ndarray | _LazyValues] = {}
    tables: dict[str, TableReport] = {}
    order = _validation_order(contract)
    keys = (
        validation_keys(order, contract, recorded_keys(clean_dir), year, earliest, share) if store is not None else {}
    )
    reused: dict[str, Entry] = {}
    for name, (key, _) in keys.items():
        entry = None if fresh else store.find(VALIDATE_STAGE, name, key) if store is not None else None
        if entry is not None:
            reused[name] = entry
    built = now_label()
    for name in order:
        ds = contract.dataset(name)
        validated_path = paths.validated_dir(year) / f"{name}.parquet"
        quarantine_path = paths.quarantine_dir(year) / f"{name}.parquet"
        if name in reused:
            entry = reused[name]
            link_or_copy(entry.file("validated.parquet"), validated_path)
            link_or_copy(entry.file("quarantine.parquet"), quarantine_path)
            with open(entry.file("report.pickle"), "rb") as fh:
                tables[name] = pickle.load(fh)
            for reference in referenced:
                target, target_column = reference.split(".", 1)
                if target == name:  # read only if a table validated in this run refers to it
                    reference_values[reference] = _LazyValues(validated_path, target_column)
            continue
        if not clean_files[name].exists():
            tables[name] = TableReport(
                dataset=name,
                title=_table_title(ds),
                key=ds.key,
                year=year.label,
                missing_file=clean_files[name],
            )
            validated_path.unlink(missing_ok=True)
            quarantine_path.unlink(missing_ok=True)
            continue
        references = {}
        for col in ds.output_columns:
            if col.references:
                target, target_column = col.references.split(".", 1)
                if col.references in reference_values:
                    values = reference_values[col.references]
                    references[col.references] = values() if isinstance(values, _LazyValues) else values
                else:  # the target table stopped: its clean rows, if any
                    target_rows = _read_columns(clean_files[target], [target_column])
                    if target_rows is not None and target_column in target_rows.columns:
                        references[col.references] = target_rows[target_column].dropna().unique()
        inputs = SuiteInputs(
            year=year, earliest_year=earliest, reference_values=references, row_count_change_share=share
        )
        table_report, validated, quarantined = validate_table(
            pd.read_parquet(clean_files[name]), name, inputs, contract
        )
        tables[name] = table_report
        if table_report.stops:
            validated_path.unlink(missing_ok=True)
            quarantine_path.unlink(missing_ok=True)
            continue
        for reference in referenced:
            target, target_column = reference.split(".", 1)
            if target == name and target_column in validated.columns:
                reference_values[reference] = validated[target_column].dropna().unique()
        write_parquet_atomic(validated, validated_path)
        write_parquet_atomic(quarantined, quarantine_path)
        del validated, quarantined
        if store is not None and name in keys:
            _store_validation(store, name, keys[name], table_report, validated_path, quarantine_path, year, built)

    records = [
        {
            "dataset": name,
            "key": keys[name][0] if name in keys else None,
            "outcome": "reused" if name in reused else "rebuilt",
            "reused_from": reused[name].built_by if name in reused else None,
        }
        for name in contract.datasets
    ]
    ordered = {name: tables[name] for name in contract.datasets}
    report = ValidationReport(year=year, earliest_year=earliest, tables=ordered, reuse=records if store else [])
    write_json_atomic(paths.validation_report(year), report.as_json())
    if stop:
        report.raise_if_stopped()
    return report


# --------------------------------------------------------------------------------------
# Metrics and the reviewer's tables
# --------------------------------------------------------------------------------------


def summary_frame(report: ValidationReport) -> pd.DataFrame:
    """One row per table: rows, expectations passed/failed/warned, rows quarantined, outcome. (Rows
    validated, the rows less those quarantined, are left out so that the table fits the page unsplit.)"""
    rows = []
    for t in report.tables.values():
        rows.append(
            {
                "dataset": t.dataset,
                "rows": t.rows,
                f"rows in {report.year.label}": t.rows_in_year,
                **t.counts(),
                "rows_quarantined": t.rows_quarantined,
                "outcome": "STOP: " + "; ".join(t.stops) if t.stops else "ok",
            }
        )
    # Short headings, so that the ten columns fit the report's text column at 1,280 px.
    labels = {
        f"rows in {report.year.label}": f"In {report.year.label}",
        "expectations": "Checks",
        "rows_quarantined": "Quarantined",
    }
    return report_frame(pd.DataFrame(rows), empty="No table was validated.", labels=labels)


def _example_words(examples: list[dict]) -> str:
    return "; ".join(", ".join(f"{v}" for v in example.values()) for example in examples)


def expectations_frame(report: ValidationReport, dataset: str) -> pd.DataFrame:
    """One row per expectation of a table: outcome, severity, failing count, example keys."""
    rows = []
    for r in report.tables[dataset].results:
        rows.append(
            {
                "check": r.description,
                "family": r.family,
                "severity": r.severity,
                "result": "pass" if r.success else ("FAIL" if r.critical else "warn"),
                "failing rows": r.unexpected_count if r.level == "row" else None,
                "example keys": _example_words(r.examples),
                "unexpected values": ", ".join(str(v) for v in r.unexpected_values),
                "note": r.error or ("" if r.success or r.level == "row" else f"observed {r.observed}"),
            }
        )
    columns = ["check", "family", "severity", "result", "failing rows", "example keys", "unexpected values", "note"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["failing rows"] = frame["failing rows"].astype("Int64")
    return report_frame(frame, empty="This table has no expectations.")


def failures_frame(report: ValidationReport) -> pd.DataFrame:
    """Every expectation not met, across tables, for the reviewer's first look."""
    frames = []
    for name in report.tables:
        frame = expectations_frame(report, name)
        frame.insert(0, "dataset", name)
        frames.append(frame[frame["result"] != "pass"])
    failures = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return report_frame(failures, empty="No expectation failed.")


def quarantine_frame(report: ValidationReport) -> pd.DataFrame:
    """Rows quarantined by table and check (a row failing two checks counts under both)."""
    rows = [
        {"dataset": t.dataset, "check": r.description, "rows": r.unexpected_count}
        for t in report.tables.values()
        for r in t.results
        if r.critical and r.level == "row" and not r.success
    ]
    frame = pd.DataFrame(rows, columns=["dataset", "check", "rows"])
    totals = pd.DataFrame(
        [
            {"dataset": t.dataset, "check": "rows quarantined (any check)", "rows": t.rows_quarantined}
            for t in report.tables.values()
            if t.rows_quarantined
        ]
    )
    quarantined = pd.concat([frame, totals], ignore_index=True) if len(totals) else frame
    return report_frame(quarantined, empty="No rows were quarantined.")


def run_summary(report: ValidationReport) -> pd.DataFrame:
    """The run in one small table: year, date window, outcome."""
    summary = pd.DataFrame(
        [
            ("reporting year", report.year.label),
            ("period dates must fall from", _long_date(report.earliest_year.start)),
            ("to", _long_date(report.year.end)),
            ("tables", len(report.tables)),
            ("expectations", len(report.results)),
            ("outcome", "STOPPED: " + "; ".join(report.stops) if report.stopped else "passed: the chain goes on"),
        ],
        columns=["", "value"],
    ).set_index("")
    return report_frame(summary)
