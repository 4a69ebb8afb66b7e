"""The validator as the devnet runs it: `python -m neurons.validator` in a subprocess.

kill -9 mid-step keeps every committed score and the restarted process continues the moving
averages from them; a second validator on the same hotkey is refused with exit code 5; bad
configuration and an unregistered hotkey are one-line errors with their exit codes.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mycel_subnet.chain.port import ChainPort
from mycel_subnet.engines.pattern_engine import PatternEngine
from mycel_subnet.engines.solver import REFERENCE, SolverEngine
from mycel_subnet.validator.scoring import SHARE, RewardPolicy, score_from_values
from mycel_subnet.validator.steplog import read_steps
from tests.validator.servers import miner_app, serve

REPO = Path(__file__).resolve().parents[2]
ALPHA = 0.5


def _env() -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
            "WANDB_MODE": "offline", "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}  # fmt: skip


def _argv(path, netuid, wallets_dir, state_dir, name="val", *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "neurons.validator",
        "--subtensor.network", f"sim:{path}", "--netuid", str(netuid),
        "--wallet.name", name, "--wallet.hotkey", "hot", "--wallet.path", str(wallets_dir),
        "--validator.state_dir", str(state_dir), "--validator.step_interval_s", "0.01",
        "--validator.timeout_s", "4", "--validator.sample_size", "4",
        "--validator.moving_average_alpha", str(ALPHA), *extra,
    ]  # fmt: skip


def _start(argv: list[str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(argv, cwd=REPO, env=_env(), stdout=log.open("ab"),
                            stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip


def _wait_steps(state_dir: Path, count: int, proc: subprocess.Popen, log: Path, limit=120.0):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if len(read_steps(state_dir)) >= count:
            return read_steps(state_dir)
        if proc.poll() is not None:
            pytest.fail(f"validator exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        time.sleep(0.1)
    pytest.fail(f"no {count} steps within {limit}s:\n{log.read_text()[-3000:]}")


def _db_state(state_dir: Path) -> tuple[int, dict[int, float], dict[int, dict[str, float]], str]:
    """The last committed step, the scores, the per-task moving averages and the integrity."""
    with sqlite3.connect(state_dir / "scores.sqlite") as conn:
        ok = conn.execute("PRAGMA integrity_check").fetchone()[0]
        step = conn.execute("SELECT MAX(step) FROM steps").fetchone()[0]
        scores = dict(conn.execute("SELECT uid, score FROM scores").fetchall())
        values: dict[int, dict[str, float]] = {}
        for uid, task, value in conn.execute("SELECT uid, task, value FROM task_values"):
            values.setdefault(int(uid), {})[task] = float(value)
    return int(step), scores, values, ok


def _step_values(step: dict, uid: str) -> dict[str, float]:
    """A lone miner's values in a logged step: the mean value per task type (0 unanswered)."""
    per_task: dict[str, list[float]] = {}
    for entry in step["tasks"].get(uid, []):
        per_task.setdefault(entry["task"], []).append(entry["value"])
    values = {t: sum(per_task[t]) / len(per_task[t]) if t in per_task else 0.0
              for t in step["reference"]}  # fmt: skip
    return {**values, SHARE: 1.0}


