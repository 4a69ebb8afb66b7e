"""The installed `mycel` command: help, exit codes, stderr messages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("MYCEL_")}
    full_env.update(env or {})
    return subprocess.run(
        [str(BIN / "mycel"), *args], capture_output=True, text=True, env=full_env, timeout=60
    )


def test_help_lists_the_subcommands() -> None:
    result = run("--help")
    assert result.returncode == 0
    for command in ("config", "schema"):
        assert command in result.stdout


@pytest.mark.parametrize("command", [["config", "show"], ["schema"]])
def test_every_subcommand_has_help(command) -> None:
    result = run(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout


def test_config_show_merges_flags_and_uses_operator_flag_names() -> None:
    result = run(
        "config", "show", "--netuid", "3", "--subtensor.network", "local",
        "--wallet.name", "owner", "--wallet.hotkey", "hk", "--axon.port", "8095",
        "--axon.external_ip", "1.2.3.4", "--logging.debug",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["netuid"] == 3
    assert shown["subtensor"]["network"] == "local"
    assert (shown["wallet"]["name"], shown["wallet"]["hotkey"]) == ("owner", "hk")
    assert (shown["axon"]["port"], shown["axon"]["external_ip"]) == (8095, "1.2.3.4")
    assert shown["logging"]["debug"] is True


def test_bad_value_exits_2_with_one_line_on_stderr() -> None:
    result = run("config", "show", "--axon.port", "70000")
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "axon.port" in lines[0]
    assert "Traceback" not in result.stderr


def test_bad_env_value_exits_2() -> None:
    result = run("config", "show", env={"MYCEL_NETUID": "many"})
    assert result.returncode == 2
    assert "netuid" in result.stderr and "Traceback" not in result.stderr


def test_unknown_flag_is_a_usage_error() -> None:
    result = run("config", "show", "--axon.prot", "1")
    assert result.returncode == 2
    assert "unrecognized arguments" in result.stderr


def test_secret_flags_are_not_offered() -> None:
    result = run("config", "show", "--help")
    assert "anthropic_api_key" not in result.stdout


def test_wallet_create_needs_devnet_then_creates_and_shows_real_keys(tmp_path) -> None:
    env = {"BTCLI_TOKEN_SYMBOLS_CACHE": str(tmp_path / "symbols.json")}
    flags = ["--wallet.name", "dev", "--wallet.path", str(tmp_path / "wallets")]
    refused = run("wallet", "create", *flags, env=env)
    assert refused.returncode == 2 and "--devnet" in refused.stderr
    assert not (tmp_path / "wallets").exists()

    created = run("wallet", "create", *flags, "--devnet", env=env)
    assert created.returncode == 0, created.stderr
    keys = json.loads(created.stdout)
    assert keys["coldkey"].startswith("5") and keys["hotkey"].startswith("5")
    assert "mnemonic" not in (created.stdout + created.stderr).lower()

    shown = run("wallet", "show", *flags, env=env)
    assert json.loads(shown.stdout) == keys  # existing keys are reused, not replaced

    extra = run("wallet", "hotkey", *flags, "--wallet.hotkey", "second", env=env)
    second = json.loads(extra.stdout)
    assert second["coldkey"] == keys["coldkey"] and second["hotkey"] != keys["hotkey"]


def test_wallet_show_of_a_missing_wallet_is_a_clear_error(tmp_path) -> None:
    result = run("wallet", "show", "--wallet.name", "ghost", "--wallet.path", str(tmp_path))
    assert result.returncode == 2
    assert "ghost" in result.stderr and "Traceback" not in result.stderr
