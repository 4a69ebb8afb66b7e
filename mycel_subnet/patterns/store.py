"""PatternStore: the local pattern index on SQLite (WAL), with one embedding per pattern.

Why SQLite: one file that survives restarts, is safe with several writer processes (WAL plus
`BEGIN IMMEDIATE` and a busy timeout), and needs nothing installed. Each pattern is stored under
its content-derived id (`protocol.pattern.pattern_id`), so putting the same content twice is a
no-op and a row whose body no longer hashes to its id is detected on read.

The embedding of the pattern's trigger and context requirements is computed once, on `put`, and
kept as a float32 blob beside it. `search` is exact (numpy) below a size threshold and an HNSW
index (faiss) above it, with the same filters applied exactly either way; search_index.py keeps
it in step with writers in other processes and saves the index next to the database
(`<db>.hnsw`). Figures: benchmarks/bench_discovery.py.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from mycel_subnet.intelligence.embeddings import Embedder, l2_normalise
from mycel_subnet.patterns.search_index import IndexSettings, SearchIndex
from mycel_subnet.patterns.vectors import SearchFilter
from mycel_subnet.sqlite_util import enable_wal, immediate_transaction
from protocol import LearnedPattern, describe_validation_error
from protocol import limits as L

QUALITY_FIELDS = ("usage_count", "success_rate", "avg_rating")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS patterns (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    domain TEXT NOT NULL,
    body TEXT NOT NULL,
    usage_count INTEGER NOT NULL DEFAULT 0,
    success_count INTEGER NOT NULL DEFAULT 0,
    rating_count INTEGER NOT NULL DEFAULT 0,
    rating_sum REAL NOT NULL DEFAULT 0,
    near_id INTEGER,
    embedding BLOB NOT NULL,
    stored_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS patterns_domain ON patterns(domain);
CREATE TABLE IF NOT EXISTS removed (rid INTEGER PRIMARY KEY AUTOINCREMENT, seq INTEGER NOT NULL);
"""
# Every delete, by this code or any other, is logged so other processes' indexes can catch up.
_TRIGGER = """CREATE TRIGGER IF NOT EXISTS patterns_removed AFTER DELETE ON patterns
BEGIN INSERT INTO removed(seq) VALUES (old.seq); END"""


class PatternStoreError(Exception):
    """Base of the store's own errors."""


class UnknownPattern(PatternStoreError, LookupError):
    """No pattern with that id in the store."""


class TamperedPattern(PatternStoreError):
    """A stored row no longer hashes to its id (the file was edited behind the store's back)."""


class EmbedderMismatch(PatternStoreError):
    """The store was built with embeddings of another dimension or model."""


@dataclass(frozen=True)
class UsageStats:
    """The locally observed quality signals of one pattern."""

    usage_count: int
    success_count: int
    rating_count: int
    success_rate: float
    avg_rating: float


def embedding_text(pattern: LearnedPattern) -> str:
    """The text a pattern is matched on: its trigger, then its context requirements."""
    return "\n".join([pattern.trigger, *pattern.context_requirements])


def validate_pattern(pattern: LearnedPattern | Mapping[str, Any]) -> LearnedPattern:
    """Re-validate a pattern from its JSON form, so an object built without validation
    (`model_construct`) or carrying a forged id is refused with a message naming the field."""
    data = pattern.model_dump(mode="json") if isinstance(pattern, LearnedPattern) else pattern
    if not isinstance(data, Mapping):
        raise TypeError(f"pattern must be a LearnedPattern or a dict, got {type(data).__name__}")
    try:
        return LearnedPattern.model_validate(dict(data))
    except ValidationError as exc:
        raise ValueError(f"invalid pattern: {describe_validation_error(exc)}") from None


def _embedder_name(embedder: Embedder) -> str:
    return f"{type(embedder).__name__}/{embedder.dim}"


