"""docs/data-contract.md, generated from sscp_lib/contract.yaml (`sscp contract-docs`).

Agencies read it to know what to send; it is regenerated, never edited by hand, and a test fails
when the committed copy no longer matches the contract.
"""

from __future__ import annotations

from pathlib import Path

from sscp_lib.config import PROJECT_ROOT
from sscp_lib.contract import RECODED_COLUMNS, Contract, load_contract
from sscp_lib.ingest.collection_templates import template_datasets
from sscp_lib.ingest.sources import (
    CIN_CENSUS,
    FALSE_WORDS,
    MULTI_SOURCE_KEYS,
    MULTI_SOURCES,
    SOURCE_KEYS,
    SOURCES_KEY,
    TRUE_WORDS,
)

DEFAULT_DOCS = PROJECT_ROOT / "docs" / "data-contract.md"


def _cell(text) -> str:
    """Text safe inside a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return lines


def _identifier(column) -> str:
    if column.role == "pseudonymise":
        return f"pseudonymised as `{column.output}`"
    if column.role == "drop":
        return "personal data: dropped at cleaning"
    return ""


def _rules(column) -> str:
    notes = []
    if column.min is not None:
        notes.append(f"min {column.min:g}")
    if column.max is not None:
        notes.append(f"max {column.max:g}")
    if column.derive_if_missing:
        notes.append("derived from child id, period date and order when absent")
    if column.references:
        notes.append(f"must exist in `{column.references}`")
    if column.severity != "critical":
        notes.append(f"severity {column.severity}")
    if column.required and column.nullable:
        notes.append("heading required, values may be empty")
    return "; ".join(notes)


def _dataset_section(contract: Contract, name: str) -> list[str]:
    ds = contract.dataset(name)
    agency = contract.code_lists["agency"].codes.get(ds.agency, ds.agency)
    lines = [
        f"### `{name}`",
        "",
        ds.description + ".",
        "",
        f"- Agency: {agency} (`{ds.agency}`)",
        f"- Files: names starting `{ds.file_pattern}` (`.csv` or `.xlsx`) in `data/raw/<year>/`, or as "
        f"`{SOURCES_KEY}.{name}.files` in the partnership config says",
        f"- Period column (places a row in a reporting year): `{ds.period_column}`",
        f"- Key: {', '.join(f'`{k}`' for k in ds.key)}",
        f"- Child-level (small counts suppressed): {'yes' if ds.child_level else 'no'}",
    ]
    if name in template_datasets(contract):
        lines.append(f"- Data-collection template: `sscp templates` writes `{ds.file_pattern}.xlsx`")
    lines.append("")
    described = any(col.description for col in ds.columns)
    rows = []
    for col in ds.columns:
        rows.append(
            [
                f"`{col.name}`",
                col.type,
                "yes" if col.required else "no",
                ", ".join(col.aliases),
                f"[`{col.codes}`](#code-list-{col.codes})" if col.codes else "",
                _identifier(col),
                _rules(col),
                *([col.description] if described else []),
            ]
        )
    header = ["column", "type", "required", "also accepted as", "codes", "identifier", "rules"]
    lines += _table(header + (["meaning"] if described else []), rows)
    lines += _derived_columns_table(contract, ds)
    if ds.annex_a:
        lines += ["", f"Annex A sheet `{ds.annex_a['sheet']}`:", ""]
        lines += _table(["Annex A heading", "column"], [[h, f"`{c}`"] for h, c in ds.annex_a["columns"].items()])
        for column, values in (ds.annex_a.get("values") or {}).items():
            spelled = ", ".join(f"{k} → `{v}`" for k, v in values.items())
            lines += ["", f"Annex A values of `{column}`: {spelled}."]
    if ds.cin_census:
        lines += _census_section(ds.cin_census)
    return lines + [""]


def _census_section(census: dict) -> list[str]:
    """Where a dataset's rows and columns are in a CIN census return."""
    record = census["record"]
    lines = ["", f"CIN census return: one row per `<{record.split('/')[-1]}>` (`Child/{record}`):", ""]
    lines += _table(
        ["census element (below `Child`)", "column"], [[f"`{p}`", f"`{c}`"] for p, c in census["columns"].items()]
    )
    for column, values in (census.get("values") or {}).items():
        spelled = ", ".join(f"{k} → `{v}`" for k, v in values.items())
        lines += ["", f"CIN census values of `{column}` (any case): {spelled}."]
    return lines


