"""What `mycel-validator` builds for NEAR from its settings: verification on by default with a
NEAR account, off without one or when switched off, and a clear note when the account is not
an attester. Real settings, the real local ledger (under a temporary HOME) and content store."""

from __future__ import annotations

import asyncio

import pytest

from mycel_subnet.chain.types import MetagraphSnapshot
from mycel_subnet.config import MycelSettings
from mycel_subnet.near.ledger import LocalLedger
from mycel_subnet.validator.near_side import build_near_side
from mycel_subnet.validator.store import ScoreStore
from tests.miner.harness import make_hotkey


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return tmp_path


def _settings(home, **validator):
    return MycelSettings(
        near={"account_id": "val.test"} if validator.pop("account", True) else {},
        ipfs={"store_dir": str(home / "ipfs")}, validator=validator,
    )  # fmt: skip


def test_verification_is_on_with_a_near_account_and_off_without(home):
    wallet = make_hotkey(home / "w", "v")
    on = build_near_side(_settings(home), home / "s1", wallet)
    assert on.verifier is not None and len(on.mirror.mirrors) == 2
    assert on.verifier.policy.per_step == 4 and on.verifier.policy.min_calibration == 0.3
    # On a ledger it deployed itself the validator owns the registry and lists itself.
    scores = ScoreStore(home / "scores.sqlite", 0.5)
    graph = MetagraphSnapshot(netuid=1, block=1, neurons=())
    report = asyncio.run(on.verifier.run_pass(graph, scores, wallet.hotkey.ss58_address))
    assert report.error is None and "nothing due" in report.line()
    scores.close()
    off = build_near_side(_settings(home, verify_patterns=False), home / "s2", wallet)
    assert off.verifier is None and len(off.mirror.mirrors) == 2
    none = build_near_side(_settings(home, account=False), home / "s3", wallet)
    assert none.verifier is None and len(none.mirror.mirrors) == 1
    on.verifier.close()


def test_an_account_that_is_not_an_attester_is_told_in_the_step_note(home):
    with LocalLedger(home / "home/.mycel/near/ledger.db") as ledger:
        ledger.ensure_mycel_contracts("owner.test")  # someone else owns the registry
    wallet = make_hotkey(home / "w", "v")
    side = build_near_side(_settings(home), home / "state", wallet)
    scores = ScoreStore(home / "scores.sqlite", 0.5)
    graph = MetagraphSnapshot(netuid=1, block=1, neurons=())
    report = asyncio.run(side.verifier.run_pass(graph, scores, wallet.hotkey.ss58_address))
    assert "val.test is not an attester" in report.line() and "add_attester" in report.line()
    assert report.verdicts == []
    side.verifier.close()
    scores.close()
