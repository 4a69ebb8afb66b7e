"""PatternStore's approximate (HNSW) search against its exact search on real SQLite files: recall,
exact filters, another process's writes, and a saved index that is checked before it is reused.

Sizes are small (a few thousand 384-d vectors) with `exact_below` lowered so the ANN path runs.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import faiss
import numpy as np
import pytest

from mycel_subnet.intelligence.embeddings import HashingEmbedder, l2_normalise
from mycel_subnet.patterns import PatternStore
from mycel_subnet.patterns.search_index import IndexSettings
from protocol import CodeTemplate, LearnedPattern

faiss.omp_set_num_threads(1)

DIM = 384
N = 5_000
ANN = IndexSettings(exact_below=1_000)
EXACT = IndexSettings(exact_below=10**9)
ONE_NEAR = 10**24
CREATORS = ("alice.test", "bob.test", "carol.test", "dave.test")
REPUTATION = {"alice.test": 0.9, "bob.test": 0.5, "carol.test": 0.2}  # dave: the default 0.25


def make(i: int, *, domain: str, price: int, creator: str) -> LearnedPattern:
    return LearnedPattern(
        creator=creator,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        trigger=f"Task {i}: transform record type {i % 97}",
        solution=CodeTemplate(language="python", code=f"def solve(x):\n    return x + {i}\n"),
        domain=domain,
        price_per_use=price,
    )


def vectors(rng: np.random.Generator, n: int) -> np.ndarray:
    """Half uniform on the sphere, half in 50 clusters (like real sentence embeddings)."""
    half = n // 2
    uniform = rng.standard_normal((half, DIM))
    centres = l2_normalise(rng.standard_normal((50, DIM)).astype(np.float32))
    noise = l2_normalise(rng.standard_normal((n - half, DIM)).astype(np.float32))
    clustered = centres[rng.integers(0, 50, n - half)] + 0.5 * noise
    return l2_normalise(np.vstack([uniform, clustered]).astype(np.float32))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, np.ndarray, list[LearnedPattern]]:
    """One database of N patterns: domain 'rare' on 1% of them, prices around 1 NEAR."""
    rng = np.random.default_rng(7)
    vecs = vectors(rng, N)
    patterns = [
        make(
            i,
            domain="rare" if i % 100 == 0 else ("code" if i % 2 else "data"),
            price=ONE_NEAR + (i % 3) - 1,  # 1 NEAR - 1 yocto, 1 NEAR, 1 NEAR + 1 yocto
            creator=CREATORS[i % len(CREATORS)],
        )
        for i in range(N)
    ]
    path = tmp_path_factory.mktemp("ann") / "patterns.db"
    with PatternStore(path, HashingEmbedder(), index=EXACT) as store:
        store.put_many(patterns, embeddings=vecs)
    return path, vecs, patterns


def queries(vecs: np.ndarray, count: int = 40) -> np.ndarray:
    rng = np.random.default_rng(11)
    near = vecs[rng.integers(0, len(vecs), count)] + 0.3 * rng.standard_normal((count, DIM))
    return l2_normalise(near.astype(np.float32))


def open_store(path: Path, settings: IndexSettings, **kw) -> PatternStore:
    return PatternStore(path, HashingEmbedder(), index=settings, **kw)


def recall(got: list[list[str]], want: list[list[str]]) -> float:
    hits = sum(len(set(g) & set(w)) for g, w in zip(got, want, strict=True))
    return hits / sum(len(w) for w in want)


def test_ann_matches_exact_top10(corpus, tmp_path):
    path, vecs, _ = corpus
    qs = queries(vecs)
    with open_store(path, EXACT) as exact, open_store(path, ANN, index_path=tmp_path / "i") as ann:
        want = [[pid for pid, _ in exact.search(q, 10)] for q in qs]
        got = [[pid for pid, _ in ann.search(q, 10)] for q in qs]
        assert ann.index.approximate and not exact.index.approximate
        assert recall(got, want) >= 0.95
        # The scores are exact cosines, not graph distances.
        for pid, sim in ann.search(qs[0], 10):
            assert sim == pytest.approx(float(ann.embedding(pid) @ qs[0]), abs=1e-5)


@pytest.mark.parametrize(
    "filters",
    [
        {"domain": "code"},
        {"domain": "rare"},  # 1%: below min_ann_fraction, answered exactly
        {"max_price": ONE_NEAR},  # drops the patterns priced 1 yocto above
        {"max_price": ONE_NEAR - 1, "domain": "data"},
        {"min_reputation": 0.5, "reputation": REPUTATION},
        {"min_reputation": 0.25, "reputation": REPUTATION, "max_price": ONE_NEAR},
        {"domain": "nowhere"},
    ],
)
def test_filters_apply_exactly(corpus, tmp_path, filters):
    path, vecs, patterns = corpus
    by_id = {str(p.id): p for p in patterns}
    rep = filters.get("reputation", {})

    def passes(pid: str) -> bool:
        p = by_id[pid]
        return (
            p.domain == filters.get("domain", p.domain)
            and p.price_per_use <= filters.get("max_price", p.price_per_use)
            and rep.get(p.creator, 0.25) >= filters.get("min_reputation", 0.0)
        )

    qs = queries(vecs, 20)
    with open_store(path, EXACT) as exact, open_store(path, ANN, index_path=tmp_path / "i") as ann:
        want = [[pid for pid, _ in exact.search(q, 10, **filters)] for q in qs]
        got = [[pid for pid, _ in ann.search(q, 10, **filters)] for q in qs]
    assert all(passes(pid) for row in want + got for pid in row)
    if filters.get("domain") == "nowhere":
        assert got == want == [[]] * len(qs)
        return
    assert all(len(row) == 10 for row in got)
    assert recall(got, want) >= 0.95
    if filters.get("domain") == "rare":
        assert got == want  # too selective for the graph: the exact path answered


_WRITER = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime
    import numpy as np
    from mycel_subnet.intelligence.embeddings import HashingEmbedder
    from mycel_subnet.patterns import PatternStore
    from mycel_subnet.patterns.search_index import IndexSettings
    from protocol import CodeTemplate, LearnedPattern

    db, vec_file, delete_id = sys.argv[1], sys.argv[2], sys.argv[3]
    pattern = LearnedPattern(
        creator="erin.test", created_at=datetime(2026, 1, 1, tzinfo=UTC),
        trigger="A pattern written by another process",
        solution=CodeTemplate(language="python", code="def solve(x):\\n    return -x\\n"),
        domain="code",
    )
    with PatternStore(db, HashingEmbedder(), index=IndexSettings(persist=False)) as store:
        store.put(pattern, embedding=np.load(vec_file))
        assert store.delete(delete_id)
    print(pattern.id)
    """
)


