"""Files: where the project lies, paths as a user knows them, SHA-256 of a file, and writing outputs
atomically (a reader never sees half a file under its final name)."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the chain's own process writes no tables and need not import pandas
    import pandas as pd

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def display_path(path: Path) -> str:
    """A path as a user knows it: relative to the project where it lies inside it."""
    path = Path(path).resolve()
    try:
        return path.relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        return str(path)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_atomically(path: Path, write: Callable[[str], object]) -> Path:
    """Call write(temporary path) in the target folder, then rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; these are outputs like any other
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_atomic(path: Path, write: Callable[[str], object]) -> Path:
    """A file written by write(temporary path) and renamed into place: never seen half-written."""
    return _write_atomically(path, write)


def write_json_atomic(path: Path, data) -> Path:
    def write(tmp):
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, sort_keys=True, ensure_ascii=False)
            fh.write("\n")

    return _write_atomically(path, write)


def write_parquet_atomic(frame: pd.DataFrame, path: Path) -> Path:
    """A table written to a temporary file, then renamed."""
    return _write_atomically(path, lambda tmp: frame.to_parquet(tmp, index=False))
