"""PatternDiscovery: find the patterns that fit a context, from the local store and the NEAR
registry, and learn from how they worked out (the vision's "Discovery and Matching").

discover(): embed the context, take the nearest stored patterns (local cache first), ask the
PatternRegistry for the domain's patterns (`find_patterns`), merge both by content hash, drop what
is unsafe, over budget or unrelated, and re-rank by similarity, creator reputation, success rate
and price (see ranking.py for the weights). The registry only holds a pattern's hash, price and
metadata CID; a registry pattern that is not stored locally is fetched through `fetcher` (e.g.
from IPFS by its CID), checked against its registered hash and cached in the store. Without a
fetcher such patterns cannot be matched or safety-checked and are skipped with a warning.

A registry that is down, slow or refusing degrades discovery to local results plus a warning; it
never raises. record_success() updates the local statistics and rates the pattern on NEAR when
it is registered there, reporting (not raising) NEAR errors.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from mycel_subnet.intelligence.embeddings import Embedder
from mycel_subnet.near.client import RegistryClient
from mycel_subnet.near.models import PatternEntry
from mycel_subnet.patterns.ranking import (
    DEFAULT_PRICE_SCALE,
    DEFAULT_REPUTATION,
    DEFAULT_WEIGHTS,
    RankingWeights,
    ScoreBreakdown,
    order_key,
    price_factor,
    score,
    smoothed_success,
)
from mycel_subnet.patterns.store import (
    EmbedderMismatch,
    PatternStore,
    TamperedPattern,
    UsageStats,
    validate_pattern,
)
from mycel_subnet.safety.pattern import pattern_safety
from protocol import LearnedPattern

log = logging.getLogger(__name__)

PatternFetcher = Callable[[PatternEntry], Awaitable[LearnedPattern | Mapping[str, Any] | None]]
"""Resolve a registry entry to its full pattern (e.g. IPFS by `entry.metadata_cid`)."""

Source = Literal["local", "registry", "local+registry"]
MAX_K = 100
MAX_CONTEXT_CHARS = 20_000
REPUTATION_TTL_S = 60.0


@dataclass(frozen=True)
class RankedPattern:
    """One discovered pattern with the reasons for its rank."""

    pattern: LearnedPattern
    score: ScoreBreakdown
    source: Source
    price: int  # yoctoNEAR per use: the registry's price when registered, else the pattern's
    near_id: int | None = None

    @property
    def pattern_id(self) -> str:
        return str(self.pattern.id)


@dataclass
class DiscoveryResult:
    """discover()'s answer with what went wrong along the way (never raised)."""

    patterns: list[RankedPattern]
    warnings: list[str] = field(default_factory=list)
    excluded: dict[str, str] = field(default_factory=dict)  # pattern id -> reason
    registry_queried: bool = False


@dataclass(frozen=True)
class RecordOutcome:
    """What record_success() did: local statistics, and the NEAR rating if any."""

    pattern_id: str
    local: UsageStats
    near_id: int | None
    near_rated: bool
    near_error: str | None = None


@dataclass
class _Candidate:
    pattern: LearnedPattern
    similarity: float
    local: bool
    entry: PatternEntry | None = None


def _check_budget(budget: int | None) -> int | None:
    if budget is None:
        return None
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 0:
        raise ValueError(f"budget must be a whole number of yoctoNEAR >= 0, got {budget!r}")
    return budget


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return "timed out"
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text[:200]}"


