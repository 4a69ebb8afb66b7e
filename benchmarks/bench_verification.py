"""Cost of one organic verification pass at 1,000 registered patterns.

A local NEAR ledger holds N registered code patterns (metadata in the local content store);
M honest miners (the SEARCH solver) serve on loopback; the validator's PatternVerifier runs
passes of `--per-step` patterns each, as one validator step would. Prints per-pass wall time
(p50, max), where it goes (registry reads, metadata fetch, the validator's own checks in the
sandbox, the miners' answers, attestations), the bookkeeping cost at N ids, and how long the
first sweep of the whole registry takes at the default step interval. Asserts nothing.

Run: .venv/bin/python benchmarks/bench_verification.py [--patterns 1000] [--miners 4]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")


class Timed:
    """Wraps an object's async methods (or a function) and adds up their seconds."""

    def __init__(self, inner, seconds: dict[str, float], label: str) -> None:
        self._inner, self._seconds, self._label = inner, seconds, label

    def __getattr__(self, name):
        found = getattr(self._inner, name)
        if not asyncio.iscoroutinefunction(found):
            return found

        async def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return await found(*args, **kwargs)
            finally:
                key = f"{self._label}.{name}"
                self._seconds[key] = self._seconds.get(key, 0.0) + time.perf_counter() - started

        return timed


async def bench(patterns: int, miners: int, per_step: int, passes: int, step_s: float) -> None:
    from mycel_subnet.engines.pattern_engine import PatternEngine
    from mycel_subnet.engines.solver import SEARCH, SolverEngine
    from mycel_subnet.validator.pattern_checks import check_pattern
    from mycel_subnet.validator.verification import PatternVerifier, VerifyPolicy
    from mycel_subnet.validator.verify_store import VERIFY_FILE, VerificationStore
    from tests.miner.harness import make_hotkey
    from tests.validator.servers import miner_app, serve
    from tests.validator.verify_world import (
        miner_graph,
        near_world,
        scores_with_calibration,
        task_patterns,
    )

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        world = await near_world(tmp)
        started = time.perf_counter()
        made = 0
        seed = 0
        while made < patterns:
            for pattern in task_patterns(1000 + seed):
                if made < patterns:
                    await world.publish(pattern)
                    made += 1
            seed += 1
        print(f"setup: {made} patterns stored and registered in "
              f"{time.perf_counter() - started:.1f}s")  # fmt: skip
        vwallet = make_hotkey(tmp / "wallets", "validator")
        vkey = vwallet.hotkey.ss58_address
        seconds: dict[str, float] = {}
        with contextlib.ExitStack() as stack:
            endpoints = []
            for i in range(miners):
                wallet = make_hotkey(tmp / "wallets", f"m{i}")
                engine = SolverEngine(SEARCH, PatternEngine(None, None, use_presidio=False))
                port = stack.enter_context(serve(miner_app(wallet, engine, vkey)))
                endpoints.append((wallet.hotkey.ss58_address, port))
            graph = miner_graph(vkey, endpoints)
            scores = scores_with_calibration(tmp / "scores.sqlite", graph, [0.8] * miners)

            def own(pattern):
                t0 = time.perf_counter()
                try:
                    return check_pattern(pattern)
                finally:
                    seconds["own checks (sandbox)"] = (
                        seconds.get("own checks (sandbox)", 0.0) + time.perf_counter() - t0
                    )

            registry = Timed(world.validator, seconds, "registry")
            content = world.content
            verifier = PatternVerifier(
                registry, registry, content, VerificationStore(tmp / VERIFY_FILE),
                wallet=vwallet, policy=VerifyPolicy(per_step=per_step, timeout_s=20.0),
                check=own,
            )  # fmt: skip
            ask = verifier._ask  # the miners' round trip, timed (a benchmark may look inside)

            async def timed_ask(*a):
                t0 = time.perf_counter()
                try:
                    return await ask(*a)
                finally:
                    seconds["miners' answers (round)"] = (
                        seconds.get("miners' answers (round)", 0.0) + time.perf_counter() - t0
                    )

            verifier._ask = timed_ask
            walls = []
            checked = 0
            for _ in range(passes):
                t0 = time.perf_counter()
                report = await verifier.run_pass(graph, scores, vkey)
                walls.append(time.perf_counter() - t0)
                checked += len(report.verdicts)
            store = verifier.state
            t0 = time.perf_counter()
            for _ in range(100):
                store.discover(patterns + 1, time.time())
                store.due(per_step, time.time(), retry_s=60, recheck_s=21600)
            bookkeeping_ms = (time.perf_counter() - t0) / 100 * 1000
            verifier.close()
            scores.close()
        world.close()

    total = sum(walls)
    print(f"{passes} passes of {per_step} patterns, {miners} miners asked each, "
          f"{patterns} registered:")  # fmt: skip
    print(f"  pass wall time: p50 {statistics.median(walls):.2f}s, max {max(walls):.2f}s "
          f"(first pass, with discovering {patterns} ids: {walls[0]:.2f}s)")  # fmt: skip
    print(f"  per pattern: {total / max(1, checked):.3f}s wall; seconds spent, summed over "
          "the pass's concurrent work:")  # fmt: skip
    for key in sorted(seconds):
        print(f"  {key:<32} {seconds[key] / max(1, checked) * 1000:8.1f} ms per pattern")
    print(f"  bookkeeping at {patterns} ids (discover + draw): {bookkeeping_ms:.2f} ms per pass")
    sweep = patterns / per_step * step_s / 60
    print(f"  first sweep of the registry at {per_step} per {step_s:.0f}s step: {sweep:.0f} min")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patterns", type=int, default=1000, help="registered patterns")
    parser.add_argument("--miners", type=int, default=4, help="honest miners on loopback")
    parser.add_argument("--per-step", type=int, default=4, help="patterns verified per pass")
    parser.add_argument("--passes", type=int, default=5, help="passes measured")
    parser.add_argument("--step-s", type=float, default=12.0, help="validator step interval")
    args = parser.parse_args()
    asyncio.run(bench(args.patterns, args.miners, args.per_step, args.passes, args.step_s))


if __name__ == "__main__":
    main()
