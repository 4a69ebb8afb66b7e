"""`mycel scores`: a validator's state folder (the real score store and step log) printed as a
table with reasons, or JSON; a wrong folder is one clear line and exit 2."""

from __future__ import annotations

import json

import pytest

from mycel_subnet.cli.main import main
from mycel_subnet.validator.steplog import StepLog
from mycel_subnet.validator.store import SCORES_FILE, ScoreStore, StepRecord

HOTKEYS = {1: "5HonestMinerHotkeyAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 2: "5RefusingMinerHotkeyBBBBBBBB"}
REFUSAL = "http_error: HTTP 403 no_validator_permit: uid 0 has no validator permit"


def _task(task, accuracy, detail, errors=(), error=None):
    return {"task": task, "tier": 1, "shared": False, "accuracy": accuracy, "value": accuracy,
            "latency_s": 0.2, "detail": detail, "errors": list(errors), "duplicates": [],
            "error": error}  # fmt: skip


@pytest.fixture
def state_dir(tmp_path):
    store = ScoreStore(tmp_path / SCORES_FILE, alpha=0.5)
    log = StepLog(tmp_path)
    for step in (1, 2):
        rewards = {1: 0.8, 2: 0.0}
        scores = store.commit_step(StepRecord(step, 10 * step, "seed", 0.5, rewards), HOTKEYS)
        log.append({
            "step": step, "block": 10 * step, "rewards": {str(k): v for k, v in rewards.items()},
            "scores": {str(k): v for k, v in scores.items()}, "queries": 6,
            "query_outcomes": {"ok": 3, "http_error": 3},
            "weights": {"ok": step == 2, "status": "set" if step == 2 else "not_due",
                        "message": "included in block" if step == 2 else "rate limit",
                        "block": 10 * step, "uids": [1], "weights": [1.0], "error": None},
            "tasks": {
                "1": [_task("evaluate_pattern", 1.0, "all right"),
                      _task("inference", 0.0, "wrong answer (expected 42)")],
                "2": [_task("evaluate_pattern", 0.0, f"no answer: {REFUSAL}", [REFUSAL],
                            "http_error 403 no_validator_permit"),
                      _task("inference", 0.0, f"no answer: {REFUSAL}", [REFUSAL],
                            "http_error 403 no_validator_permit")],
            },
        })  # fmt: skip
    store.close()
    return tmp_path


def test_table_shows_scores_accuracy_failures_and_reasons(state_dir, capsys):
    assert main(["scores", "--state-dir", str(state_dir)]) == 0
    out = capsys.readouterr().out
    assert "2 step(s) recorded, last step 2 at block 20" in out
    honest = next(line for line in out.splitlines() if "5HonestMin" in line)
    assert "0.800" in honest and "1.00" in honest and "none" in honest
    refused = next(line for line in out.splitlines() if "5RefusingM" in line)
    assert "http_error 403 no_validator_permit x4" in refused
    assert "no_validator_permit" in out and "wrong answer" in out
    assert "last weights: set at block 20" in out


def test_json_has_every_miner_with_its_reasons(state_dir, capsys):
    assert main(["scores", "--state-dir", str(state_dir), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["steps"] == 2 and data["last_weights"]["status"] == "set"
    by_uid = {m["uid"]: m for m in data["miners"]}
    assert by_uid[1]["hotkey"] == HOTKEYS[1] and by_uid[1]["score"] > 0.5
    assert by_uid[1]["accuracy"] == {"evaluate_pattern": 1.0, "inference": 0.0}
    assert by_uid[1]["last_reward"] == 0.8 and by_uid[1]["errors"] == {}
    assert by_uid[2]["score"] == 0.0
    assert by_uid[2]["errors"] == {"http_error 403 no_validator_permit": 4}
    assert any("no_validator_permit" in r for r in by_uid[2]["reasons"])


@pytest.mark.parametrize("make", ["missing", "empty", "not_sqlite"])
def test_a_wrong_state_folder_is_one_line_and_exit_2(tmp_path, capsys, make):
    target = tmp_path / "state"
    if make != "missing":
        target.mkdir()
    if make == "not_sqlite":
        (target / SCORES_FILE).write_text("this is not a database\n" * 100)
    assert main(["scores", "--state-dir", str(target)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("mycel: ") and "\n" not in err and str(target) in err