def _census_source_lines(contract: Contract) -> list[str]:
    census = contract.cin_census
    if not census:
        return []
    given = [(n, ds.cin_census["record"].split("/")[-1]) for n, ds in contract.datasets.items() if ds.cin_census]
    return [
        "## CIN census return",
        "",
        " ".join(str(census.get("description", "")).split()),
        "",
        f"Any `{census['suffix']}` file in a year folder (or a file matching `{SOURCES_KEY}.{CIN_CENSUS}.files`) is "
        "read as the council's CIN census return (file names vary by case management system). It gives "
        + ", ".join(f"`{n}` (one row per `<{tag}>`)" for n, tag in given)
        + ".",
        "",
        "Where a year folder holds more than one source for a dataset, the fullest is read and the others are "
        "listed as not read in the clean log, so no record is counted twice: a CIN census return first, then an "
        "Annex A workbook, then a separate file. A council can send Annex A for its contacts and the census "
        "return for its referrals and plans.",
        "",
        "A rejected census row names its record element in `sheet` and the line of the element's start tag in "
        "`row`. A file that is not well-formed XML, or is XML but not a census return, stops the clean stage with "
        "one message naming the file (and the line, for XML that is not well-formed).",
        "",
    ]


# --- Derived columns of a processed table, with their codes ----------------------------


def _derived_columns_table(contract: Contract, ds) -> list[str]:
    """The columns the clean stage adds to the dataset's processed table: type, source, meaning, codes."""
    rows = []
    for derived in contract.derived_columns(ds):
        if derived.codes:
            codes = f"[`{derived.codes}`](#code-list-{derived.codes})"
        else:
            codes = "true / false" if derived.type == "bool" else ""
        rows.append([f"`{derived.name}`", derived.type, f"`{derived.source}`", derived.meaning, codes])
    return ["", "The processed table adds:", ""] + _table(["column", "type", "from", "meaning", "codes"], rows)


# --- end of derived columns ----------------------------------------------------------------------


def _code_list_section(contract: Contract, name: str) -> list[str]:
    codes = contract.code_lists[name]
    group_of = codes.group_of()
    aliases: dict[str, list[str]] = {}
    for alias, code in codes.aliases.items():
        aliases.setdefault(code, []).append(alias)
    lines = [f"### Code list `{name}`", "", codes.description + ".", ""]
    header = ["code", "label"]
    if codes.groups:
        header.append("group")
    header += ["also accepted as", "retired"]
    rows = []
    for code, label in codes.codes.items():
        row = [f"`{code}`", label]
        if codes.groups:
            row.append(group_of.get(code, ""))
        row += [", ".join(aliases.get(code, [])), codes.retired.get(code, "")]
        rows.append(row)
    return lines + _table(header, rows) + [""]


def _words(words) -> str:
    return ", ".join(f"`{w}`" for w in sorted(words))


def _mapping_section(contract: Contract) -> list[str]:
    """Every place a heading, value or file-name mapping can be given, in the order they are tried."""
    example = next(iter(contract.datasets))
    lines = [
        "## Where a mapping can be given",
        "",
        "A file's headings, values and name are read by, in order of precedence:",
        "",
        f"1. The partnership's source mapping: the `{SOURCES_KEY}:` section of the partnership config "
        "(config/partnership.yaml, or the file given with `--config`), or the YAML file that section names "
        f"(`{SOURCES_KEY}: sources.yaml`, relative to the config, holding a `{SOURCES_KEY}:` section). It is "
        "checked before anything is read: an unknown key, dataset, column or code is one error naming the file "
        "and every key at fault. Its headings take precedence over the contract's; its value spellings are tried "
        "before the code list's; its `files` patterns replace the dataset's default name rule.",
        "2. The Annex A headings and values of a dataset (above), for the lists of an Annex A workbook; its "
        "CIN census element paths and values, for a CIN census return.",
        "3. The contract (this document): each column's name and the headings it is *also accepted as*; each code "
        "list's codes, labels and accepted spellings; the built-in date spellings and yes/no words; file names "
        "starting with the dataset's file pattern.",
        "",
        f"One entry per dataset under `{SOURCES_KEY}:` (or a list of entries when a dataset comes in "
        "several layouts, e.g. an export format that changed during the year). Every key is optional:",
        "",
    ]
    lines += _table(["key", "what it says"], [[f"`{key}`", text] for key, text in SOURCE_KEYS.items()])
    lines += [
        "",
        "Files feeding several datasets (an Annex A workbook, a CIN census return) take only: "
        + "; ".join(
            f"`{SOURCES_KEY}.{name}.{key}` ({text})"
            for name in MULTI_SOURCES
            for key, text in MULTI_SOURCE_KEYS.items()
        )
        + ".",
        "",
        "A file claimed by two mappings (two patterns, or a pattern and another dataset's default name rule) is an "
        "error naming the file and both mappings. Words such as `Yes`, `No` and `On` are read as written, not as "
        "true/false. For example:",
        "",
        "```yaml",
        f"{SOURCES_KEY}:",
        "  police_referrals:",
        '    files: ["WMP PPN extract *.csv"]',
        "    columns:",
        '      "Subject Person ID": child_id',
        '      "PPN Submitted Date": referral_date',
        '      "Officer Name": ~',
        "    values:",
        '      risk_level: {"Standard risk": STANDARD, "Medium risk": MEDIUM, "High risk": HIGH}',
        '    date_formats: ["%d-%b-%Y"]',
        "    yes_words: [Completed]",
        '    no_words: ["Not completed"]',
        "```",
        "",
        f"`sscp inspect <file or year folder>` prints such a block for files the current mapping cannot read "
        f"(e.g. `sscp inspect data/raw/2023-24 --dataset {example}`).",
        "",
    ]
    return lines


