"""Pattern metadata by CID, and registering it on the local NEAR ledger with that CID."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest

from mycel_subnet.storage import LocalContentStore, compute_cid
from mycel_subnet.storage.metadata import (
    InvalidMetadata,
    get_pattern_metadata,
    put_pattern_metadata,
    registration_args,
)
from protocol.pattern import LearnedPattern


def make_pattern(**overrides) -> LearnedPattern:
    data = {
        "creator": "alice.test",
        "created_at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        "trigger": "summarise a legal contract",
        "solution": {
            "kind": "model_adapter",
            "base_model": "mycel/tiny-llama",
            "adapter_cid": compute_cid(b"adapter archive"),
            "adapter_hash": "ab" * 32,
        },
        "domain": "legal",
        "language": "en",
        "price_per_use": 10**21,
    }
    data.update(overrides)
    return LearnedPattern.model_validate(data)


@pytest.fixture
def store(tmp_path):
    return LocalContentStore(tmp_path / "ipfs")


def test_metadata_round_trip_and_stable_cid(store, tmp_path):
    pattern = make_pattern()
    cid = put_pattern_metadata(pattern, store)
    assert get_pattern_metadata(cid, store, expected_pattern_hash=pattern.id) == pattern
    # Same pattern built from a dict in another key order on another store: same CID.
    reordered = LearnedPattern.model_validate(dict(reversed(pattern.model_dump().items())))
    assert put_pattern_metadata(reordered, LocalContentStore(tmp_path / "other")) == cid
    assert put_pattern_metadata(make_pattern(trigger="other"), store) != cid


def test_metadata_of_another_pattern_is_refused(store):
    cid = put_pattern_metadata(make_pattern(), store)
    with pytest.raises(InvalidMetadata, match="not the registered"):
        get_pattern_metadata(cid, store, expected_pattern_hash="0" * 64)


def test_invalid_metadata_is_refused_with_its_location(store):
    not_json = store.put(b"\xff\x00")
    with pytest.raises(InvalidMetadata, match="not JSON"):
        get_pattern_metadata(not_json, store)
    bad = make_pattern().model_dump(mode="json")
    bad["solution"]["adapter_hash"] = "nope"
    cid = store.put(json.dumps(bad).encode())
    with pytest.raises(InvalidMetadata, match="solution.model_adapter.adapter_hash"):
        get_pattern_metadata(cid, store)


def test_register_on_local_ledger_with_metadata_cid(store, tmp_path):
    from mycel_subnet.near.client import LocalRegistryClient
    from mycel_subnet.near.ledger import ONE_NEAR, LocalLedger

    pattern = make_pattern()
    cid = put_pattern_metadata(pattern, store)
    with LocalLedger(tmp_path / "ledger.db") as ledger:
        ledger.ensure_mycel_contracts("owner.test")
        ledger.create_account("alice.test", 100 * ONE_NEAR)
        client = LocalRegistryClient(ledger, "alice.test")

        async def flow():
            await client.register_pattern(**registration_args(pattern, cid))
            return await client.get_pattern_by_hash(pattern.id)

        entry = asyncio.run(flow())
    assert entry is not None and entry.metadata_cid == cid
    fetched = get_pattern_metadata(entry.metadata_cid, store, expected_pattern_hash=pattern.id)
    assert fetched.solution == pattern.solution