def test_another_process_adds_and_removes(corpus, tmp_path):
    src, vecs, _ = corpus
    path = tmp_path / "copy.db"
    with open_store(src, EXACT) as origin:
        origin._conn.execute("VACUUM INTO ?", (str(path),))
    with open_store(path, ANN) as ann:
        q = queries(vecs, 1)[0]
        best = ann.search(q, 1)[0][0]
        assert ann.index.approximate
        fresh = l2_normalise((q + 0.01 * np.ones(DIM, np.float32))[None, :])[0]
        np.save(tmp_path / "v.npy", fresh)
        out = subprocess.run(
            [sys.executable, "-c", _WRITER, str(path), str(tmp_path / "v.npy"), best],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        new_id = out.stdout.strip()
        hits = [pid for pid, _ in ann.search(q, 10)]
        assert hits[0] == new_id  # seen through the incremental update, not a reload
        assert best not in hits
        assert ann.index.approximate
        assert ann.get(best) is None
        assert best not in {pid for pid, _ in ann.search(q, 50, domain="data")}


def test_saved_index_is_reused_and_a_corrupt_one_rebuilt(corpus, tmp_path):
    path, vecs, _ = corpus
    index_file = tmp_path / "p.hnsw"
    q = queries(vecs, 1)[0]
    with open_store(path, ANN, index_path=index_file) as first:
        want = first.search(q, 10)
        assert any("built HNSW" in e for e in first.index.events)
    assert index_file.exists()
    with open_store(path, ANN, index_path=index_file) as second:
        assert second.search(q, 10) == want
        assert any("reused the saved index" in e for e in second.index.events)

    data = bytearray(index_file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    index_file.write_bytes(bytes(data))
    with open_store(path, ANN, index_path=index_file) as third:
        assert third.search(q, 10) == want
        events = " ".join(third.index.events)
        assert "checksum" in events and "built HNSW" in events
    with open_store(path, ANN, index_path=index_file) as fourth:
        fourth.refresh_index()
        assert any("reused" in e for e in fourth.index.events)  # the rebuilt file is good again


def test_an_index_of_another_database_is_not_trusted(corpus, tmp_path):
    path, vecs, patterns = corpus
    index_file = tmp_path / "p.hnsw"
    with open_store(path, ANN, index_path=index_file) as store:
        store.refresh_index()
    other = tmp_path / "other.db"
    rng = np.random.default_rng(3)
    with open_store(other, ANN, index_path=index_file) as store:
        store.put_many(patterns[:1_500], embeddings=vectors(rng, 1_500))
        q = queries(vecs, 1)[0]
        hits = store.search(q, 5)
        assert "not reusing the saved index" in " ".join(store.index.events)
        sims = [s for _, s in hits]
        stored = {pid: store.embedding(pid) for pid, _ in hits}
        assert sims == pytest.approx([float(stored[pid] @ q) for pid, _ in hits], abs=1e-5)


def test_falls_back_to_exact_when_few_remain(tmp_path):
    rng = np.random.default_rng(5)
    vecs = vectors(rng, 1_200)
    patterns = [make(i, domain="code", price=0, creator="alice.test") for i in range(1_200)]
    with open_store(tmp_path / "p.db", ANN) as store:
        store.put_many(patterns, embeddings=vecs)
        store.refresh_index()
        assert store.index.approximate
        for p in patterns[:800]:
            store.delete(str(p.id))
        hits = store.search(vecs[900], 3)
        assert hits[0][0] == patterns[900].id
        assert not store.index.approximate  # 400 live < exact_below / 2
        assert all(pid not in {str(p.id) for p in patterns[:800]} for pid, _ in hits)
