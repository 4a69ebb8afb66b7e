"""find and show: discovery over the local store, the NEAR registry and (when configured) a
validator's organic gateway, every ranking term shown.

Discovery is the patterns package's public PatternDiscovery (the registry's patterns fetched by
CID and hash-checked). The registry is searched by domain. Without `--domain`: the local store
over all domains (the registry in the domain of the best local matches), and each domain
`extract` infers by default (privacy.pipeline.DOMAINS and "general"), merged.

With a gateway (`--gateway.url` and MYCEL_GATEWAY__API_KEY), the subnet's miners search the
registry too. Their ids are not taken on trust: each is looked up on this instance's own registry
and fetched by CID with its hash checked, then cached, so discovery ranks it with the rest. A
result's `source` ends in "+gateway" when the gateway returned it, or is "gateway" when this
find first learned of it through the gateway. A gateway that fails is a warning, never a failed
find.
"""

from __future__ import annotations

import asyncio
from typing import Any

from mycel_subnet.collective.errors import BadInput, CollectiveError
from mycel_subnet.collective.instance import Instance
from mycel_subnet.collective.models import FindOut, FoundPattern, ScoreTerms, ShowOut
from mycel_subnet.collective.progress import Progress, quiet
from mycel_subnet.collective.resolve import fetch_verified, registry_entry, resolve
from mycel_subnet.near.client import DEFAULT_MIN_REPUTATION
from mycel_subnet.privacy.pipeline import DOMAINS, classify_domain

MAX_K = 100


def discovery(instance: Instance, min_reputation: float = 0.0):
    from mycel_subnet.patterns import PatternDiscovery
    from mycel_subnet.patterns.fetch import content_store_fetcher

    return PatternDiscovery(
        instance.pattern_store(),
        registry=instance.registry(),
        fetcher=content_store_fetcher(instance.content_store()),
        registry_min_reputation=min_reputation,
    )


def _check(query: str, k: int, max_price: int | None, min_reputation: float) -> None:
    if not isinstance(query, str) or not query.strip():
        raise BadInput("the query must not be empty")
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise BadInput(f"-k must be a whole number 1-{MAX_K}, got {k!r}")
    if max_price is not None and (isinstance(max_price, bool) or max_price < 0):
        raise BadInput(f"--max-price must be yoctoNEAR >= 0, got {max_price!r}")
    if not 0 <= min_reputation <= 1:
        raise BadInput(f"--min-reputation must be in [0, 1], got {min_reputation!r}")


async def _every_domain(found, query: str, max_price: int | None, k: int):
    """Discovery without a domain (when the store has patterns: local over all domains, the
    registry in the inferred one) and in each default domain, merged by pattern id and ranked
    as discovery ranks."""
    from mycel_subnet.patterns.ranking import order_key

    guess = classify_domain(query)
    domains = [guess, *(d for d in [*DOMAINS, "general"] if d != guess)]
    if len(found.store):
        domains.insert(0, None)
    merged, warnings, first = {}, [], None
    for name in domains:
        part = await found.discover_detailed(query, name, max_price, k)
        first = first or part
        warnings += [w for w in part.warnings if w not in warnings]
        for ranked in part.patterns:
            merged.setdefault(ranked.pattern_id, ranked)
    first.patterns = sorted(merged.values(), key=lambda r: order_key(r.score, r.pattern_id))[:k]
    first.warnings = warnings
    return first


async def _through_gateway(
    instance: Instance, gateway: Any, query: str, domain: str | None, k: int
) -> tuple[set[str], set[str], list[str]]:
    """(ids the gateway returned and this instance verified, those of them first cached now,
    warnings): each id checked on the instance's own registry and by hash before it is cached."""
    from mycel_subnet.gateway.client import GatewayError

    try:
        answer = await gateway.search(query, domain=domain, k=k)
    except GatewayError as exc:
        return set(), set(), [f"gateway not used: {exc}"]
    store = instance.pattern_store()
    verified, fresh, warnings = set(), set(), []
    for item in answer.patterns:
        pid = item.pattern_id
        try:
            entry = await registry_entry(instance, pid)
            if entry is None:
                warnings.append(f"gateway result {pid[:12]} is not on this registry; ignored")
                continue
            if pid not in store:
                pattern = await fetch_verified(instance, entry)
                await asyncio.to_thread(store.put, pattern)
                fresh.add(pid)
            if store.near_id(pid) != entry.id:
                await asyncio.to_thread(store.set_near_id, pid, entry.id)
        except CollectiveError as exc:
            warnings.append(f"gateway result {pid[:12]} skipped: {exc}")
            continue
        verified.add(pid)
    return verified, fresh, warnings


async def find(
    instance: Instance,
    query: str,
    *,
    domain: str | None = None,
    max_price: int | None = None,
    min_reputation: float | None = None,
    k: int = 10,
    progress: Progress = quiet,
    gateway: Any = None,
) -> FindOut:
    """The k best patterns for `query`, with each ranking term; `gateway` (a GatewayClient)
    adds the subnet's search as a source. `min_reputation` defaults to DEFAULT_MIN_REPUTATION
    (0.2): a new pattern starts at its creator's standing, 0.25 for a creator without history,
    so new patterns are found and patterns rated down below it are not."""
    if min_reputation is None:
        min_reputation = DEFAULT_MIN_REPUTATION
    _check(query, k, max_price, min_reputation)
    via, fresh, gateway_warnings = set(), set(), []
    if gateway is not None:
        progress("asking the subnet's gateway")
        via, fresh, gateway_warnings = await _through_gateway(instance, gateway, query, domain, k)
    progress("loading the embedding model and searching")
    found = discovery(instance, min_reputation)
    try:
        if domain is None:
            result = await _every_domain(found, query, max_price, k)
        else:
            result = await found.discover_detailed(query, domain, max_price, k)
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    patterns = [
        FoundPattern(
            pattern_id=r.pattern_id,
            near_id=r.near_id,
            source=_source(r.source, r.pattern_id, via, fresh),
            price=r.price,
            domain=r.pattern.domain,
            kind=r.pattern.solution.kind,
            trigger=r.pattern.trigger,
            creator=r.pattern.creator,
            score=ScoreTerms(
                similarity=round(r.score.similarity, 4),
                reputation=round(r.score.reputation, 4),
                success_rate=round(r.score.success_rate, 4),
                price_factor=round(r.score.price_factor, 4),
                safety=round(r.score.safety, 4),
                final=round(r.score.final, 4),
            ),
        )
        for r in result.patterns
        if r.score.reputation >= min_reputation
    ]
    warnings = [*result.warnings, *gateway_warnings]
    return FindOut(query=query, domain=domain, patterns=patterns, warnings=warnings)


def _source(source: str, pattern_id: str, via: set[str], fresh: set[str]) -> str:
    """Where a result came from: discovery's own source, plus the gateway when it returned it.
    A pattern this call first learned of through the gateway is "gateway", not "local" (it was
    cached a moment ago, and its domain then led discovery to its registry listing too)."""
    if pattern_id not in via:
        return source
    return "gateway" if pattern_id in fresh else f"{source}+gateway"


async def show(instance: Instance, pattern_id: str, *, progress: Progress = quiet) -> ShowOut:
    """One pattern in full, and its registry entry when it has one."""
    found = await resolve(instance, pattern_id)
    pattern = found.pattern
    if pattern is None and found.entry is not None:
        progress("fetching the metadata by CID")
        pattern = await fetch_verified(instance, found.entry)
    near = found.entry.model_dump(mode="json") if found.entry is not None else None
    return ShowOut(pattern=pattern.model_dump(mode="json"), near=near, local=found.local)
