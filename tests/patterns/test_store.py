"""PatternStore on real SQLite: round trip, restart, idempotency, tamper refusal, statistics,
search and concurrent writers."""

from __future__ import annotations

import sqlite3
import threading

import numpy as np
import pytest

from mycel_subnet.intelligence.embeddings import HashingEmbedder
from mycel_subnet.patterns import (
    EmbedderMismatch,
    PatternStore,
    TamperedPattern,
    UnknownPattern,
)
from mycel_subnet.patterns.store import embedding_text
from protocol import LearnedPattern
from tests.patterns.conftest import code_pattern, prompt_pattern

SORT = code_pattern("Sort a list of numbers in ascending order", requirements=("a list",))
PARSE = code_pattern("Parse an ISO date string into a datetime")
POEM = prompt_pattern("Write a short poem about a topic", "Write a poem about {text}")


def test_round_trip_keeps_content_and_id(store):
    assert store.put(SORT) is True
    got = store.get(str(SORT.id))
    assert got == SORT
    assert got.id == SORT.content_id()
    assert store.get("f" * 64) is None
    assert str(SORT.id) in store and "f" * 64 not in store


def test_put_is_idempotent_and_keeps_statistics(store):
    assert store.put(SORT) is True
    store.record_use(str(SORT.id), True, 4)
    # The same content published again (another creator, later) is the same pattern.
    again = SORT.model_copy(update={"creator": "bob.test"})
    assert store.put(again) is False
    assert store.put(SORT) is False
    assert len(store) == 1
    got = store.get(str(SORT.id))
    assert got.creator == "alice.test"
    assert got.usage_count == 1 and got.avg_rating == 4.0


def test_put_refuses_a_forged_id(store):
    forged = LearnedPattern.model_construct(**{**dict(SORT), "id": "0" * 64})
    with pytest.raises(ValueError, match="id does not match"):
        store.put(forged)
    data = SORT.model_dump(mode="json") | {"id": str(PARSE.id)}
    with pytest.raises(ValueError, match="id does not match"):
        store.put(data)
    with pytest.raises(TypeError, match="LearnedPattern or a dict"):
        store.put("not a pattern")  # type: ignore[arg-type]
    assert len(store) == 0


def test_tampered_row_is_detected_on_read(store):
    store.put(SORT)
    with sqlite3.connect(store.path) as conn:
        body = conn.execute("SELECT body FROM patterns").fetchone()[0]
        conn.execute("UPDATE patterns SET body = ?", (body.replace("ascending", "descending"),))
    with pytest.raises(TamperedPattern, match="id does not match"):
        store.get(str(SORT.id))


def test_restart_keeps_patterns_statistics_and_search(tmp_path, embedder):
    path = tmp_path / "p.db"
    with PatternStore(path, embedder) as first:
        first.put_many([SORT, PARSE, POEM])
        first.record_use(str(PARSE.id), False, 2)
        first.set_near_id(str(POEM.id), 7)
    with PatternStore(path, HashingEmbedder()) as second:
        assert len(second) == 3
        assert second.stats(str(PARSE.id)).usage_count == 1
        assert second.near_id(str(POEM.id)) == 7
        top = second.search_text("parse an ISO date string", k=1)
        assert top[0][0] == PARSE.id


def test_embeddings_are_stored_not_recomputed(store, embedder):
    store.put(SORT)
    stored = store.embedding(str(SORT.id))
    expected = embedder.embed([embedding_text(SORT)])[0]
    assert stored.dtype == np.float32 and np.allclose(stored, expected)

    class Exploding(HashingEmbedder):
        def embed(self, texts):
            raise AssertionError("search must not re-embed stored patterns")

    store.embedder = Exploding()
    assert store.search(expected, k=1)[0][0] == SORT.id


