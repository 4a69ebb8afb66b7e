"""DP: calibration, zCDP accounting checked against Opacus's RDP accountant and the closed form,
the persistent per-pattern ledger (budget stops releases, survives a restart), unbiased noised
statistics, and the metadata path that publishes them. Fixed seeds; statistical bounds are
stated as multiples of the standard error."""

import math
import warnings

import numpy as np
import pytest
from opacus.accountants import RDPAccountant

from mycel_subnet.intelligence.embeddings import HashingEmbedder
from mycel_subnet.patterns import PatternStore, UsageStats
from mycel_subnet.privacy import (
    PrivacyAccountant,
    PrivacyBudgetExceeded,
    gaussian_mechanism,
    gaussian_sigma,
    laplace_mechanism,
    laplace_scale,
    privatise_signals,
)
from mycel_subnet.privacy.dp import gaussian_rho, rho_for_epsilon, sigma_for_rho, zcdp_epsilon
from mycel_subnet.privacy.dp_ledger import ZcdpLedger
from mycel_subnet.privacy.dp_stats import SENSITIVITY, PatternStatsReleaser, StatsRelease
from mycel_subnet.storage import LocalContentStore
from mycel_subnet.storage.metadata import get_pattern_metadata, metadata_bytes
from tests.patterns.conftest import code_pattern

DELTA = 1e-6


def opacus_epsilon(history: list[tuple[float, int]], delta: float) -> float:
    """Independent computation: Opacus's RDP accountant over (noise multiplier, steps) of
    full-batch Gaussian releases (sample rate 1: RDP = alpha / (2 z^2) per step)."""
    accountant = RDPAccountant()
    accountant.history = [(z, 1.0, steps) for z, steps in history]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(accountant.get_epsilon(delta=delta))


def stats(uses: int, successes: int, rated: int, avg: float) -> UsageStats:
    rate = successes / uses if uses else 0.0
    return UsageStats(uses, successes, rated, rate, avg)


# ----- calibration and the old in-memory API -----------------------------------------------------


def test_calibration_formulas():
    assert laplace_scale(1.0, 0.5) == 2.0
    expected = 2.0 * math.sqrt(2 * math.log(1.25 / 1e-5)) / 0.5
    assert gaussian_sigma(2.0, 0.5, 1e-5) == pytest.approx(expected)
    assert gaussian_rho(2.0, 4.0) == pytest.approx(4 / 32)
    assert sigma_for_rho(2.0, gaussian_rho(2.0, 4.0)) == pytest.approx(4.0)


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
        (lambda: zcdp_epsilon(-1.0, 1e-6), "rho"),
        (lambda: zcdp_epsilon(0.1, 1.0), "delta"),
        (lambda: rho_for_epsilon(0.0, 1e-6), "epsilon"),
        (lambda: sigma_for_rho(1.0, 0.0), "rho"),
    ],
)
def test_bad_parameters_are_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_privatise_signals_is_unbiased_and_charges():
    """Outputs are not clamped: near a bound the average still lands on the true value."""
    rng = np.random.default_rng(3)
    truth = {"usage_count": 0.0, "success_rate": 1.0, "rating": 5.0}
    runs = [privatise_signals(truth, epsilon=3.0, rng=rng) for _ in range(3000)]
    for name, true in truth.items():
        low, high = {"usage_count": (0, 1), "success_rate": (0, 1), "rating": (0, 5)}[name]
        values = np.array([r[name] for r in runs])
        stderr = math.sqrt(2) * (high - low) / 1.0 / math.sqrt(len(values))  # b = D/(eps/3)
        assert abs(values.mean() - true) < 4 * stderr, name
        assert ((values < low) | (values > high)).any()  # noise left as it is
    accountant = PrivacyAccountant(epsilon_budget=1.0)
    out = privatise_signals({"success_rate": 1.7}, epsilon=1.0, rng=rng, accountant=accountant)
    assert set(out) == {"success_rate"}
    with pytest.raises(PrivacyBudgetExceeded):
        privatise_signals({"rating": 4}, epsilon=0.5, rng=rng, accountant=accountant)
    with pytest.raises(ValueError, match="unknown signal"):
        privatise_signals({"salary": 1.0}, epsilon=1.0, rng=rng)
    with pytest.raises(ValueError, match="signal rating must be finite"):
        privatise_signals({"rating": float("nan")}, epsilon=1.0, rng=rng)


# ----- zCDP accounting --------------------------------------------------------------------------


