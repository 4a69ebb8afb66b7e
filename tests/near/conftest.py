"""Shared fixtures: a ledger in a temp dir with both contracts deployed and funded users."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mycel_subnet.near.ledger import ONE_NEAR, LocalLedger

HASH_A = "a" * 64
HASH_B = "b" * 64
CID = "Qm" + "Y" * 44
REGISTRY = "registry.mycel.test"
REPUTATION = "reputation.mycel.test"


class FakeClock:
    """Block time the test controls (ratings are time-weighted)."""

    def __init__(self, start_ns: int = 1_700_000_000 * 10**9) -> None:
        self.now = start_ns

    def __call__(self) -> int:
        return self.now

    def advance_days(self, days: float) -> None:
        self.now += int(days * 86400 * 10**9)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def ledger(tmp_path, clock) -> Iterator[LocalLedger]:
    with LocalLedger(tmp_path / "ledger.db", clock_ns=clock) as led:
        led.ensure_mycel_contracts("owner.test")
        for name in ("alice.test", "bob.test", "carol.test"):
            led.create_account(name, 100 * ONE_NEAR)
        yield led


DEPOSIT = 4 * 10**22  # the registry's default storage deposit per pattern (0.04 NEAR)


def register(ledger: LocalLedger, creator: str, pattern_hash: str, price: int, domain="code"):
    """Register with the storage deposit attached, as the client does."""
    args = {
        "pattern_hash": pattern_hash,
        "metadata_cid": CID,
        "domain": domain,
        "price_per_use": str(price),
    }
    return ledger.call(creator, REGISTRY, "register_pattern", args, deposit=DEPOSIT).result
