"""Duplicate adapters: the same weights published twice count once, for whoever was first.

As in Gradients (SN56), identity is the hash of the weights (`adapter_hash`) and the earliest
commitment wins: lower block first, then the order within the block (extrinsic index or arrival
order), then the hotkey as a last, deterministic tie-break so every validator agrees.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class AdapterSubmission:
    """One miner's claim: this adapter_hash, committed at this block (and position)."""

    block: int
    order: int
    hotkey: str
    adapter_hash: str = field(compare=False)
    adapter_cid: str = field(default="", compare=False)


@dataclass(frozen=True)
class DedupResult:
    originals: dict[str, AdapterSubmission]  # adapter_hash -> earliest submission
    duplicates: list[tuple[AdapterSubmission, AdapterSubmission]]  # (copy, original)

    def is_duplicate(self, submission: AdapterSubmission) -> bool:
        return self.originals.get(submission.adapter_hash) != submission


def find_duplicates(submissions: list[AdapterSubmission]) -> DedupResult:
    """Group by adapter_hash; the earliest of each group is the original, the rest are copies."""
    originals: dict[str, AdapterSubmission] = {}
    duplicates: list[tuple[AdapterSubmission, AdapterSubmission]] = []
    for sub in sorted(submissions):
        first = originals.setdefault(sub.adapter_hash, sub)
        if first is not sub:
            duplicates.append((sub, first))
    return DedupResult(originals=originals, duplicates=duplicates)
