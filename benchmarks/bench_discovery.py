"""PatternStore put throughput and brute-force search latency at 1k / 10k / 100k patterns, and
PatternDiscovery.discover() end to end (local only, HashingEmbedder).

Embeddings are random unit vectors (384-d, like MiniLM): search cost depends only on their count
and dimension. Prints figures; asserts nothing.
Run: .venv/bin/python benchmarks/bench_discovery.py [--sizes 1000 10000 100000]
"""

from __future__ import annotations

import argparse
import asyncio
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
from protocol import CodeTemplate, LearnedPattern

DOMAINS = ("code", "legal", "writing", "data")
QUERIES = 50
SINGLE_PUTS = 500


def make_patterns(n: int, offset: int = 0) -> list[LearnedPattern]:
    created = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        LearnedPattern(
            creator="alice.test",
            created_at=created,
            trigger=f"Task {i}: transform record type {i % 97} into format {i % 13}",
            solution=CodeTemplate(language="python", code=f"def solve(x):\n    return x + {i}\n"),
            domain=DOMAINS[i % len(DOMAINS)],
        )
        for i in range(offset, offset + n)
    ]


def percentiles(samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[min(len(ms) - 1, int(0.95 * len(ms)))]
    return f"p50 {statistics.median(ms):7.2f} ms  p95 {p95:7.2f} ms"


def bench_size(n: int, rng: np.random.Generator) -> None:
    t0 = time.perf_counter()
    patterns = make_patterns(n)
    vectors = l2_normalise(rng.standard_normal((n, DIM)).astype(np.float32))
    build_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        store = PatternStore(Path(tmp) / "bench.db", HashingEmbedder())
        t0 = time.perf_counter()
        store.put_many(patterns, embeddings=vectors)
        batch_s = time.perf_counter() - t0
        print(
            f"n={n:>6}  put_many (one transaction): {n / batch_s:8.0f} patterns/s"
            f"  (building the LearnedPatterns: {n / build_s:8.0f}/s)"
        )
        queries = l2_normalise(rng.standard_normal((QUERIES, DIM)).astype(np.float32))
        t0 = time.perf_counter()
        store.search(queries[0], k=10)
        print(
            f"n={n:>6}  first search (loads the matrix): {(time.perf_counter() - t0) * 1e3:8.1f} ms"
        )
        for label, domain in (("search top-10", None), ("search top-10 in a domain", "code")):
            samples = []
            for q in queries:
                t0 = time.perf_counter()
                store.search(q, k=10, domain=domain)
                samples.append(time.perf_counter() - t0)
            print(f"n={n:>6}  {label:<26} {percentiles(samples)}")

        discovery = PatternDiscovery(store, min_similarity=-1.0)
        texts = [f"transform record type {i} into another format" for i in range(QUERIES)]
        asyncio.run(discovery.discover(texts[0], k=10))  # warms the safety cache path
        samples = []
        for text in texts:
            t0 = time.perf_counter()
            asyncio.run(discovery.discover(text, k=10))
            samples.append(time.perf_counter() - t0)
        print(f"n={n:>6}  discover() local, k=10       {percentiles(samples)}")
        store.close()


def bench_single_puts() -> None:
    """One transaction per put, embedding each pattern with the hashing embedder."""
    patterns = make_patterns(SINGLE_PUTS, offset=10**7)
    with (
        tempfile.TemporaryDirectory() as tmp,
        PatternStore(Path(tmp) / "single.db", HashingEmbedder()) as store,
    ):
        t0 = time.perf_counter()
        for p in patterns:
            store.put(p)
        seconds = time.perf_counter() - t0
        t0 = time.perf_counter()
        for p in patterns:
            store.put(p)
        again = time.perf_counter() - t0
        t0 = time.perf_counter()
        for p in patterns:
            store.record_use(str(p.id), True, 5)
        uses = time.perf_counter() - t0
    print(f"single put (own transaction, hashing embedder): {SINGLE_PUTS / seconds:8.0f} puts/s")
    print(f"repeated put (already stored, no-op):           {SINGLE_PUTS / again:8.0f} puts/s")
    print(f"record_use:                                     {SINGLE_PUTS / uses:8.0f} updates/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="*", type=int, default=[1_000, 10_000, 100_000])
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    bench_single_puts()
    for n in args.sizes:
        bench_size(n, rng)
    matrix_mb = max(args.sizes) * DIM * 4 / 1e6
    print(f"embedding matrix in RAM at n={max(args.sizes)}: {matrix_mb:.0f} MB (float32, {DIM}-d)")


if __name__ == "__main__":
    main()
