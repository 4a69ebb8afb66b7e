"""One step's challenges: one of each request type, all derived from the step's secret seed."""

from __future__ import annotations

from dataclasses import dataclass

from mycel_subnet.validator.challenges import evaluate, generate, inference
from mycel_subnet.validator.challenges.base import Challenge
from mycel_subnet.validator.challenges.rng import derive, new_seed

BUILDERS = {
    "evaluate_pattern": evaluate.build,
    "generate_pattern": generate.build,
    "inference": inference.build,
}


@dataclass(frozen=True)
class Round:
    """The seed (recorded after the step) and the challenges every sampled miner gets."""

    seed: str
    challenges: tuple[Challenge, ...]


def build_round(seed: str | None = None) -> Round:
    """Challenges for one step; the same seed always rebuilds the same round."""
    seed = seed or new_seed()
    challenges = tuple(build(derive(seed, task)) for task, build in BUILDERS.items())
    return Round(seed, challenges)
