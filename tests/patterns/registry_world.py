"""A pattern registry to index: real patterns registered on the local NEAR ledger (the real
PatternRegistry logic), their metadata in a real LocalContentStore under its CID.

Triggers are drawn from word lists (verb x object x context), so a registry of thousands holds
distinct texts whose neighbourhoods overlap the way real patterns do (shared verbs, shared
objects). Used by tests/patterns and tests/validator, and by benchmarks/bench_search_task.py.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from mycel_subnet.near.client import LocalRegistryClient
from mycel_subnet.near.ledger import ONE_NEAR, LocalLedger
from mycel_subnet.storage.local import LocalContentStore
from mycel_subnet.storage.metadata import put_pattern_metadata
from protocol import CodeTemplate, LearnedPattern

OWNER = "owner.test"
CREATORS = ("alice.test", "bob.test", "carol.test", "dave.test")
VERBS = (
    "parse", "sort", "validate", "summarise", "convert", "deduplicate", "merge", "filter",
    "rank", "compress", "encrypt", "schedule", "translate", "format", "plot", "cache", "retry",
    "paginate", "index", "stream", "anonymise", "aggregate", "tokenise", "diff",
)  # fmt: skip
OBJECTS = {
    "data": ("csv rows", "sensor readings", "survey answers", "pdf tables", "spreadsheet cells"),
    "code": ("git commits", "stack traces", "unit test reports", "python imports", "build logs"),
    "writing": ("markdown notes", "blog drafts", "chat transcripts", "meeting minutes",
                "customer emails"),
    "ops": ("http responses", "server metrics", "cron jobs", "docker images", "dns records"),
    "finance": ("invoice totals", "stock prices", "bank statements", "tax receipts",
                "shopping carts"),
    "science": ("gene sequences", "telescope images", "lab measurements", "weather forecasts",
                "chemical formulas"),
}  # fmt: skip
CONTEXTS = (
    "by date", "into a summary table", "for a weekly report", "before saving to disk",
    "with a progress bar", "in a background job", "for a mobile app",
    "using only the standard library", "when the network is slow", "for duplicate detection",
    "with clear error messages", "in under a second", "for a dashboard", "from a remote api",
    "without losing precision", "for a command line tool",
)  # fmt: skip


def triggers(n: int, seed: int = 0) -> list[tuple[str, str]]:
    """`n` distinct (trigger, domain) pairs, shuffled by `seed`."""
    combos = [
        (f"{verb.capitalize()} {obj} {context}", domain)
        for domain, objects in OBJECTS.items()
        for obj in objects
        for verb in VERBS
        for context in CONTEXTS
    ]
    if n > len(combos):
        raise ValueError(f"at most {len(combos)} distinct triggers")
    random.Random(seed).shuffle(combos)
    return combos[:n]


def make_pattern(trigger: str, domain: str, creator: str, index: int) -> LearnedPattern:
    return LearnedPattern(
        creator=creator,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        trigger=trigger,
        context_requirements=[f"inputs of kind {index % 7}"],
        solution=CodeTemplate(language="python", code=f"def solve(x):\n    return x  # {index}\n"),
        domain=domain,
    )


@dataclass
class World:
    """The ledger, the content store, and what was registered (registry id -> pattern)."""

    root: Path
    ledger: LocalLedger
    store: LocalContentStore
    patterns: dict[int, LearnedPattern] = field(default_factory=dict)

    def reader(self) -> LocalRegistryClient:
        return LocalRegistryClient(self.ledger, "reader.test")

    def creator_client(self, creator: str) -> LocalRegistryClient:
        return LocalRegistryClient(self.ledger, creator)

    def register(self, pattern: LearnedPattern, *, cid: str | None = None,
                 domain: str | None = None) -> int:  # fmt: skip
        """Put its metadata in the store (unless `cid` is given) and register it; the id."""
        cid = cid or put_pattern_metadata(pattern, self.store)
        args = {
            "pattern_hash": pattern.id,
            "metadata_cid": cid,
            "domain": domain or pattern.domain,
            "price_per_use": "0",
        }
        config = self.ledger.view("registry.mycel.test", "get_config")
        deposit = int(config.get("storage_deposit", 0))  # the registry's storage deposit, if any
        outcome = self.ledger.call(
            pattern.creator, "registry.mycel.test", "register_pattern", args, deposit
        )
        self.patterns[int(outcome.result)] = pattern
        return int(outcome.result)

    def populate(self, n: int, seed: int = 0, start: int = 0) -> list[int]:
        ids = []
        for i, (trigger, domain) in enumerate(triggers(start + n, seed)[start:], start=start):
            ids.append(self.register(make_pattern(trigger, domain, CREATORS[i % 4], i)))
        return ids

    def close(self) -> None:
        self.ledger.close()


def make_world(root: Path) -> World:
    root.mkdir(parents=True, exist_ok=True)
    ledger = LocalLedger(root / "ledger.db")
    ledger.ensure_mycel_contracts(OWNER)
    for name in CREATORS:
        ledger.create_account(name, 10_000 * ONE_NEAR)
    return World(root, ledger, LocalContentStore(root / "ipfs"))
