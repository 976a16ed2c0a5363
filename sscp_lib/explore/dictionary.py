"""The data dictionary of the tables an analyst can load, generated from the contract.

    data_dictionary()               # every column of every table: meaning, type, codes
    data_dictionary("referrals")    # one table
    data_dictionary().codes         # every code list those columns use: code, label, group

Nothing here is typed twice: meanings come from the contract's code lists, derived columns and
accepted headings, and the columns are the ones the loaders produce.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import pandas as pd

from sscp_lib.config import load_config
from sscp_lib.contract import load_contract
from sscp_lib.explore.tables import NFA_CHANGEOVER_COLUMN, NFA_CHANGEOVER_RULE, TABLES, exploration_columns, table_named
from sscp_lib.explore.vocabulary import NOT_RECORDED, YES_NO, code_list_for, humanise, is_flag, sentence


def _meaning(dataset: str, column: str) -> str:
    contract = load_contract()
    ds = contract.dataset(dataset)
    if column == NFA_CHANGEOVER_COLUMN:
        when = load_config().data_rule_date(NFA_CHANGEOVER_RULE)
        return (
            f"Before or from the NFA changeover ({when:%-d %B %Y}, config data_rules.{NFA_CHANGEOVER_RULE}): from "
            "then the MASH records 'Advice and information' where it recorded 'No further action'"
        )
    if column.endswith("_label"):
        return f"Label of `{column.removesuffix('_label')}` ({NOT_RECORDED} where it is empty)"
    for derived in contract.derived_columns(ds):
        if derived.name == column:
            return sentence(derived.meaning)
    col = ds.column(column)
    if col.role == "pseudonymise":
        return (
            f"Pseudonymised {humanise(col.name)} (a keyed hash: the same {humanise(col.name)} "
            "gives the same value in every table and year)"
        )
    codes = code_list_for(dataset, column)
    if codes is not None:
        return f"{sentence(humanise(column))}: {codes.description}"
    words = sentence(humanise(column))
    if col.type == "bool":
        words = f"{words}: yes or no"
    elif col.type == "string":
        words = f"{words}: text as the agency sends it"
    if column == ds.period_column:
        words += " (places the row in a reporting year, April to March)"
    return words


def _codes(dataset: str, column: str) -> str:
    codes = code_list_for(dataset, column.removesuffix("_label"))
    if codes is not None:
        return codes.name
    if is_flag(dataset, column.removesuffix("_label")):
        return " / ".join(YES_NO.values())
    return ""


def _also_sent_as(dataset: str, column: str) -> str:
    try:
        return ", ".join(load_contract().dataset(dataset).column(column).aliases)
    except KeyError:
        return ""


def _left_aligned(frame: pd.DataFrame) -> str:
    """Text reads from the left (notebook CSS right-aligns table cells)."""
    style = [{"selector": "th, td", "props": [("text-align", "left"), ("vertical-align", "top")]}]
    return frame.style.hide(axis="index").set_table_styles(style).to_html()


@dataclass(frozen=True)
class DataDictionary:
    columns: pd.DataFrame  # table, column, meaning, codes, also sent as
    codes: pd.DataFrame  # code list, code, label, group

    def _repr_html_(self) -> str:
        parts = []
        for table, rows in self.columns.groupby("table", sort=False):
            description = load_contract().dataset(table_named(table).dataset).description
            parts.append(f"<h4>{html.escape(table)}</h4><p>{html.escape(description)}.</p>")
            parts.append(_left_aligned(rows.drop(columns="table")))
        parts.append("<h4>Codes</h4>" + _left_aligned(self.codes))
        return "\n".join(parts)


def data_dictionary(*tables: str) -> DataDictionary:
    """Every column of the given tables (default all) and the codes they use, with labels."""
    names = tables or tuple(TABLES)
    rows = []
    for name in names:
        dataset = table_named(name).dataset
        key = next(k for k, t in TABLES.items() if t.dataset == dataset)
        for column in exploration_columns(dataset):
            rows.append(
                {
                    "table": key,
                    "column": column,
                    "meaning": _meaning(dataset, column),
                    "codes": _codes(dataset, column),
                    "also sent as": _also_sent_as(dataset, column),
                }
            )
    columns = pd.DataFrame(rows)
    contract = load_contract()
    code_rows = []
    for list_name in dict.fromkeys(c for c in columns["codes"] if c in contract.code_lists):
        codes = contract.code_lists[list_name]
        group_of = codes.group_of()
        for code, label in codes.codes.items():
            code_rows.append(
                {
                    "code list": list_name,
                    "code": code,
                    "label": label,
                    "group": group_of.get(code, ""),
                    "retired": codes.retired.get(code, ""),
                }
            )
    return DataDictionary(columns, pd.DataFrame(code_rows))
