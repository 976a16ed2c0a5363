"""The clean stage: raw agency files to canonical, pseudonymous tables with a clean log.

For each dataset of the contract, every file in the reporting year's folder and in earlier year
folders is read (sscp_lib.ingest.readers), its headings mapped to contract columns, its values parsed to
contract types. A row that cannot be used is rejected with file, row, column and reason (never
with a raw identifier); exact duplicate rows are removed and counted; configured rules are applied
(NFA -> ADVICE_INFO from the changeover date), identifiers pseudonymised and personal data dropped.
Every step is vectorised over columns (Python loops run over distinct values, not rows).
"""

from __future__ import annotations

import dataclasses
import re
import shlex
import shutil
from collections.abc import Callable, Iterator, Mapping
from contextlib import closing, nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sscp_lib.config import PartnershipConfig, ReportingYear
from sscp_lib.contract import CodeList, Column, Contract, Dataset, load_contract, normalise_header
from sscp_lib.errors import InputFileError, UserError
from sscp_lib.files import write_json_atomic, write_parquet_atomic
from sscp_lib.ingest.cin_census import read_cin_census
from sscp_lib.ingest.clean_reuse import STAGE as CLEAN_STAGE
from sscp_lib.ingest.clean_reuse import InputHashes, clean_key
from sscp_lib.ingest.pseudonymise import PseudonymCache, normalise_identifier, pseudonymise
from sscp_lib.ingest.readers import RawTable, read_annex_a, read_raw_file
from sscp_lib.ingest.sources import (
    ANNEX_A,
    CIN_CENSUS,
    DEFAULT_SUFFIXES,
    FALSE_WORDS,
    HOW_IGNORED,
    MULTI_SOURCES,
    TRUE_WORDS,
    MultiSource,
    Sources,
    SourceSpec,
    resolve_sources,
)
from sscp_lib.report_tables import report_frame
from sscp_lib.reuse import RECORD_FILE, Entry, ReuseStore, link_or_copy, now_label
from sscp_lib.synthetic import SAMPLE_MARKER, has_sample_marker
from sscp_lib.worker import FreshProcess

RAW_SUFFIXES = set(DEFAULT_SUFFIXES)
# Plausible bounds for any date in partnership records.
EARLIEST_DATE = pd.Timestamp("1900-01-01")
LATEST_DATE = pd.Timestamp("2100-12-31")
# Excel serial day numbers accepted as dates (1927 to 2119); smaller numbers are not dates here.
EXCEL_SERIAL_RANGE = (10_000, 80_000)

# Two lanes (dataset_lanes): a second process cleans some datasets while the stage's own process
# cleans the others, once the files are big enough to pay for the process's start: at 10x the
# sample (58 MB) clean takes about three quarters of the time; at the sample's size (6 MB) it
# would take longer.
SECOND_PROCESS_FROM_BYTES = 20_000_000
# A lane's work in bytes of CSV, as measured at 10x the sample: about 0.09 s per MB of CSV, six
# times that per MB of XLSX (compressed), 0.1 s per dataset whatever its size, and a second for
# the second process to start and import.
XLSX_WEIGHT = 6
DATASET_BYTES = 1_000_000
PROCESS_START_BYTES = 10_000_000

REASON_REQUIRED_EMPTY = "required value empty"
REASON_BAD_DATE = "unparseable date"
REASON_IMPLAUSIBLE_DATE = "implausible date (before 1900 or after 2100)"
REASON_AFTER_YEAR = "date after the end of the reporting year"
REASON_UNKNOWN_CODE = "unknown code"
REASON_BAD_BOOL = "not a yes/no value"
REASON_NOT_WHOLE = "not a whole number"
REASON_NOT_NUMBER = "not a number"

# Why a file in a year folder, or one list of an Annex A workbook, was not read.
NOT_READ_NO_DATASET = "name matches no dataset"
NOT_READ_REPLACED = {ANNEX_A: "replaced by the Annex A workbook", CIN_CENSUS: "replaced by the CIN census return"}
# How each multi-dataset source is read: one raw table per dataset it gives.
MULTI_READERS: dict[str, Callable[[Path, Contract], dict[str, RawTable]]] = {
    ANNEX_A: read_annex_a,
    CIN_CENSUS: read_cin_census,
}

LOG_COLUMNS = {
    "dataset": "string",
    "file": "string",
    "sheet": "string",
    "format": "string",
    "encoding": "string",
    "rows_read": "Int64",
    "rows_kept": "Int64",
    "duplicates_removed": "Int64",
    "rows_rejected": "Int64",
    "rows_skipped": "Int64",
    "extra_columns": "string",
}
REJECTED_COLUMNS = {
    "dataset": "string",
    "file": "string",
    "sheet": "string",
    "row": "Int64",
    "column": "string",
    "reason": "string",
    "value": "string",
}

# Names of the built-in date spellings (`sscp inspect` counts values by the spelling that read them).
SPELLING_ISO = "ISO (2023-04-01)"
SPELLING_DMY = "day/month/year (01/04/2023)"
SPELLING_DMY_SHORT = "day/month/2-digit year (1/4/23)"
SPELLING_SERIAL = "Excel serial number (45017)"

# ---------------------------------------------------------------------------------------------
# Value parsers: a Series of stripped strings ("" = empty) -> (typed Series, failure reason or None)


_ISO_RE = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_DMY_RE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_SERIAL_RE = re.compile(r"^(\d{4,6})(?:\.\d+)?$")
_TIME_SUFFIX_RE = re.compile(r"[T ]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?$")
_EXCEL_EPOCH_DATE = date(1899, 12, 30)


def date_spelling(text: str, formats: tuple[str, ...] = ()) -> tuple[date | None, str | None]:
    """(date, the spelling that read it) for one value, or (None, None).

    `formats` (strptime, from a source mapping) are tried first, with or without a time after
    them, and replace the built-in day-first spellings. ISO dates (as xlsx date cells are given)
    and Excel serial day numbers are always read. Day-first otherwise, as UK exports are.
    """
    text = text.strip()
    for fmt in formats:
        for candidate in (text, _TIME_SUFFIX_RE.sub("", text)):
            try:
                return datetime.strptime(candidate, fmt).date(), fmt
            except ValueError:
                continue
    try:
        if match := _ISO_RE.match(text):
            y, m, d = match.groups()
            return date(int(y), int(m), int(d)), SPELLING_ISO
        if not formats and (match := _DMY_RE.match(text)):
            d, m, y = match.groups()
            year = int(y)
            if len(y) == 2:
                # Two-digit years: 00-69 are 2000s, 70-99 are 1900s.
                year += 2000 if year < 70 else 1900
            return date(year, int(m), int(d)), (SPELLING_DMY_SHORT if len(y) == 2 else SPELLING_DMY)
        if match := _SERIAL_RE.match(text):
            serial = int(match.group(1))
            if EXCEL_SERIAL_RANGE[0] <= serial <= EXCEL_SERIAL_RANGE[1]:
                return _EXCEL_EPOCH_DATE + timedelta(days=serial), SPELLING_SERIAL
    except ValueError:  # 31/02/2023 and the like
        return None, None
    return None, None


