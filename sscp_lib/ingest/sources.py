"""Source mappings: which raw files hold each dataset, and how their headings and values read.

The data contract gives every dataset a default layout: files whose name starts with its
`file_pattern`, headings matched by column name or alias, codes by code, label or alias, the
built-in date spellings and yes/no words. A partnership describes its own exports in the
`sources:` section of its configuration (or in a file that section names); `resolve_sources`
merges the two into one SourceSpec per file layout. Discovery, the readers and the value parsers
of the clean stage, and `sscp inspect`, all consume the resolved specs, so a mapping is read in
one place. Configuration mistakes are collected and raised as one UserError naming the file and
every key at fault.
"""

from __future__ import annotations

import codecs
import difflib
import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import yaml

from sscp_lib.contract import Contract, Dataset, normalise_header
from sscp_lib.errors import UserError
from sscp_lib.schema import SAFE_LOADER

# Built-in words of yes/no columns (compared case-insensitively); a mapping adds its own.
TRUE_WORDS = frozenset({"y", "yes", "true", "t", "1"})
FALSE_WORDS = frozenset({"n", "no", "false", "f", "0"})

# The keys of one dataset's source mapping, with what each does (docs/data-contract.md lists them).
SOURCE_KEYS: dict[str, str] = {
    "files": "file-name patterns (`*` any text, `?` one character; case ignored) matched in each year folder; "
    "one pattern or a list; every matching file is read and the rows concatenated. Replaces the default "
    "rule (a name starting with the dataset's file pattern)",
    "sheet": "the worksheet of an .xlsx file to read (default: the first sheet)",
    "header_row": "the row number of the heading row (default: found below any title rows by its headings)",
    "encoding": "the text encoding of CSV files, e.g. `utf-16-le` or `iso-8859-15` (default: detected: UTF-8, "
    "UTF-8 or UTF-16 with a byte-order mark, Windows-1252)",
    "columns": "heading in the file → contract column; added to the contract's accepted headings and taking "
    "precedence over them; `~` (null) ignores a heading",
    "values": "contract code column → {spelling in the file: contract code}; tried before the code list's codes, "
    "labels and accepted spellings",
    "date_formats": "date formats in Python `strptime` notation, e.g. `%d-%b-%Y` for 01-Apr-2023; they replace the "
    "built-in day-first spellings (ISO dates, Excel date cells and serial numbers are always read)",
    "yes_words": "words meaning yes in yes/no columns, added to the built-in ones",
    "no_words": "words meaning no in yes/no columns, added to the built-in ones",
}
# Sources that feed several datasets from one file: only their file names are configurable.
MULTI_SOURCE_KEYS: dict[str, str] = {
    "files": "file-name patterns of the file (a workbook, a census return), as for a dataset",
}

# How a heading came to mean a contract column.
HOW_NAME = "name"  # the contract column's own name
HOW_ALIAS = "alias"  # one of the contract's accepted headings
HOW_ANNEX_A = "annex_a"  # an Ofsted Annex A heading
HOW_CIN_CENSUS = "cin_census"  # an element path of a DfE CIN census return

# The multi-dataset sources (files feeding several datasets), by name.
ANNEX_A = "annex_a"
CIN_CENSUS = "cin_census"
HOW_CONFIG = "config"  # the partnership's source mapping
HOW_IGNORED = "ignored"  # the source mapping says to ignore it

# A pattern is checked against this date (day above 12, month above 9) to catch formats that drop a part.
_FORMAT_PROBE = datetime(2023, 11, 25)

SOURCES_KEY = "sources"
# Files a default name rule claims (a configured pattern claims what it matches).
DEFAULT_SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm")


# ---------------------------------------------------------------------------------------------
# Resolved specs