def test_reopening_with_another_embedder_is_refused(tmp_path):
    path = tmp_path / "p.db"
    PatternStore(path, HashingEmbedder(dim=384)).close()
    with pytest.raises(EmbedderMismatch, match="HashingEmbedder/384"):
        PatternStore(path, HashingEmbedder(dim=64))


def test_record_use_updates_counts_and_averages(store):
    store.put(SORT)
    pid = str(SORT.id)
    store.record_use(pid, True, 5)
    store.record_use(pid, True, 3)
    stats = store.record_use(pid, False)
    assert (stats.usage_count, stats.success_count, stats.rating_count) == (3, 2, 2)
    assert stats.success_rate == pytest.approx(2 / 3)
    got = store.get(pid)
    assert got.usage_count == 3 and got.avg_rating == pytest.approx(4.0)
    assert got.success_rate == pytest.approx(2 / 3)
    with pytest.raises(UnknownPattern, match="no pattern"):
        store.record_use("e" * 64, True)
    with pytest.raises(ValueError, match="between 0 and 5"):
        store.record_use(pid, True, 9)
    with pytest.raises(TypeError, match="success must be True or False"):
        store.record_use(pid, 1)  # type: ignore[arg-type]


def test_seeded_statistics_come_from_the_pattern(store):
    used = SORT.model_copy(update={"usage_count": 10, "success_rate": 0.8, "avg_rating": 4.5})
    store.put(used)
    stats = store.stats(str(SORT.id))
    assert (stats.usage_count, stats.success_count, stats.rating_count) == (10, 8, 10)
    assert stats.avg_rating == pytest.approx(4.5)


def test_list_by_domain_delete_and_search_filter(store):
    store.put_many([SORT, PARSE, POEM])
    assert [p.id for p in store.list("code")] == [SORT.id, PARSE.id]
    assert [p.id for p in store.list("writing")] == [POEM.id]
    assert [p.id for p in store.list(limit=1)] == [SORT.id]
    hits = store.search_text("write a poem", k=5, domain="code")
    assert {h[0] for h in hits} == {SORT.id, PARSE.id}
    assert store.delete(str(PARSE.id)) is True
    assert store.delete(str(PARSE.id)) is False
    assert {h[0] for h in store.search_text("parse a date", k=5)} == {SORT.id, POEM.id}
    assert store.get(str(PARSE.id)) is None
    assert len(store) == 2


def test_search_validates_input(store):
    store.put(SORT)
    with pytest.raises(ValueError, match="384 values"):
        store.search(np.ones(3), k=1)
    with pytest.raises(ValueError, match="k must be"):
        store.search(np.ones(384), k=0)
    with pytest.raises(ValueError, match="NaN"):
        store.search(np.full(384, np.nan), k=1)
    with pytest.raises(ValueError, match="non-empty"):
        store.search_text("  ")


def test_search_sees_writes_from_another_connection(tmp_path, embedder):
    path = tmp_path / "p.db"
    with PatternStore(path, embedder) as reader, PatternStore(path, embedder) as writer:
        reader.put(SORT)
        assert len(reader.search_text("parse a date", k=5)) == 1
        writer.put(PARSE)
        assert reader.search_text("parse an ISO date string", k=1)[0][0] == PARSE.id


def test_concurrent_writers_lose_no_update(tmp_path, embedder):
    """Four threads, each with its own connection (as separate processes would have)."""
    path = tmp_path / "p.db"
    with PatternStore(path, embedder) as setup:
        setup.put(SORT)
    patterns = [code_pattern(f"Task number {i} of the concurrency test") for i in range(20)]
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            with PatternStore(path, embedder, timeout_s=20) as own:
                for i in range(25):
                    own.record_use(str(SORT.id), i % 2 == 0, 4)
                own.put_many(patterns[worker * 5 : worker * 5 + 5] + patterns[:2])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with PatternStore(path, embedder) as check:
        stats = check.stats(str(SORT.id))
        assert stats.usage_count == 100 and stats.success_count == 52 and stats.rating_count == 100
        assert len(check) == 21