def parse_date_text(text: str, formats: tuple[str, ...] = ()) -> date | None:
    """One date spelling -> date, or None (see date_spelling).

    Accepts ISO (2023-04-01, with or without a time), d/m/yyyy and d/m/yy (/, - or .), Excel serial
    day numbers and xlsx date cells (which the reader gives as ISO). Times are dropped.
    """
    return date_spelling(text, formats)[0]


def parse_date_values(values: pd.Series, formats: tuple[str, ...] = ()) -> pd.Series:
    """Date spellings -> datetime64[ms] (NaT when not a date). Python runs once per distinct value."""
    days = [parse_date_text(v, formats) if isinstance(v, str) else None for v in values]
    stamps = np.array(
        [np.datetime64(d, "ms") if d is not None else np.datetime64("NaT", "ms") for d in days], dtype="datetime64[ms]"
    )
    return pd.Series(stamps, index=values.index, dtype="datetime64[ms]")


def _map_distinct(values: pd.Series, convert) -> tuple[pd.Series, np.ndarray]:
    """Apply `convert` (distinct values -> Series aligned to them) and map back to every row.

    The distinct values and each row's position among them come from an Arrow dictionary
    encoding of the (Arrow-backed) text: no Python string per row.
    """
    text = pa.array(values, type=pa.large_string())
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    encoded = pc.dictionary_encode(text, null_encoding="encode")
    converted = convert(pd.Series(pd.arrays.ArrowStringArray(encoded.dictionary), dtype="string"))
    return converted, encoded.indices.to_numpy()


def parse_dates(values: pd.Series, formats: tuple[str, ...] = ()) -> tuple[pd.Series, pd.Series]:
    """(datetime64[ms] Series, reason Series: None where fine or empty)."""
    converted, positions = _map_distinct(values, lambda distinct: parse_date_values(distinct, formats))
    parsed = pd.Series(converted.to_numpy()[positions], index=values.index, dtype="datetime64[ms]")
    empty = values == ""
    bad = parsed.isna() & ~empty
    implausible = parsed.notna() & ((parsed < EARLIEST_DATE) | (parsed > LATEST_DATE))
    reasons = pd.Series(None, index=values.index, dtype="object")
    reasons[bad] = REASON_BAD_DATE
    reasons[implausible] = REASON_IMPLAUSIBLE_DATE
    parsed[implausible] = pd.NaT
    return parsed, reasons


_LETTER_PREFIX = re.compile(r"^[a-z]{1,2}\)\s*")
_CODE_AND_LABEL = re.compile(r"^([^:]+?)\s*:\s*(.+)$")


def normalise_code(value: str, lookup: Mapping[str, str], values: Mapping[str, str] | None = None) -> str | None:
    """Canonical code for one raw spelling, or None when unknown.

    Tries the spelling itself (code, label or alias, any case), then without an Annex A letter
    prefix ('a) Neglect' -> 'Neglect'), then each side of 'code: label' ('10: Unknown').
    `values` are dataset-specific spellings (Annex A 'Referral NFA?' Yes/No) tried first.
    """
    text = " ".join(str(value).split()).lower()
    candidates = [text]
    stripped = _LETTER_PREFIX.sub("", text)
    if stripped != text:
        candidates.append(stripped)
    match = _CODE_AND_LABEL.match(stripped)
    if match:
        candidates.extend([match.group(1), match.group(2)])
    for candidate in candidates:
        if values and candidate in values:
            return values[candidate]
        if candidate in lookup:
            return lookup[candidate]
    return None


def parse_codes(
    values: pd.Series, code_list: CodeList, extra: Mapping[str, str] | None = None
) -> tuple[pd.Series, pd.Series]:
    lookup = code_list.lookup()
    extra_lower = {" ".join(str(k).split()).lower(): str(v) for k, v in (extra or {}).items()}

    def convert(distinct: pd.Series) -> pd.Series:
        return pd.Series(
            [None if v == "" else normalise_code(v, lookup, extra_lower) for v in distinct], dtype="string"
        )

    converted, positions = _map_distinct(values, convert)
    codes = pd.Series(converted.array[positions], index=values.index, dtype="string")
    reasons = pd.Series(None, index=values.index, dtype="object")
    reasons[codes.isna() & (values != "")] = REASON_UNKNOWN_CODE
    return codes, reasons


def parse_bools(
    values: pd.Series, yes_words: frozenset[str] = TRUE_WORDS, no_words: frozenset[str] = FALSE_WORDS
) -> tuple[pd.Series, pd.Series]:
    """Yes/no words (compared without case or extra spaces) -> boolean."""
    folded = values.str.lower().str.split().str.join(" ")
    result = pd.Series(pd.NA, index=values.index, dtype="boolean")
    result[folded.isin(list(yes_words))] = True
    result[folded.isin(list(no_words))] = False
    reasons = pd.Series(None, index=values.index, dtype="object")
    reasons[result.isna() & (values != "")] = REASON_BAD_BOOL
    return result, reasons


def parse_numbers(values: pd.Series, whole: bool) -> tuple[pd.Series, pd.Series]:
    # Thousands separators and pound signs are how spreadsheets show money and counts.
    cleaned = values.str.replace(r"[£,\s]", "", regex=True)
    numbers = pd.to_numeric(cleaned.where(cleaned != "", None), errors="coerce").astype("Float64")
    reasons = pd.Series(None, index=values.index, dtype="object")
    unparsed = numbers.isna() & (values != "")
    reasons[unparsed] = REASON_NOT_WHOLE if whole else REASON_NOT_NUMBER
    if whole:
        fractional = numbers.notna() & (numbers != numbers.round())
        reasons[fractional.fillna(False)] = REASON_NOT_WHOLE
        numbers = numbers.where(~fractional.fillna(False), pd.NA).round().astype("Int64")
    return numbers, reasons


