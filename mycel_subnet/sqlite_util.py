"""SQLite helpers shared by every store that several processes open at once (the sim chain, the
validator's scores, the pattern store, the NEAR ledger): WAL switching that survives two
processes creating the file together, and the one write-transaction shape they all need."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def enable_wal(conn: sqlite3.Connection, timeout_s: float) -> str:
    """Switch to WAL and return the journal mode SQLite reports (callers check it is "wal").

    SQLite answers "locked" at once, without waiting on the busy timeout, when two processes
    create the file together, so retry briefly.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return str(conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]).lower()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


@contextmanager
def immediate_transaction(
    conn: sqlite3.Connection, lock: threading.Lock | threading.RLock
) -> Iterator[sqlite3.Connection]:
    """One atomic write transaction. ``BEGIN IMMEDIATE`` takes the file's write lock up front,
    so concurrent writers queue on the busy timeout instead of failing at commit."""
    with lock:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")


def open_shared(
    path: str | Path, schema: str, *, synchronous: str = "NORMAL", timeout_s: float = 30.0
) -> tuple[sqlite3.Connection, threading.RLock]:
    """A WAL connection in autocommit mode that worker threads share under the returned lock
    (never two at once), with `schema` applied: the opening every small store repeats."""
    if synchronous not in ("NORMAL", "FULL"):
        raise ValueError(f"synchronous must be NORMAL or FULL, got {synchronous!r}")
    conn = sqlite3.connect(
        str(path), timeout=timeout_s, isolation_level=None, check_same_thread=False
    )
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.executescript(schema)
    return conn, threading.RLock()
