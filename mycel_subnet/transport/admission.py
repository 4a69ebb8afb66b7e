"""A bounded number of requests in flight; when saturated, higher stake goes first.

A request either takes a free slot at once, or waits in a short queue ordered by the caller's
stake for at most ``max_wait_s``. When the queue is full, a newcomer with more stake than the
lowest waiter takes that waiter's place (the waiter is refused at once); otherwise the newcomer is
refused at once. Nobody waits for a slot until its validator's timeout: refusals are fast.

Event-loop only: ``acquire`` and ``release`` must run on the loop that created the controller.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools


class AdmissionController:
    def __init__(self, max_in_flight: int, *, max_waiting: int | None = None) -> None:
        if max_in_flight < 1:
            raise ValueError(f"max_in_flight must be >= 1, got {max_in_flight}")
        self.max_in_flight = max_in_flight
        self.max_waiting = max_in_flight if max_waiting is None else max_waiting
        self.in_flight = 0
        self._seq = itertools.count()
        # (-stake, seq, future): the heap's head is the highest-stake, earliest waiter.
        self._waiters: list[tuple[float, int, asyncio.Future[bool]]] = []

    @property
    def waiting(self) -> int:
        return sum(1 for _, _, fut in self._waiters if not fut.done())

    def _prune(self) -> None:
        self._waiters = [w for w in self._waiters if not w[2].done()]
        heapq.heapify(self._waiters)

    async def acquire(self, stake: float, max_wait_s: float) -> bool:
        """True when a slot is held (call ``release`` later); False: refused, answer fast."""
        if self.in_flight < self.max_in_flight and not self.waiting:
            self.in_flight += 1
            return True
        if max_wait_s <= 0:
            return False
        if self.waiting >= self.max_waiting:
            self._prune()
            lowest = max(self._waiters, key=lambda w: (w[0], w[1]), default=None)
            if lowest is None or -lowest[0] >= stake:
                return False
            lowest[2].set_result(False)  # evicted by a higher-stake caller
            self._prune()
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (-float(stake), next(self._seq), future))
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout=max_wait_s)
        except TimeoutError:
            if future.done() and future.result():
                return True  # granted in the same tick as the timeout
            future.cancel()
            return False
        except asyncio.CancelledError:
            if future.done() and not future.cancelled() and future.result():
                self.release()
            future.cancel()
            raise

    def release(self) -> None:
        """Free a slot, handing it straight to the best waiter if there is one."""
        while self._waiters:
            _, _, future = heapq.heappop(self._waiters)
            if not future.done():
                future.set_result(True)
                return
        self.in_flight = max(0, self.in_flight - 1)
