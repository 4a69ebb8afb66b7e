"""Differential privacy for the numeric signals patterns share (usage counts, success rates,
ratings): Laplace and Gaussian mechanisms calibrated from (epsilon, delta, sensitivity), and an
accountant that refuses releases once the budget is spent (basic sequential composition, which
is conservative: the true cost of several releases is never more than the sum)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


class PrivacyBudgetExceeded(RuntimeError):
    """A release would spend more epsilon or delta than the accountant has left."""


def _positive(value: float, name: str) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return float(value)


def laplace_scale(sensitivity: float, epsilon: float) -> float:
    """b = sensitivity / epsilon gives epsilon-DP for a query with that L1 sensitivity."""
    return _positive(sensitivity, "sensitivity") / _positive(epsilon, "epsilon")


def gaussian_sigma(sensitivity: float, epsilon: float, delta: float) -> float:
    """Classic calibration sigma = sensitivity * sqrt(2 ln(1.25/delta)) / epsilon (Dwork & Roth,
    Thm A.1), valid for 0 < epsilon < 1; larger epsilon is refused rather than silently weak."""
    epsilon = _positive(epsilon, "epsilon")
    delta = _positive(delta, "delta")
    if epsilon >= 1:
        raise ValueError(f"the Gaussian mechanism needs epsilon < 1, got {epsilon}")
    if delta >= 1:
        raise ValueError(f"delta must be < 1, got {delta}")
    return _positive(sensitivity, "sensitivity") * math.sqrt(2 * math.log(1.25 / delta)) / epsilon


@dataclass
class PrivacyAccountant:
    """Tracks (epsilon, delta) spent; ``charge`` raises PrivacyBudgetExceeded past the budget."""

    epsilon_budget: float
    delta_budget: float = 0.0
    spent_epsilon: float = 0.0
    spent_delta: float = 0.0
    releases: int = 0

    def __post_init__(self) -> None:
        _positive(self.epsilon_budget, "epsilon_budget")
        if not 0 <= self.delta_budget < 1:
            raise ValueError(f"delta_budget must be in [0, 1), got {self.delta_budget!r}")

    @property
    def remaining_epsilon(self) -> float:
        return max(0.0, self.epsilon_budget - self.spent_epsilon)

    def charge(self, epsilon: float, delta: float = 0.0) -> None:
        """Spend (epsilon, delta) or refuse, leaving the ledger unchanged."""
        _positive(epsilon, "epsilon")
        if delta < 0:
            raise ValueError(f"delta must be >= 0, got {delta!r}")
        tolerance = 1e-12
        if self.spent_epsilon + epsilon > self.epsilon_budget + tolerance:
            raise PrivacyBudgetExceeded(
                f"privacy budget exhausted: release needs epsilon={epsilon:g}, "
                f"only {self.remaining_epsilon:g} of {self.epsilon_budget:g} left"
            )
        if self.spent_delta + delta > self.delta_budget + tolerance:
            raise PrivacyBudgetExceeded(
                f"privacy budget exhausted: release needs delta={delta:g}, "
                f"only {max(0.0, self.delta_budget - self.spent_delta):g} left"
            )
        self.spent_epsilon += epsilon
        self.spent_delta += delta
        self.releases += 1


def laplace_mechanism(
    value: float,
    *,
    sensitivity: float,
    epsilon: float,
    rng: np.random.Generator,
    accountant: PrivacyAccountant | None = None,
) -> float:
    """value + Laplace(0, sensitivity/epsilon) noise; charges the accountant first."""
    scale = laplace_scale(sensitivity, epsilon)
    if accountant is not None:
        accountant.charge(epsilon)
    return float(value) + float(rng.laplace(0.0, scale))


def gaussian_mechanism(
    value: float,
    *,
    sensitivity: float,
    epsilon: float,
    delta: float,
    rng: np.random.Generator,
    accountant: PrivacyAccountant | None = None,
) -> float:
    """value + N(0, sigma^2) noise with the classic calibration; charges the accountant first."""
    sigma = gaussian_sigma(sensitivity, epsilon, delta)
    if accountant is not None:
        accountant.charge(epsilon, delta)
    return float(value) + float(rng.normal(0.0, sigma))


# Signal kind -> (lower, upper) clipping range; sensitivity = upper - lower for one contribution.
SIGNAL_RANGES: dict[str, tuple[float, float]] = {
    "usage_count": (0.0, 1.0),  # one interaction adds at most one use
    "success_rate": (0.0, 1.0),
    "rating": (0.0, 5.0),
}


def privatise_signals(
    signals: dict[str, float],
    *,
    epsilon: float,
    rng: np.random.Generator,
    accountant: PrivacyAccountant | None = None,
) -> dict[str, float]:
    """Clip each known signal to its range and add Laplace noise, splitting epsilon evenly.

    ``usage_count`` is a count (sensitivity 1, result kept >= 0); rates and ratings are clipped
    to their ranges before and after noise."""
    if not signals:
        return {}
    unknown = set(signals) - set(SIGNAL_RANGES)
    if unknown:
        raise ValueError(f"unknown signal(s) {sorted(unknown)}; known: {sorted(SIGNAL_RANGES)}")
    share = _positive(epsilon, "epsilon") / len(signals)
    if accountant is not None:
        accountant.charge(_positive(epsilon, "epsilon"))
    out = {}
    for name, value in sorted(signals.items()):
        low, high = SIGNAL_RANGES[name]
        sensitivity = high - low
        if name == "usage_count":
            noisy = laplace_mechanism(
                max(0.0, float(value)), sensitivity=1.0, epsilon=share, rng=rng
            )
            out[name] = max(0.0, noisy)
        else:
            clipped = min(high, max(low, float(value)))
            noisy = laplace_mechanism(clipped, sensitivity=sensitivity, epsilon=share, rng=rng)
            out[name] = min(high, max(low, noisy))
    return out
