"""Fetch registry patterns by their metadata CID from a content store (local or kubo).

The NEAR registry holds a pattern's hash, price and `metadata_cid`; the content itself lives
under that CID. This is the `fetcher` PatternDiscovery takes: the store verifies the bytes
against the CID, and the pattern is checked against the registered hash before it is used.
"""

from __future__ import annotations

import asyncio

from mycel_subnet.near.models import PatternEntry
from mycel_subnet.patterns.discovery import PatternFetcher
from mycel_subnet.storage.base import ContentStore
from mycel_subnet.storage.errors import ContentNotFound
from mycel_subnet.storage.metadata import get_pattern_metadata
from protocol import LearnedPattern


def content_store_fetcher(store: ContentStore) -> PatternFetcher:
    """A fetcher over `store`; content the store does not hold is "not available" (None)."""

    async def fetch(entry: PatternEntry) -> LearnedPattern | None:
        try:
            return await asyncio.to_thread(
                get_pattern_metadata,
                entry.metadata_cid,
                store,
                expected_pattern_hash=entry.pattern_hash,
            )
        except ContentNotFound:
            return None

    return fetch
