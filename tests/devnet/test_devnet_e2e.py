"""The README's main job, end to end at CI size: `mycel devnet` with 2 miners and 2 epochs.

Everything is real: the sim chain behind the bittensor SDK, miner and validator processes talking
btauth-signed HTTP on loopback, the Yuma epoch, the NEAR mirror on the local ledger. The honest
baseline miner must come out ahead of the random one, in the validator's scores and on chain.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mycel_subnet.devnet.processes import port_is_free

REPO = Path(__file__).resolve().parents[2]
BASE_PORT = 18791


@pytest.mark.slow
def test_devnet_runs_end_to_end_and_rewards_the_honest_miner(tmp_path):
    out = tmp_path / "devnet"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "WANDB_MODE": "offline", "OMP_NUM_THREADS": "1"}
    argv = [
        sys.executable, "-m", "mycel_subnet.cli.main", "devnet",
        "--miners", "2", "--epochs", "2", "--engines", "baseline,random",
        "--tempo", "10", "--block-time", "0.5", "--base-port", str(BASE_PORT),
        "--out", str(out),
    ]  # fmt: skip
    done = subprocess.run(
        argv,
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=420,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    assert len(report["epochs"]) == 2
    assert report["queries"] > 0 and report["weight_sets"] >= 1
    by_engine = {m["engine"]: m for m in report["miners"]}
    honest, dishonest = by_engine["baseline"], by_engine["random"]
    assert honest["mean_score"] > dishonest["mean_score"]
    assert honest["incentive"] > dishonest["incentive"]
    assert honest["emission"] > 0
    assert (out / "scores.png").stat().st_size > 10_000
    assert not (out / "chain.sqlite").exists(), "the throwaway chain is removed unless kept"
    assert all(port_is_free(BASE_PORT + i) for i in range(2)), "every miner port is freed"


@pytest.mark.slow
def test_ctrl_c_stops_every_neuron_and_still_writes_the_report(tmp_path):
    import signal
    import time

    from mycel_subnet.devnet.processes import wait_for_port

    out = tmp_path / "devnet"
    base = BASE_PORT + 10
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "WANDB_MODE": "offline", "OMP_NUM_THREADS": "1"}
    argv = [
        sys.executable, "-m", "mycel_subnet.cli.main", "devnet",
        "--miners", "2", "--epochs", "50", "--engines", "baseline,random",
        "--tempo", "10", "--block-time", "0.5", "--base-port", str(base), "--out", str(out),
    ]  # fmt: skip
    devnet = subprocess.Popen(argv, cwd=REPO, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert wait_for_port(base + 1, 180), "the miners never started"
        deadline = time.monotonic() + 120
        while not (out / "validator" / "steps.jsonl").exists():  # the validator is running
            assert time.monotonic() < deadline, "the validator never recorded a step"
            time.sleep(0.5)
        devnet.send_signal(signal.SIGINT)
        code = devnet.wait(timeout=60)
    finally:
        if devnet.poll() is None:
            devnet.kill()
    assert code == 130
    assert (out / "report.json").exists()
    assert "interrupted" in json.loads((out / "report.json").read_text())["notes"][0]
    assert all(port_is_free(base + i) for i in range(2)), "every miner port is freed"
    leftover = subprocess.run(
        ["pgrep", "-f", str(out / "wallets")], capture_output=True, text=True
    ).stdout.split()
    assert leftover == [], f"neurons left running: {leftover}"
