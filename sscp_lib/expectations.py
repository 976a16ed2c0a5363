"""Great Expectations' expectation classes as the validate stage builds its suites from them.

GX 1.x rebuilds an expectation's `configuration` (a pydantic `.dict()` of every field, a regular
expression over the class name, a new ExpectationConfiguration) every time it reads one of the
expectation's arguments: about 70 times per expectation per validation, which on the sample's
tables costs more than checking the data. Each class here is GX's own class with that
configuration built once per instance (and again only after a field is assigned or the
expectation copied); the metrics, the verdict and the result are GX's. Fields must not be changed
in place (the validate stage never changes an expectation once built).
"""

from __future__ import annotations

from functools import cache

import great_expectations.expectations as gxe
from great_expectations.compatibility.pydantic import PrivateAttr

_CACHE = "_built_configuration"


@cache
def expectation_class(name: str) -> type:
    """GX's expectation class `name` (e.g. "ExpectColumnValuesToBeInSet"), configuration built once.

    The subclass registers with GX as `<name>ConfiguredOnce`; its snake-case type keeps GX's prefix
    (e.g. expect_table_...), which GX reads to tell table expectations from column ones.
    """
    base = getattr(gxe, name)

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
