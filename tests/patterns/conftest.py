"""Shared fixtures: pattern builders, a store on the hashing embedder, and a local NEAR ledger.

The store and discovery tests use `HashingEmbedder` (deterministic, numpy only; real project code,
not a fake): identical texts get identical vectors, so ties are exact. Only test_semantic.py loads
the real MiniLM model, once per module. The ledger is `LocalLedger`, which runs the real
PatternRegistry and ReputationSystem contract logic on SQLite.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from mycel_subnet.intelligence.embeddings import HashingEmbedder
from mycel_subnet.near.client import LocalRegistryClient
from mycel_subnet.near.ledger import ONE_NEAR, LocalLedger
from mycel_subnet.patterns import PatternStore
from protocol import CodeTemplate, LearnedPattern, PromptTemplate

CID = "Qm" + "Y" * 44
OWNER = "owner.test"


def code_pattern(
    trigger: str,
    source: str = "def solve(x):\n    return x\n",
    *,
    creator: str = "alice.test",
    domain: str = "code",
    price: int = 0,
    requirements: tuple[str, ...] = (),
) -> LearnedPattern:
    return LearnedPattern(
        creator=creator,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        trigger=trigger,
        context_requirements=list(requirements),
        solution=CodeTemplate(language="python", code=source),
        domain=domain,
        price_per_use=price,
    )


def prompt_pattern(
    trigger: str, template: str, *, creator: str = "alice.test", domain: str = "writing"
) -> LearnedPattern:
    variables = ["text"] if "{text}" in template else []
    return LearnedPattern(
        creator=creator,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        trigger=trigger,
        solution=PromptTemplate(template=template, variables=variables),
        domain=domain,
    )


@pytest.fixture
def embedder() -> HashingEmbedder:
    return HashingEmbedder()


@pytest.fixture
def store(tmp_path, embedder) -> Iterator[PatternStore]:
    with PatternStore(tmp_path / "patterns.db", embedder) as s:
        yield s


@pytest.fixture
def ledger(tmp_path) -> Iterator[LocalLedger]:
    with LocalLedger(tmp_path / "ledger.db") as led:
        led.ensure_mycel_contracts(OWNER)
        for name in ("alice.test", "bob.test", "carol.test"):
            led.create_account(name, 100 * ONE_NEAR)
        yield led


def client(ledger: LocalLedger, account: str) -> LocalRegistryClient:
    """A registry client signing as `account` on the local ledger."""
    return LocalRegistryClient(ledger, account)


async def register(ledger: LocalLedger, pattern: LearnedPattern, price: int | None = None) -> int:
    """Register `pattern` on the ledger's PatternRegistry as its creator; the NEAR id."""
    amount = pattern.price_per_use if price is None else price
    return await client(ledger, pattern.creator).register_pattern(
        str(pattern.id), CID, pattern.domain, amount
    )
