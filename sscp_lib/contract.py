"""The data contract (contract.yaml) as Python objects.

Everything that needs to know a dataset's columns, types, codes or identifiers reads them
from here: the cleaner, the validation suites, the sample generator and the generated docs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path

from sscp_lib.schema import COLUMN_TYPES, check_contract, read_yaml

CONTRACT_FILE = Path(__file__).with_name("contract.yaml")
# Pandas dtypes of processed tables, by contract type.
PANDAS_DTYPES = {
    "string": "string",
    "code": "string",
    "date": "datetime64[ms]",
    "int": "Int64",
    "float": "Float64",
    "bool": "boolean",
}
# Columns a configured recoding rule may change (the original is kept in <col>_original).
RECODED_COLUMNS = {"referral_outcome"}


def normalise_header(text: str) -> str:
    """Header comparison key: case, spacing, underscores and punctuation folded."""
    return re.sub(r"[^a-z0-9?&]+", " ", str(text).lower().replace("\ufeff", "")).strip()


@dataclass(frozen=True)
class CodeList:
    name: str
    description: str
    codes: dict[str, str]
    aliases: dict[str, str] = field(default_factory=dict)
    retired: dict[str, str] = field(default_factory=dict)
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def group_of(self) -> dict[str, str]:
        """Code -> group name (empty when the list has no groups)."""
        return {code: group for group, codes in self.groups.items() for code in codes}

    def lookup(self) -> dict[str, str]:
        """Map every accepted spelling (code, label, alias; case-folded) to its code."""
        table: dict[str, str] = {}
        for code, label in self.codes.items():
            table[code.lower()] = code
            table[label.lower()] = code
        for alias, code in self.aliases.items():
            table[str(alias).lower()] = code
        return table


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool = False
    nullable: bool = True
    aliases: tuple[str, ...] = ()
    codes: str | None = None
    role: str | None = None  # "pseudonymise" | "drop" | None
    output: str | None = None  # canonical name after pseudonymisation
    derive_if_missing: bool = False
    min: float | None = None
    max: float | None = None
    references: str | None = None  # "dataset.column"
    severity: str = "critical"
    description: str = ""  # what the column means (docs, data-collection templates)

    @property
    def canonical_name(self) -> str:
        """Name in the processed table (None for dropped columns is handled by callers)."""
        return self.output or self.name

    @property
    def is_identifier(self) -> bool:
        return self.role in {"pseudonymise", "drop"}


@dataclass(frozen=True)
class Dataset:
    name: str
    label: str  # the dataset in words, as readers see it in tables and messages ("Child protection plans")
    agency: str
    description: str
    file_pattern: str
    period_column: str
    key: tuple[str, ...]
    child_level: bool
    columns: tuple[Column, ...]
    annex_a: dict | None = None
    cin_census: dict | None = None  # element paths of a DfE CIN census return (see contract.yaml)
    tracker: bool = False  # usually kept as a spreadsheet tracker: `sscp templates` writes one

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name or col.output == name:
                return col
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def required_columns(self) -> list[Column]:
        return [c for c in self.columns if c.required]

    @property
    def output_columns(self) -> list[Column]:
        """Columns that survive cleaning (dropped personal data excluded)."""
        return [c for c in self.columns if c.role != "drop"]

    @property
    def canonical_columns(self) -> list[str]:
        return [c.canonical_name for c in self.output_columns]

    def header_lookup(self) -> dict[str, str]:
        """Normalised raw heading -> contract column name."""
        table: dict[str, str] = {}
        for col in self.columns:
            table[normalise_header(col.name)] = col.name
            for alias in col.aliases:
                table[normalise_header(alias)] = col.name
        return table


@dataclass(frozen=True)
class DerivedColumn:
    """A column the clean stage adds to a processed table (not sent by any agency)."""

    name: str
    type: str  # contract type: code | bool | string
    source: str  # the column it is derived from
    meaning: str
    codes: str | None = None  # code list of its values


@dataclass(frozen=True)
class Contract:
    version: int
    code_lists: dict[str, CodeList]
    datasets: dict[str, Dataset]
    annex_a: dict
    cin_census: dict = field(default_factory=dict)

    def dataset(self, name: str) -> Dataset:
        try:
            return self.datasets[name]
        except KeyError:
            raise KeyError(f"the data contract has no dataset {name!r}") from None

    def processed_schema(self, dataset: str | Dataset) -> dict[str, str]:
        """Column -> pandas dtype of a processed (clean) table, in order.

        The contract's surviving columns, then the derived ones (`derived_columns`).
        """
        ds = self.dataset(dataset) if isinstance(dataset, str) else dataset
        schema = {col.canonical_name: PANDAS_DTYPES[col.type] for col in ds.output_columns}
        schema.update({col.name: PANDAS_DTYPES[col.type] for col in self.derived_columns(ds)})
        return schema

    def derived_columns(self, dataset: str | Dataset) -> list[DerivedColumn]:
        """The columns the clean stage adds to a processed table, in order, with their meaning.

        For each code column: <col>_group (its list has groups), <col>_retired (its list has retired
        codes), <col>_original (a recoding rule applies); then reporting_year.
        """
        ds = self.dataset(dataset) if isinstance(dataset, str) else dataset
        derived = []
        for col in ds.output_columns:
            if col.type != "code":
                continue
            codes = self.code_lists[str(col.codes)]
            if codes.groups:
                groups = self.group_code_list(codes.name)
                derived.append(
                    DerivedColumn(
                        f"{col.name}_group",
                        "code",
                        col.name,
                        f"group of `{col.name}` ({groups.name.replace('_', ' ')})",
                        groups.name,
                    )
                )
            if codes.retired:
                derived.append(
                    DerivedColumn(
                        f"{col.name}_retired", "bool", col.name, f"true when `{col.name}` is a retired code of its list"
                    )
                )
            if col.name in RECODED_COLUMNS:
                derived.append(
                    DerivedColumn(
                        f"{col.name}_original",
                        "code",
                        col.name,
                        f"`{col.name}` as recorded, before a recoding rule changed it",
                        codes.name,
                    )
                )
        derived.append(
            DerivedColumn(
                "reporting_year",
                "string",
                ds.period_column,
                f"reporting year of the row (e.g. 2023-24), from `{ds.period_column}`",
            )
        )
        return derived

    def group_code_list(self, code_list: str) -> CodeList:
        """The code list whose codes are the group names of `code_list` (e.g. referral_source -> source_agency)."""
        groups = set(self.code_lists[code_list].groups)
        for candidate in self.code_lists.values():
            if groups and set(candidate.codes) == groups:
                return candidate
        raise KeyError(f"no code list has the groups of {code_list!r} as its codes")

    def codes_for(self, column: Column) -> CodeList:
        if column.codes is None:
            raise ValueError(f"column {column.name} has no code list")
        return self.code_lists[column.codes]


def _column(spec: dict) -> Column:
    spec = dict(spec)
    if spec.get("type") not in COLUMN_TYPES:
        raise ValueError(f"column {spec.get('name')}: unknown type {spec.get('type')!r}")
    spec["aliases"] = tuple(spec.get("aliases", ()))
    spec.setdefault("nullable", not spec.get("required", False))
    return Column(**spec)


@lru_cache(maxsize=4)
def load_contract(path: Path | str = CONTRACT_FILE) -> Contract:
    raw = read_yaml(Path(path).read_text(encoding="utf-8"))
    check_contract(raw, path, {f.name for f in fields(Column)})
    code_lists = {
        name: CodeList(
            name=name,
            description=spec.get("description", ""),
            codes={str(k): str(v) for k, v in spec["codes"].items()},
            aliases={str(k): str(v) for k, v in (spec.get("aliases") or {}).items()},
            retired={str(k): str(v) for k, v in (spec.get("retired") or {}).items()},
            groups={str(k): tuple(str(c) for c in v) for k, v in (spec.get("groups") or {}).items()},
        )
        for name, spec in raw["code_lists"].items()
    }
    datasets = {}
    for name, spec in raw["datasets"].items():
        columns = tuple(_column(c) for c in spec["columns"])
        for col in columns:
            if col.codes and col.codes not in code_lists:
                raise ValueError(f"{name}.{col.name}: unknown code list {col.codes!r}")
        datasets[name] = Dataset(
            name=name,
            label=spec["label"],
            agency=spec["agency"],
            description=spec["description"],
            file_pattern=spec["file_pattern"],
            period_column=spec["period_column"],
            key=tuple(spec["key"]),
            child_level=bool(spec["child_level"]),
            columns=columns,
            annex_a=spec.get("annex_a"),
            cin_census=spec.get("cin_census"),
            tracker=bool(spec.get("tracker", False)),
        )
    return Contract(
        version=raw["version"],
        code_lists=code_lists,
        datasets=datasets,
        annex_a=raw.get("annex_a", {}),
        cin_census=raw.get("cin_census", {}),
    )