def parse_column(
    values: pd.Series, column: Column, contract: Contract, spec: SourceSpec | None = None
) -> tuple[pd.Series, pd.Series]:
    """One raw column -> (typed values, reason per row or None). Empty required values fail.

    `spec` is the file's source mapping: its value spellings, date formats and yes/no words.
    """
    if column.type == "date":
        parsed, reasons = parse_dates(values, spec.date_formats if spec else ())
    elif column.type == "code":
        parsed, reasons = parse_codes(
            values, contract.codes_for(column), spec.values.get(column.name) if spec else None
        )
    elif column.type == "bool":
        parsed, reasons = parse_bools(values, *((spec.yes_words, spec.no_words) if spec else ()))
    elif column.type in {"int", "float"}:
        parsed, reasons = parse_numbers(values, whole=column.type == "int")
        if column.min is not None:
            reasons[(parsed < column.min).fillna(False) & reasons.isna()] = f"below the minimum of {column.min:g}"
        if column.max is not None:
            reasons[(parsed > column.max).fillna(False) & reasons.isna()] = f"above the maximum of {column.max:g}"
    else:
        parsed = values.astype("string").where(values != "", pd.NA)
        if column.role == "pseudonymise":
            # Identifiers compare as the pseudonym sees them, so 'c1' and 'C1 ' are one child.
            parsed = normalise_identifier(parsed)
        reasons = pd.Series(None, index=values.index, dtype="object")
    if not column.nullable:
        reasons[(values == "") & reasons.isna()] = REASON_REQUIRED_EMPTY
    return parsed, reasons


# ---------------------------------------------------------------------------------------------
# Files: which ones, and mapping their headings


@dataclass
class SourceFile:
    """One table to clean: a CSV/XLSX file, or one list of an Annex A workbook, with its mapping."""

    dataset: str
    path: Path
    year: ReportingYear
    spec: SourceSpec
    sheet: str | None = None

    @property
    def multi(self) -> str | None:
        """The multi-dataset source the file is ('annex_a'), None for a dataset's own file."""
        return self.spec.multi

    @property
    def annex_a(self) -> bool:
        return self.spec.multi == ANNEX_A

    @property
    def cin_census(self) -> bool:
        return self.spec.multi == CIN_CENSUS


@dataclass(frozen=True)
class NotRead:
    """A file, or one list of an Annex A workbook, left unread, and why."""

    path: Path
    reason: str
    sheet: str | None = None
    dataset: str | None = None  # the dataset it would have given
    year: ReportingYear | None = None  # of the folder it is in


def year_folders(raw_dir: Path, year: ReportingYear) -> list[tuple[ReportingYear, Path]]:
    """The reporting year's folder and every earlier year folder present, oldest first."""
    folders = []
    for folder in sorted(p for p in Path(raw_dir).iterdir() if p.is_dir()) if Path(raw_dir).is_dir() else []:
        try:
            folder_year = ReportingYear.parse(folder.name)
        except ValueError:
            continue
        if folder_year <= year:
            folders.append((folder_year, folder))
    return folders


def folder_files(folder: Path) -> list[Path]:
    """The files of a year folder that may be data: not hidden, not Office lock files, not the sample marker."""
    return sorted(
        p
        for p in Path(folder).iterdir()
        if p.is_file() and not p.name.startswith((".", "~$")) and p.name != SAMPLE_MARKER
    )


def discover_files(
    raw_dir: Path, year: ReportingYear, contract: Contract, sources: Sources | None = None
) -> tuple[dict[str, list[SourceFile]], list[Path], list[NotRead]]:
    """(dataset -> source files, files not recognised, files or Annex A lists replaced by a fuller source).

    Each file is claimed by one source mapping (sscp_lib.ingest.sources); two claims are a UserError. A
    dataset that a multi-dataset source in the folder gives is read from the fullest such source
    (sources.MULTI_SOURCES order: a CIN census return, then an Annex A workbook), not from the
    others nor from its own files that year, so no record is counted twice.
    """
    sources = sources or resolve_sources(contract)
    by_dataset: dict[str, list[SourceFile]] = {name: [] for name in contract.datasets}
    unrecognised: list[Path] = []
    superseded: list[NotRead] = []
    for folder_year, folder in year_folders(raw_dir, year):
        owners = {path: sources.owner_of(path, _relative(path, raw_dir)) for path in folder_files(folder)}
        present = {owner.name for owner in owners.values() if isinstance(owner, MultiSource)}
        taken_from: dict[str, str] = {}  # dataset -> the multi-dataset source it is read from
        for name in MULTI_SOURCES:
            if name in present:
                for dataset in sources.multi[name].parts:
                    taken_from.setdefault(dataset, name)
        for path, owner in owners.items():
            if owner is None:
                unrecognised.append(path)
            elif isinstance(owner, MultiSource):
                for dataset, spec in owner.parts.items():
                    if taken_from[dataset] == owner.name:
                        by_dataset[dataset].append(SourceFile(dataset, path, folder_year, spec))
                    else:
                        superseded.append(
                            NotRead(path, NOT_READ_REPLACED[taken_from[dataset]], spec.sheet, dataset, folder_year)
                        )
            elif owner.dataset in taken_from:
                superseded.append(
                    NotRead(path, NOT_READ_REPLACED[taken_from[owner.dataset]], None, owner.dataset, folder_year)
                )
            else:
                by_dataset[owner.dataset].append(SourceFile(owner.dataset, path, folder_year, owner))
    return by_dataset, unrecognised, superseded


@dataclass
class HeadingMatch:
    """How a table's headings map to a dataset's columns under one source mapping."""

    mapping: dict[int, str]  # frame column position -> contract column
    how: dict[int, str]  # frame column position -> how it matched (sscp_lib.ingest.sources HOW_*), ignored included
    extras: list[str]  # headings not used (listed in the clean log)
    duplicates: dict[str, list[str]]  # contract column -> every heading that means it (two or more)
    missing: list[Column]  # required columns no heading means

    @property
    def problems(self) -> list[tuple[str | None, str]]:
        """(column, problem) for everything that stops the file being cleaned."""
        found: list[tuple[str | None, str]] = [
            (
                column,
                "headings "
                + " and ".join(repr(h) for h in headings)
                + f" {'both' if len(headings) == 2 else 'all'} mean column {column!r}; remove or ignore all but one",
            )
            for column, headings in self.duplicates.items()
        ]
        for column in self.missing:
            accepted = ", ".join([column.name, *column.aliases])
            found.append((column.name, f"missing required column; accepted headings: {accepted}"))
        return found


