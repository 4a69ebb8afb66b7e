"""The validator's score store: an exponential moving average per uid, in SQLite.

WAL with synchronous=FULL, and one transaction per step: after `commit_step` returns, the step
survives kill -9 and power loss; a kill before it leaves the previous step intact. Rows follow
the metagraph: a uid whose hotkey changed starts again from zero, departed uids are dropped,
new uids appear at zero.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from mycel_subnet.sqlite_util import immediate_transaction, open_shared

SCORES_FILE = "scores.sqlite"
SCHEMA = """
CREATE TABLE IF NOT EXISTS scores (
    uid INTEGER PRIMARY KEY,
    hotkey TEXT NOT NULL,
    score REAL NOT NULL,
    updated_step INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS steps (
    step INTEGER PRIMARY KEY,
    block INTEGER NOT NULL,
    seed TEXT NOT NULL,
    finished_at REAL NOT NULL,
    duration_s REAL NOT NULL,
    rewards TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS task_values (
    uid INTEGER NOT NULL,
    task TEXT NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (uid, task)
);
"""


@dataclass(frozen=True)
class StepRecord:
    step: int
    block: int
    seed: str
    duration_s: float
    rewards: Mapping[int, float]
    # per-task values of this step per uid; with them, scores come from their moving averages
    values: Mapping[int, Mapping[str, float]] | None = None


class ScoreStore:
    """Moving averages per uid; every public method is its own transaction."""

    def __init__(self, path: Path, alpha: float) -> None:
        if not 0.0 < alpha <= 1.0:
            raise ValueError(f"moving average alpha must be in (0, 1], got {alpha}")
        self.path = Path(path)
        self.alpha = alpha
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Used from worker threads (never two at once: the lock serialises every call).
        self._conn, self._lock = open_shared(self.path, SCHEMA, synchronous="FULL")

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def _tx(self):
        with immediate_transaction(self._conn, self._lock) as conn:
            yield conn

    def _query(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._conn.execute(sql, args).fetchall()

    # -- reads ------------------------------------------------------------------------------

    def scores(self) -> dict[int, float]:
        rows = self._query("SELECT uid, score FROM scores ORDER BY uid")
        return {int(uid): float(score) for uid, score in rows}

    def hotkeys(self) -> dict[int, str]:
        rows = self._query("SELECT uid, hotkey FROM scores")
        return {int(uid): str(hotkey) for uid, hotkey in rows}

    def last_step(self) -> int:
        return int(self._query("SELECT MAX(step) FROM steps")[0][0] or 0)

    def meta(self, key: str) -> str | None:
        rows = self._query("SELECT value FROM meta WHERE key=?", (key,))
        return str(rows[0][0]) if rows else None

    # -- writes -----------------------------------------------------------------------------

    @staticmethod
    def _sync(conn: sqlite3.Connection, hotkeys: Mapping[int, str]) -> None:
        known = dict(conn.execute("SELECT uid, hotkey FROM scores").fetchall())
        gone = [uid for uid in known if uid not in hotkeys]
        conn.executemany("DELETE FROM scores WHERE uid=?", [(uid,) for uid in gone])
        changed = [uid for uid in hotkeys if uid in known and known[uid] != hotkeys[uid]]
        conn.executemany("DELETE FROM task_values WHERE uid=?", [(u,) for u in gone + changed])
        for uid, hotkey in hotkeys.items():
            if uid not in known:
                conn.execute("INSERT INTO scores (uid, hotkey, score) VALUES (?, ?, 0.0)",
                             (uid, hotkey))  # fmt: skip
            elif known[uid] != hotkey:  # the uid was re-registered by someone else
                conn.execute("UPDATE scores SET hotkey=?, score=0.0 WHERE uid=?", (hotkey, uid))

    def sync_metagraph(self, hotkeys: Mapping[int, str]) -> None:
        """Make the rows follow the metagraph (uid -> hotkey)."""
        with self._tx() as conn:
            self._sync(conn, hotkeys)

    def task_values(self) -> dict[int, dict[str, float]]:
        rows = self._query("SELECT uid, task, value FROM task_values")
        out: dict[int, dict[str, float]] = {}
        for uid, task, value in rows:
            out.setdefault(int(uid), {})[str(task)] = float(value)
        return out

    def commit_step(
        self,
        record: StepRecord,
        hotkeys: Mapping[int, str],
        score_of: Callable[[Mapping[str, float]], float] | None = None,
    ) -> dict[int, float]:
        """Sync with the metagraph, fold this step into the averages, record the step: one
        transaction. Returns the new scores.

        With `record.values` and `score_of`, the per-task values are averaged and each score is
        `score_of(averaged values)`; otherwise the scores average `record.rewards`.
        """
        with self._tx() as conn:
            self._sync(conn, hotkeys)
            if record.values is not None and score_of is not None:
                self._fold_values(conn, record, hotkeys, score_of)
            else:
                self._fold_rewards(conn, record, hotkeys)
            conn.execute(
                "INSERT OR REPLACE INTO steps VALUES (?, ?, ?, ?, ?, ?)",
                (record.step, record.block, record.seed, time.time(), record.duration_s,
                 json.dumps({str(k): v for k, v in record.rewards.items()})),
            )  # fmt: skip
        return self.scores()

    def _fold_rewards(
        self, conn: sqlite3.Connection, record: StepRecord, hotkeys: Mapping[int, str]
    ) -> None:
        for uid, reward in record.rewards.items():
            if uid in hotkeys:
                conn.execute(
                    "UPDATE scores SET score = ? * ? + (1 - ?) * score, updated_step=? WHERE uid=?",
                    (self.alpha, float(reward), self.alpha, record.step, uid),
                )

    def _fold_values(
        self,
        conn: sqlite3.Connection,
        record: StepRecord,
        hotkeys: Mapping[int, str],
        score_of: Callable[[Mapping[str, float]], float],
    ) -> None:
        for uid, values in (record.values or {}).items():
            if uid not in hotkeys:
                continue
            old = dict(conn.execute("SELECT task, value FROM task_values WHERE uid=?", (uid,)))
            new = {t: self.alpha * float(v) + (1 - self.alpha) * old.get(t, 0.0)
                   for t, v in values.items()}  # fmt: skip
            conn.executemany(
                "INSERT OR REPLACE INTO task_values VALUES (?, ?, ?)",
                [(uid, t, v) for t, v in new.items()],
            )
            conn.execute(
                "UPDATE scores SET score=?, updated_step=? WHERE uid=?",
                (float(score_of({**old, **new})), record.step, uid),
            )

    def set_meta(self, key: str, value: str) -> None:
        with self._tx() as conn:
            conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))


def read_scores(path: Path) -> dict[int, float]:
    """Scores from a store file, read-only (for observers; never blocks the validator)."""
    if not Path(path).exists():
        return {}
    uri = f"file:{Path(path).resolve()}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True, timeout=5.0)) as conn:
        try:
            rows = conn.execute("SELECT uid, score FROM scores").fetchall()
        except sqlite3.OperationalError:
            return {}
    return {int(uid): float(score) for uid, score in rows}