def test_kill_9_mid_step_keeps_scores_and_a_second_validator_is_locked_out(devnet, tmp_path):
    path, netuid, make_wallet = devnet
    val = make_wallet("val", tao=10)
    assert ChainPort(f"sim:{path}", netuid, val).register().ok
    miner = make_wallet("miner", tao=5)
    miner_port = ChainPort(f"sim:{path}", netuid, miner)
    assert miner_port.register().ok
    uid = str(miner_port.my_uid())
    wallets_dir = Path(val.path).expanduser()
    state = tmp_path / "state"
    log = tmp_path / "validator.log"
    engine = SolverEngine(REFERENCE, PatternEngine(None, None, use_presidio=False))
    with serve(miner_app(miner, engine, val.hotkey.ss58_address)) as http_port:
        assert miner_port.serve_axon("127.0.0.1", http_port).ok
        argv = _argv(path, netuid, wallets_dir, state, "val", "--wandb.mode", "offline")
        first = _start(argv, log)
        try:
            _wait_steps(state, 2, first, log)
            second = subprocess.run(argv, cwd=REPO, env=_env(), capture_output=True, text=True,
                                    timeout=120)  # fmt: skip
            assert second.returncode == 5, second.stderr[-2000:]
            assert "already runs with this hotkey" in second.stderr
            time.sleep(0.3)  # mid-step: step_interval_s is 0.01, so it is nearly always in a step
            os.killpg(first.pid, signal.SIGKILL)
            first.wait(timeout=10)
        finally:
            if first.poll() is None:
                os.killpg(first.pid, signal.SIGKILL)
                first.wait()
        killed_step, killed_scores, killed_values, integrity = _db_state(state)
        assert integrity == "ok"
        logged = read_steps(state)
        assert killed_step >= logged[-1]["step"]  # jsonl is written after the commit
        assert killed_scores[int(uid)] > 0
        before = killed_values[int(uid)]
        assert set(before) == {*logged[-1]["reference"], SHARE}

        restarted = _start(argv, log)
        try:
            steps = _wait_steps(state, len(logged) + 1, restarted, log)
            os.killpg(restarted.pid, signal.SIGTERM)  # graceful stop
            assert restarted.wait(timeout=60) == 0
        finally:
            if restarted.poll() is None:
                os.killpg(restarted.pid, signal.SIGKILL)
                restarted.wait()
    resumed = next(s for s in steps if s["step"] == killed_step + 1)
    # The restarted validator folds its first step into the averages the killed one committed.
    new = _step_values(resumed, uid)
    averaged = {t: ALPHA * v + (1 - ALPHA) * before.get(t, 0.0) for t, v in new.items()}
    expected = score_from_values(averaged, resumed["reference"], RewardPolicy())
    assert resumed["scores"][uid] == pytest.approx(expected, abs=2e-3)
    fresh = score_from_values({t: ALPHA * v for t, v in new.items()}, resumed["reference"],
                              RewardPolicy())  # fmt: skip
    assert abs(fresh - expected) > 1e-3  # it did not start over from nothing
    assert "validator stopped" in log.read_text()


def test_exit_codes_for_bad_config_and_unregistered_hotkey(devnet, tmp_path):
    path, netuid, make_wallet = devnet
    stranger = make_wallet("stranger", tao=1)
    wallets_dir = Path(stranger.path).expanduser()
    bad = subprocess.run(
        _argv(path, netuid, wallets_dir, tmp_path / "s", "stranger", "--validator.timeout_s",
              "-1"), cwd=REPO, env=_env(), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert bad.returncode == 2 and "validator.timeout_s" in bad.stderr
    assert "Traceback" not in bad.stderr
    unregistered = subprocess.run(
        _argv(path, netuid, wallets_dir, tmp_path / "s", "stranger", "--wandb.mode", "disabled"),
        cwd=REPO, env=_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert unregistered.returncode == 3, unregistered.stderr[-2000:]
    assert "not registered" in unregistered.stderr and "Traceback" not in unregistered.stderr
    missing = subprocess.run(
        _argv(path, netuid, wallets_dir, tmp_path / "s", "nobody", "--wandb.mode", "disabled"),
        cwd=REPO, env=_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert missing.returncode == 2 and "no hotkey file" in missing.stderr


def test_steps_jsonl_lines_are_json(tmp_path):
    """A line cut short by a crash is skipped, not fatal, for readers of the state dir."""
    (tmp_path / "steps.jsonl").write_text(json.dumps({"step": 1}) + '\n{"step": 2, "blo')
    assert read_steps(tmp_path) == [{"step": 1}]
