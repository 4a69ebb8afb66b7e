"""The validator's per-uid log lines for one step: who was asked where, what they scored, why.

One INFO line per queried uid (reward, moving-average score, accuracy per task, the kinds of
failed queries and the endpoint), so an operator reads from the log which miner failed and
how, not only an aggregate count. The per-task details go out at DEBUG.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

TASK_SHORT = {
    "evaluate_pattern": "eval",
    "generate_pattern": "gen",
    "inference": "infer",
    "search_patterns": "search",
}


def error_kind(error: str) -> str:
    """The kind part of a recorded query error ("http_error: HTTP 403 ..." -> "http_error"),
    with the HTTP refusal code when there is one ("http_error 403 no_validator_permit")."""
    kind, _, rest = error.partition(": ")
    words = rest.split()
    if kind == "http_error" and len(words) >= 3 and words[0] == "HTTP":
        return f"{kind} {words[1]} {words[2].rstrip(':')}"
    return kind


def errors_summary(results: Iterable[Any]) -> str:
    """'none', or each error kind with its count, most frequent first."""
    kinds = Counter(error_kind(e) for r in results for e in r.errors)
    return ", ".join(f"{k} x{n}" for k, n in kinds.most_common()) or "none"


def accuracy_by_task(results: Iterable[Any]) -> dict[str, float]:
    """Mean accuracy per task type over the uid's challenges of the step."""
    values: dict[str, list[float]] = {}
    for r in results:
        values.setdefault(r.task, []).append(r.accuracy)
    return {task: sum(v) / len(v) for task, v in values.items()}


def uid_line(
    uid: int,
    results: list[Any],
    *,
    reward: float,
    score: float | None,
    endpoint: str,
) -> str:
    accuracy = " ".join(
        f"{TASK_SHORT.get(task, task)} {value:.2f}"
        for task, value in sorted(accuracy_by_task(results).items())
    )
    score_text = "-" if score is None else f"{score:.3f}"
    return (
        f"uid {uid} at {endpoint or '?'}: reward {reward:.3f} score {score_text} | "
        f"accuracy {accuracy or '-'} | errors {errors_summary(results)}"
    )


def detail_lines(uid: int, results: list[Any]) -> list[str]:
    """One line per challenge, for DEBUG: task, tier, accuracy, latency and the grader's why."""
    return [
        f"uid {uid} {r.task} t{r.tier}: accuracy {r.accuracy:.2f} in {r.latency_s:.2f}s: "
        f"{r.detail[:160]}"
        for r in results
    ]
