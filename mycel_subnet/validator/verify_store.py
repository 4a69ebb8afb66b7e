"""What the validator has verified, and when: one SQLite row per registry pattern id.

The draw order of a verification pass is here: ids never checked first (the newest first: what
was just published is what its creator waits on), then checked but never attested ones (no
calibrated miner answered yet, or their metadata could not be fetched) once `retry_s` has
passed, then the least recently verified attested ones once `recheck_s` has passed.
Quarantined patterns are final: their content is fixed by its hash, so a verdict of unsafe
code never changes.
A registry reset (its next_id below what this store has seen) empties the store, and an id
that now holds another hash starts again as new; both are reported by the caller.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from mycel_subnet.sqlite_util import immediate_transaction, open_shared

VERIFY_FILE = "verification.sqlite"
SCHEMA = """
CREATE TABLE IF NOT EXISTS patterns (
    id INTEGER PRIMARY KEY,
    pattern_hash TEXT,
    first_seen REAL NOT NULL,
    checked_at REAL,
    checks INTEGER NOT NULL DEFAULT 0,
    failures INTEGER NOT NULL DEFAULT 0,
    quality_ppm INTEGER,
    safe INTEGER,
    reason TEXT NOT NULL DEFAULT '',
    attested_at REAL,
    attested_ppm INTEGER,
    attested_safe INTEGER,
    final INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS patterns_checked ON patterns (final, checked_at);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
MAX_DISCOVER = 100_000  # ids inserted per pass at most (a registry of millions catches up)


@dataclass(frozen=True)
class Record:
    id: int
    pattern_hash: str | None
    checked_at: float | None
    checks: int
    failures: int
    quality_ppm: int | None
    safe: bool | None
    reason: str
    attested_at: float | None
    attested_ppm: int | None
    attested_safe: bool | None
    final: bool


def _bool(value: int | None) -> bool | None:
    return None if value is None else bool(value)


class VerificationStore:
    """Every public method is one transaction; safe to call from worker threads."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Used from worker threads (never two at once: the lock serialises every call).
        self._conn, self._lock = open_shared(self.path, SCHEMA, synchronous="NORMAL")

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def _tx(self):
        with immediate_transaction(self._conn, self._lock) as conn:
            yield conn

    def _rows(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._conn.execute(sql, args).fetchall()

    @property
    def cursor(self) -> int:
        """One past the highest registry id this store knows."""
        rows = self._rows("SELECT value FROM meta WHERE key='next_id'")
        return int(rows[0][0]) if rows else 1

    def discover(self, next_id: int, now: float) -> tuple[int, int]:
        """Insert the ids registered since the last pass; returns (added, dropped), where
        `dropped` counts the rows removed because the registry was reset under this store."""
        with self._tx() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key='next_id'").fetchone()
            cursor = int(row[0]) if row else 1
            dropped = 0
            if next_id < cursor:
                dropped = conn.execute("DELETE FROM patterns").rowcount
                cursor = 1
            end = min(next_id, cursor + MAX_DISCOVER)
            conn.executemany(
                "INSERT OR IGNORE INTO patterns (id, first_seen) VALUES (?, ?)",
                [(i, now) for i in range(cursor, end)],
            )
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('next_id', ?)", (str(end),))
        return end - cursor, dropped

    def due(self, limit: int, now: float, *, retry_s: float, recheck_s: float) -> list[int]:
        """At most `limit` ids in draw order (see the module docstring)."""
        if limit <= 0:
            return []
        picked = [r[0] for r in self._rows(
            "SELECT id FROM patterns WHERE final=0 AND checked_at IS NULL ORDER BY id DESC LIMIT ?",
            (limit,),
        )]  # fmt: skip
        if len(picked) < limit:
            picked += [r[0] for r in self._rows(
                "SELECT id FROM patterns WHERE final=0 AND checked_at IS NOT NULL"
                " AND attested_at IS NULL AND checked_at <= ? ORDER BY checked_at, id LIMIT ?",
                (now - retry_s, limit - len(picked)),
            )]  # fmt: skip
        if len(picked) < limit:
            picked += [r[0] for r in self._rows(
                "SELECT id FROM patterns WHERE final=0 AND attested_at IS NOT NULL"
                " AND checked_at <= ? ORDER BY checked_at, id LIMIT ?",
                (now - recheck_s, limit - len(picked)),
            )]  # fmt: skip
        return picked

    def get(self, pattern_id: int) -> Record | None:
        rows = self._rows(
            "SELECT id, pattern_hash, checked_at, checks, failures, quality_ppm, safe, reason,"
            " attested_at, attested_ppm, attested_safe, final FROM patterns WHERE id=?",
            (pattern_id,),
        )
        if not rows:
            return None
        r = rows[0]
        return Record(r[0], r[1], r[2], r[3], r[4], r[5], _bool(r[6]), r[7], r[8], r[9],
                      _bool(r[10]), bool(r[11]))  # fmt: skip

    def restart(self, pattern_id: int, pattern_hash: str, now: float) -> None:
        """The id now holds `pattern_hash` (new, or another pattern after a reset): start over."""
        with self._tx() as conn:
            conn.execute("DELETE FROM patterns WHERE id=?", (pattern_id,))
            conn.execute(
                "INSERT INTO patterns (id, pattern_hash, first_seen) VALUES (?, ?, ?)",
                (pattern_id, pattern_hash, now),
            )

    def failed(self, pattern_id: int, now: float) -> int:
        """Its metadata could not be read this time; returns the failures so far."""
        with self._tx() as conn:
            conn.execute(
                "UPDATE patterns SET checked_at=?, failures=failures+1 WHERE id=?",
                (now, pattern_id),
            )
            row = conn.execute("SELECT failures FROM patterns WHERE id=?", (pattern_id,)).fetchone()
        return int(row[0]) if row else 0

    def checked(
        self, pattern_id: int, now: float, quality_ppm: int | None, safe: bool, reason: str
    ) -> None:
        """Record this pass's verdict (quality None: no verdict yet, only checked)."""
        with self._tx() as conn:
            conn.execute(
                "UPDATE patterns SET checked_at=?, checks=checks+1, failures=0,"
                " quality_ppm=COALESCE(?, quality_ppm), safe=?, reason=? WHERE id=?",
                (now, quality_ppm, int(safe), reason, pattern_id),
            )

    def attested(self, pattern_id: int, now: float, quality_ppm: int, safe: bool) -> None:
        """The registry took this verdict; an unsafe one is final (quarantined)."""
        with self._tx() as conn:
            conn.execute(
                "UPDATE patterns SET attested_at=?, attested_ppm=?, attested_safe=?, final=?"
                " WHERE id=?",
                (now, quality_ppm, int(safe), int(not safe), pattern_id),
            )

    def gone(self, pattern_id: int, now: float) -> None:
        """The registry no longer holds it (removed by its creator): never drawn again."""
        with self._tx() as conn:
            conn.execute("UPDATE patterns SET checked_at=?, final=1 WHERE id=?", (now, pattern_id))

    def counts(self) -> dict[str, int]:
        """How many ids are unchecked, attested (safe), quarantined, removed, and pending."""
        row = self._rows(
            "SELECT COUNT(*), SUM(checked_at IS NULL), SUM(attested_at IS NOT NULL AND final=0),"
            " SUM(final=1 AND attested_safe=0), SUM(final=1 AND attested_safe IS NOT 0)"
            " FROM patterns"
        )[0]
        total, unchecked, attested, quarantined, removed = (int(x or 0) for x in row)
        pending = total - unchecked - attested - quarantined - removed
        return {"known": total, "unchecked": unchecked, "attested": attested,
                "quarantined": quarantined, "removed": removed, "pending": pending}  # fmt: skip