def render_contract_docs(contract: Contract | None = None) -> str:
    """The whole data contract as Markdown."""
    contract = contract or load_contract()
    used_lists = sorted(
        {c.codes for ds in contract.datasets.values() for c in ds.columns if c.codes} | set(contract.code_lists)
    )
    lines = [
        "# Data contract",
        "",
        "<!-- Generated from sscp_lib/contract.yaml by `sscp contract-docs`. Do not edit by hand. -->",
        "",
        f"Contract version {contract.version}. Each agency sends one or more files per dataset per reporting "
        "year (April to March) into `data/raw/<year>/`, as CSV (UTF-8, UTF-8 or UTF-16 with a byte-order mark, "
        "or Windows-1252) or XLSX; the rows of every file of a dataset are read together. A partnership whose "
        f"exports are named or laid out differently describes them in its configuration (`{SOURCES_KEY}:`, see "
        "[Where a mapping can be given](#where-a-mapping-can-be-given)); `sscp inspect <file or folder>` shows "
        "how a file would be read and prints a mapping to paste.",
        "",
        "How files are read:",
        "",
        "- Headings match the column name or any accepted heading, ignoring case, spaces and punctuation; "
        "title rows above the header row are skipped; other columns are ignored and listed in the clean log.",
        "- Dates: `2023-04-01`, `01/04/2023`, `1/4/23`, Excel date cells or serial numbers (day first).",
        f"- Yes/no columns: {_words(TRUE_WORDS)} mean yes, {_words(FALSE_WORDS)} mean no (any case); "
        "blank means not recorded.",
        "- Codes: the code, its label or an accepted spelling, in any case; Annex A letter prefixes "
        "(`a) Neglect`, `u) 10: Unknown`) are dropped before matching.",
        "- A row that cannot be used (unreadable date, unknown code, required value empty, out of range, "
        "period date after the end of the reporting year) is rejected and listed with file, row, column and "
        "reason in `rejected.parquet`; exact duplicate rows are removed and counted.",
        "- Identifiers marked *pseudonymised* are replaced by a keyed hash; *personal data* columns are "
        "dropped; neither reaches any processed table.",
        "",
        "## Datasets",
        "",
    ]
    lines += _table(
        ["dataset", "agency", "file", "period column", "child-level"],
        [
            [
                f"[`{n}`](#{n})",
                ds.agency,
                f"`{ds.file_pattern}*`",
                f"`{ds.period_column}`",
                "yes" if ds.child_level else "no",
            ]
            for n, ds in contract.datasets.items()
        ],
    )
    lines.append("")
    for name in contract.datasets:
        lines += _dataset_section(contract, name)
    lines += [
        "## Derived columns",
        "",
        "The clean stage adds these to the processed tables:",
        "",
        "- `reporting_year`: the reporting year of the row (e.g. `2023-24`), from the dataset's period column.",
        "- `<column>_group`: the group of a code whose list has groups (e.g. `referral_source_group`).",
        "- `<column>_retired`: true when the code is retired in its code list.",
        "- `<column>_original`: the value before a recoding rule changed it ("
        + ", ".join(f"`{c}`" for c in sorted(RECODED_COLUMNS))
        + ": NFA on or after `data_rules.nfa_changeover_date` in config/partnership.yaml becomes ADVICE_INFO).",
        "- Record ids marked *derived when absent* (Annex A has none): a keyed hash of child id, period date "
        "and order within that pair.",
        "",
        "## Annex A",
        "",
        " ".join(str(contract.annex_a.get("description", "")).split()),
        "",
        f"A workbook named `{contract.annex_a.get('file_pattern', 'annex_a')}*.xlsx` (or matching "
        f"`{SOURCES_KEY}.annex_a.files`) in a year folder replaces that year's files for: "
        + ", ".join(f"`{n}` (sheet `{ds.annex_a['sheet']}`)" for n, ds in contract.datasets.items() if ds.annex_a)
        + ", unless a CIN census return gives the dataset (below).",
        "",
    ]
    lines += _census_source_lines(contract)
    lines += _mapping_section(contract)
    lines += [
        "## Code lists",
        "",
    ]
    for name in used_lists:
        lines += _code_list_section(contract, name)
    return "\n".join(lines).rstrip() + "\n"


def write_contract_docs(path: Path | None = None) -> Path:
    path = Path(path) if path else DEFAULT_DOCS
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_contract_docs(), encoding="utf-8")
    return path
