"""What makes a dataset's clean table, as a content key (sscp_lib.reuse keeps the tables by it).

A clean table is made from the dataset's own files only: the files discovery gives it (their
path, year folder, sheet and SHA-256), the source mapping each is read with, the contract's part
for the dataset (its columns and the code lists they use, the Annex A and CIN census layouts
when one of its files is such a return), the data rules of the config (the NFA changeover),
the reporting year (dates after its end are rejected; rows get their reporting year), the
pseudonymisation key (by fingerprint), the package's version and the code of the ingest layer,
and the versions of the libraries that parse and write it. Nothing another dataset holds goes
into it: references between tables are checked by validation, whose key takes them in.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import metadata
from pathlib import Path

from sscp_lib.config import PartnershipConfig, ReportingYear
from sscp_lib.contract import Contract
from sscp_lib.files import sha256_file
from sscp_lib.reuse import code_digest, content_key, key_fingerprint, package_version, plain_parts

STAGE = "clean"
# The code that makes a clean table: the ingest layer and the core modules it reads.
CODE = ("sscp_lib.ingest", "sscp_lib.contract", "sscp_lib.config", "sscp_lib.files", "sscp_lib.schema")
LIBRARIES = ("pandas", "pyarrow", "numpy", "python-calamine", "openpyxl", "lxml")


def library_versions(names: tuple[str, ...]) -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


class InputHashes:
    """SHA-256 of raw files by path relative to the raw root: taken from the run's precomputed
    hashes where given (the chain hashes each input once per run), else computed here once."""

    def __init__(self, raw_dir: Path, precomputed: Mapping[str, str] | None = None):
        self.raw_dir = Path(raw_dir)
        self._hashes = dict(precomputed or {})

    def __call__(self, relative: str) -> str:
        if relative not in self._hashes:
            self._hashes[relative] = sha256_file(self.raw_dir / relative)
        return self._hashes[relative]


def clean_key_parts(
    dataset: str,
    files: list[tuple[str, str, str | None, object]],
    contract: Contract,
    config: PartnershipConfig,
    year: ReportingYear,
    key: bytes,
    hashes: InputHashes,
) -> dict:
    """The parts of a dataset's clean key; `files` are (relative path, year folder, sheet, source spec)."""
    ds = contract.dataset(dataset)
    lists = {c.codes for c in ds.columns if c.codes}
    lists |= {contract.group_code_list(name).name for name in list(lists) if contract.code_lists[name].groups}
    multi = {getattr(spec, "multi", None) for *_, spec in files}
    return {
        "stage": STAGE,
        "package": package_version(),
        "code": code_digest(CODE),
        "libraries": library_versions(LIBRARIES),
        "year": year.label,
        "contract": {
            "version": contract.version,
            "dataset": ds,
            "code_lists": {name: contract.code_lists[name] for name in sorted(lists)},
            "annex_a": contract.annex_a if "annex_a" in multi else None,
            "cin_census": contract.cin_census if "cin_census" in multi else None,
        },
        "files": [
            {"file": relative, "sha256": hashes(relative), "year": folder, "sheet": sheet, "mapping": _spec(spec)}
            for relative, folder, sheet, spec in files
        ],
        "data_rules": config.get("data_rules") or {},
        "pseudonymisation_key": key_fingerprint(key),
    }


def _spec(spec: object) -> object:
    """A source mapping as key material: where it was written is not part of what it says."""
    from dataclasses import fields, is_dataclass

    if not is_dataclass(spec) or isinstance(spec, type):
        return spec
    return {f.name: getattr(spec, f.name) for f in fields(spec) if f.name != "config_file"}


def clean_key(*args, **kwargs) -> tuple[str, dict]:
    """(key, its parts) for a dataset's clean table (see clean_key_parts)."""
    parts = clean_key_parts(*args, **kwargs)
    return content_key(parts), plain_parts(parts)
