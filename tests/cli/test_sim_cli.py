"""`mycel sim ...` and `sim:PATH`: a chain is never created by accident, bad files are one line,
and every start-up hint on the embedded chain names the `mycel sim` command that fixes it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mycel_subnet.chain.network import open_subtensor
from mycel_subnet.chain.port import ChainPort, ChainUnreachable
from mycel_subnet.chain.sim.store import ChainFileMissing, NotAChainFile
from mycel_subnet.cli.main import main
from mycel_subnet.config import load_settings
from mycel_subnet.exit_codes import ExitCode
from mycel_subnet.neuron_startup import StartupError, registered_neuron

REPO = Path(__file__).resolve().parents[2]


def _mycel(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return int(code), out, err


def _one_line_error(capsys, *argv: str, code: int = ExitCode.USAGE) -> str:
    got, out, err = _mycel(capsys, *argv)
    assert got == code, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.fixture
def walk(tmp_path, capsys):
    """A manual chain with a started subnet and owner/miner/validator wallets, via the CLI."""
    chain, wallets = tmp_path / "chain.sqlite", tmp_path / "w"
    assert _mycel(capsys, "sim", "create", str(chain), "--manual", "--tempo", "10")[0] == 0
    for name in ("owner", "miner", "val"):
        argv = [
            "wallet",
            "create",
            "--devnet",
            "--wallet.name",
            name,
            "--wallet.path",
            str(wallets),
        ]
        assert _mycel(capsys, *argv)[0] == 0

    def sim(action: str, *argv: str, name: str | None = None) -> tuple[int, str, str]:
        extra = ["--wallet.name", name, "--wallet.path", str(wallets)] if name else []
        return _mycel(capsys, "sim", action, "--chain", str(chain), *extra, *argv)

    return chain, wallets, sim


def test_a_typo_in_sim_path_is_one_line_and_creates_nothing(tmp_path, capsys):
    missing = tmp_path / "typo" / "deeper" / "chain.sqlite"
    line = _one_line_error(capsys, "sim", "status", "--chain", str(missing))
    assert f"mycel sim create {missing}" in line
    with pytest.raises(ChainFileMissing, match="mycel sim create"):
        open_subtensor(f"sim:{missing}")
    port = ChainPort(f"sim:{missing}", 1)
    with pytest.raises(ChainUnreachable, match="does not exist; create it with `mycel sim create"):
        port.metagraph()
    assert not (tmp_path / "typo").exists()  # no file, no folders


def test_the_default_sim_must_be_created_too(tmp_path, capsys, monkeypatch):
    default = tmp_path / "home" / "chain.sqlite"
    monkeypatch.setenv("MYCEL_SIM_PATH", str(default))
    assert str(default) in _one_line_error(capsys, "sim", "status")
    with pytest.raises(ChainFileMissing):
        open_subtensor("sim")
    code, out, _ = _mycel(capsys, "sim", "create")
    assert code == 0 and default.exists() and f"sim:{default}" in out
    line = _one_line_error(capsys, "sim", "create")  # never over an existing file
    assert "already exists" in line


def test_a_file_that_is_not_a_chain_is_one_line(tmp_path, capsys):
    text = tmp_path / "notes.txt"
    text.write_text("hello, not a database\n" * 20)
    assert "not a sim chain file" in _one_line_error(capsys, "sim", "status", "--chain", str(text))
    with pytest.raises(NotAChainFile):
        open_subtensor(f"sim:{text}")
    with pytest.raises(ChainUnreachable, match="not a sim chain file"):
        ChainPort(f"sim:{text}", 1).metagraph()
    assert text.read_text().startswith("hello")  # untouched
    other = tmp_path / "other.sqlite"  # another program's database is not modified
    import sqlite3

    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    assert "no genesis" in _one_line_error(capsys, "sim", "status", "--chain", str(other))
    with sqlite3.connect(other) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert tables == {"t"}
    folder = tmp_path / "folder"
    folder.mkdir()
    assert "folder" in _one_line_error(capsys, "sim", "status", "--chain", str(folder))


def test_register_stake_set_status_and_advance(walk, capsys):
    _, _, sim = walk
    code, out, err = sim("subnet", name="owner")
    assert code == 0, err
    assert "subnet 1" in out
    assert sim("register", "--netuid", "1", name="miner")[0] == 0
    code, out, _ = sim("register", "--netuid", "1", name="miner")  # twice: says so, no error
    assert code == 0 and "already registered as uid 1" in out
    assert sim("register", "--netuid", "1", name="val")[0] == 0
    assert sim("stake", "--netuid", "1", "--amount", "50", name="val")[0] == 0
    assert sim("set", "--netuid", "1", "max_validators", "4")[0] == 0
    assert sim("set", "--netuid", "1", "liquid_alpha_enabled", "true")[0] == 0
    assert sim("advance", "--netuid", "1", "--epochs", "1")[0] == 0
    code, out, _ = sim("status", "--netuid", "1", "--json")
    state = json.loads(out)
    assert state["block"] == 11 and state["mode"] == "manual"
    assert state["hyperparameters"]["max_validators"] == 4
    assert state["hyperparameters"]["liquid_alpha_enabled"] is True
    by_uid = {n["uid"]: n for n in state["neurons"]}
    assert set(by_uid) == {0, 1, 2}
    assert by_uid[2]["stake"] >= 50 and by_uid[2]["validator_permit"]
    assert not by_uid[1]["validator_permit"]
    code, out, _ = sim("status", "--netuid", "1")
    assert code == 0 and "incentive" in out and "permit" in out and "block 11" in out


def test_bad_sim_input_is_one_line(walk, capsys, tmp_path):
    _, _, sim = walk

    def error(*argv, name=None, code=ExitCode.USAGE) -> str:
        got, out, err = sim(*argv, name=name)
        assert got == code, (out, err)
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
        return err

    assert "mycel sim subnet" in error("register", "--netuid", "1", name="miner")
    assert sim("subnet", name="owner")[0] == 0
    assert "mycel wallet create --devnet" in error("register", "--netuid", "1", name="nobody")
    assert "unknown hyperparameter 'kapa'" in error("set", "--netuid", "1", "kapa", "1")
    assert "takes a whole number" in error("set", "--netuid", "1", "kappa", "0.5")
    assert "takes true or false" in error("set", "--netuid", "1", "yuma3_enabled", "maybe")
    assert "--amount must be > 0" in error("stake", "--netuid", "1", "--amount", "0", name="val")
    assert "no subnet 7" in error("status", "--netuid", "7")
    no_faucet = error("register", "--netuid", "1", "--no-faucet", name="miner")
    assert "--no-faucet" in no_faucet
    clock = tmp_path / "clock.sqlite"
    assert _mycel(capsys, "sim", "create", str(clock))[0] == 0
    line = _one_line_error(capsys, "sim", "advance", "--chain", str(clock), "--blocks", "3")
    assert "--manual" in line


def test_neuron_hints_on_sim_name_the_mycel_sim_command(walk, capsys):
    chain, wallets, sim = walk
    flags = {"subtensor.network": f"sim:{chain}", "netuid": 1, "wallet.name": "miner",
             "wallet.hotkey": "default", "wallet.path": str(wallets)}  # fmt: skip
    settings = load_settings(flags)
    import bittensor as bt

    hotkey = bt.Wallet("miner", "default", str(wallets)).hotkey.ss58_address
    port = ChainPort(f"sim:{chain}", 1)
    try:
        with pytest.raises(StartupError) as missing:
            registered_neuron(port, settings, hotkey)
        assert missing.value.code == ExitCode.USAGE
        assert "does not exist" in str(missing.value)
        assert f"mycel sim subnet --chain {chain}" in str(missing.value)
        assert sim("subnet", name="owner")[0] == 0
        with pytest.raises(StartupError) as unregistered:
            registered_neuron(port, settings, hotkey)
    finally:
        port.close()
    assert unregistered.value.code == ExitCode.NOT_REGISTERED
    text = str(unregistered.value)
    assert "btcli" not in text
    assert (
        f"mycel sim register --chain {chain} --netuid 1 --wallet.name miner "
        f"--wallet.hotkey default --wallet.path {wallets}"
    ) in text


def test_the_miner_process_points_at_mycel_sim_register(walk, capsys, tmp_path):
    """The real entry point: exit 3 and a one-line hint that pastes and works."""
    chain, wallets, sim = walk
    assert sim("subnet", name="owner")[0] == 0
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1",
           "BTCLI_TOKEN_SYMBOLS_CACHE": str(tmp_path / "tok.json")}  # fmt: skip
    argv = [sys.executable, "-m", "neurons.miner", "--subtensor.network", f"sim:{chain}",
            "--netuid", "1", "--wallet.name", "miner", "--wallet.hotkey", "default",
            "--wallet.path", str(wallets), "--axon.port", "18999"]  # fmt: skip
    done = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == ExitCode.NOT_REGISTERED, done.stderr[-2000:]
    hint = done.stderr.split("`mycel sim register", 1)[1].split("`", 1)[0]
    code, out, err = _mycel(capsys, "sim", "register", *hint.split())
    assert code == 0 and "uid 1" in out, err


def test_a_validator_without_permit_on_sim_is_told_to_mycel_sim_stake(walk, caplog):
    import logging

    from mycel_subnet.validator.run import check_chain

    chain, wallets, sim = walk
    assert sim("subnet", name="owner")[0] == 0
    assert sim("register", "--netuid", "1", name="val")[0] == 0
    flags = {"subtensor.network": f"sim:{chain}", "netuid": 1, "wallet.name": "val",
             "wallet.hotkey": "default", "wallet.path": str(wallets)}  # fmt: skip
    import bittensor as bt

    hotkey = bt.Wallet("val", "default", str(wallets)).hotkey.ss58_address
    port = ChainPort(f"sim:{chain}", 1)
    try:
        with caplog.at_level(logging.WARNING):
            check_chain(port, load_settings(flags), hotkey)
    finally:
        port.close()
    assert f"stake with `mycel sim stake --chain {chain} --netuid 1 --wallet.name val" in (
        caplog.text
    )
