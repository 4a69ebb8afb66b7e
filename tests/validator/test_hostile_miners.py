"""A real validator step with an honest miner beside hostile ones: bounded time and memory, and
the honest miner's reward exactly what it earns in the same step without them.

The honest miner is the real miner service running the reference engine; the hostile ones are
raw loopback servers (tests/transport/hostile_server.py) sending a stacked gzip bomb (590 bytes
that inflate to 256 MiB), an endless chunked body, one-byte chunks and a body trickled at a
byte a second. The chain is a small stand-in serving a fixed metagraph (the test is about how
the validator reads miners, not about the chain), and both steps use the same round seed, so
the honest miner gets the same challenges both times.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import bittensor as bt
import pytest

from mycel_subnet.chain.types import ChainResult, Hyperparameters, MetagraphSnapshot, NeuronInfo
from mycel_subnet.engines.pattern_engine import PatternEngine
from mycel_subnet.engines.solver import SEARCH, SolverEngine
from mycel_subnet.validator import loop
from mycel_subnet.validator.challenges import build_round
from mycel_subnet.validator.loop import StepReport, Validator, ValidatorConfig
from tests.transport.hostile_server import HostileServer, stacked_gzip_bomb
from tests.validator.servers import miner_app, serve

TIMEOUT_S = 6.0  # as in test_validator_chain: the honest engine must never be near it
MARGIN_S = 2.0  # the fixed margin a step's queries may run past their deadline
RSS_BOUND = 150 << 20  # the hostile step may use at most this much more memory than the clean one
HOSTILE = ("gzip_bomb", "endless_chunked", "tiny_chunks", "trickle")
HONEST_UID = 1
HP = Hyperparameters(tempo=10, weights_rate_limit=5, weights_version=0, max_weight_limit=1.0,
                     min_allowed_weights=0, max_allowed_uids=64, immunity_period=0)  # fmt: skip


def _hotkey(tmp: Path, name: str) -> bt.Wallet:
    wallet = bt.Wallet(name, "hot", str(tmp))
    wallet.create_new_hotkey(use_password=False, suppress=True, overwrite=True)
    return wallet


class FixedChain:
    """The metagraph the step reads (the validator and its miners); weights are recorded."""

    def __init__(self, neurons: list[NeuronInfo]) -> None:
        self.graph = MetagraphSnapshot(netuid=1, block=20, neurons=tuple(neurons))

    def metagraph(self) -> MetagraphSnapshot:
        return self.graph

    def hyperparameters(self) -> Hyperparameters:
        return HP

    def set_weights(self, uids, weights, version_key) -> ChainResult:
        return ChainResult.success("ok", block=20)


class PeakRss:
    """Samples this process's resident memory from a thread (the loop may be what is blocked)."""

    def __init__(self) -> None:
        self.peak = self.start = self._rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _rss() -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def _run(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, self._rss())

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def rise(self) -> int:
        return self.peak - self.start


def _step(validator_wallet, neurons, state_dir: Path) -> tuple[StepReport, int]:
    config = ValidatorConfig(
        sample_size=16, timeout_s=TIMEOUT_S, step_interval_s=0.0, alpha=0.5,
        max_response_bytes=1_048_576, state_dir=state_dir, version_key=1,
    )  # fmt: skip
    validator = Validator(config, wallet=validator_wallet, chain=FixedChain(neurons))
    try:
        with PeakRss() as rss:
            report = asyncio.run(validator.step())
        return report, rss.rise
    finally:
        validator.close()


def _honest(report: StepReport) -> list[tuple[str, float, list[str]]]:
    mine = [r for r in report.outcome.results if r.uid == HONEST_UID]
    return sorted((r.task, r.accuracy, r.errors) for r in mine)


def test_hostile_miners_cannot_stall_a_step_or_cost_the_honest_miner(tmp_path, monkeypatch):
    monkeypatch.setattr(loop, "build_round", lambda *_args: build_round("hostile-step"))
    names = ["validator", "honest", *HOSTILE]
    wallets = {name: _hotkey(tmp_path / "wallets", name) for name in names}
    vkey = wallets["validator"].hotkey.ss58_address
    stacked_gzip_bomb()  # built before anything is measured
    engine = SolverEngine(SEARCH, PatternEngine(None, None, use_presidio=False))

    def neuron(uid: int, name: str, port: int = 0) -> NeuronInfo:
        hotkey = wallets[name].hotkey.ss58_address
        ip = "127.0.0.1" if port else "0.0.0.0"
        return NeuronInfo(uid, hotkey, f"c{uid}", 100.0 if uid == 0 else 0.0, uid == 0,
                          axon_ip=ip, axon_port=port)  # fmt: skip

    with ExitStack() as stack:
        honest_port = stack.enter_context(serve(miner_app(wallets["honest"], engine, vkey)))
        base = [neuron(0, "validator"), neuron(HONEST_UID, "honest", honest_port)]
        clean, clean_rise = _step(wallets["validator"], base, tmp_path / "clean")

        hostile = list(base)
        for uid, mode in enumerate(HOSTILE, start=2):
            server = stack.enter_context(HostileServer(wallets[mode], mode).running())
            hostile.append(neuron(uid, mode, server.port))
        started = time.monotonic()
        attacked, attacked_rise = _step(wallets["validator"], hostile, tmp_path / "attacked")
        elapsed = time.monotonic() - started

    # Every hostile miner was refused for what it did, and scored nothing.
    kinds = set(attacked.outcome.queries)
    assert {"encoded_response", "oversized", "fragmented", "timeout"} <= kinds, kinds
    for uid in range(2, 2 + len(HOSTILE)):
        assert attacked.rewards[uid] == 0.0, (HOSTILE[uid - 2], attacked.rewards)
    # Bounded time: the queries end at the deadline plus the fixed margin, and the whole step
    # costs at most the trickling miner's deadline more than the clean one.
    assert attacked.durations["query_s"] < TIMEOUT_S + MARGIN_S, attacked.durations
    assert elapsed < clean.durations["step_s"] + TIMEOUT_S + MARGIN_S + 5.0, attacked.durations
    # Bounded memory: nothing near one bomb's 256 MiB (today's reading took 2.4 GB).
    assert attacked_rise < clean_rise + RSS_BOUND, (attacked_rise >> 20, clean_rise >> 20)
    # The honest miner: the same answers, graded the same, no errors, the same reward.
    assert _honest(attacked) == _honest(clean)
    assert all(not errors for _, _, errors in _honest(attacked))
    assert clean.rewards[HONEST_UID] > 0.1, clean.rewards
    assert attacked.rewards[HONEST_UID] == pytest.approx(clean.rewards[HONEST_UID], abs=0.02)
