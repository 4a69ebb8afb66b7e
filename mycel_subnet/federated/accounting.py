"""Privacy accounting for federated rounds with Opacus's RDP accountant: pick a noise
multiplier for a target (epsilon, delta), and keep a ledger of (noise, sample rate, steps)
that answers "how much epsilon is spent" and "would this spend exceed the budget" before the
data is touched. Budget refusals reuse mycel_subnet.privacy's PrivacyBudgetExceeded."""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass, field

from opacus.accountants import RDPAccountant
from opacus.accountants.utils import get_noise_multiplier

from mycel_subnet.privacy.dp import PrivacyBudgetExceeded


def noise_for_target(target_epsilon: float, delta: float, sample_rate: float, steps: int) -> float:
    """Smallest noise multiplier whose RDP epsilon after ``steps`` steps at ``sample_rate`` is
    at most ``target_epsilon`` (within Opacus's 0.01 tolerance)."""
    if not target_epsilon > 0 or not 0 < delta < 1:
        raise ValueError(f"need epsilon > 0 and 0 < delta < 1, got {target_epsilon}, {delta}")
    if not 0 < sample_rate <= 1 or steps < 1:
        raise ValueError(f"need 0 < sample_rate <= 1 and steps >= 1, got {sample_rate}, {steps}")
    with warnings.catch_warnings():
        # the binary search probes tiny noise levels where the best RDP order is the largest
        warnings.filterwarnings("ignore", message="Optimal order is the largest alpha")
        noise = get_noise_multiplier(
            target_epsilon=target_epsilon,
            target_delta=delta,
            sample_rate=sample_rate,
            steps=steps,
            accountant="rdp",
        )
    return float(noise)


@functools.lru_cache(maxsize=4096)
def _rdp_epsilon(history: tuple[tuple[float, float, int], ...], delta: float) -> float:
    """Opacus's RDP epsilon of a history (about 0.1 s each: cached, since every miner of a round
    with the same shard size reports the same history, and a ledger asks again and again)."""
    if not history:
        return 0.0
    if any(noise <= 0 for noise, _, _ in history):
        return math.inf
    accountant = RDPAccountant()
    accountant.history = list(history)
    return float(accountant.get_epsilon(delta=delta))


@dataclass
class RdpLedger:
    """RDP composition over every (noise_multiplier, sample_rate, steps) spent on one data set.

    ``epsilon_budget`` None means unlimited (still accounted). Noise 0 is infinite epsilon."""

    delta: float
    epsilon_budget: float | None = None
    history: list[tuple[float, float, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not 0 < self.delta < 1:
            raise ValueError(f"delta must be in (0, 1), got {self.delta!r}")
        if self.epsilon_budget is not None and not self.epsilon_budget > 0:
            raise ValueError(f"epsilon_budget must be > 0, got {self.epsilon_budget!r}")

    @staticmethod
    def _epsilon(history: list[tuple[float, float, int]], delta: float) -> float:
        return _rdp_epsilon(tuple((float(n), float(q), int(s)) for n, q, s in history), delta)

    def epsilon(self) -> float:
        """Epsilon spent so far at this ledger's delta."""
        return self._epsilon(self.history, self.delta)

    def epsilon_if(self, noise: float, sample_rate: float, steps: int) -> float:
        """Epsilon that would be spent after one more entry, without recording it."""
        return self._epsilon([*self.history, (noise, sample_rate, steps)], self.delta)

    def check(self, noise: float, sample_rate: float, steps: int, what: str) -> float:
        """Raise PrivacyBudgetExceeded if the spend would pass the budget; else return the
        epsilon it would bring the ledger to."""
        after = self.epsilon_if(noise, sample_rate, steps)
        if self.epsilon_budget is not None and after > self.epsilon_budget:
            raise PrivacyBudgetExceeded(
                f"{what} would bring epsilon to {after:.3f} (delta={self.delta:g}), over the "
                f"budget {self.epsilon_budget:g}; {self.epsilon():.3f} spent so far: stopping"
            )
        return after

    def record(self, noise: float, sample_rate: float, steps: int) -> None:
        """Add a spend (after it happened); RDP entries with equal (noise, rate) merge."""
        if self.history and self.history[-1][:2] == (noise, sample_rate):
            last = self.history[-1]
            self.history[-1] = (noise, sample_rate, last[2] + steps)
        else:
            self.history.append((noise, sample_rate, steps))
