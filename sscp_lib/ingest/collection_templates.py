"""What each data-collection template holds, computed from the data contract.

The partnership support hub keeps its own trackers (audits, actions, reviews, training, meetings,
communications, budget, escalations: the contract's datasets whose agency is the hub), for which
there is no national format; so may another agency (the Education Inclusion Service's log of
suspensions and exclusions: `tracker: true` in the contract). A template gives the officer filling one in the contract's columns
(not personal data the statement does not need), a heading the clean stage reads back, what to
enter, the choices of each code column as their labels (which the clean stage maps back to codes),
and an example row. sscp_lib.ingest.collection_workbooks lays each template out as an Excel workbook.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sscp_lib.config import ReportingYear
from sscp_lib.contract import Column, Contract, Dataset, load_contract

TEMPLATE_AGENCY = "SSCP"  # the partnership support hub
YES_NO = ("Yes", "No")
EXAMPLE_ID = "EX-001"
# Example dates follow one another through the year (raised, then due, then completed).
EXAMPLE_DATE_STEP = timedelta(days=21)


@dataclass(frozen=True)
class TemplateColumn:
    column: Column
    heading: str
    description: str
    kind: str  # "text" | "date" | "whole" | "decimal" | "choice"
    format_words: str
    choices: tuple[str, ...] = ()  # what a drop-down offers (code labels, or Yes/No)
    choice_list: str | None = None  # the contract code list the choices come from
    minimum: float | None = None
    maximum: float | None = None
    must_match: str = ""
    example: object = None

    @property
    def required(self) -> bool:
        return self.column.required

    @property
    def required_words(self) -> str:
        if not self.column.required:
            return "No"
        return "Yes (the column; a value may be left blank)" if self.column.nullable else "Yes"


@dataclass(frozen=True)
class Template:
    dataset: Dataset
    sheet_title: str
    file_name: str
    columns: tuple[TemplateColumn, ...]
    notes: tuple[str, ...]  # what the guidance sheet says before its table of columns

    @property
    def code_lists(self) -> dict[str, tuple[str, ...]]:
        """Code list -> the labels its drop-downs offer, in first use order."""
        return {c.choice_list: c.choices for c in self.columns if c.choice_list}


def template_datasets(contract: Contract) -> list[str]:
    """The support hub's datasets, and any other the contract says is usually kept as a tracker."""
    return [name for name, ds in contract.datasets.items() if ds.agency == TEMPLATE_AGENCY or ds.tracker]


def heading_for(column: Column) -> str:
    """'audit_id' -> 'Audit ID': the column's name in words, which the clean stage maps back to it."""
    words = column.name.split("_")
    words = ["ID" if w == "id" else w for w in words]
    return " ".join([words[0][:1].upper() + words[0][1:], *words[1:]])


def _range_words(column: Column) -> str:
    low, high = column.min, column.max
    if low is not None and high is not None:
        return f", {low:g} to {high:g}"
    if low is not None:
        return f", {low:g} or more"
    if high is not None:
        return f", at most {high:g}"
    return ""


def _example(column: Column, kind: str, choices: tuple[str, ...], dates_before: int, year: ReportingYear):
    if kind == "date":
        # A financial year end is the year's last day; other dates step through the year.
        if column.name.endswith("year_end"):
            return year.end
        return year.start + EXAMPLE_DATE_STEP * (dates_before + 1)
    if kind == "choice":
        return choices[0]
    if kind == "whole":
        low = max(int(column.min or 0), 1)
        return low if column.max is None else min(low, int(column.max))
    if kind == "decimal":
        return 1000.0 if column.max is None or column.max >= 1000 else float(column.max)
    if column.name.endswith("_id") or column.references:
        return EXAMPLE_ID
    return f"Example {heading_for(column).lower()}"


def _template_column(column: Column, contract: Contract, dates_before: int, year: ReportingYear) -> TemplateColumn:
    choices: tuple[str, ...] = ()
    choice_list = None
    minimum = maximum = None
    if column.type == "code":
        codes = contract.codes_for(column)
        # Retired codes stay readable for history but are not offered for new records.
        choices = tuple(label for code, label in codes.codes.items() if code not in codes.retired)
        kind, choice_list, words = "choice", codes.name, "Choose from the list"
    elif column.type == "bool":
        kind, choices, words = "choice", YES_NO, "Yes or No"
    elif column.type == "date":
        kind, words = "date", "Date, dd/mm/yyyy"
    elif column.type in ("int", "float"):
        kind = "whole" if column.type == "int" else "decimal"
        minimum, maximum = column.min, column.max
        words = ("Whole number" if kind == "whole" else "Number") + _range_words(column)
    else:
        kind, words = "text", "Text"
    must_match = ""
    if column.references:
        target, target_column = column.references.split(".", 1)
        target_heading = heading_for(contract.dataset(target).column(target_column))
        must_match = f"the {target_heading} of a row in the {target.replace('_', ' ')} workbook"
    return TemplateColumn(
        column=column,
        heading=heading_for(column),
        description=column.description,
        kind=kind,
        format_words=words,
        choices=choices,
        choice_list=choice_list,
        minimum=minimum,
        maximum=maximum,
        must_match=must_match,
        example=_example(column, kind, choices, dates_before, year),
    )


def build_template(dataset: Dataset, contract: Contract, year: ReportingYear) -> Template:
    columns = []
    dates = 0
    for column in dataset.columns:
        if column.role == "drop":
            continue  # personal data the statement does not need: not asked for
        columns.append(_template_column(column, contract, dates, year))
        dates += column.type == "date"
    headings = {c.column.canonical_name: c.heading for c in columns}
    key_words = [headings.get(k, k) for k in dataset.key]
    key = " and ".join([", ".join(key_words[:-1]), key_words[-1]] if len(key_words) > 1 else key_words)
    period = heading_for(dataset.column(dataset.period_column))
    file_name = f"{dataset.file_pattern}.xlsx"
    notes = (
        f"{dataset.description}.",
        f"Save the filled-in workbook in the reporting year's folder, e.g. data/raw/{year.label}/{file_name} "
        f"(any file name starting '{dataset.file_pattern}' is read, from the first sheet).",
        f"Enter one row per record from row 5 of the first sheet, under the column headings in row 4. "
        f"{period} places a row in a reporting year (April to March); no two rows may have the same {key}.",
        "Row 3 of the first sheet is an example and is never read. The sheet is protected (no password) "
        "so the headings stay as the clean stage expects them; every cell from row 5 down can be typed in.",
        "Drop-down columns offer the values the data contract allows. A value typed or pasted outside the "
        "list is rejected when the data are cleaned, and the clean log names its row and column.",
    )
    return Template(
        dataset=dataset,
        sheet_title=dataset.name.replace("_", " ").capitalize(),
        file_name=file_name,
        columns=tuple(columns),
        notes=notes,
    )


def build_templates(contract: Contract | None = None, year: ReportingYear | None = None) -> list[Template]:
    """One template per dataset the support hub keeps; example dates fall in `year` (default: this year)."""
    contract = contract or load_contract()
    year = year or ReportingYear.containing(date.today())
    return [build_template(contract.dataset(name), contract, year) for name in template_datasets(contract)]
