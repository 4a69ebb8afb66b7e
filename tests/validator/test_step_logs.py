"""The validator's step explains itself: one INFO line per queried uid (reward, score, accuracy
per task, error kinds, endpoint), and a refused query is recorded in steps.jsonl as the
refusal, not as a graded answer ("relevance:wrong quality:wrong ...").

Real miner services on loopback with real btauth signatures: one serves the validator, the
other requires a validator permit the validator does not hold, so it answers 403.
"""

from __future__ import annotations

import asyncio
import json
import logging

import bittensor as bt
import pytest

from mycel_subnet.chain.types import ChainResult, Hyperparameters, MetagraphSnapshot, NeuronInfo
from mycel_subnet.engines.pattern_engine import PatternEngine
from mycel_subnet.engines.solver import REFERENCE, SolverEngine
from mycel_subnet.miner.app import build_app
from mycel_subnet.miner.limits import ServiceLimits
from mycel_subnet.transport.policy import CallerPolicy
from mycel_subnet.validator.loop import Validator, ValidatorConfig
from mycel_subnet.validator.step_lines import error_kind
from tests.validator.servers import miner_app, serve

HP = Hyperparameters(tempo=10, weights_rate_limit=5, weights_version=0, max_weight_limit=1.0,
                     min_allowed_weights=0, max_allowed_uids=64, immunity_period=0)  # fmt: skip


class NoPermitGraph:
    """A miner's metagraph in which the validator is registered but holds no permit."""

    def __init__(self, validator_hotkey: str) -> None:
        neuron = NeuronInfo(uid=0, hotkey=validator_hotkey, coldkey="c", stake=100.0,
                            validator_permit=False)  # fmt: skip
        self._graph = MetagraphSnapshot(netuid=1, block=1, neurons=(neuron,))

    def snapshot(self) -> MetagraphSnapshot:
        return self._graph

    def claim_early_refresh(self) -> bool:
        return False

    def refresh(self) -> bool:
        return False


class Chain:
    def __init__(self, graph: MetagraphSnapshot) -> None:
        self.graph = graph

    def metagraph(self) -> MetagraphSnapshot:
        return self.graph

    def hyperparameters(self) -> Hyperparameters:
        return HP

    def set_weights(self, uids, weights, version_key):
        return ChainResult.success("ok", block=self.graph.block)


def _wallet(tmp, name):
    wallet = bt.Wallet(name, "hot", str(tmp))
    wallet.create_new_hotkey(use_password=False, suppress=True, overwrite=True)
    return wallet


@pytest.fixture(scope="module")
def step_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("steplogs")
    validator, honest, refusing = (_wallet(tmp, n) for n in ("validator", "honest", "refusing"))
    vkey = validator.hotkey.ss58_address
    engine = SolverEngine(REFERENCE, PatternEngine(None, None, use_presidio=False))
    refusing_app = build_app(
        wallet=refusing, engine=engine, metagraph=NoPermitGraph(vkey),
        policy=CallerPolicy(require_validator_permit=True),
        limits=ServiceLimits(rate_limit_per_ip=10_000, rate_limit_per_hotkey=10_000),
    )  # fmt: skip
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    keep = Keep(level=logging.DEBUG)
    loop_log = logging.getLogger("mycel_subnet.validator.loop")
    loop_log.addHandler(keep)
    old_level = loop_log.level
    loop_log.setLevel(logging.DEBUG)
    try:
        with serve(miner_app(honest, engine, vkey)) as p1, serve(refusing_app) as p2:
            neurons = (
                NeuronInfo(0, vkey, "cv", 1000.0, True),
                NeuronInfo(1, honest.hotkey.ss58_address, "c1", 0.0, False, "127.0.0.1", p1),
                NeuronInfo(2, refusing.hotkey.ss58_address, "c2", 0.0, False, "127.0.0.1", p2),
            )
            chain = Chain(MetagraphSnapshot(netuid=1, block=30, neurons=neurons))
            config = ValidatorConfig(
                sample_size=4, timeout_s=4.0, step_interval_s=0.0, alpha=0.5,
                max_response_bytes=1 << 20, state_dir=tmp / "state", version_key=1,
            )  # fmt: skip
            node = Validator(config, wallet=validator, chain=chain)
            try:
                asyncio.run(node.step())
            finally:
                node.close()
    finally:
        loop_log.removeHandler(keep)
        loop_log.setLevel(old_level)
    steps = [json.loads(x) for x in (tmp / "state" / "steps.jsonl").read_text().splitlines()]
    return {"records": records, "steps": steps, "ports": (p1, p2)}


def _info_lines(records, prefix):
    return [r.getMessage() for r in records
            if r.levelno == logging.INFO and r.getMessage().startswith(prefix)]  # fmt: skip


def test_one_info_line_per_queried_uid_with_score_accuracy_errors_and_endpoint(step_run):
    p1, p2 = step_run["ports"]
    (honest,) = _info_lines(step_run["records"], "uid 1 ")
    (refused,) = _info_lines(step_run["records"], "uid 2 ")
    assert f"at http://127.0.0.1:{p1}:" in honest and "no_validator_permit" not in honest
    assert "score " in honest and "eval " in honest and "gen " in honest and "infer " in honest
    assert f"at http://127.0.0.1:{p2}:" in refused
    assert "reward 0.000" in refused
    assert "errors http_error 403 no_validator_permit x" in refused
    assert "eval 0.00" in refused
    # The per-challenge details are there at DEBUG, not at INFO.
    debug = [r.getMessage() for r in step_run["records"] if r.levelno == logging.DEBUG]
    assert any(m.startswith("uid 2 evaluate_pattern") for m in debug)


def test_a_refused_query_is_recorded_as_its_refusal(step_run):
    (step,) = step_run["steps"]
    refused = step["tasks"]["2"]
    assert refused, "the refusing miner's challenges are recorded"
    for entry in refused:
        assert entry["detail"].startswith("no answer: http_error: HTTP 403 no_validator_permit")
        assert "wrong" not in entry["detail"]
        assert entry["error"] == "http_error 403 no_validator_permit"
    assert not any("403" in (entry["error"] or "") for entry in step["tasks"]["1"])


@pytest.mark.parametrize(
    ("recorded", "kind"),
    [
        (
            "http_error: HTTP 403 no_validator_permit: caller holds no permit",
            "http_error 403 no_validator_permit",
        ),
        ("http_error: HTTP 500 internal: boom", "http_error 500 internal"),
        ("timeout: no answer within 4.0 s", "timeout"),
        ("unreachable: connection refused", "unreachable"),
    ],
)
def test_error_kind_keeps_the_refusal_code(recorded, kind):
    assert error_kind(recorded) == kind
