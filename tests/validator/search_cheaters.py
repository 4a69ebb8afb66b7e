"""The cheapest searchers that could try to earn the search task without the work, and the
honest one. Each is a PatternSearcher (SearchPatternsRequest -> SearchPatternsResult), what
`build_app(searcher=...)` takes, so the same objects answer in-process and over HTTP.

Used by tests/validator/test_search_task.py and benchmarks/bench_search_task.py.
"""

from __future__ import annotations

import hashlib
import random
import threading

from mycel_subnet.near.ledger import LocalLedger
from mycel_subnet.patterns.registry_index import RegistryIndex
from protocol import SearchPatternsRequest, SearchPatternsResult


def _result(ids: list[str], size: int = 0) -> SearchPatternsResult:
    return SearchPatternsResult(pattern_ids=list(dict.fromkeys(ids)), index_size=size)


def registry_hashes(ledger: LocalLedger) -> list[tuple[int, str, int]]:
    """(registry id, pattern hash, reputation ppm) of every registered pattern, read straight
    from the registry: what a miner knows without fetching or embedding anything."""
    next_id = ledger.view("registry.mycel.test", "get_config")["next_id"]
    out = []
    for rid in range(1, next_id):
        entry = ledger.view("registry.mycel.test", "get_pattern", {"pattern_id": rid})
        out.append((rid, entry["pattern_hash"], int(entry["reputation_ppm"])))
    return out


class Honest:
    """The shipped miner's searcher: its own synced index, exact search, the snapshot kept."""

    name = "honest"

    def __init__(self, index: RegistryIndex) -> None:
        self.index = index

    def __call__(self, request: SearchPatternsRequest) -> SearchPatternsResult:
        return self.index.answer(request)


class RandomIds:
    """k registered ids at random: no index, no model."""

    name = "random-ids"

    def __init__(self, hashes: list[tuple[int, str, int]], seed: int = 1) -> None:
        self.ids = [h for _, h, _ in hashes]
        self.rng = random.Random(seed)
        self.lock = threading.Lock()

    def __call__(self, request: SearchPatternsRequest) -> SearchPatternsResult:
        with self.lock:
            return _result(self.rng.sample(self.ids, min(request.k, len(self.ids))))


class SameIds:
    """The same k registered ids for every query."""

    name = "same-ids"

    def __init__(self, hashes: list[tuple[int, str, int]]) -> None:
        self.ids = [h for _, h, _ in hashes][:100]

    def __call__(self, request: SearchPatternsRequest) -> SearchPatternsResult:
        return _result(self.ids[: request.k])


class MadeUp:
    """Well-formed ids nobody registered (hashes of the query)."""

    name = "made-up"

    def __call__(self, request: SearchPatternsRequest) -> SearchPatternsResult:
        ids = [
            hashlib.sha256(f"{request.query}|{i}".encode()).hexdigest() for i in range(request.k)
        ]
        return _result(ids)


class IgnoresUpto:
    """A real index and exact search, but over everything it holds: the snapshot ignored."""

    name = "ignores-upto"

    def __init__(self, index: RegistryIndex) -> None:
        self.index = index

    def __call__(self, request: SearchPatternsRequest) -> SearchPatternsResult:
        return self.index.answer(request.model_copy(update={"registry_upto": None}))


class IgnoresDomain:
    """A real index and exact search, but never filtered by domain."""

    name = "ignores-domain"

    def __init__(self, index: RegistryIndex) -> None:
        self.index = index

    def __call__(self, request: SearchPatternsRequest) -> SearchPatternsResult:
        return self.index.answer(request.model_copy(update={"domain": None}))


class Replay:
    """Answers each query with the honest answer to the query before it (one real search per
    query, one query late): a relay of another query's answer."""

    name = "replay"

    def __init__(self, index: RegistryIndex) -> None:
        self.index = index
        self.previous: SearchPatternsResult | None = None
        self.lock = threading.Lock()

    def __call__(self, request: SearchPatternsRequest) -> SearchPatternsResult:
        fresh = self.index.answer(request)
        with self.lock:
            answer, self.previous = self.previous, fresh
        return answer or _result([])


class TopReputation:
    """The registry's best-reputed patterns, whatever the query (registry order breaks ties)."""

    name = "top-reputation"

    def __init__(self, hashes: list[tuple[int, str, int]]) -> None:
        ranked = sorted(hashes, key=lambda h: (-h[2], h[0]))
        self.ids = [h for _, h, _ in ranked][:100]

    def __call__(self, request: SearchPatternsRequest) -> SearchPatternsResult:
        return _result(self.ids[: request.k])


def cheaters(index: RegistryIndex, ledger: LocalLedger) -> list:
    """Every dishonest searcher, over the same registry as `index`."""
    hashes = registry_hashes(ledger)
    return [
        RandomIds(hashes), SameIds(hashes), MadeUp(), IgnoresUpto(index), IgnoresDomain(index),
        Replay(index), TopReputation(hashes),
    ]  # fmt: skip
