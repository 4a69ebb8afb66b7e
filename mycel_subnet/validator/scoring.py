"""Turn graded answers into per-miner rewards: accuracy 0.8 + speed 0.2, copies zeroed.

Speed counts only when there is something to be fast about: an answer with zero accuracy earns
nothing however quick it was. Copy detection: when miners under different coldkeys return the
same generated content (normalised hash) in one round, the earliest to answer keeps its score
and the later ones get zero for that task; one operator's hotkeys (same coldkey) are not
penalised against each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

ACCURACY_WEIGHT = 0.8
TIME_WEIGHT = 0.2


@dataclass
class TaskResult:
    """One miner's result on one challenge (all its requests)."""

    uid: int
    task: str
    accuracy: float
    latency_s: float
    received_at: float  # monotonic time the last answer of the task arrived
    content_key: str | None = None
    detail: str = ""
    errors: list[str] = field(default_factory=list)
    copied_from: int | None = None
    reward: float = 0.0


def time_score(latency_s: float, deadline_s: float) -> float:
    """1 for an instant answer, falling linearly to 0 at the deadline."""
    if deadline_s <= 0:
        return 0.0
    return max(0.0, min(1.0, 1.0 - latency_s / deadline_s))


def task_reward(accuracy: float, latency_s: float, deadline_s: float) -> float:
    accuracy = max(0.0, min(1.0, accuracy))
    if accuracy <= 0.0:
        return 0.0
    return ACCURACY_WEIGHT * accuracy + TIME_WEIGHT * time_score(latency_s, deadline_s)


def mark_copies(results: list[TaskResult], coldkeys: Mapping[int, str]) -> None:
    """Zero the accuracy of later answers that repeat earlier content from another coldkey."""
    by_task: dict[tuple[str, str], list[TaskResult]] = {}
    for result in results:
        if result.content_key and result.accuracy > 0:
            by_task.setdefault((result.task, result.content_key), []).append(result)
    for group in by_task.values():
        if len(group) < 2:
            continue
        group.sort(key=lambda r: (r.received_at, r.uid))
        first = group[0]
        owners = {coldkeys.get(first.uid)}
        for later in group[1:]:
            coldkey = coldkeys.get(later.uid)
            if coldkey in owners and coldkey is not None:
                continue
            later.copied_from = first.uid
            later.accuracy = 0.0
            later.detail = f"copy of uid {first.uid}'s answer; {later.detail}"


def miner_rewards(
    results: list[TaskResult], uids: list[int], deadline_s: float, tasks: int
) -> dict[int, float]:
    """Reward per queried uid: the mean task reward over the round's tasks (missing = 0)."""
    totals = dict.fromkeys(uids, 0.0)
    for result in results:
        result.reward = task_reward(result.accuracy, result.latency_s, deadline_s)
        totals[result.uid] = totals.get(result.uid, 0.0) + result.reward
    return {uid: total / max(1, tasks) for uid, total in totals.items()}
