"""DP mechanisms: noise scale matches the calibration (fixed seeds, generous bounds) and the
accountant refuses releases past the budget."""

import math

import numpy as np
import pytest

from mycel_subnet.privacy import (
    PrivacyAccountant,
    PrivacyBudgetExceeded,
    gaussian_mechanism,
    gaussian_sigma,
    laplace_mechanism,
    laplace_scale,
    privatise_signals,
)


def test_calibration_formulas():
    assert laplace_scale(1.0, 0.5) == 2.0
    expected = 2.0 * math.sqrt(2 * math.log(1.25 / 1e-5)) / 0.5
    assert gaussian_sigma(2.0, 0.5, 1e-5) == pytest.approx(expected)


def test_laplace_noise_scale_statistically():
    rng = np.random.default_rng(1234)
    samples = np.array(
        [laplace_mechanism(10.0, sensitivity=1.0, epsilon=0.5, rng=rng) for _ in range(4000)]
    )
    # Laplace(b=2): mean 10, mean absolute deviation b = 2.
    assert abs(samples.mean() - 10.0) < 0.3
    assert 1.8 < np.abs(samples - 10.0).mean() < 2.2


def test_gaussian_noise_scale_statistically():
    rng = np.random.default_rng(99)
    sigma = gaussian_sigma(1.0, 0.5, 1e-5)
    samples = np.array(
        [
            gaussian_mechanism(0.0, sensitivity=1.0, epsilon=0.5, delta=1e-5, rng=rng)
            for _ in range(4000)
        ]
    )
    assert 0.9 * sigma < samples.std() < 1.1 * sigma


def test_seeded_noise_is_reproducible():
    a = laplace_mechanism(1.0, sensitivity=1, epsilon=1, rng=np.random.default_rng(7))
    b = laplace_mechanism(1.0, sensitivity=1, epsilon=1, rng=np.random.default_rng(7))
    assert a == b


def test_accountant_refuses_when_spent():
    accountant = PrivacyAccountant(epsilon_budget=1.0)
    rng = np.random.default_rng(0)
    for _ in range(4):
        laplace_mechanism(1.0, sensitivity=1, epsilon=0.25, rng=rng, accountant=accountant)
    assert accountant.remaining_epsilon == pytest.approx(0.0)
    with pytest.raises(PrivacyBudgetExceeded, match="budget exhausted"):
        laplace_mechanism(1.0, sensitivity=1, epsilon=0.1, rng=rng, accountant=accountant)
    assert accountant.releases == 4 and accountant.spent_epsilon == pytest.approx(1.0)


def test_accountant_tracks_delta():
    accountant = PrivacyAccountant(epsilon_budget=5.0, delta_budget=1e-5)
    rng = np.random.default_rng(0)
    gaussian_mechanism(0, sensitivity=1, epsilon=0.5, delta=1e-5, rng=rng, accountant=accountant)
    with pytest.raises(PrivacyBudgetExceeded, match="delta"):
        gaussian_mechanism(
            0, sensitivity=1, epsilon=0.5, delta=1e-5, rng=rng, accountant=accountant
        )


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: laplace_scale(1.0, 0.0), "epsilon"),
        (lambda: laplace_scale(-1.0, 1.0), "sensitivity"),
        (lambda: gaussian_sigma(1.0, 2.0, 1e-5), "epsilon < 1"),
        (lambda: gaussian_sigma(1.0, 0.5, 0.0), "delta"),
        (lambda: PrivacyAccountant(epsilon_budget=float("inf")), "epsilon_budget"),
    ],
)
def test_bad_parameters_are_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_privatise_signals_clips_and_charges():
    accountant = PrivacyAccountant(epsilon_budget=1.0)
    out = privatise_signals(
        {"usage_count": 3, "success_rate": 1.7, "rating": -2},
        epsilon=1.0,
        rng=np.random.default_rng(3),
        accountant=accountant,
    )
    assert 0.0 <= out["success_rate"] <= 1.0 and 0.0 <= out["rating"] <= 5.0
    assert out["usage_count"] >= 0.0
    with pytest.raises(PrivacyBudgetExceeded):
        privatise_signals(
            {"rating": 4}, epsilon=0.5, rng=np.random.default_rng(3), accountant=accountant
        )
    with pytest.raises(ValueError, match="unknown signal"):
        privatise_signals({"salary": 1.0}, epsilon=1.0, rng=np.random.default_rng(0))