@pytest.mark.parametrize("rho", [0.02, 0.1, 0.5, 2.0])
def test_zcdp_epsilon_matches_opacus_and_the_closed_form(rho):
    # One Gaussian release with noise multiplier z is rho = 1/(2 z^2); Opacus evaluates the same
    # conversion on a fixed grid of orders, so it can only be a little looser.
    theirs = opacus_epsilon([(math.sqrt(1 / (2 * rho)), 1)], DELTA)
    ours = zcdp_epsilon(rho, DELTA)
    assert ours <= theirs * (1 + 1e-9)
    assert ours == pytest.approx(theirs, rel=2e-3)
    assert ours < rho + 2 * math.sqrt(rho * math.log(1 / DELTA))  # Bun & Steinke 2016, Prop 1.3


def test_rho_for_epsilon_inverts_the_conversion():
    for epsilon in (0.1, 1.0, 8.0):
        rho = rho_for_epsilon(epsilon, DELTA)
        assert zcdp_epsilon(rho, DELTA) == pytest.approx(epsilon, rel=1e-9)
        assert zcdp_epsilon(rho, DELTA) <= epsilon
    assert zcdp_epsilon(0.0, DELTA) == 0.0


def test_ledger_composes_refuses_at_budget_and_persists(tmp_path):
    path = tmp_path / "dp.sqlite"
    with ZcdpLedger(path, epsilon_budget=1.0, delta=DELTA) as ledger:
        quarter = ledger.rho_budget / 4
        reported = [ledger.charge("pattern-a", quarter) for _ in range(3)]
        assert reported[-1] == pytest.approx(zcdp_epsilon(3 * quarter, DELTA))
        assert reported == sorted(reported) and reported[-1] < 1.0
        assert ledger.epsilon("pattern-b") == 0.0  # keys are separate budgets
    with ZcdpLedger(path, epsilon_budget=1.0, delta=DELTA) as ledger:  # a restart
        assert ledger.releases("pattern-a") == 3
        assert ledger.spent_rho("pattern-a") == pytest.approx(3 * quarter)
        assert ledger.charge("pattern-a", quarter) == pytest.approx(1.0, rel=1e-6)
        with pytest.raises(PrivacyBudgetExceeded, match=r"over the budget 1\b.*4 release"):
            ledger.charge("pattern-a", quarter / 100)
        assert ledger.releases("pattern-a") == 4  # the refusal spent nothing
        with pytest.raises(ValueError, match="key"):
            ledger.charge("", quarter)
        with pytest.raises(ValueError, match="rho"):
            ledger.charge("pattern-a", -1.0)


# ----- per-pattern statistics release -----------------------------------------------------------


def test_reported_epsilon_matches_the_accountant_and_opacus(tmp_path):
    releaser = PatternStatsReleaser(
        tmp_path / "dp.sqlite",
        epsilon_budget=2.0,
        releases=5,
        min_interval_s=0,
        rng=np.random.default_rng(1),
    )
    truth = stats(40, 30, 40, 4.0)
    for n in range(1, 6):
        release = releaser.release("p", truth, now=1000.0 + n)
        assert release.release_no == n
        assert release.epsilon == pytest.approx(releaser.epsilon_spent("p"))
        assert release.epsilon == pytest.approx(zcdp_epsilon(n * releaser.rho_per_release, DELTA))
        history = [(release.sigma[name] / d, n) for name, d in SENSITIVITY.items()]
        assert release.epsilon == pytest.approx(opacus_epsilon(history, DELTA), rel=2e-3)
    assert release.epsilon == pytest.approx(2.0, rel=1e-6)  # the whole budget, no more


def test_release_stops_at_the_budget_and_across_restarts(tmp_path):
    path = tmp_path / "dp.sqlite"
    truth = stats(10, 5, 10, 3.0)
    with PatternStatsReleaser(path, releases=3, min_interval_s=0) as releaser:
        for n in range(3):
            last = releaser.release("p", truth, now=100.0 + n)
        with pytest.raises(PrivacyBudgetExceeded, match="pattern p.*last release stays"):
            releaser.release("p", truth, now=200.0)
        releaser.release("q", truth, now=200.0)  # another pattern has its own budget
    with PatternStatsReleaser(path, releases=3, min_interval_s=0) as releaser:
        with pytest.raises(PrivacyBudgetExceeded, match="budget"):
            releaser.release("p", truth, now=300.0)
        assert releaser.last("p") == last
        assert releaser.epsilon_spent("p") == pytest.approx(1.0, rel=1e-6)


def test_one_release_per_interval_is_free_to_repeat(tmp_path):
    releaser = PatternStatsReleaser(tmp_path / "dp.sqlite", releases=2, min_interval_s=60)
    first = releaser.release("p", stats(10, 5, 10, 3.0), now=1000.0)
    again = releaser.release("p", stats(11, 6, 11, 3.1), now=1059.0)
    assert again == first and releaser.ledger.releases("p") == 1
    later = releaser.release("p", stats(11, 6, 11, 3.1), now=1060.0)
    assert later.release_no == 2 and later.values != first.values


