"""Querying real servers on loopback: misbehaving miners score zero and never stall a round.

The honest miner is the real miner service with the real reference engine (the SolverEngine the
validator measures its floor with, the PatternEngine without a model behind it); the rogue ones
are small signed servers that misbehave on purpose (see servers.py).
"""

from __future__ import annotations

import asyncio
import time

import bittensor as bt
import pytest

from mycel_subnet.engines.pattern_engine import PatternEngine
from mycel_subnet.engines.solver import REFERENCE, SolverEngine
from mycel_subnet.validator.challenges import SandboxChecker, build_round
from mycel_subnet.validator.duplicates import duplicate_groups
from mycel_subnet.validator.forward import MinerTarget, run_round
from mycel_subnet.validator.reference import ReferenceBaseline
from mycel_subnet.validator.scoring import RewardPolicy, miner_rewards
from tests.validator.servers import free_socket, miner_app, rogue_app, serve


def _hotkey(tmp, name):
    wallet = bt.Wallet(name, "hot", str(tmp))
    wallet.create_new_hotkey(use_password=False, suppress=True, overwrite=True)
    return wallet


@pytest.fixture(scope="module")
def wallets(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wallets")
    names = ["validator", "honest", "garbage", "wrong_signer", "oversized", "hang", "error500",
             "other", "closed"]  # fmt: skip
    return {name: _hotkey(tmp, name) for name in names}


def test_rogue_miners_score_zero_and_the_round_is_bounded(wallets):
    validator = wallets["validator"]
    vkey = validator.hotkey.ss58_address
    timeout_s = 3.0
    rogues = ["garbage", "wrong_signer", "oversized", "hang", "error500"]
    engine = SolverEngine(REFERENCE, PatternEngine(None, None, use_presidio=False))
    closed = free_socket()  # bound but never listening: connection refused
    closed_port = closed.getsockname()[1]
    closed.close()
    with serve(miner_app(wallets["honest"], engine, vkey)) as honest_port:
        servers = [serve(rogue_app(wallets[n], n, other_wallet=wallets["other"])) for n in rogues]
        ports = [s.__enter__() for s in servers]
        try:
            targets = [MinerTarget(0, wallets["honest"].hotkey.ss58_address, "c0",
                                   f"http://127.0.0.1:{honest_port}")]  # fmt: skip
            for uid, (name, port) in enumerate(zip(rogues, ports, strict=True), start=1):
                targets.append(MinerTarget(uid, wallets[name].hotkey.ss58_address, f"c{uid}",
                                           f"http://127.0.0.1:{port}"))  # fmt: skip
            targets.append(MinerTarget(9, wallets["closed"].hotkey.ss58_address, "c9",
                                       f"http://127.0.0.1:{closed_port}"))  # fmt: skip
            round_ = build_round("forward-test")
            checker = SandboxChecker()
            start = time.monotonic()
            outcome = asyncio.run(
                run_round(round_, targets, wallet=validator, checker=checker,
                          timeout_s=timeout_s, max_response_bytes=1_048_576,
                          grading_budget_s=3.0)
            )  # fmt: skip
            elapsed = time.monotonic() - start
        finally:
            for server in servers:
                server.__exit__(None, None, None)
    # Every miner got its private instances and the shared ones, each graded once.
    per_miner = round_.tasks_per_miner
    for target in targets:
        mine = [r for r in outcome.results if r.uid == target.uid]
        assert len(mine) == per_miner
        assert sum(r.shared_key is not None for r in mine) == len(round_.shared)
    assert duplicate_groups(outcome.results) == []  # one honest engine: nobody to split with
    floor = ReferenceBaseline(alpha=1.0).measure(round_.reference_sample(), checker, timeout_s)
    assert set(floor) == {"evaluate_pattern", "generate_pattern", "inference"}
    rewards = miner_rewards(outcome.results, [t.uid for t in targets], timeout_s, floor,
                            RewardPolicy())  # fmt: skip
    honest = [r for r in outcome.results if r.uid == 0]
    assert all(not r.errors for r in honest), [r.errors for r in honest]
    assert max(r.accuracy for r in honest) > 0.8, [r.detail for r in honest]
    assert rewards[0] > 0.1, [r.detail for r in honest]
    for uid in range(1, 6):
        assert rewards[uid] == 0.0, (rogues[uid - 1], rewards[uid])
    assert rewards[9] == 0.0
    kinds = set(outcome.queries)
    assert {"ok", "malformed", "bad_signature", "oversized", "timeout", "http_error",
            "unreachable"} <= kinds, kinds  # fmt: skip
    # The hanging miner cost one deadline, not the round: queries all ran concurrently.
    assert outcome.query_seconds < timeout_s + 2.0
    assert elapsed < timeout_s + 20.0
