"""Per-step JSON lines in the state dir (`steps.jsonl`): what the devnet and operators read.

One line per finished step, written after the step's scores are committed: step, block, ts,
`queries` (requests sent) and `query_outcomes` (by outcome), per-uid `rewards` and `scores`
(moving averages), per-uid `tasks` details, `weights` (ok, status, message, uids, weights,
block) and `near_rewards` (hotkey -> reward mirrored at this step, empty when none). The step's
seed is kept in the score store only. mycel_subnet.devnet.validator_state reads this file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

STEPS_FILE = "steps.jsonl"


class StepLog:
    def __init__(self, state_dir: Path) -> None:
        self.path = Path(state_dir) / STEPS_FILE
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def append(self, entry: dict[str, Any]) -> None:
        line = json.dumps(entry, sort_keys=True, default=str)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())


def read_steps(state_dir: Path) -> list[dict[str, Any]]:
    """Every complete line (a line cut short by a crash is skipped)."""
    path = Path(state_dir) / STEPS_FILE
    if not path.exists():
        return []
    entries = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entries.append(json.loads(line))
        except ValueError:
            continue
    return entries
