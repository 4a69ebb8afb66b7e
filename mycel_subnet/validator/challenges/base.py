"""What every challenge is: the requests sent, and a private scorer that holds the answer."""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from protocol import LearnedPattern

CREATORS = (
    "mycel-bench.near", "alice.testnet", "bob-patterns.near", "carol.mycel.testnet", "dave.near",
    "erin-labs.near", "frank.testnet", "grace.mycel.near", "heidi-dev.near", "ivan.testnet",
)  # fmt: skip


@dataclass(frozen=True)
class Grade:
    """How one miner did on one challenge: accuracy 0..1, why, and a fingerprint of the answer.

    Fingerprints of answers to shared challenges (the same instance for every miner) are how
    the validator finds miners running one engine: see `validator/duplicates.py`.
    """

    accuracy: float
    detail: str = ""
    fingerprint: Any = None


class CodeChecker(Protocol):
    """Runs untrusted code against hidden cases; returns the pass rate (0..1)."""

    def pass_rate(self, code: str, entrypoint: str, cases: list[tuple[Any, Any]]) -> float: ...


@dataclass(frozen=True)
class Challenge:
    """Requests to send to one miner (or to all, when `shared`) and the scorer that knows the
    answers. `tier` is the difficulty it was drawn at (1 easiest)."""

    task: str
    requests: tuple[Any, ...]
    scorer: Any = field(repr=False)  # Callable[[list[result | None], CodeChecker], Grade]
    summary: str = ""
    tier: int = 1
    shared: bool = False

    def grade(self, results: list[Any | None], checker: CodeChecker) -> Grade:
        return self.scorer(results, checker)


def make_pattern(
    rng: random.Random,
    *,
    trigger: str,
    solution: Any,
    domain: str = "data",
    requirements: list[str] | None = None,
) -> LearnedPattern:
    """A validated LearnedPattern with a random creator and creation time."""
    created = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randint(0, 900_000))
    return LearnedPattern(
        creator=rng.choice(CREATORS),
        created_at=created,
        trigger=trigger,
        context_requirements=requirements or [],
        solution=solution,
        domain=domain,
    )


def parse_value(text: str) -> Any:
    """A miner's answer as a value: the whole text as JSON, a fenced or last-line JSON value,
    or the last JSON-looking token (a bare `42`, `[1, 2]`, "The result is -3.")."""
    candidates = [text.strip()]
    fenced = re.findall(r"```(?:json)?\s*(.*?)```", text, flags=re.DOTALL)
    candidates += [f.strip() for f in reversed(fenced)]
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if lines:
        candidates.append(lines[-1])
    tokens = re.findall(r"\[[-\d,\s]*\]|-?\d+(?:\.\d+)?", text[-2000:])
    candidates += list(reversed(tokens))
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except ValueError:
            continue
    raise ValueError("no value found in the answer")


def same_value(answer: Any, expected: Any) -> bool:
    """Typed comparison: 3 == 3.0 but True != 1, and lists compare element-wise."""
    if isinstance(expected, list):
        return (
            isinstance(answer, list)
            and len(answer) == len(expected)
            and all(same_value(a, e) for a, e in zip(answer, expected, strict=True))
        )
    if isinstance(answer, bool) or not isinstance(answer, int | float):
        return False
    return float(answer) == float(expected)
