"""The miner's view of the subnet: a metagraph snapshot refreshed in the background.

Requests read the last good snapshot (an immutable object swapped atomically), never the chain.
A background thread refreshes it every ``refresh_s``; a caller refused for a chain-dependent
reason (not registered, no permit, low stake) may claim an early refresh, at most once every
``miss_refresh_min_s`` for all callers together, so a validator that just got its permit is
served at once instead of being refused for a whole cycle, and refused callers cannot make the
miner hammer the chain.
When the chain is unreachable, the last good snapshot keeps serving.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from mycel_subnet.chain.types import MetagraphSnapshot

log = logging.getLogger("mycel.miner.metagraph")


class MetagraphCache:
    def __init__(
        self,
        fetch: Callable[[], MetagraphSnapshot],
        *,
        refresh_s: float = 60.0,
        miss_refresh_min_s: float = 5.0,
        initial: MetagraphSnapshot | None = None,
    ) -> None:
        self._fetch = fetch
        self.refresh_s = refresh_s
        self.miss_refresh_min_s = miss_refresh_min_s
        self._snapshot = initial
        self._last_ok = time.monotonic() if initial is not None else None
        self._last_attempt = 0.0
        self.last_error: str | None = None
        self.failures = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # one fetch at a time
        self._claim_lock = threading.Lock()

    def snapshot(self) -> MetagraphSnapshot | None:
        return self._snapshot

    @property
    def age_s(self) -> float | None:
        return None if self._last_ok is None else time.monotonic() - self._last_ok

    def refresh(self) -> bool:
        """Fetch now; on any failure keep the last good snapshot and return False."""
        with self._lock:
            self._last_attempt = time.monotonic()
            try:
                graph = self._fetch()
            except Exception as error:  # chain down, decode trouble: keep serving the old one
                self.failures += 1
                self.last_error = " ".join(str(error).split())[:300]
                block = self._snapshot.block if self._snapshot is not None else None
                log.warning(
                    "metagraph refresh failed; serving the snapshot from block %s: %s",
                    block,
                    self.last_error,
                )
                return False
            self._snapshot = graph
            self._last_ok = time.monotonic()
            self.last_error = None
            log.debug("metagraph refreshed at block %s (%d neurons)", graph.block, graph.n)
            return True

    def claim_early_refresh(self) -> bool:
        """True at most once per ``miss_refresh_min_s``: the caller may now run ``refresh()``."""
        with self._claim_lock:
            if time.monotonic() - self._last_attempt < self.miss_refresh_min_s:
                return False
            self._last_attempt = time.monotonic()
            return True

    def _run(self) -> None:
        while not self._stop.is_set():
            # After a failure retry sooner, but never in a tight loop.
            wait = self.refresh_s if self.last_error is None else min(self.refresh_s, 10.0)
            self._wake.wait(wait)
            self._wake.clear()
            if self._stop.is_set():
                return
            self.refresh()

    def start(self) -> None:
        if self._snapshot is None:
            self.refresh()
        self._thread = threading.Thread(target=self._run, name="metagraph-refresh", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
