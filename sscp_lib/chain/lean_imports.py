"""Leaner imports for the processes that run the chain: installed by the `sscp` command and the
kernel zygote (whose forked kernels inherit it), not by `import sscp_lib`, so a notebook or a
program that imports the library gets Python's import system as it is.

jsonschema (imported by Great Expectations, papermill and nbconvert) checks the "iri" string
format with rfc3987_syntax when that is installed (Jupyter installs it), and importing that module
builds an Earley parser: 1-5 s of CPU, a quarter of GX's import. No schema read here uses the
format, so the module is treated as absent, which jsonschema allows (unless something imported it
already).

Great Expectations imports DEFERRED_IMPORTS at its own import for expectations and renderers this
project does not use (distribution tests, charts): about a third of the import's CPU. They are
loaded on first use instead (importlib.util.LazyLoader), so code that uses them gets them as usual.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys

DEFERRED_IMPORTS = frozenset({"scipy.stats", "altair"})
UNUSED_IMPORTS = ("rfc3987_syntax",)


def install() -> None:
    """Install both in this process (and the processes it forks); a second call does nothing."""
    for name in UNUSED_IMPORTS:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]  # None blocks the import (documented)
    if not installed():
        sys.meta_path.insert(0, _DeferredImports())


def installed() -> bool:
    return any(isinstance(finder, _DeferredImports) for finder in sys.meta_path)


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
