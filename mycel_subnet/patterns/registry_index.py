"""RegistryIndex: the NEAR pattern registry's patterns, embedded and searchable, in SQLite.

Both neurons keep one: a miner answers search_patterns from it, a validator grades those answers
against its own exact search over the same registry snapshot. Rows are keyed by registry id
(sequential from 1), so a snapshot (`registry_upto`: only ids below it count) is one comparison,
and the sync (registry_sync.py) resumes from the first id it has not settled. Every registry id
below the cursor is settled as one of:

- `indexed`: its metadata was fetched by CID, its content id equals the registered pattern_hash,
  and its trigger and context requirements are embedded (the same text PatternStore embeds);
- `refused`: never indexed, for a reason kept with the row (hash mismatch, invalid metadata,
  bad or oversized CID content): a refused pattern is never searched, by anyone;
- `pending`: the content was not found yet; retried by later syncs.

Search is exact (a matrix-vector product over the allowed rows, ~10 ms at 100k x 384-d): the
validator grades against exact answers, and an honest miner matches them by doing the same.
Several processes may share one file (WAL): each reloads what others wrote on its next search.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mycel_subnet.intelligence.embeddings import Embedder, l2_normalise
from mycel_subnet.patterns.vectors import Row, SearchFilter, VectorSet
from mycel_subnet.sqlite_util import enable_wal, immediate_transaction
from protocol import SearchPatternsRequest, SearchPatternsResult

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
    registry_id INTEGER PRIMARY KEY,
    pattern_hash TEXT NOT NULL,
    metadata_cid TEXT NOT NULL,
    domain TEXT NOT NULL,
    creator TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('indexed', 'refused', 'pending')),
    reason TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 1,
    trigger TEXT NOT NULL DEFAULT '',
    body TEXT,
    embedding BLOB,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_status ON entries(status);
"""
STATUSES = ("indexed", "refused", "pending")


class RegistryIndexError(Exception):
    """The index file cannot be used as asked (another embedder, another registry)."""


@dataclass(frozen=True)
class Settled:
    """What the sync decided about one registry id (a row of the index)."""

    registry_id: int
    pattern_hash: str
    metadata_cid: str
    domain: str
    creator: str
    status: str  # one of STATUSES
    reason: str = ""
    trigger: str = ""
    body: str | None = None  # the canonical metadata JSON, for indexed rows
    embedding: np.ndarray | None = None  # unit vector, for indexed rows


@dataclass(frozen=True)
class IndexedPattern:
    """One searchable pattern: what a query generator needs to know about it."""

    registry_id: int
    pattern_hash: str
    domain: str
    creator: str
    trigger: str


def _embedder_name(embedder: Embedder) -> str:
    return f"{type(embedder).__name__}/{embedder.dim}"


