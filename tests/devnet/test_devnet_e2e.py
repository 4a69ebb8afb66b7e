"""The README's main job, end to end at CI size: `mycel devnet` with 3 miners and 2 epochs.

Everything is real: the sim chain behind the bittensor SDK, miner and validator processes talking
btauth-signed HTTP on loopback, the Yuma epoch, the NEAR mirror on the local ledger. The honest
baseline miner must come out ahead of the random one, in the validator's scores and on chain.
The collective loop runs too, and is checked on the ledger itself, not only in the report:
instances publish (deposits paid), miners index, the validator verifies and attests and
quarantines the poisoner's unsafe pattern, search tasks run, bob finds a pattern through the
gateway and buys it, its creator earns, and the bound miner's rewards reach its NEAR account.
"""

from __future__ import annotations

import json
import os
import re
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
    _check_the_collective_loop(out, report, first.stdout)

    # A rerun on the same chain with fewer miners: the same keys, the same uids; the third
    # miner's uid is stale and is withdrawn, not queried and not in the table. (Without the
    # collective loop, which the first run covered.)
    out2 = tmp_path / "rerun"
    _devnet("--miners", "2", "--epochs", "1", "--engines", "baseline,random", "--out", str(out2),
            "--chain", str(chain), "--no-collective")  # fmt: skip
    rerun = json.loads((out2 / "report.json").read_text())
    assert rerun["registry"] is None and not (out2 / "home").exists()
    assert all("search_patterns" not in m["accuracy"] for m in rerun["miners"])
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


def _check_the_collective_loop(out: Path, report: dict, stdout: str) -> None:
    from mycel_subnet.devnet.near_world import LEDGER_BELOW_HOME, account
    from mycel_subnet.devnet.synthetic import synthetic_patterns
    from mycel_subnet.near.ledger import DEFAULT_REGISTRY, DEFAULT_REPUTATION, LocalLedger

    registry = report["registry"]
    organic = registry["organic"]
    assert registry["problems"] == [], registry["problems"]
    published = len(synthetic_patterns(account("seeder"))) + 3 + 1
    assert registry["published"] == published and registry["deposits_yocto"] != "0"
    ledger_path = out / "home" / LEDGER_BELOW_HOME
    with LocalLedger(ledger_path) as ledger:
        config = ledger.view(DEFAULT_REGISTRY, "get_config", {})
        assert config["next_id"] == published + 1
        entries = {i: ledger.view(DEFAULT_REGISTRY, "get_pattern", {"pattern_id": i})
                   for i in range(1, published + 1)}  # fmt: skip
        bought = organic["bought"]
        target = entries[bought["near_id"]]
        poison = entries[registry["poisoned"]]
        listed = ledger.view(DEFAULT_REGISTRY, "find_patterns",
                             {"domain": "coding", "min_reputation": 0, "limit": 100})  # fmt: skip
        bound = ledger.view(DEFAULT_REPUTATION, "get_reputation",
                            {"account": organic["bound"]["account"]})  # fmt: skip
        binding = ledger.view(DEFAULT_REPUTATION, "get_binding",
                              {"hotkey": organic["bound"]["hotkey"]})  # fmt: skip
    # verified with an attested quality, by the validator's NEAR account
    verified = [e for e in entries.values() if e["status"] == "verified"]
    assert len(verified) == registry["verified"] >= 1
    assert any(e["attested_quality_ppm"] > 0 and e["attestations"] >= 1 for e in verified)
    assert target["status"] == "verified" and target["attested_quality_ppm"] > 0
    # the poisoner's unsafe code: quarantined with the reason, hidden, and not for sale
    assert poison["creator"] == account("mallory") and poison["status"] == "quarantined"
    assert "unsafe" in poison["quarantine_reason"] and "os.system" in poison["quarantine_reason"]
    assert registry["poisoned"] not in {p["id"] for p in listed["patterns"]}
    assert target["id"] in {p["id"] for p in listed["patterns"]}
    assert organic["quarantine"]["in_instance_find"] is False
    assert "quarantined" in organic["quarantine"]["buy_refused"]
    assert poison["usage_count"] == 0 and int(poison["total_earned"]) == 0
    # the broken synthetic code is attested, at the bottom
    broken = entries[registry["broken"]]
    if broken["attestations"]:
        assert broken["attested_quality_ppm"] == 0 and broken["status"] == "verified"
    # found and bought through the gateway, run, rated; the creator earned
    assert organic["gateway"] and bought["near_id"] in {g["near_id"] for g in organic["gateway"]}
    assert "gateway" in bought["source"] and bought["correct"] and bought["paid"] > 0
    assert target["usage_count"] == 1 and int(target["total_earned"]) == bought["paid"]
    assert bought["creator"] == account("alice") == target["creator"]
    assert organic["earnings"]["net"] == bought["creator_share"] > 0
    assert organic["rated"]["near_rated"] and target["rating_count"] == 1
    assert int(registry["earned_yocto"]) == bought["creator_share"]
    assert organic["refusals"] == {"no key": "401 missing_credentials",
                                   "forged key": "401 invalid_api_key"}  # fmt: skip
    # the bound miner's validator rewards reached its NEAR account, not its hotkey
    assert binding["account"] == organic["bound"]["account"] == account("miner0")
    assert bound["reward_epochs"] >= 1 and bound["reward_ema_ppm"] > 0
    assert bound["composite_ppm"] > 0 and organic["bound"]["hotkey_reward_epochs"] == 0
    # search tasks ran; the honest index beats the miners that keep none
    assert registry["search_steps"] >= 1
    acc = {m["engine"]: m["accuracy"].get("search_patterns") for m in report["miners"]}
    assert acc["baseline"] >= 0.9 and acc["random"] == acc["constant"] == 0.0
    assert "search acc" in stdout and "Registry activity" in stdout
    # the gateway key the devnet issued is in no output, no log and no state file
    key = re.compile(rb"mgw_[0-9a-f]{12}_[A-Za-z0-9_-]{43}")
    assert not key.search(stdout.encode())
    leaks = [f for f in out.rglob("*") if f.is_file() and key.search(f.read_bytes())]
    assert leaks == [], leaks


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
