"""The ranking terms and ordering rules of ranking.py, with hand-picked inputs."""

from __future__ import annotations

import pytest

from mycel_subnet.patterns.ranking import (
    DEFAULT_PRICE_SCALE,
    RankingWeights,
    order_key,
    price_factor,
    score,
    smoothed_success,
)


def s(**terms):
    base = dict(
        similarity=0.5,
        reputation=0.25,
        success_rate=0.5,
        price_factor=1.0,
        safety=1.0,
        min_safety=0.6,
    )
    return score(**(base | terms))


def test_final_is_the_weighted_mean_of_the_terms():
    got = s(similarity=0.8, reputation=0.6, success_rate=0.75, price_factor=0.5)
    assert got.final == pytest.approx(0.55 * 0.8 + 0.2 * 0.6 + 0.15 * 0.75 + 0.1 * 0.5)
    doubled = RankingWeights(1.1, 0.4, 0.3, 0.2)
    assert score(
        similarity=0.8,
        reputation=0.6,
        success_rate=0.75,
        price_factor=0.5,
        safety=1.0,
        min_safety=0.6,
        weights=doubled,
    ).final == pytest.approx(got.final)


def test_terms_are_clipped_into_unit_range():
    got = s(similarity=-0.4, reputation=3.0)
    assert got.similarity == 0.0 and got.reputation == 1.0


def test_reputation_then_success_break_similarity_ties():
    low, high = s(reputation=0.25), s(reputation=0.9)
    assert order_key(high, "b") < order_key(low, "a")
    worse, better = s(success_rate=0.3), s(success_rate=0.8)
    assert order_key(better, "b") < order_key(worse, "a")
    # Identical scores fall back to the id, so the order is deterministic.
    assert order_key(s(), "a") < order_key(s(), "b")


def test_an_unsafe_pattern_never_outranks_a_safe_one():
    unsafe = s(similarity=1.0, reputation=1.0, success_rate=1.0, safety=0.2)
    safe = s(similarity=0.1, reputation=0.0, success_rate=0.0, price_factor=0.0, safety=0.9)
    assert not unsafe.safe and safe.safe and unsafe.final > safe.final
    assert order_key(safe, "z") < order_key(unsafe, "a")


def test_smoothed_success_prefers_a_long_good_record():
    assert smoothed_success(0, 0) == 0.5
    assert smoothed_success(1, 1) < smoothed_success(9, 10)
    with pytest.raises(ValueError, match="successes <= uses"):
        smoothed_success(3, 2)


def test_price_factor_is_half_at_the_budget():
    assert price_factor(0, 100) == 1.0
    assert price_factor(100, 100) == pytest.approx(0.5)
    assert price_factor(50, 100) > price_factor(100, 100)
    assert price_factor(DEFAULT_PRICE_SCALE) == pytest.approx(0.5)
    assert price_factor(0, 0) == 1.0 and price_factor(5, 0) == 0.0


def test_bad_weights_are_refused():
    with pytest.raises(ValueError, match=">= 0"):
        RankingWeights(similarity=-1)
    with pytest.raises(ValueError, match="> 0"):
        RankingWeights(0, 0, 0, 0)
