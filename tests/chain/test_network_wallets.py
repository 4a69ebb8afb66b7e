"""Network value parsing and devnet wallet creation (pure local work; nothing faked)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mycel_subnet.chain.network import parse_network
from mycel_subnet.chain.wallets import UnsafeWalletError, create_wallet


def test_parse_network_values(monkeypatch, tmp_path):
    monkeypatch.setenv("MYCEL_SIM_PATH", str(tmp_path / "c.sqlite"))
    assert parse_network("sim").sim_path == tmp_path / "c.sqlite"
    monkeypatch.delenv("MYCEL_SIM_PATH")
    assert parse_network("sim").sim_path == Path("~/.mycel/sim/chain.sqlite").expanduser()
    assert parse_network("sim:/x/y.sqlite").sim_path == Path("/x/y.sqlite")
    for value in ("local", "test", "finney", "ws://127.0.0.1:9944", "wss://a.b"):
        spec = parse_network(value)
        assert not spec.is_sim and spec.value == value
    for bad in ("", "sim:", "mainnet", "http://x", "ws://"):
        with pytest.raises(ValueError):
            parse_network(bad)


def test_wallet_needs_devnet_flag(tmp_path):
    with pytest.raises(UnsafeWalletError):
        create_wallet("w", "h", tmp_path)
    assert not any(tmp_path.iterdir())
    with pytest.raises(ValueError):
        create_wallet("../w", "h", tmp_path, devnet=True)


def test_wallet_created_once_and_reused(tmp_path, capsys):
    first = create_wallet("w", "h", tmp_path, devnet=True)
    again = create_wallet("w", "h", tmp_path, devnet=True)
    assert again.coldkeypub.ss58_address == first.coldkeypub.ss58_address
    assert again.hotkey.ss58_address == first.hotkey.ss58_address
    out = capsys.readouterr()
    assert "mnemonic" not in (out.out + out.err).lower()