@dataclass(frozen=True)
class FileRule:
    """Which files a mapping claims: configured patterns, or the contract's name prefix."""

    origin: str  # "sources.police_referrals", "sources.referrals[2]" or "the default name rule of referrals"
    patterns: tuple[str, ...] = ()
    default_prefix: str | None = None
    default_suffixes: tuple[str, ...] = DEFAULT_SUFFIXES  # files the default prefix rule may claim

    def match(self, name: str) -> str | None:
        """The pattern (or default prefix) that claims a file name, or None."""
        lowered = name.lower()
        for pattern in self.patterns:
            if fnmatch.fnmatchcase(lowered, pattern.lower()):
                return pattern
        if not self.patterns and self.default_prefix is not None and Path(lowered).suffix in self.default_suffixes:
            stem = Path(lowered).stem
            prefix = self.default_prefix.lower()
            if not prefix:  # any name with the suffix (a CIN census return's name varies by system)
                return f"*{Path(lowered).suffix}"
            if stem == prefix or (stem.startswith(prefix) and not stem[len(prefix)].isalpha()):
                return f"{self.default_prefix}*"
        return None

    @property
    def configured(self) -> bool:
        return bool(self.patterns)

    def describe(self, suffixes: str = ".csv or .xlsx") -> str:
        if self.patterns:
            names = " or ".join(f"'{p}'" for p in self.patterns)
            return f"a file matching {names} ({self.origin})"
        if self.default_suffixes != DEFAULT_SUFFIXES:
            suffixes = " or ".join(self.default_suffixes)
        return f"a file named {self.default_prefix}*{suffixes}"


@dataclass(frozen=True)
class HeadingRule:
    column: str | None  # None: ignored
    how: str


@dataclass(frozen=True)
class SourceSpec:
    """Everything needed to find and read one layout of a dataset's files."""

    dataset: str
    rule: FileRule
    headings: Mapping[str, HeadingRule]  # normalised heading -> rule
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # column -> spelling (folded) -> code
    sheet: str | None = None
    header_row: int | None = None
    encoding: str | None = None
    date_formats: tuple[str, ...] = ()
    yes_words: frozenset[str] = TRUE_WORDS
    no_words: frozenset[str] = FALSE_WORDS
    multi: str | None = None  # ANNEX_A or CIN_CENSUS when the file feeds several datasets
    config_file: Path | None = None
    entry: Mapping | None = None  # the configuration entry as written (None: contract defaults)

    @property
    def origin(self) -> str:
        return self.rule.origin

    def expected_headings(self) -> set[str]:
        """Normalised headings that identify the header row."""
        return {key for key, rule in self.headings.items() if rule.column is not None}

    def lookup(self) -> dict[str, str]:
        """Normalised heading -> contract column (ignored headings left out)."""
        return {key: rule.column for key, rule in self.headings.items() if rule.column is not None}


@dataclass(frozen=True)
class MultiSource:
    """A file feeding several datasets (an Ofsted Annex A workbook): one SourceSpec per dataset."""

    name: str
    rule: FileRule
    parts: Mapping[str, SourceSpec]


@dataclass(frozen=True)
class Sources:
    """The resolved source mappings of a run: contract defaults merged with the partnership's."""

    contract: Contract
    by_dataset: Mapping[str, tuple[SourceSpec, ...]]
    multi: Mapping[str, MultiSource]
    config_file: Path | None = None

    def owners(self) -> list[SourceSpec | MultiSource]:
        return [*self.multi.values(), *(spec for specs in self.by_dataset.values() for spec in specs)]

    def claims(self, name: str) -> list[tuple[SourceSpec | MultiSource, str]]:
        """Every mapping that claims a file name, with the pattern that matched.

        Default rules compete among themselves as before (the longest prefix wins); a configured
        pattern claims outright, so two claims left over are a conflict for owner_of to report.
        """
        configured: list[tuple[SourceSpec | MultiSource, str]] = []
        default: list[tuple[SourceSpec | MultiSource, str]] = []
        for owner in self.owners():
            pattern = owner.rule.match(name)
            if pattern is not None:
                (configured if owner.rule.configured else default).append((owner, pattern))
        if default:
            default = [max(default, key=lambda claim: len(claim[0].rule.default_prefix or ""))]
        return configured + default

    def owner_of(self, path: Path, shown_as: str | None = None) -> SourceSpec | MultiSource | None:
        """The one mapping that claims a file, None when none does; two claims are a UserError."""
        claims = self.claims(Path(path).name)
        if len(claims) > 1:
            listed = " and ".join(f"{owner.rule.origin} ('{pattern}')" for owner, pattern in claims)
            where = f" in {self.config_file}" if self.config_file else ""
            raise UserError(
                f"{shown_as or path}: two source mappings claim this file: {listed}{where}; "
                f"make their file patterns match different files"
            )
        return claims[0][0] if claims else None

    def describe_files(self, dataset: str) -> str:
        return " or ".join(spec.rule.describe() for spec in self.by_dataset[dataset])


