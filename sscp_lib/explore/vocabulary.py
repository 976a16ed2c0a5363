"""The words an analyst uses for columns and values, resolved against the contract.

Columns: the column name, or a short name that ends or starts it ("source" -> referral_source,
"source_group" -> referral_source_group, "outcome", "category", "dara" -> dara_submitted).
Values: a code or its label in any case, an accepted spelling, "Not recorded" for a missing value,
yes/no for flags. Anything else is an error naming the column and the values it takes.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from sscp_lib.analysis.common import NOT_RECORDED
from sscp_lib.config import ReportingYear
from sscp_lib.contract import CodeList, load_contract
from sscp_lib.errors import UserError

WORKING_NOTE = "Working figures, not for publication: small counts are not suppressed"

YES_NO = {True: "Yes", False: "No"}
_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0"}
# Short names an analyst may use that no column name contains.
COLUMN_ALIASES = {"agency": "source_group", "source_agency": "source_group"}
ACRONYMS = {"dara": "DARA", "nfa": "NFA", "cp": "CP", "pid": "id"}


class ExploreError(UserError, ValueError):
    """A question the helpers cannot answer as asked; the message says what would work."""


def as_list(value) -> list:
    """One value or several: a string, number or flag is one value; a list or set is several."""
    if isinstance(value, (str, bool, pd.Period, pd.Timestamp)) or not isinstance(value, Iterable):
        return [value]
    return list(value)


def humanise(column: str) -> str:
    """'dara_submitted' -> 'DARA submitted'."""
    return " ".join(ACRONYMS.get(word, word) for word in column.removesuffix("_label").split("_"))


def sentence(text: str) -> str:
    """First letter upper case, the rest as written ('DARA submitted' stays so)."""
    return text[:1].upper() + text[1:]


def code_list_for(dataset: str, column: str) -> CodeList | None:
    """The code list of a processed column's values (contract or derived column), if it has one."""
    contract = load_contract()
    ds = contract.dataset(dataset)
    for col in ds.output_columns:
        if col.canonical_name == column and col.codes:
            return contract.code_lists[col.codes]
    for derived in contract.derived_columns(ds):
        if derived.name == column and derived.codes:
            return contract.code_lists[derived.codes]
    return None


def is_flag(dataset: str, column: str) -> bool:
    ds = load_contract().dataset(dataset)
    return any(c.canonical_name == column and c.type == "bool" for c in ds.output_columns)


def labels_for(dataset: str, column: str) -> dict | None:
    """Value -> label for a code or yes/no column (contract order), else None."""
    codes = code_list_for(dataset, column)
    if codes is not None:
        return dict(codes.codes)
    return dict(YES_NO) if is_flag(dataset, column) else None


def label_order(labels: dict, values: pd.Series) -> list[str]:
    """Labels in the contract's order, "Not recorded", then any value outside the list (kept visibly)."""
    order = list(dict.fromkeys(labels.values())) + [NOT_RECORDED]
    extra = sorted({str(v) for v in values.dropna().unique() if v not in labels} - set(order))
    return order + extra


def heading(dataset: str, column: str) -> str:
    """A column in words for titles and headings: 'source agency', 'referral outcome'."""
    base = column.removesuffix("_label")
    codes = code_list_for(dataset, base)
    if base.endswith("_group") and codes is not None:
        return humanise(codes.name)
    return humanise(base)


def _candidates(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if not c.endswith(("_label", "_pid", "_retired", "_original"))]


def column_for(frame: pd.DataFrame, name: str) -> str:
    """The column an analyst means by `name` (see the module docstring)."""
    if name in frame.columns:
        return name
    if name.endswith("_label"):
        base = column_for(frame, name.removesuffix("_label"))
        if f"{base}_label" in frame.columns:
            return f"{base}_label"
    name = COLUMN_ALIASES.get(name, name)
    if name in frame.columns:
        return name
    found = [c for c in _candidates(frame) if c.endswith(f"_{name}") or c.startswith(f"{name}_")]
    if len(found) == 1:
        return found[0]
    if found:
        raise ExploreError(f"{name!r} could mean {' or '.join(found)}: name one of them")
    raise ExploreError(f"no column {name!r} here; columns you can use: {', '.join(_candidates(frame))}")


def _choices(labels: dict) -> str:
    return ", ".join(f"{code} ({label})" if str(code) != label else label for code, label in labels.items())


def values_for(frame: pd.DataFrame, dataset: str, column: str, values) -> list:
    """The stored values (codes, flags, labels) meant by `values`; pd.NA stands for "Not recorded"."""
    series = frame[column]
    wanted = []
    codes = code_list_for(dataset, column)
    for value in as_list(values):
        text = str(value).strip().lower()
        if isinstance(series.dtype, pd.CategoricalDtype):  # a label column or nfa_changeover
            match = {str(v).lower(): v for v in series.cat.categories}.get(text)
            if match is None:
                raise ExploreError(
                    f"{value!r} is not a value of {column}: use one of {', '.join(series.cat.categories)}"
                )
            wanted.append(match)
            continue
        if isinstance(value, str) and text == NOT_RECORDED.lower():
            wanted.append(pd.NA)
            continue
        if codes is not None:
            code = codes.lookup().get(text)
            if code is None:
                raise ExploreError(
                    f"{value!r} is neither a code nor a label of {column}: use one of "
                    f"{_choices(codes.codes)}, or {NOT_RECORDED!r}"
                )
            wanted.append(code)
        elif is_flag(dataset, column):
            if value is True or text in _YES:
                wanted.append(True)
            elif value is False or text in _NO:
                wanted.append(False)
            else:
                raise ExploreError(f"{value!r} is not a value of {column}: use yes, no or {NOT_RECORDED!r}")
        elif column == "reporting_year":
            try:
                wanted.append(ReportingYear.parse(value).label if not isinstance(value, ReportingYear) else value.label)
            except ValueError as exc:
                raise ExploreError(str(exc)) from None
        else:
            present = series.dropna().unique()
            match = {str(v).lower(): v for v in present}.get(text)
            if match is None:
                shown = ", ".join(sorted(map(str, present))[:20])
                raise ExploreError(f"{value!r} is not a value of {column}: its values are {shown}")
            wanted.append(match)
    return wanted
