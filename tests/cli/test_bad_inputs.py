"""Every bad input an operator can type is one line on stderr naming what is wrong, and exit 2.

The cases run through the real entry points (neurons.miner.main, neurons.validator.main and the
`mycel` CLI's main) with argv; the runners are replaced by a stub that fails the test, so a case
that is wrongly accepted is reported, not started.
"""

from __future__ import annotations

import os

import pytest

import mycel_subnet.miner.run
import mycel_subnet.validator.run
from mycel_subnet.cli import main as mycel_cli
from mycel_subnet.exit_codes import ExitCode
from neurons import miner, validator

ALICE = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
BAD_CHECKSUM = ALICE[:-1] + "Z"

ENTRIES = {"miner": miner.main, "validator": validator.main, "mycel": mycel_cli.main}

# (entry point, argv, text the one line must contain)
CASES = [
    # argparse types and choices: one line, not the usage
    ("miner", ["--netuid", "abc"], "--netuid"),
    ("miner", ["--axon.port", "x"], "--axon.port"),
    ("miner", ["--miner.engine", "gpt"], "--miner.engine"),
    ("miner", ["--axon.prot", "1"], "--axon.prot"),
    ("miner", ["--wallet.nam"], "--wallet.nam"),
    ("validator", ["--validator.sample_size", "many"], "--validator.sample_size"),
    ("validator", ["--wandb.mode", "loud"], "--wandb.mode"),
    ("validator", ["--axon.port", "8091"], "--axon.port"),  # a miner flag
    ("mycel", ["config", "show", "--netuid", "abc"], "--netuid"),
    ("mycel", ["frobnicate"], "frobnicate"),
    ("mycel", [], "COMMAND"),
    # typed checks on values
    ("miner", ["--axon.port", "70000"], "axon.port"),
    ("miner", ["--axon.external_ip", "not-an-ip"], "axon.external_ip"),
    ("miner", ["--axon.external_ip", "1.2.3.999"], "axon.external_ip"),
    ("miner", ["--miner.allow", "notahotkey"], "miner.allow"),
    ("miner", ["--miner.allow", ALICE, "--miner.allow", BAD_CHECKSUM], "miner.allow"),
    ("miner", ["--miner.deny", "5abc"], "miner.deny"),
    ("miner", ["--miner.metrics_port", "8091"], "miner.metrics_port"),
    ("miner", ["--axon.port", "9000", "--miner.metrics_port", "9000"], "axon.port"),
    ("miner", ["--model.device", "tpu"], "model.device"),
    ("miner", ["--wallet.name", "a/b"], "wallet.name"),
    ("miner", ["--subtensor.network", "foo"], "subtensor.network"),
    ("miner", ["--config", "/nonexistent/mycel.toml"], "config file"),
    ("validator", ["--validator.step_interval_s", "0"], "validator.step_interval_s"),
    ("validator", ["--validator.step_interval_s", "-1"], "validator.step_interval_s"),
    ("validator", ["--near.network", "foo"], "near.network"),
    ("validator", ["--near.network", "ftp://rpc.example"], "near.network"),
    ("validator", ["--netuid", "-1"], "netuid"),
    ("validator", ["--ipfs.api", "localhost"], "ipfs.api"),
    ("miner", ["--ipfs.api", "ftp://127.0.0.1:5001"], "ipfs.api"),
    ("mycel", ["config", "show", "--near.network", "foo"], "near.network"),
    ("mycel", ["config", "show", "--axon.external_ip", "not-an-ip"], "axon.external_ip"),
    # an explicit netuid on every real network
    ("miner", ["--subtensor.network", "finney"], "--netuid"),
    ("miner", ["--subtensor.network", "test"], "--netuid"),
    ("validator", ["--subtensor.network", "local"], "--netuid"),
    ("validator", ["--subtensor.network", "ws://127.0.0.1:9944"], "--netuid"),
    ("miner", ["--subtensor.chain_endpoint", "ws://127.0.0.1:9944"], "--netuid"),  # an alias
    # flags typed from the subnet template's habits: what to use instead
    ("miner", ["--neuron.device", "cuda"], "--model.device"),
    ("validator", ["--neuron.sample_size", "8"], "--validator.sample_size"),
    ("validator", ["--neuron.epoch_length=100"], "--validator.step_interval_s"),
    ("validator", ["--neuron.vpermit_tao_limit", "4096"], "--neuron."),
    ("miner", ["--logging.logging_dir", "/tmp/logs"], "--logging.logging_dir"),
    ("miner", ["--blacklist.allow_non_registered"], "--miner.allow"),
    ("miner", ["--blacklist.minimum_stake_requirement", "5"], "--miner.min_stake"),
    ("miner", ["--blacklist.validator_min_stake", "5"], "--miner.min_stake"),
    ("validator", ["--wandb.off"], "--wandb.mode disabled"),
    # secrets are never flags
    ("validator", ["--near.private_key", "ed25519:abc"], "MYCEL_NEAR__PRIVATE_KEY"),
    ("miner", ["--model.anthropic_api_key=sk-x"], "MYCEL_MODEL__ANTHROPIC_API_KEY"),
]


def _accepted(settings):
    raise AssertionError(f"bad input was accepted: {settings!r}")


@pytest.fixture
def entry_points(monkeypatch):
    for key in [k for k in os.environ if k.startswith("MYCEL_")]:
        monkeypatch.delenv(key)
    monkeypatch.setattr(mycel_subnet.miner.run, "run_miner", lambda s, engine=None: _accepted(s))
    monkeypatch.setattr(mycel_subnet.validator.run, "run_validator", _accepted)
    return ENTRIES


def _run(main, argv: list[str]) -> int:
    try:
        return int(main(argv))
    except SystemExit as stop:
        return int(stop.code or 0)


@pytest.mark.parametrize(("entry", "argv", "names"), CASES, ids=[" ".join(c[1]) for c in CASES])
def test_bad_input_is_one_line_and_exit_2(entry_points, capsys, entry, argv, names) -> None:
    code = _run(entry_points[entry], argv)
    out, err = capsys.readouterr()
    assert code == ExitCode.USAGE, err
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert names in lines[0]
    assert "Traceback" not in err and "usage:" not in err
    assert "sk-x" not in err and "ed25519:abc" not in err  # a secret typed as a flag is not echoed


def test_aliases_reach_the_mycel_setting(entry_points, capsys) -> None:
    """btcli's wallet flags and the template's permit flag set the same settings as ours."""
    argv = ["config", "show", "--wallet", "w1", "--wallet-hotkey", "h1", "--wallet-path", "/tmp/ws"]
    argv += ["--no-blacklist.force_validator_permit", "--subtensor.chain_endpoint", "ws://h:9944"]
    argv += ["--netuid", "7"]
    assert _run(entry_points["mycel"], argv) == 0
    shown = capsys.readouterr().out
    for expected in ('"name": "w1"', '"hotkey": "h1"', '"/tmp/ws"', '"ws://h:9944"'):
        assert expected in shown
    assert '"require_validator_permit": false' in shown


def test_netuid_from_the_environment_counts_as_explicit(entry_points, monkeypatch, capsys) -> None:
    monkeypatch.setenv("MYCEL_NETUID", "7")
    with pytest.raises(AssertionError, match="bad input was accepted"):
        entry_points["miner"](["--subtensor.network", "finney", "--sandbox.allow_weak_isolation"])
    assert "--netuid" not in capsys.readouterr().err
