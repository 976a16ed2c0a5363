"""Reuse by content: a stage's output for one dataset kept under a key of everything that makes it.

A key is the SHA-256 of a JSON document of the key's parts (input files' SHA-256, the contract's
part for the dataset, its source mapping, the data rules, the package and its code, the years).
Entries live under `<processed>/.reuse/<stage>/<dataset>/<key>/`, outside any year's folder, so
a quarter run and the year run with the same inputs find the same entries, and a full run's
clearing of the year's processed folder leaves them. Files are hard-linked in and out (copied
where links cannot be made): outputs are always replaced, never written in place, so an entry's
files never change once stored. `sscp run --fresh` does not read the store.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from importlib import import_module
from pathlib import Path

from sscp_lib.files import write_json_atomic

ENTRY_FILE = "entry.json"
# In a stage's output folder: each dataset's key, and whether its output was reused (from which run).
RECORD_FILE = "reuse.json"
# Entries kept per stage and dataset, most recently used first: the year's run, its quarter runs
# and the run before a change.
KEEP_ENTRIES = 4


def _plain(value: object) -> object:
    """JSON for the parts of a key that are not JSON already (dataclasses, sets, paths, dates)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    if isinstance(value, Mapping):
        return {str(k): v for k, v in value.items()}
    return str(value)


def _canonical(parts: Mapping[str, object]) -> str:
    return json.dumps(parts, sort_keys=True, default=_plain, separators=(",", ":"), ensure_ascii=False)


def content_key(parts: Mapping[str, object]) -> str:
    """The SHA-256 of the parts as canonical JSON."""
    return hashlib.sha256(_canonical(parts).encode("utf-8")).hexdigest()


def plain_parts(parts: Mapping[str, object]) -> dict:
    """The parts as the JSON the key was computed from (recorded in the entry, for a reader)."""
    return json.loads(_canonical(parts))


@lru_cache(maxsize=16)
def code_digest(packages: tuple[str, ...]) -> str:
    """SHA-256 of the source of the packages (and core modules) that make an output: a code change
    that did not bump the package version still rebuilds."""
    digest = hashlib.sha256()
    for name in packages:
        module = import_module(name)
        origin = Path(str(module.__file__))
        files = sorted(origin.parent.rglob("*.py")) if origin.name == "__init__.py" else [origin]
        for path in files:
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def package_version() -> str:
    from sscp_lib import __version__

    return __version__


def key_fingerprint(key: bytes) -> str:
    """A fingerprint of the pseudonymisation key (pseudonyms change with it); the key never is written."""
    return hashlib.sha256(b"sscp reuse key fingerprint:" + hashlib.sha256(key).digest()).hexdigest()[:16]


def now_label() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Entry:
    """One stored output: its folder and what entry.json says (when and by which run it was built)."""

    folder: Path
    meta: dict

    def file(self, name: str) -> Path:
        return self.folder / name

    @property
    def built_by(self) -> str:
        """The run that built it, in words: 'the 2023-24 run of 2026-12-07T23:41:02+00:00'."""
        return f"the {self.meta.get('year', '?')} run of {self.meta.get('built', '?')}"


def link_or_copy(source: Path, target: Path) -> Path:
    """`target` becomes `source`'s content, replaced in one step; its time is now (a reused table
    is never older than the inputs it was checked against)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".link")
    os.close(fd)
    os.unlink(tmp)
    try:
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)
        os.utime(tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


class ReuseStore:
    """The content-addressed store (`Paths.reuse_store`: one per processed root, for every year)."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def folder(self, stage: str, dataset: str, key: str) -> Path:
        return self.root / stage / dataset / key

    def find(self, stage: str, dataset: str, key: str) -> Entry | None:
        """The entry stored under the key, when it is complete."""
        folder = self.folder(stage, dataset, key)
        try:
            meta = json.loads((folder / ENTRY_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if meta.get("key") != key or not all((folder / name).is_file() for name in meta.get("files", [])):
            return None
        os.utime(folder)  # most recently used
        return Entry(folder, meta)

    def save(self, stage: str, dataset: str, key: str, files: Mapping[str, Path], meta: Mapping) -> Entry:
        """Store `files` (name in the entry -> file written by the run) under the key."""
        final = self.folder(stage, dataset, key)
        final.parent.mkdir(parents=True, exist_ok=True)
        building = Path(tempfile.mkdtemp(dir=final.parent, prefix=".building-"))
        try:
            for name, path in files.items():
                try:
                    os.link(path, building / name)
                except OSError:
                    shutil.copyfile(path, building / name)
            record = {**meta, "key": key, "files": sorted(files), "built": meta.get("built") or now_label()}
            write_json_atomic(building / ENTRY_FILE, record)
            stored = self.find(stage, dataset, key)
            if stored is not None:  # another run (a quarter run beside the year's) stored it first
                return stored
            shutil.rmtree(final, ignore_errors=True)  # an incomplete entry of the same key
            try:
                os.replace(building, final)
            except OSError:  # stored meanwhile by another run
                stored = self.find(stage, dataset, key)
                if stored is None:
                    raise
                return stored
        finally:
            shutil.rmtree(building, ignore_errors=True)
        self.prune(stage, dataset)
        return Entry(final, record)

    def prune(self, stage: str, dataset: str, keep: int = KEEP_ENTRIES) -> None:
        """Keep the `keep` most recently used entries of a dataset."""
        folder = self.root / stage / dataset
        entries = sorted(
            (p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        for old in entries[keep:]:
            shutil.rmtree(old, ignore_errors=True)
        for stale in folder.glob(".building-*"):  # left by a run that was killed an hour or more ago
            if stale.stat().st_mtime < time.time() - 3600:
                shutil.rmtree(stale, ignore_errors=True)


@dataclass(frozen=True)
class StageInputs:
    """What the chain tells its stages about the run's inputs (`ReportPaths.run_inputs`): each raw
    file's SHA-256, hashed once per run, and whether the run rebuilds everything (`--fresh`)."""

    hashes: dict[str, str]
    fresh: bool = False


def write_run_inputs(path: Path, raw_dir: Path, hashes: Mapping[str, str], fresh: bool) -> Path:
    """Record the run's input hashes with each file's size and modification time, so a stage
    reading them later can tell a file changed since (and hash it again)."""
    inputs = {}
    for relative, sha256 in hashes.items():
        try:
            stat = os.stat(Path(raw_dir) / relative)
        except OSError:
            continue
        inputs[relative] = {"sha256": sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    return write_json_atomic(path, {"fresh": bool(fresh), "inputs": inputs})


def read_run_inputs(path: Path, raw_dir: Path) -> StageInputs:
    """The hashes a run recorded for files unchanged since (same size and modification time); none
    when there is no record (a stage notebook run by hand hashes its inputs itself)."""
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return StageInputs({})
    valid = {}
    for relative, entry in (record.get("inputs") or {}).items():
        try:
            stat = os.stat(Path(raw_dir) / relative)
        except OSError:
            continue
        if isinstance(entry, dict) and stat.st_size == entry.get("size") and stat.st_mtime_ns == entry.get("mtime_ns"):
            valid[relative] = str(entry["sha256"])
    return StageInputs(valid, bool(record.get("fresh", False)))


def recorded_keys(folder: Path) -> dict[str, str]:
    """Dataset -> key, as a stage recorded them beside its outputs (none when it recorded none)."""
    try:
        record = json.loads((Path(folder) / RECORD_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {r["dataset"]: r["key"] for r in record.get("datasets", []) if r.get("key")}
