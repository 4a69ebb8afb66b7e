"""Differentially private release of a pattern's aggregate statistics (usage, success, rating).

What is protected: one interaction, i.e. one recorded use of a pattern (PatternStore.record_use),
added or removed. One use changes each published sum by at most its sensitivity:

    statistic       sensitivity   why
    usage_count     1             one use adds one
    success_count   1             one use adds 0 or 1
    rating_count    1             one use adds at most one rating
    rating_sum      MAX_RATING    one rating is in [0, MAX_RATING]

A success rate or mean rating is a ratio of these sums: the mean of n values moves by at most
1/n (success) or MAX_RATING/n (rating) when one use changes, so its noise shrinks as 1/n.

Mechanism: the Gaussian mechanism on each sum, with the per-release rho split evenly over the
four statistics; rho composes in zCDP across statistics and releases (dp.py) and a persistent
ledger (dp_ledger.py) stops releases of a pattern once its (epsilon, delta) budget is spent.
Each pattern's uses are disjoint from every other pattern's, so budgets are per pattern
(parallel composition).

Unbiasedness: the published sums are the true sums plus zero-mean noise, never clamped, so they
are unbiased (and may be negative or fractional). The ratio estimates (success_rate, avg_rating)
have a relative bias of about (sigma_n / n)^2 and are only given once the noisy count is at
least RATE_MIN_SNR * sigma_n (bias under 1%). `bounded()` projects into LearnedPattern's ranges
for display; that projection clamps and is biased near the bounds: aggregate the raw values.

Timing: at most one release per pattern per `min_interval_s`; a request inside the interval
gets the previous release again (post-processing, free). The decision depends on the clock
only, never on whether the data changed, which would itself reveal that someone used it.
"""

from __future__ import annotations

import json
import math
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from mycel_subnet.privacy.dp import PrivacyBudgetExceeded, _positive, sigma_for_rho
from mycel_subnet.privacy.dp_ledger import ZcdpLedger, check_key
from mycel_subnet.sqlite_util import immediate_transaction
from protocol import limits as L