# ---------------------------------------------------------------------------------------------
# Contract defaults


def _default_origin(name: str) -> str:
    return f"the default name rule of {name}"


def default_headings(dataset: Dataset) -> dict[str, HeadingRule]:
    headings: dict[str, HeadingRule] = {}
    for column in dataset.columns:
        for alias in column.aliases:
            headings[normalise_header(alias)] = HeadingRule(column.name, HOW_ALIAS)
    for column in dataset.columns:  # a column's own name wins over another column's alias
        headings[normalise_header(column.name)] = HeadingRule(column.name, HOW_NAME)
    return headings


def default_spec(dataset: Dataset) -> SourceSpec:
    return SourceSpec(
        dataset=dataset.name,
        rule=FileRule(origin=_default_origin(dataset.name), default_prefix=dataset.file_pattern),
        headings=default_headings(dataset),
    )


def annex_a_source(contract: Contract, rule: FileRule | None = None) -> MultiSource:
    """The Annex A workbook: one part per dataset with an `annex_a` sheet in the contract."""
    prefix = str(contract.annex_a.get("file_pattern", "annex_a"))
    rule = rule or FileRule(origin=_default_origin("annex_a"), default_prefix=prefix)
    parts = {}
    for name, dataset in contract.datasets.items():
        if not dataset.annex_a:
            continue
        headings = default_headings(dataset)
        for heading, column in dataset.annex_a.get("columns", {}).items():
            headings[normalise_header(heading)] = HeadingRule(column, HOW_ANNEX_A)
        values = {
            column: {_fold(k): str(v) for k, v in spellings.items()}
            for column, spellings in (dataset.annex_a.get("values") or {}).items()
        }
        parts[name] = SourceSpec(
            dataset=name,
            rule=rule,
            headings=headings,
            values=values,
            sheet=dataset.annex_a["sheet"],
            multi=ANNEX_A,
        )
    return MultiSource(ANNEX_A, rule, parts)


def cin_census_source(contract: Contract, rule: FileRule | None = None) -> MultiSource:
    """The DfE CIN census return (XML): one part per dataset with a `cin_census` mapping in the contract.

    By default any file with the return's suffix (.xml) is taken for it: its name varies by system.
    """
    suffix = str(contract.cin_census.get("suffix", ".xml")).lower()
    rule = rule or FileRule(origin=_default_origin(CIN_CENSUS), default_prefix="", default_suffixes=(suffix,))
    parts = {}
    for name, dataset in contract.datasets.items():
        census = dataset.cin_census
        if not census:
            continue
        headings = default_headings(dataset)
        for path, column in census["columns"].items():
            headings[normalise_header(path)] = HeadingRule(column, HOW_CIN_CENSUS)
        values = {
            column: {_fold(k): str(v) for k, v in spellings.items()}
            for column, spellings in (census.get("values") or {}).items()
        }
        parts[name] = SourceSpec(dataset=name, rule=rule, headings=headings, values=values, multi=CIN_CENSUS)
    return MultiSource(CIN_CENSUS, rule, parts)


# Multi-dataset sources by name: the contract's default for each. A configured entry under this
# name in `sources:` changes its file patterns. Fullest first: where a year folder holds several,
# each dataset is read from the first that gives it (the CIN census return for referrals and plans,
# then the Annex A workbook for contacts), so no record is counted twice.
MULTI_SOURCES = {CIN_CENSUS: cin_census_source, ANNEX_A: annex_a_source}


def _fold(text) -> str:
    """Comparison key of a value spelling: case and runs of spaces folded."""
    return " ".join(str(text).split()).lower()


# ---------------------------------------------------------------------------------------------
# Reading the configuration


class _SourcesLoader(SAFE_LOADER):  # type: ignore[misc,valid-type]
    """YAML as written: Yes/No/On/Off stay words (YAML 1.1 would make them booleans), and a key
    given twice is an error instead of silently keeping the last."""

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, list | dict):
                continue
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    f"the key {key!r} is given twice (also on line {seen[key].line + 1})",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)


_SourcesLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _load_yaml(path: Path):
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{path}: source mapping file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot be read ({exc})") from None
    try:
        return yaml.load(text, Loader=_SourcesLoader) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        problem = " ".join(str(getattr(exc, "problem", None) or exc).split())
        raise UserError(f"{path}{where}: not valid YAML ({problem})") from None


def source_entries(config) -> tuple[dict, Path | None]:
    """The `sources:` section of a partnership config (`config` a PartnershipConfig, a mapping or
    None) and the file it was written in: the config itself, or the file it names."""
    if config is None:
        return {}, None
    config_path = getattr(config, "path", None)
    section = config.get(SOURCES_KEY)
    if section is None:
        return {}, config_path
    path = mapping_file(config)
    if path is not None:
        data = _load_yaml(path)
        if not isinstance(data, dict) or set(data) != {SOURCES_KEY}:
            raise UserError(
                f"{path}: a source mapping file holds one `{SOURCES_KEY}:` section, as it would appear in "
                f"the partnership config (found {', '.join(map(str, data)) if isinstance(data, dict) else 'no mapping'})"
            )
        return data[SOURCES_KEY] or {}, path
    if config_path and Path(config_path).is_file():
        # Read again without YAML 1.1 booleans, so `Yes: NFA` keeps its word.
        reread = _load_yaml(Path(config_path))
        if isinstance(reread, dict) and SOURCES_KEY in reread:
            section = reread[SOURCES_KEY]
    return section, config_path


def mapping_file(config) -> Path | None:
    """The separate source mapping file a partnership config names (None when inline or absent)."""
    section = config.get(SOURCES_KEY) if config is not None else None
    if not isinstance(section, str):
        return None
    config_path = getattr(config, "path", None)
    return ((Path(config_path).parent if config_path else Path.cwd()) / section).resolve()


# ---------------------------------------------------------------------------------------------
# Validation and resolution


class _Problems:
    """Configuration problems, collected so the user sees them all at once."""

    def __init__(self, file: Path | None):
        self.file = file
        self.items: list[str] = []

    def add(self, key: str, message: str) -> None:
        self.items.append(f"{key}: {message}")

    def raise_if_any(self) -> None:
        if not self.items:
            return
        where = str(self.file) if self.file else "partnership configuration"
        if len(self.items) == 1:
            raise UserError(f"{where}: {self.items[0]}")
        listed = "; ".join(f"({i}) {item}" for i, item in enumerate(self.items, 1))
        raise UserError(f"{where}: {len(self.items)} problems in the source mappings: {listed}")


def _closest(word: str, options) -> str:
    match = difflib.get_close_matches(str(word), [str(o) for o in options], n=1, cutoff=0.6)
    return f" (did you mean '{match[0]}'?)" if match else ""


def _key(parent: str, child) -> str:
    text = str(child)
    plain = text.replace("_", "").isalnum()
    return f"{parent}.{text}" if plain else f'{parent}."{text}"'


def _words(value, key: str, problems: _Problems) -> list[str] | None:
    """One string or a list of strings; booleans (YAML's unquoted yes/no) are refused with advice."""
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, bool):
            problems.add(key, f"{item!r} was read as a true/false value: put the word in quotes")
            return None
        if item is None or (isinstance(item, str) and not item.strip()) or isinstance(item, dict | list):
            problems.add(key, "expected a word or a list of words")
            return None
        out.append(str(item))
    return out


def _patterns(value, key: str, problems: _Problems) -> tuple[str, ...]:
    patterns = _words(value, key, problems) or []
    for pattern in patterns:
        if "/" in pattern or "\\" in pattern:
            problems.add(key, f"'{pattern}': patterns match file names inside the year folders; leave out folders")
    return tuple(p.strip() for p in patterns)


def _date_formats(value, key: str, problems: _Problems) -> tuple[str, ...]:
    formats = _words(value, key, problems) or []
    for fmt in formats:
        try:
            ok = datetime.strptime(_FORMAT_PROBE.strftime(fmt), fmt).date() == _FORMAT_PROBE.date()
        except ValueError:
            ok = False
        if not ok:
            problems.add(
                key,
                f"'{fmt}' is not a date format that gives day, month and year "
                "(write it in strptime notation, e.g. '%d/%m/%Y' or '%d-%b-%Y')",
            )
    return tuple(formats)


