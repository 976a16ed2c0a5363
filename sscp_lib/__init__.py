"""SSCP assurance reporting: clean, validate and analyse multi-agency data, render the statement."""

import sys

__version__ = "0.1.0"

# jsonschema (imported by Great Expectations, papermill and nbconvert) checks the "iri" string
# format with rfc3987_syntax when that is installed (Jupyter installs it), and importing that
# module builds an Earley parser: 1-5 s of CPU, a quarter of GX's import. No schema read here uses
# the format, so the module is treated as absent, which jsonschema allows (unless something
# imported it already).
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]  # None blocks the import (documented)
