"""Read a running validator's progress from its state folder, for the devnet's live view.

The validator appends one JSON object per step to ``steps.jsonl`` in its state folder; this module
only reads it (tolerating a half-written last line, since the validator may be writing it now).
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from pathlib import Path

STEPS_FILE = "steps.jsonl"
# Weight attempts that are no failure: not due yet (rate limit), nobody scored yet.
QUIET_WEIGHTS = (None, "not_due", "empty")


@dataclass(frozen=True)
class Activity:
    queries: int = 0
    weight_sets: int = 0


def _steps(state_dir: Path) -> list[dict]:
    path = Path(state_dir) / STEPS_FILE
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return []
    steps = []
    for line in lines:
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # the line being written right now
        if isinstance(record, dict):
            steps.append(record)
    return steps


def activity(state_dir: Path) -> Activity:
    steps = _steps(state_dir)
    queries = sum(int(s.get("queries", 0) or 0) for s in steps)
    weight_sets = sum(1 for s in steps if (s.get("weights") or {}).get("ok"))
    return Activity(queries=queries, weight_sets=weight_sets)


def scores(state_dir: Path) -> dict[int, float]:
    """The latest moving-average score per uid."""
    for step in reversed(_steps(state_dir)):
        if isinstance(step.get("scores"), dict):
            return {int(uid): float(value) for uid, value in step["scores"].items()}
    return {}


def near_rewards(state_dir: Path) -> dict[str, float]:
    """Cumulative reward per hotkey mirrored to the NEAR registry."""
    totals: dict[str, float] = {}
    for step in _steps(state_dir):
        for hotkey, value in (step.get("near_rewards") or {}).items():
            totals[hotkey] = totals.get(hotkey, 0.0) + float(value)
    return totals


@dataclass(frozen=True)
class MinerSummary:
    """What the validator's steps say about one miner: why it scored what it did."""

    accuracy: dict[str, float]  # mean accuracy per task type
    steps: int
    duplicate_steps: int  # steps in which it shared its reward with a duplicate group
    reasons: list[str]  # the most frequent details of its low-accuracy answers
    errors: dict[str, int] = field(default_factory=dict)  # failed queries by kind
    last_reward: float | None = None  # the raw reward of its last step


def miner_summaries(state_dir: Path, low: float = 0.5, top: int = 3) -> dict[int, MinerSummary]:
    """Per-uid accuracy per task, shared-duplicate steps and reasons, from every step."""
    acc: dict[int, dict[str, list[float]]] = {}
    steps: dict[int, int] = {}
    dup_steps: dict[int, int] = {}
    reasons: dict[int, dict[str, int]] = {}
    errors: dict[int, dict[str, int]] = {}
    last_reward: dict[int, float] = {}
    for step in _steps(state_dir):
        for uid_text, value in (step.get("rewards") or {}).items():
            with contextlib.suppress(TypeError, ValueError):
                last_reward[int(uid_text)] = float(value)
        tasks = step.get("tasks")
        if not isinstance(tasks, dict):
            continue
        for uid_text, entries in tasks.items():
            if not isinstance(entries, list):
                continue
            try:
                uid = int(uid_text)
            except ValueError:
                continue
            steps[uid] = steps.get(uid, 0) + 1
            if any(isinstance(e, dict) and e.get("duplicates") for e in entries):
                dup_steps[uid] = dup_steps.get(uid, 0) + 1
            for entry in entries:
                if not isinstance(entry, dict):
                    continue
                accuracy = float(entry.get("accuracy", 0.0) or 0.0)
                kind = entry.get("error") or _kind_of(entry.get("errors"))
                if kind:
                    errors.setdefault(uid, {})[kind] = errors.setdefault(uid, {}).get(kind, 0) + 1
                acc.setdefault(uid, {}).setdefault(str(entry.get("task")), []).append(accuracy)
                if accuracy < low:
                    why = (entry.get("errors") or [None])[0] or entry.get("detail") or "?"
                    key = f"{str(entry.get('task'))[:8]}: {str(why)[:70]}"
                    reasons.setdefault(uid, {})[key] = reasons.setdefault(uid, {}).get(key, 0) + 1
    return {
        uid: MinerSummary(
            accuracy={t: sum(v) / len(v) for t, v in acc.get(uid, {}).items()},
            steps=count,
            duplicate_steps=dup_steps.get(uid, 0),
            reasons=[
                f"{why} (x{n})"
                for why, n in sorted(reasons.get(uid, {}).items(), key=lambda kv: -kv[1])[:top]
            ],
            errors=dict(sorted(errors.get(uid, {}).items(), key=lambda kv: -kv[1])),
            last_reward=last_reward.get(uid),
        )
        for uid, count in steps.items()
    }


