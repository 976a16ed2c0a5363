"""Keyed pseudonyms for children's identifiers.

A child's id becomes HMAC-SHA256(key, "<output column>:<normalised id>"), hex, 16 characters.
The same key and the same output column (child_pid) give the same pseudonym in every dataset
and every year, so a child links across tables without the raw id leaving the clean stage.
The key lives outside the repository (or in an environment variable) and is never written out.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sscp_lib.errors import UserError

KEY_ENV = "SSCP_PSEUDONYMISATION_KEY"
KEY_FILE_ENV = "SSCP_KEY_FILE"
DEFAULT_KEY_FILE = Path("~/.config/sscp/pseudonymisation.key")
KEY_BYTES = 32
PSEUDONYM_LENGTH = 16


def key_file_path() -> Path:
    """Where the local key is kept: $SSCP_KEY_FILE, else ~/.config/sscp/pseudonymisation.key."""
    return Path(os.environ.get(KEY_FILE_ENV) or DEFAULT_KEY_FILE).expanduser()


def ensure_key_file(path: Path) -> bool:
    """Create a random key at `path` (mode 0600) unless one exists. True when created."""
    path = Path(path).expanduser()
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # O_EXCL: never overwrite a key another process has just written.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(secrets.token_hex(KEY_BYTES) + "\n")
    os.chmod(path, 0o600)
    return True


def _parse_hex_key(text: str, source: str) -> bytes:
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        raise UserError(f"{source}: the pseudonymisation key must be hexadecimal") from None
    if len(key) < 16:
        raise UserError(f"{source}: the pseudonymisation key is too short (at least 16 bytes / 32 hex digits)")
    return key


def load_key() -> bytes:
    """The key: $SSCP_PSEUDONYMISATION_KEY (hex) wins, else the key file."""
    from_env = os.environ.get(KEY_ENV)
    if from_env:
        return _parse_hex_key(from_env, KEY_ENV)
    path = key_file_path()
    if not path.exists():
        raise UserError(f"no pseudonymisation key: set {KEY_ENV} or run `sscp keygen` to create {path}")
    return _parse_hex_key(path.read_text(encoding="ascii"), str(path))


def normalise_identifier(values: pd.Series) -> pd.Series:
    """Identifier comparison form: surrounding spaces removed, upper case."""
    return values.astype("string").str.strip().str.upper()


def _hmac_hex_digests(key: bytes, prefix: bytes, values) -> list[str]:
    """HMAC-SHA256(key, prefix + value), hex, truncated: the standard construction written out so the
    keyed inner state (which includes the field prefix) is computed once, not once per value."""
    block = hashlib.sha256().block_size
    if len(key) > block:
        key = hashlib.sha256(key).digest()
    key = key.ljust(block, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key) + prefix)
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))
    digests = []
    for value in values:
        h = inner.copy()
        h.update(value.encode("utf-8"))
        o = outer.copy()
        o.update(h.digest())
        digests.append(o.hexdigest()[:PSEUDONYM_LENGTH])
    return digests


# Distinct identifiers become Python strings this many at a time (hashlib needs them), so a
# table of millions of distinct ids never holds them all as Python objects at once.
HASH_BATCH = 100_000


def _distinct_and_codes(text: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """The distinct values of `text` (nulls last) and, for each row, the position of its value.

    Found by sorting, not hashing: for millions of distinct ids a hash table of the values
    (Arrow's dictionary encoding) takes several times the memory of the values themselves.
    """
    order = pc.array_sort_indices(text, null_placement="at_end")
    ordered = text.take(order)
    if len(ordered) == 0:
        return ordered, np.zeros(0, dtype=np.int64)
    # A new value starts where a row differs from the one before (nulls: where the first null is).
    differs = pc.fill_null(pc.not_equal(ordered[1:], ordered[:-1]), False)
    first_null = pc.and_(pc.is_null(ordered[1:]), pc.is_valid(ordered[:-1]))
    starts = np.concatenate([[True], pc.or_(differs, first_null).to_numpy(zero_copy_only=False)])
    codes = np.empty(len(ordered), dtype=np.int64)
    codes[order.to_numpy()] = np.cumsum(starts) - 1
    return ordered.filter(pa.array(starts)), codes


class PseudonymCache:
    """Pseudonyms already made in one clean run, for the fields that link tables (child_pid): each
    distinct identifier is hashed once across datasets and years. Held in Arrow arrays (about 30
    bytes an identifier), in memory only: raw identifiers never leave the clean stage."""

    def __init__(self, fields: set[str] | frozenset[str]):
        self.fields = frozenset(fields)
        self._known: dict[str, tuple[pa.Array, pa.Array]] = {}
        self.hashed = 0  # HMACs computed
        self.found = 0  # distinct identifiers found already hashed

    def split(self, field: str, distinct: pa.Array) -> tuple[np.ndarray, pa.Array | None]:
        """(position of each distinct value among the field's known ids, -1 where unknown;
        the known pseudonyms)."""
        if field not in self._known:
            return np.full(len(distinct), -1, dtype=np.int64), None
        ids, pseudonyms = self._known[field]
        positions = pc.index_in(distinct, value_set=ids).to_numpy(zero_copy_only=False)
        positions = np.where(np.isnan(positions), -1, positions).astype(np.int64)
        return positions, pseudonyms

    def add(self, field: str, ids: pa.Array, pseudonyms: pa.Array) -> None:
        keep = pc.is_valid(pseudonyms)  # empty and missing ids are not kept
        ids, pseudonyms = ids.filter(keep), pseudonyms.filter(keep)
        if field in self._known:
            old_ids, old_pseudonyms = self._known[field]
            ids, pseudonyms = pa.concat_arrays([old_ids, ids]), pa.concat_arrays([old_pseudonyms, pseudonyms])
        self._known[field] = (ids, pseudonyms)


def _hash_distinct(key: bytes, field: str, distinct: pa.Array) -> pa.Array:
    prefix = f"{field}:".encode()
    digests = []
    for start in range(0, len(distinct), HASH_BATCH):
        batch = distinct.slice(start, HASH_BATCH).to_pylist()
        hashed = _hmac_hex_digests(key, prefix, [v for v in batch if v])  # empty and null stay empty
        it = iter(hashed)
        digests.append(pa.array([next(it) if v else None for v in batch], pa.large_string()))
    if not digests:
        return pa.array([], pa.large_string())
    return pa.concat_arrays(digests)


def pseudonymise(values: pd.Series, key: bytes, field: str, cache: PseudonymCache | None = None) -> pd.Series:
    """Pseudonyms for `values` (empty stays empty); `field` is the output column, e.g. child_pid.

    Each distinct value is hashed once and mapped back, so a million rows of a few hundred
    thousand children cost a few hundred thousand HMACs; with a `cache` that holds the field,
    identifiers another table of the run already hashed are not hashed again. The distinct
    values and the mapping back stay in Arrow and numpy: no Python object per row.
    """
    text = pa.array(normalise_identifier(values), type=pa.large_string())
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    distinct, codes = _distinct_and_codes(text)
    del text  # the rows' text is no longer needed: only the distinct values and each row's code
    if cache is None or field not in cache.fields:
        digests = _hash_distinct(key, field, distinct)
    else:
        positions, known = cache.split(field, distinct)
        unknown = positions < 0
        new = distinct.filter(pa.array(unknown))
        hashed = _hash_distinct(key, field, new)
        cache.hashed += int(pc.sum(pc.is_valid(hashed)).as_py() or 0)
        cache.found += int((~unknown).sum())
        # Each distinct value's pseudonym: from the known ones, or the new ones placed after them.
        offset = len(known) if known is not None else 0
        where = positions.copy()
        where[unknown] = offset + np.arange(int(unknown.sum()))
        pool = pa.concat_arrays([known, hashed]) if known is not None else hashed
        digests = pool.take(pa.array(where))
        cache.add(field, new, hashed)
    pseudonyms = digests.take(pa.array(codes))
    return pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([pseudonyms])), index=values.index, dtype="string")