def _dataset_spec(
    dataset: Dataset, entry, key: str, contract: Contract, problems: _Problems, config_file
) -> SourceSpec | None:
    if not isinstance(entry, dict):
        problems.add(key, "expected a mapping of " + ", ".join(SOURCE_KEYS))
        return None
    for name in entry:
        if name not in SOURCE_KEYS:
            problems.add(
                _key(key, name), "unknown key" + _closest(name, SOURCE_KEYS) + "; known keys: " + ", ".join(SOURCE_KEYS)
            )
    columns = {c.name: c for c in dataset.columns}
    headings = default_headings(dataset)
    configured: dict[str, tuple[str, str | None]] = {}  # normalised -> (heading as written, column)
    mapping = entry.get("columns") or {}
    if not isinstance(mapping, dict):
        problems.add(_key(key, "columns"), "expected a mapping of heading in the file -> contract column")
        mapping = {}
    for heading, column in mapping.items():
        heading_key = _key(_key(key, "columns"), heading)
        if isinstance(heading, bool):
            problems.add(heading_key, "the heading was read as a true/false value: put it in quotes")
            continue
        if column is not None and (not isinstance(column, str) or column not in columns):
            problems.add(
                heading_key,
                f"the data contract's {dataset.name} has no column '{column}'{_closest(column, columns)}; "
                f"its columns: {', '.join(columns)}",
            )
            continue
        normalised = normalise_header(heading)
        if not normalised:
            problems.add(heading_key, "an empty heading cannot be mapped")
            continue
        if normalised in configured and configured[normalised][1] != column:
            problems.add(
                heading_key,
                f"the same heading as '{configured[normalised][0]}' (case and punctuation are ignored), mapped differently",
            )
            continue
        configured[normalised] = (str(heading), column)
        headings[normalised] = HeadingRule(column, HOW_CONFIG if column else HOW_IGNORED)
    values: dict[str, dict[str, str]] = {}
    spellings = entry.get("values") or {}
    if not isinstance(spellings, dict):
        problems.add(_key(key, "values"), "expected a mapping of contract column -> {spelling: code}")
        spellings = {}
    for column_name, table in spellings.items():
        column_key = _key(_key(key, "values"), column_name)
        column = columns.get(column_name) if isinstance(column_name, str) else None
        if column is None:
            problems.add(
                column_key,
                f"the data contract's {dataset.name} has no column '{column_name}'{_closest(column_name, columns)}",
            )
            continue
        if column.type != "code":
            hint = "; for yes/no columns use yes_words and no_words" if column.type == "bool" else ""
            problems.add(column_key, f"'{column_name}' is a {column.type} column, not a code column{hint}")
            continue
        if not isinstance(table, dict):
            problems.add(column_key, "expected a mapping of spelling in the file -> contract code")
            continue
        code_list = contract.codes_for(column)
        lookup = code_list.lookup()
        resolved = {}
        for spelling, code in table.items():
            spelling_key = _key(column_key, spelling)
            if isinstance(spelling, bool) or isinstance(code, bool):
                problems.add(spelling_key, "a yes/no word was read as a true/false value: put it in quotes")
                continue
            canonical = lookup.get(_fold(code)) if code is not None else None
            if canonical is None:
                problems.add(
                    spelling_key,
                    f"'{code}' is not a code of {code_list.name}{_closest(code, code_list.codes)}; "
                    f"codes: {', '.join(code_list.codes)}",
                )
                continue
            resolved[_fold(spelling)] = canonical
        values[column_name] = resolved
    sheet = entry.get("sheet")
    if sheet is not None and (not isinstance(sheet, str | int) or isinstance(sheet, bool) or not str(sheet).strip()):
        problems.add(_key(key, "sheet"), "expected the name of a worksheet")
        sheet = None
    header_row = entry.get("header_row")
    if header_row is not None and (isinstance(header_row, bool) or not isinstance(header_row, int) or header_row < 1):
        problems.add(_key(key, "header_row"), f"expected a row number (1 or more), not {header_row!r}")
        header_row = None
    encoding = entry.get("encoding")
    if encoding is not None:
        try:
            encoding = codecs.lookup(str(encoding)).name
        except LookupError:
            problems.add(_key(key, "encoding"), f"unknown text encoding '{encoding}' (e.g. utf-8, cp1252, utf-16-le)")
            encoding = None
    yes = _words(entry["yes_words"], _key(key, "yes_words"), problems) if "yes_words" in entry else []
    no = _words(entry["no_words"], _key(key, "no_words"), problems) if "no_words" in entry else []
    yes_set, no_set = {_fold(w) for w in yes or []}, {_fold(w) for w in no or []}
    if yes_set & no_set:
        problems.add(_key(key, "yes_words"), f"{', '.join(sorted(yes_set & no_set))} given as both yes and no")
    patterns = _patterns(entry["files"], _key(key, "files"), problems) if "files" in entry else ()
    formats = (
        _date_formats(entry["date_formats"], _key(key, "date_formats"), problems) if "date_formats" in entry else ()
    )
    return SourceSpec(
        dataset=dataset.name,
        rule=FileRule(origin=key, patterns=patterns, default_prefix=dataset.file_pattern),
        headings=headings,
        values=values,
        sheet=str(sheet) if sheet is not None else None,
        header_row=header_row,
        encoding=str(encoding) if encoding else None,
        date_formats=formats,
        # A configured word overrides a built-in one of the other meaning (e.g. '1' meaning no).
        yes_words=frozenset((TRUE_WORDS - no_set) | yes_set),
        no_words=frozenset((FALSE_WORDS - yes_set) | no_set),
        config_file=config_file,
        entry=entry,
    )


