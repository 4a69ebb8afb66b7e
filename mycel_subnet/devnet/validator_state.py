"""Read a running validator's progress from its state folder, for the devnet's live view.

The validator appends one JSON object per step to ``steps.jsonl`` in its state folder; this module
only reads it (tolerating a half-written last line, since the validator may be writing it now).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

STEPS_FILE = "steps.jsonl"


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


def miner_summaries(state_dir: Path, low: float = 0.5, top: int = 3) -> dict[int, MinerSummary]:
    """Per-uid accuracy per task, shared-duplicate steps and reasons, from every step."""
    acc: dict[int, dict[str, list[float]]] = {}
    steps: dict[int, int] = {}
    dup_steps: dict[int, int] = {}
    reasons: dict[int, dict[str, int]] = {}
    for step in _steps(state_dir):
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
        )
        for uid, count in steps.items()
    }
