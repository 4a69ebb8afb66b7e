"""Hints that point an operator on the embedded chain at the `mycel sim` command that fixes it.

btcli cannot reach a sim chain (it is a file, not a node), so on ``sim`` the neurons' start-up
errors name these commands instead; the strings are built here so they stay in step with
``mycel_subnet.cli.cmd_sim``.
"""

from __future__ import annotations

import shlex
from pathlib import Path


def _wallet_flags(name: str, hotkey: str, path: str | Path) -> str:
    return (
        f"--wallet.name {shlex.quote(name)} --wallet.hotkey {shlex.quote(hotkey)} "
        f"--wallet.path {shlex.quote(str(path))}"
    )


def chain_flag(chain_path: str | Path) -> str:
    return f"--chain {shlex.quote(str(chain_path))}"


def register_hint(
    chain_path: str | Path, netuid: int, name: str, hotkey: str, wallet_path: str | Path
) -> str:
    """The command that registers this hotkey on a sim subnet."""
    return (
        f"`mycel sim register {chain_flag(chain_path)} --netuid {int(netuid)} "
        f"{_wallet_flags(name, hotkey, wallet_path)}`"
    )


def subnet_hint(chain_path: str | Path, wallet_path: str | Path) -> str:
    """The command that creates and starts a subnet (owned by an `owner` wallet)."""
    return (
        f"`mycel sim subnet {chain_flag(chain_path)} "
        f"{_wallet_flags('owner', 'default', wallet_path)}` "
        "(after `mycel wallet create --devnet` for that owner wallet)"
    )


def stake_hint(
    chain_path: str | Path, netuid: int, name: str, hotkey: str, wallet_path: str | Path
) -> str:
    """The command that stakes this hotkey, so the next epoch can grant it a validator permit."""
    return (
        f"`mycel sim stake {chain_flag(chain_path)} --netuid {int(netuid)} "
        f"{_wallet_flags(name, hotkey, wallet_path)} --amount 100`"
    )
