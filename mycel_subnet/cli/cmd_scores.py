"""`mycel scores`: a validator's state as a table with reasons, or JSON.

Reads the state folder read-only (the score store `scores.sqlite` and the step log
`steps.jsonl`), so it is safe next to a running validator: per uid the moving-average score, the
last raw reward, accuracy per task, failed queries by kind and the most frequent reasons for
low accuracy; then the last step's weight attempt.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from contextlib import closing
from pathlib import Path
from typing import Any

from mycel_subnet.config import ConfigError
from mycel_subnet.validator.steplog import STEPS_FILE, read_steps
from mycel_subnet.validator.store import SCORES_FILE

DEFAULT_STATE_DIR = Path("~/.mycel/validator")
TASKS = (("evaluate_pattern", "eval"), ("generate_pattern", "gen"), ("inference", "infer"))


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "scores",
        help="show a validator's scores, accuracy per task and reasons",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=DEFAULT_STATE_DIR,
        help="the validator's --validator.state_dir (default: ~/.mycel/validator)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(run=run)


def read_store(path: Path) -> dict[int, dict[str, Any]]:
    """uid -> {hotkey, score, updated_step} from the score store, opened read-only."""
    if not path.exists():
        return {}
    try:
        with closing(sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)) as conn:
            rows = conn.execute("SELECT uid, hotkey, score, updated_step FROM scores").fetchall()
    except sqlite3.DatabaseError as error:
        raise ConfigError(f"{path} is not a validator score store: {error}") from None
    return {
        int(uid): {"hotkey": str(hk), "score": float(score), "updated_step": int(step)}
        for uid, hk, score, step in rows
    }


def collect(state_dir: Path) -> dict[str, Any]:
    """Everything the command shows, as plain data (the --json output)."""
    from mycel_subnet.devnet.validator_state import miner_summaries

    state_dir = state_dir.expanduser()
    store_path, steps_path = state_dir / SCORES_FILE, state_dir / STEPS_FILE
    if not state_dir.is_dir():
        raise ConfigError(f"no validator state folder at {state_dir}; pass --state-dir")
    if not store_path.exists() and not steps_path.exists():
        raise ConfigError(
            f"{state_dir} holds no {SCORES_FILE} or {STEPS_FILE}: not a validator's state folder"
        )
    store = read_store(store_path)
    steps = read_steps(state_dir)
    summaries = miner_summaries(state_dir)
    miners = []
    for uid in sorted(set(store) | set(summaries)):
        row, summary = store.get(uid, {}), summaries.get(uid)
        miners.append({
            "uid": uid,
            "hotkey": row.get("hotkey"),
            "score": row.get("score"),
            "last_reward": summary.last_reward if summary else None,
            "steps": summary.steps if summary else 0,
            "accuracy": {k: round(v, 4) for k, v in summary.accuracy.items()} if summary else {},
            "errors": summary.errors if summary else {},
            "reasons": summary.reasons if summary else [],
        })  # fmt: skip
    last = steps[-1] if steps else {}
    return {
        "state_dir": str(state_dir),
        "steps": len(steps),
        "last_step": last.get("step"),
        "last_block": last.get("block"),
        "last_weights": last.get("weights"),
        "miners": miners,
    }


def render(data: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False, width=max(Console().width, 160))
    table = Table(
        title=f"validator state {data['state_dir']}: {data['steps']} step(s) recorded, "
        f"last step {data['last_step']} at block {data['last_block']}"
    )
    for column in ("uid", "hotkey", "score (avg)", "last reward", "steps",
                   *(f"{short} acc" for _, short in TASKS), "failed queries"):  # fmt: skip
        table.add_column(column, justify="left" if column == "hotkey" else "right", no_wrap=True)
    for m in data["miners"]:
        table.add_row(
            str(m["uid"]),
            (m["hotkey"] or "?")[:10],
            "-" if m["score"] is None else f"{m['score']:.3f}",
            "-" if m["last_reward"] is None else f"{m['last_reward']:.3f}",
            str(m["steps"]),
            *("-" if task not in m["accuracy"] else f"{m['accuracy'][task]:.2f}"
              for task, _ in TASKS),
            ", ".join(f"{k} x{n}" for k, n in m["errors"].items()) or "none",
        )  # fmt: skip
    console.print(table)
    console.print("why low scores were low (most frequent first):", markup=False)
    for m in data["miners"]:
        why = "; ".join(m["reasons"]) or ("none" if m["steps"] else "not queried in any step")
        console.print(f"  uid {m['uid']}: {why}", markup=False, soft_wrap=True)
    weights = data["last_weights"] or {}
    if weights:
        console.print(
            f"last weights: {weights.get('status')} at block {weights.get('block')}: "
            f"{weights.get('message') or ''}",
            markup=False,
        )


def run(args: argparse.Namespace) -> int:
    data = collect(args.state_dir)
    if args.json:
        json.dump(data, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        render(data)
    return 0
