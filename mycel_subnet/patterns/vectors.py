"""The in-memory side of PatternStore's search: one row per stored pattern (by position), the
metadata filters need (domain, creator, price) and the embeddings, with exact top-k.

Why positions, not ids: an approximate index (ann.py) numbers its vectors 0..n-1 in the order
they were added and cannot delete, so a removed pattern stays as a dead position (masked out)
until the set is compacted. The store feeds this set incrementally from SQLite: rows with a
higher `seq` are appended, rows logged in the `removed` table are marked dead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class SearchFilter:
    """What a search result must satisfy, exactly: the pattern's domain, its price per use
    (yoctoNEAR, <= max_price) and its creator's reputation (>= min_reputation, looked up in
    `reputation`, `default_reputation` for a creator not in it)."""

    domain: str | None = None
    max_price: int | None = None
    min_reputation: float | None = None
    reputation: Mapping[str, float] = field(default_factory=dict)
    default_reputation: float = 0.25

    def __post_init__(self) -> None:
        if self.max_price is not None and (
            isinstance(self.max_price, bool) or not isinstance(self.max_price, int)
        ):
            raise ValueError(
                f"max_price must be a whole number of yoctoNEAR, got {self.max_price!r}"
            )
        if self.max_price is not None and self.max_price < 0:
            raise ValueError(f"max_price must be >= 0, got {self.max_price}")
        if self.min_reputation is not None and not 0 <= self.min_reputation <= 1:
            raise ValueError(f"min_reputation must be in [0, 1], got {self.min_reputation}")

    @property
    def empty(self) -> bool:
        return self.domain is None and self.max_price is None and self.min_reputation is None

    def reputation_of(self, creator: str) -> float:
        return float(self.reputation.get(creator, self.default_reputation))


@dataclass
class Row:
    """One pattern as the search needs it (from one SQLite row)."""

    seq: int
    id: str
    domain: str
    creator: str
    price: int


class _Codes:
    """Small-integer codes for repeated strings (domains, creators), so filters are one numpy
    comparison over int32 instead of over Python strings."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self._code: dict[str, int] = {}

    def code(self, name: str) -> int:
        found = self._code.get(name)
        if found is None:
            found = self._code[name] = len(self.names)
            self.names.append(name)
        return found

    def get(self, name: str) -> int | None:
        return self._code.get(name)


class VectorSet:
    """Positions 0..n-1, each a pattern (alive or removed), with metadata arrays and vectors."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.seqs = np.zeros(0, np.int64)
        self.ids: list[str] = []
        self.prices: list[int] = []
        self.alive = np.zeros(0, bool)
        self._domain = np.zeros(0, np.int32)
        self._creator = np.zeros(0, np.int32)
        self._price_f = np.zeros(0, np.float64)
        self._domains = _Codes()
        self._creators = _Codes()
        self._pos: dict[int, int] = {}  # seq -> position
        self.vectors = np.zeros((0, dim), np.float32)  # replaced by a view of the ANN storage

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def alive_count(self) -> int:
        return int(self.alive.sum())

    @property
    def max_seq(self) -> int:
        return int(self.seqs[-1]) if len(self.seqs) else 0

    def append(self, rows: list[Row], vectors: np.ndarray | None, *, alive: bool = True) -> None:
        """Add rows at the end (their seqs must be higher than any present). `vectors` None
        means the caller keeps the vectors elsewhere (the ANN storage) and sets `.vectors`."""
        if not rows:
            return
        start = len(self.ids)
        seqs = np.fromiter((r.seq for r in rows), np.int64, len(rows))
        if len(self.seqs) and seqs[0] <= self.seqs[-1]:
            raise ValueError("rows must come in increasing seq order")
        self.seqs = np.concatenate([self.seqs, seqs])
        self.ids.extend(r.id for r in rows)
        self.prices.extend(r.price for r in rows)
        self.alive = np.concatenate([self.alive, np.full(len(rows), alive)])
        domains = [self._domains.code(r.domain) for r in rows]
        creators = [self._creators.code(r.creator) for r in rows]
        self._domain = np.concatenate([self._domain, np.asarray(domains, np.int32)])
        self._creator = np.concatenate([self._creator, np.asarray(creators, np.int32)])
        self._price_f = np.concatenate(
            [self._price_f, np.asarray([float(r.price) for r in rows], np.float64)]
        )
        self._pos.update((r.seq, start + i) for i, r in enumerate(rows))
        if vectors is not None:
            self.vectors = np.concatenate([self.vectors, vectors.astype(np.float32, copy=False)])

    def remove_seqs(self, seqs: list[int]) -> int:
        """Mark rows dead by seq; how many were alive."""
        dead = 0
        for seq in seqs:
            pos = self._pos.get(seq)
            if pos is not None and self.alive[pos]:
                self.alive[pos] = False
                dead += 1
        return dead

    def position(self, seq: int) -> int | None:
        return self._pos.get(seq)

    # ----- filters and exact search -----------------------------------------------------------

    def mask(self, flt: SearchFilter) -> np.ndarray:
        """Alive positions that pass the filter. The price test here uses floats, so it is a
        superset near the bound (u128 prices do not fit in int64); `price_ok` decides exactly."""
        mask = self.alive.copy()
        if flt.domain is not None:
            code = self._domains.get(flt.domain)
            if code is None:
                return np.zeros(len(self.ids), bool)
            mask &= self._domain == code
        if flt.max_price is not None:
            bound = float(flt.max_price)
            mask &= self._price_f <= bound + abs(bound) * 1e-12
        if flt.min_reputation is not None:
            values = np.fromiter(
                (flt.reputation_of(c) for c in self._creators.names),
                np.float64,
                len(self._creators.names),
            )
            mask &= values[self._creator] >= flt.min_reputation
        return mask

    def price_ok(self, pos: int, flt: SearchFilter) -> bool:
        return flt.max_price is None or self.prices[pos] <= flt.max_price

    def domain_of(self, pos: int) -> str:
        return self._domains.names[int(self._domain[pos])]

    def creator(self, pos: int) -> str:
        return self._creators.names[int(self._creator[pos])]

    def exact(
        self, query: np.ndarray, k: int, mask: np.ndarray, flt: SearchFilter
    ) -> list[tuple[int, float]]:
        """Brute-force top-k over the positions in `mask`, best first, as (position, cosine)."""
        allowed = np.flatnonzero(mask)
        if not len(allowed):
            return []
        if len(allowed) == len(self.ids):
            sims = self.vectors @ query
        elif len(allowed) * 8 >= len(self.ids):
            sims = (self.vectors @ query)[allowed]  # cheaper than copying the allowed rows
        else:
            sims = self.vectors[allowed] @ query
        full = len(allowed) == len(self.ids)
        take = min(len(sims), k)
        while True:
            top = np.argpartition(-sims, take - 1)[:take]
            top = top[np.argsort(-sims[top], kind="stable")]
            out: list[tuple[int, float]] = []
            for i in top:
                pos = int(i) if full else int(allowed[i])
                if self.price_ok(pos, flt):
                    out.append((pos, float(sims[i])))
                    if len(out) == k:
                        return out
            if take == len(sims):
                return out
            take = min(len(sims), take * 4)
