"""The search task: sync throughput, query latency, and what honest and cheating searchers score.

Run: .venv/bin/python benchmarks/bench_search_task.py [--patterns 2000] [--challenges 40]
     [--embedder minilm|hashing]

Registers `--patterns` patterns on a fresh local NEAR ledger (real PatternRegistry logic,
metadata in a LocalContentStore), syncs the validator's index (the timed sync), syncs a miner's
index of its own (reusing the model's vectors per text, so the model does not run twice), then
grades `--challenges` search instances (3 queries each) for the honest index and every cheater
of tests/validator/search_cheaters.py, with the validator's own grader and the par reward rule.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patterns", type=int, default=2000, help="registered patterns")
    parser.add_argument("--challenges", type=int, default=40, help="search instances graded")
    parser.add_argument("--embedder", choices=("minilm", "hashing"), default="minilm")
    return parser.parse_args()


class _Memo:
    """The benchmark's model, remembering vectors per text (for the second index only)."""

    def __init__(self, inner) -> None:
        import numpy as np

        self.np = np
        self.inner = inner
        self.dim = inner.dim
        self.memo: dict[str, object] = {}
        self.lock = threading.Lock()

    def embed(self, texts):
        with self.lock:
            todo = list(dict.fromkeys(t for t in texts if t not in self.memo))
            if todo:
                self.memo.update(zip(todo, self.inner.embed(todo), strict=True))
            return self.np.stack([self.memo[t] for t in texts])


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    args = _args()
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from mycel_subnet.intelligence.embeddings import HashingEmbedder, MiniLMEmbedder
    from mycel_subnet.patterns.registry_index import RegistryIndex
    from mycel_subnet.patterns.registry_sync import RegistrySync
    from mycel_subnet.validator.challenges import search as S
    from mycel_subnet.validator.challenges.rng import derive
    from mycel_subnet.validator.challenges.round import draw_tier
    from mycel_subnet.validator.scoring import RewardPolicy, par_reward, task_value
    from protocol import SearchPatternsRequest
    from tests.patterns.registry_world import make_world
    from tests.validator.search_cheaters import Honest, cheaters

    if args.embedder == "minilm":
        import torch

        torch.set_num_threads(1)
        model = _Memo(MiniLMEmbedder())
    else:
        model = _Memo(HashingEmbedder())
    root = Path(tempfile.mkdtemp(prefix="bench-search-"))
    world = make_world(root / "world")
    started = time.perf_counter()
    world.populate(args.patterns)
    print(f"registered {args.patterns} patterns on the local ledger in "
          f"{time.perf_counter() - started:.1f}s")  # fmt: skip
    model.embed(["warm up"])

    def synced(name: str, cap: int | None = None) -> tuple[RegistryIndex, float]:
        index = RegistryIndex(root / f"{name}.sqlite", model, registry="local:registry.mycel.test")
        began = time.perf_counter()
        asyncio.run(RegistrySync(index, world.reader(), world.store).sync_once(max_entries=cap))
        return index, time.perf_counter() - began

    validator, seconds = synced("validator")
    print(f"validator sync ({args.embedder}): {validator.size} patterns in {seconds:.1f}s = "
          f"{validator.size / seconds:.0f} patterns/s (fetch, hash check, embed)")  # fmt: skip
    miner, seconds = synced("miner")
    print(f"miner sync with the model's vectors reused: {seconds:.1f}s "
          f"({miner.size / seconds:.0f} patterns/s without the model)")  # fmt: skip
    world.populate(100, start=args.patterns)
    _, seconds = synced("miner")
    print(f"incremental sync of 100 new patterns: {seconds:.2f}s")

    snapshot = S.SearchSnapshot.of(validator)
    began = time.perf_counter()
    challenges = []
    for i in range(args.challenges):
        rng = derive("bench-search", i)
        challenges.append(S.build(rng, draw_tier(rng), snapshot))
    per = (time.perf_counter() - began) / args.challenges
    print(f"challenge build: {per * 1000:.1f} ms per instance of {S.QUERIES} queries "
          f"(~{per * 256:.1f}s for 256 miners per step)")  # fmt: skip

    latencies, searches = [], []
    for challenge in challenges:
        for request in challenge.requests:
            began = time.perf_counter()
            vec = model.inner.embed([request.query])[0]  # the model itself, not the memo
            middle = time.perf_counter()
            miner.search(vec, request.k, domain=request.domain, upto=request.registry_upto)
            searches.append(time.perf_counter() - middle)
            latencies.append(time.perf_counter() - began)
    print(f"honest answer in-process (embed the query + exact search): p50 "
          f"{_pct(latencies, .5) * 1000:.1f} ms, p99 {_pct(latencies, .99) * 1000:.1f} ms; "
          f"exact search alone p50 {_pct(searches, .5) * 1000:.2f} ms, p99 "
          f"{_pct(searches, .99) * 1000:.2f} ms over {miner.size} patterns")  # fmt: skip

    policy = RewardPolicy()
    par = task_value(1.0, 0.005, 12.0)
    print(f"{'searcher':16s} {'accuracy':>9s} {'recall@10':>10s} {'ndcg':>6s} {'par reward':>11s}")
    for searcher in [Honest(miner), *cheaters(miner, world.ledger)]:
        accuracy, recalls, ndcgs = [], [], []
        for challenge in challenges:
            results = [searcher(r) for r in challenge.requests]
            accuracy.append(challenge.grade(results, None).accuracy)
            closed = dict(zip(challenge.scorer.__code__.co_freevars,
                              (c.cell_contents for c in challenge.scorer.__closure__),
                              strict=True))  # fmt: skip
            for result, spec, vector, truth in zip(
                results, closed["specs"], closed["vectors"], closed["truths"], strict=True
            ):
                grade = S.grade_query(list(result.pattern_ids), truth, vector, validator, spec)
                recalls.append(grade.recall)
                ndcgs.append(grade.ndcg)
        mean = statistics.mean(accuracy)
        reward = par_reward(task_value(mean, 0.05, 12.0), par, policy)
        print(f"{searcher.name:16s} {mean:9.3f} {statistics.mean(recalls):10.3f} "
              f"{statistics.mean(ndcgs):6.3f} {reward:11.3f}")  # fmt: skip
    request = SearchPatternsRequest(query="plot stock prices for a dashboard", k=10)
    print(f"index size reported by a miner: {miner.answer(request).index_size}")
    world.close()


if __name__ == "__main__":
    main()
