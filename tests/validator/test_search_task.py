"""The search task pays for a synced, exact index and nothing else: an honest index scores
recall@10 >= 0.95; random ids, the same ids every time, made-up ids, an index that ignores the
snapshot, a replay of another query's answer and the registry's top patterns by reputation all
score far below it; the miner answers over a real uvicorn server; a validator step with too few
registry patterns has no search task and says so.

Real components throughout: patterns registered on the local NEAR ledger, metadata in a
LocalContentStore, the real MiniLM model from its wheel, real signed HTTP. `MemoEmbedder` only
remembers the model's vectors per text, so the miner's and the validator's indexes (each
synced on its own) do not pay twice for the same 1,000 embeddings on this 2-core machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import statistics
import threading

import httpx
import numpy as np
import pytest

from mycel_subnet.chain.port import ChainPort
from mycel_subnet.chain.sim import admin
from mycel_subnet.intelligence.embeddings import MiniLMEmbedder
from mycel_subnet.miner.metagraph_cache import MetagraphCache
from mycel_subnet.patterns.registry_index import RegistryIndex
from mycel_subnet.patterns.registry_sync import RegistrySync
from mycel_subnet.validator.challenges import search as S
from mycel_subnet.validator.challenges.checker import SandboxChecker
from mycel_subnet.validator.challenges.rng import derive
from mycel_subnet.validator.challenges.round import SEARCH_TASK, build_round, draw_tier
from mycel_subnet.validator.forward import MinerTarget, run_round
from mycel_subnet.validator.loop import Validator, ValidatorConfig
from mycel_subnet.validator.scoring import (
    RewardPolicy,
    TaskResult,
    miner_rewards,
    par_reward,
    relative_reward,
    score_from_values,
    task_value,
)
from mycel_subnet.validator.search_task import SearchTask
from mycel_subnet.validator.spec import spec_version
from protocol import ClaySynapse, SearchPatternsRequest, SearchPatternsResult
from tests.miner.harness import make_hotkey, running_miner, snapshot_with
from tests.patterns.registry_world import make_world
from tests.validator.search_cheaters import (
    Honest,
    IgnoresDomain,
    IgnoresUpto,
    MadeUp,
    RandomIds,
    Replay,
    SameIds,
    TopReputation,
    registry_hashes,
)

N = 1000
CHALLENGES = 30
REGISTRY = "local:registry.mycel.test"
POLICY = RewardPolicy()


class MemoEmbedder:
    """The MiniLM model, remembering each text's vector (see the module docstring)."""

    dim = 384

    def __init__(self) -> None:
        self.model = MiniLMEmbedder()
        self.memo: dict[str, np.ndarray] = {}
        self.lock = threading.Lock()

    def embed(self, texts: list[str]) -> np.ndarray:
        with self.lock:
            todo = list(dict.fromkeys(t for t in texts if t not in self.memo))
            if todo:
                self.memo.update(zip(todo, self.model.embed(todo), strict=True))
            return np.stack([self.memo[t] for t in texts]) if texts else np.zeros((0, 384))


class Registry:
    def __init__(self, root) -> None:
        import torch

        torch.set_num_threads(1)
        self.world = make_world(root / "world")
        self.world.populate(N)
        self.model = MemoEmbedder()
        self.validator = self._synced(root / "validator.sqlite")
        self.miner = self._synced(root / "miner.sqlite")
        self.snapshot = S.SearchSnapshot.of(self.validator)
        self.hashes = registry_hashes(self.world.ledger)

    def _synced(self, path) -> RegistryIndex:
        index = RegistryIndex(path, self.model, registry=REGISTRY)
        report = asyncio.run(RegistrySync(index, self.world.reader(), self.world.store).sync_once())
        assert report.indexed == N and report.error is None, report.line()
        return index

    def challenges(self, label: str = "test", count: int = CHALLENGES):
        out = []
        for i in range(count):
            rng = derive(label, i)
            out.append(S.build(rng, draw_tier(rng), self.snapshot))
        return out


@pytest.fixture(scope="module")
def registry(tmp_path_factory) -> Registry:
    reg = Registry(tmp_path_factory.mktemp("search"))
    yield reg
    reg.world.close()


def _closed(challenge) -> dict:
    fn = challenge.scorer
    return dict(
        zip(fn.__code__.co_freevars, (c.cell_contents for c in fn.__closure__), strict=True)
    )


def _answer(searcher, challenge) -> list:
    return [searcher(request) for request in challenge.requests]


