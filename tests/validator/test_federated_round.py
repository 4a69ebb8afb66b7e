"""Federated rounds between a real coordinator and real miners over signed HTTP on loopback
(uvicorn, btauth, real hotkeys, the real toy model with Opacus, a real content store, the local
NEAR ledger). Each dishonest miner is the cheapest way to earn without the work; each earns
nothing:

* noise: Gaussian noise shaped like DP noise, no training -> no gain beyond the noise floor;
* copy: a partner's update scaled by 1.5 -> a copy, the earlier original keeps the credit;
* replay: last round's published global step as its "update" -> a copy of public data;
* forged claim: a signature over another round's claim -> rejected;
* lying accountant: half the epsilon its history gives -> rejected;
* no federated learning at all -> no answer.

Only the accepted updates are aggregated and recorded on NEAR, and held-out loss falls.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib

import pytest

from mycel_subnet.chain.types import ChainResult, Hyperparameters, MetagraphSnapshot, NeuronInfo
from mycel_subnet.federated.claims import UpdateClaim, sign_claim
from mycel_subnet.federated.hashing import GLOBAL_DOMAIN
from mycel_subnet.federated.miner_side import FederatedMinerSide, MinerFlConfig
from mycel_subnet.federated.models import TOY_BASE
from mycel_subnet.federated.toy import TOY_PATTERN, pattern_corpus
from mycel_subnet.federated.wire import decode_state, encode_state
from mycel_subnet.miner.metagraph_cache import MetagraphCache
from mycel_subnet.near.ledger import DEFAULT_FL_ROUNDS
from mycel_subnet.storage import LocalContentStore
from mycel_subnet.validator.federated import FederatedCoordinator, FlRoundConfig, LocalFlRecorder
from mycel_subnet.validator.forward import MinerTarget
from mycel_subnet.validator.loop import Validator, ValidatorConfig
from mycel_subnet.validator.scoring import FL_VALUE, score_from_values
from tests.federated.fl_helpers import shard
from tests.miner.harness import ScriptedEngine, make_hotkey, running_miner, snapshot_with

NAMES = ["honest_a", "honest_b", "noise", "copy", "forged", "liar", "replay", "no_fl"]
COORDINATOR = "validator.mycel.test"


class Tampered:
    """A real honest miner side whose answer is changed on the way out by ``change``."""

    def __init__(self, side: FederatedMinerSide, change) -> None:
        self.side, self.change = side, change
        self.seen: list = []

    def __call__(self, request, caller):
        result = self.side(request, caller)
        self.seen.append(request)
        return self.change(self, request, caller, result)


def _forge(t: Tampered, request, caller, result):
    claim = UpdateClaim(caller, t.side.hotkey, request.round + 1, request.base_hash,
                        request.global_hash, result.update_sha256, result.update_cid,
                        result.update_size)  # fmt: skip
    return result.model_copy(update={"signature": sign_claim(t.side.keypair, claim)})


def _lie(t: Tampered, request, caller, result):
    acc = result.accountant.model_copy(update={"epsilon": result.accountant.epsilon / 2})
    return result.model_copy(update={"accountant": acc})


def _replay(t: Tampered, request, caller, result):
    """From round 2 on: the last global step (public: both globals were in requests)."""
    if len(t.seen) < 2:
        return result
    store, ref = t.side.store, t.side.reference
    old, new = (decode_state(store.get(r.global_cid), ref, who="g", domain=GLOBAL_DOMAIN)
                for r in t.seen[-2:])  # fmt: skip
    payload = encode_state({k: new[k] - old[k] for k in ref})
    cid, sha = store.put(payload), hashlib.sha256(payload).hexdigest()
    claim = UpdateClaim(caller, t.side.hotkey, request.round, request.base_hash,
                        request.global_hash, sha, cid, len(payload))  # fmt: skip
    return result.model_copy(update={"update_cid": cid, "update_sha256": sha,
                                     "signature": sign_claim(t.side.keypair, claim)})  # fmt: skip


@pytest.fixture(scope="module")
def federation(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fl")
    store = LocalContentStore(tmp / "ipfs")
    wallets = {name: make_hotkey(tmp / "w", name) for name in NAMES}
    validator = make_hotkey(tmp / "w", "validator")
    second = make_hotkey(tmp / "w", "validator2")  # its own rounds: the loop test's
    third = make_hotkey(tmp / "w", "validator3")  # and the NEAR outage test's
    handlers = {}
    for i, name in enumerate(NAMES[:-1]):
        behaviour = name if name in ("noise", "copy") else "honest"
        config = MinerFlConfig(
            shard(tmp, name, seed=10 + i, count=256), tmp / name, 50.0, TOY_BASE,
            behaviour=behaviour, copy_from=tmp / "honest_a" if name == "copy" else None,
            use_presidio=False,
        )  # fmt: skip
        side = FederatedMinerSide(wallets[name].hotkey, store, config)
        change = {"forged": _forge, "liar": _lie, "replay": _replay}.get(name)
        handlers[name] = Tampered(side, change) if change else side
    neurons = [(w.hotkey.ss58_address, 1.0, False) for w in wallets.values()]
    validators = [(v.hotkey.ss58_address, 100.0, True) for v in (validator, second, third)]
    snap = snapshot_with([*neurons, *validators])
    cache = MetagraphCache(lambda: snap, refresh_s=3600, initial=snap)
    recorder = LocalFlRecorder(tmp / "near.sqlite", COORDINATOR, DEFAULT_FL_ROUNDS)
    coordinator = FederatedCoordinator(
        FlRoundConfig(clients_per_round=len(NAMES), batch_size=32, epsilon_budget=50.0,
                      timeout_s=60.0, seed=3),
        wallet=validator, store=store, state_dir=tmp / "validator",
        heldout_texts=pattern_corpus(TOY_PATTERN, 128, seed=999), recorder=recorder,
    )  # fmt: skip
    with contextlib.ExitStack() as stack:
        urls = {
            name: stack.enter_context(running_miner(wallets[name], cache=cache,
                                                    federated=handlers.get(name),
                                                    engine=ScriptedEngine())).url
            for name in NAMES
        }  # fmt: skip
        targets = [MinerTarget(i, wallets[n].hotkey.ss58_address, "c", urls[n])
                   for i, n in enumerate(NAMES)]  # fmt: skip
        start = coordinator.loss(coordinator.server.global_state, coordinator.report_set)
        reports = [asyncio.run(coordinator.run_round(targets)) for _ in range(2)]
        yield {
            "reports": reports,
            "start": start,
            "recorder": recorder,
            "tmp": tmp,
            "targets": targets,
            "second": second,
            "third": third,
            "store": store,
        }


def _status(report, name: str) -> str:
    return report.rows[NAMES.index(name)].status


def test_the_global_adapter_improves_over_two_rounds(federation) -> None:
    first, second = federation["reports"]
    assert first.loss_before == pytest.approx(federation["start"])
    assert second.loss_before == pytest.approx(first.loss_after)
    assert first.loss_after < federation["start"]
    assert second.loss_after <= first.loss_after  # equal only if no update was accepted
    assert second.global_in == first.global_out


def test_only_honest_work_is_accepted_and_every_cheat_earns_nothing(federation) -> None:
    for report in federation["reports"]:
        accepted = {NAMES[r.uid] for r in report.accepted()}
        assert accepted and accepted <= {"honest_a", "honest_b", "replay"}
        values = {NAMES[uid]: row.value for uid, row in report.rows.items()}
        for cheat in ("noise", "copy", "forged", "liar", "no_fl"):
            assert values[cheat] == 0.0
            assert all(values[cheat] < values[name] for name in accepted)
        assert _status(report, "noise") == "no_gain"
        assert _status(report, "copy") == "copy"
        assert report.rows[NAMES.index("copy")].detail.startswith("copy of uid 0")
        assert _status(report, "forged") == "rejected"
        assert "not signed by this miner" in report.rows[NAMES.index("forged")].detail
        assert _status(report, "liar") == "rejected"
        assert "reports epsilon" in report.rows[NAMES.index("liar")].detail
        assert _status(report, "no_fl") == "no_answer"
        assert "takes no part in federated learning" in report.rows[NAMES.index("no_fl")].detail
    second = federation["reports"][1]
    assert _status(second, "replay") == "copy"
    assert "the global adapter's last step" in second.rows[NAMES.index("replay")].detail


def test_near_lists_exactly_the_accepted_update_hashes(federation) -> None:
    ledger = federation["recorder"].ledger
    for report in federation["reports"]:
        record = ledger.view(DEFAULT_FL_ROUNDS, "get_round",
                             {"coordinator": COORDINATOR, "round": report.round})  # fmt: skip
        accepted = report.accepted()
        assert [c["update_hash"] for c in record["contributions"]] == [
            r.update_sha256 for r in accepted
        ]
        assert [c["miner"] for c in record["contributions"]] == [r.hotkey for r in accepted]
        assert [c["signature"] for c in record["contributions"]] == [r.signature for r in accepted]
        assert record["global_out"] == report.global_out
        assert record["loss_after_micro"] == round(report.loss_after * 1_000_000)
        for row in accepted:  # the epsilon on record is the one the miner's accountant reported
            entry = next(c for c in record["contributions"] if c["miner"] == row.hotkey)
            assert entry["epsilon_micro"] == round(row.epsilon * 1_000_000)


def test_the_round_log_and_state_survive_for_a_restart(federation) -> None:
    tmp = federation["tmp"]
    lines = (tmp / "validator" / "fl_rounds.jsonl").read_text().splitlines()
    assert len(lines) == 2
    resumed = FederatedCoordinator(
        FlRoundConfig(batch_size=32), wallet=make_hotkey(tmp / "w", "restarted"),
        store=LocalContentStore(tmp / "ipfs"), state_dir=tmp / "validator",
        heldout_texts=pattern_corpus(TOY_PATTERN, 128, seed=999),
    )  # fmt: skip
    assert resumed.round == 2
    second = federation["reports"][1]
    loss = resumed.loss(resumed.server.global_state, resumed.report_set)
    assert loss == pytest.approx(second.loss_after, rel=1e-6)
    assert "the global adapter's last step" in resumed._public


class StandInChain:
    """The validator loop's chain seam with the in-process miners as its metagraph; weights
    are recorded, not set (the sim chain is exercised by the e2e test and test_validator_chain)."""

    def __init__(self, targets, validator_hotkey) -> None:
        neurons = [NeuronInfo(t.uid, t.hotkey, t.coldkey, 1.0, False, "127.0.0.1",
                              int(t.base_url.rsplit(":", 1)[1])) for t in targets]  # fmt: skip
        me = NeuronInfo(len(targets), validator_hotkey, "cv", 100.0, True)
        self.graph = MetagraphSnapshot(netuid=1, block=30, neurons=(*neurons, me))

    def metagraph(self):
        return self.graph

    def hyperparameters(self):
        return Hyperparameters(tempo=10, weights_rate_limit=5, weights_version=0,
                               max_weight_limit=1.0, min_allowed_weights=0,
                               max_allowed_uids=64, immunity_period=0)  # fmt: skip

    def set_weights(self, uids, weights, version_key):
        return ChainResult.success("ok", block=30)


def test_the_validator_loop_folds_contributions_into_scores_with_the_weight(federation):
    """One validator step with fl_weight 0.5 runs a federated round beside the challenges; the
    round's values become the miners' FL_VALUE average and half of their scores."""
    tmp, targets = federation["tmp"], federation["targets"]
    config = ValidatorConfig(
        sample_size=len(targets), timeout_s=30.0, step_interval_s=0.0, alpha=0.5,
        max_response_bytes=1 << 20, state_dir=tmp / "loop", version_key=1,
        fl_weight=0.5, fl_every_steps=1,
    )  # fmt: skip
    wallet = federation["second"]
    coordinator = FederatedCoordinator(
        FlRoundConfig(clients_per_round=len(NAMES), batch_size=32, epsilon_budget=50.0),
        wallet=wallet, store=federation["store"], state_dir=tmp / "loop-fl",
        heldout_texts=pattern_corpus(TOY_PATTERN, 128, seed=998),
    )  # fmt: skip
    chain = StandInChain(targets, wallet.hotkey.ss58_address)
    validator = Validator(config, wallet=wallet, chain=chain, federated=coordinator)
    try:
        report = asyncio.run(validator.step())
        fl = report.federated
        assert fl is not None and fl.round == 1
        averaged = validator.store.task_values()
        tasks_only = {uid: score_from_values(averaged.get(uid, {}), report.reference,
                                             config.reward) for uid in report.scores}  # fmt: skip
        for uid, row in fl.rows.items():
            assert averaged[uid][FL_VALUE] == pytest.approx(0.5 * row.value)
            expected = 0.5 * tasks_only[uid] + 0.5 * averaged[uid][FL_VALUE]
            assert report.scores[uid] == pytest.approx(expected)
        honest = [r.uid for r in fl.accepted()]
        noise = NAMES.index("noise")
        federated_part = {uid: report.scores[uid] - 0.5 * tasks_only[uid] for uid in fl.rows}
        assert federated_part[noise] == pytest.approx(0.0, abs=1e-12)
        assert honest, fl.rows
        assert all(federated_part[u] > 1e-6 for u in honest)
    finally:
        validator.close()


class FlakyRecorder:
    """The local NEAR ledger behind an outage: the first ``failures`` calls fail (as an RPC
    error would), then calls go through."""

    def __init__(self, inner: LocalFlRecorder, failures: int) -> None:
        self.inner, self.failures = inner, failures

    async def record_fl_round(self, record):
        if self.failures:
            self.failures -= 1
            raise ConnectionError("NEAR RPC unreachable")
        return await self.inner.record_fl_round(record)


def test_a_round_near_missed_is_recorded_before_the_next_one(federation) -> None:
    """The contract chains rounds, so a missed record must not break every later one: it waits
    in the coordinator's state and goes first when NEAR answers again."""
    tmp = federation["tmp"]
    inner = LocalFlRecorder(tmp / "near-outage.sqlite", COORDINATOR, DEFAULT_FL_ROUNDS)
    coordinator = FederatedCoordinator(
        FlRoundConfig(clients_per_round=2, batch_size=32, epsilon_budget=50.0, seed=5),
        wallet=federation["third"], store=federation["store"], state_dir=tmp / "outage",
        heldout_texts=pattern_corpus(TOY_PATTERN, 64, seed=997),
        recorder=FlakyRecorder(inner, failures=1),
    )  # fmt: skip
    honest = federation["targets"][:2]
    first = asyncio.run(coordinator.run_round(honest))
    assert first.near.startswith("failed: NEAR RPC unreachable") and len(coordinator.pending) == 1
    second = asyncio.run(coordinator.run_round(honest))
    assert second.near.startswith("recorded") and coordinator.pending == []
    view = inner.ledger.view
    records = [view(DEFAULT_FL_ROUNDS, "get_round", {"coordinator": COORDINATOR, "round": n})
               for n in (1, 2)]  # fmt: skip
    assert records[0]["global_out"] == records[1]["global_in"] == first.global_out
    assert [c["update_hash"] for c in records[0]["contributions"]] == [
        r.update_sha256 for r in first.accepted()
    ]
