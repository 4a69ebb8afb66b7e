"""Discovery of a pattern known only to the NEAR registry, fetched by its metadata CID from a
real LocalContentStore and checked against the registered hash (local ledger, real contracts)."""

from __future__ import annotations

import pytest

from mycel_subnet.patterns import PatternDiscovery
from mycel_subnet.patterns.fetch import content_store_fetcher
from mycel_subnet.storage.local import LocalContentStore
from mycel_subnet.storage.metadata import put_pattern_metadata
from tests.patterns.conftest import client, code_pattern

pytestmark = pytest.mark.asyncio

QUERY = "sort a list of numbers in ascending order"
SORT = code_pattern(
    "Sort a list of numbers in ascending order", "def solve(x):\n    return sorted(x)\n"
)
OTHER = code_pattern("Count the words in a text file")


async def _register(ledger, pattern, cid):
    return await client(ledger, pattern.creator).register_pattern(
        str(pattern.id), cid, pattern.domain, 0
    )


async def test_registry_pattern_is_fetched_by_cid_and_cached(store, ledger, tmp_path):
    content = LocalContentStore(tmp_path / "ipfs")
    await _register(ledger, SORT, put_pattern_metadata(SORT, content))
    discovery = PatternDiscovery(
        store, registry=client(ledger, "bob.test"), fetcher=content_store_fetcher(content)
    )
    found = await discovery.discover(QUERY, domain="code")
    assert found and found[0].pattern_id == SORT.id and found[0].source == "registry"
    assert store.get(str(SORT.id)) == SORT


async def test_a_cid_holding_another_pattern_is_refused(store, ledger, tmp_path):
    content = LocalContentStore(tmp_path / "ipfs")
    await _register(ledger, SORT, put_pattern_metadata(OTHER, content))  # wrong content
    discovery = PatternDiscovery(
        store, registry=client(ledger, "bob.test"), fetcher=content_store_fetcher(content)
    )
    result = await discovery.discover_detailed(QUERY, domain="code")
    assert SORT.id not in [r.pattern_id for r in result.patterns]
    assert any("not the registered" in w for w in result.warnings), result.warnings
    assert str(SORT.id) not in store and str(OTHER.id) not in store


async def test_content_missing_from_the_store_is_skipped_with_a_warning(store, ledger, tmp_path):
    elsewhere = LocalContentStore(tmp_path / "elsewhere")
    cid = put_pattern_metadata(SORT, elsewhere)
    await _register(ledger, SORT, cid)
    empty = LocalContentStore(tmp_path / "ipfs")
    discovery = PatternDiscovery(
        store, registry=client(ledger, "bob.test"), fetcher=content_store_fetcher(empty)
    )
    result = await discovery.discover_detailed(QUERY, domain="code")
    assert SORT.id not in [r.pattern_id for r in result.patterns]
    assert any("content not available" in w for w in result.warnings), result.warnings
