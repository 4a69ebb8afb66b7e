"""SQLite helpers shared by every store that several processes open at once (the sim chain, the
validator's scores, the pattern store, the NEAR ledger): WAL switching that survives two
processes creating the file together, and the one write-transaction shape they all need."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


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
