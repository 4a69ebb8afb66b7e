"""SearchIndex: PatternStore's search, kept in step with the SQLite file across processes.

The contract with the store (and with other processes writing the same file): every change to
the set of patterns bumps `meta.generation`; rows only ever get a higher `seq` (AUTOINCREMENT);
every delete is logged in `removed` by a trigger. So on a new generation this index reads, in one
read transaction, only the rows with a higher seq and the removals it has not seen, instead of
reloading every embedding.

Below `exact_below` live patterns the search is exact (one matrix-vector product). From there an
HNSW index (ann.py) answers, over-fetching and checking every candidate against the filters; a
filter that leaves fewer than `min_ann_fraction` of the patterns, or an approximate answer short
of k, is answered exactly instead. The index is saved next to the database and, on open, reused
only if its header, checksum and a sample of its vectors agree with the database; otherwise it is
rebuilt.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mycel_subnet.patterns.ann import HnswIndex, HnswParams, IndexFileError
from mycel_subnet.patterns.vectors import Row, SearchFilter, VectorSet

log = logging.getLogger(__name__)

_ROW_SQL = (
    "SELECT seq, id, domain, json_extract(body, '$.creator'), json_extract(body, '$.price_per_use')"
)
SPOT_CHECKS = 32
MAX_DEAD_FRACTION = 0.25
MAX_EF = 2048


@dataclass(frozen=True)
class IndexSettings:
    """When to go approximate, and how the HNSW graph is built and searched."""

    exact_below: int = 20_000  # live patterns; below this every search is exact
    min_ann_fraction: float = 0.05  # filters that leave fewer patterns than this are exact
    persist: bool = True  # save the index next to the database
    hnsw: HnswParams = field(default_factory=HnswParams)

    def __post_init__(self) -> None:
        if isinstance(self.exact_below, bool) or not isinstance(self.exact_below, int):
            raise ValueError("exact_below must be a whole number of patterns")
        if self.exact_below < 1 or not 0 <= self.min_ann_fraction <= 1:
            raise ValueError("exact_below must be >= 1 and min_ann_fraction in [0, 1]")


def _row(seq: int, pid: str, domain: str, creator: str | None, price: object) -> Row:
    return Row(int(seq), pid, domain, creator or "", int(price or 0))


class SearchIndex:
    """The in-memory search state of one PatternStore connection."""

    def __init__(
        self, conn: sqlite3.Connection, dim: int, embedder: str, path: Path, settings: IndexSettings
    ) -> None:
        self._conn = conn
        self.dim = dim
        self.embedder = embedder
        self.path = path
        self.settings = settings
        self._gen: int | None = None
        self._rid = 0
        self._vs = VectorSet(dim)
        self._ann: HnswIndex | None = None
        self._saved = 0  # positions in the file when this process last wrote or read it
        self.events: list[str] = []  # what happened to the index, for logs and tests

    @property
    def approximate(self) -> bool:
        return self._ann is not None

    def _note(self, text: str) -> None:
        self.events.append(text)
        log.info("pattern index %s: %s", self.path.name, text)

    # ----- keeping in step --------------------------------------------------------------------

    def refresh(self) -> None:
        """Catch up with the database if any writer changed it; build or save the index."""
        conn = self._conn
        conn.execute("BEGIN")
        try:
            gen = int(conn.execute("SELECT value FROM meta WHERE key='generation'").fetchone()[0])
            if gen == self._gen:
                return
            if self._gen is None:
                self._first_load()
            else:
                self._apply_delta()
            self._gen = gen
        finally:
            conn.execute("COMMIT")
        self._maintain()

    def _max_rid(self) -> int:
        return int(self._conn.execute("SELECT COALESCE(MAX(rid), 0) FROM removed").fetchone()[0])

    def _first_load(self) -> None:
        self._rid = self._max_rid()
        if self.settings.persist and self.path.exists():
            try:
                self._load_file()
                self._apply_delta()
                return
            except IndexFileError as exc:
                self._note(f"not reusing the saved index: {exc}; rebuilding")
                self._vs, self._ann = VectorSet(self.dim), None
        rows, vectors = self._rows_after(0)
        self._vs.append(rows, vectors)

    def _rows_after(self, seq: int) -> tuple[list[Row], np.ndarray]:
        cursor = self._conn.execute(
            _ROW_SQL + ", embedding FROM patterns WHERE seq > ? ORDER BY seq", (seq,)
        )
        rows: list[Row] = []
        blobs: list[bytes] = []
        for seq_, pid, domain, creator, price, blob in cursor:
            rows.append(_row(seq_, pid, domain, creator, price))
            blobs.append(blob)
        vectors = np.frombuffer(b"".join(blobs), np.float32).reshape(len(rows), self.dim)
        return rows, vectors

    def _load_file(self) -> None:
        """Adopt the saved index if it agrees with the database (raises IndexFileError)."""
        expect = {"embedder": self.embedder, "dim": self.dim}
        ann, seqs, _header = HnswIndex.load(self.path, expect, self.settings.hnsw)
        if len(seqs) and (np.any(np.diff(seqs) <= 0) or seqs[0] < 1):
            raise IndexFileError(f"{self.path} lists positions out of order")
        top = int(seqs[-1]) if len(seqs) else 0
        found = {
            int(r[0]): r
            for r in self._conn.execute(_ROW_SQL + " FROM patterns WHERE seq <= ?", (top,))
        }
        listed = set(seqs.tolist())
        if any(seq not in listed for seq in found):
            raise IndexFileError(f"{self.path} misses patterns the database holds")
        rows = [
            _row(*found[s]) if s in found else Row(int(s), "", "", "", 0) for s in seqs.tolist()
        ]
        vs = VectorSet(self.dim)
        vs.append(rows, None)
        vs.alive[:] = [s in found for s in seqs.tolist()]
        vs.vectors = ann.vectors()
        self._spot_check(vs)
        self._vs, self._ann, self._saved = vs, ann, len(vs)
        self._note(f"reused the saved index ({len(vs)} positions, {vs.alive_count} live)")

    def _spot_check(self, vs: VectorSet) -> None:
        alive = np.flatnonzero(vs.alive)
        if not len(alive):
            return
        rng = np.random.default_rng()
        sample = rng.choice(alive, size=min(SPOT_CHECKS, len(alive)), replace=False)
        for pos in sample.tolist():
            blob = self._conn.execute(
                "SELECT embedding FROM patterns WHERE seq = ?", (int(vs.seqs[pos]),)
            ).fetchone()[0]
            if not np.allclose(np.frombuffer(blob, np.float32), vs.vectors[pos], atol=1e-6):
                raise IndexFileError(f"{self.path}: vectors differ from the database")

    def _apply_delta(self) -> None:
        removed = self._conn.execute(
            "SELECT rid, seq FROM removed WHERE rid > ? ORDER BY rid", (self._rid,)
        ).fetchall()
        rows, vectors = self._rows_after(self._vs.max_seq)
        if rows:
            if self._ann is not None:
                self._ann.add(vectors)
                self._vs.append(rows, None)
                self._vs.vectors = self._ann.vectors()
            else:
                self._vs.append(rows, vectors)
        if removed:
            self._vs.remove_seqs([int(seq) for _rid, seq in removed])
            self._rid = int(removed[-1][0])

    def _maintain(self) -> None:
        """Build the index past the threshold, compact it when many rows are dead, save it."""
        vs, settings = self._vs, self.settings
        live = vs.alive_count
        if self._ann is None:
            if live >= settings.exact_below:
                self._build(f"{live} live patterns >= exact_below {settings.exact_below}")
            return
        if live < settings.exact_below // 2:
            self._compact_exact()
            return
        if len(vs) and (len(vs) - live) / len(vs) > MAX_DEAD_FRACTION:
            self._build(f"{len(vs) - live} of {len(vs)} positions removed")
        elif len(vs) - self._saved >= max(1000, self._saved // 10):
            self._save()

    def _compacted(self) -> tuple[list[Row], np.ndarray]:
        vs = self._vs
        keep = np.flatnonzero(vs.alive)
        rows = [
            Row(int(vs.seqs[p]), vs.ids[p], vs.domain_of(p), vs.creator(p), vs.prices[p])
            for p in keep.tolist()
        ]
        if len(keep) == len(vs) and self._ann is None:
            return rows, vs.vectors  # nothing dead and not a view: no copy needed
        return rows, np.array(vs.vectors[keep], np.float32)

    def _compact_exact(self) -> None:
        rows, vectors = self._compacted()
        vs = VectorSet(self.dim)
        vs.append(rows, vectors)
        self._vs, self._ann = vs, None
        self._note(f"back to exact search ({len(rows)} live patterns)")

    def _build(self, why: str) -> None:
        started = time.perf_counter()
        rows, vectors = self._compacted()
        ann = HnswIndex(self.dim, self.settings.hnsw)
        ann.add(vectors)
        vs = VectorSet(self.dim)
        vs.append(rows, None)
        vs.vectors = ann.vectors()
        self._vs, self._ann = vs, ann
        self._note(
            f"built HNSW over {len(rows)} patterns in {time.perf_counter() - started:.1f}s ({why})"
        )
        self._save()

    def _save(self) -> None:
        if not self.settings.persist or self._ann is None:
            return
        try:
            self._ann.save(self.path, self._vs.seqs, {"embedder": self.embedder, "dim": self.dim})
        except OSError as exc:
            log.warning("pattern index: cannot save %s: %s", self.path, exc)
            return
        self._saved = len(self._vs)

    # ----- search -----------------------------------------------------------------------------

    def search(self, query: np.ndarray, k: int, flt: SearchFilter) -> list[tuple[str, float]]:
        """Top-k (pattern id, cosine), best first, every one passing `flt`."""
        vs = self._vs
        if not len(vs):
            return []
        mask = vs.mask(flt)
        allowed = int(mask.sum())
        if allowed == 0:
            return []
        hits: list[tuple[int, float]] | None = None
        if self._ann is not None and allowed >= self.settings.min_ann_fraction * len(vs):
            hits = self._approximate(query, k, mask, allowed, flt)
        if hits is None:
            hits = vs.exact(query, k, mask, flt)
        return [(vs.ids[p], s) for p, s in hits]

    def _approximate(
        self, query: np.ndarray, k: int, mask: np.ndarray, allowed: int, flt: SearchFilter
    ) -> list[tuple[int, float]] | None:
        """HNSW candidates (restricted to the mask, over-fetched), each checked exactly; None
        when they fall short, so the caller searches exactly."""
        assert self._ann is not None
        vs = self._vs
        fetch = min(allowed, k + max(k, 16))
        everything = allowed == len(vs)
        # The graph walk only collects allowed positions: widen it as the filter narrows
        # (by the square root: linear widening cost more than exact search at 25%).
        base = self.settings.hnsw.ef_search
        ef = min(MAX_EF, int(np.ceil(base * np.sqrt(len(vs) / allowed))))
        found = self._ann.search(query, fetch, None if everything else mask, ef=ef)
        hits = [(p, s) for p, s in found if mask[p] and vs.price_ok(p, flt)][:k]
        return hits if len(hits) >= min(k, allowed) else None