class RegistryIndex:
    """Settled registry entries on SQLite and their embeddings in memory, searched exactly.

    `registry` names the registry the file indexes (e.g. "local:registry.mycel.test"): opening
    it for another registry, or with another embedder, is refused in one line.
    """

    def __init__(
        self, path: str | Path, embedder: Embedder, *, registry: str, timeout_s: float = 30.0
    ) -> None:
        if not isinstance(embedder, Embedder):
            raise TypeError("embedder must have .dim and .embed(list[str]) -> ndarray")
        self.path = Path(path).expanduser()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.embedder = embedder
        self.dim = int(embedder.dim)
        self.registry = registry
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(
            str(self.path), timeout=timeout_s, isolation_level=None, check_same_thread=False
        )
        self._conn.execute(f"PRAGMA busy_timeout={int(timeout_s * 1000)}")
        if enable_wal(self._conn, timeout_s) != "wal":
            raise RegistryIndexError(f"cannot use WAL journal on {self.path}")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        with self._write() as conn:
            for statement in filter(str.strip, _SCHEMA.split(";")):
                conn.execute(statement)
            for key, value in (("generation", "0"), ("epoch", "0"), ("cursor", "1")):
                conn.execute("INSERT OR IGNORE INTO meta VALUES (?, ?)", (key, value))
            self._claim(conn, "embedder", _embedder_name(embedder), "embeddings from")
            self._claim(conn, "registry", registry, "the registry")
        self._loaded: tuple[int, int] | None = None  # (epoch, generation) in memory
        self._vs = VectorSet(self.dim)
        self._pos: dict[str, int] = {}
        self._triggers: list[str] = []

    def _claim(self, conn: sqlite3.Connection, key: str, value: str, what: str) -> None:
        row = conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        if row is None:
            conn.execute("INSERT INTO meta VALUES (?, ?)", (key, value))
        elif row[0] != value:
            raise RegistryIndexError(
                f"{self.path} holds {what} {row[0]}, not {value}: use another file or delete it"
            )

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with immediate_transaction(self._conn, self._lock) as conn:
            yield conn

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> RegistryIndex:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # ----- state --------------------------------------------------------------------------------

    def _meta(self, key: str) -> int:
        with self._lock:
            return int(
                self._conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()[0]
            )

    @property
    def cursor(self) -> int:
        """The first registry id not settled yet: every id below it is indexed, refused or
        pending, so a snapshot `registry_upto <= cursor` is complete here."""
        return self._meta("cursor")

    def counts(self) -> dict[str, int]:
        with self._lock:
            rows = self._conn.execute("SELECT status, COUNT(*) FROM entries GROUP BY status")
            found = dict(rows.fetchall())
        return {status: int(found.get(status, 0)) for status in STATUSES}

    @property
    def size(self) -> int:
        """How many patterns are searchable."""
        self.refresh()
        return self._vs.alive_count

    def refused(self) -> list[tuple[int, str, str]]:
        """(registry id, pattern hash, reason) of every refused entry."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT registry_id, pattern_hash, reason FROM entries WHERE status='refused' "
                "ORDER BY registry_id"
            ).fetchall()
        return [(int(r[0]), str(r[1]), str(r[2])) for r in rows]

    def pending(self, limit: int, *, max_attempts: int | None = None) -> list[int]:
        """Registry ids waiting for their content (tried fewer than `max_attempts` times),
        fewest attempts first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT registry_id FROM entries WHERE status='pending' AND attempts < ? "
                "ORDER BY attempts, registry_id LIMIT ?",
                (2**62 if max_attempts is None else int(max_attempts), int(limit)),
            ).fetchall()
        return [int(r[0]) for r in rows]

    def last_settled(self) -> tuple[int, str] | None:
        """(registry id, pattern hash) of the highest settled id: what the sync re-reads to
        notice that the registry was reset under it."""
        with self._lock:
            row = self._conn.execute(
                "SELECT registry_id, pattern_hash FROM entries ORDER BY registry_id DESC LIMIT 1"
            ).fetchone()
        return None if row is None else (int(row[0]), str(row[1]))

    # ----- writes -------------------------------------------------------------------------------

    def _vector(self, embedding: np.ndarray | Sequence[float]) -> np.ndarray:
        vec = np.asarray(embedding, dtype=np.float32).reshape(-1)
        if vec.shape != (self.dim,) or not np.all(np.isfinite(vec)):
            raise ValueError(f"embedding must be {self.dim} finite values")
        return l2_normalise(vec[None, :])[0]

    def settle(self, entries: Iterable[Settled], *, cursor: int | None = None) -> None:
        """Write decisions (replacing earlier ones for the same ids) and move the cursor to
        `cursor` if that is further: one transaction, so a crash keeps all or none of it."""
        rows = list(entries)
        for entry in rows:
            if entry.status not in STATUSES:
                raise ValueError(f"unknown status {entry.status!r}")
            if entry.status == "indexed" and entry.embedding is None:
                raise ValueError(f"indexed entry {entry.registry_id} has no embedding")
        now = time.time()
        with self._write() as conn:
            top = conn.execute(
                "SELECT COALESCE(MAX(registry_id), 0) FROM entries WHERE status='indexed'"
            ).fetchone()[0]
            late = False
            for e in rows:
                blob = None if e.embedding is None else self._vector(e.embedding).tobytes()
                previous = conn.execute(
                    "SELECT attempts, status FROM entries WHERE registry_id=?", (e.registry_id,)
                ).fetchone()
                attempts = 1 if previous is None else int(previous[0]) + 1
                late |= e.status == "indexed" and e.registry_id < top
                late |= previous is not None and previous[1] == "indexed"
                conn.execute(
                    "INSERT OR REPLACE INTO entries VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (e.registry_id, e.pattern_hash, e.metadata_cid, e.domain, e.creator,
                     e.status, " ".join(e.reason.split())[:500], attempts, e.trigger, e.body,
                     blob, now),
                )  # fmt: skip
            if cursor is not None:
                conn.execute(
                    "UPDATE meta SET value=? WHERE key='cursor' AND CAST(value AS INTEGER) < ?",
                    (str(int(cursor)), int(cursor)),
                )
            self._bump(conn, "generation")
            if late:  # rows below what memory holds: the next refresh reloads everything
                self._bump(conn, "epoch")

    def reset(self) -> int:
        """Forget every entry (the registry was reset under the index); how many were kept."""
        with self._write() as conn:
            gone = conn.execute("DELETE FROM entries").rowcount
            conn.execute("UPDATE meta SET value='1' WHERE key='cursor'")
            self._bump(conn, "generation")
            self._bump(conn, "epoch")
        return int(gone)

    @staticmethod
    def _bump(conn: sqlite3.Connection, key: str) -> None:
        conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = ?", (key,))

    # ----- memory -------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Catch up with the file: append newly indexed rows, or reload after a reset or a
        row indexed below the highest one held."""
        with self._lock:
            state = (self._meta("epoch"), self._meta("generation"))
            if state == self._loaded:
                return
            if self._loaded is None or state[0] != self._loaded[0]:
                self._vs, self._pos, self._triggers = VectorSet(self.dim), {}, []
            rows = self._conn.execute(
                "SELECT registry_id, pattern_hash, domain, creator, trigger, embedding "
                "FROM entries WHERE status='indexed' AND registry_id > ? ORDER BY registry_id",
                (self._vs.max_seq,),
            ).fetchall()
            if rows:
                start = len(self._vs)
                vectors = np.frombuffer(b"".join(r[5] for r in rows), np.float32)
                self._vs.append(
                    [Row(int(r[0]), str(r[1]), str(r[2]), str(r[3]), 0) for r in rows],
                    vectors.reshape(len(rows), self.dim),
                )
                self._pos.update((str(r[1]), start + i) for i, r in enumerate(rows))
                self._triggers.extend(str(r[4]) for r in rows)
            self._loaded = state

    def patterns(self, upto: int | None = None) -> list[IndexedPattern]:
        """The searchable patterns with registry id below `upto` (all without), in id order."""
        self.refresh()
        with self._lock:
            vs = self._vs
            return [
                IndexedPattern(
                    int(vs.seqs[p]), vs.ids[p], vs.domain_of(p), vs.creator(p), self._triggers[p]
                )
                for p in range(len(vs))
                if upto is None or vs.seqs[p] < upto
            ]

    # ----- search -------------------------------------------------------------------------------

    def embed(self, texts: list[str]) -> np.ndarray:
        """Query texts as unit vectors, with the index's own embedder."""
        return self.embedder.embed(texts)

    def _mask(self, domain: str | None, upto: int | None) -> np.ndarray:
        vs = self._vs
        mask = vs.mask(SearchFilter(domain=domain))
        if upto is not None:
            mask &= vs.seqs < upto
        return mask

    def search(
        self,
        vector: np.ndarray | Sequence[float],
        k: int,
        *,
        domain: str | None = None,
        upto: int | None = None,
    ) -> list[tuple[str, float]]:
        """The k patterns most similar to `vector`, best first, as (pattern hash, cosine), among
        those in `domain` with registry id below `upto`: exact."""
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be a positive integer, got {k!r}")
        query = self._vector(vector)
        self.refresh()
        with self._lock:
            vs = self._vs
            if not len(vs):
                return []
            hits = vs.exact(query, k, self._mask(domain, upto), SearchFilter())
            return [(vs.ids[p], s) for p, s in hits]

    def lookup(self, pattern_hashes: Iterable[str]) -> dict[str, tuple[int, str, np.ndarray]]:
        """(registry id, domain, unit vector) of each searchable pattern among the hashes; ids
        the index does not hold (unregistered, refused, made up) are absent."""
        self.refresh()
        with self._lock:
            out = {}
            for pid in pattern_hashes:
                pos = self._pos.get(pid)
                if pos is not None and self._vs.alive[pos]:
                    out[pid] = (
                        int(self._vs.seqs[pos]),
                        self._vs.domain_of(pos),
                        np.array(self._vs.vectors[pos]),
                    )
            return out

    def answer(self, request: SearchPatternsRequest) -> SearchPatternsResult:
        """A search_patterns answer from this index (what a miner's searcher does). The
        caller's embedding is used when it has this index's dimension, else the query text is
        embedded. Answers from what the index holds, whatever the requested snapshot."""
        vector = None
        if request.embedding is not None and len(request.embedding) == self.dim:
            candidate = np.asarray(request.embedding, np.float32)
            if np.any(candidate):
                vector = candidate
        if vector is None:
            vector = self.embed([request.query])[0]
        hits = self.search(vector, request.k, domain=request.domain, upto=request.registry_upto)
        return SearchPatternsResult(pattern_ids=[pid for pid, _ in hits], index_size=self.size)
