"""Pseudonyms: keyed, stable across datasets, normalised, fast; the key stays outside the repo."""

from __future__ import annotations

import hmac
import os
import stat

import pandas as pd
import pytest

from sscp_lib.errors import UserError
from sscp_lib.ingest.pseudonymise import ensure_key_file, key_file_path, load_key, pseudonymise

KEY = bytes.fromhex("5e" * 32)


def test_pseudonym_is_truncated_hmac_of_field_and_normalised_value():
    result = pseudonymise(pd.Series(["  ch001 "]), KEY, "child_pid")
    expected = hmac.new(KEY, b"child_pid:CH001", "sha256").hexdigest()[:16]
    assert result.iloc[0] == expected
    assert result.dtype == "string"


def test_same_child_same_pseudonym_whatever_case_or_spacing_and_empty_stays_missing():
    result = pseudonymise(pd.Series(["CH1", "ch1", " CH1", "CH2", "", None]), KEY, "child_pid")
    assert result.iloc[0] == result.iloc[1] == result.iloc[2]
    assert result.iloc[0] != result.iloc[3]
    assert result.iloc[4:].isna().all()


def test_field_and_key_change_the_pseudonym():
    values = pd.Series(["CH1"])
    assert pseudonymise(values, KEY, "child_pid").iloc[0] != pseudonymise(values, KEY, "contact_pid").iloc[0]
    assert pseudonymise(values, KEY, "child_pid").iloc[0] != pseudonymise(values, b"x" * 32, "child_pid").iloc[0]


def test_keeps_the_index_of_the_input():
    values = pd.Series(["A", "B"], index=[10, 20])
    assert list(pseudonymise(values, KEY, "child_pid").index) == [10, 20]


def test_a_million_rows_hash_each_distinct_value_once(monkeypatch):
    """The cost is one HMAC per distinct child, not per row (speed itself is `make bench`'s)."""
    import sscp_lib.ingest.pseudonymise as module

    hashed = []
    real = module._hmac_hex_digests

    def counting(key, prefix, uniques):
        hashed.append(len(uniques))
        return real(key, prefix, uniques)

    monkeypatch.setattr(module, "_hmac_hex_digests", counting)
    values = pd.Series([f"CH{i % 200_000:06d}" for i in range(1_000_000)])
    result = pseudonymise(values, KEY, "child_pid")
    assert sum(hashed) == 200_000  # in batches, each distinct value once
    assert result.nunique() == 200_000
    assert (result.iloc[:200_000].to_numpy() == result.iloc[200_000:400_000].to_numpy()).all()


def test_key_file_created_once_with_owner_only_permissions(tmp_path, monkeypatch):
    path = tmp_path / "conf" / "pseudonymisation.key"
    monkeypatch.setenv("SSCP_KEY_FILE", str(path))
    assert key_file_path() == path
    assert ensure_key_file(path) is True
    first = path.read_text()
    assert ensure_key_file(path) is False
    assert path.read_text() == first
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert len(bytes.fromhex(first.strip())) == 32


def test_default_key_file_is_outside_the_repository(monkeypatch):
    monkeypatch.delenv("SSCP_KEY_FILE", raising=False)
    path = key_file_path()
    assert path == path.home() / ".config" / "sscp" / "pseudonymisation.key"


def test_environment_key_wins_over_the_key_file(tmp_path, monkeypatch):
    path = tmp_path / "k.key"
    path.write_text("ab" * 32)
    monkeypatch.setenv("SSCP_KEY_FILE", str(path))
    monkeypatch.setenv("SSCP_PSEUDONYMISATION_KEY", "cd" * 32)
    assert load_key() == bytes.fromhex("cd" * 32)
    monkeypatch.delenv("SSCP_PSEUDONYMISATION_KEY")
    assert load_key() == bytes.fromhex("ab" * 32)


def test_no_key_anywhere_says_run_keygen(tmp_path, monkeypatch):
    monkeypatch.delenv("SSCP_PSEUDONYMISATION_KEY", raising=False)
    monkeypatch.setenv("SSCP_KEY_FILE", str(tmp_path / "missing.key"))
    with pytest.raises(UserError, match="sscp keygen"):
        load_key()


def test_malformed_key_is_a_user_error(monkeypatch):
    monkeypatch.setenv("SSCP_PSEUDONYMISATION_KEY", "not hex")
    with pytest.raises(UserError, match="hexadecimal"):
        load_key()


def test_long_keys_follow_the_hmac_standard():
    long_key = bytes(range(100))
    result = pseudonymise(pd.Series(["x", "é"]), long_key, "child_pid")
    assert result.tolist() == [
        hmac.new(long_key, f"child_pid:{v}".encode(), "sha256").hexdigest()[:16] for v in ("X", "É")
    ]
