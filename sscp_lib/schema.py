"""Schemas for the three hand-edited YAML files: the metrics catalogue, the data contract and the
partnership configuration.

Each file is read against its schema before anything uses it: known keys only, required keys
present, values of the right kind and from the allowed lists. A file with problems stops the run
with one message naming the file and, for each problem, its line and the key (a YAML slip such as
an unquoted comma in a flow mapping, `{label: per 10,000 children}`, shows up as an unknown key
`000 children`).

The partnership config's `sources:` section belongs to the data-sources code (sscp_lib/ingest/sources.py),
which checks its inside; here it need only be a mapping or the name of a file beside the config.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Protocol

import yaml

from sscp_lib.errors import UserError
from sscp_lib.files import display_path

# libyaml's parser where PyYAML was built with it (the wheels are): the same documents, read about
# seven times faster (the contract in 18 ms, not 130; every kernel reads it).
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(text: str):
    """A YAML document as Python values, as yaml.safe_load reads it."""
    return yaml.load(text, Loader=SAFE_LOADER)


class SchemaError(UserError):
    """A configuration file that does not match its schema; the message lists every problem."""


# --- The schema language: a few node types -----------------------------------------------------


class Node(Protocol):
    def check(self, value, path: tuple, problems: list) -> None: ...


@dataclass(frozen=True)
class Value:
    """A scalar of one of `kinds` (Python types), optionally from `choices`."""

    kinds: tuple[type, ...]
    choices: tuple | None = None
    what: str = ""

    def check(self, value, path: tuple, problems: list) -> None:
        if isinstance(value, bool) and bool not in self.kinds:
            ok = False
        else:
            ok = isinstance(value, self.kinds)
        if not ok:
            problems.append((path, f"should be {self.what or _kind_names(self.kinds)}, not {_shown(value)}"))
        elif self.choices is not None and value not in self.choices:
            problems.append((path, f"{_shown(value)} is not one of: {', '.join(map(str, self.choices))}"))


@dataclass(frozen=True)
class Fields:
    """A mapping with named keys: `required` must be there, `optional` may be; nothing else."""

    required: dict
    optional: dict = field(default_factory=dict)

    def check(self, value, path: tuple, problems: list) -> None:
        if not isinstance(value, dict):
            problems.append((path, f"should be a mapping of {', '.join(self.required) or 'keys'}, not {_shown(value)}"))
            return
        known = {**self.required, **self.optional}
        for key, item in value.items():
            if key not in known:
                problems.append((path + (key,), f"unknown key {str(key)!r} (known: {', '.join(map(str, known))})"))
            else:
                known[key].check(item, path + (key,), problems)
        for key in self.required:
            if key not in value:
                problems.append((path, f"missing key {key!r}"))


@dataclass(frozen=True)
class MapOf:
    """A mapping whose keys are names (checked by `keys`) and whose values all follow `values`."""

    values: Node
    keys: Value = Value((str,), what="a name")

    def check(self, value, path: tuple, problems: list) -> None:
        if not isinstance(value, dict):
            problems.append((path, f"should be a mapping, not {_shown(value)}"))
            return
        for key, item in value.items():
            before = len(problems)
            self.keys.check(key, path, problems)
            if len(problems) == before:
                self.values.check(item, path + (key,), problems)


@dataclass(frozen=True)
class ListOf:
    items: Node

    def check(self, value, path: tuple, problems: list) -> None:
        if not isinstance(value, list):
            problems.append((path, f"should be a list, not {_shown(value)}"))
            return
        for i, item in enumerate(value):
            self.items.check(item, path + (i,), problems)


@dataclass(frozen=True)
class OneOf:
    """The first alternative that fits; otherwise the problems of the first."""

    options: tuple

    def check(self, value, path: tuple, problems: list) -> None:
        first: list = []
        for i, option in enumerate(self.options):
            found: list = []
            option.check(value, path, found)
            if not found:
                return
            if i == 0:
                first = found
        problems += first


@dataclass(frozen=True)
class Delegated:
    """A section another module checks: here only its shape (a mapping, or the name of a file
    beside the config that holds it)."""

    owner: str

    def check(self, value, path: tuple, problems: list) -> None:
        if not isinstance(value, (dict, str)):
            problems.append(
                (path, f"should be a mapping or a file name (checked in detail by {self.owner}), not {_shown(value)}")
            )


def _kind_names(kinds) -> str:
    names = {str: "text", int: "a whole number", float: "a number", bool: "true or false", list: "a list"}
    names.update({dict: "a mapping", date: "a date (YYYY-MM-DD)"})
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _shown(value) -> str:
    if value is None:
        return "nothing"
    return repr(value) if not isinstance(value, (dict, list)) else type(value).__name__


TEXT = Value((str,))
WHOLE = Value((int,))
NUMBER = Value((int, float))
FLAG = Value((bool,))
DAY = Value((date, str), what="a date (YYYY-MM-DD)")
TEXT_LIST = ListOf(TEXT)


# --- Checking a file ---------------------------------------------------------------------------


def check(data, schema, path: Path | str) -> None:
    """Raise one SchemaError listing every problem of `data` (read from `path`) against `schema`."""
    problems: list = []
    schema.check(data, (), problems)
    if problems:
        raise SchemaError(describe(problems, path))


def describe(problems: list, path: Path | str) -> str:
    lines = _key_lines(Path(path))
    parts = []
    for where, message in problems:
        line = lines.get(tuple(map(str, where)))
        dotted = ".".join(map(str, where)) or "top level"
        parts.append(f"{f'line {line}, ' if line else ''}{dotted}: {message}")
    count = f"{len(problems)} problems" if len(problems) > 1 else "1 problem"
    return f"{display_path(Path(path))}: {count}: " + "; ".join(parts)


def _key_lines(path: Path) -> dict[tuple, int]:
    """Line number of every key in a YAML file, by its path of keys (list items by index)."""
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    lines: dict[tuple, int] = {}

    def walk(node, prefix: tuple) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                here = prefix + (str(key.value),)
                lines.setdefault(here, key.start_mark.line + 1)
                walk(value, here)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                lines.setdefault(prefix + (str(i),), item.start_mark.line + 1)
                walk(item, prefix + (str(i),))

    if root is not None:
        walk(root, ())
    return lines


# --- The metrics catalogue ---------------------------------------------------------------------


def catalogue_schema() -> Fields:
    from sscp_lib.formatting import FORMATTERS

    units = tuple(FORMATTERS) + ("table",)
    metric = Fields(
        required={"unit": Value((str,), units), "label": TEXT},
        optional={
            "heading": WHOLE,
            "previous": FLAG,
            "child_level": FLAG,
            "note": TEXT,
            # Relations the consistency check (sscp_lib/publishing/consistency.py) tests on every run's figures.
            "part_of": OneOf((TEXT, TEXT_LIST)),
            "share_of": Fields(required={"part": TEXT, "whole": TEXT}),
            # What a count counts (the kind first, then other wordings the narrative may use).
            "counts": OneOf((TEXT, TEXT_LIST)),
        },
    )
    chart = Fields(required={"heading": WHOLE, "data": TEXT})
    return Fields(required={"metrics": MapOf(metric)}, optional={"charts": MapOf(chart)})


def check_catalogue(data, path: Path | str) -> None:
    """The catalogue's schema, and its names pointing at metrics that exist with the right unit."""
    problems: list = []
    catalogue_schema().check(data, (), problems)
    if not problems:
        problems += _catalogue_references(data)
    if problems:
        raise SchemaError(describe(problems, path))


