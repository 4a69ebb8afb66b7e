"""The validator's own view of the pattern registry: which ids exist, and their registry facts.

Miners' search answers are checked against it, never trusted. An id keeps its hash and CID once
registered, but its status changes (verified, quarantined, removed), so a found entry is cached
for FOUND_TTL_S only, and a miss for MISS_TTL_S, since the id may be registered a moment later.
Entries carry their status, so the gateway can refuse to offer a quarantined pattern that
miners' indexes still hold (without blaming the miners: it was clean when they indexed it).
Lookups are bounded in count and time, and a registry that does not answer is an error the
gateway reports (503), not a reason to pass unchecked ids through.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Iterable
from typing import Protocol

from mycel_subnet.near.models import PatternEntry

MISS_TTL_S = 30.0
FOUND_TTL_S = 60.0
MAX_CACHED = 50_000
LOOKUP_CONCURRENCY = 8


class RegistryUnavailable(Exception):
    """The registry did not answer in time; the message says so in one line."""


class RegistryView(Protocol):
    async def entries(self, pattern_ids: Iterable[str]) -> dict[str, PatternEntry]:
        """The registry entry of each id that exists (ids that do not are left out)."""
        ...


class _EntrySource(Protocol):
    async def get_pattern_by_hash(self, pattern_hash: str) -> PatternEntry | None: ...


class CachedRegistryView:
    """A RegistryView over a RegistryClient (its `get_pattern_by_hash` view call)."""

    def __init__(self, client: _EntrySource, *, timeout_s: float = 5.0) -> None:
        self.client = client
        self.timeout_s = timeout_s
        self._found: OrderedDict[str, tuple[PatternEntry, float]] = OrderedDict()
        self._missing: dict[str, float] = {}

    def _cached(self, pid: str) -> PatternEntry | bool | None:
        """The entry, None for a fresh miss, False when unknown."""
        hit = self._found.get(pid)
        if hit is not None and time.monotonic() - hit[1] < FOUND_TTL_S:
            self._found.move_to_end(pid)
            return hit[0]
        seen = self._missing.get(pid)
        if seen is not None and time.monotonic() - seen < MISS_TTL_S:
            return None
        return False

    def _remember(self, pid: str, entry: PatternEntry | None) -> None:
        if entry is None:
            if len(self._missing) >= MAX_CACHED:
                self._missing.clear()
            self._missing[pid] = time.monotonic()
            return
        self._found[pid] = (entry, time.monotonic())
        self._found.move_to_end(pid)
        if len(self._found) > MAX_CACHED:
            self._found.popitem(last=False)

    async def entries(self, pattern_ids: Iterable[str]) -> dict[str, PatternEntry]:
        wanted = list(dict.fromkeys(pattern_ids))
        out: dict[str, PatternEntry] = {}
        unknown: list[str] = []
        for pid in wanted:
            hit = self._cached(pid)
            if hit is False:
                unknown.append(pid)
            elif hit is not None:
                out[pid] = hit  # type: ignore[assignment]
        if unknown:
            gate = asyncio.Semaphore(LOOKUP_CONCURRENCY)

            async def one(pid: str) -> tuple[str, PatternEntry | None]:
                async with gate:
                    return pid, await self.client.get_pattern_by_hash(pid)

            try:
                async with asyncio.timeout(self.timeout_s):
                    found = await asyncio.gather(*(one(pid) for pid in unknown))
            except TimeoutError:
                raise RegistryUnavailable(
                    f"the pattern registry did not answer within {self.timeout_s:g}s"
                ) from None
            except Exception as error:  # RegistryError, RPC trouble: one line, no internals
                raise RegistryUnavailable(
                    f"the pattern registry did not answer ({type(error).__name__})"
                ) from None
            for pid, entry in found:
                valid = entry if entry is not None and entry.pattern_hash == pid else None
                self._remember(pid, valid)
                if valid is not None:
                    out[pid] = valid
        return out
