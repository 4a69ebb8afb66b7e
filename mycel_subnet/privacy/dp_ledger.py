"""ZcdpLedger: a zCDP privacy budget per key (a pattern id) that survives restarts.

Why a file: a budget kept in memory resets whenever the process restarts, and then the same
statistics could be released again and again at full cost each time. The ledger keeps the rho
spent per key in SQLite (WAL, one IMMEDIATE transaction per charge, so several processes sharing
the file never spend the same budget twice). rho composes by addition (see dp.py), and the
(epsilon, delta) reported is always computed from the total rho, never summed per release.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from mycel_subnet.privacy.dp import (
    PrivacyBudgetExceeded,
    _check_delta,
    _positive,
    rho_for_epsilon,
    zcdp_epsilon,
)
from mycel_subnet.sqlite_util import enable_wal, immediate_transaction

MAX_KEY_CHARS = 200
_TOLERANCE = 1e-9  # relative: n releases of budget/n must fit the budget despite rounding

_SCHEMA = """
CREATE TABLE IF NOT EXISTS dp_spend (
    key TEXT PRIMARY KEY,
    rho REAL NOT NULL,
    releases INTEGER NOT NULL,
    updated_at REAL NOT NULL
)
"""


def check_key(key: object) -> str:
    """A ledger key is a non-empty string of at most MAX_KEY_CHARS characters."""
    if not isinstance(key, str) or not key.strip():
        raise ValueError(f"key must be a non-empty string, got {key!r}")
    if len(key) > MAX_KEY_CHARS:
        raise ValueError(f"key is {len(key)} characters; at most {MAX_KEY_CHARS}")
    return key


class ZcdpLedger:
    """rho spent per key, against one (epsilon_budget, delta) budget per key.

    Keys are independent budgets: that is right when each key's data are disjoint (one
    interaction is one use of one pattern, so per-pattern statistics compose in parallel)."""

    def __init__(
        self,
        path: str | Path,
        *,
        epsilon_budget: float,
        delta: float,
        timeout_s: float = 30.0,
    ) -> None:
        self.epsilon_budget = _positive(epsilon_budget, "epsilon_budget")
        self.delta = _check_delta(delta)
        self.rho_budget = rho_for_epsilon(self.epsilon_budget, self.delta)
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(
            str(self.path), timeout=timeout_s, isolation_level=None, check_same_thread=False
        )
        self._conn.execute(f"PRAGMA busy_timeout={int(timeout_s * 1000)}")
        if enable_wal(self._conn, timeout_s) != "wal":
            raise RuntimeError(f"cannot use WAL journal on {self.path}")
        with immediate_transaction(self._conn, self._lock) as conn:
            conn.execute(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> ZcdpLedger:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _row(self, conn: sqlite3.Connection, key: str) -> tuple[float, int]:
        row = conn.execute("SELECT rho, releases FROM dp_spend WHERE key = ?", (key,)).fetchone()
        return (0.0, 0) if row is None else (float(row[0]), int(row[1]))

    def spent_rho(self, key: str) -> float:
        with self._lock:
            return self._row(self._conn, check_key(key))[0]

    def releases(self, key: str) -> int:
        with self._lock:
            return self._row(self._conn, check_key(key))[1]

    def epsilon(self, key: str) -> float:
        """The epsilon spent on ``key`` so far, at this ledger's delta."""
        return zcdp_epsilon(self.spent_rho(key), self.delta)

    def remaining_rho(self, key: str) -> float:
        return max(0.0, self.rho_budget - self.spent_rho(key))

    def charge(self, key: str, rho: float, *, what: str = "release") -> float:
        """Spend ``rho`` on ``key`` and return the epsilon spent after it, or raise
        PrivacyBudgetExceeded (leaving the ledger unchanged) if it would pass the budget."""
        key = check_key(key)
        rho = _positive(rho, "rho")
        with immediate_transaction(self._conn, self._lock) as conn:
            spent, releases = self._row(conn, key)
            after = spent + rho
            if after > self.rho_budget * (1 + _TOLERANCE):
                raise PrivacyBudgetExceeded(
                    f"privacy budget exhausted for {what}: it would bring epsilon to "
                    f"{zcdp_epsilon(after, self.delta):.3f} (delta={self.delta:g}), over the "
                    f"budget {self.epsilon_budget:g}; {zcdp_epsilon(spent, self.delta):.3f} "
                    f"spent in {releases} release(s)"
                )
            conn.execute(
                "INSERT INTO dp_spend(key, rho, releases, updated_at) VALUES (?, ?, 1, ?)"
                " ON CONFLICT(key) DO UPDATE SET rho = excluded.rho,"
                " releases = releases + 1, updated_at = excluded.updated_at",
                (key, after, time.time()),
            )
        return zcdp_epsilon(after, self.delta)

    def __repr__(self) -> str:
        return (
            f"ZcdpLedger({str(self.path)!r}, epsilon_budget={self.epsilon_budget:g}, "
            f"delta={self.delta:g}, rho_budget={self.rho_budget:.6g})"
        )
