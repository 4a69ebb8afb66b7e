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