def match_headings(headings: list[str], frame: pd.DataFrame, dataset: Dataset, spec: SourceSpec) -> HeadingMatch:
    """Map each heading to a contract column by the source mapping (contract names and aliases by default)."""
    rules = spec.headings
    mapping: dict[int, str] = {}
    how: dict[int, str] = {}
    seen: dict[str, list[str]] = {}
    extras: list[str] = []
    for position, heading in enumerate(headings):
        rule = rules.get(normalise_header(heading))
        if rule is None or rule.column is None:
            if rule is not None:
                how[position] = HOW_IGNORED
            if heading.strip():
                extras.append(heading)
            elif (frame[position] != "").any():
                extras.append(f"(unnamed column {position + 1})")
            continue
        seen.setdefault(rule.column, []).append(heading)
        mapping[position] = rule.column
        how[position] = rule.how
    duplicates = {column: found for column, found in seen.items() if len(found) > 1}
    missing = [column for column in dataset.required_columns if column.name not in seen]
    return HeadingMatch(mapping, how, extras, duplicates, missing)


def map_headings(table: RawTable, dataset: Dataset, source: SourceFile) -> tuple[dict[int, str], list[str]]:
    """(frame column position -> contract column, extra headings ignored).

    A file whose headings cannot be used is one InputFileError listing every problem in it.
    """
    match = match_headings(table.headings, table.frame, dataset, source.spec)
    problems = match.problems
    if problems:
        where = f" (sheet {table.sheet})" if source.multi else ""
        advice = f"run `sscp inspect {shlex.quote(str(source.path))}` for a suggested mapping"
        if len(problems) == 1:
            ((column, problem),) = problems
            row = table.header_row if column in match.duplicates else None
            raise InputFileError(source.path, f"{problem}{where}; {advice}", row=row, column=column)
        listed = "; ".join(f"({i}) column {column!r}: {problem}" for i, (column, problem) in enumerate(problems, 1))
        raise InputFileError(
            source.path, f"{len(problems)} problems with the headings{where}: {listed}; {advice}", row=table.header_row
        )
    return match.mapping, match.extras


# ---------------------------------------------------------------------------------------------
# Cleaning one dataset


@dataclass
class FileOutcome:
    source: SourceFile
    table: RawTable
    parsed: pd.DataFrame  # rows kept after row checks, contract columns (raw identifiers still present)
    row_numbers: np.ndarray
    rejected: pd.DataFrame
    extras: list[str]


def _relative(path: Path, root: Path) -> str:
    try:
        return Path(path).relative_to(root).as_posix()
    except ValueError:
        return Path(path).as_posix()


def clean_file(
    source: SourceFile, table: RawTable, dataset: Dataset, contract: Contract, year: ReportingYear, raw_dir: Path
) -> FileOutcome:
    """Parse one raw table to contract types; reject rows that cannot be used."""
    mapping, extras = map_headings(table, dataset, source)
    by_column = {column: position for position, column in mapping.items()}
    n = len(table.frame)
    empty = pd.Series([""] * n, dtype="str")
    parsed: dict[str, pd.Series] = {}
    first_reason = pd.Series(None, index=range(n), dtype="object")
    failing_column = pd.Series(None, index=range(n), dtype="object")
    failing_value = pd.Series(None, index=range(n), dtype="object")
    period_end = pd.Timestamp(year.end)
    for column in dataset.columns:
        if column.role == "drop":
            continue  # personal data: never parsed, never kept
        raw = table.frame[by_column[column.name]] if column.name in by_column else empty
        values, reasons = parse_column(raw, column, contract, source.spec)
        if column.name == dataset.period_column:
            reasons[(values > period_end).fillna(False) & reasons.isna()] = REASON_AFTER_YEAR
        new = reasons.notna() & first_reason.isna()
        if new.any():
            first_reason[new] = reasons[new]
            failing_column[new] = column.name
            # Values of structured columns help the user find the row; identifiers and free text never leave.
            if column.type in {"date", "code", "bool", "int", "float"} and not column.is_identifier:
                failing_value[new] = raw[new].str.slice(0, 100)
        parsed[column.name] = values
    rejected_mask = first_reason.notna().to_numpy()
    file_label = _relative(source.path, raw_dir)
    rejected = pd.DataFrame(
        {
            "dataset": dataset.name,
            "file": file_label,
            "sheet": table.sheet if source.multi or source.spec.sheet else None,
            "row": table.file_rows(rejected_mask),
            "column": failing_column[rejected_mask].to_numpy(),
            "reason": first_reason[rejected_mask].to_numpy(),
            "value": failing_value[rejected_mask].to_numpy(),
        }
    )
    frame = pd.DataFrame(parsed)
    if not dataset.output_columns or frame.empty:
        frame = pd.DataFrame({c.name: pd.Series(dtype=_dtype(c)) for c in dataset.output_columns})
    kept = frame.loc[~rejected_mask].reset_index(drop=True)
    # The outcome describes the raw table (rows, sheet, format); its text is parsed and let go.
    described = dataclasses.replace(table, frame=table.frame.iloc[0:0])
    return FileOutcome(source, described, kept, table.row_numbers[~rejected_mask], rejected, extras)


def _dtype(column: Column) -> str:
    from sscp_lib.contract import PANDAS_DTYPES

    return PANDAS_DTYPES[column.type]


def _derive_record_ids(frame: pd.DataFrame, dataset: Dataset) -> pd.Series:
    """A record id absent from the file: child id + period date + order within that pair."""
    child = frame["child_id"].astype("string").str.strip().str.upper()
    period = frame[dataset.period_column].dt.strftime("%Y-%m-%d")
    order = frame.groupby([child, period], sort=False, dropna=False).cumcount() + 1
    return ("DERIVED:" + child + ":" + period + ":" + order.astype("string")).astype("string")


