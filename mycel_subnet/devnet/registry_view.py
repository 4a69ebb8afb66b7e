"""Read the devnet's registry and reputation contracts straight from its local ledger file.

The devnet owns the ledger, as it owns the chain file: it reads every registered pattern
(ids are sequential from 1) to count what happened, with no account and no signature.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mycel_subnet.near.ledger import DEFAULT_REGISTRY, DEFAULT_REPUTATION, LocalLedger
from mycel_subnet.near.models import PatternEntry, ReputationScore


@dataclass(frozen=True)
class RegistrySnapshot:
    entries: dict[int, PatternEntry]
    fees_collected: int

    def status(self, pattern_id: int | None) -> str | None:
        entry = self.entries.get(pattern_id) if pattern_id is not None else None
        return entry.status if entry is not None else None


def read_registry(ledger_path: Path) -> RegistrySnapshot:
    """Every registered pattern and the protocol fees collected so far."""
    with LocalLedger(ledger_path) as ledger:
        config = ledger.view(DEFAULT_REGISTRY, "get_config", {})
        entries = {}
        for pattern_id in range(1, int(config["next_id"])):
            found = ledger.view(DEFAULT_REGISTRY, "get_pattern", {"pattern_id": pattern_id})
            if found is not None:
                entries[pattern_id] = PatternEntry.model_validate(found)
    return RegistrySnapshot(entries, int(config["fees_collected"]))


def listed_ids(ledger_path: Path, domain: str) -> set[int]:
    """The ids find_patterns lists for `domain` at any reputation (every page)."""
    found: set[int] = set()
    start: int | None = 0
    with LocalLedger(ledger_path) as ledger:
        while start is not None:
            page = ledger.view(
                DEFAULT_REGISTRY, "find_patterns",
                {"domain": domain, "min_reputation": 0, "limit": 50, "from_index": start},
            )  # fmt: skip
            found |= {int(p["id"]) for p in page["patterns"]}
            nxt = page.get("next_index")
            start = int(nxt) if nxt is not None and int(nxt) > start else None
    return found


def reputation(ledger_path: Path, subject: str) -> ReputationScore:
    """An account's (or a hotkey's) reputation record, defaults when it has none."""
    with LocalLedger(ledger_path) as ledger:
        found = ledger.view(DEFAULT_REPUTATION, "get_reputation", {"account": subject})
    return ReputationScore.model_validate(found)
