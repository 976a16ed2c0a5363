"""SSCP assurance reporting: clean, validate and analyse multi-agency data, render the statement."""

import importlib.abc
import importlib.util
import sys

__version__ = "0.1.0"

# jsonschema (imported by Great Expectations, papermill and nbconvert) checks the "iri" string
# format with rfc3987_syntax when that is installed (Jupyter installs it), and importing that
# module builds an Earley parser: 1-5 s of CPU, a quarter of GX's import. No schema read here uses
# the format, so the module is treated as absent, which jsonschema allows (unless something
# imported it already).
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]  # None blocks the import (documented)

# Great Expectations imports these at its own import for expectations and renderers this project
# does not use (distribution tests, charts): about a third of the import's CPU. They are loaded on
# first use instead (importlib.util.LazyLoader), so code that uses them gets them as usual.
DEFERRED_IMPORTS = frozenset({"scipy.stats", "altair"})


class _DeferredModule(importlib.util._LazyModule):  # type: ignore[name-defined]
    """A deferred module that tells its name and file without loading (ipykernel lists every
    loaded module's file when a kernel starts); any other attribute loads it."""

    def __getattribute__(self, attr):
        if attr in _ANSWERED_UNLOADED:
            return object.__getattribute__(self, attr)
        return super().__getattribute__(attr)


_ANSWERED_UNLOADED = frozenset({"__name__", "__file__", "__spec__", "__loader__", "__package__"})


class _DeferredLoader(importlib.util.LazyLoader):
    def exec_module(self, module):
        super().exec_module(module)
        module.__class__ = _DeferredModule


class _DeferredImports(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name not in DEFERRED_IMPORTS:
            return None
        sys.meta_path.remove(self)  # find the module as the import system would without us
        try:
            spec = importlib.util.find_spec(name)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = _DeferredLoader(spec.loader)
        return spec


if not any(isinstance(f, _DeferredImports) for f in sys.meta_path):
    sys.meta_path.insert(0, _DeferredImports())
