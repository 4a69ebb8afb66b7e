"""Find miners that run one engine, whatever their coldkeys, from their shared answers.

Every miner answers the step's shared challenges (the same instances for all). Two miners are
duplicates when, on every shared challenge both answered, their fingerprints match: the same
normalised code, or evaluation scores within `SCORE_TOLERANCE` points each. Duplicates form
groups (connected components) and split one reward: K hotkeys of one engine together earn
what one would, and nobody is zeroed because another produced the same answer.

Requiring a match on every comparable shared answer, evaluation scores included, keeps two
different engines apart: they rarely agree to a few points on every score of a step.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import combinations
from typing import Any

from mycel_subnet.validator.scoring import TaskResult

SCORE_TOLERANCE = 3


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(
            abs(x - y) <= SCORE_TOLERANCE for x, y in zip(a, b, strict=True)
        )
    return a == b


def duplicate_groups(results: Iterable[TaskResult]) -> list[set[int]]:
    """Groups of two or more uids whose shared answers all match (see module docstring)."""
    prints: dict[int, dict[str, Any]] = {}
    for result in results:
        if result.shared_key is not None and result.fingerprint is not None:
            prints.setdefault(result.uid, {})[result.shared_key] = result.fingerprint
    parent = {uid: uid for uid in prints}

    def find(uid: int) -> int:
        while parent[uid] != uid:
            parent[uid] = parent[parent[uid]]
            uid = parent[uid]
        return uid

    for a, b in combinations(sorted(prints), 2):
        common = prints[a].keys() & prints[b].keys()
        if not any(isinstance(prints[a][k], tuple) for k in common):
            continue  # no evaluation scores to compare: too little to call it a copy
        if all(_close(prints[a][k], prints[b][k]) for k in common):
            parent[find(a)] = find(b)
    groups: dict[int, set[int]] = {}
    for uid in prints:
        groups.setdefault(find(uid), set()).add(uid)
    return [group for group in groups.values() if len(group) > 1]


def mark_duplicates(results: Iterable[TaskResult], groups: list[set[int]]) -> None:
    """Note each result's duplicate uids so the step log can explain a split reward."""
    by_uid = {uid: group for group in groups for uid in group}
    for result in results:
        if result.uid in by_uid:
            result.duplicates = sorted(by_uid[result.uid] - {result.uid})