class PatternStore:
    """Patterns by content id, their usage statistics and their embeddings, in one SQLite file.

    Every instance owns one connection; several instances (threads or processes) may share the
    file. Search keeps the embedding matrix in memory and reloads it when any writer changes the
    set of patterns (a generation counter in the `meta` table), incrementally (search_index.py).
    `index` says when search turns approximate; `index_path` is where the HNSW index is saved
    (default: next to the database, `<db>.hnsw`).
    """

    def __init__(
        self,
        path: str | Path,
        embedder: Embedder,
        *,
        timeout_s: float = 30.0,
        index: IndexSettings | None = None,
        index_path: str | Path | None = None,
    ) -> None:
        if not isinstance(embedder, Embedder):
            raise TypeError("embedder must have .dim and .embed(list[str]) -> ndarray")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.embedder = embedder
        self.dim = int(embedder.dim)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(
            str(self.path), timeout=timeout_s, isolation_level=None, check_same_thread=False
        )
        self._conn.execute(f"PRAGMA busy_timeout={int(timeout_s * 1000)}")
        self._enable_wal(timeout_s)
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._create_schema()
        self._check_embedder(embedder)
        self.index_path = (
            Path(index_path) if index_path else self.path.with_name(self.path.name + ".hnsw")
        )
        self.index = SearchIndex(
            self._conn,
            self.dim,
            _embedder_name(embedder),
            self.index_path,
            index or IndexSettings(),
        )

    # ----- set-up -----------------------------------------------------------------------------

    def _enable_wal(self, timeout_s: float) -> None:
        """WAL lets readers run beside one writer. Two processes creating the file together may
        see "locked" at once, so retry briefly."""
        mode = enable_wal(self._conn, timeout_s)
        if mode != "wal":
            raise PatternStoreError(f"cannot use WAL journal on {self.path} (got {mode})")

    def _create_schema(self) -> None:
        with self._write():
            for statement in filter(str.strip, _SCHEMA.split(";")):
                self._conn.execute(statement)
            self._conn.execute(_TRIGGER)
            self._conn.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('generation', '0')")

    def _check_embedder(self, embedder: Embedder) -> None:
        name = _embedder_name(embedder)
        with self._write():
            row = self._conn.execute("SELECT value FROM meta WHERE key='embedder'").fetchone()
            if row is None:
                self._conn.execute("INSERT INTO meta(key, value) VALUES ('embedder', ?)", (name,))
            elif row[0] != name:
                raise EmbedderMismatch(
                    f"{self.path} holds embeddings from {row[0]}, not {name}; open it with the"
                    " same embedder or build a new store"
                )

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction: the write lock is taken up front, so concurrent writers
        queue on the busy timeout instead of failing at commit."""
        with immediate_transaction(self._conn, self._lock) as conn:
            yield conn

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> PatternStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # ----- writes -----------------------------------------------------------------------------

    def _vector(self, embedding: np.ndarray | Sequence[float]) -> np.ndarray:
        vec = np.asarray(embedding, dtype=np.float32).reshape(-1)
        if vec.shape != (self.dim,):
            raise ValueError(f"embedding must have {self.dim} values, got {vec.size}")
        if not np.all(np.isfinite(vec)):
            raise ValueError("embedding must not contain NaN or infinity")
        return l2_normalise(vec[None, :])[0]

    def put(
        self,
        pattern: LearnedPattern | Mapping[str, Any],
        *,
        embedding: np.ndarray | Sequence[float] | None = None,
    ) -> bool:
        """Store a pattern under its content id; True if new, False if already stored.

        The pattern is validated again (a forged or stale id is refused). Storing the same
        content twice keeps the first copy and its statistics, as the registry keeps the earliest
        registration. `embedding` skips the embedder (e.g. a batch embedded elsewhere).
        """
        return self.put_many([pattern], embeddings=None if embedding is None else [embedding])[0]

    def put_many(
        self,
        patterns: Iterable[LearnedPattern | Mapping[str, Any]],
        *,
        embeddings: Sequence[np.ndarray | Sequence[float]] | np.ndarray | None = None,
    ) -> list[bool]:
        """`put` for many patterns in one transaction, embedding the new ones in one batch."""
        checked = [validate_pattern(p) for p in patterns]
        if embeddings is not None and len(embeddings) != len(checked):
            raise ValueError(f"{len(embeddings)} embeddings for {len(checked)} patterns")
        with self._lock:
            present = self._existing_ids([p.id for p in checked if p.id])
            todo = [i for i, p in enumerate(checked) if p.id not in present]
            vectors: dict[int, np.ndarray] = {}
            if embeddings is not None:
                vectors = {i: self._vector(embeddings[i]) for i in todo}
            elif todo:
                computed = self.embedder.embed([embedding_text(checked[i]) for i in todo])
                vectors = {i: self._vector(row) for i, row in zip(todo, computed, strict=True)}
            inserted = [False] * len(checked)
            with self._write() as conn:
                for i in todo:
                    inserted[i] = self._insert(conn, checked[i], vectors[i])
                if any(inserted):
                    self._bump_generation(conn)
        return inserted

    def _existing_ids(self, ids: list[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._conn.execute(f"SELECT id FROM patterns WHERE id IN ({marks})", chunk)
            found.update(r[0] for r in rows)
        return found

    def _insert(self, conn: sqlite3.Connection, pattern: LearnedPattern, vec: np.ndarray) -> bool:
        body = pattern.model_dump_json(exclude=set(QUALITY_FIELDS))
        uses = pattern.usage_count
        successes = round(pattern.success_rate * uses)
        ratings = uses if pattern.avg_rating > 0 else 0
        cursor = conn.execute(
            "INSERT OR IGNORE INTO patterns(id, domain, body, usage_count, success_count,"
            " rating_count, rating_sum, embedding, stored_at) VALUES (?,?,?,?,?,?,?,?,?)",
            (
                pattern.id,
                pattern.domain,
                body,
                uses,
                successes,
                ratings,
                pattern.avg_rating * ratings,
                vec.astype(np.float32).tobytes(),
                time.time(),
            ),
        )
        return cursor.rowcount == 1

    @staticmethod
    def _bump_generation(conn: sqlite3.Connection) -> None:
        conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'")

    def delete(self, pattern_id: str) -> bool:
        """Remove a pattern; True if it was there."""
        with self._write() as conn:
            removed = conn.execute("DELETE FROM patterns WHERE id = ?", (pattern_id,)).rowcount
            if removed:
                self._bump_generation(conn)
        return bool(removed)

    def record_use(self, pattern_id: str, success: bool, rating: float | None = None) -> UsageStats:
        """Count one use: usage_count + 1, success counted, rating (0-5) averaged in if given.

        One UPDATE statement, so concurrent writers never lose an increment.
        """
        if not isinstance(success, bool):
            raise TypeError(f"success must be True or False, got {type(success).__name__}")
        if rating is not None:
            if isinstance(rating, bool) or not isinstance(rating, int | float):
                raise TypeError(f"rating must be a number 0-{L.MAX_RATING:g} or None")
            if not 0 <= rating <= L.MAX_RATING:
                raise ValueError(f"rating must be between 0 and {L.MAX_RATING:g}, got {rating}")
        rated = 0 if rating is None else 1
        with self._write() as conn:
            changed = conn.execute(
                "UPDATE patterns SET usage_count = usage_count + 1,"
                " success_count = success_count + ?, rating_count = rating_count + ?,"
                " rating_sum = rating_sum + ? WHERE id = ?",
                (int(success), rated, float(rating or 0.0), pattern_id),
            ).rowcount
            if not changed:
                raise UnknownPattern(f"no pattern {pattern_id!r} in {self.path}")
        return self.stats(pattern_id)

    def set_near_id(self, pattern_id: str, near_id: int | None) -> None:
        """Remember the PatternRegistry id under which this content is registered on NEAR."""
        with self._write() as conn:
            if not conn.execute(
                "UPDATE patterns SET near_id = ? WHERE id = ?", (near_id, pattern_id)
            ).rowcount:
                raise UnknownPattern(f"no pattern {pattern_id!r} in {self.path}")

    # ----- reads ------------------------------------------------------------------------------

    def _row(self, pattern_id: str) -> tuple[Any, ...] | None:
        with self._lock:
            return self._conn.execute(
                "SELECT id, body, usage_count, success_count, rating_count, rating_sum, near_id"
                " FROM patterns WHERE id = ?",
                (pattern_id,),
            ).fetchone()

    @staticmethod
    def _stats_of(uses: int, successes: int, ratings: int, rating_sum: float) -> UsageStats:
        return UsageStats(
            usage_count=uses,
            success_count=successes,
            rating_count=ratings,
            success_rate=min(1.0, successes / uses) if uses else 0.0,
            avg_rating=min(L.MAX_RATING, rating_sum / ratings) if ratings else 0.0,
        )

    def _pattern_of(self, row: tuple[Any, ...]) -> LearnedPattern:
        row_id, body, uses, successes, ratings, rating_sum, _near = row
        stats = self._stats_of(uses, successes, ratings, rating_sum)
        try:
            data = json.loads(body)
            data.update(
                id=row_id,
                usage_count=stats.usage_count,
                success_rate=stats.success_rate,
                avg_rating=stats.avg_rating,
            )
            return LearnedPattern.model_validate(data)
        except (ValueError, ValidationError) as exc:
            detail = (
                describe_validation_error(exc) if isinstance(exc, ValidationError) else str(exc)
            )
            raise TamperedPattern(f"stored pattern {row_id} fails validation: {detail}") from None

    def get(self, pattern_id: str) -> LearnedPattern | None:
        """The pattern with its local usage statistics, or None. A row whose content no longer
        matches its id raises TamperedPattern."""
        row = self._row(pattern_id)
        return None if row is None else self._pattern_of(row)

    def __contains__(self, pattern_id: object) -> bool:
        return isinstance(pattern_id, str) and self._row(pattern_id) is not None

    def stats(self, pattern_id: str) -> UsageStats:
        row = self._row(pattern_id)
        if row is None:
            raise UnknownPattern(f"no pattern {pattern_id!r} in {self.path}")
        return self._stats_of(*row[2:6])

    def near_id(self, pattern_id: str) -> int | None:
        row = self._row(pattern_id)
        return None if row is None else row[6]

    def list(self, domain: str | None = None, *, limit: int | None = None) -> list[LearnedPattern]:
        """Patterns in the order they were stored, optionally of one domain."""
        sql = (
            "SELECT id, body, usage_count, success_count, rating_count, rating_sum, near_id"
            " FROM patterns"
        )
        args: list[Any] = []
        if domain is not None:
            sql += " WHERE domain = ?"
            args.append(domain)
        sql += " ORDER BY seq"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(int(limit))
        with self._lock:
            rows = self._conn.execute(sql, args).fetchall()
        return [self._pattern_of(r) for r in rows]

    def __len__(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM patterns").fetchone()[0])

    def embedding(self, pattern_id: str) -> np.ndarray | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT embedding FROM patterns WHERE id = ?", (pattern_id,)
            ).fetchone()
        return None if row is None else np.frombuffer(row[0], np.float32).copy()

    # ----- search -----------------------------------------------------------------------------

    def refresh_index(self) -> None:
        """Catch up with other writers now (and build the ANN index if due), instead of on the
        next search: e.g. to show progress before the first query."""
        with self._lock:
            self.index.refresh()

    def search(
        self,
        query: np.ndarray | Sequence[float],
        k: int = 10,
        *,
        domain: str | None = None,
        max_price: int | None = None,
        min_reputation: float | None = None,
        reputation: Mapping[str, float] | None = None,
        default_reputation: float = 0.25,
    ) -> list[tuple[str, float]]:
        """The k stored patterns most similar to `query` (an embedding), best first, as
        (pattern id, cosine similarity), among those in `domain`, priced at most `max_price`
        yoctoNEAR per use and whose creator's reputation (`reputation[creator]`, else
        `default_reputation`) is at least `min_reputation`."""
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be a positive integer, got {k!r}")
        flt = SearchFilter(
            domain=domain,
            max_price=max_price,
            min_reputation=min_reputation,
            reputation=reputation or {},
            default_reputation=default_reputation,
        )
        vec = self._vector(query)
        with self._lock:  # the ANN's vector view must not move under a search
            self.index.refresh()
            return self.index.search(vec, k, flt)

    def search_text(self, text: str, k: int = 10, **filters: Any) -> list[tuple[str, float]]:
        """`search` with the query embedded by the store's embedder."""
        if not isinstance(text, str) or not text.strip():
            raise ValueError("query text must be a non-empty string")
        return self.search(self.embedder.embed([text])[0], k, **filters)
