"""Great Expectations' expectation classes as the validate stage builds its suites from them.

GX 1.x rebuilds an expectation's `configuration` (a pydantic `.dict()` of every field, a regular
expression over the class name, a new ExpectationConfiguration) every time it reads one of the
expectation's arguments: about 70 times per expectation per validation, which on the sample's
tables costs more than checking the data. Each class here is GX's own class with that
configuration built once per instance (and again only after a field is assigned or the
expectation copied); the metrics, the verdict and the result are GX's. Fields must not be changed
in place (the validate stage never changes an expectation once built).

The screens below are expectations of this project's own, on GX's table metrics and two metrics
registered here: each decides many per-column checks of one kind in one pass (see the Screens
section below).
"""

from __future__ import annotations

from functools import cache

import great_expectations.expectations as gxe
from great_expectations.compatibility.pydantic import PrivateAttr
from great_expectations.core.metric_domain_types import MetricDomainTypes
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import BatchExpectation
from great_expectations.expectations.metrics.metric_provider import metric_value
from great_expectations.expectations.metrics.table_metric_provider import TableMetricProvider

_CACHE = "_built_configuration"


@cache
def expectation_class(name: str) -> type:
    """GX's expectation class `name` (e.g. "ExpectColumnValuesToBeInSet") or a screen below,
    configuration built once.

    The subclass registers with GX as `<name>ConfiguredOnce`; its snake-case type keeps GX's prefix
    (e.g. expect_table_...), which GX reads to tell table expectations from column ones.
    """
    base: type = SCREENS[name] if name in SCREENS else getattr(gxe, name)

    def configuration(self):
        built = getattr(self, _CACHE)
        if built is None:
            built = base.configuration.fget(self)
            object.__setattr__(self, _CACHE, built)
        return built

    def __setattr__(self, field, value):
        base.__setattr__(self, field, value)
        object.__setattr__(self, _CACHE, None)

    def copy(self, **kwargs):
        duplicate = base.copy(self, **kwargs)
        object.__setattr__(duplicate, _CACHE, None)
        return duplicate

    namespace = {
        "__module__": __name__,
        "__doc__": base.__doc__,
        _CACHE: PrivateAttr(default=None),
        "configuration": property(configuration),
        "__setattr__": __setattr__,
        "copy": copy,
    }
    return type(base)(f"{name}ConfiguredOnce", (base,), namespace)


# --------------------------------------------------------------------------------------
# Screens: one expectation answering "do all these checks pass?" for many columns at once
# --------------------------------------------------------------------------------------
# GX's bookkeeping costs 1-4 ms per expectation per validation whatever the table's size, and a
# table has dozens of per-column checks of a kind (required, typed, coded). A screen checks every
# column of a kind in one pass, with the condition GX's own per-column expectation uses, and names
# the items that did not pass. The validate stage reports a screened item as passing only when the
# screen cleared it; every other item goes to its own GX expectation, whose result is the one
# reported. Each item is one check: [column] or [column, argument].


class ScreenedColumnsWithNulls(TableMetricProvider):
    """Positions of the items whose column is absent or holds a null (GX's column_values.nonnull)."""

    metric_name = "sscp.screen.with_nulls"
    value_keys = ("items",)

    @metric_value(engine=PandasExecutionEngine)
    def _pandas(cls, execution_engine, metric_domain_kwargs, metric_value_kwargs, metrics, runtime_configuration):
        frame, _, _ = execution_engine.get_compute_domain(metric_domain_kwargs, domain_type=MetricDomainTypes.TABLE)
        return [
            position
            for position, (column,) in enumerate(metric_value_kwargs["items"])
            if column not in frame.columns or frame[column].isnull().any()
        ]


class ScreenedColumnsOutsideSets(TableMetricProvider):
    """Positions of the items whose column is absent or holds a value outside the item's set,
    nulls aside (GX's column_values.in_set, which skips nulls)."""

    metric_name = "sscp.screen.outside_sets"
    value_keys = ("items",)

    @metric_value(engine=PandasExecutionEngine)
    def _pandas(cls, execution_engine, metric_domain_kwargs, metric_value_kwargs, metrics, runtime_configuration):
        frame, _, _ = execution_engine.get_compute_domain(metric_domain_kwargs, domain_type=MetricDomainTypes.TABLE)
        flagged = []
        for position, (column, value_set) in enumerate(metric_value_kwargs["items"]):
            if column not in frame.columns:
                flagged.append(position)
                continue
            values = frame[column]
            if not values[values.notnull()].isin(value_set).all():
                flagged.append(position)
        return flagged


class _FlaggingScreen(BatchExpectation):
    """A screen whose one metric gives the positions of the items it flags."""

    items: list[list]
    success_keys = ("items",)

    def _validate(self, metrics, runtime_configuration=None, execution_engine=None):
        flagged = metrics[self.metric_dependencies[0]]
        return {"success": not flagged, "result": {"observed_value": None, "details": {"flagged": flagged}}}


class ExpectTableColumnsToHaveNoNulls(_FlaggingScreen):
    """Screen for ExpectColumnValuesToNotBeNull: items are [column]."""

    metric_dependencies = ("sscp.screen.with_nulls",)


class ExpectTableColumnValuesToBeInSets(_FlaggingScreen):
    """Screen for ExpectColumnValuesToBeInSet: items are [column, value_set]."""

    metric_dependencies = ("sscp.screen.outside_sets",)


class ExpectTableColumnsToBeOfTypes(BatchExpectation):
    """Screen for ExpectColumnValuesToBeOfType: items are [column, type_]. The observed value is
    each item's column type as GX's expectation reports it (None when the column is absent).

    GX's expectation compares a column's dtype with the type, except that an object column is
    checked value by value; such a column is flagged, so its own expectation decides it.
    """

    items: list[list]
    metric_dependencies = ("table.column_types",)
    success_keys = ("items",)

    def _validate(self, metrics, runtime_configuration=None, execution_engine=None):
        dtypes = {entry["name"]: entry["type"] for entry in metrics["table.column_types"]}
        observed, flagged = [], []
        for position, (column, type_) in enumerate(self.configuration.kwargs["items"]):
            dtype = dtypes.get(column)
            if dtype is None or dtype.type.__name__ == "object_":
                observed.append(None)
                flagged.append(position)
                continue
            # GX's own comparison of a dtype with a type name (it uses no state of the expectation).
            verdict = gxe.ExpectColumnValuesToBeOfType._validate_pandas(None, dtype, type_)
            observed.append(verdict["result"]["observed_value"])
            if not verdict["success"]:
                flagged.append(position)
        return {"success": not flagged, "result": {"observed_value": observed, "details": {"flagged": flagged}}}


SCREENS: dict[str, type] = {
    cls.__name__: cls
    for cls in (ExpectTableColumnsToHaveNoNulls, ExpectTableColumnValuesToBeInSets, ExpectTableColumnsToBeOfTypes)
}
