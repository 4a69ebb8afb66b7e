"""Organic verification against real miner services: what calibration buys, and what the
validator's own checks decide without any miner.

Real parts: the miner service (mycel_subnet.miner.app) on loopback with real engines (the
SEARCH solver, and ConstantEngine answering 100 to every evaluation), btauth-signed requests,
the registry contract's logic on the local ledger, the local content store, the sandbox, and
the validator's score store in SQLite, written through `commit_step` as a validator step
would. The chain is not needed here (a metagraph snapshot names the miners' endpoints); the
whole loop on the sim chain is in test_verification.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

import pytest

from mycel_subnet.engines.demo import ConstantEngine
from mycel_subnet.engines.pattern_engine import PatternEngine
from mycel_subnet.engines.solver import SEARCH, SolverEngine
from mycel_subnet.validator.verification import LOG_FILE, PatternVerifier, VerifyPolicy
from mycel_subnet.validator.verify_store import VERIFY_FILE, VerificationStore
from tests.miner.harness import make_hotkey
from tests.validator.servers import miner_app, serve
from tests.validator.verify_world import (
    miner_graph,
    near_world,
    scores_with_calibration,
    task_patterns,
    unsafe_pattern,
)

PPM = 1_000_000


def _honest():
    return SolverEngine(SEARCH, PatternEngine(None, None, use_presidio=False))


def _liar():
    return ConstantEngine(score=100)


async def _verify(tmp, label, engines, calibration, patterns, per_step=4):
    """Publish `patterns` on a fresh registry, run one pass with these miners; returns
    (entries after the pass, the pass report)."""
    root = tmp / label
    root.mkdir()
    world = await near_world(root)
    ids = [await world.publish(p) for p in patterns]
    vwallet = make_hotkey(root / "wallets", "validator")
    vkey = vwallet.hotkey.ss58_address
    with contextlib.ExitStack() as stack:
        miners = []
        for i, engine in enumerate(engines):
            wallet = make_hotkey(root / "wallets", f"m{i}")
            port = stack.enter_context(serve(miner_app(wallet, engine, vkey)))
            miners.append((wallet.hotkey.ss58_address, port))
        graph = miner_graph(vkey, miners)
        scores = scores_with_calibration(root / "scores.sqlite", graph, calibration)
        verifier = PatternVerifier(
            world.validator, world.validator, world.content,
            VerificationStore(root / VERIFY_FILE), wallet=vwallet,
            policy=VerifyPolicy(per_step=per_step, timeout_s=20.0), log_dir=root,
        )  # fmt: skip
        report = await verifier.run_pass(graph, scores, vkey)
        entries = [await world.validator.get_pattern(pid) for pid in ids]
        found = await world.validator.find_patterns("data", 0.0, 100)
        found_hashes = {p.pattern_hash for p in found}
    verifier.close()
    scores.close()
    world.close()
    return entries, report, found_hashes, root


@pytest.mark.asyncio
async def test_a_miner_answering_100_with_poor_calibration_barely_moves_attested_quality(tmp_path):
    good, broken = task_patterns(11)
    honest = [_honest(), _honest()]
    base, _, _, _ = await _verify(tmp_path, "honest", honest, [0.8, 0.75], [good, broken])
    assert all(e.status == "verified" for e in base)
    assert base[0].attested_quality_ppm > base[1].attested_quality_ppm + 300_000  # told apart

    # Three liars answering 100 for everything, calibration 0.05 (a constant 100 earns Brier
    # skill 0 on the synthetic tasks): the broken pattern's quality stays where it was.
    liars = [*honest, _liar(), _liar(), _liar()]
    cal = [0.8, 0.75, 0.05, 0.05, 0.05]
    lied, report, _, root = await _verify(tmp_path, "liars", liars, cal, [good, broken])
    for before, after in zip(base, lied, strict=True):
        assert abs(after.attested_quality_ppm - before.attested_quality_ppm) <= 50_000
    assert report.asked == 2  # below validator.verify_min_calibration: not even asked

    # The same liars, had their synthetic answers earned them calibration, would own it:
    # the test can fail, and it is calibration that holds the line.
    trusted, _, _, _ = await _verify(tmp_path, "trusted", liars, [0.8, 0.75, 0.8, 0.8, 0.8],
                                     [good, broken])  # fmt: skip
    assert trusted[1].attested_quality_ppm - base[1].attested_quality_ppm > 300_000
    line = json.loads((root / LOG_FILE).read_text().splitlines()[-1])
    assert {v["outcome"] for v in line["verdicts"]} == {"attested"}


@pytest.mark.asyncio
async def test_unsafe_code_is_quarantined_without_any_miner_and_hidden_from_find(tmp_path):
    good, _ = task_patterns(5)
    entries, report, found, _ = await _verify(tmp_path, "w", [_liar()], [0.9],
                                              [unsafe_pattern(), good])  # fmt: skip
    unsafe, other = entries
    assert unsafe.status == "quarantined" and "PY_SHELL" in unsafe.quarantine_reason
    assert unsafe.pattern_hash not in found and other.pattern_hash in found
    verdicts = {v.pattern_id: v for v in report.verdicts}
    assert verdicts[unsafe.id].outcome == "quarantined" and verdicts[unsafe.id].answers == 0
    assert "1 quarantined" in report.line()


@pytest.mark.asyncio
async def test_without_a_calibrated_miner_a_pattern_waits_and_says_why(tmp_path):
    good, _ = task_patterns(3)
    entries, report, _, _ = await _verify(tmp_path, "w", [_honest()], [0.1], [good])
    assert entries[0].status == "unverified" and entries[0].attestations == 0
    (verdict,) = report.verdicts
    assert verdict.outcome == "pending" and "no calibrated miner" in verdict.reason
    assert report.asked == 0


def test_the_per_step_bound_holds(tmp_path):
    patterns = [p for seed in (21, 22, 23) for p in task_patterns(seed)]
    entries, report, _, _ = asyncio.run(
        _verify(tmp_path, "w", [_honest()], [0.9], patterns, per_step=2)
    )
    assert len(report.verdicts) == 2
    assert [e.status for e in entries] == ["unverified"] * 4 + ["verified"] * 2  # newest first