def _kind_of(recorded: object) -> str | None:
    """The error kind of a step written before steps recorded one ("kind: detail" strings)."""
    if isinstance(recorded, list) and recorded and isinstance(recorded[0], str):
        from mycel_subnet.validator.step_lines import error_kind

        return error_kind(recorded[0])
    return None


@dataclass(frozen=True)
class StepPoint:
    """One validator step, for the chart: raw rewards, moving averages, accuracy per task."""

    step: int
    block: int
    rewards: dict[int, float]
    scores: dict[int, float]
    accuracy: dict[int, dict[str, float]]  # uid -> task -> mean accuracy in this step


def step_points(state_dir: Path) -> list[StepPoint]:
    points = []
    for step in _steps(state_dir):
        try:
            rewards = {int(k): float(v) for k, v in (step.get("rewards") or {}).items()}
            scores = {int(k): float(v) for k, v in (step.get("scores") or {}).items()}
            accuracy: dict[int, dict[str, float]] = {}
            for uid_text, entries in (step.get("tasks") or {}).items():
                per_task: dict[str, list[float]] = {}
                for e in entries if isinstance(entries, list) else []:
                    if isinstance(e, dict):
                        per_task.setdefault(str(e.get("task")), []).append(
                            float(e.get("accuracy", 0.0) or 0.0)
                        )
                accuracy[int(uid_text)] = {t: sum(v) / len(v) for t, v in per_task.items()}
            points.append(
                StepPoint(int(step.get("step", 0)), int(step.get("block", 0)), rewards, scores,
                          accuracy)
            )  # fmt: skip
        except (TypeError, ValueError, AttributeError):
            continue  # a record from another version: skip, do not fail the report
    return points


def failure_notes(state_dir: Path) -> list[str]:
    """One note per kind of failure the validator recorded: failed queries per uid and kind,
    weight settings that did not go through (by status and message)."""
    queries: dict[tuple[int, str], int] = {}
    weights: dict[tuple[str, str], int] = {}
    for step in _steps(state_dir):
        for uid_text, entries in (step.get("tasks") or {}).items():
            for e in entries if isinstance(entries, list) else []:
                if not isinstance(e, dict):
                    continue
                kind = e.get("error") or _kind_of(e.get("errors"))
                if kind:
                    with contextlib.suppress(ValueError):
                        key = (int(uid_text), str(kind))
                        queries[key] = queries.get(key, 0) + 1
        attempt = step.get("weights") or {}
        if attempt and not attempt.get("ok") and attempt.get("status") not in QUIET_WEIGHTS:
            key = (str(attempt.get("status")), str(attempt.get("message") or "")[:120])
            weights[key] = weights.get(key, 0) + 1
    notes = [
        f"uid {uid}: {n} challenge(s) with failed queries ({kind})"
        for (uid, kind), n in sorted(queries.items())
    ]
    notes += [
        f"weights not set {n} time(s): {status}: {message}"
        for (status, message), n in sorted(weights.items())
    ]
    return notes


VERIFICATIONS_FILE = "verifications.jsonl"


def verification_outcomes(state_dir: Path) -> dict[str, int]:
    """How many verdicts of each outcome the validator's verification passes wrote (attested,
    quarantined, held, pending, unavailable, failed, gone), over every pass."""
    path = Path(state_dir) / VERIFICATIONS_FILE
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return {}
    tally: dict[str, int] = {}
    for line in lines:
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        verdicts = record.get("verdicts") if isinstance(record, dict) else None
        for verdict in verdicts if isinstance(verdicts, list) else []:
            if isinstance(verdict, dict) and isinstance(verdict.get("outcome"), str):
                tally[verdict["outcome"]] = tally.get(verdict["outcome"], 0) + 1
    return dict(sorted(tally.items()))


@dataclass(frozen=True)
class SearchSteps:
    """Steps that had a search task, of all steps, and why the last one without had none."""

    ran: int = 0
    steps: int = 0
    last_skip: str | None = None


def search_steps(state_dir: Path) -> SearchSteps:
    ran, total, skip = 0, 0, None
    for step in _steps(state_dir):
        total += 1
        notes = [n for n in step.get("notes") or [] if isinstance(n, str)]
        search = next((n for n in notes if n.startswith("search: ")), None)
        if search is None:
            continue
        if search.startswith("search: none"):
            skip = search
        else:
            ran += 1
    return SearchSteps(ran, total, skip)
