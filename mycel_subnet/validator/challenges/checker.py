"""Runs miners' code templates against hidden tests in the sandbox, once per distinct code.

Honest miners often return the same code, and a copier returns someone else's: the cache keys
on the code, the entrypoint and the cases, so each distinct submission costs one sandbox run.
`BudgetedChecker` caps the sandbox seconds one miner's answers may cost in a step: hostile
code that burns its limits every time runs out of budget, and its remaining code answers that
step score 0 unrun, so 256 of them cannot stall a step.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from typing import Any

from mycel_subnet.sandbox import SandboxLimits, run_tests

# Hidden tests take milliseconds; tight limits bound what hostile code can cost per step.
LIMITS = SandboxLimits(cpu_seconds=0.5, wall_seconds=1.0, memory_mb=256)
MINER_BUDGET_S = 3.0  # sandbox wall seconds one miner's answers may cost per step


class GradingBudgetExceeded(RuntimeError):
    """This miner's code answers used up their sandbox seconds for the step."""


class SandboxChecker:
    """A CodeChecker backed by the sandbox, with a per-instance result cache."""

    def __init__(self, limits: SandboxLimits = LIMITS, max_entries: int = 4096) -> None:
        self.limits = limits
        self.max_entries = max_entries
        self._cache: dict[str, float] = {}
        self._lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}
        self.runs = 0

    def pass_rate(self, code: str, entrypoint: str, cases: list[tuple[Any, Any]]) -> float:
        material = json.dumps([code, entrypoint, cases], sort_keys=True, default=str)
        key = hashlib.sha256(material.encode("utf-8")).hexdigest()
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:  # the same code graded twice at once runs once
            with self._lock:
                if key in self._cache:
                    return self._cache[key]
            if not entrypoint.isidentifier():
                rate = 0.0
            else:
                result = run_tests(code, entrypoint, list(cases), limits=self.limits)
                rate = result.pass_rate
            with self._lock:
                self.runs += 1
                if len(self._cache) >= self.max_entries:
                    self._cache.clear()
                    self._key_locks.clear()
                self._cache[key] = rate
        return rate


class BudgetedChecker:
    """One miner's view of a shared checker for one step, with a sandbox-seconds budget."""

    def __init__(self, inner: Any, seconds: float = MINER_BUDGET_S) -> None:  # a CodeChecker
        self.inner = inner
        self.left = seconds

    def pass_rate(self, code: str, entrypoint: str, cases: list[tuple[Any, Any]]) -> float:
        if self.left <= 0:
            raise GradingBudgetExceeded("over the grading budget for this step")
        started = time.monotonic()
        try:
            return self.inner.pass_rate(code, entrypoint, cases)
        finally:
            self.left -= time.monotonic() - started
