"""The hand-started walk of docs/localnet.md, run as an operator would type it.

Every step is a real process: `mycel sim ...` and `mycel wallet ...` commands, then
`mycel-miner` (reference engine) and `mycel-validator` on a manual-block sim chain. The test
asserts what the operator watches for: `mycel sim status` shows incentive for the miner after
the validator has set weights and an epoch has run.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TEMPO = 10


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "WANDB_MODE": "offline",
        "OMP_NUM_THREADS": "1",
        "PYTHONUNBUFFERED": "1",
        "BTCLI_TOKEN_SYMBOLS_CACHE": str(tmp_path / "token-symbols.json"),
        "MYCEL_SIM_PATH": str(tmp_path / "not-this-one.sqlite"),  # every command names --chain
    }


def _tool(name: str) -> str:
    """The installed console script (the real entry point), as an operator runs it."""
    path = BIN / name
    if not path.exists():
        pytest.skip(f"{name} is not installed in this environment")
    return str(path)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Walk:
    """Runs the documented commands against one chain and one wallets folder."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.chain = tmp_path / "chain.sqlite"
        self.wallets = tmp_path / "wallets"
        self.env = _env(tmp_path)
        self.procs: list[subprocess.Popen] = []

    def mycel(self, *argv: str) -> str:
        done = subprocess.run(
            [_tool("mycel"), *argv], cwd=REPO, env=self.env, capture_output=True, text=True,
            timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, f"mycel {' '.join(argv)}: {done.stderr[-2000:]}"
        return done.stdout

    def wallet(self, name: str) -> list[str]:
        return ["--wallet.name", name, "--wallet.hotkey", "default",
                "--wallet.path", str(self.wallets)]  # fmt: skip

    def sim(self, action: str, *argv: str) -> str:
        return self.mycel("sim", action, "--chain", str(self.chain), *argv)

    def status(self) -> dict:
        return json.loads(self.sim("status", "--netuid", "1", "--json"))

    def start(self, name: str, argv: list[str]) -> subprocess.Popen:
        log = (self.tmp / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            [_tool(name), *argv], cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        self.procs.append(proc)
        return proc

    def log(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text(errors="replace")[-3000:]

    def wait(self, what: str, check, limit_s: float = 60.0):
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            for proc in self.procs:
                if proc.poll() is not None:
                    name = Path(proc.args[0]).name
                    pytest.fail(f"{name} exited {proc.returncode}:\n{self.log(name)}")
            found = check()
            if found:
                return found
            time.sleep(0.5)
        logs = "\n".join(self.log(n) for n in ("mycel-miner", "mycel-validator"))
        pytest.fail(f"{what} did not happen within {limit_s:.0f} s:\n{logs}")

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in reversed(self.procs):
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)


def _neuron(status: dict, uid: int) -> dict:
    return next(n for n in status["neurons"] if n["uid"] == uid)


def test_hand_started_miner_and_validator_earn_on_the_sim(tmp_path):
    walk = Walk(tmp_path)
    # 1. a chain whose blocks move only when asked, and the three wallets
    walk.mycel("sim", "create", str(walk.chain), "--manual", "--tempo", str(TEMPO))
    for name in ("owner", "miner", "validator"):
        walk.mycel("wallet", "create", "--devnet", *walk.wallet(name))
    # 2. a started subnet, then fast rate limits for a short walk
    assert "subnet 1 registered and started" in walk.sim("subnet", *walk.wallet("owner"))
    walk.sim("set", "--netuid", "1", "weights_rate_limit", "1")
    # 3. register both, stake the validator, one epoch hands out the permit
    assert "uid 1" in walk.sim("register", "--netuid", "1", *walk.wallet("miner"))
    assert "uid 2" in walk.sim("register", "--netuid", "1", *walk.wallet("validator"))
    walk.sim("stake", "--netuid", "1", *walk.wallet("validator"), "--amount", "100")
    walk.sim("advance", "--netuid", "1", "--epochs", "1")
    before = walk.status()
    assert _neuron(before, 2)["validator_permit"]
    assert _neuron(before, 1)["incentive"] == 0.0
    # the documented change: last_update starts at the registration block, not 0
    assert _neuron(before, 2)["last_update"] == 1

    network = ["--subtensor.network", f"sim:{walk.chain}", "--netuid", "1"]
    port = _free_port()
    try:
        walk.start("mycel-miner", [
            *network, *walk.wallet("miner"), "--axon.ip", "127.0.0.1",
            "--axon.external_ip", "127.0.0.1", "--axon.port", str(port),
            "--miner.engine", "reference", "--miner.min_stake", "0",
            "--miner.metagraph_refresh_s", "1",
        ])  # fmt: skip
        walk.wait("the miner publishing its endpoint", lambda: _neuron(walk.status(), 1)["axon"])
        walk.start("mycel-validator", [
            *network, *walk.wallet("validator"),
            "--validator.state_dir", str(tmp_path / "validator"),
            "--validator.step_interval_s", "1", "--validator.timeout_s", "8",
            "--validator.sample_size", "4", "--wandb.mode", "offline",
        ])  # fmt: skip
        set_at = before["block"]
        walk.wait(
            "the validator setting weights",
            lambda: _neuron(walk.status(), 2)["last_update"] == set_at,
            limit_s=70,
        )
    finally:
        walk.stop()
    # 4. the next epoch turns those weights into incentive, shown by `mycel sim status`
    walk.sim("advance", "--netuid", "1", "--epochs", "1")
    after = walk.status()
    miner = _neuron(after, 1)
    assert miner["incentive"] > 0.99  # the only miner with a weight takes all incentive
    assert miner["emission"] > 0
    assert _neuron(after, 2)["dividends"] > 0.99
    table = walk.sim("status", "--netuid", "1")
    row = next(line for line in table.splitlines() if line.strip("│ ").startswith("1 "))
    assert "1.0000" in row  # the miner's incentive, as the operator reads it
    assert all(proc.returncode == 0 for proc in walk.procs)  # both stopped cleanly on SIGTERM
