"""The validator on the embedded sim chain, with real miner services on loopback.

Only the chain node is replaced (by the sim, through the real bittensor SDK); the miners are the
real miner service (mycel_subnet.miner.app) running the real engines from mycel_subnet.engines:
the honest reference SolverEngine (the PatternEngine without a model behind it) and the
deliberately weak or dishonest demo engines.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path

import pytest

from mycel_subnet.chain.port import ChainPort
from mycel_subnet.chain.sim import admin
from mycel_subnet.chain.sim.chain import SimChain
from mycel_subnet.chain.types import ChainErrorKind
from mycel_subnet.config import NearSettings
from mycel_subnet.devnet import validator_state
from mycel_subnet.engines.demo import ConstantEngine, CopierEngine, RandomEngine, SlowEngine
from mycel_subnet.engines.pattern_engine import PatternEngine
from mycel_subnet.engines.solver import REFERENCE, SEARCH, SolverEngine
from mycel_subnet.validator.challenges import build_round
from mycel_subnet.validator.loop import Validator, ValidatorConfig
from mycel_subnet.validator.mirror import build_mirror
from mycel_subnet.validator.scoring import RewardPolicy, relative_reward, task_value
from mycel_subnet.validator.spec import spec_version
from tests.validator.servers import miner_app, serve

TIMEOUT_S = 6.0
SLOW_S = 0.6 * TIMEOUT_S


def _honest(budget=REFERENCE):
    return SolverEngine(budget, PatternEngine(None, None, use_presidio=False))


def _engines():
    """The honest miner does more work than the shipped reference; "slow" and "copier" both
    run the reference (so they are one engine behind two hotkeys)."""
    return {
        "honest": _honest(SEARCH),
        "random": RandomEngine(seed=3),
        "constant": ConstantEngine(),
        "slow": SlowEngine(_honest(), SLOW_S),
        "copier": CopierEngine(_honest()),
    }


def _register(path, netuid, wallet) -> ChainPort:
    port = ChainPort(f"sim:{path}", netuid, wallet)
    result = port.register()
    assert result.ok, result.message
    return port


def _validator(path, netuid, wallet, state_dir: Path, alpha: float = 0.5) -> Validator:
    config = ValidatorConfig(
        sample_size=16, timeout_s=TIMEOUT_S, step_interval_s=0.0, alpha=alpha,
        max_response_bytes=1_048_576, state_dir=state_dir, version_key=spec_version(),
    )  # fmt: skip
    chain = ChainPort(f"sim:{path}", netuid, wallet)
    return Validator(config, wallet=wallet, chain=chain,
                     mirror=build_mirror(state_dir, NearSettings()))  # fmt: skip


def _chain_weights(path, netuid, uid) -> dict[int, float]:
    sim = SimChain(path)
    with sim.store.read() as conn:
        row = conn.execute(
            "SELECT row FROM weights WHERE netuid=? AND uid=?", (netuid, uid)
        ).fetchone()
    return {} if row is None else {int(u): float(v) for u, v in json.loads(row["row"])}


def test_honest_miner_wins_and_weights_land_on_chain(devnet, tmp_path):
    path, netuid, make_wallet = devnet
    val_wallet = make_wallet("val", tao=30)
    val_port = _register(path, netuid, val_wallet)
    assert val_port.add_stake(20).ok
    vkey = val_wallet.hotkey.ss58_address
    uids: dict[str, int] = {}
    with contextlib.ExitStack() as stack:
        for name, engine in _engines().items():
            wallet = make_wallet(f"m_{name}", tao=5)
            port = _register(path, netuid, wallet)
            http_port = stack.enter_context(serve(miner_app(wallet, engine, vkey)))
            assert port.serve_axon("127.0.0.1", http_port).ok
            uids[name] = port.my_uid()
        admin.advance_blocks(path, 10)  # an epoch: the staked validator gets its permit
        validator = _validator(path, netuid, val_wallet, tmp_path / "state")
        first = asyncio.run(validator.step())
        assert first.weights.status == "set", first.weights.message
        landed = _chain_weights(path, netuid, val_port.my_uid())
        assert landed and max(landed, key=landed.get) in {uids["honest"], uids["copier"],
                                                         uids["slow"]}  # fmt: skip

        second = asyncio.run(validator.step())  # same block: our own check holds it back
        assert second.weights.status == "not_due"
        graph, hp = validator.chain.metagraph(), validator.chain.hyperparameters()
        forced = validator.weights.attempt(graph, hp, second.scores, graph.block, force=True)
        assert forced.status == "failed" and forced.error is ChainErrorKind.RATE_LIMITED
        assert "rate" in forced.message.lower() or "too fast" in forced.message.lower()
        assert validator.store.scores() == second.scores  # a refusal never clears scores

        admin.advance_blocks(path, 5)
        third = asyncio.run(validator.step())
        assert third.weights.status == "set", third.weights.message
    scores = third.scores
    honest = scores[uids["honest"]]
    for name in ("random", "constant", "slow", "copier"):
        assert honest > scores[uids[name]], (name, scores, uids)
    assert scores[val_port.my_uid()] == 0.0  # never queries itself
    # What the devnet's live view reads from the state dir (mycel_subnet.devnet.validator_state).
    state = tmp_path / "state"
    steps = [json.loads(line) for line in (state / "steps.jsonl").read_text().splitlines()]
    _check_step_accounting(steps, uids)
    summaries = validator_state.miner_summaries(state)
    assert summaries[uids["copier"]].duplicate_steps == 3, summaries[uids["copier"]]
    assert summaries[uids["slow"]].duplicate_steps == 3
    assert all(summaries[uids[n]].duplicate_steps == 0 for n in ("honest", "random", "constant"))
    accuracy = summaries[uids["honest"]].accuracy
    assert set(accuracy) == set(steps[-1]["reference"]) and sum(accuracy.values()) / 3 > 0.4
    activity = validator_state.activity(state)
    requests = sum(len(c.requests) for c in build_round("count").for_miner(0))
    assert activity.weight_sets == 2 and activity.queries == 3 * 5 * requests
    assert validator_state.scores(state) == pytest.approx(scores, abs=1e-6)
    honest_hotkey = graph.by_uid(uids["honest"]).hotkey
    mirrored = validator_state.near_rewards(state)
    expected = first.scores[uids["honest"]] + third.scores[uids["honest"]]
    assert mirrored[honest_hotkey] == pytest.approx(expected, abs=1e-5)
    local_log = (state / "near_rewards.jsonl").read_text().splitlines()
    assert len(local_log) == 2  # the local reward mirror recorded both weight settings
    validator.close()


def _check_step_accounting(steps: list[dict], uids: dict[str, int]) -> None:
    """Each logged reward follows from the logged values and floor: the mean over task types
    of the reward relative to the reference, split within a duplicate group; the slow miner's
    values carry less time credit."""
    pair = {uids["slow"], uids["copier"]}
    for step in steps:
        reference = step["reference"]
        assert set(reference) == {"evaluate_pattern", "generate_pattern", "inference"}
        groups = [set(g) for g in step["duplicate_groups"]]
        # slow and copier run one engine: always one group. On a loaded machine the honest
        # engine's time-bounded search can find nothing better than the reference on both shared
        # instances, and then it rightly joins them; random and constant never do.
        assert len(groups) == 1 and pair <= groups[0] <= pair | {uids["honest"]}, groups
        group = groups[0]
        for uid_text, entries in step["tasks"].items():
            uid = int(uid_text)
            per_task: dict[str, list[float]] = {}
            for entry in entries:
                per_task.setdefault(entry["task"], []).append(entry["value"])
            own = sum(
                relative_reward(sum(v) / len(v), reference[task], RewardPolicy())
                for task, v in per_task.items()
            ) / len(reference)
            share = len(group) if uid in group else 1
            assert step["rewards"][uid_text] == pytest.approx(own / share, abs=2e-3), uid
        for entry in step["tasks"][str(uids["slow"])]:
            assert entry["latency_s"] >= SLOW_S
            best = task_value(entry["accuracy"], SLOW_S, TIMEOUT_S)
            assert entry["value"] <= best + 1e-3, entry


def test_cannot_set_weights_is_explained_and_a_new_hotkey_starts_from_zero(devnet, tmp_path):
    path, netuid, make_wallet = devnet
    miner_wallet = make_wallet("early_miner", tao=5)
    miner_port = _register(path, netuid, miner_wallet)  # registered first: pruned first
    val_wallet = make_wallet("val", tao=10)
    _register(path, netuid, val_wallet)
    vkey = val_wallet.hotkey.ss58_address
    with serve(miner_app(miner_wallet, _honest(), vkey)) as http_port:
        assert miner_port.serve_axon("127.0.0.1", http_port).ok
        uid = miner_port.my_uid()
        validator = _validator(path, netuid, val_wallet, tmp_path / "state")
        first = asyncio.run(validator.step())
    assert first.scores[uid] > 0
    assert first.weights.status == "cannot" and "no validator permit" in first.weights.message

    n = validator.chain.metagraph().n
    admin.set_hyperparameter(path, netuid, "max_allowed_uids", n)
    admin.set_hyperparameter(path, netuid, "immunity_period", 0)
    newcomer = make_wallet("newcomer", tao=5)
    _register(path, netuid, newcomer)
    graph = validator.chain.metagraph()
    assert graph.by_uid(uid).hotkey == newcomer.hotkey.ss58_address  # the uid changed hands
    second = asyncio.run(validator.step())
    assert second.scores[uid] == 0.0
    assert validator.store.hotkeys()[uid] == newcomer.hotkey.ss58_address
    validator.close()