def _catalogue_references(data: dict) -> list:
    metrics = data["metrics"]
    problems = []

    def needs(where: tuple, name: str, units: tuple[str, ...]) -> None:
        if name not in metrics:
            problems.append((where, f"names no metric: {name!r}"))
        elif metrics[name]["unit"] not in units:
            problems.append((where, f"{name!r} is a {metrics[name]['unit']}, not a {' or '.join(units)}"))

    for name, spec in metrics.items():
        if spec["unit"] == "count" and not spec.get("counts"):
            problems.append((("metrics", name), "a count needs `counts:`, the kind of thing it counts"))
        if "counts" in spec and spec["unit"] != "count":
            problems.append((("metrics", name, "counts"), "only a count has `counts:`"))
        wholes = spec.get("part_of") or []
        for whole in [wholes] if isinstance(wholes, str) else wholes:
            needs(("metrics", name, "part_of"), whole, (spec["unit"],))
        if "share_of" in spec:
            if spec["unit"] != "percent":
                problems.append((("metrics", name, "share_of"), "only a percent can be a share"))
            for role in ("part", "whole"):
                needs(("metrics", name, "share_of", role), spec["share_of"][role], ("count", "gbp", "days"))
    for name, spec in (data.get("charts") or {}).items():
        needs(("charts", name, "data"), spec["data"], ("table",))
    return problems


# --- The indicator catalogue (the partnership dataset) -----------------------------------------

INDICATOR_UNITS = ("count", "percent", "rate")
POLARITIES = ("higher_is_better", "lower_is_better", "neither")


