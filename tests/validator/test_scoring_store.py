"""Scoring rules and the SQLite score store (real SQLite files in tmp_path)."""

from __future__ import annotations

import sqlite3

import pytest

from mycel_subnet.validator.scoring import (
    TaskResult,
    mark_copies,
    miner_rewards,
    task_reward,
    time_score,
)
from mycel_subnet.validator.spec import SPEC_VERSION, spec_version
from mycel_subnet.validator.store import ScoreStore, StepRecord, read_scores


def test_reward_is_accuracy_and_speed_and_fast_garbage_earns_nothing():
    assert time_score(0.0, 10) == 1.0 and time_score(5, 10) == 0.5 and time_score(12, 10) == 0.0
    assert task_reward(1.0, 0.0, 10) == pytest.approx(1.0)
    assert task_reward(1.0, 10.0, 10) == pytest.approx(0.8)
    assert task_reward(0.5, 5.0, 10) == pytest.approx(0.5)
    assert task_reward(0.0, 0.0, 10) == 0.0


def _result(uid, key, at, accuracy=1.0, task="generate_pattern"):
    return TaskResult(uid=uid, task=task, accuracy=accuracy, latency_s=at, received_at=at,
                      content_key=key)  # fmt: skip


def test_copies_from_other_coldkeys_lose_the_later_answer_only():
    results = [_result(1, "k", 0.5), _result(2, "k", 0.2), _result(3, "k", 0.9),
               _result(4, "other", 0.1), _result(5, "k", 0.95)]  # fmt: skip
    coldkeys = {1: "c1", 2: "c2", 3: "c2", 4: "c4", 5: "c5"}
    mark_copies(results, coldkeys)
    by_uid = {r.uid: r for r in results}
    assert by_uid[2].accuracy == 1.0 and by_uid[2].copied_from is None  # earliest keeps it
    assert by_uid[1].accuracy == 0.0 and by_uid[1].copied_from == 2
    assert by_uid[3].accuracy == 1.0  # same coldkey as the earliest: one operator, not a copy
    assert by_uid[5].accuracy == 0.0 and by_uid[4].accuracy == 1.0
    rewards = miner_rewards(results, [1, 2, 3, 4, 5, 6], deadline_s=10, tasks=3)
    assert rewards[6] == 0.0 and rewards[1] == 0.0 and rewards[2] > rewards[3] > 0


def test_store_ema_follows_the_metagraph(tmp_path):
    store = ScoreStore(tmp_path / "s.sqlite", alpha=0.5)
    graph = {0: "hk0", 1: "hk1", 2: "hk2"}
    store.commit_step(StepRecord(1, 10, "seed1", 0.1, {0: 1.0, 1: 0.5}), graph)
    assert store.scores() == {0: 0.5, 1: 0.25, 2: 0.0}
    store.commit_step(StepRecord(2, 11, "seed2", 0.1, {0: 1.0, 2: 1.0}), graph)
    assert store.scores() == {0: 0.75, 1: 0.25, 2: 0.5}
    # uid 1 re-registered by a new hotkey, uid 2 left, uid 3 joined.
    store.commit_step(StepRecord(3, 12, "seed3", 0.1, {1: 1.0}), {0: "hk0", 1: "new", 3: "hk3"})
    assert store.scores() == {0: 0.75, 1: 0.5, 3: 0.0}
    assert store.hotkeys()[1] == "new"
    assert store.last_step() == 3
    store.close()
    reopened = ScoreStore(tmp_path / "s.sqlite", alpha=0.5)
    assert reopened.scores() == {0: 0.75, 1: 0.5, 3: 0.0} and reopened.last_step() == 3
    with sqlite3.connect(tmp_path / "s.sqlite") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT seed FROM steps WHERE step=2").fetchone()[0] == "seed2"
    assert read_scores(tmp_path / "s.sqlite") == reopened.scores()
    assert read_scores(tmp_path / "missing.sqlite") == {}


def test_a_failed_commit_leaves_the_previous_step_intact(tmp_path):
    store = ScoreStore(tmp_path / "s.sqlite", alpha=0.5)
    store.commit_step(StepRecord(1, 10, "a", 0.1, {0: 1.0}), {0: "hk0"})
    bad = StepRecord(2, 11, "b", 0.1, {0: "not a number"})  # type: ignore[dict-item]
    with pytest.raises(ValueError):
        store.commit_step(bad, {0: "hk0", 1: "hk1"})
    assert store.scores() == {0: 0.5} and store.last_step() == 1
    with pytest.raises(ValueError, match="alpha"):
        ScoreStore(tmp_path / "x.sqlite", alpha=0.0)


def test_spec_version_matches_pyproject(tmp_path):
    assert spec_version() == SPEC_VERSION
    custom = tmp_path / "pyproject.toml"
    custom.write_text("[tool.mycel]\nspec_version = 7\n")
    assert spec_version(custom) == 7
    bad = tmp_path / "bad.toml"
    bad.write_text("[tool.mycel]\nspec_version = 'x'\n")
    with pytest.raises(ValueError, match="spec_version"):
        spec_version(bad)
    assert spec_version(tmp_path / "nope.toml") == SPEC_VERSION
