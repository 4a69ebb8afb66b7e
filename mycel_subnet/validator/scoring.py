"""Turn graded answers into per-miner rewards that pay for beating the shipped reference.

Per task instance: value = 0.8 accuracy + 0.2 time credit. Time is a gate with a small
tiebreak, not a race: the credit is 0 below `ACCURACY_BAR` or past the deadline, otherwise
0.9 plus up to 0.1 for speed. Per task type, the miner's mean value is compared with the
reference engine's value on the same kind of tasks (`validator/reference.py`):

    at or below the reference r:  floor * (v / r) ** below_power
    above it:                     floor + (1 - floor) * (v - r) / (1 - r)

so running the shipped engine earns the floor, anything worse earns sharply less, and only
doing better than the reference earns more. The reward is the mean over task types; miners
found to run one engine (`duplicates.py`) split one reward between them.

Par tasks (`PAR_TASKS`: search_patterns) have no better answer than the reference's: it is the
validator's own exact search, which the shipped miner reproduces. There matching the reference
earns the floor and falling short earns sharply less, but nothing earns more:

    par task:  floor * min(1, v / r) ** below_power

so doing the search honestly keeps a miner's mean where its other tasks put it (a
reference-level miner stays at the floor), skipping or faking it costs up to floor / (task
types), and search never inflates everyone's reward toward the top of the scale.

The rule is applied to moving averages of the values (`score_from_values`), not to each step:
one step holds only a few instances per task, and a convex rule applied to noisy per-step
values would pay a reference-level miner well above the floor on its lucky steps.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

ACCURACY_WEIGHT = 0.8
TIME_WEIGHT = 0.2
ACCURACY_BAR = 0.5
TIEBREAK = 0.1
PAR_TASKS = frozenset({"search_patterns"})  # the reference's answer is the best there is


@dataclass(frozen=True)
class RewardPolicy:
    """How values become rewards (settings: validator.reward_floor, validator.below_power)."""

    floor: float = 0.2
    below_power: float = 3.0

    def __post_init__(self) -> None:
        if not 0.0 < self.floor < 1.0:
            raise ValueError(f"reward floor must be in (0, 1), got {self.floor}")
        if self.below_power < 1.0:
            raise ValueError(f"below_power must be >= 1, got {self.below_power}")


@dataclass
class TaskResult:
    """One miner's result on one challenge (all its requests)."""

    uid: int
    task: str
    accuracy: float
    latency_s: float
    received_at: float = 0.0  # monotonic time the last answer of the task arrived
    detail: str = ""
    errors: list[str] = field(default_factory=list)
    tier: int = 1
    shared_key: str | None = None  # set for shared challenges: the same for every miner
    fingerprint: Any = None
    value: float = 0.0
    duplicates: list[int] = field(default_factory=list)


def time_credit(accuracy: float, latency_s: float, deadline_s: float) -> float:
    """0 unless the answer clears the accuracy bar in time; then 0.9 + up to 0.1 for speed."""
    if accuracy < ACCURACY_BAR or deadline_s <= 0 or latency_s >= deadline_s:
        return 0.0
    return (1.0 - TIEBREAK) + TIEBREAK * (1.0 - max(0.0, latency_s) / deadline_s)


def task_value(accuracy: float, latency_s: float, deadline_s: float) -> float:
    accuracy = max(0.0, min(1.0, accuracy))
    return ACCURACY_WEIGHT * accuracy + TIME_WEIGHT * time_credit(accuracy, latency_s, deadline_s)


def relative_reward(value: float, reference: float, policy: RewardPolicy) -> float:
    """A miner's reward for one task type given the reference engine's value there."""
    ref = max(0.05, min(0.95, reference))
    value = max(0.0, min(1.0, value))
    if value <= ref:
        return policy.floor * (value / ref) ** policy.below_power
    return policy.floor + (1.0 - policy.floor) * (value - ref) / (1.0 - ref)