class PatternDiscovery:
    """Local-first pattern discovery with optional NEAR registry and re-ranking."""

    def __init__(
        self,
        store: PatternStore,
        embedder: Embedder | None = None,
        registry: RegistryClient | None = None,
        *,
        fetcher: PatternFetcher | None = None,
        weights: RankingWeights = DEFAULT_WEIGHTS,
        min_safety: float = 0.6,
        exclude_unsafe: bool = True,
        min_similarity: float = 0.2,
        registry_min_reputation: float = 0.0,
        registry_limit: int = 20,
        registry_timeout_s: float = 5.0,
        local_candidates: int = 50,
        price_scale: int = DEFAULT_PRICE_SCALE,
    ) -> None:
        embedder = embedder or store.embedder
        if embedder.dim != store.dim or type(embedder) is not type(store.embedder):
            raise EmbedderMismatch(
                f"discovery embedder {type(embedder).__name__}/{embedder.dim} differs from the"
                f" store's {type(store.embedder).__name__}/{store.dim}"
            )
        if not 0 <= min_safety <= 1 or not -1 <= min_similarity <= 1:
            raise ValueError("min_safety must be in [0, 1] and min_similarity in [-1, 1]")
        if not 0 <= registry_min_reputation <= 1:
            raise ValueError("registry_min_reputation must be in [0, 1]")
        if not 1 <= registry_limit <= 100 or local_candidates < 1 or registry_timeout_s <= 0:
            raise ValueError(
                "registry_limit must be 1-100, local_candidates >= 1, registry_timeout_s > 0"
            )
        self.store = store
        self.embedder = embedder
        self.registry = registry
        self.fetcher = fetcher
        self.weights = weights
        self.min_safety = min_safety
        self.exclude_unsafe = exclude_unsafe
        self.min_similarity = min_similarity
        self.registry_min_reputation = registry_min_reputation
        self.registry_limit = registry_limit
        self.registry_timeout_s = registry_timeout_s
        self.local_candidates = local_candidates
        self.price_scale = price_scale
        self._safety: dict[str, float] = {}  # content-addressed, so valid for the process
        self._reputation: dict[str, tuple[float, float]] = {}  # account -> (value, fetched at)

    # ----- discover ---------------------------------------------------------------------------

    async def discover(
        self,
        context: str,
        domain: str | None = None,
        budget: int | None = None,
        k: int = 10,
        *,
        min_reputation: float | None = None,
    ) -> list[RankedPattern]:
        """The k best patterns for `context`, best first (see discover_detailed)."""
        result = await self.discover_detailed(
            context, domain, budget, k, min_reputation=min_reputation
        )
        return result.patterns

    async def discover_detailed(
        self,
        context: str,
        domain: str | None = None,
        budget: int | None = None,
        k: int = 10,
        *,
        min_reputation: float | None = None,
    ) -> DiscoveryResult:
        """Rank patterns for `context`; `domain` narrows the search (and is what the registry is
        asked for; without it the most common domain of the best local matches is used);
        `budget` (yoctoNEAR per use) excludes pricier patterns and `min_reputation` patterns
        whose creator's reputation is lower (both applied inside the store's search, so the
        candidates are the best that pass, and again on the final list). Never raises for
        registry trouble; bad arguments raise ValueError naming the argument."""
        if not isinstance(context, str) or not context.strip():
            raise ValueError("context must be a non-empty string")
        if len(context) > MAX_CONTEXT_CHARS:
            raise ValueError(f"context is {len(context)} chars; at most {MAX_CONTEXT_CHARS}")
        if domain is not None and (not isinstance(domain, str) or not domain.strip()):
            raise ValueError("domain must be a non-empty string or None")
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
            raise ValueError(f"k must be an integer 1-{MAX_K}, got {k!r}")
        budget = _check_budget(budget)
        if min_reputation is not None and (
            isinstance(min_reputation, bool)
            or not isinstance(min_reputation, int | float)
            or not 0 <= min_reputation <= 1
        ):
            raise ValueError(f"min_reputation must be a number in [0, 1], got {min_reputation!r}")
        domain = domain.strip() if domain else None

        result = DiscoveryResult(patterns=[])
        query = (await asyncio.to_thread(self.embedder.embed, [context]))[0]
        wanted = max(self.local_candidates, k)
        candidates: dict[str, _Candidate] = {}
        await self._local(query, wanted, domain, budget, min_reputation, candidates, result)

        if self.registry is not None:
            query_domain = domain or self._infer_domain(candidates)
            if query_domain is None:
                result.warnings.append("registry not queried: no domain given or inferred")
            else:
                entries = await self._find(query_domain, result, min_reputation)
                await self._merge(entries, query, candidates, result)

        reputations = await self._reputations(candidates.values(), result)
        if min_reputation is not None and self.registry is not None:
            # Creators first seen in this call were let through the store's filter; now that
            # their reputations are known, search again so the floor cannot leave us short.
            low = sum(
                reputations.get(self._creator(c), 1.0) < min_reputation for c in candidates.values()
            )
            if low:
                await self._local(query, wanted, domain, budget, min_reputation, candidates, result)
                reputations = await self._reputations(candidates.values(), result)
        ranked: list[RankedPattern] = []
        for cand in candidates.values():
            item = self._rank(cand, reputations, budget, result, min_reputation)
            if item is not None:
                ranked.append(item)
        ranked.sort(key=lambda r: order_key(r.score, r.pattern_id))
        result.patterns = ranked[:k]
        for warning in result.warnings:
            log.warning("pattern discovery: %s", warning)
        return result

    async def _local(
        self,
        query: np.ndarray,
        wanted: int,
        domain: str | None,
        budget: int | None,
        min_reputation: float | None,
        candidates: dict[str, _Candidate],
        result: DiscoveryResult,
    ) -> None:
        """The store's best matches that pass the filters, added to `candidates`. Creators
        whose reputation is not known yet pass (default 1.0) and are checked in _rank; without
        a registry every creator has the prior."""
        unknown = 1.0 if self.registry is not None else DEFAULT_REPUTATION
        hits = await asyncio.to_thread(
            self.store.search,
            query,
            wanted,
            domain=domain,
            max_price=budget,
            min_reputation=min_reputation,
            reputation=self._known_reputations(),
            default_reputation=unknown,
        )
        for pattern_id, similarity in hits:
            if pattern_id in candidates:
                continue
            pattern = self._load(pattern_id, result)
            if pattern is not None:
                candidates[pattern_id] = _Candidate(pattern, similarity, local=True)

    @staticmethod
    def _creator(cand: _Candidate) -> str:
        return cand.entry.creator if cand.entry else cand.pattern.creator

    def _load(self, pattern_id: str, result: DiscoveryResult) -> LearnedPattern | None:
        try:
            return self.store.get(pattern_id)
        except TamperedPattern as exc:
            result.warnings.append(str(exc))
            result.excluded[pattern_id] = "tampered"
            return None

    @staticmethod
    def _infer_domain(candidates: Mapping[str, _Candidate]) -> str | None:
        """The vision's context.inferred_domain(): the most common domain of the 5 best hits."""
        best = sorted(candidates.values(), key=lambda c: -c.similarity)[:5]
        counts = Counter(c.pattern.domain for c in best)
        return counts.most_common(1)[0][0] if counts else None

    def _known_reputations(self) -> dict[str, float]:
        now = time.monotonic()
        return {a: v for a, (v, at) in self._reputation.items() if now - at < REPUTATION_TTL_S}

    async def _find(
        self, domain: str, result: DiscoveryResult, min_reputation: float | None = None
    ) -> list[PatternEntry]:
        assert self.registry is not None
        result.registry_queried = True
        floor = max(self.registry_min_reputation, min_reputation or 0.0)
        try:
            return await asyncio.wait_for(
                self.registry.find_patterns(
                    domain, min_reputation=floor, limit=self.registry_limit
                ),
                self.registry_timeout_s,
            )
        except Exception as exc:  # any registry failure degrades to local results
            result.warnings.append(
                f"registry unavailable ({_describe(exc)}); showing local results only"
            )
            return []

    async def _merge(
        self,
        entries: list[PatternEntry],
        query: np.ndarray,
        candidates: dict[str, _Candidate],
        result: DiscoveryResult,
    ) -> None:
        """Attach registry entries to the same content found locally (dedupe by hash); load or
        fetch the rest."""
        unresolved = 0
        for entry in entries:
            pid = entry.pattern_hash
            if pid in candidates:
                candidates[pid].entry = entry
            else:
                pattern = self._load(pid, result) if pid in self.store else None
                if pattern is None and pid not in result.excluded:
                    pattern = await self._fetch(entry, result)
                if pattern is None:
                    unresolved += 1
                    continue
                vec = self.store.embedding(pid)
                similarity = float(vec @ query) if vec is not None else 0.0
                candidates[pid] = _Candidate(pattern, similarity, local=False, entry=entry)
            if self.store.near_id(pid) != entry.id:
                await asyncio.to_thread(self.store.set_near_id, pid, entry.id)
        if unresolved:
            how = "no fetcher configured" if self.fetcher is None else "content not available"
            result.warnings.append(f"{unresolved} registry pattern(s) skipped: {how}")

    async def _fetch(self, entry: PatternEntry, result: DiscoveryResult) -> LearnedPattern | None:
        """Fetch a registry pattern's content, check it against the registered hash, cache it."""
        if self.fetcher is None:
            return None
        try:
            found = await asyncio.wait_for(self.fetcher(entry), self.registry_timeout_s)
            if found is None:
                return None
            pattern = validate_pattern(found)
        except Exception as exc:
            result.warnings.append(f"fetching registry pattern {entry.id} failed: {_describe(exc)}")
            return None
        if pattern.id != entry.pattern_hash:
            result.warnings.append(
                f"registry pattern {entry.id}: fetched content hashes to {pattern.id},"
                f" not the registered {entry.pattern_hash}; ignored"
            )
            result.excluded[entry.pattern_hash] = "content does not match registered hash"
            return None
        await asyncio.to_thread(self.store.put, pattern)
        return self.store.get(str(pattern.id))

    async def _reputations(self, candidates: Any, result: DiscoveryResult) -> dict[str, float]:
        """Creator reputation composites from ReputationSystem, cached for a minute."""
        creators = {c.entry.creator if c.entry else c.pattern.creator for c in candidates}
        now = time.monotonic()
        known = {a: v for a, (v, at) in self._reputation.items() if now - at < REPUTATION_TTL_S}
        missing = sorted(creators - known.keys())
        if self.registry is None or not missing:
            return known
        registry = self.registry

        async def one(account: str) -> tuple[str, float]:
            score = await asyncio.wait_for(
                registry.get_reputation(account), self.registry_timeout_s
            )
            return account, score.composite

        answers = await asyncio.gather(*(one(a) for a in missing), return_exceptions=True)
        failed = 0
        for answer in answers:
            if isinstance(answer, BaseException):
                failed += 1
                continue
            account, value = answer
            known[account] = value
            self._reputation[account] = (value, now)
        if failed:
            result.warnings.append(
                f"reputation of {failed} creator(s) unavailable; using the prior"
                f" {DEFAULT_REPUTATION}"
            )
        return known

    def _safety_of(self, pattern: LearnedPattern) -> float:
        pid = str(pattern.id)
        if pid not in self._safety:
            self._safety[pid] = pattern_safety(pattern).value
        return self._safety[pid]

    def _rank(
        self,
        cand: _Candidate,
        reputations: Mapping[str, float],
        budget: int | None,
        result: DiscoveryResult,
        min_reputation: float | None = None,
    ) -> RankedPattern | None:
        pattern, entry = cand.pattern, cand.entry
        pid = str(pattern.id)
        creator = entry.creator if entry else pattern.creator
        reputation = reputations.get(creator, DEFAULT_REPUTATION)
        if min_reputation is not None and reputation < min_reputation:
            result.excluded[pid] = f"creator reputation {reputation:.2f} < {min_reputation}"
            return None
        if cand.similarity < self.min_similarity:
            result.excluded[pid] = f"similarity {cand.similarity:.2f} < {self.min_similarity}"
            return None
        price = entry.price_per_use if entry else pattern.price_per_use
        if budget is not None and price > budget:
            result.excluded[pid] = f"price {price} above budget {budget}"
            return None
        safety = self._safety_of(pattern)
        if self.exclude_unsafe and safety < self.min_safety:
            result.excluded[pid] = f"safety {safety:.2f} < {self.min_safety}"
            return None
        stats = self.store.stats(pid)
        successes, uses = stats.success_count, stats.usage_count
        if entry is not None and entry.rating_count > uses:
            successes, uses = entry.success_count, entry.rating_count  # the longer record
        breakdown = score(
            similarity=cand.similarity,
            reputation=reputation,
            success_rate=smoothed_success(successes, uses),
            price_factor=price_factor(price, budget, self.price_scale),
            safety=safety,
            min_safety=self.min_safety,
            weights=self.weights,
        )
        source: Source = "registry"
        if cand.local:
            source = "local+registry" if entry else "local"
        near_id = entry.id if entry else self.store.near_id(pid)
        return RankedPattern(pattern, breakdown, source, price, near_id)

    # ----- learn ------------------------------------------------------------------------------

    async def record_success(
        self, pattern_id: str, success: bool = True, rating: int = 5
    ) -> RecordOutcome:
        """Count one use locally and rate the pattern on NEAR if it is registered there.

        Unknown pattern ids and bad arguments raise (they are the caller's mistake); NEAR
        trouble (not paid for, network down, contract refusal) comes back in `near_error`.
        """
        if not isinstance(success, bool):
            raise TypeError(f"success must be True or False, got {type(success).__name__}")
        if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
            raise ValueError(f"rating must be an integer 1-5, got {rating!r}")
        stats = await asyncio.to_thread(self.store.record_use, pattern_id, success, rating)
        if self.registry is None:
            return RecordOutcome(pattern_id, stats, None, near_rated=False)
        near_id = self.store.near_id(pattern_id)
        try:
            if near_id is None:
                entry = await asyncio.wait_for(
                    self.registry.get_pattern_by_hash(pattern_id), self.registry_timeout_s
                )
                if entry is None:
                    return RecordOutcome(pattern_id, stats, None, near_rated=False)
                near_id = entry.id
                await asyncio.to_thread(self.store.set_near_id, pattern_id, near_id)
            await asyncio.wait_for(
                self.registry.rate_pattern(near_id, success, rating), self.registry_timeout_s
            )
        except Exception as exc:  # reported, not raised: the local update already happened
            error = _describe(exc)
            log.warning("rating pattern %s on NEAR failed: %s", pattern_id, error)
            return RecordOutcome(pattern_id, stats, near_id, near_rated=False, near_error=error)
        return RecordOutcome(pattern_id, stats, near_id, near_rated=True)
