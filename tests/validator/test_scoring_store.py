"""Scoring rules and the SQLite score store (real SQLite files in tmp_path)."""

from __future__ import annotations

import sqlite3

import pytest

from mycel_subnet.validator.duplicates import duplicate_groups, mark_duplicates
from mycel_subnet.validator.fingerprint import code_fingerprint
from mycel_subnet.validator.scoring import (
    RewardPolicy,
    TaskResult,
    miner_rewards,
    relative_reward,
    task_value,
    time_credit,
)
from mycel_subnet.validator.spec import SPEC_VERSION, spec_version
from mycel_subnet.validator.store import ScoreStore, StepRecord, read_scores

TASKS = ("evaluate_pattern", "generate_pattern", "inference")


def test_value_is_accuracy_with_time_as_a_gate_and_fast_garbage_earns_nothing():
    assert time_credit(1.0, 0.0, 10) == pytest.approx(1.0)
    assert time_credit(1.0, 5.0, 10) == pytest.approx(0.95)  # speed is only a tiebreak
    assert time_credit(1.0, 10.0, 10) == 0.0  # at or past the deadline
    assert time_credit(0.49, 0.0, 10) == 0.0  # below the accuracy bar: no credit for speed
    assert time_credit(1.0, 0.0, 0) == 0.0
    assert task_value(1.0, 0.0, 10) == pytest.approx(1.0)
    assert task_value(1.0, 12.0, 10) == pytest.approx(0.8)
    assert task_value(0.5, 5.0, 10) == pytest.approx(0.8 * 0.5 + 0.2 * 0.95)
    assert task_value(0.0, 0.0, 10) == 0.0
    assert task_value(1.7, 0.0, 10) == pytest.approx(1.0)  # accuracy is clamped


def test_rewards_are_relative_to_the_reference():
    policy = RewardPolicy(floor=0.2, below_power=3.0)
    assert relative_reward(0.6, 0.6, policy) == pytest.approx(0.2)  # the reference: the floor
    assert relative_reward(0.3, 0.6, policy) == pytest.approx(0.2 * 0.5**3)  # worse: far less
    assert relative_reward(0.8, 0.6, policy) == pytest.approx(0.2 + 0.8 * 0.5)  # better: more
    assert relative_reward(1.0, 0.6, policy) == pytest.approx(1.0)
    assert relative_reward(0.0, 0.6, policy) == 0.0
    assert relative_reward(1.0, 1.0, policy) == pytest.approx(1.0)  # the reference is capped
    with pytest.raises(ValueError, match="floor"):
        RewardPolicy(floor=1.0)
    with pytest.raises(ValueError, match="below_power"):
        RewardPolicy(below_power=0.5)


def _result(uid, task, accuracy, latency=1.0, key=None, fingerprint=None):
    return TaskResult(uid=uid, task=task, accuracy=accuracy, latency_s=latency,
                      received_at=latency, shared_key=key, fingerprint=fingerprint)  # fmt: skip


def test_miner_rewards_average_task_types_and_duplicates_split_one_reward():
    reference = dict.fromkeys(TASKS, 0.6)
    policy = RewardPolicy()
    results = [_result(uid, task, 1.0) for uid in (1, 2, 3) for task in TASKS]
    results += [_result(4, "inference", 1.0)]  # answered one task type only
    rewards = miner_rewards(results, [1, 2, 3, 4, 5], 10.0, reference, policy)
    assert all(r.value == pytest.approx(task_value(1.0, 1.0, 10.0)) for r in results)
    full = relative_reward(task_value(1.0, 1.0, 10.0), 0.6, policy)
    assert rewards[1] == rewards[2] == rewards[3] == pytest.approx(full)
    assert rewards[4] == pytest.approx(full / 3)  # a missing task type counts as 0
    assert rewards[5] == 0.0  # queried, nothing answered
    split = miner_rewards(results, [1, 2, 3, 4, 5], 10.0, reference, policy, [{1, 2}, {3, 9}])
    assert split[1] == split[2] == pytest.approx(full / 2)  # two hotkeys of one engine
    assert split[3] == pytest.approx(full)  # its partner was not queried this step
    assert split[4] == rewards[4] and split[5] == 0.0


def test_duplicates_are_miners_whose_shared_answers_all_match():
    code_a = "def solve(values):\n    return [v + 1 for v in values]\n"
    code_b = 'def solve(xs):\n    """Mine."""\n    # my own\n    return [x + 1 for x in xs]\n'
    assert code_fingerprint(code_a) == code_fingerprint(code_b)  # renamed, commented
    assert code_fingerprint(code_a) != code_fingerprint(code_a.replace("+ 1", "+ 2"))
    assert code_fingerprint("not python (") == code_fingerprint("not  python (")

    def shared(uid, scores, code):
        return [
            _result(uid, "evaluate_pattern", 0.5, key="evaluate_pattern:4", fingerprint=scores),
            _result(uid, "generate_pattern", 0.5, key="generate_pattern:5",
                    fingerprint=code_fingerprint(code)),
            _result(uid, "inference", 0.5),  # private: never compared
        ]  # fmt: skip

    results = (
        shared(1, (90, 10, 80), code_a)
        + shared(2, (89, 11, 79), code_b)  # the same engine, nudged a point: a copy
        + shared(3, (90, 10, 80), code_a.replace("+ 1", "+ 2"))  # other code: not a copy
        + shared(4, (70, 30, 50), code_a)  # other scores: not a copy
        + shared(5, (40, 40, 40), code_a)[1:]  # code only: too little to call it a copy
    )
    groups = duplicate_groups(results)
    assert groups == [{1, 2}]
    mark_duplicates(results, groups)
    assert {r.uid: r.duplicates for r in results} == {1: [2], 2: [1], 3: [], 4: [], 5: []}
    assert duplicate_groups(shared(1, (1, 2, 3), code_a) + shared(2, (5, 2, 3), code_a)) == []
    assert duplicate_groups(shared(1, (1, 2, 3), code_a) + shared(2, (4, 2, 3), code_a)) == [{1, 2}]


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


def test_store_scores_can_follow_moving_averages_of_task_values(tmp_path):
    store = ScoreStore(tmp_path / "s.sqlite", alpha=0.5)
    graph = {0: "hk0", 1: "hk1"}

    def score_of(values):
        return values["a"] + values.get("b", 0.0)

    store.commit_step(StepRecord(1, 10, "s1", 0.1, {0: 9.0}, {0: {"a": 1.0}}), graph, score_of)
    assert store.task_values() == {0: {"a": 0.5}}
    assert store.scores() == {0: 0.5, 1: 0.0}  # from the averaged values, not the reward
    store.commit_step(StepRecord(2, 11, "s2", 0.1, {0: 9.0}, {0: {"b": 1.0}}), graph, score_of)
    assert store.task_values() == {0: {"a": 0.5, "b": 0.5}}  # an absent task keeps its average
    assert store.scores()[0] == pytest.approx(1.0)
    store.commit_step(StepRecord(3, 12, "s3", 0.1, {0: 1.0}), {0: "new", 1: "hk1"})
    assert store.task_values() == {} and store.hotkeys()[0] == "new"  # a new hotkey: no history
    assert store.scores()[0] == pytest.approx(0.5)  # without values: the rewards' average
    store.close()


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