def reporting_year_labels(dates: pd.Series) -> pd.Series:
    """'2023-24' for each date (April to March); missing where the date is missing."""
    start = dates.dt.year - (dates.dt.month < 4).astype("int64")
    start = start.astype("Int64")
    label = start.astype("string") + "-" + ((start + 1) % 100).astype("string").str.zfill(2)
    return label.where(dates.notna(), pd.NA).astype("string")


def finish_dataset(
    frame: pd.DataFrame,
    dataset: Dataset,
    contract: Contract,
    config: PartnershipConfig,
    key: bytes,
    pseudonyms: PseudonymCache | None = None,
) -> tuple[pd.DataFrame, pd.Series]:
    """Derived ids, recoding, derived columns, pseudonyms; returns (processed table, mask of NFA rows recoded)."""
    frame = frame.copy()
    for column in dataset.columns:
        if column.derive_if_missing:
            missing = frame[column.name].isna()
            if missing.any():
                frame.loc[missing, column.name] = _derive_record_ids(frame.loc[missing], dataset)
    recoded = pd.Series(False, index=frame.index)
    if "referral_outcome" in frame.columns:
        original = frame["referral_outcome"].copy()
        changeover = pd.Timestamp(config.data_rule_date("nfa_changeover_date"))
        recode = (original == "NFA").fillna(False) & (frame[dataset.period_column] >= changeover).fillna(False)
        frame.loc[recode, "referral_outcome"] = "ADVICE_INFO"
        frame["referral_outcome_original"] = original
        recoded = recode
    for column in dataset.output_columns:
        if column.type != "code":
            continue
        codes = contract.codes_for(column)
        if codes.groups:
            frame[f"{column.name}_group"] = frame[column.name].map(codes.group_of()).astype("string")
        if codes.retired:
            flag = frame[column.name].isin(list(codes.retired)).astype("boolean")
            frame[f"{column.name}_retired"] = flag.where(frame[column.name].notna(), pd.NA)
    frame["reporting_year"] = reporting_year_labels(frame[dataset.period_column])
    for column in dataset.columns:
        if column.role == "pseudonymise":
            frame[column.canonical_name] = pseudonymise(frame[column.name], key, column.canonical_name, pseudonyms)
    schema = contract.processed_schema(dataset)
    out = pd.DataFrame({name: frame[name].astype(dtype) for name, dtype in schema.items()})
    return out, recoded


# ---------------------------------------------------------------------------------------------
# The year


NO_REJECTS = "No row was rejected."
# In the clean folder: each dataset's clean key, and whether its table was reused (and from which run).
REUSE_RECORD = RECORD_FILE


@dataclass
class CleanResult:
    year: ReportingYear
    out_dir: Path
    tables: Mapping[str, pd.DataFrame]  # read from out_dir when asked for
    year_counts: dict[str, dict[str, int]]  # dataset -> reporting year -> rows
    log: pd.DataFrame
    rejected: pd.DataFrame
    synthetic: bool
    nfa_recoded: int  # referrals recoded NFA -> ADVICE_INFO in the reporting year
    unrecognised_files: list[str] = field(default_factory=list)
    superseded_files: list[str] = field(default_factory=list)  # "file" or "file (sheet)" of an Annex A list
    superseded_reasons: list[str] = field(default_factory=list)  # why each of superseded_files was not read
    written: list[Path] = field(default_factory=list)
    # With a reuse store: per dataset, its clean key and whether it was reused (and from which run).
    reuse: list[dict] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return int(self.log["rows_read"].sum())

    def rejected_by_reason(self) -> pd.DataFrame:
        """Rejected rows counted by file, column and reason (no values, no identifiers)."""
        if self.rejected.empty:
            return report_frame(pd.DataFrame(columns=["dataset", "file", "column", "reason", "rows"]), empty=NO_REJECTS)
        counted = (
            self.rejected.groupby(["dataset", "file", "column", "reason"], dropna=False)
            .size()
            .rename("rows")
            .reset_index()
            .sort_values(["dataset", "file", "rows"], ascending=[True, True, False])
            .reset_index(drop=True)
        )
        return report_frame(counted, empty=NO_REJECTS)

    def files_not_read(self) -> pd.DataFrame:
        """Files (and Annex A lists) in the year folders that were not read, and why."""
        not_read = pd.DataFrame(
            {
                "file": self.unrecognised_files + self.superseded_files,
                "why": [NOT_READ_NO_DATASET] * len(self.unrecognised_files) + self.superseded_reasons,
            },
            dtype="string",
        )
        return report_frame(not_read, empty="Every file in the year folders was read.")

    def extra_columns(self) -> pd.DataFrame:
        """Headings ignored because the contract does not use them, per file."""
        extras = self.log.loc[self.log["extra_columns"].fillna("") != "", ["dataset", "file", "sheet", "extra_columns"]]
        return report_frame(
            extras.reset_index(drop=True), empty="Every heading in every file is one the contract uses."
        )


def _typed_rejected(rejected: pd.DataFrame) -> pd.DataFrame:
    return _typed(rejected.to_dict("records") if len(rejected) else [], REJECTED_COLUMNS)


