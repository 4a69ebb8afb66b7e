"""Discovery at scale: PatternStore search at N patterns x 384-d, exact vs the HNSW index.

Prints, for one size (default 1M; it takes many minutes there, and about 1.5 GB per copy of the
vectors): store fill rate, exact top-10 p50/p95, HNSW build time, top-10 p50/p95 and recall@10
against exact search (targets: p50 <= 10 ms, recall >= 0.95), the same with a domain filter,
the time to reopen the saved index, memory (RSS) of each, and discover() end to end. Asserts
nothing.

Vectors: unit vectors in clusters (a Gaussian mixture on the sphere, like sentence embeddings,
which group by topic), queries are perturbed stored vectors. `--data random` uses uniform
vectors instead: no ANN does well on those (every point is about equally far), and real
embeddings are not like that.
Run: .venv/bin/python benchmarks/bench_discovery.py [--size 1000000] [--queries 200]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

from mycel_subnet.intelligence.embeddings import DIM, HashingEmbedder, l2_normalise
from mycel_subnet.patterns import PatternDiscovery, PatternStore
from mycel_subnet.patterns.search_index import IndexSettings
from protocol import CodeTemplate, LearnedPattern

DOMAINS = ("code", "legal", "writing", "data")
CHUNK = 20_000
EXACT = IndexSettings(exact_below=10**12)


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def make_patterns(start: int, stop: int) -> list[LearnedPattern]:
    created = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        LearnedPattern(
            creator="alice.test",
            created_at=created,
            trigger=f"Task {i}: transform record type {i % 97} into format {i % 13}",
            solution=CodeTemplate(language="python", code=f"def solve(x):\n    return x + {i}\n"),
            domain=DOMAINS[i % len(DOMAINS)],
        )
        for i in range(start, stop)
    ]


class Vectors:
    """Deterministic chunks of clustered (or uniform) unit vectors."""

    def __init__(self, n: int, kind: str, seed: int = 0) -> None:
        self.n, self.kind = n, kind
        rng = np.random.default_rng(seed)
        self.centres = l2_normalise(
            rng.standard_normal((max(10, n // 200), DIM)).astype(np.float32)
        )

    def chunk(self, start: int, stop: int) -> np.ndarray:
        rng = np.random.default_rng(start + 1)
        noise = l2_normalise(rng.standard_normal((stop - start, DIM)).astype(np.float32))
        if self.kind == "random":
            return noise
        centre = self.centres[rng.integers(0, len(self.centres), stop - start)]
        return l2_normalise(centre + 0.6 * noise)


def percentiles(samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[min(len(ms) - 1, int(0.95 * len(ms)))]
    return f"p50 {statistics.median(ms):7.2f} ms  p95 {p95:7.2f} ms"


def timed_searches(store: PatternStore, queries: np.ndarray, **filters) -> tuple[list, list]:
    samples, answers = [], []
    for q in queries:
        t0 = time.perf_counter()
        answers.append([pid for pid, _ in store.search(q, 10, **filters)])
        samples.append(time.perf_counter() - t0)
    return samples, answers


def recall(got: list[list[str]], want: list[list[str]]) -> float:
    hits = sum(len(set(g) & set(w)) for g, w in zip(got, want, strict=True))
    return hits / max(1, sum(len(w) for w in want))


def fill(path: Path, n: int, vectors: Vectors) -> None:
    t0 = time.perf_counter()
    with PatternStore(path, HashingEmbedder(), index=EXACT) as store:
        for start in range(0, n, CHUNK):
            stop = min(n, start + CHUNK)
            store.put_many(make_patterns(start, stop), embeddings=vectors.chunk(start, stop))
    seconds = time.perf_counter() - t0
    size_mb = path.stat().st_size / 1e6
    print(f"fill: {n} patterns in {seconds:.0f} s ({n / seconds:.0f}/s), db {size_mb:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="patterns (default 1M)")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--data", choices=("clustered", "random"), default="clustered")
    parser.add_argument("--ef-search", type=int, default=None, help="HNSW efSearch override")
    parser.add_argument("--dir", type=Path, default=None, help="where the database goes")
    args = parser.parse_args()
    if args.size < 1000 or args.queries < 1:
        parser.error("--size must be >= 1000 and --queries >= 1")
    n = args.size
    vectors = Vectors(n, args.data)
    rng = np.random.default_rng(99)
    picks = rng.integers(0, n, args.queries)
    base = np.vstack([vectors.chunk(int(i), int(i) + 1) for i in picks])
    noise = rng.standard_normal(base.shape).astype(np.float32)
    queries = l2_normalise(base + 0.3 * l2_normalise(noise))

    if args.dir is not None:
        args.dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        path = Path(tmp) / "bench.db"
        print(f"n={n} x {DIM}-d, data={args.data}, {args.queries} queries, top-10")
        fill(path, n, vectors)

        before = rss_mb()
        with PatternStore(path, HashingEmbedder(), index=EXACT) as exact:
            t0 = time.perf_counter()
            exact.refresh_index()
            load_s = time.perf_counter() - t0
            mem = rss_mb() - before
            samples, truth = timed_searches(exact, queries)
            print(f"exact: load {load_s:.1f} s, +{mem:.0f} MB RSS, top-10 {percentiles(samples)}")
            samples, truth_code = timed_searches(exact, queries, domain="code")
            print(f"exact, domain filter (25%):        {percentiles(samples)}")
        gc.collect()

        settings = IndexSettings()
        if args.ef_search:
            from mycel_subnet.patterns.ann import HnswParams

            settings = IndexSettings(hnsw=HnswParams(ef_search=args.ef_search))
        before = rss_mb()
        with PatternStore(path, HashingEmbedder(), index=settings) as ann:
            t0 = time.perf_counter()
            ann.refresh_index()
            build_s = time.perf_counter() - t0
            mem = rss_mb() - before
            samples, got = timed_searches(ann, queries)
            print(
                f"hnsw: load + build {build_s:.1f} s, +{mem:.0f} MB RSS"
                f" (index file {ann.index_path.stat().st_size / 1e6:.0f} MB)"
            )
            print(f"hnsw top-10 {percentiles(samples)}  recall@10 {recall(got, truth):.3f}")
            samples, got = timed_searches(ann, queries, domain="code")
            print(
                f"hnsw, domain filter (25%): {percentiles(samples)}"
                f"  recall@10 {recall(got, truth_code):.3f}"
            )
            discovery = PatternDiscovery(ann, min_similarity=-1.0)
            texts = [f"transform record type {i} into another format" for i in range(20)]
            asyncio.run(discovery.discover(texts[0], k=10))
            samples = []
            for text in texts:
                t0 = time.perf_counter()
                asyncio.run(discovery.discover(text, k=10))
                samples.append(time.perf_counter() - t0)
            print(f"discover() local, k=10 (hashing embedder): {percentiles(samples)}")
        gc.collect()

        before = rss_mb()
        with PatternStore(path, HashingEmbedder(), index=settings) as again:
            t0 = time.perf_counter()
            again.refresh_index()
            reopen_s = time.perf_counter() - t0
            reused = any("reused" in e for e in again.index.events)
            print(
                f"reopen with the saved index: {reopen_s:.1f} s (reused: {reused}),"
                f" +{rss_mb() - before:.0f} MB RSS"
            )
    print(f"vectors alone: {n * DIM * 4 / 1e6:.0f} MB (float32)")


if __name__ == "__main__":
    main()
