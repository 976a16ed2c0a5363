"""The data contract (contract.yaml) as Python objects.

Everything that needs to know a dataset's columns, types, codes or identifiers reads them
from here: the cleaner, the validation suites, the sample generator and the generated docs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

CONTRACT_FILE = Path(__file__).with_name("contract.yaml")
COLUMN_TYPES = {"string", "code", "date", "int", "float", "bool"}
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
    agency: str
    description: str
    file_pattern: str
    period_column: str
    key: tuple[str, ...]
    child_level: bool
    columns: tuple[Column, ...]
    annex_a: dict | None = None

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
class Contract:
    version: int
    code_lists: dict[str, CodeList]
    datasets: dict[str, Dataset]
    annex_a: dict

    def dataset(self, name: str) -> Dataset:
        try:
            return self.datasets[name]
        except KeyError:
            raise KeyError(f"the data contract has no dataset {name!r}") from None

    def processed_schema(self, dataset: str | Dataset) -> dict[str, str]:
        """Column -> pandas dtype of a processed (clean) table, in order.

        The contract's surviving columns, then the derived ones: reporting_year, and for code
        columns <col>_group, <col>_retired, and <col>_original where a recoding rule applies.
        """
        ds = self.dataset(dataset) if isinstance(dataset, str) else dataset
        schema: dict[str, str] = {}
        for col in ds.output_columns:
            schema[col.canonical_name] = PANDAS_DTYPES[col.type]
        for col in ds.output_columns:
            if col.type != "code":
                continue
            codes = self.code_lists[str(col.codes)]
            if codes.groups:
                schema[f"{col.name}_group"] = PANDAS_DTYPES["code"]
            if codes.retired:
                schema[f"{col.name}_retired"] = PANDAS_DTYPES["bool"]
            if col.name in RECODED_COLUMNS:
                schema[f"{col.name}_original"] = PANDAS_DTYPES["code"]
        schema["reporting_year"] = PANDAS_DTYPES["string"]
        return schema

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
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
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
            agency=spec["agency"],
            description=spec["description"],
            file_pattern=spec["file_pattern"],
            period_column=spec["period_column"],
            key=tuple(spec["key"]),
            child_level=bool(spec["child_level"]),
            columns=columns,
            annex_a=spec.get("annex_a"),
        )
    return Contract(version=raw["version"], code_lists=code_lists, datasets=datasets, annex_a=raw.get("annex_a", {}))