def _typed(rows: list[dict], columns: dict[str, str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(columns)) if rows else pd.DataFrame(columns=list(columns))
    return frame.astype(columns)


def read_source(source: SourceFile, contract: Contract, multi_cache: dict) -> RawTable:
    """The raw table of one source file, read as its mapping says (a file feeding several datasets,
    an Annex A workbook or a CIN census return, read once for all of them)."""
    spec = source.spec
    if spec.multi is not None:
        if source.path not in multi_cache:
            multi_cache[source.path] = MULTI_READERS[spec.multi](source.path, contract)
        table = multi_cache[source.path][source.dataset]
    else:
        table = read_raw_file(
            source.path, spec.expected_headings(), sheet=spec.sheet, header_row=spec.header_row, encoding=spec.encoding
        )
    source.sheet = table.sheet
    return table


def _read_sources(
    sources: list[SourceFile], contract: Contract, annex_cache: dict
) -> Iterator[tuple[SourceFile, RawTable]]:
    """Each source's raw table, read as it is asked for (one file's text in memory at a time)."""
    for source in sources:
        yield source, read_source(source, contract, annex_cache)


def duplicate_rows(frame: pd.DataFrame) -> np.ndarray:
    """Rows equal in every column to an earlier row (as DataFrame.duplicated(keep="first"); missing
    values equal each other).

    Found by sorting the rows, one column compared at a time, not by hashing them: pandas hashes
    each text column through a table of its distinct values, several times the memory of the
    column itself when most values are distinct (ids).
    """
    n = len(frame)
    if n < 2 or frame.shape[1] == 0:
        return np.zeros(n, dtype=bool)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.rename_columns([str(i) for i in range(table.num_columns)])
    columns = table.column_names
    table = table.append_column("row", pa.array(np.arange(n)))
    order = pc.sort_indices(table, sort_keys=[(name, "ascending", "at_end") for name in table.column_names])
    same = np.ones(n - 1, dtype=bool)  # sorted row i+1 equals sorted row i
    for name in columns:
        ordered = table.column(name).take(order)
        after, before = ordered[1:], ordered[:-1]
        equal = pc.or_(pc.fill_null(pc.equal(after, before), False), pc.and_(pc.is_null(after), pc.is_null(before)))
        if pa.types.is_floating(ordered.type):  # NaN equals NaN, as in pandas
            equal = pc.or_(equal, pc.fill_null(pc.and_(pc.is_nan(after), pc.is_nan(before)), False))
        same &= equal.to_numpy(zero_copy_only=False)
        del ordered, after, before
    duplicate = np.zeros(n, dtype=bool)
    duplicate[order.to_numpy()[1:][same]] = True  # equal rows sort by position: each but the first
    return duplicate


def superseded_census_rows(outcomes: list[FileOutcome], combined: pd.DataFrame, dataset: Dataset) -> np.ndarray:
    """Rows from a CIN census return whose record is also in a later year's return.

    Each return lists every episode and plan open in its year, so one open across 31 March is in two
    returns, perhaps since ended or recategorised. The census has no record ids: a record is its
    child and period date (two episodes of a child cannot start on one day).
    """
    superseded = np.zeros(len(combined), dtype=bool)
    census = dataset.cin_census
    if not census or len({o.source.year for o in outcomes if o.source.cin_census}) < 2:
        return superseded  # no census return, or returns of one year only
    record_top = census["record"].split("/")[0] + "/"
    key = [c for p, c in census["columns"].items() if not p.startswith(record_top)] + [dataset.period_column]
    return_year = np.concatenate(
        [np.full(len(o.parsed), o.source.year.start_year if o.source.cin_census else -1) for o in outcomes]
    )
    rows = np.flatnonzero(return_year >= 0)
    years = pd.Series(return_year[rows])
    keys = [combined[c].iloc[rows].reset_index(drop=True) for c in key]
    latest = years.groupby(keys, dropna=False, sort=False).transform("max")
    superseded[rows[(years < latest).to_numpy()]] = True
    return superseded


def clean_dataset(
    name: str,
    sources: list[SourceFile],
    contract: Contract,
    year: ReportingYear,
    raw_dir: Path,
    config: PartnershipConfig,
    key: bytes,
    annex_cache: dict,
    pseudonyms: PseudonymCache | None = None,
) -> tuple[pd.DataFrame, list[dict], pd.DataFrame, int]:
    """(processed table, clean-log rows, rejected rows, NFA recoded in the reporting year)."""
    dataset = contract.dataset(name)
    outcomes = [
        clean_file(s, t, dataset, contract, year, raw_dir) for s, t in _read_sources(sources, contract, annex_cache)
    ]
    parsed = [o.parsed for o in outcomes]
    file_index = (
        np.concatenate([np.full(len(o.parsed), i) for i, o in enumerate(outcomes)])
        if outcomes
        else np.array([], dtype=int)
    )
    combined = (
        pd.concat(parsed, ignore_index=True)
        if parsed
        else pd.DataFrame({c.name: pd.Series(dtype=_dtype(c)) for c in dataset.output_columns})
    )
    # A census record also in a later year's return is taken from that return; then exact duplicates
    # across all files (e.g. the same record in two years' exports): first copy kept.
    superseded = superseded_census_rows(outcomes, combined, dataset)
    duplicate = superseded.copy()
    if superseded.any():
        duplicate[~superseded] = duplicate_rows(combined.loc[~superseded].reset_index(drop=True))
    else:
        duplicate = duplicate_rows(combined)
    kept = combined.loc[~duplicate].reset_index(drop=True) if duplicate.any() else combined
    table, recoded_mask = finish_dataset(kept, dataset, contract, config, key, pseudonyms)
    nfa_recoded = int((recoded_mask & (table["reporting_year"] == year.label).fillna(False)).sum())
    log_rows = []
    for i, outcome in enumerate(outcomes):
        duplicates = int(duplicate[file_index == i].sum())
        rows_read = len(outcome.table.row_numbers)
        rows_rejected = len(outcome.rejected)
        rows_kept = len(outcome.parsed) - duplicates
        if rows_read != rows_kept + duplicates + rows_rejected:
            raise AssertionError(f"{outcome.source.path}: clean log does not reconcile")
        log_rows.append(
            {
                "dataset": name,
                "file": _relative(outcome.source.path, raw_dir),
                "sheet": outcome.table.sheet if outcome.source.multi or outcome.source.spec.sheet else None,
                "format": outcome.table.format,
                "encoding": outcome.table.encoding,
                "rows_read": rows_read,
                "rows_kept": rows_kept,
                "duplicates_removed": duplicates,
                "rows_rejected": rows_rejected,
                "rows_skipped": outcome.table.rows_skipped,
                "extra_columns": ", ".join(outcome.extras) or None,
            }
        )
    rejected = pd.concat([o.rejected for o in outcomes], ignore_index=True) if outcomes else pd.DataFrame()
    return table, log_rows, rejected, nfa_recoded


def _work_bytes(paths: set[Path]) -> int:
    return sum(p.stat().st_size * (XLSX_WEIGHT if p.suffix.lower() in (".xlsx", ".xlsm") else 1) for p in paths)


def dataset_lanes(by_dataset: Mapping[str, list[SourceFile]]) -> tuple[list[str], list[str]]:
    """The datasets in two lanes of about equal work (the second lane, for the second process,
    starting with that process's start-up), largest first; datasets read from one file (an
    Annex A workbook) go in one lane, so no file is read twice. The second lane is empty when
    the files are too small for a second process to pay."""
    groups: list[tuple[set[str], set[Path]]] = []
    for name, found in by_dataset.items():
        names, paths = {name}, {s.path for s in found}
        for joined in [g for g in groups if g[1] & paths]:
            names |= joined[0]
            paths |= joined[1]
            groups.remove(joined)
        groups.append((names, paths))
    order = list(by_dataset)
    if sum(_work_bytes(paths) for _, paths in groups) < SECOND_PROCESS_FROM_BYTES:
        return order, []
    work = [(_work_bytes(paths) + DATASET_BYTES * len(names), names) for names, paths in groups]
    lanes: tuple[list[str], list[str]] = ([], [])
    totals = [0, PROCESS_START_BYTES]
    for size, names in sorted(work, key=lambda item: (-item[0], order.index(min(item[1], key=order.index)))):
        lane = 0 if totals[0] <= totals[1] else 1
        lanes[lane].extend(names)
        totals[lane] += size
    return sorted(lanes[0], key=order.index), sorted(lanes[1], key=order.index)


def _cleaned(
    names: list[str],
    by_dataset: Mapping[str, list[SourceFile]],
    contract: Contract,
    year: ReportingYear,
    raw_dir: Path,
    config: PartnershipConfig,
    key: bytes,
) -> Iterator[tuple[pd.DataFrame, list[dict], pd.DataFrame, int]]:
    """clean_dataset for each of `names` in turn, in this process (an Annex A workbook read once,
    an identifier that links tables hashed once)."""
    annex_cache: dict = {}
    pseudonyms = PseudonymCache(linking_identifiers(contract))
    for name in names:
        yield clean_dataset(name, by_dataset[name], contract, year, raw_dir, config, key, annex_cache, pseudonyms)


def linking_identifiers(contract: Contract) -> set[str]:
    """Pseudonymised columns found in more than one dataset (child_pid): those worth remembering
    across tables. Record ids are distinct per table: remembering them would only cost memory."""
    seen: dict[str, int] = {}
    for dataset in contract.datasets.values():
        for column in dataset.columns:
            if column.role == "pseudonymise":
                seen[column.canonical_name] = seen.get(column.canonical_name, 0) + 1
    return {name for name, count in seen.items() if count > 1}


def _counts_by_year(table: pd.DataFrame) -> dict[str, int]:
    """Rows by reporting year, most first (as value_counts gives them)."""
    return {str(label): int(count) for label, count in table["reporting_year"].value_counts().items()}


def _cleaned_to_files(
    folder: Path, names: list[str], *lane
) -> list[tuple[Path, list[dict], pd.DataFrame, int, dict[str, int]]]:
    """_cleaned(names, *lane) for the second process: each table written to `folder` (the stage's
    staging folder) once cleaned and let go, so the process holds one table at a time and sends
    back none (at 100x, pickled tables in both processes at once took the stage over its memory
    budget)."""
    return [
        (write_parquet_atomic(table, folder / f"{name}.parquet"), *rest, _counts_by_year(table))
        for name, (table, *rest) in zip(names, _cleaned(names, *lane))
    ]


MULTI_SOURCE_WORDS = {CIN_CENSUS: "the CIN census return", ANNEX_A: "the Annex A workbook"}


def empty_from_a_fuller_source(
    year: ReportingYear,
    by_dataset: Mapping[str, list[SourceFile]],
    rows_by_year: Mapping[str, Mapping[str, int]],
    superseded: list[NotRead],
    raw_dir: Path,
    contract: Contract,
) -> str | None:
    """Why a dataset read from a census return (or Annex A workbook) that holds none of its records
    in the year has no rows: which source it came from, and each file set aside for it, or None.

    The rule (docs/cin-census.md, "Which source wins") sets the dataset's other files aside; a
    return with no plans would otherwise reach validation as a bare "no rows" stop."""
    for name, found in by_dataset.items():
        this_year = [source for source in found if source.year == year]
        if not this_year or not all(source.multi for source in this_year):
            continue
        if rows_by_year[name].get(year.label, 0) > 0:
            continue
        label = contract.dataset(name).label
        kind = str(this_year[0].multi)
        files = ", ".join(sorted({_relative(source.path, raw_dir) for source in this_year}))
        set_aside = [entry for entry in superseded if entry.dataset == name and entry.year == year]
        if not set_aside:
            continue  # nothing was set aside: validation's "no rows" stop says all there is to say
        listed = "; ".join(
            _relative(entry.path, raw_dir) + (f" ({entry.sheet})" if entry.sheet else "") + f", {entry.reason}"
            for entry in set_aside
        )
        return (
            f"the {label.lower()} for {year.label} are read from {MULTI_SOURCE_WORDS[kind]} {files}, which "
            f'replaces their other sources in a year\'s folder (docs/cin-census.md, "Which source wins"), but '
            f"it holds none dated in {year.label}; set aside, left where they are unread and listed in the clean "
            f"log's files not read: {listed}. To count the {label.lower()} in the set-aside file, move "
            f"{MULTI_SOURCE_WORDS[kind]} out of {year.label}/ (its other records are then read from their own "
            f"files) or export it again with them."
        )
    return None


class TableFiles(Mapping[str, pd.DataFrame]):
    """The clean tables by dataset, read from their files when asked for: the stage holds none
    in memory (the stage report needs only their rows by year)."""

    def __init__(self, folder: Path, names: list[str]):
        self.folder, self.names = Path(folder), list(names)

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self.names:
            raise KeyError(name)
        return pd.read_parquet(self.folder / f"{name}.parquet")

    def __iter__(self):
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)


