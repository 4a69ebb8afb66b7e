"""Differential privacy primitives: Laplace and Gaussian mechanisms, and zCDP accounting.

Why zCDP for the published pattern statistics: every release there is a Gaussian mechanism, and
the Gaussian with L2 sensitivity D and noise sigma is exactly rho-zCDP with rho = D^2/(2 sigma^2)
(Bun & Steinke 2016). zCDP composes by adding rho, across releases and across statistics with
different sensitivities, with no slack; one conversion at the end gives (epsilon, delta). That
is much tighter than summing per-release epsilons (basic composition) and exact enough to test
against Opacus's RDP accountant (a Gaussian's RDP curve is rho * alpha, the zCDP line).

The conversion is Canonne, Kamath & Steinke 2020, Cor. 13 (Balle et al. 2020, Thm. 21: the
formula Opacus applies to RDP): epsilon = min over alpha > 1 of
    rho*alpha + (ln(1/delta) - ln(alpha)) / (alpha - 1) + ln(1 - 1/alpha).
Any alpha gives a valid bound, so a grid search then a local refinement is safe.

The in-memory `PrivacyAccountant` (basic composition) and `privatise_signals` stay for callers
of the old API; persistent per-pattern accounting is in dp_ledger.py, releases in dp_stats.py.
"""

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


# ----- zCDP accounting ------------------------------------------------------------------------


def gaussian_rho(sensitivity: float, sigma: float) -> float:
    """The zCDP cost of one Gaussian release: rho = sensitivity^2 / (2 sigma^2)."""
    return _positive(sensitivity, "sensitivity") ** 2 / (2 * _positive(sigma, "sigma") ** 2)


def sigma_for_rho(sensitivity: float, rho: float) -> float:
    """The Gaussian noise that costs exactly ``rho``: sigma = sensitivity / sqrt(2 rho)."""
    return _positive(sensitivity, "sensitivity") / math.sqrt(2 * _positive(rho, "rho"))


def _check_delta(delta: float) -> float:
    delta = _positive(delta, "delta")
    if delta >= 1:
        raise ValueError(f"delta must be < 1, got {delta}")
    return delta


def _conversion(rho: float, log_inv_delta: float, alpha: np.ndarray) -> np.ndarray:
    return rho * alpha + (log_inv_delta - np.log(alpha)) / (alpha - 1) + np.log1p(-1 / alpha)


def zcdp_epsilon(rho: float, delta: float) -> float:
    """(epsilon, delta)-DP implied by rho-zCDP (CKS 2020 Cor. 13); 0 when nothing is spent."""
    delta = _check_delta(delta)
    if isinstance(rho, bool) or not isinstance(rho, (int, float)) or not rho >= 0:
        raise ValueError(f"rho must be a number >= 0, got {rho!r}")
    if rho == 0:
        return 0.0
    if math.isinf(rho):
        return math.inf
    log_inv_delta = math.log(1 / delta)
    alphas = 1 + np.geomspace(1e-6, 1e7, 2000)
    values = _conversion(float(rho), log_inv_delta, alphas)
    i = int(np.argmin(values))
    low, high = alphas[max(i - 1, 0)], alphas[min(i + 1, alphas.size - 1)]
    for _ in range(80):  # golden-section refinement inside the bracket around the grid minimum
        a = high - (high - low) / 1.618033988749895
        b = low + (high - low) / 1.618033988749895
        fa, fb = _conversion(float(rho), log_inv_delta, np.array([a, b]))
        if fa < fb:
            high = b
        else:
            low = a
    refined = float(_conversion(float(rho), log_inv_delta, np.array([(low + high) / 2]))[0])
    return max(0.0, min(float(values[i]), refined))


def rho_for_epsilon(epsilon: float, delta: float) -> float:
    """The largest rho whose zcdp_epsilon(rho, delta) is at most ``epsilon`` (bisection)."""
    epsilon = _positive(epsilon, "epsilon")
    delta = _check_delta(delta)
    low, high = 0.0, max(1.0, epsilon)
    while zcdp_epsilon(high, delta) <= epsilon:
        high *= 2
    for _ in range(200):
        mid = (low + high) / 2
        if zcdp_epsilon(mid, delta) <= epsilon:
            low = mid
        else:
            high = mid
    return low


# ----- the old per-call signal noising (kept for privacy/pipeline.py) --------------------------

# Signal kind -> (lower, upper) range of one interaction's value; sensitivity = upper - lower.
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
    """Laplace noise on each known signal, splitting epsilon evenly (pure epsilon-DP).

    Inputs are clipped to their range (that bounds the sensitivity); outputs are NOT clipped,
    so each noised value is an unbiased estimate of the clipped input and may fall outside the
    range. Prefer dp_stats.PatternStatsReleaser for statistics that are published repeatedly:
    it accounts per pattern, persists the budget and composes in zCDP."""
    if not signals:
        return {}
    unknown = set(signals) - set(SIGNAL_RANGES)
    if unknown:
        raise ValueError(f"unknown signal(s) {sorted(unknown)}; known: {sorted(SIGNAL_RANGES)}")
    epsilon = _positive(epsilon, "epsilon")
    share = epsilon / len(signals)
    if accountant is not None:
        accountant.charge(epsilon)
    out = {}
    for name, value in sorted(signals.items()):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"signal {name} must be a number, got {value!r}")
        if not math.isfinite(value):
            raise ValueError(f"signal {name} must be finite, got {value!r}")
        low, high = SIGNAL_RANGES[name]
        clipped = min(high, max(low, float(value)))
        out[name] = laplace_mechanism(clipped, sensitivity=high - low, epsilon=share, rng=rng)
    return out