def indicators_schema() -> Fields:
    indicator = Fields(
        required={
            "label": TEXT,
            "theme": TEXT,
            "agency": TEXT,
            "definition": TEXT,
            "unit": Value((str,), INDICATOR_UNITS),
            "polarity": Value((str,), POLARITIES),
            "frequency": Value((str,), ("monthly",)),
            "measured": Value((str,), ("over_period", "at_period_end")),
            "datasets": TEXT_LIST,
            "child_level": FLAG,
        },
        optional={
            "statement_metric": TEXT,
            "comparator": TEXT,
            "lookback_months": WHOLE,
            "breakdown": Fields(required={"column": TEXT, "codes": TEXT}),
            "note": TEXT,
        },
    )
    return Fields(
        required={"themes": MapOf(TEXT), "indicators": MapOf(indicator)},
        optional={"receipt": MapOf(Value((str,), ("quarter", "year")))},
    )


def check_indicators(data, path: Path | str, metrics: dict, datasets: Collection[str], agencies, code_lists) -> None:
    """The indicator catalogue's schema, and its names pointing at themes, metrics, datasets,
    agencies and code lists that exist."""
    problems: list = []
    indicators_schema().check(data, (), problems)
    if not problems:
        for name, spec in data["indicators"].items():
            where = ("indicators", name)
            if spec["theme"] not in data["themes"]:
                problems.append((where + ("theme",), f"names no theme under 'themes': {spec['theme']!r}"))
            if spec["agency"] not in agencies:
                problems.append((where + ("agency",), f"is not one of the contract's agencies: {spec['agency']!r}"))
            for dataset in spec["datasets"]:
                if dataset not in datasets:
                    problems.append((where + ("datasets",), f"names no dataset of the contract: {dataset!r}"))
            metric = spec.get("statement_metric")
            if metric is not None and metric not in metrics:
                problems.append((where + ("statement_metric",), f"names no metric in the catalogue: {metric!r}"))
            elif metric is not None and metrics[metric]["unit"] != spec["unit"]:
                problems.append(
                    (where + ("statement_metric",), f"{metric!r} is a {metrics[metric]['unit']}, not a {spec['unit']}")
                )
            breakdown = spec.get("breakdown")
            if breakdown and breakdown["codes"] not in code_lists:
                problems.append((where + ("breakdown", "codes"), f"names no code list: {breakdown['codes']!r}"))
            if "." in name:
                problems.append((where, "an indicator id may not hold '.' (a breakdown's ids are <id>.<code>)"))
        for dataset in data.get("receipt") or {}:
            if dataset not in datasets:
                problems.append((("receipt", dataset), f"names no dataset of the contract: {dataset!r}"))
    if problems:
        raise SchemaError(describe(problems, path))


# --- The data contract ------------------------------------------------------------------------

COLUMN_TYPES = frozenset({"string", "code", "date", "int", "float", "bool"})


def contract_schema(column_keys: set[str]) -> Fields:
    """The contract's keys; a column may hold only the keys of `column_keys` (the contract's Column)."""
    column = Fields(
        required={"name": TEXT, "type": Value((str,), tuple(sorted(COLUMN_TYPES)))},
        optional={
            key: spec
            for key, spec in {
                "required": FLAG,
                "nullable": FLAG,
                "aliases": TEXT_LIST,
                "codes": TEXT,
                "role": Value((str,), ("pseudonymise", "drop")),
                "output": TEXT,
                "derive_if_missing": FLAG,
                "min": NUMBER,
                "max": NUMBER,
                "references": TEXT,
                "severity": Value((str,), ("critical", "warning")),
                "description": TEXT,
            }.items()
            if key in column_keys
        },
    )
    code = Value((str, int))
    code_list = Fields(
        required={"codes": MapOf(code, keys=code)},
        optional={
            "description": TEXT,
            "aliases": MapOf(code, keys=code),
            "retired": MapOf(TEXT, keys=code),
            "groups": MapOf(ListOf(code)),
        },
    )
    annex_sheet = Fields(
        required={"sheet": TEXT, "columns": MapOf(TEXT)},
        optional={"values": MapOf(MapOf(TEXT, keys=code))},
    )
    census_records = Fields(
        required={"record": TEXT, "columns": MapOf(TEXT)},
        optional={"values": MapOf(MapOf(TEXT, keys=code))},
    )
    dataset = Fields(
        required={
            "label": TEXT,
            "agency": TEXT,
            "description": TEXT,
            "file_pattern": TEXT,
            "period_column": TEXT,
            "key": TEXT_LIST,
            "child_level": FLAG,
            "columns": ListOf(column),
        },
        optional={"annex_a": annex_sheet, "cin_census": census_records, "tracker": FLAG},
    )
    census_return = Fields(
        required={"suffix": TEXT, "root": TEXT, "record_container": TEXT}, optional={"description": TEXT}
    )
    return Fields(
        required={"version": WHOLE, "code_lists": MapOf(code_list), "datasets": MapOf(dataset)},
        optional={
            "annex_a": Fields(required={"file_pattern": TEXT}, optional={"description": TEXT}),
            "cin_census": census_return,
        },
    )


