"""`sscp inspect`: what the clean stage would make of a file or a year's folder, and the mapping that fixes it.

For each file: which dataset it is taken for (by a source mapping, by the contract's default name
rule, or, when nothing claims it, the dataset its headings and values look like); how each heading
maps to a contract column (exact, contract alias, source mapping) or which heading probably holds
a column still unmatched; values of code and yes/no columns that map to nothing; the date
spellings found and how many fail; row counts. From that it builds the source mapping entries
that would let the clean stage read the files (sscp_lib.ingest.inspection_report prints them).

This module computes only. It never keeps a value of an identifier, name or date-of-birth column,
of a free-text column or of a heading the contract does not use: counts, and shapes such as
'XX-999999' (letters X/x, digits 9) in their place. Unknown spellings of code and yes/no columns are
kept only where they look like codes (a column of few distinct values, or a spelling close to the
code list), so a personal column mapped to a code column by mistake shows shapes, not values.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import pandas as pd

from sscp_lib.config import ReportingYear
from sscp_lib.contract import Column, Contract, Dataset, load_contract, normalise_header
from sscp_lib.errors import InputFileError, UserError
from sscp_lib.ingest.clean import (
    MULTI_READERS,
    date_spelling,
    folder_files,
    match_headings,
    normalise_code,
)
from sscp_lib.ingest.readers import RawTable, read_raw_file, sheet_names
from sscp_lib.ingest.sources import (
    HOW_ALIAS,
    HOW_ANNEX_A,
    HOW_CIN_CENSUS,
    HOW_CONFIG,
    HOW_IGNORED,
    HOW_NAME,
    MultiSource,
    Sources,
    SourceSpec,
    resolve_sources,
)

HOW_SUGGESTED = "suggested"
HOW_LABELS = {
    HOW_NAME: "exact",
    HOW_ALIAS: "contract alias",
    HOW_ANNEX_A: "Annex A heading",
    HOW_CIN_CENSUS: "CIN census element",
    HOW_CONFIG: "source mapping",
    HOW_IGNORED: "ignored by the source mapping",
    HOW_SUGGESTED: "suggested",
}

# A heading is suggested for a column when heading likeness times value fit reaches this.
SUGGEST_SCORE = 0.5
# A file is taken for the dataset it fits best when the fit reaches this.
DATASET_FIT = 0.5
# How many closest headings are listed for a required column still unmatched.
ALTERNATIVES = 3
# Distinct values looked at when judging what a column holds (the most frequent first).
PROFILE_DISTINCT = 200
# A column of at most this many distinct values, each on several rows on average, is categorical:
# its unknown spellings are shown as they are.
CATEGORICAL_DISTINCT = 30
CATEGORICAL_ROWS_PER_VALUE = 3
SHAPE_LENGTH = 24
# Encodings the CSV reader finds by itself (sscp_lib.ingest.readers).
DETECTED_ENCODINGS = frozenset({"utf-8", "utf-8-sig", "cp1252", "utf-16"})
SHAPES_SHOWN = 3

# Date spellings tried on values the current mapping cannot read, most usual first.
CANDIDATE_DATE_FORMATS = (
    "%d/%m/%Y",
    "%d-%m-%Y",
    "%d.%m.%Y",
    "%d/%m/%y",
    "%d-%b-%Y",
    "%d-%b-%y",
    "%d %b %Y",
    "%d %B %Y",
    "%d/%b/%Y",
    "%d %b %y",
    "%Y%m%d",
    "%Y.%m.%d",
    "%b %d, %Y",
    "%B %d, %Y",
    "%m/%d/%Y",
    "%m/%d/%y",
)
# Words of a yes/no column that mean no (others mean yes) when suggesting yes_words and no_words.
NEGATIVE_WORDS = frozenset(
    {"no", "not", "non", "none", "never", "dna", "absent", "apologies", "declined", "without", "missing", "x"}
)
# Words too common in headings to tell columns apart.
HEADING_NOISE = frozenset({"y", "n", "yn", "the", "of", "a", "an", "for", "to", "in", "on", "at", "by", "and"})
# Spellings counted as one word when comparing headings.
HEADING_SYNONYMS = {"reference": "ref", "identifier": "id", "organization": "organisation", "org": "organisation"}

_TOKEN_RE = re.compile(r"[a-z0-9&?]+")


# ---------------------------------------------------------------------------------------------
# Findings


@dataclass
class HeadingFinding:
    position: int
    heading: str  # as in the file ('' when unnamed); a shape when the heading row looks like data
    column: str | None
    how: str | None  # HOW_* or None when unused
    score: float | None = None  # suggestions only


@dataclass
class ColumnFinding:
    column: Column
    heading: str | None = None
    how: str | None = None
    score: float | None = None
    alternatives: list[tuple[str, float]] = field(default_factory=list)
    filled: int = 0
    distinct: int = 0
    # Code and yes/no columns
    known_rows: int = 0
    unknown_rows: int = 0
    unknown: list[tuple[str, int]] = field(default_factory=list)  # shown as they are
    unknown_shapes: list[tuple[str, int]] = field(default_factory=list)  # not code-like: shapes only
    suggested_values: dict[str, str] = field(default_factory=dict)  # spelling -> code
    yes_rows: int = 0
    no_rows: int = 0
    # Dates
    spellings: dict[str, int] = field(default_factory=dict)  # spelling name -> values
    date_failures: int = 0
    failure_shapes: list[tuple[str, int]] = field(default_factory=list)
    after_year: int = 0
    # Identifiers: masked examples
    shapes: list[tuple[str, int]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.column.name

    @property
    def found(self) -> bool:
        return self.heading is not None


@dataclass
class FileInspection:
    path: Path
    shown_as: str
    dataset: str | None = None
    taken_by: str = ""  # what decided the dataset
    claimed: bool = False  # a mapping (or the default name rule) takes the file as it stands
    spec: SourceSpec | None = None
    table: RawTable | None = field(default=None, repr=False)
    sheets: list[str] = field(default_factory=list)
    headings: list[HeadingFinding] = field(default_factory=list)
    headings_look_like_data: bool = False
    columns: list[ColumnFinding] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # what stops the clean stage under the current mapping
    missing_required: list[str] = field(default_factory=list)  # under the current mapping
    still_missing: list[str] = field(default_factory=list)  # with the suggested mapping too
    fits: list[tuple[str, float]] = field(default_factory=list)  # best datasets when guessed
    suggestion: dict | None = None  # the mapping entry for this file's layout (None: nothing to add)
    error: str | None = None
    multi: str | None = None  # a list of a multi-dataset workbook ('annex_a')

    @property
    def rows(self) -> int:
        return len(self.table.frame) if self.table is not None else 0

    @property
    def ready(self) -> bool:
        """The clean stage would read this file with the current mapping."""
        return self.error is None and self.claimed and not self.problems

    @property
    def blocking(self) -> bool:
        """Something to fix before the clean stage can use this file: a file it takes (or one that looks
        like a dataset's) with unmatched required columns or no mapping. A file no dataset fits is
        only listed, as the clean stage lists it."""
        if self.error is not None:
            return self.claimed or self.dataset is not None
        return self.dataset is not None and not self.ready


@dataclass
class Inspection:
    target: Path
    year: ReportingYear | None
    config_file: Path | None
    files: list[FileInspection]
    missing_datasets: list[str] = field(default_factory=list)  # folder: datasets no file is taken for
    block: dict = field(default_factory=dict)  # sources entries to paste: dataset -> entry or list of entries
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(f.blocking for f in self.files) and not self.missing_datasets


# ---------------------------------------------------------------------------------------------
# Masking and similarity


def shape(text: str) -> str:
    """A value's shape: letters as X/x, digits as 9, other characters kept, cut to SHAPE_LENGTH."""
    out = re.sub(r"[A-Z]", "X", text)
    out = re.sub(r"[^\W\d_A-Z]", "x", out)
    out = re.sub(r"\d", "9", out)
    return out[:SHAPE_LENGTH] + ("…" if len(out) > SHAPE_LENGTH else "")


def _shape_counts(values: pd.Series) -> list[tuple[str, int]]:
    counts: Counter[str] = Counter()
    for value, count in values.items():
        counts[shape(str(value))] += int(count)
    return counts.most_common(SHAPES_SHOWN)


_SUFFIXES = ("ations", "ation", "ated", "ating", "ing", "ed", "es")


def _stem(word: str) -> str:
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    for suffix in _SUFFIXES:
        if len(word) - len(suffix) >= 4 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _tokens(text: str) -> list[str]:
    words = _TOKEN_RE.findall(normalise_header(text))
    out = []
    for word in words:
        word = _stem(HEADING_SYNONYMS.get(word, word))
        if word not in HEADING_NOISE:
            out.append(word)
    return out


def _fold_initials(words: list[str], short: set[str]) -> list[str]:
    """Runs of words whose initials spell a short word of the other text become that word
    ('domestic abuse factor' beside 'DA' -> 'da factor')."""
    out, i = [], 0
    while i < len(words):
        for length in (4, 3, 2):
            run = words[i : i + length]
            if len(run) == length and "".join(w[0] for w in run) in short:
                out.append("".join(w[0] for w in run))
                i += length
                break
        else:
            out.append(words[i])
            i += 1
    return out


@lru_cache(maxsize=65_536)
def text_likeness(text: str, target: str) -> float:
    """How alike two headings (or spellings) are, 0 to 1: shared words (initials count as the
    words they abbreviate), then spelling."""
    a_words, b_words = _tokens(text), _tokens(target)
    a_short, b_short = {w for w in a_words if len(w) <= 4}, {w for w in b_words if len(w) <= 4}
    a, b = set(_fold_initials(a_words, b_short)), set(_fold_initials(b_words, a_short))
    token = 0.0
    if a and b:
        shared = len(a & b)
        token = 0.6 * shared / len(b) + 0.4 * shared / len(a)
    spelled = difflib.SequenceMatcher(None, normalise_header(text), normalise_header(target)).ratio()
    return max(token, 0.9 * spelled if spelled >= 0.75 else 0.0)


def heading_likeness(heading: str, column: Column) -> float:
    return max(text_likeness(heading, name) for name in (column.name.replace("_", " "), *column.aliases))


# ---------------------------------------------------------------------------------------------
# Column profiles: what a column's values look like (computed on distinct values)


@dataclass
class Profile:
    counts: pd.Series  # distinct non-empty value -> rows
    filled: int
    date_share: float
    number_share: float

    @property
    def distinct(self) -> int:
        return len(self.counts)

    @property
    def categorical(self) -> bool:
        return 0 < self.distinct <= CATEGORICAL_DISTINCT and self.filled >= CATEGORICAL_ROWS_PER_VALUE * self.distinct


# Something shaped like a date: three parts (digits or a month name), or eight digits.
_DATE_LIKE = re.compile(r"^\s*(?:[0-9A-Za-z]{1,9}[\s/.,-]+[0-9A-Za-z]{1,9},?[\s/.,-]+\d{2,4}|\d{8})(?:[T ].*)?$")


def _is_date(text: str) -> bool:
    if date_spelling(text)[0] is not None:
        return True
    if not _DATE_LIKE.match(text):
        return False
    for fmt in CANDIDATE_DATE_FORMATS:
        try:
            datetime.strptime(text.strip(), fmt)
            return True
        except ValueError:
            continue
    return False


def profile(values: pd.Series) -> Profile:
    counts = values[values != ""].value_counts()
    sample = [str(v) for v in counts.index[:PROFILE_DISTINCT]]
    if not sample:
        return Profile(counts, 0, 0.0, 0.0)
    dates = sum(1 for v in sample if _is_date(v))
    numbers = pd.to_numeric(pd.Series(sample).str.replace(r"[£,\s]", "", regex=True), errors="coerce").notna().sum()
    return Profile(counts, int(counts.sum()), dates / len(sample), float(numbers) / len(sample))


def _code_share(prof: Profile, column: Column, contract: Contract, spec: SourceSpec) -> float:
    lookup = contract.codes_for(column).lookup()
    extra = spec.values.get(column.name)
    sample = [str(v) for v in prof.counts.index[:200]]
    return sum(1 for v in sample if normalise_code(v, lookup, extra) is not None) / len(sample) if sample else 0.0


def value_fit(prof: Profile, column: Column, contract: Contract, spec: SourceSpec) -> float:
    """How well a column's values suit a contract column's type, 0 to 1 (0.5 when empty)."""
    if prof.filled == 0:
        return 0.5
    if column.type == "date":
        return prof.date_share
    if column.type in {"int", "float"}:
        return prof.number_share
    if column.type == "bool":
        folded = {" ".join(str(v).lower().split()) for v in prof.counts.index}
        if folded <= (spec.yes_words | spec.no_words):
            return 1.0
        return 0.8 if prof.distinct <= 4 else 0.0
    if column.type == "code":
        share = _code_share(prof, column, contract, spec)
        return max(share, 0.6 if prof.categorical or prof.distinct <= CATEGORICAL_DISTINCT else 0.0)
    # Strings: identifiers and names are not dates; free text is anything.
    if column.role == "pseudonymise" and prof.categorical:
        return 0.0  # a few values on many rows (a count, a category) never identify a record or a child
    if column.role == "drop" and "name" in column.name:
        return 1.0 - max(prof.date_share, prof.number_share)
    return 1.0 - 0.5 * prof.date_share


# ---------------------------------------------------------------------------------------------
# Heading assignment


@dataclass
class Assignment:
    """Contract column -> (position, how, score), from the mapping and from suggestions."""

    by_column: dict[str, tuple[int, str, float]]
    alternatives: dict[str, list[tuple[int, float]]]
    match_problems: list[tuple[str | None, str]]
    duplicates: dict[str, list[str]]
    ignored: set[int]

    def fit(self, dataset: Dataset) -> float:
        required = dataset.required_columns
        optional = [c for c in dataset.columns if not c.required]
        req = sum(self.by_column[c.name][2] for c in required if c.name in self.by_column) / max(len(required), 1)
        opt = sum(self.by_column[c.name][2] for c in optional if c.name in self.by_column) / max(len(optional), 1)
        return 0.85 * req + 0.15 * opt


def assign(table: RawTable, dataset: Dataset, spec: SourceSpec, contract: Contract, profiles: dict) -> Assignment:
    match = match_headings(table.headings, table.frame, dataset, spec)
    by_column: dict[str, tuple[int, str, float]] = {}
    for position, mapped in match.mapping.items():
        if mapped in match.duplicates:
            continue
        by_column[mapped] = (position, match.how[position], 1.0)
    ignored = {p for p, how in match.how.items() if how == HOW_IGNORED}
    # Duplicates: the heading most like the column keeps it; the others are to be ignored.
    for column_name in match.duplicates:
        duplicated = dataset.column(column_name)
        positions = [p for p, c in match.mapping.items() if c == column_name]
        best = max(
            positions, key=lambda p: (match.how[p] == HOW_CONFIG, heading_likeness(table.headings[p], duplicated))
        )
        by_column[column_name] = (best, match.how[best], 1.0)
    free = [
        p for p, heading in enumerate(table.headings) if p not in match.mapping and p not in ignored and heading.strip()
    ]
    pairs = []
    alternatives: dict[str, list[tuple[int, float]]] = {}
    # With every required column mapped the clean stage reads the file ("Ready"); an optional id it would then
    # derive is not guessed at there: a wrong guess (a count taken for a referral id) would merge records.
    readable = all(column.name in by_column for column in dataset.required_columns)
    for column in dataset.columns:
        if column.name in by_column:
            continue
        if readable and column.role == "pseudonymise" and not column.required:
            continue
        scored = []
        for position in free:
            likeness = heading_likeness(table.headings[position], column)
            if likeness <= 0:
                continue
            if position not in profiles:
                profiles[position] = profile(table.frame[position])
            fit = value_fit(profiles[position], column, contract, spec)
            score = likeness * (0.4 + 0.6 * fit)
            scored.append((position, round(score, 2)))
            pairs.append((score, column.name, position))
        alternatives[column.name] = sorted(scored, key=lambda s: -s[1])[:ALTERNATIVES]
    taken: set[int] = set()
    for score, column_name, position in sorted(pairs, key=lambda p: (-p[0], p[1], p[2])):
        if score < SUGGEST_SCORE or column_name in by_column or position in taken:
            continue
        by_column[column_name] = (position, HOW_SUGGESTED, round(score, 2))
        taken.add(position)
    return Assignment(by_column, alternatives, match.problems, match.duplicates, ignored)


# ---------------------------------------------------------------------------------------------
# Values


def _code_like(value: str, vocabulary: set[str], spellings: list[str]) -> bool:
    """A spelling that may be a code: short and capital (S47, CSC), sharing a word with the code list,
    or spelt like one of its spellings."""
    text = value.strip()
    if len(text) <= 6 and not re.search(r"[a-z]", text):
        return True
    if set(_tokens(text)) & vocabulary:
        return True
    return any(difflib.SequenceMatcher(None, text.lower(), s).ratio() >= 0.75 for s in spellings)


def suggest_code(value: str, column: Column, contract: Contract) -> str | None:
    """The code a spelling most probably means (one clear winner), or None."""
    codes = contract.codes_for(column)
    best: dict[str, float] = {}
    spellings = [(code, code) for code in codes.codes] + [(label, code) for code, label in codes.codes.items()]
    spellings += list(codes.aliases.items())
    for spelling, code in spellings:
        best[code] = max(best.get(code, 0.0), text_likeness(value, spelling))
    ranked = sorted(best.items(), key=lambda item: -item[1])
    if not ranked or ranked[0][1] < 0.6:
        return None
    if len(ranked) > 1 and ranked[1][1] >= ranked[0][1] - 0.1:
        return None
    return ranked[0][0]


def _vocabulary(column: Column, contract: Contract) -> tuple[set[str], list[str]]:
    codes = contract.codes_for(column)
    words = [*codes.codes, *codes.codes.values(), *codes.aliases]
    vocabulary = {t for w in words for t in _tokens(w) if len(t) > 2}
    return vocabulary, [str(w).lower() for w in words]


def _code_findings(finding: ColumnFinding, values: pd.Series, spec: SourceSpec, contract: Contract) -> None:
    column = finding.column
    prof = profile(values)
    lookup = contract.codes_for(column).lookup()
    extra = spec.values.get(column.name)
    vocabulary, spellings = _vocabulary(column, contract)
    unknown_shown, unknown_hidden = [], []
    for value, count in prof.counts.items():
        if normalise_code(str(value), lookup, extra) is not None:
            finding.known_rows += int(count)
            continue
        finding.unknown_rows += int(count)
        if prof.categorical or _code_like(str(value), vocabulary, spellings):
            unknown_shown.append((str(value), int(count)))
        else:
            unknown_hidden.append((str(value), int(count)))
    finding.unknown = unknown_shown
    finding.unknown_shapes = _shape_counts(pd.Series(dict(unknown_hidden), dtype="int64")) if unknown_hidden else []
    for value, _ in unknown_shown:
        code = suggest_code(value, column, contract)
        if code is not None:
            finding.suggested_values[value] = code


def _bool_findings(finding: ColumnFinding, values: pd.Series, spec: SourceSpec) -> None:
    prof = profile(values)
    for value, count in prof.counts.items():
        folded = " ".join(str(value).lower().split())
        if folded in spec.yes_words:
            finding.yes_rows += int(count)
        elif folded in spec.no_words:
            finding.no_rows += int(count)
        elif prof.categorical or prof.distinct <= 4:
            finding.unknown.append((str(value), int(count)))
            finding.unknown_rows += int(count)
        else:
            finding.unknown_shapes.append((shape(str(value)), int(count)))
            finding.unknown_rows += int(count)
    finding.unknown_shapes = finding.unknown_shapes[:SHAPES_SHOWN]


def yes_no_suggestion(words: list[str]) -> tuple[list[str], list[str]]:
    """(yes words, no words) for unknown yes/no spellings: a word of negation ('Not completed', 'DNA',
    'Apologies'), or another word with a negating prefix ('Incomplete' beside 'Complete'), means no."""
    folded = {w: " ".join(w.lower().split()) for w in words}
    yes: list[str] = []
    no: list[str] = []
    for word in words:
        text = folded[word]
        negated = any(
            text in {f"{prefix}{other}" for prefix in ("in", "un", "non", "non-", "not ", "no ")}
            for other in folded.values()
            if other != text
        )
        (no if negated or set(re.findall(r"[a-z]+", text)) & NEGATIVE_WORDS else yes).append(word)
    return yes, no


def _date_findings(finding: ColumnFinding, values: pd.Series, spec: SourceSpec, year: ReportingYear | None) -> dict:
    """Spelling counts for one date column; returns {distinct value: rows} of values that failed."""
    prof = profile(values)
    failed: dict[str, int] = {}
    year_end = year.end if year else None
    for value, count in prof.counts.items():
        day, spelling = date_spelling(str(value), spec.date_formats)
        if day is None or spelling is None:
            failed[str(value)] = int(count)
            continue
        finding.spellings[spelling] = finding.spellings.get(spelling, 0) + int(count)
        if year_end is not None and day > year_end:
            finding.after_year += int(count)
    finding.date_failures = sum(failed.values())
    finding.failure_shapes = _shape_counts(pd.Series(failed, dtype="int64")) if failed else []
    return failed


def _builtin_equivalent(value: str) -> str | None:
    """The strptime format of a value the built-in day-first rule reads (kept when formats are configured)."""
    match = re.match(r"^\s*\d{1,2}([/.-])\d{1,2}[/.-](\d{4}|\d{2})", value)
    if not match:
        return None
    separator, year = match.groups()
    return f"%d{separator}%m{separator}{'%Y' if len(year) == 4 else '%y'}"


def suggest_date_formats(failed: dict[str, int], readable: list[str], spec: SourceSpec) -> tuple[list[str], int]:
    """(formats for the source mapping, values they still cannot read).

    Candidates are chosen greedily to read the failing values; because configured formats replace
    the built-in day-first spellings, the day-first spellings in use are added back as formats.
    """
    remaining = dict(failed)
    chosen: list[str] = []
    while remaining:
        best: str | None = None
        best_read: set[str] = set()
        for fmt in CANDIDATE_DATE_FORMATS:
            if fmt in chosen:
                continue
            read = {v for v in remaining if date_spelling(v, (fmt,))[1] == fmt}
            if len(read) > len(best_read):
                best, best_read = fmt, read
        if best is None:
            break
        chosen.append(best)
        remaining = {v: c for v, c in remaining.items() if v not in best_read}
    if not chosen:
        return [], sum(remaining.values())
    keep = list(spec.date_formats)
    if not spec.date_formats:
        for value in readable:
            equivalent = _builtin_equivalent(value)
            if equivalent and equivalent not in keep:
                keep.append(equivalent)
    return [*keep, *(f for f in chosen if f not in keep)], sum(remaining.values())


# ---------------------------------------------------------------------------------------------
# One table


def _looks_like_data(headings: list[str]) -> bool:
    named = [h for h in headings if h.strip()]
    if not named:
        return False
    data_like = sum(1 for h in named if _is_date(h) or re.search(r"\d{4,}", h) or re.fullmatch(r"[\d.,£-]+", h))
    return data_like / len(named) > 0.3


def _masked_heading(heading: str, masked: bool) -> str:
    return shape(heading) if masked else heading


def analyse_table(
    inspection: FileInspection,
    table: RawTable,
    dataset: Dataset,
    spec: SourceSpec,
    contract: Contract,
    year: ReportingYear | None,
    assignment: Assignment | None = None,
    profiles: dict | None = None,
) -> None:
    """Fill the heading, column and value findings of a table read for `dataset` under `spec`."""
    profiles = profiles if profiles is not None else {}
    assignment = assignment or assign(table, dataset, spec, contract, profiles)
    masked = _looks_like_data(table.headings)
    inspection.headings_look_like_data = masked
    inspection.missing_required = [c.name for c in dataset.required_columns if c.name not in _current(assignment)]
    inspection.problems = [
        f"column {column!r}: {problem}" if column else problem for column, problem in assignment.match_problems
    ]
    if masked:
        inspection.problems.append("the heading row looks like data: does the file have a heading row?")
    position_column = {p: (c, how, score) for c, (p, how, score) in assignment.by_column.items()}
    inspection.headings = []
    for position, heading in enumerate(table.headings):
        column_name, how, score = position_column.get(position, (None, None, None))
        if position in assignment.ignored:
            how = HOW_IGNORED
        elif column_name is None:
            other = [c for c, headings in assignment.duplicates.items() if heading in headings]
            if other:
                column_name, how = other[0], HOW_IGNORED
        inspection.headings.append(
            HeadingFinding(
                position, _masked_heading(heading, masked), column_name, how, score if how == HOW_SUGGESTED else None
            )
        )
    inspection.columns = []
    failed_dates: dict[str, int] = {}
    readable_dates: list[str] = []
    for column in dataset.columns:
        finding = ColumnFinding(column)
        inspection.columns.append(finding)
        if column.name in assignment.by_column:
            position, how, score = assignment.by_column[column.name]
            finding.heading, finding.how = _masked_heading(table.headings[position], masked), how
            finding.score = score if how == HOW_SUGGESTED else None
        else:
            finding.alternatives = [
                (_masked_heading(table.headings[p], masked), s) for p, s in assignment.alternatives.get(column.name, [])
            ]
            continue
        values = table.frame[position]
        filled = values[values != ""]
        finding.filled, finding.distinct = len(filled), int(filled.nunique())
        if column.role == "drop":
            continue  # personal data: counted, never looked at
        if column.is_identifier:
            finding.shapes = _shape_counts(filled.value_counts())
        elif column.type == "code":
            _code_findings(finding, values, spec, contract)
        elif column.type == "bool":
            _bool_findings(finding, values, spec)
        elif column.type == "date":
            failed = _date_findings(finding, values, spec, year if column.name == dataset.period_column else None)
            for value, count in failed.items():
                failed_dates[value] = failed_dates.get(value, 0) + count
            readable_dates.extend(str(v) for v in filled.unique() if str(v) not in failed)
    inspection.suggestion = _suggestion(
        inspection, table, dataset, spec, assignment, failed_dates, readable_dates, masked
    )
    # Refined by inspect_path, which inspects again with the suggested mapping.
    inspection.still_missing = [c.name for c in dataset.required_columns if c.name not in assignment.by_column]


def _current(assignment: Assignment) -> set[str]:
    return {c for c, (_, how, _) in assignment.by_column.items() if how != HOW_SUGGESTED}


def _suggestion(
    inspection: FileInspection,
    table: RawTable,
    dataset: Dataset,
    spec: SourceSpec,
    assignment: Assignment,
    failed_dates: dict[str, int],
    readable_dates: list[str],
    masked: bool,
) -> dict | None:
    """The mapping entry for this layout: the configured entry (if any) with what is missing added."""
    entry = {k: v for k, v in (spec.entry or {}).items()}
    added = False
    if masked:
        return None
    columns = dict(entry.get("columns") or {})
    for column_name, (position, how, _) in sorted(assignment.by_column.items(), key=lambda item: item[1][0]):
        if how == HOW_SUGGESTED:
            columns[table.headings[position]] = column_name
            added = True
    for column_name, headings in assignment.duplicates.items():
        keep_position = assignment.by_column[column_name][0]
        for heading in headings:
            if heading != table.headings[keep_position]:
                columns[heading] = None
                added = True
    if columns:
        entry["columns"] = columns
    values = {k: dict(v) for k, v in (entry.get("values") or {}).items()}
    yes, no = list(_as_list(entry.get("yes_words"))), list(_as_list(entry.get("no_words")))
    for finding in inspection.columns:
        if finding.column.type == "code" and finding.suggested_values:
            values.setdefault(finding.name, {}).update(finding.suggested_values)
            added = True
        if finding.column.type == "bool" and finding.unknown:
            new_yes, new_no = yes_no_suggestion([w for w, _ in finding.unknown])
            yes += [w for w in new_yes if w not in yes]
            no += [w for w in new_no if w not in no]
            added = True
    if values:
        entry["values"] = values
    if yes:
        entry["yes_words"] = yes
    if no:
        entry["no_words"] = no
    if failed_dates:
        formats, _ = suggest_date_formats(failed_dates, readable_dates, spec)
        if formats and formats != list(spec.date_formats):
            entry["date_formats"] = formats
            added = True
    if table.sheet and spec.sheet is None and inspection.sheets and table.sheet != inspection.sheets[0]:
        entry["sheet"] = table.sheet
        added = True
    if table.encoding and not entry.get("encoding") and table.encoding not in DETECTED_ENCODINGS:
        entry["encoding"] = table.encoding  # read here by its byte pattern; the clean stage needs telling
        added = True
    if not inspection.claimed:
        added = True
    return _ordered(entry) if added else None


def _as_list(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


ENTRY_ORDER = ("files", "sheet", "header_row", "encoding", "columns", "values", "date_formats", "yes_words", "no_words")


def _ordered(entry: dict) -> dict:
    return {k: entry[k] for k in ENTRY_ORDER if k in entry} | {k: v for k, v in entry.items() if k not in ENTRY_ORDER}


# ---------------------------------------------------------------------------------------------
# One file


def _read(path: Path, spec: SourceSpec, expected: set[str] | None = None, sheet: str | None = None) -> RawTable:
    return read_raw_file(
        path,
        expected if expected is not None else spec.expected_headings(),
        sheet=sheet or spec.sheet,
        header_row=spec.header_row,
        encoding=spec.encoding,
    )


def _utf16_without_bom(path: Path) -> str | None:
    head = Path(path).read_bytes()[:4096]
    if len(head) < 4 or b"\x00" not in head:
        return None
    even, odd = head[0::2], head[1::2]
    if odd.count(0) > 0.8 * len(odd) and even.count(0) < 0.2 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.8 * len(even) and odd.count(0) < 0.2 * len(odd):
        return "utf-16-be"
    return None


def _with_encoding(spec: SourceSpec, encoding: str) -> SourceSpec:
    return replace(spec, encoding=encoding)


def _candidate_specs(sources: Sources, only: str | None) -> list[SourceSpec]:
    return [spec for name, specs in sources.by_dataset.items() if only in (None, name) for spec in specs]


def _file_words(path: Path) -> set[str]:
    return {t for t in _tokens(re.sub(r"\d+", " ", Path(path).stem)) if len(t) > 2}


def _name_fit(path: Path, dataset: Dataset) -> float:
    words = _file_words(path)
    vocabulary = set(_tokens(dataset.name.replace("_", " "))) | set(_tokens(dataset.description))
    return len(words & vocabulary) / len(words) if words else 0.0


def inspect_file(
    path: Path,
    sources: Sources,
    contract: Contract,
    year: ReportingYear | None,
    dataset: str | None = None,
    shown_as: str | None = None,
) -> list[FileInspection]:
    """Findings for one file (one per list for an Annex A workbook)."""
    path = Path(path)
    shown = shown_as or path.name
    try:
        owner = sources.owner_of(path, shown)
    except UserError as exc:  # two mappings claim it: the clean stage would stop on it
        return [FileInspection(path, shown, claimed=True, error=str(exc))]
    if isinstance(owner, MultiSource):
        return _inspect_multi(path, shown, owner, contract, year, claimed=True)
    if owner is None and dataset is None and (multi := _multi_by_sheets(path, sources)) is not None:
        return _inspect_multi(path, shown, multi, contract, year, claimed=False)
    inspection = FileInspection(path, shown)
    if owner is not None and dataset in (None, owner.dataset):
        inspection.dataset, inspection.spec, inspection.claimed = owner.dataset, owner, True
        patterns = owner.rule.patterns
        inspection.taken_by = (
            f"{owner.origin} (pattern '{owner.rule.match(path.name)}')" if patterns else f"{owner.rule.origin}"
        )
        candidates = [owner]
    else:
        candidates = _candidate_specs(sources, dataset)
        if owner is not None:
            inspection.taken_by = f"--dataset {dataset} (the file is otherwise taken for {owner.dataset})"
    try:
        _choose_and_analyse(inspection, path, candidates, contract, year, dataset)
    except InputFileError as exc:
        encoding = _utf16_without_bom(path) if path.suffix.lower() in {".csv", ".txt"} else None
        if encoding and not any(c.encoding for c in candidates):
            try:
                _choose_and_analyse(
                    inspection, path, [_with_encoding(c, encoding) for c in candidates], contract, year, dataset
                )
                inspection.problems.append(
                    f"the file is {encoding} text without a byte-order mark: the clean stage needs `encoding: {encoding}`"
                )
            except InputFileError as again:
                inspection.error = str(again)
        else:
            inspection.error = str(exc)
    return [inspection]


def _choose_and_analyse(
    inspection: FileInspection,
    path: Path,
    candidates: list[SourceSpec],
    contract: Contract,
    year: ReportingYear | None,
    forced: str | None,
) -> None:
    is_xlsx = path.suffix.lower() in {".xlsx", ".xlsm"}
    inspection.sheets = sheet_names(path) if is_xlsx else []
    expected_all = set().union(*(c.expected_headings() for c in candidates))
    best = None
    tables: dict = {}
    table_profiles: dict = {}  # what each column holds, worked out once per table read
    for spec in candidates:
        sheets = [spec.sheet] if spec.sheet or not is_xlsx else inspection.sheets
        for sheet in sheets:
            expected = spec.expected_headings() if inspection.claimed else expected_all
            key = (sheet, frozenset(expected), spec.encoding, spec.header_row)
            if key not in tables:
                try:
                    tables[key] = _read(path, spec, expected, sheet)
                except InputFileError:
                    if len(sheets) > 1:
                        tables[key] = None  # another sheet may hold the data
                        continue
                    raise
            table = tables[key]
            if table is None:
                continue
            dataset = contract.dataset(spec.dataset)
            profiles = table_profiles.setdefault(key, {})
            assignment = assign(table, dataset, spec, contract, profiles)
            fit = assignment.fit(dataset)
            # The file name only breaks near ties between datasets whose headings fit alike.
            rank = fit + (0.0 if inspection.claimed else 0.1 * _name_fit(path, dataset))
            if best is None or rank > best[0]:
                best = (rank, spec, table, assignment, profiles, fit)
            inspection.fits.append((spec.dataset, round(fit, 2)))
    if best is None:
        raise InputFileError(path, "no sheet of the workbook could be read")
    _, spec, table, assignment, profiles, fit = best
    ranking: dict[str, float] = {}
    for name, value in inspection.fits:
        ranking[name] = max(ranking.get(name, 0.0), value)
    inspection.fits = sorted(ranking.items(), key=lambda item: -item[1])[:3]
    if not inspection.claimed and not forced and fit < DATASET_FIT:
        inspection.table = table
        inspection.taken_by = "no source mapping takes this file, and its headings match no dataset well"
        inspection.headings = [
            HeadingFinding(p, _masked_heading(h, _looks_like_data(table.headings)), None, None)
            for p, h in enumerate(table.headings)
        ]
        return
    if not inspection.claimed and spec.expected_headings() != expected_all:
        # Read again as the clean stage would for this dataset, so header detection matches.
        try:
            again = _read(path, spec, None, table.sheet if table.format == "xlsx" else None)
            if again.header_row == table.header_row:
                table = again
        except InputFileError:
            pass
    inspection.dataset, inspection.spec, inspection.table = spec.dataset, spec, table
    if not inspection.taken_by:
        inspection.taken_by = (
            f"--dataset {forced}"
            if forced
            else "no source mapping takes this file; by its headings and values it looks like "
            f"{spec.dataset} (fit {fit:.2f})"
        )
    analyse_table(inspection, table, contract.dataset(spec.dataset), spec, contract, year, assignment, profiles)
    if is_xlsx and spec.sheet is None and inspection.sheets and table.sheet != inspection.sheets[0]:
        inspection.problems.append(
            f"the data is on sheet '{table.sheet}', but the clean stage reads the first sheet "
            f"('{inspection.sheets[0]}') unless the mapping gives `sheet`"
        )


def _multi_by_sheets(path: Path, sources: Sources) -> MultiSource | None:
    """The multi-dataset workbook a file no mapping takes looks like: it has every sheet of one."""
    if path.suffix.lower() not in {".xlsx", ".xlsm"}:
        return None
    try:
        sheets = {normalise_header(name) for name in sheet_names(path)}
    except InputFileError:
        return None
    for multi in sources.multi.values():
        wanted = {normalise_header(spec.sheet or "") for spec in multi.parts.values()}
        if wanted and wanted <= sheets:
            return multi
    return None


def _inspect_multi(
    path: Path, shown: str, owner: MultiSource, contract: Contract, year: ReportingYear | None, claimed: bool
) -> list[FileInspection]:
    taken_by = (
        f"{owner.rule.origin} (one part of the file)"
        if claimed
        else "no source mapping takes this file; it has every sheet of an "
        f"{owner.name} workbook ({', '.join(sorted(str(spec.sheet) for spec in owner.parts.values()))})"
    )
    try:
        tables = MULTI_READERS[owner.name](path, contract)
    except InputFileError as exc:
        return [FileInspection(path, shown, taken_by=taken_by, claimed=claimed, error=str(exc), multi=owner.name)]
    found = []
    for name, spec in owner.parts.items():
        inspection = FileInspection(
            path, f"{shown} [{tables[name].sheet}]", name, taken_by, claimed, spec, multi=owner.name
        )
        inspection.table = tables[name]
        analyse_table(inspection, tables[name], contract.dataset(name), spec, contract, year)
        inspection.suggestion = None  # the layout is Ofsted's or the DfE's: only the file name is configurable
        found.append(inspection)
    return found


# ---------------------------------------------------------------------------------------------
# A folder, and the mapping block


def generalise_file_name(name: str) -> str:
    """A pattern for this export in every year: runs of digits (dates, years, quarters) become '*'."""
    stem, suffix = Path(name).stem, Path(name).suffix
    pattern = re.sub(r"\d+(?:[-_.]\d+)*", "*", stem)
    pattern = re.sub(r"\*(?:[\s_.-]*\*)+", "*", pattern)
    return pattern + suffix


def _year_of(folder: Path) -> ReportingYear | None:
    try:
        return ReportingYear.parse(folder.name)
    except ValueError:
        return None


def _targets(path: Path, year: ReportingYear | None) -> tuple[Path | None, list[Path], ReportingYear | None, list[str]]:
    """(folder inspected or None, files, year, notes)."""
    notes: list[str] = []
    if path.is_file():
        return None, [path], year or _year_of(path.parent), notes
    if not path.is_dir():
        raise UserError(f"{path}: no such file or folder")
    folder = path
    if _year_of(path) is None:
        years = sorted((y, p) for p in path.iterdir() if p.is_dir() and (y := _year_of(p)) is not None)
        if year is not None and (path / year.label).is_dir():
            folder = path / year.label
        elif years:
            folder = years[-1][1]
            notes.append(f"{path} holds year folders: inspecting the latest, {folder.name} (choose with --year)")
    return folder, folder_files(folder), year or _year_of(folder), notes


def _merge_entry(target: dict, addition: dict) -> None:
    for key, value in addition.items():
        if key in {"columns", "values"}:
            merged = dict(target.get(key) or {})
            for k, v in value.items():
                merged[k] = {**(merged.get(k) or {}), **v} if key == "values" else v
            target[key] = merged
        elif key in {"files", "date_formats", "yes_words", "no_words"}:
            words = _as_list(target.get(key))
            target[key] = words + [v for v in _as_list(value) if v not in words]
        else:
            target.setdefault(key, value)


def _layout_key(inspection: FileInspection, entry: dict) -> tuple:
    return (
        inspection.spec.origin if inspection.spec and inspection.spec.entry is not None else None,
        entry.get("sheet"),
        entry.get("header_row"),
        entry.get("encoding"),
    )


def build_block(inspections: list[FileInspection], sources: Sources, exact_names: set[str]) -> dict:
    """Source mapping entries for every dataset whose files need one: dataset -> entry or list of entries."""
    layouts: dict[str, dict[tuple, dict]] = {}
    for inspection in inspections:
        if inspection.suggestion is None or inspection.dataset is None or inspection.spec is None:
            continue
        entry = {k: (dict(v) if isinstance(v, dict) else v) for k, v in inspection.suggestion.items()}
        if not inspection.claimed:
            name = inspection.path.name
            pattern = name if inspection.dataset in exact_names else generalise_file_name(name)
            entry["files"] = [*_as_list(entry.get("files")), pattern] if "files" in entry else [pattern]
        key = _layout_key(inspection, entry)
        layouts.setdefault(inspection.dataset, {})
        if key in layouts[inspection.dataset]:
            _merge_entry(layouts[inspection.dataset][key], entry)
        else:
            layouts[inspection.dataset][key] = entry
    block: dict = {}
    for inspection in inspections:
        if inspection.multi and not inspection.claimed and inspection.error is None:
            rule = sources.multi[inspection.multi].rule
            name = inspection.path.name
            pattern = name if inspection.multi in exact_names else generalise_file_name(name)
            entry = block.setdefault(inspection.multi, {"files": list(rule.patterns)})
            entry["files"] += [pattern] if pattern not in entry["files"] else []
    for dataset in sources.by_dataset:
        if dataset not in layouts:
            continue
        by_key = layouts[dataset]
        changed = {key[0]: entry for key, entry in by_key.items() if key[0] is not None}
        new = [entry for key, entry in by_key.items() if key[0] is None]
        entries = []
        for spec in sources.by_dataset[dataset]:
            if spec.entry is None:
                continue
            entries.append(_ordered(changed.get(spec.origin, dict(spec.entry))))
        entries += [_ordered(e) for e in new]
        block[dataset] = entries[0] if len(entries) == 1 else entries
    return block


def merged_config(config, block: dict):
    """The partnership config with the block's entries in its sources (for checking the block)."""
    from sscp_lib.config import PartnershipConfig
    from sscp_lib.ingest.sources import SOURCES_KEY, source_entries

    entries, _ = source_entries(config)
    data = dict(config or {})
    data[SOURCES_KEY] = {**(entries or {}), **block}
    # A path that is not a file, so the merged entries are taken as given and messages say what was checked.
    where = getattr(config, "path", None) or "the partnership config"
    return PartnershipConfig(data, Path(f"{where} with the suggested mapping"))


def inspect_path(
    path: Path | str,
    dataset: str | None = None,
    year: str | ReportingYear | None = None,
    config=None,
    contract: Contract | None = None,
) -> Inspection:
    """Inspect one file or a year's folder under the partnership's source mappings."""
    contract = contract or load_contract()
    if dataset is not None and dataset not in contract.datasets:
        raise UserError(
            f"--dataset: the data contract has no dataset {dataset!r}; datasets: {', '.join(contract.datasets)}"
        )
    if isinstance(year, str):
        try:
            year = ReportingYear.parse(year)
        except ValueError as exc:
            raise UserError(f"--year: {exc}") from None
    sources = resolve_sources(contract, config)
    path = Path(path)
    folder, files, year, notes = _targets(path, year)
    root = folder.parent if folder is not None else path.parent

    def run(with_sources: Sources) -> list[FileInspection]:
        found = []
        for file in files:
            shown = file.relative_to(root).as_posix() if folder is not None else str(file)
            found += inspect_file(file, with_sources, contract, year, dataset if folder is None else None, shown)
        if folder is not None and dataset is not None:
            found = [f for f in found if f.dataset == dataset]
        return found

    inspections = run(sources)
    # A suggested pattern must not take another file of the folder from the dataset it goes to now.
    neighbours = files if folder is not None else folder_files(path.parent)
    inspection = Inspection(path, year, sources.config_file, inspections, notes=notes)
    if folder is not None and dataset is None:
        taken = {f.dataset for f in inspections if f.claimed and f.error is None}
        inspection.missing_datasets = [name for name in contract.datasets if name not in taken]
    exact: set[str] = set()
    block, checked = {}, None
    for _ in range(2):  # a second pass names files exactly where a pattern claims another dataset's file
        block = build_block(inspections, sources, exact)
        if not block:
            break
        try:
            checked = resolve_sources(contract, merged_config(config, block))
        except UserError as exc:
            inspection.notes.append(f"the suggested mapping does not validate: {exc}")
            checked = None
            break
        wrong = _misclaimed(inspections, sources, checked, neighbours)
        if not wrong or wrong <= exact:
            break
        exact |= wrong
    inspection.block = block
    if checked is not None:
        _check_with(inspection, run, checked)
    return inspection


def _owner_dataset(sources: Sources, file: Path) -> str | None:
    try:
        owner = sources.owner_of(file)
    except UserError:
        return None
    return owner.dataset if isinstance(owner, SourceSpec) else None


def _misclaimed(inspections: list[FileInspection], before: Sources, after: Sources, files: list[Path]) -> set[str]:
    """Datasets whose suggested patterns claim a file another dataset should have (the folder's
    other files keep the dataset they had, if any), or leave a file of theirs to another."""
    intended = {f.path: f.dataset for f in inspections if f.dataset}
    wrong = set()
    for file in files:
        want = intended[file] if file in intended else _owner_dataset(before, file)
        try:
            owner = after.owner_of(file)
        except UserError:
            wrong |= {o.dataset for o, _ in after.claims(file.name) if isinstance(o, SourceSpec)}
            continue
        if isinstance(owner, MultiSource):
            continue
        got = owner.dataset if owner is not None else None
        # A neighbour no mapping took before may be taken now (the same export, another quarter).
        if want != got and (file in intended or want is not None):
            wrong |= {d for d in (want, got) if d}
    return wrong


def _check_with(inspection: Inspection, run, checked: Sources) -> None:
    """Inspect again with the suggested mapping: what would still stop the clean stage."""
    again = {f.shown_as: f for f in run(checked)}
    for finding in inspection.files:
        after = again.get(finding.shown_as)
        if after is None or after.error:
            continue
        finding.still_missing = list(after.missing_required) + [
            p for p in after.problems if "missing required" not in p
        ]
        if not after.claimed:
            finding.still_missing.append("no mapping takes the file")
