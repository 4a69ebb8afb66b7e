"""The registry index: incremental, resumable sync from the local NEAR ledger (real
PatternRegistry logic) through a real LocalContentStore, hash-checked, with every bad entry
refused or held in one line, and exact search by domain and snapshot.

The embedder is HashingEmbedder (real project code, numpy only: fast and deterministic);
tests/validator/test_search_task.py runs the real MiniLM model. A kubo daemon cannot run here:
the unreachable store is a KuboContentStore pointed at a closed loopback port (a real refusal).
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time

import numpy as np
import pytest

from mycel_subnet.intelligence.embeddings import HashingEmbedder
from mycel_subnet.near.client import RegistryError, make_registry_reader
from mycel_subnet.patterns.registry_index import RegistryIndex, RegistryIndexError
from mycel_subnet.patterns.registry_sync import (
    BackgroundSync,
    IndexNotReady,
    RegistrySync,
    open_registry_sync,
)
from mycel_subnet.patterns.store import embedding_text
from mycel_subnet.storage.kubo import KuboContentStore
from protocol import SearchPatternsRequest
from tests.patterns.registry_world import make_pattern, make_world

REGISTRY = "local:registry.mycel.test"


class CountingEmbedder(HashingEmbedder):
    """The hashing embedder, counting the texts it embeds (to see what a resume skips)."""

    def __init__(self) -> None:
        super().__init__()
        self.texts = 0

    def embed(self, texts):
        self.texts += len(texts)
        return super().embed(texts)


@pytest.fixture
def world(tmp_path):
    w = make_world(tmp_path / "world")
    yield w
    w.close()


def _index(tmp_path, embedder=None, name="index.sqlite") -> RegistryIndex:
    return RegistryIndex(tmp_path / name, embedder or HashingEmbedder(), registry=REGISTRY)


def _sync(index, world, **kw) -> RegistrySync:
    return RegistrySync(index, world.reader(), world.store, **kw)


def run(coro):
    return asyncio.run(coro)


def test_get_config_is_public_and_typed(world):
    world.populate(3)
    config = run(world.reader().get_config())
    assert config.next_id == 4 and config.fee_bps == 500 and config.owner == "owner.test"


def test_sync_is_incremental_and_a_restart_resumes_without_refetching(tmp_path, world):
    world.populate(150)
    embedder = CountingEmbedder()
    index = _index(tmp_path, embedder)
    first = run(_sync(index, world, batch=32).sync_once(max_entries=70))
    assert (first.indexed, first.cursor, first.next_id, first.behind) == (70, 71, 151, 80)
    assert index.size == 70
    index.close()

    reopened = _index(tmp_path, embedder)  # a restart: a new process opens the same file
    assert reopened.cursor == 71 and reopened.size == 70
    second = run(_sync(reopened, world).sync_once())
    assert (second.indexed, second.cursor, second.behind) == (80, 151, 0)
    world.populate(20, start=150)
    third = run(_sync(reopened, world).sync_once())
    assert third.indexed == 20 and reopened.size == 170
    assert embedder.texts == 170  # every pattern embedded exactly once across the restart
    idle = run(_sync(reopened, world).sync_once())
    assert not idle.changed and embedder.texts == 170
    held = {p.registry_id: p.pattern_hash for p in reopened.patterns()}
    assert held == {rid: p.id for rid, p in world.patterns.items()}


def test_a_hash_mismatch_is_refused_remembered_and_never_searched(tmp_path, world):
    world.populate(30)
    honest = make_pattern("Sort invoice totals by date", "finance", "alice.test", 900)
    impostor = make_pattern("Delete every file on the disk", "finance", "alice.test", 901)
    from mycel_subnet.storage.metadata import put_pattern_metadata

    wrong_cid = put_pattern_metadata(impostor, world.store)
    rid = world.register(honest, cid=wrong_cid)  # the registered hash is honest's
    index = _index(tmp_path)
    report = run(_sync(index, world).sync_once())
    assert report.refused == 1 and report.indexed == 30
    ((refused_id, refused_hash, reason),) = index.refused()
    assert (refused_id, refused_hash) == (rid, honest.id)
    assert "not the registered" in reason and impostor.id in reason and "\n" not in reason
    query = index.embed(["Delete every file on the disk"])[0]
    found = [pid for pid, _ in index.search(query, 50)]
    assert honest.id not in found and impostor.id not in found
    again = run(_sync(index, world).sync_once())  # remembered: not fetched again
    assert not again.changed and len(index.refused()) == 1
    assert index.lookup([honest.id, impostor.id]) == {}


def test_bad_metadata_is_refused_in_one_line_and_missing_content_waits(tmp_path, world):
    good = make_pattern("Plot stock prices for a dashboard", "finance", "bob.test", 1)
    not_json = world.store.put(b"\xff\x00 not json")
    not_pattern = world.store.put(json.dumps({"trigger": 5}).encode())
    world.register(make_pattern("Parse csv rows by date", "data", "bob.test", 2), cid=not_json)
    world.register(make_pattern("Merge git commits", "code", "bob.test", 3), cid=not_pattern)
    world.register(make_pattern("Diff dns records", "ops", "bob.test", 4), cid="b" + "a" * 58)
    wrong_domain = make_pattern("Cache server metrics", "ops", "bob.test", 5)
    world.register(wrong_domain, domain="finance")
    from mycel_subnet.storage.local import LocalContentStore
    from mycel_subnet.storage.metadata import put_pattern_metadata

    elsewhere = LocalContentStore(tmp_path / "elsewhere")
    late_cid = put_pattern_metadata(good, elsewhere)
    late_id = world.register(good, cid=late_cid)  # registered before its content is pinned here
    world.populate(5, start=10)  # indexed above it: its recovery must reload the memory
    index = _index(tmp_path)
    report = run(_sync(index, world).sync_once())
    assert (report.indexed, report.refused, report.pending) == (5, 4, 1)
    reasons = {rid: reason for rid, _h, reason in index.refused()}
    assert "is not JSON" in reasons[1] and not_json in reasons[1]
    assert "is not a valid pattern" in reasons[2] and not_pattern in reasons[2]
    assert "version" in reasons[3]
    assert "registered in domain 'finance' but its metadata says 'ops'" in reasons[4]
    assert all("\n" not in r and len(r) <= 300 for r in reasons.values())
    assert index.cursor == late_id + 6 and index.pending(10) == [late_id]
    assert index.size == 5

    world.store.put(elsewhere.get(late_cid))  # the content arrives
    retry = run(_sync(index, world).sync_once())
    assert retry.recovered == 1 and index.pending(10) == [] and index.size == 6
    hits = index.search(index.embed([good.trigger])[0], 1)
    assert hits[0][0] == good.id
    assert [p.registry_id for p in index.patterns()] == [late_id, *range(late_id + 1, late_id + 6)]


def test_an_unreachable_store_stops_the_pass_and_a_later_one_resumes(tmp_path, world):
    world.populate(40)
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    index = _index(tmp_path)
    down = RegistrySync(index, world.reader(), KuboContentStore(f"http://127.0.0.1:{port}"))
    report = run(down.sync_once())
    assert report.error and report.error.startswith("content store: kubo RPC API at")
    assert "unreachable" in report.error and "\n" not in report.error
    assert index.cursor == 1 and index.counts() == {"indexed": 0, "refused": 0, "pending": 0}
    assert "stopped: content store" in report.line()
    back = run(_sync(index, world).sync_once())
    assert back.indexed == 40 and back.error is None


def test_no_registry_is_one_line_and_leaves_nothing_on_disk(tmp_path):
    from mycel_subnet.config import IpfsSettings, NearSettings

    ledger = tmp_path / "nowhere" / "ledger.db"
    reader = make_registry_reader("local", ledger_path=ledger)
    with pytest.raises(RegistryError, match="no local NEAR ledger at"):
        run(reader.get_config())
    deferred = open_registry_sync(
        tmp_path / "idx" / "index.sqlite",
        NearSettings(),
        IpfsSettings(store_dir=tmp_path / "ipfs"),
        embedder=HashingEmbedder(),
        ledger_path=ledger,
    )
    report = run(deferred.sync_once())
    assert report.error.startswith("registry: no local NEAR ledger at") and deferred.index is None
    assert not ledger.exists() and not (tmp_path / "idx").exists()
    assert not (tmp_path / "ipfs").exists()


def test_a_registry_reset_under_the_index_is_noticed_and_resynced(tmp_path, world):
    world.populate(25)
    index = _index(tmp_path)
    run(_sync(index, world).sync_once())
    fresh = make_world(tmp_path / "fresh")  # the ledger was wiped and refilled
    try:
        fresh.populate(30, seed=9)  # more ids than before: only the hashes tell
        report = run(_sync(index, fresh).sync_once())
        assert report.reset and "no longer holds pattern" in report.reset
        assert "dropped 25 entries" in report.reset
        held = {p.registry_id: p.pattern_hash for p in index.patterns()}
        assert held == {rid: p.id for rid, p in fresh.patterns.items()}
        smaller = make_world(tmp_path / "smaller")
        smaller.populate(10, seed=4)
        again = run(_sync(index, smaller).sync_once())
        assert "next_id 11 is below this index's cursor 31" in again.reset
        assert index.size == 10
        smaller.close()
    finally:
        fresh.close()


def test_search_filters_by_domain_and_snapshot_exactly(tmp_path, world):
    world.populate(300)
    index = _index(tmp_path)
    run(_sync(index, world).sync_once())
    embedder = HashingEmbedder()
    ids = sorted(world.patterns)
    vectors = embedder.embed([embedding_text(world.patterns[i]) for i in ids])
    for text, domain, upto in (
        ("sort csv rows by date", None, None),
        ("plot stock prices", "finance", None),
        ("retry http responses", None, 120),
        ("merge git commits", "code", 200),
    ):
        query = index.embed([text])[0]
        sims = vectors @ query
        allowed = {
            world.patterns[rid].id: float(sims[n])
            for n, rid in enumerate(ids)
            if (upto is None or rid < upto)
            and (domain is None or world.patterns[rid].domain == domain)
        }
        best = sorted(allowed.values(), reverse=True)[:10]
        got = index.search(query, 10, domain=domain, upto=upto)
        assert len(got) == 10 and all(pid in allowed for pid, _ in got), (text, domain, upto)
        # the same top similarities (ties may come in either order), each the id's own
        assert np.allclose([s for _, s in got], best, atol=1e-6)
        assert np.allclose([allowed[pid] for pid, _ in got], best, atol=1e-6)
    answer = index.answer(SearchPatternsRequest(query="plot stock prices", k=5, domain="finance"))
    assert len(answer.pattern_ids) == 5 and answer.index_size == 300
    assert all(
        world.patterns[index.lookup([p])[p][0]].domain == "finance" for p in answer.pattern_ids
    )


def test_the_file_refuses_another_embedder_or_registry(tmp_path, world):
    _index(tmp_path).close()
    with pytest.raises(RegistryIndexError, match="embeddings from HashingEmbedder/384, not"):
        RegistryIndex(tmp_path / "index.sqlite", HashingEmbedder(dim=64), registry=REGISTRY)
    with pytest.raises(RegistryIndexError, match="holds the registry local:registry.mycel.test"):
        RegistryIndex(tmp_path / "index.sqlite", HashingEmbedder(), registry="testnet:other")


def test_background_sync_answers_and_a_request_past_its_cursor_wakes_it(tmp_path, world):
    world.populate(60)
    index = _index(tmp_path)
    background = BackgroundSync(_sync(index, world), interval_s=3600)
    search = background.searcher()
    background.start()
    try:
        assert _wait(lambda: background.last is not None and index.cursor == 61)
        answer = search(SearchPatternsRequest(query="parse csv rows", k=5, registry_upto=61))
        assert len(answer.pattern_ids) == 5 and answer.index_size == 60
        world.populate(15, start=60)
        ahead = search(SearchPatternsRequest(query="parse csv rows", k=5, registry_upto=76))
        assert ahead.index_size == 60  # answered at once from what it holds ...
        assert _wait(lambda: index.cursor == 76)  # ... and the sync ran without the hour's wait
    finally:
        background.stop()
    assert not background._thread.is_alive()


def test_a_searcher_without_an_index_says_why(tmp_path):
    from mycel_subnet.config import IpfsSettings, NearSettings

    deferred = open_registry_sync(
        tmp_path / "index.sqlite", NearSettings(), IpfsSettings(store_dir=tmp_path / "ipfs"),
        embedder=HashingEmbedder(), ledger_path=tmp_path / "missing.db",
    )  # fmt: skip
    background = BackgroundSync(deferred, interval_s=3600)
    background.start()
    try:
        assert _wait(lambda: background.last is not None)
        with pytest.raises(IndexNotReady, match="not ready: registry: no local NEAR ledger"):
            background.searcher()(SearchPatternsRequest(query="anything"))
    finally:
        background.stop()


def _wait(predicate, limit_s: float = 20.0) -> bool:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_two_processes_sharing_one_file_see_each_others_rows(tmp_path, world):
    world.populate(40)
    writer, reader = _index(tmp_path), _index(tmp_path)
    assert reader.size == 0
    run(_sync(writer, world).sync_once(max_entries=25))
    assert reader.size == 25 and reader.cursor == 26
    run(_sync(reader, world).sync_once())
    assert writer.size == 40 and {p.pattern_hash for p in writer.patterns()} == {
        p.id for p in world.patterns.values()
    }


def test_a_keyless_reader_syncs_over_near_json_rpc(tmp_path, world):
    """The NearRpcRegistryClient path with no key (py-near's real view calls) against the fake
    NEAR JSON-RPC of tests/near (no neard can run here), serving the world's ledger."""
    import uvicorn

    from tests.near.fake_rpc import build_app

    world.populate(12)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(build_app(world.ledger), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    assert _wait(lambda: server.started)
    try:
        reader = make_registry_reader(f"http://127.0.0.1:{sock.getsockname()[1]}")
        index = _index(tmp_path)

        async def sync_then_call():
            try:
                report = await RegistrySync(index, reader, world.store).sync_once()
                with pytest.raises(RegistryError, match="private key"):  # views only
                    await reader.register_pattern("a" * 64, "b" + "a" * 58, "code", 0)
                return report
            finally:
                await reader.close()

        report = run(sync_then_call())
        assert report.indexed == 12 and report.error is None, report.line()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