def check_contract(data, path: Path | str, column_keys: set[str]) -> None:
    check(data, contract_schema(column_keys), path)


# --- The partnership configuration --------------------------------------------------------------


def config_schema() -> Fields:
    """Known keys only. Which keys a run needs is the code's business (a missing one is named
    where it is read); here a misspelt key cannot pass for a missing one."""
    person = Fields(required={"role": TEXT, "organisation": TEXT}, optional={"name": Value((str, type(None)))})
    rag_rule = Fields(
        required={"metric": TEXT, "green": NUMBER, "amber": NUMBER},
        optional={"direction": Value((str,), ("higher", "lower")), "absolute": FLAG},
    )
    return Fields(
        required={},
        optional={
            "partnership": Fields(
                required={}, optional={"name": TEXT, "short_name": TEXT, "area": TEXT, "local_authority": TEXT}
            ),
            "partners": ListOf(
                Fields(
                    required={"agency": TEXT, "organisation": TEXT},
                    optional={"lead_role": TEXT, "delegate_role": TEXT},
                )
            ),
            "signatories": Fields(required={}, optional={"delegated": ListOf(person), "lead": ListOf(person)}),
            "narrative": TEXT,
            "dashboard_narrative": TEXT,
            "protective_marking": TEXT,
            "review": Fields(required={}, optional={"runs_kept": WHOLE}),
            "child_population": WHOLE,
            "disclosure": Fields(required={}, optional={"suppress_up_to": WHOLE}),
            "data_rules": Fields(
                required={},
                optional={
                    "earliest_year": TEXT,
                    "nfa_changeover_date": DAY,
                    "dara_correction_date": DAY,
                    "multiple_category_retired_from": DAY,
                },
            ),
            "analysis": Fields(
                required={},
                optional={
                    "sexual_abuse_comparator_share": NUMBER,
                    "anomaly_z_threshold": NUMBER,
                    "anomaly_min_count": WHOLE,
                    "row_count_change_warning_share": NUMBER,
                    "early_help_step_up_months": WHOLE,
                    "early_help_step_down_months": WHOLE,
                    "mental_health_prior_referral_months": WHOLE,
                },
            ),
            "rag": MapOf(rag_rule, keys=WHOLE),
            "headings": MapOf(TEXT, keys=WHOLE),
            "dashboard": dashboard_config_schema(),
            # sscp_lib/ingest/sources.py checks the inside of the data-sources section.
            "sources": Delegated("the data-sources configuration"),
        },
    )


def dashboard_config_schema() -> Fields:
    """The config's `dashboard:` section: targets and thresholds by indicator id, and the DfE
    comparator files (Explore Education Statistics CSVs, read by sscp_lib/ingest/comparators.py)."""
    target = Fields(required={"green": NUMBER, "amber": NUMBER}, optional={"target": NUMBER})
    measure = Fields(
        required={"file": TEXT, "column": TEXT},
        optional={"where": MapOf(Value((str, int))), "scale": NUMBER},
    )
    comparators = Fields(
        required={"local_authority": TEXT, "measures": MapOf(measure)},
        optional={"statistical_neighbours": TEXT_LIST, "time_period": Value((str, int)), "folder": TEXT},
    )
    return Fields(required={}, optional={"targets": MapOf(target), "comparators": comparators})


def check_config(data, path: Path | str, metrics: Collection[str], indicators: dict[str, dict] | None = None) -> None:
    """The config's schema, and its rating rules naming `metrics` (the catalogue's) and configured
    headings; its dashboard targets naming `indicators` (ids -> spec) that have a direction."""
    problems: list = []
    config_schema().check(data, (), problems)
    if not problems and indicators is not None:
        for name, rule in ((data.get("dashboard") or {}).get("targets") or {}).items():
            spec = indicators.get(name)
            if spec is None:
                problems.append((("dashboard", "targets", name), "names no indicator in sscp_lib/indicators.yaml"))
            elif spec["polarity"] == "neither":
                problems.append((("dashboard", "targets", name), "the indicator has no better direction to judge"))
            elif (rule["green"] < rule["amber"]) == (spec["polarity"] == "higher_is_better") and rule["green"] != rule[
                "amber"
            ]:
                better = "higher" if spec["polarity"] == "higher_is_better" else "lower"
                problems.append(
                    (("dashboard", "targets", name), f"{better} is better here, so green should be {better} than amber")
                )
    if not problems:
        for number, rule in (data.get("rag") or {}).items():
            if rule["metric"] not in metrics:
                problems.append((("rag", number, "metric"), f"names no metric in the catalogue: {rule['metric']!r}"))
            if number not in (data.get("headings") or {}):
                problems.append((("rag", number), f"rates heading {number}, which is not under 'headings'"))
    if problems:
        raise SchemaError(describe(problems, path))