def resolve_sources(contract: Contract, config=None) -> Sources:
    """Contract defaults merged with the partnership's `sources:` (validated; one UserError for all)."""
    entries, config_file = source_entries(config)
    problems = _Problems(config_file)
    if not isinstance(entries, dict):
        problems.add(SOURCES_KEY, "expected a mapping of dataset name -> source mapping (or the name of a file)")
        entries = {}
    by_dataset: dict[str, tuple[SourceSpec, ...]] = {}
    multi: dict[str, MultiSource] = {}
    known = [*contract.datasets, *MULTI_SOURCES]
    for name, entry in entries.items():
        key = _key(SOURCES_KEY, name)
        if name in MULTI_SOURCES:
            if not isinstance(entry, dict):
                problems.add(key, "expected a mapping with: " + ", ".join(MULTI_SOURCE_KEYS))
                continue
            for child in entry:
                if child not in MULTI_SOURCE_KEYS:
                    problems.add(
                        _key(key, child),
                        "unknown key"
                        + _closest(child, MULTI_SOURCE_KEYS)
                        + f"; {name} takes only: "
                        + ", ".join(MULTI_SOURCE_KEYS),
                    )
            patterns = _patterns(entry.get("files"), _key(key, "files"), problems) if "files" in entry else ()
            default = MULTI_SOURCES[name](contract)
            rule = FileRule(
                origin=key,
                patterns=patterns,
                default_prefix=default.rule.default_prefix,
                default_suffixes=default.rule.default_suffixes,
            )
            multi[name] = MULTI_SOURCES[name](contract, rule)
            continue
        if name not in contract.datasets:
            problems.add(
                key, f"the data contract has no dataset '{name}'{_closest(name, known)}; datasets: {', '.join(known)}"
            )
            continue
        dataset = contract.dataset(name)
        layouts = entry if isinstance(entry, list) else [entry]
        if not layouts:
            problems.add(key, "an empty list: give one source mapping, or a list of them")
            continue
        specs = []
        for index, layout in enumerate(layouts, 1):
            layout_key = f"{key}[{index}]" if isinstance(entry, list) else key
            spec = _dataset_spec(dataset, layout, layout_key, contract, problems, config_file)
            if spec is not None:
                specs.append(spec)
        if len([s for s in specs if not s.rule.configured]) > 1:
            problems.add(key, "only one layout of a dataset may leave out `files`")
        by_dataset[name] = tuple(specs)
    problems.raise_if_any()
    for name, dataset in contract.datasets.items():
        by_dataset.setdefault(name, (default_spec(dataset),))
    for name, make in MULTI_SOURCES.items():
        multi.setdefault(name, make(contract))
    ordered = {name: by_dataset[name] for name in contract.datasets}
    return Sources(contract=contract, by_dataset=ordered, multi=multi, config_file=config_file)