def test_noised_statistics_are_unbiased(tmp_path):
    """The mean of n releases is within 4 standard errors (sigma / sqrt(n)) of the truth, also
    for a count of 1, where clamping at zero would pull the mean up."""
    n = 1500
    releaser = PatternStatsReleaser(
        tmp_path / "dp.sqlite",
        epsilon_budget=50.0,
        releases=n,
        min_interval_s=0,
        rng=np.random.default_rng(2026),
    )
    truth = stats(1, 1, 1, 4.0)
    runs = [releaser.release("p", truth, now=1.0 + i).values for i in range(n)]
    expected = {"usage_count": 1, "success_count": 1, "rating_count": 1, "rating_sum": 4.0}
    for name, true in expected.items():
        values = np.array([r[name] for r in runs])
        assert abs(values.mean() - true) < 4 * releaser.sigma[name] / math.sqrt(n), name
        assert (values < 0).any()  # negative noised counts are published as they are
    assert 0.9 < np.std([r["usage_count"] for r in runs]) / releaser.sigma["usage_count"] < 1.1


def test_rates_are_given_only_when_the_count_can_carry_them(tmp_path):
    releaser = PatternStatsReleaser(
        tmp_path / "dp.sqlite",
        epsilon_budget=50.0,
        releases=1,
        min_interval_s=0,
        rng=np.random.default_rng(5),
    )
    small = releaser.release("small", stats(3, 3, 3, 5.0), now=1.0)
    assert small.success_rate is None and small.avg_rating is None
    assert small.bounded()["success_rate"] == 0.0
    big = releaser.release("big", stats(100_000, 75_000, 100_000, 4.0), now=1.0)
    assert big.success_rate == pytest.approx(0.75, abs=0.01)
    assert big.avg_rating == pytest.approx(4.0, abs=0.05)
    shown = big.bounded()
    assert isinstance(shown["usage_count"], int) and 0 <= shown["success_rate"] <= 1
    assert StatsRelease.from_json(big.to_json()) == big


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        (UsageStats(-1, 0, 0, 0.0, 0.0), "usage_count"),
        (UsageStats(2, 3, 0, 1.0, 0.0), "success_count must not exceed"),
        (UsageStats(2, 1, 2, 0.5, 7.0), "avg_rating"),
        (UsageStats(2, 1, 2, 0.5, float("nan")), "avg_rating"),
    ],
)
def test_bad_statistics_are_refused(tmp_path, bad, match):
    releaser = PatternStatsReleaser(tmp_path / "dp.sqlite")
    with pytest.raises(ValueError, match=match):
        releaser.release("p", bad)
    assert releaser.ledger.releases("p") == 0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"releases": 0}, "releases"),
        ({"min_interval_s": -1}, "min_interval_s"),
        ({"epsilon_budget": 0}, "epsilon_budget"),
        ({"delta": 1.5}, "delta"),
    ],
)
def test_bad_releaser_settings_are_refused(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        PatternStatsReleaser(tmp_path / "dp.sqlite", **kwargs)


# ----- wiring: what the published metadata carries ---------------------------------------------


def test_published_metadata_carries_dp_statistics_never_raw_ones(tmp_path):
    pattern = code_pattern("Sort a list of numbers in ascending order")
    pid = str(pattern.id)
    with PatternStore(tmp_path / "patterns.sqlite", HashingEmbedder(64)) as store:
        store.put(pattern)
        for i in range(7):
            store.record_use(pid, i % 2 == 0, 5)
        local = store.get(pid)
        assert local.usage_count == 7  # the owner's own view stays exact
        content = LocalContentStore(tmp_path / "ipfs")
        raw_free = get_pattern_metadata(content.put(metadata_bytes(local)), content)
        assert (raw_free.usage_count, raw_free.success_rate, raw_free.avg_rating) == (0, 0, 0)
        releaser = PatternStatsReleaser(tmp_path / "dp.sqlite", rng=np.random.default_rng(9))
        release = releaser.release_from(store, pid, now=10.0)
        published = get_pattern_metadata(
            content.put(metadata_bytes(local, release)), content, expected_pattern_hash=pid
        )
        assert published.usage_count == release.bounded()["usage_count"]
        other = releaser.release("f" * 64, store.stats(pid), now=10.0)
        with pytest.raises(ValueError, match="statistics of f+ given for pattern"):
            metadata_bytes(local, other)
