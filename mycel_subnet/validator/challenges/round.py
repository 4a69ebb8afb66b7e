"""One step's challenges, all from the step's 128-bit secret seed.

Every miner gets its own private instances of each task (derived from the seed and its uid:
an answer relayed from another miner is an answer to a different question) plus the step's
shared instances, the same for everyone, so that miners running one engine give the same
answers somewhere the validator can compare them (`validator/duplicates.py`). Each instance
draws its difficulty tier from `TIER_MIX`. The same seed always rebuilds the same round.

With a registry snapshot (`search`, the validator's own index of the NEAR pattern registry),
each miner also gets `SEARCH_PRIVATE` private search_patterns instances over it; a step whose
index holds too few patterns gets none, and its other tasks are exactly as without search.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from mycel_subnet.validator.challenges import evaluate, generate, inference
from mycel_subnet.validator.challenges import search as search_challenge
from mycel_subnet.validator.challenges.base import Challenge
from mycel_subnet.validator.challenges.rng import derive, new_seed

BUILDERS: dict[str, Callable[[random.Random, int], Challenge]] = {
    "evaluate_pattern": evaluate.build,
    "generate_pattern": generate.build,
    "inference": inference.build,
}
TASKS = tuple(BUILDERS)
PRIVATE = {"evaluate_pattern": 1, "generate_pattern": 1, "inference": 2}
SHARED = {"evaluate_pattern": 1, "generate_pattern": 1, "inference": 0}
TIER_MIX = ((1, 0.30), (2, 0.35), (3, 0.35))
REFERENCE_UID = -1  # the pseudo-miner whose instances the validator answers with the reference
SEARCH_TASK = search_challenge.TASK
SEARCH_PRIVATE = 1  # private search instances per miner (none shared: honest answers agree)


def draw_tier(rng: random.Random) -> int:
    roll, total = rng.random(), 0.0
    for tier, share in TIER_MIX:
        total += share
        if roll < total:
            return tier
    return TIER_MIX[-1][0]


def _instance(seed: str, *labels: object, task: str) -> Challenge:
    rng = derive(seed, *labels, task)
    return BUILDERS[task](rng, draw_tier(rng))


@dataclass
class Round:
    """The seed (recorded after the step), the shared challenges, and private ones per uid."""

    seed: str
    shared: tuple[Challenge, ...]
    _private: dict[int, tuple[Challenge, ...]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    search: search_challenge.SearchSnapshot | None = field(default=None, repr=False)

    def private(self, uid: int) -> tuple[Challenge, ...]:
        with self._lock:
            cached = self._private.get(uid)
        if cached is None:
            cached = tuple(
                _instance(self.seed, "private", uid, k, task=task)
                for task in TASKS
                for k in range(PRIVATE[task])
            ) + self._search_instances(uid)
            with self._lock:
                self._private[uid] = cached
        return cached

    def _search_instances(self, uid: int) -> tuple[Challenge, ...]:
        if self.search is None:
            return ()
        out = []
        for k in range(SEARCH_PRIVATE):
            rng = derive(self.seed, "private", uid, k, SEARCH_TASK)
            out.append(search_challenge.build(rng, draw_tier(rng), self.search))
        return tuple(out)

    @property
    def tasks(self) -> tuple[str, ...]:
        """The task types this round asks (search only with a snapshot)."""
        return TASKS + ((SEARCH_TASK,) if self.search is not None else ())

    def for_miner(self, uid: int) -> tuple[Challenge, ...]:
        """What `uid` is asked this step: its private instances, then the shared ones."""
        return self.private(uid) + self.shared

    def reference_sample(self) -> tuple[Challenge, ...]:
        """Private instances for the reference engine, to measure the floor this step."""
        return self.private(REFERENCE_UID)

    @property
    def tasks_per_miner(self) -> int:
        searches = SEARCH_PRIVATE if self.search is not None else 0
        return sum(PRIVATE.values()) + searches + len(self.shared)


def build_round(
    seed: str | None = None, search: search_challenge.SearchSnapshot | None = None
) -> Round:
    """Challenges for one step; the same seed (and snapshot) always rebuilds the same round."""
    seed = seed or new_seed()
    shared = tuple(
        replace(_instance(seed, "shared", k, task=task), shared=True)
        for task in TASKS
        for k in range(SHARED[task])
    )
    return Round(seed, shared, search=search)
