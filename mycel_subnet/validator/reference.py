"""The floor: what the shipped reference engine scores on this step's kind of tasks.

Every step the validator answers a private sample of instances (the round's reference
instances, drawn exactly like a miner's) with the reference engine in-process, grades them
with the same scorers, and keeps a moving average of the values per task type. Miners are paid
relative to it (`scoring.relative_reward`): running the shipped code earns the floor, and only
better work earns more. Until the first measurements arrive, `PRIOR` (the reference's values
measured by `benchmarks/bench_incentive.py` over 200 rounds) stands in.

The validator imports the engine from `mycel_subnet.engines`, never from the miner. Search
instances are answered by `searcher`, the validator's own registry index (its exact search is
the reference there: see `scoring.PAR_TASKS`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from mycel_subnet.engines.interface import MinerEngine
from mycel_subnet.engines.solver import REFERENCE, SolverEngine
from mycel_subnet.validator.challenges.base import Challenge, CodeChecker, Grade
from mycel_subnet.validator.scoring import task_value

log = logging.getLogger(__name__)

PRIOR: dict[str, float] = {"evaluate_pattern": 0.45, "generate_pattern": 0.45, "inference": 0.87}


def answer_with(
    engine: MinerEngine, challenge: Challenge, searcher: Callable[[Any], Any] | None = None
) -> tuple[list[Any | None], float]:
    """An engine's results for a challenge's requests in-process, and the seconds it took
    (search requests go to `searcher` when given)."""
    started = time.monotonic()
    results: list[Any | None] = []
    for request in challenge.requests:
        try:
            if request.request_type == "search_patterns" and searcher is not None:
                results.append(searcher(request))
                continue
            results.append(getattr(engine, request.request_type)(request))
        except Exception as error:  # an engine bug costs its answer, not the step
            log.warning("%s failed on %s: %s", engine.name, request.request_type, error)
            results.append(None)
    return results, time.monotonic() - started


class ReferenceBaseline:
    """Moving averages of the reference engine's task values, updated from samples."""

    def __init__(
        self,
        engine: MinerEngine | None = None,
        *,
        alpha: float = 0.2,
        prior: Mapping[str, float] = PRIOR,
        searcher: Callable[[Any], Any] | None = None,
    ) -> None:
        if not 0.0 < alpha <= 1.0:
            raise ValueError(f"alpha must be in (0, 1], got {alpha}")
        self.engine = engine or SolverEngine(REFERENCE)
        self.alpha = alpha
        self.searcher = searcher
        self._values = dict(prior)

    def values(self) -> dict[str, float]:
        return dict(self._values)

    def measure(
        self, challenges: tuple[Challenge, ...], checker: CodeChecker, deadline_s: float
    ) -> dict[str, float]:
        """Answer and grade `challenges` with the reference; fold the values in; return all."""
        sums: dict[str, list[float]] = {}
        for challenge in challenges:
            results, seconds = answer_with(self.engine, challenge, self.searcher)
            try:
                grade = challenge.grade(results, checker)
            except Exception:
                log.exception("grading the reference on %s failed", challenge.task)
                grade = Grade(0.0)
            if challenge.task == "search_patterns" and grade.accuracy < 0.99:
                log.warning("the validator's own index scored %.3f on its search challenge (%s)",
                            grade.accuracy, grade.detail)  # fmt: skip
            value = task_value(grade.accuracy, seconds, deadline_s)
            sums.setdefault(challenge.task, []).append(value)
        for task, values in sums.items():
            mean = sum(values) / len(values)
            old = self._values.get(task, mean)
            self._values[task] = (1 - self.alpha) * old + self.alpha * mean
        return self.values()
