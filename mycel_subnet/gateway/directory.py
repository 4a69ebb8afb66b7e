"""Which miners a gateway query goes to: the validator's best-scoring serving miners.

The ranking is the validator's moving-average scores (keyed by hotkey, so a uid re-registered
by someone else does not inherit a score), over the neurons of the validator's last metagraph
read that serve an endpoint. Miners with no score yet are not asked: a swarm of fresh sybils
cannot outvote miners the validator has seen answer its challenges.

Two guards keep organic traffic from costing miners their rewards or the validator its view:
- a budget of queries per miner per second (`miner_rate`), so gateway traffic never uses up the
  miner's per-hotkey rate limit that the validator's own challenges also need (they are signed
  by the same hotkey);
- a miner whose organic answer failed the validator's own checks is not asked for `bench_s`.
Neither touches a score: organic answers never raise or lower a reward (see service.py).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from mycel_subnet.chain.types import MetagraphSnapshot
from mycel_subnet.transport.ratelimit import TokenBucketLimiter


@dataclass(frozen=True)
class Miner:
    """A miner to ask. Internal to the gateway: none of it is ever sent to a caller."""

    hotkey: str
    base_url: str
    score: float


def _host(ip: str) -> str:
    return f"[{ip}]" if ":" in ip else ip


class MinerDirectory:
    """The ranked miners, refreshed at most every `refresh_s`; picks per query."""

    def __init__(
        self,
        graph: Callable[[], MetagraphSnapshot | None],
        scores: Callable[[], Mapping[str, float]],
        self_hotkey: str,
        *,
        fanout: int = 3,
        miner_rate: float = 2.0,
        bench_s: float = 300.0,
        refresh_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._graph = graph
        self._scores = scores
        self.self_hotkey = self_hotkey
        self.fanout = fanout
        self.bench_s = bench_s
        self.refresh_s = refresh_s
        self._clock = clock
        self._budget = TokenBucketLimiter(miner_rate, max(1.0, miner_rate), clock=clock)
        self._ranked: list[Miner] = []
        self._at = -float("inf")
        self._refreshing: asyncio.Lock | None = None
        self._benched: dict[str, float] = {}  # hotkey -> benched until
        self.faults: dict[str, int] = {}  # hotkey -> organic answers that failed the checks

    def _rank(self) -> list[Miner]:
        graph = self._graph()
        if graph is None:
            return []
        scores = self._scores()
        ranked = [
            Miner(n.hotkey, f"http://{_host(n.axon_ip)}:{n.axon_port}", scores[n.hotkey])
            for n in graph.neurons
            if n.is_serving and n.hotkey != self.self_hotkey and scores.get(n.hotkey, 0.0) > 0.0
        ]
        ranked.sort(key=lambda m: (-m.score, m.hotkey))
        return ranked

    async def ranked(self) -> list[Miner]:
        """The ranking, re-read (in a thread: the score store is SQLite) when it is stale."""
        if self._refreshing is None:
            self._refreshing = asyncio.Lock()
        if self._clock() - self._at >= self.refresh_s:
            async with self._refreshing:
                if self._clock() - self._at >= self.refresh_s:
                    self._ranked = await asyncio.to_thread(self._rank)
                    self._at = self._clock()
        return self._ranked

    def _benched_now(self, hotkey: str) -> bool:
        until = self._benched.get(hotkey)
        if until is None:
            return False
        if self._clock() >= until:
            del self._benched[hotkey]
            return False
        return True

    async def pick(self) -> tuple[list[Miner], int]:
        """Up to `fanout` miners, best first, each within its budget and not benched; and how
        many ranked miners there are at all (0: nobody to ask yet)."""
        ranked = await self.ranked()
        chosen: list[Miner] = []
        for miner in ranked:
            if len(chosen) == self.fanout:
                break
            if self._benched_now(miner.hotkey):
                continue
            if self._budget.check(miner.hotkey) == 0.0:
                chosen.append(miner)
        return chosen, len(ranked)

    def fault(self, hotkey: str) -> None:
        """An organic answer from `hotkey` failed the validator's own checks: bench it."""
        self.faults[hotkey] = self.faults.get(hotkey, 0) + 1
        self._benched[hotkey] = self._clock() + self.bench_s
