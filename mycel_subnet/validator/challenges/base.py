"""What every challenge is: the requests sent, and a private scorer that holds the answer."""

from __future__ import annotations

import hashlib
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
    """How one miner did on one challenge: accuracy 0..1, why, and a content key for copies."""

    accuracy: float
    detail: str = ""
    content_key: str | None = None


class CodeChecker(Protocol):
    """Runs untrusted code against hidden cases; returns the pass rate (0..1)."""

    def pass_rate(self, code: str, entrypoint: str, cases: list[tuple[Any, Any]]) -> float: ...


@dataclass(frozen=True)
class Challenge:
    """Requests to send (all to every sampled miner) and the scorer that knows the answers."""

    task: str
    requests: tuple[Any, ...]
    scorer: Any = field(repr=False)  # Callable[[list[result | None], CodeChecker], Grade]
    summary: str = ""

    def grade(self, results: list[Any | None], checker: CodeChecker) -> Grade:
        return self.scorer(results, checker)


def make_pattern(
    rng: random.Random,
    *,
    trigger: str,
    solution: Any,
    domain: str,
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


def content_key(value: Any) -> str:
    """Normalised hash of generated content: case, whitespace and key order do not matter."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str).lower()
    text = re.sub(r"\s+", " ", text)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse_json_answer(text: str) -> Any:
    """A miner's answer as JSON: the whole text, or the last fenced or last-line JSON value."""
    candidates = [text.strip()]
    fenced = re.findall(r"```(?:json)?\s*(.*?)```", text, flags=re.DOTALL)
    candidates += [f.strip() for f in reversed(fenced)]
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if lines:
        candidates.append(lines[-1])
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except ValueError:
            continue
    raise ValueError("no JSON value found in the answer")