def par_reward(value: float, reference: float, policy: RewardPolicy) -> float:
    """A par task's reward: the floor at the reference's value, less below it, never more."""
    ref = max(0.05, min(1.0, reference))
    value = max(0.0, min(1.0, value))
    return policy.floor * min(1.0, value / ref) ** policy.below_power


def task_reward(task: str, value: float, reference: float, policy: RewardPolicy) -> float:
    """`par_reward` for PAR_TASKS, `relative_reward` for the rest."""
    if task in PAR_TASKS:
        return par_reward(value, reference, policy)
    return relative_reward(value, reference, policy)


def task_means(results: Iterable[TaskResult], deadline_s: float) -> dict[int, dict[str, float]]:
    """Mean value per uid and task type (sets `value` on each result)."""
    sums: dict[int, dict[str, list[float]]] = {}
    for result in results:
        result.value = task_value(result.accuracy, result.latency_s, deadline_s)
        sums.setdefault(result.uid, {}).setdefault(result.task, []).append(result.value)
    return {
        uid: {task: sum(vs) / len(vs) for task, vs in tasks.items()} for uid, tasks in sums.items()
    }


def miner_rewards(
    results: list[TaskResult],
    uids: list[int],
    deadline_s: float,
    reference: Mapping[str, float],
    policy: RewardPolicy,
    groups: Iterable[set[int]] = (),
) -> dict[int, float]:
    """Reward per queried uid: mean relative reward over task types, split within duplicates.

    A task type a miner has no result for counts as value 0.
    """
    means = task_means(results, deadline_s)
    rewards: dict[int, float] = {}
    for uid in uids:
        per_task = [
            task_reward(task, means.get(uid, {}).get(task, 0.0), ref, policy)
            for task, ref in reference.items()
        ]
        rewards[uid] = sum(per_task) / len(per_task) if per_task else 0.0
    for group in groups:
        members = [uid for uid in group if uid in rewards]
        for uid in members:
            rewards[uid] /= len(members)
    return rewards


SHARE = "__share__"  # the moving average of 1 / (duplicate group size), kept with the values


def step_values(
    results: Iterable[TaskResult],
    uids: list[int],
    deadline_s: float,
    tasks: Iterable[str],
    groups: Iterable[set[int]] = (),
) -> dict[int, dict[str, float]]:
    """This step's mean value per queried uid and task type (0 where it has no result), and
    its share (1 / size of its duplicate group).

    Members of a duplicate group get the group's pooled values: they run one engine, so the
    luck of their private draws must not rank them, and a perturbed copy can never come out
    above the original it copies."""  # fmt: skip
    tasks = tuple(tasks)
    means = task_means(results, deadline_s)
    values = {uid: {t: means.get(uid, {}).get(t, 0.0) for t in tasks} for uid in uids}
    for group in groups:
        members = [uid for uid in group if uid in values]
        for task in tasks:
            pooled = sum(values[uid][task] for uid in members) / max(1, len(members))
            for uid in members:
                values[uid][task] = pooled
        for uid in members:
            values[uid][SHARE] = 1.0 / len(members)
    for uid in values:
        values[uid].setdefault(SHARE, 1.0)
    return values


def score_from_values(
    values: Mapping[str, float], reference: Mapping[str, float], policy: RewardPolicy
) -> float:
    """A miner's score from its moving-average values: mean relative reward times its share."""
    per_task = [task_reward(t, values.get(t, 0.0), r, policy) for t, r in reference.items()]
    share = values.get(SHARE, 1.0)
    return (sum(per_task) / len(per_task) if per_task else 0.0) * share


FL_VALUE = "__fl__"  # the moving average of a miner's federated contribution value (0..1)


def blend_federated(score: float, values: Mapping[str, float], weight: float) -> float:
    """(1 - w) * task score + w * federated value, w = validator.fl_weight (0: tasks only).

    The federated value is a round's measured held-out improvement relative to the round's best
    (mycel_subnet/validator/federated.py), averaged like the task values."""
    if weight <= 0.0:
        return score
    return (1.0 - weight) * score + weight * values.get(FL_VALUE, 0.0)