def _scores(searcher, challenges) -> tuple[float, float]:
    """(mean accuracy, mean recall@10) of `searcher` over `challenges`."""
    accuracies, recalls = [], []
    for challenge in challenges:
        results = _answer(searcher, challenge)
        accuracies.append(challenge.grade(results, None).accuracy)
        closed = _closed(challenge)
        for result, spec, vector, truth in zip(
            results, closed["specs"], closed["vectors"], closed["truths"], strict=True
        ):
            grade = S.grade_query(list(result.pattern_ids), truth, vector, closed["index"], spec)
            recalls.append(grade.recall)
    return statistics.mean(accuracies), statistics.mean(recalls)


def _reward(accuracy: float, reference_accuracy: float = 1.0) -> float:
    """The par reward of a mean accuracy answered in 50 ms, against the validator's own."""
    ref = task_value(reference_accuracy, 0.005, 12.0)
    return par_reward(task_value(accuracy, 0.05, 12.0), ref, POLICY)


# --- the "done when" -------------------------------------------------------------------------


def test_an_honest_index_scores_recall_at_10_of_at_least_095(registry):
    challenges = registry.challenges()
    accuracy, recall = _scores(Honest(registry.miner), challenges)
    assert recall >= 0.95 and accuracy >= 0.95, (recall, accuracy)
    assert _reward(accuracy) == pytest.approx(POLICY.floor, abs=0.01)
    # the test can fail: the same grader gives a half-synced index what it misses
    half = RegistryIndex(registry.miner.path.with_name("half.sqlite"), registry.model,
                         registry=REGISTRY)  # fmt: skip
    asyncio.run(RegistrySync(half, registry.world.reader(), registry.world.store)
                .sync_once(max_entries=N // 2))  # fmt: skip
    partial, _ = _scores(Honest(half), challenges)
    assert 0.2 < partial < 0.9


@pytest.mark.parametrize("cheat", ["random-ids", "same-ids"])
def test_random_ids_or_the_same_ids_every_time_score_at_most_005(registry, cheat):
    searcher = {"random-ids": RandomIds, "same-ids": SameIds}[cheat](registry.hashes)
    accuracy, recall = _scores(searcher, registry.challenges())
    assert accuracy <= 0.05 and recall <= 0.05, (accuracy, recall)


@pytest.mark.parametrize(
    ("cheat", "at_most"),
    [("made-up", 0.0), ("ignores-upto", 0.65), ("replay", 0.1), ("top-reputation", 0.05),
     ("ignores-domain", 0.93)],
)  # fmt: skip
def test_cheaters_score_well_below_an_honest_index(registry, cheat, at_most):
    index = registry.miner
    searcher = {
        "made-up": lambda: MadeUp(), "ignores-upto": lambda: IgnoresUpto(index),
        "replay": lambda: Replay(index), "top-reputation": lambda: TopReputation(registry.hashes),
        "ignores-domain": lambda: IgnoresDomain(index),
    }[cheat]()  # fmt: skip
    challenges = registry.challenges()
    honest, _ = _scores(Honest(index), challenges)
    accuracy, _ = _scores(searcher, challenges)
    assert accuracy <= at_most < honest, (cheat, accuracy, honest)
    if cheat != "ignores-domain":  # the rest lose most of the task's reward
        assert _reward(accuracy) < 0.5 * _reward(honest), (cheat, accuracy)


def test_made_up_and_out_of_snapshot_ids_are_named_in_the_grade(registry):
    challenges = registry.challenges("named", 10)
    made_up = challenges[0].grade(_answer(MadeUp(), challenges[0]), None)
    assert made_up.accuracy == 0.0 and f"{3 * S.K} ids not in the registry index" in made_up.detail
    cut = next(c for c in challenges if c.requests[0].registry_upto < registry.snapshot.upto)
    upto = cut.requests[0].registry_upto
    late = [p.pattern_hash for p in registry.snapshot.patterns if p.registry_id >= upto]
    answer = SearchPatternsResult(pattern_ids=late[: S.K])
    grade = cut.grade([answer, None, None], None)
    assert grade.accuracy == 0.0 and f"{S.K} ids outside the snapshot" in grade.detail
    assert "2 unanswered" in grade.detail


# --- fresh queries ---------------------------------------------------------------------------


def test_queries_are_fresh_per_miner_and_per_step(registry):
    def texts(seed: str, uid: int) -> set[str]:
        round_ = build_round(seed, registry.snapshot)
        return {r.query for c in round_.private(uid) if c.task == SEARCH_TASK for r in c.requests}

    a, b, other_step = texts("s" * 32, 1), texts("s" * 32, 2), texts("t" * 32, 1)
    assert len(a) == S.QUERIES and not a & b and not a & other_step
    assert texts("s" * 32, 1) == a  # the same seed rebuilds the same queries
    triggers = {p.trigger.lower() for p in registry.snapshot.patterns}
    challenges = registry.challenges("fresh", 20)
    queries = [r.query.lower() for c in challenges for r in c.requests]
    assert sum(q in triggers for q in queries) <= len(queries) // 10
    uptos = [r.registry_upto for c in challenges for r in c.requests]
    assert min(uptos) < registry.snapshot.upto * 0.7 and registry.snapshot.upto in uptos
    assert any(r.domain for c in challenges for r in c.requests)


def test_a_round_without_a_snapshot_is_the_round_without_search(registry):
    plain, with_search = build_round("r" * 32), build_round("r" * 32, registry.snapshot)
    assert plain.tasks == ("evaluate_pattern", "generate_pattern", "inference")
    assert with_search.tasks == (*plain.tasks, SEARCH_TASK)
    dump = lambda cs: [r.model_dump_json() for c in cs for r in c.requests]  # noqa: E731
    searchless = [c for c in with_search.for_miner(3) if c.task != SEARCH_TASK]
    assert dump(searchless) == dump(plain.for_miner(3))
    assert with_search.tasks_per_miner == plain.tasks_per_miner + 1


# --- the reward rule for a task whose best answer is the reference's ------------------------


def test_par_reward_pays_the_floor_for_matching_and_never_more():
    ref = task_value(1.0, 0.005, 12.0)
    assert par_reward(ref, ref, POLICY) == pytest.approx(POLICY.floor)
    assert par_reward(1.0, ref, POLICY) == pytest.approx(POLICY.floor)  # cannot beat exact
    assert par_reward(0.5 * ref, ref, POLICY) == pytest.approx(POLICY.floor / 8)
    assert par_reward(0.0, ref, POLICY) == 0.0
    # the relative rule would have paid a near-exact answer almost everything
    assert relative_reward(ref, ref, POLICY) > 0.9
    # a reference-level miner's score is the floor with or without search at par
    floor3 = {"evaluate_pattern": 0.45, "generate_pattern": 0.45, "inference": 0.87}
    values = {**floor3, SEARCH_TASK: ref}
    assert score_from_values(values, floor3, POLICY) == pytest.approx(POLICY.floor)
    assert score_from_values(values, {**floor3, SEARCH_TASK: ref}, POLICY) == pytest.approx(
        POLICY.floor
    )
    # and a step without search ignores a stored search value entirely
    assert score_from_values({**floor3, SEARCH_TASK: 0.0}, floor3, POLICY) == pytest.approx(
        POLICY.floor
    )


def test_skipping_search_costs_a_share_of_the_floor():
    floor = {"evaluate_pattern": 0.45, "generate_pattern": 0.45, "inference": 0.87,
             SEARCH_TASK: 1.0}  # fmt: skip
    results = [
        TaskResult(uid, task, accuracy=acc, latency_s=0.1)
        for uid, acc_search in ((1, 1.0), (2, 0.0))
        for task, acc in (("evaluate_pattern", 0.6), ("generate_pattern", 0.6),
                          ("inference", 1.0), (SEARCH_TASK, acc_search))
    ]  # fmt: skip
    rewards = miner_rewards(results, [1, 2], 12.0, floor, POLICY)
    assert rewards[1] - rewards[2] == pytest.approx(POLICY.floor / 4, rel=0.01)


# --- end to end ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("keys")
    return {name: make_hotkey(tmp, name) for name in ("validator", "honest", "random", "none")}


def test_search_over_http_on_real_miners(registry, keys):
    validator = keys["validator"]
    snap = snapshot_with([(validator.hotkey.ss58_address, 100.0, True)])
    cache = MetagraphCache(lambda: snap, refresh_s=3600, initial=snap)
    searchers = {"honest": Honest(registry.miner), "random": RandomIds(registry.hashes),
                 "none": None}  # fmt: skip
    round_ = build_round("h" * 32, registry.snapshot)
    with contextlib.ExitStack() as stack:
        targets = []
        for uid, (name, searcher) in enumerate(searchers.items(), start=1):
            miner = stack.enter_context(running_miner(keys[name], cache=cache, searcher=searcher))
            targets.append(MinerTarget(uid, miner.hotkey, miner.hotkey, miner.url))
        outcome = asyncio.run(run_round(round_, targets, wallet=validator,
                                        checker=SandboxChecker(), timeout_s=10.0,
                                        max_response_bytes=1_048_576))  # fmt: skip
        request = next(c for c in round_.private(3) if c.task == SEARCH_TASK).requests[0]
        with httpx.Client() as client:  # the last miner is the one without an index
            reply = miner.post(client, validator, ClaySynapse(request=request, deadline_s=5.0))
    search = {r.uid: r for r in outcome.results if r.task == SEARCH_TASK}
    assert search[1].accuracy >= 0.95 and not search[1].errors, search[1]
    assert search[2].accuracy <= 0.05 and not search[2].errors
    assert search[3].accuracy == 0.0 and search[3].detail == "3 unanswered"
    assert reply.status_code == 200 and reply.json()["status"] == "error"
    detail = reply.json()["detail"]
    assert detail == "engine error: this miner keeps no index of the pattern registry"


def _sim_validator(path, netuid, wallet, state_dir, search) -> Validator:
    config = ValidatorConfig(
        sample_size=8, timeout_s=8.0, step_interval_s=0.0, alpha=0.5,
        max_response_bytes=1_048_576, state_dir=state_dir, version_key=spec_version(),
    )  # fmt: skip
    chain = ChainPort(f"sim:{path}", netuid, wallet)
    return Validator(config, wallet=wallet, chain=chain, search=search)


def test_a_validator_step_searches_only_when_the_registry_is_large_enough(
    registry, devnet, tmp_path
):
    from mycel_subnet.miner.app import build_app
    from mycel_subnet.miner.limits import ServiceLimits
    from mycel_subnet.transport.policy import CallerPolicy
    from tests.miner.harness import ScriptedEngine
    from tests.validator.servers import StaticGraph, serve

    path, netuid, make_wallet = devnet
    val_wallet = make_wallet("val", tao=30)
    val_port = ChainPort(f"sim:{path}", netuid, val_wallet)
    assert val_port.register().ok and val_port.add_stake(20).ok
    vkey = val_wallet.hotkey.ss58_address
    uids = {}
    with contextlib.ExitStack() as stack:
        for name, searcher in (("honest", Honest(registry.miner)),
                               ("random", RandomIds(registry.hashes))):  # fmt: skip
            wallet = make_wallet(f"m_{name}", tao=5)
            port = ChainPort(f"sim:{path}", netuid, wallet)
            assert port.register().ok
            app = build_app(
                wallet=wallet, engine=ScriptedEngine(), metagraph=StaticGraph(vkey),
                policy=CallerPolicy(allow=[vkey]), searcher=searcher,
                limits=ServiceLimits(rate_limit_per_ip=10_000, rate_limit_per_hotkey=10_000),
            )  # fmt: skip
            http_port = stack.enter_context(serve(app))
            assert port.serve_axon("127.0.0.1", http_port).ok
            uids[name] = port.my_uid()
        admin.advance_blocks(path, 10)
        sync = RegistrySync(registry.validator, registry.world.reader(), registry.world.store)

        small = _sim_validator(path, netuid, val_wallet, tmp_path / "small",
                               SearchTask(sync, min_patterns=N + 1))  # fmt: skip
        skipped = asyncio.run(small.step())
        searching = _sim_validator(path, netuid, val_wallet, tmp_path / "search",
                                   SearchTask(sync, min_patterns=N // 2))  # fmt: skip
        step = asyncio.run(searching.step())

    assert skipped.notes == [
        f"search: none this step: the registry index holds {N} patterns, fewer than {N + 1} "
        "(validator.search_min_patterns)"
    ]
    assert set(skipped.reference) == {"evaluate_pattern", "generate_pattern", "inference"}
    assert not [r for r in skipped.outcome.results if r.task == SEARCH_TASK]
    logged = json.loads((tmp_path / "small" / "steps.jsonl").read_text().splitlines()[-1])
    assert logged["notes"] == skipped.notes and SEARCH_TASK not in logged["reference"]

    assert step.notes == [f"search: {N} patterns below registry id {N + 1}"]
    assert step.reference[SEARCH_TASK] > 0.99  # the validator's own index at par
    search = {r.uid: r for r in step.outcome.results if r.task == SEARCH_TASK}
    # one step's secret seed and three queries: random ids land near 0.03 but vary, so the bound
    # here is loose; the <= 0.05 of the issue is asserted over many queries above
    assert search[uids["honest"]].accuracy >= 0.95 and search[uids["random"]].accuracy <= 0.15
    assert step.rewards[uids["honest"]] > step.rewards[uids["random"]]
    ref = step.reference[SEARCH_TASK]
    part = {
        name: par_reward(task_value(search[uid].accuracy, search[uid].latency_s, 8.0), ref, POLICY)
        for name, uid in uids.items()
    }
    assert part["honest"] == pytest.approx(POLICY.floor, abs=0.01) and part["random"] < 0.001
    for validator in (small, searching):  # the shared index stays open for the module
        validator.store.close()


def test_the_miners_own_wiring_syncs_and_answers(tmp_path, keys, monkeypatch):
    """mycel_subnet.miner.run.registry_search, from settings as the miner builds it: the
    default embedder, a key-less reader, a background sync; over a real uvicorn miner. The
    local ledger's default path is pointed at the test's ledger (no flag sets it)."""
    import time

    import mycel_subnet.near.client as near_client
    from mycel_subnet.config import load_settings
    from mycel_subnet.engines.interface import EngineError
    from mycel_subnet.intelligence.embeddings import default_embedder
    from mycel_subnet.miner.run import registry_search

    assert registry_search(load_settings({"miner.registry_sync_s": 0})) == (None, None)
    world = make_world(tmp_path / "small")
    world.populate(40)
    flags = {"miner.registry_index": str(tmp_path / "miner.sqlite"),
             "ipfs.store_dir": str(world.root / "ipfs"), "miner.registry_sync_s": 3600}  # fmt: skip

    def started(ledger_path):
        monkeypatch.setattr(near_client, "DEFAULT_LEDGER_PATH", ledger_path)
        searcher, background = registry_search(load_settings(flags))
        background.start()
        deadline = time.monotonic() + 60
        while background.last is None and time.monotonic() < deadline:
            time.sleep(0.05)
        return searcher, background

    searcher, background = started(tmp_path / "missing.db")
    try:
        with pytest.raises(EngineError, match="not ready: registry: no local NEAR ledger"):
            searcher(SearchPatternsRequest(query="anything"))
    finally:
        background.stop()
    assert not (tmp_path / "miner.sqlite").exists()

    searcher, background = started(world.root / "ledger.db")
    try:
        assert background.last.indexed == 40, background.last.line()
        own = RegistryIndex(tmp_path / "own.sqlite", default_embedder(), registry=REGISTRY)
        asyncio.run(RegistrySync(own, world.reader(), world.store).sync_once())
        validator = keys["validator"]
        snap = snapshot_with([(validator.hotkey.ss58_address, 100.0, True)])
        cache = MetagraphCache(lambda: snap, refresh_s=3600, initial=snap)
        request = SearchPatternsRequest(query="chart stock prices", k=5, registry_upto=30)
        with (
            running_miner(keys["honest"], cache=cache, searcher=searcher) as miner,
            httpx.Client() as client,
        ):
            reply = miner.post(client, validator, ClaySynapse(request=request, deadline_s=5))
        body = reply.json()
        assert body["status"] == "ok", body
        expect = [pid for pid, _ in own.search(own.embed([request.query])[0], 5, upto=30)]
        assert body["result"]["pattern_ids"] == expect and body["result"]["index_size"] == 40
    finally:
        background.stop()
        world.close()


def test_a_miner_with_default_limits_serves_a_whole_step_without_refusals(registry, keys):
    """A step sends each miner every challenge at once (search included); the miner's default
    rate limits and queue must take that burst, or an honest miner loses tasks to 429/503."""
    from mycel_subnet.config import MinerSettings
    from mycel_subnet.miner.limits import ServiceLimits

    validator = keys["validator"]
    snap = snapshot_with([(validator.hotkey.ss58_address, 100.0, True)])
    cache = MetagraphCache(lambda: snap, refresh_s=3600, initial=snap)
    round_ = build_round("d" * 32, registry.snapshot)
    limits = ServiceLimits.from_settings(MinerSettings())
    with running_miner(keys["honest"], cache=cache, searcher=Honest(registry.miner),
                       limits=limits) as miner:  # fmt: skip
        target = MinerTarget(1, miner.hotkey, miner.hotkey, miner.url)
        outcome = asyncio.run(run_round(round_, [target], wallet=validator,
                                        checker=SandboxChecker(), timeout_s=10.0,
                                        max_response_bytes=1_048_576))  # fmt: skip
    sent = sum(len(c.requests) for c in round_.for_miner(1))
    assert sent >= 8 and dict(outcome.queries) == {"ok": sent}, outcome.queries
