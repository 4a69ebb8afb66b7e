"""SQLite storage for the sim chain.

One file holds the whole chain. WAL mode lets readers run beside one writer; every write runs
inside ``BEGIN IMMEDIATE`` so two processes sharing the file serialise their state transitions
instead of interleaving them; the busy timeout makes a second writer wait rather than fail.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

from mycel_subnet.sqlite_util import immediate_transaction

SCHEMA_VERSION = "1"


class ChainNotInitialised(RuntimeError):
    """The chain file has no genesis yet (or cannot be used as a chain file at all)."""


class ChainFileMissing(ChainNotInitialised):
    """No chain file at the path: a typo must not silently start a new chain."""


class NotAChainFile(ChainNotInitialised):
    """The path holds something that is not a sim chain (another file, a folder)."""


def create_hint(path: Path) -> str:
    return f"create it with `mycel sim create {path}`"


def check_chain_file(path: str | Path) -> Path:
    """The path of an existing sim chain file with a genesis; one-line errors otherwise.

    It only reads, so a wrong path (another program's database) is never modified.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise ChainFileMissing(f"sim chain file {path} does not exist; {create_hint(path)}")
    if not path.is_file():
        raise NotAChainFile(f"{path} is not a sim chain file (it is a folder)")
    # Only SQLite touches the file: opening and closing it any other way (even to read its
    # header) drops this process's POSIX locks on it, and another process could then
    # checkpoint the WAL away under our open connections.
    try:
        with contextlib.closing(sqlite3.connect(str(path), timeout=30.0)) as conn:
            row = conn.execute("SELECT value FROM meta WHERE key='genesis_time'").fetchone()
    except sqlite3.OperationalError as error:
        if "no such table" not in str(error):
            raise NotAChainFile(f"{path} is not a usable sim chain file ({error})") from None
        row = None
    except sqlite3.DatabaseError as error:
        raise NotAChainFile(f"{path} is not a sim chain file ({error})") from None
    if row is None:
        raise ChainNotInitialised(f"sim chain {path} has no genesis; {create_hint(path)}")
    return path


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
    ss58 TEXT PRIMARY KEY, free INTEGER NOT NULL DEFAULT 0, nonce INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS subnets (
    netuid INTEGER PRIMARY KEY,
    owner_coldkey TEXT NOT NULL,
    owner_hotkey TEXT NOT NULL,
    registered_at INTEGER NOT NULL,
    start_block INTEGER,
    last_epoch INTEGER NOT NULL DEFAULT 0,
    locked INTEGER NOT NULL DEFAULT 0,
    name TEXT NOT NULL,
    symbol TEXT NOT NULL,
    hparams TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS neurons (
    netuid INTEGER NOT NULL,
    uid INTEGER NOT NULL,
    hotkey TEXT NOT NULL,
    coldkey TEXT NOT NULL,
    registered_at INTEGER NOT NULL,
    last_update INTEGER NOT NULL DEFAULT 0,
    validator_permit INTEGER NOT NULL DEFAULT 0,
    active INTEGER NOT NULL DEFAULT 1,
    rank REAL NOT NULL DEFAULT 0,
    trust REAL NOT NULL DEFAULT 0,
    consensus REAL NOT NULL DEFAULT 0,
    incentive REAL NOT NULL DEFAULT 0,
    dividends REAL NOT NULL DEFAULT 0,
    validator_trust REAL NOT NULL DEFAULT 0,
    pruning_score REAL NOT NULL DEFAULT 0,
    emission INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (netuid, uid),
    UNIQUE (netuid, hotkey)
);
CREATE TABLE IF NOT EXISTS axons (
    netuid INTEGER NOT NULL,
    hotkey TEXT NOT NULL,
    block INTEGER NOT NULL,
    version INTEGER NOT NULL,
    ip INTEGER NOT NULL,
    port INTEGER NOT NULL,
    ip_type INTEGER NOT NULL,
    protocol INTEGER NOT NULL,
    PRIMARY KEY (netuid, hotkey)
);
CREATE TABLE IF NOT EXISTS stakes (
    hotkey TEXT NOT NULL,
    coldkey TEXT NOT NULL,
    netuid INTEGER NOT NULL,
    alpha INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (hotkey, coldkey, netuid)
);
CREATE TABLE IF NOT EXISTS weights (
    netuid INTEGER NOT NULL, uid INTEGER NOT NULL, row TEXT NOT NULL, PRIMARY KEY (netuid, uid)
);
CREATE TABLE IF NOT EXISTS bonds (netuid INTEGER PRIMARY KEY, n INTEGER NOT NULL, data BLOB);
CREATE TABLE IF NOT EXISTS subnet_epochs (
    netuid INTEGER PRIMARY KEY, epoch_index INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS timelocked_commits (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    netuid INTEGER NOT NULL,
    epoch INTEGER NOT NULL,
    hotkey TEXT NOT NULL,
    commit_block INTEGER NOT NULL,
    ciphertext BLOB NOT NULL,
    reveal_round INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS timelocked_commits_epoch ON timelocked_commits (netuid, epoch);
CREATE TABLE IF NOT EXISTS drand_pulses (round INTEGER PRIMARY KEY, signature TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (block INTEGER NOT NULL, record TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_block ON events (block);
"""


class Store:
    """A thread-safe handle on one chain file (one connection per Store, guarded by a lock)."""

    def __init__(self, path: str | Path, busy_timeout_s: float = 30.0) -> None:
        self.path = Path(path).expanduser()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(
            str(self.path),
            timeout=busy_timeout_s,
            isolation_level=None,  # explicit BEGIN/COMMIT only
            check_same_thread=False,  # the SDK's loop thread and callers share it, under _lock
        )
        self._conn.row_factory = sqlite3.Row
        try:
            self._conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = NORMAL")
            with self.write() as conn:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
        except sqlite3.DatabaseError as error:
            self._conn.close()
            raise NotAChainFile(f"{self.path} is not a sim chain file ({error})") from None

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One atomic write transaction (``BEGIN IMMEDIATE`` takes the file's write lock first)."""
        with immediate_transaction(self._conn, self._lock) as conn:
            yield conn

    @contextlib.contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A consistent read snapshot (a deferred transaction sees one WAL version)."""
        with self._lock:
            self._conn.execute("BEGIN")
            try:
                yield self._conn
            finally:
                self._conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._conn.close()
