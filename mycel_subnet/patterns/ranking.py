"""How discovered patterns are scored and ordered: pure functions, no I/O.

final = w_sim * similarity + w_rep * reputation + w_succ * success_rate + w_price * price_factor
with the default weights 0.55 / 0.20 / 0.15 / 0.10 (they must be >= 0; they are divided by
their sum, so only their ratios matter). Every term is in [0, 1]:

- similarity: cosine of the query and pattern embeddings, clipped at 0.
- reputation: the creator's ReputationSystem composite (0..1); 0.25 when unknown, which is
  exactly what the contract gives an account with no history (a Bayesian prior of two 3-star
  ratings times a Laplace-smoothed success of 1/2), so an unregistered local pattern and a new
  registered one compare fairly.
- success_rate: Laplace-smoothed (successes + 1) / (uses + 2), so one lucky use does not beat a
  long good record and an unused pattern sits at 0.5, not 0.
- price_factor: 1 / (1 + price / scale), scale = the caller's budget when given (a pattern
  priced at the budget scores 0.5, a free one 1.0), else DEFAULT_PRICE_SCALE.

Ordering: every safe pattern (safety >= the threshold) before any unsafe one, then by final
score, then similarity, reputation, success rate and finally pattern id, so equal inputs always
give the same order.
"""

from __future__ import annotations

from dataclasses import dataclass

ONE_NEAR = 10**24
DEFAULT_PRICE_SCALE = ONE_NEAR // 100  # 0.01 NEAR: a price that halves the price factor
DEFAULT_REPUTATION = 0.25


@dataclass(frozen=True)
class RankingWeights:
    """Relative weights of the four ranking terms (normalised by their sum)."""

    similarity: float = 0.55
    reputation: float = 0.20
    success_rate: float = 0.15
    price: float = 0.10

    def __post_init__(self) -> None:
        values = (self.similarity, self.reputation, self.success_rate, self.price)
        if any(not isinstance(v, int | float) or isinstance(v, bool) or v < 0 for v in values):
            raise ValueError("ranking weights must be numbers >= 0")
        if sum(values) <= 0:
            raise ValueError("at least one ranking weight must be > 0")


DEFAULT_WEIGHTS = RankingWeights()


@dataclass(frozen=True)
class ScoreBreakdown:
    """Every term that went into a pattern's rank, so a caller can see why it ranked there."""

    similarity: float
    reputation: float
    success_rate: float
    price_factor: float
    safety: float
    safe: bool
    final: float


def smoothed_success(successes: int, uses: int) -> float:
    """Laplace-smoothed success rate in (0, 1)."""
    if uses < 0 or not 0 <= successes <= max(uses, 0):
        raise ValueError(f"need 0 <= successes <= uses, got {successes} of {uses}")
    return (successes + 1) / (uses + 2)


def price_factor(price: int, budget: int | None = None, scale: int = DEFAULT_PRICE_SCALE) -> float:
    """1 for free, 0.5 at the budget (or at `scale` without one), towards 0 as price grows."""
    if price < 0:
        raise ValueError("price must be >= 0")
    reference = scale if budget is None else budget
    if reference <= 0:
        return 1.0 if price == 0 else 0.0
    return 1.0 / (1.0 + price / reference)


def score(
    *,
    similarity: float,
    reputation: float,
    success_rate: float,
    price_factor: float,
    safety: float,
    min_safety: float,
    weights: RankingWeights = DEFAULT_WEIGHTS,
) -> ScoreBreakdown:
    """Combine the terms into a ScoreBreakdown (inputs are clipped into [0, 1])."""
    sim = min(1.0, max(0.0, similarity))
    rep = min(1.0, max(0.0, reputation))
    succ = min(1.0, max(0.0, success_rate))
    price = min(1.0, max(0.0, price_factor))
    total = weights.similarity + weights.reputation + weights.success_rate + weights.price
    final = (
        weights.similarity * sim
        + weights.reputation * rep
        + weights.success_rate * succ
        + weights.price * price
    ) / total
    return ScoreBreakdown(
        similarity=sim,
        reputation=rep,
        success_rate=succ,
        price_factor=price,
        safety=safety,
        safe=safety >= min_safety,
        final=final,
    )


def order_key(breakdown: ScoreBreakdown, pattern_id: str) -> tuple:
    """Sort key (ascending): safe first, then higher final, similarity, reputation, success."""
    return (
        not breakdown.safe,
        -breakdown.final,
        -breakdown.similarity,
        -breakdown.reputation,
        -breakdown.success_rate,
        pattern_id,
    )
