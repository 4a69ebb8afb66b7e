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


ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "WANDB_MODE": "offline", "OMP_NUM_THREADS": "1"}


def _devnet(*flags: str) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-m", "mycel_subnet.cli.main", "devnet", "--tempo", "10",
            "--block-time", "0.5", "--base-port", str(BASE_PORT), *flags]  # fmt: skip
    done = subprocess.run(argv, cwd=REPO, env=ENV, capture_output=True, text=True, timeout=420)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def _steps(out: Path) -> list[dict]:
    lines = (out / "validator" / "steps.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def _refusals(step: dict) -> list[str]:
    """Every failed query of a step that a miner refused (HTTP 4xx), with its uid."""
    return [
        f"uid {uid}: {error}"
        for uid, entries in step["tasks"].items()
        for entry in entries
        for error in entry["errors"]
        if error.startswith("http_error: HTTP 4")
    ]


@pytest.mark.slow
def test_devnet_runs_end_to_end_and_a_chain_rerun_reports_only_its_own_miners(tmp_path):
    chain = tmp_path / "kept" / "chain.sqlite"
    out = tmp_path / "devnet"
    first = _devnet("--miners", "3", "--epochs", "2", "--engines", "baseline,random,constant",
                    "--out", str(out), "--chain", str(chain))  # fmt: skip
    report = json.loads((out / "report.json").read_text())
    assert len(report["epochs"]) == 2
    assert report["queries"] > 0 and report["weight_sets"] >= 1
    by_engine = {m["engine"]: m for m in report["miners"]}
    honest, dishonest = by_engine["baseline"], by_engine["random"]
    assert honest["mean_score"] > dishonest["mean_score"]
    assert honest["incentive"] > dishonest["incentive"]
    assert honest["emission"] > 0
    assert (out / "scores.png").stat().st_size > 10_000
    steps = _steps(out)
    # Every miner saw the validator's permit before its first query: nothing refused, ever.
    assert _refusals(steps[0]) == [], _refusals(steps[0])
    assert all(_refusals(step) == [] for step in steps)
    assert report["steps"] and report["steps"][0]["rewards"], "per-step points for the chart"
    assert "NEAR reward total" in first.stdout and "report:" in first.stdout
    assert "epochs" in first.stderr, "progress lines when the output is not a terminal"
    assert all(port_is_free(BASE_PORT + i) for i in range(3)), "every miner port is freed"
    assert chain.exists(), "--chain keeps the chain"
    uids = {m["engine"]: m["uid"] for m in report["miners"]}

    # A rerun on the same chain with fewer miners: the same keys, the same uids; the third
    # miner's uid is stale and is withdrawn, not queried and not in the table.
    out2 = tmp_path / "rerun"
    _devnet("--miners", "2", "--epochs", "1", "--engines", "baseline,random", "--out", str(out2),
            "--chain", str(chain))  # fmt: skip
    rerun = json.loads((out2 / "report.json").read_text())
    assert {m["engine"]: m["uid"] for m in rerun["miners"]} == {
        "baseline": uids["baseline"], "random": uids["random"]
    }  # fmt: skip
    assert all(m["steps"] > 0 and m["accuracy"] for m in rerun["miners"]), rerun["miners"]
    stale = uids["constant"]
    assert any(f"uid {stale} " in note and "withdrawn" in note for note in rerun["notes"])
    for step in _steps(out2):
        assert str(stale) not in step["tasks"], "the stale uid is never queried"
        assert _refusals(step) == []
    by_engine = {m["engine"]: m for m in rerun["miners"]}
    assert by_engine["baseline"]["mean_score"] > by_engine["random"]["mean_score"]


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
    # Its own session, so a failed run can kill the whole group (miners, validator) and leave no
    # neuron holding the ports for the next test.
    devnet = subprocess.Popen(
        argv, cwd=REPO, env=env, stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        assert wait_for_port(base + 1, 180), "the miners never started"
        deadline = time.monotonic() + 120
        while not (out / "validator" / "steps.jsonl").exists():  # the validator is running
            assert time.monotonic() < deadline, "the validator never recorded a step"
            time.sleep(0.5)
        devnet.send_signal(signal.SIGINT)
        code = devnet.wait(timeout=120)  # generous: a loaded 2-core machine stops slowly
    finally:
        if devnet.poll() is None:
            os.killpg(devnet.pid, signal.SIGKILL)
    assert code == 130
    assert (out / "report.json").exists()
    assert "interrupted" in json.loads((out / "report.json").read_text())["notes"][0]
    assert all(port_is_free(base + i) for i in range(2)), "every miner port is freed"
    assert not (out / "chain.sqlite").exists(), "the throwaway chain is removed unless kept"
    leftover = subprocess.run(
        ["pgrep", "-f", str(out / "wallets")], capture_output=True, text=True
    ).stdout.split()
    assert leftover == [], f"neurons left running: {leftover}"
