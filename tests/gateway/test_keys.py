"""The gateway's key store on a real SQLite file: only hashes are kept, refusals say what is
wrong without telling a guesser which half of a key was right, revocation is immediate for an
already open store (the CLI and the gateway are two processes)."""

from __future__ import annotations

import pytest

from mycel_subnet.gateway.keys import KeyStore, KeyStoreError
from tests.miner.harness import make_hotkey


def test_a_key_is_shown_once_and_stored_only_as_a_hash(tmp_path):
    path = tmp_path / "keys.sqlite"
    with KeyStore(path) as keys:
        issued = keys.issue("alice instance")
        assert keys.check_api_key(issued.key).ok
        assert keys.check_api_key(issued.key).credential.name == "alice instance"
    secret = issued.key.rsplit("_", 1)[1]
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert secret.encode() not in stored and issued.key.encode() not in stored
    assert issued.credential.id.encode() in stored  # the id is what finds the row
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_refusals_name_the_problem_but_not_which_half_was_wrong(tmp_path):
    with KeyStore(tmp_path / "k.sqlite") as keys:
        issued = keys.issue("bob")
        prefix, cid, secret = issued.key.split("_", 2)
        wrong_secret = f"{prefix}_{cid}_{'A' * 43}"
        unknown_id = f"{prefix}_{'0' * 12}_{secret}"
        a, b = keys.check_api_key(wrong_secret), keys.check_api_key(unknown_id)
        assert (a.code, a.detail) == (b.code, b.detail)
        assert a.code == "invalid_api_key" and not a.ok and a.credential is None
        malformed = keys.check_api_key("hunter2")
        assert malformed.code == "malformed_api_key" and "mgw_" in malformed.detail


def test_revocation_reaches_a_store_another_process_has_open(tmp_path):
    path = tmp_path / "k.sqlite"
    gateway_side, cli_side = KeyStore(path), KeyStore(path)
    try:
        issued = cli_side.issue("carol")
        assert gateway_side.check_api_key(issued.key).ok
        revoked = cli_side.revoke(issued.key)  # the key itself works as the id
        check = gateway_side.check_api_key(issued.key)
        assert check.code == "revoked_api_key" and "revoked on" in check.detail
        again = cli_side.revoke(issued.credential.id)
        assert again.revoked_at == revoked.revoked_at  # the first revocation time is kept
        with pytest.raises(KeyStoreError, match="no credential"):
            cli_side.revoke("ffffffffffff")
    finally:
        gateway_side.close()
        cli_side.close()


def test_allowed_hotkeys_and_bad_input(tmp_path):
    wallet = make_hotkey(tmp_path / "w", "dave")
    hotkey = wallet.hotkey.ss58_address
    with KeyStore(tmp_path / "k.sqlite") as keys:
        entry = keys.allow_hotkey(hotkey, "dave")
        assert keys.allowed_hotkey(hotkey) == entry and not entry.revoked
        keys.revoke(hotkey)
        assert keys.allowed_hotkey(hotkey).revoked
        assert not keys.allow_hotkey(hotkey, "dave again").revoked  # allowing again restores it
        assert [c.kind for c in keys.list()] == ["hotkey"]
        with pytest.raises(KeyStoreError, match="SS58"):
            keys.allow_hotkey("5notakey", "x")
        for bad in ("", "x" * 65, "new\nline"):
            with pytest.raises(KeyStoreError, match="name must be"):
                keys.issue(bad)