SENSITIVITY: dict[str, float] = {
    "usage_count": 1.0,
    "success_count": 1.0,
    "rating_count": 1.0,
    "rating_sum": float(L.MAX_RATING),
}
RATE_MIN_SNR = 10.0
DEFAULT_EPSILON_BUDGET = 1.0
DEFAULT_DELTA = 1e-6
DEFAULT_RELEASES = 10
DEFAULT_MIN_INTERVAL_S = 86_400.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS dp_release (
    pattern_id TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    released_at REAL NOT NULL
)
"""


class UsageLike(Protocol):
    """What a release reads: PatternStore.stats() returns one (UsageStats)."""

    usage_count: int
    success_count: int
    rating_count: int
    avg_rating: float


def true_sums(stats: UsageLike) -> dict[str, float]:
    """The four sums of ``stats``, checked: counts are whole numbers >= 0, successes never more
    than uses, the mean rating within [0, MAX_RATING]."""
    sums: dict[str, float] = {}
    for name in ("usage_count", "success_count", "rating_count"):
        value = getattr(stats, name, None)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a whole number >= 0, got {value!r}")
        sums[name] = float(value)
    if sums["success_count"] > sums["usage_count"]:
        raise ValueError("success_count must not exceed usage_count")
    avg = getattr(stats, "avg_rating", None)
    if isinstance(avg, bool) or not isinstance(avg, (int, float)) or not math.isfinite(avg):
        raise ValueError(f"avg_rating must be a finite number, got {avg!r}")
    if not 0 <= avg <= L.MAX_RATING:
        raise ValueError(f"avg_rating must be in [0, {L.MAX_RATING:g}], got {avg}")
    sums["rating_sum"] = float(avg) * sums["rating_count"]
    return sums


@dataclass(frozen=True)
class StatsRelease:
    """One published, noised set of a pattern's statistics and what it cost."""

    pattern_id: str
    values: dict[str, float]  # the unbiased noised sums, keys as in SENSITIVITY
    sigma: dict[str, float]  # the noise standard deviation of each
    epsilon: float  # epsilon spent on this pattern's statistics after this release
    delta: float
    release_no: int
    released_at: float

    def _ratio(self, numerator: str, denominator: str) -> float | None:
        count = self.values[denominator]
        if count < RATE_MIN_SNR * self.sigma[denominator] or count <= 0:
            return None
        return self.values[numerator] / count

    @property
    def success_rate(self) -> float | None:
        """noisy successes / noisy uses, or None while the count is too noisy to divide by."""
        return self._ratio("success_count", "usage_count")

    @property
    def avg_rating(self) -> float | None:
        """noisy rating sum / noisy rating count, or None while the count is too noisy."""
        return self._ratio("rating_sum", "rating_count")

    def bounded(self) -> dict[str, float | int]:
        """LearnedPattern's quality fields from this release (display only: clamped, so biased
        near 0 and the upper bounds; a rate not yet estimable shows as 0)."""
        rate, rating = self.success_rate, self.avg_rating
        return {
            "usage_count": max(0, round(self.values["usage_count"])),
            "success_rate": 0.0 if rate is None else min(1.0, max(0.0, rate)),
            "avg_rating": 0.0 if rating is None else min(L.MAX_RATING, max(0.0, rating)),
        }

    def to_json(self) -> dict[str, Any]:
        """The public form: noised sums, noise scales and the privacy spent."""
        return {
            "pattern_id": self.pattern_id,
            "values": dict(self.values),
            "sigma": dict(self.sigma),
            "epsilon": self.epsilon,
            "delta": self.delta,
            "release_no": self.release_no,
            "released_at": self.released_at,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StatsRelease:
        return cls(
            pattern_id=str(data["pattern_id"]),
            values={k: float(v) for k, v in data["values"].items()},
            sigma={k: float(v) for k, v in data["sigma"].items()},
            epsilon=float(data["epsilon"]),
            delta=float(data["delta"]),
            release_no=int(data["release_no"]),
            released_at=float(data["released_at"]),
        )


class PatternStatsReleaser:
    """Releases each pattern's statistics with Gaussian noise against a per-pattern budget.

    The budget (epsilon_budget, delta) is meant to last ``releases`` releases: each costs
    rho_budget / releases, so the noise is fixed up front and the same for every release."""

    def __init__(
        self,
        path: str | Path,
        *,
        epsilon_budget: float = DEFAULT_EPSILON_BUDGET,
        delta: float = DEFAULT_DELTA,
        releases: int = DEFAULT_RELEASES,
        min_interval_s: float = DEFAULT_MIN_INTERVAL_S,
        rng: np.random.Generator | None = None,
    ) -> None:
        if isinstance(releases, bool) or not isinstance(releases, int) or releases < 1:
            raise ValueError(f"releases must be a whole number >= 1, got {releases!r}")
        if isinstance(min_interval_s, bool) or not isinstance(min_interval_s, (int, float)):
            raise ValueError(f"min_interval_s must be a number >= 0, got {min_interval_s!r}")
        if not (math.isfinite(min_interval_s) and min_interval_s >= 0):
            raise ValueError(f"min_interval_s must be a number >= 0, got {min_interval_s!r}")
        self.ledger = ZcdpLedger(path, epsilon_budget=epsilon_budget, delta=delta)
        self.releases = releases
        self.min_interval_s = float(min_interval_s)
        self.rho_per_release = self.ledger.rho_budget / releases
        share = self.rho_per_release / len(SENSITIVITY)
        self.sigma = {name: sigma_for_rho(d, share) for name, d in SENSITIVITY.items()}
        self._rng = rng if rng is not None else np.random.default_rng()
        self._lock = self.ledger._lock  # one connection, one lock
        with immediate_transaction(self._conn, self._lock) as conn:
            conn.execute(_SCHEMA)

    @property
    def _conn(self) -> sqlite3.Connection:
        return self.ledger._conn

    def close(self) -> None:
        self.ledger.close()

    def __enter__(self) -> PatternStatsReleaser:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def last(self, pattern_id: str) -> StatsRelease | None:
        """The latest release of this pattern (re-publishing it costs nothing), or None."""
        with self._lock:
            row = self._conn.execute(
                "SELECT body FROM dp_release WHERE pattern_id = ?", (check_key(pattern_id),)
            ).fetchone()
        return None if row is None else StatsRelease.from_json(json.loads(row[0]))

    def epsilon_spent(self, pattern_id: str) -> float:
        return self.ledger.epsilon(pattern_id)

    def release(
        self, pattern_id: str, stats: UsageLike, *, now: float | None = None
    ) -> StatsRelease:
        """Noised statistics of one pattern: the previous release if it is younger than
        min_interval_s, else a fresh one charged to the pattern's budget. Raises
        PrivacyBudgetExceeded once the budget is spent (the last release stays valid)."""
        pattern_id = check_key(pattern_id)
        sums = true_sums(stats)
        now = time.time() if now is None else _positive(now, "now")
        previous = self.last(pattern_id)
        if previous is not None and now - previous.released_at < self.min_interval_s:
            return previous
        what = f"the statistics of pattern {pattern_id}"
        try:
            epsilon = self.ledger.charge(pattern_id, self.rho_per_release, what=what)
        except PrivacyBudgetExceeded as exc:
            raise PrivacyBudgetExceeded(
                f"{exc}; the last release stays published, no new one is made"
            ) from None
        with self._lock:
            noise = self._rng.normal(0.0, 1.0, size=len(SENSITIVITY))
        values = {
            name: sums[name] + float(z) * self.sigma[name]
            for name, z in zip(SENSITIVITY, noise, strict=True)
        }
        release = StatsRelease(
            pattern_id=pattern_id,
            values=values,
            sigma=dict(self.sigma),
            epsilon=epsilon,
            delta=self.ledger.delta,
            release_no=self.ledger.releases(pattern_id),
            released_at=now,
        )
        with immediate_transaction(self._conn, self._lock) as conn:
            conn.execute(
                "INSERT INTO dp_release(pattern_id, body, released_at) VALUES (?, ?, ?)"
                " ON CONFLICT(pattern_id) DO UPDATE SET body = excluded.body,"
                " released_at = excluded.released_at",
                (pattern_id, json.dumps(release.to_json()), now),
            )
        return release

    def release_from(
        self, store: Any, pattern_id: str, *, now: float | None = None
    ) -> StatsRelease:
        """release() of what a PatternStore observed for the pattern (its `stats(id)`)."""
        return self.release(pattern_id, store.stats(pattern_id), now=now)
