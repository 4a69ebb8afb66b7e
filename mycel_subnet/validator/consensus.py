"""Combining miners' organic evaluations of one pattern, weighted by their measured calibration.

A miner's calibration is its moving-average value on the synthetic evaluate_pattern tasks
(the score store's `task_values`: 0.8 x Brier skill + 0.2 x time credit). Those tasks have
known answers and are drawn like organic ones, so the measured value is what the validator
knows about how far to trust a miner's scores. A miner below `min_calibration` is not counted
at all; the others weigh calibration squared, so a strong evaluator outweighs several weak
ones. The combination is a weighted median, not a mean: one confident liar moves it only as
far as its weight carries it past the middle, never by the size of its lie. A constant "100
for everything" earns Brier skill 0 on the synthetic tasks, hence no weight here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from protocol import EvaluationResult

EVALUATE_TASK = "evaluate_pattern"
MIN_CALIBRATION = 0.3


@dataclass(frozen=True)
class Opinion:
    """One miner's organic answer on one pattern: its score (0..1) and its weight."""

    uid: int
    hotkey: str
    score: float
    weight: float


def calibrations(
    task_values: Mapping[int, Mapping[str, float]],
    store_hotkeys: Mapping[int, str],
    graph_hotkeys: Mapping[int, str],
) -> dict[int, float]:
    """Each current uid's calibration (0..1); a uid whose stored hotkey is not the one on the
    metagraph now (re-registered) has none."""
    out: dict[int, float] = {}
    for uid, hotkey in graph_hotkeys.items():
        if store_hotkeys.get(uid) != hotkey:
            continue
        value = task_values.get(uid, {}).get(EVALUATE_TASK, 0.0)
        out[uid] = max(0.0, min(1.0, float(value)))
    return out


def weight_of(calibration: float, min_calibration: float = MIN_CALIBRATION) -> float:
    """calibration ** 2 at or above the bar, else 0."""
    return calibration**2 if calibration >= min_calibration else 0.0


def opinion_score(result: EvaluationResult) -> float:
    """A miner's verdict as one number: its quality, capped by the safety it saw, times its
    relevance (the test query is the pattern's own trigger: does the pattern do what it says)."""
    merit = min(result.quality, result.safety) / 100
    return max(0.0, min(1.0, merit * result.relevance / 100))


def weighted_median(opinions: Iterable[Opinion]) -> float | None:
    """The score at which half the weight lies on each side (the lower one on a tie), or None
    when no opinion has weight."""
    ranked = sorted((o for o in opinions if o.weight > 0), key=lambda o: o.score)
    total = sum(o.weight for o in ranked)
    if total <= 0:
        return None
    running = 0.0
    for opinion in ranked:
        running += opinion.weight
        if running >= total / 2:
            return opinion.score
    return ranked[-1].score