def _source_files(found: list[SourceFile], raw_dir: Path) -> list[tuple[str, str, str | None, object]]:
    return [(_relative(s.path, raw_dir), s.year.label, s.sheet or s.spec.sheet, s.spec) for s in found]


def clean_year(
    year: ReportingYear,
    raw_dir: Path,
    out_dir: Path,
    config: PartnershipConfig,
    key: bytes,
    contract: Contract | None = None,
    *,
    store: ReuseStore | None = None,
    input_hashes: Mapping[str, str] | None = None,
    fresh: bool = False,
) -> CleanResult:
    """Clean every dataset for `year` from raw_dir/<year> and earlier year folders; write out_dir.

    With a `store`, a dataset whose clean key (sscp_lib.ingest.clean_reuse) has an entry there
    is reused (its table linked in, its clean-log and rejected rows taken from the entry) unless
    `fresh`; every dataset cleaned is stored. `input_hashes` (raw file path relative to raw_dir
    -> SHA-256) are the run's hashes of its inputs; a file missing from them is hashed here.
    """
    year = ReportingYear.parse(year) if isinstance(year, str) else year
    raw_dir, out_dir = Path(raw_dir), Path(out_dir)
    contract = contract or load_contract()
    year_dir = raw_dir / year.label
    if not year_dir.is_dir():
        raise UserError(
            f"{year_dir}: no raw data folder for {year.label}; put the agency files there "
            f"(or run `sscp sample` for the synthetic sample)"
        )
    sources = resolve_sources(contract, config)
    by_dataset, unrecognised, superseded = discover_files(raw_dir, year, contract, sources)
    missing = [name for name, found in by_dataset.items() if not any(s.year == year for s in found)]
    if missing:
        patterns = "; ".join(f"{name} ({sources.describe_files(name)})" for name in missing)
        where = (
            f" (source mappings: {sources.config_file})"
            if any(s.rule.configured for n in missing for s in sources.by_dataset[n])
            else ""
        )
        raise UserError(
            f"{year_dir}: missing required dataset file(s) for {year.label}: {patterns}{where}; "
            f"run `sscp inspect {shlex.quote(str(year_dir))}` to see which dataset each file is taken for"
        )
    keys: dict[str, tuple[str, dict]] = {}
    reused: dict[str, Entry] = {}
    if store is not None:
        hashes = InputHashes(raw_dir, input_hashes)
        for name, found in by_dataset.items():
            keys[name] = clean_key(name, _source_files(found, raw_dir), contract, config, year, key, hashes)
            entry = None if fresh else store.find(CLEAN_STAGE, name, keys[name][0])
            if entry is not None:
                reused[name] = entry
    to_clean = {name: found for name, found in by_dataset.items() if name not in reused}
    here, there = dataset_lanes(to_clean)
    cleaned: dict[str, tuple] = {}
    # Each table is written as soon as it is cleaned, by whichever process cleaned it, into a
    # staging folder; all move into out_dir once every dataset is clean, so a run that fails
    # leaves the last run's tables as they were.
    staging = out_dir / ".cleaning"
    shutil.rmtree(staging, ignore_errors=True)
    built = now_label()
    reuse_records: list[dict] = []
    try:
        with closing(FreshProcess(preload=(__name__,))) if there else nullcontext() as elsewhere:
            if elsewhere is not None:
                lane = {n: by_dataset[n] for n in there}
                elsewhere.submit(_cleaned_to_files, staging, there, lane, contract, year, raw_dir, config, key)
            for name, entry in reused.items():
                link_or_copy(entry.file("table.parquet"), staging / f"{name}.parquet")
                cleaned[name] = (
                    entry.meta["log_rows"],
                    pd.read_parquet(entry.file("rejected.parquet")),
                    int(entry.meta["nfa_recoded"]),
                    entry.meta["rows_by_year"],
                )
            for name, (table, *rest) in zip(here, _cleaned(here, to_clean, contract, year, raw_dir, config, key)):
                write_parquet_atomic(table, staging / f"{name}.parquet")
                cleaned[name] = (*rest, _counts_by_year(table))
                del table
            if elsewhere is not None:
                for name, (_path, *rest) in zip(there, elsewhere.result()):
                    cleaned[name] = tuple(rest)
        log_rows, rejected_parts, nfa_recoded, year_counts, nfa_by = [], [], 0, {}, {}
        for name in by_dataset:  # in the contract's order, whichever process cleaned it
            rows, rejected, recoded, counts = cleaned.pop(name)
            log_rows.extend(rows)
            rejected_parts.append(rejected)
            nfa_recoded += recoded
            nfa_by[name] = recoded
            year_counts[name] = counts
            if store is not None:
                entry = reused.get(name)
                reuse_records.append(
                    {
                        "dataset": name,
                        "key": keys[name][0],
                        "outcome": "reused" if entry else "rebuilt",
                        "reused_from": entry.built_by if entry else None,
                        "built": entry.meta["built"] if entry else built,
                    }
                )
                if entry is None:
                    write_parquet_atomic(_typed_rejected(rejected), staging / f".{name}.rejected.parquet")
        empty = empty_from_a_fuller_source(year, by_dataset, year_counts, superseded, raw_dir, contract)
        if empty:
            raise UserError(empty)
        log = _typed(log_rows, LOG_COLUMNS)
        rejected = (
            pd.concat([p for p in rejected_parts if len(p)], ignore_index=True)
            if any(len(p) for p in rejected_parts)
            else pd.DataFrame()
        )
        rejected = _typed_rejected(rejected)
        write_parquet_atomic(log, staging / "clean_log.parquet")
        write_parquet_atomic(rejected, staging / "rejected.parquet")
        if store is not None:
            write_json_atomic(staging / REUSE_RECORD, {"datasets": reuse_records})
        written = [
            staging.joinpath(f"{name}.parquet").replace(out_dir / f"{name}.parquet")
            for name in [*by_dataset, "clean_log", "rejected"]
        ]
        if store is not None:
            staging.joinpath(REUSE_RECORD).replace(out_dir / REUSE_RECORD)
            for record in reuse_records:
                name = record["dataset"]
                if record["outcome"] == "rebuilt":
                    store.save(
                        CLEAN_STAGE,
                        name,
                        record["key"],
                        {
                            "table.parquet": out_dir / f"{name}.parquet",
                            "rejected.parquet": staging / f".{name}.rejected.parquet",
                        },
                        {
                            "year": year.label,
                            "built": built,
                            "log_rows": [r for r in log_rows if r["dataset"] == name],
                            "nfa_recoded": nfa_by[name],
                            "rows_by_year": year_counts[name],
                            "key_parts": keys[name][1],
                        },
                    )
        else:
            (out_dir / REUSE_RECORD).unlink(missing_ok=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    synthetic = any(has_sample_marker(folder) for _, folder in year_folders(raw_dir, year))
    return CleanResult(
        year=year,
        out_dir=out_dir,
        tables=TableFiles(out_dir, list(by_dataset)),
        year_counts=year_counts,
        reuse=reuse_records,
        log=report_frame(log),  # shown (and subset) in the clean log as a reviewer's table
        rejected=rejected,
        synthetic=synthetic,
        nfa_recoded=nfa_recoded,
        unrecognised_files=[_relative(p, raw_dir) for p in unrecognised],
        superseded_files=[_relative(s.path, raw_dir) + (f" ({s.sheet})" if s.sheet else "") for s in superseded],
        superseded_reasons=[s.reason for s in superseded],
        written=written,
    )
