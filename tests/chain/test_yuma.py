"""Worked Yuma cases, derivable by hand, for the sim chain's consensus (chain.sim.yuma).

Each expected figure is derived in the test's docstring or comments from subtensor's epoch
rules, so a change in the maths shows up as a wrong number, not just a changed one.
"""

from __future__ import annotations

import numpy as np
import pytest

from mycel_subnet.chain.sim import yuma

BLOCK = 100


def _inputs(weights, stake, permit=None, bonds=None, last_update=None, registered=None, **kw):
    weights = np.asarray(weights, dtype=np.float64)
    n = weights.shape[0]
    return yuma.EpochInputs(
        stake=np.asarray(stake, dtype=np.float64),
        weights=weights,
        bonds=np.zeros((n, n)) if bonds is None else np.asarray(bonds, dtype=np.float64),
        validator_permit=(
            np.asarray(stake) > 0 if permit is None else np.asarray(permit, dtype=bool)
        ),
        last_update=np.full(n, BLOCK) if last_update is None else np.asarray(last_update),
        block_at_registration=np.zeros(n, dtype=np.int64) if registered is None else registered,
        current_block=kw.pop("current_block", BLOCK),
        emission=kw.pop("emission", 1.0),
    )


def _no_nan(out: yuma.EpochOutputs) -> None:
    for name, value in vars(out).items():
        assert np.all(np.isfinite(np.asarray(value, dtype=np.float64))), name


def _reference_weighted_median(stake, score, minority):
    """A literal port of subtensor's recursive ``weighted_median`` (pivot partitioning)."""

    def rec(idx, lo, hi):
        if not idx:
            return 0.0
        if len(idx) == 1:
            return score[idx[0]]
        pivot = score[idx[len(idx) // 2]]
        lower = [i for i in idx if score[i] < pivot]
        upper = [i for i in idx if score[i] > pivot]
        lo_stake = sum(stake[i] for i in lower)
        hi_stake = sum(stake[i] for i in upper)
        if lo + lo_stake <= minority < hi - hi_stake:
            return pivot
        if minority < lo + lo_stake and lower:
            return rec(lower, lo, lo + lo_stake)
        if hi - hi_stake <= minority and upper:
            return rec(upper, hi - hi_stake, hi)
        return pivot

    return rec(list(range(len(stake))), 0.0, 1.0)


# 0.23 / 0.77 cannot tie with stake fractions of denominator <= 30, where float rounding of
# 1 - kappa (not the algorithm) would decide the side; the u16 fractions never tie either.
@pytest.mark.parametrize("kappa", [0.5, 32767 / 65535, 0.23, 0.77])
def test_weighted_median_matches_subtensor_reference(kappa):
    rng = np.random.default_rng(7)
    for _ in range(40):
        rows, cols = rng.integers(1, 7), rng.integers(1, 6)
        stake = rng.integers(1, 6, size=rows).astype(float)
        stake /= stake.sum()
        scores = rng.integers(0, 4, size=(rows, cols)) / 3.0  # many ties on purpose
        got = yuma.weighted_median_col(stake, scores, kappa)
        want = [
            _reference_weighted_median(list(stake), list(scores[:, c]), 1 - kappa)
            for c in range(cols)
        ]
        np.testing.assert_allclose(got, want)


def test_winner_takes_all():
    """Every validator puts everything on miner 2: it gets all incentive, trust 1, consensus 1;
    equal-stake validators split dividends; emission splits 50/50 miners/validators."""
    w = np.zeros((5, 5))
    w[0, 2] = w[1, 2] = 1.0
    out = yuma.run_epoch(_inputs(w, [1, 1, 0, 0, 0], emission=2.0), yuma.YumaParams())
    np.testing.assert_allclose(out.incentive, [0, 0, 1, 0, 0])
    assert out.trust[2] == pytest.approx(1.0) and out.consensus[2] == pytest.approx(1.0)
    np.testing.assert_allclose(out.validator_trust[:2], [1, 1])
    np.testing.assert_allclose(out.dividends, [0.5, 0.5, 0, 0, 0])
    np.testing.assert_allclose(out.server_emission, [0, 0, 1.0, 0, 0])
    np.testing.assert_allclose(out.validator_emission, [0.5, 0.5, 0, 0, 0])
    assert out.pruning_scores[2] > out.pruning_scores[4] == 0


def test_kappa_clips_outlier_validator():
    """Validators A, B, C (stake 3:2:1 -> 1/2, 1/3, 1/6). A and B weight miners 3, 4 at 0.5
    each; C puts all on miner 4. Median with kappa 1/2: consensus 0.5 on both miners, so C's
    weight on 4 is clipped 1 -> 0.5: validator trust C = 0.5, A = B = 1.
    Ranks: miner 3 = (1/2 + 1/3) * 0.5 = 5/12, miner 4 = 1 * 0.5 = 1/2 -> incentive 5/11, 6/11.
    Trust miner 4 = (1/2) / (5/12 + 1/6) = 6/7. Dividends (first epoch, bonds = column-normalised
    W*S): C holds (1/6) / (1/4 + 1/6 + 1/6) = 2/7 of miner 4's bonds, none of miner 3's, so
    D_C = 2/7 * 6/11 = 12/77, less per unit of stake than A and B. With bonds_penalty 1 the
    bonds use the clipped weight: C's share of miner 4 is (1/12) / (1/2) = 1/6, D_C = 1/11."""
    w = np.zeros((5, 5))
    w[0, 3:] = w[1, 3:] = 0.5
    w[2, 4] = 1.0
    out = yuma.run_epoch(_inputs(w, [3, 2, 1, 0, 0]), yuma.YumaParams(kappa=0.5))
    np.testing.assert_allclose(out.consensus[3:], [0.5, 0.5])
    np.testing.assert_allclose(out.validator_trust[:3], [1, 1, 0.5])
    np.testing.assert_allclose(out.incentive[3:], [5 / 11, 6 / 11])
    np.testing.assert_allclose(out.trust[3:], [1.0, 6 / 7])
    assert out.dividends[2] == pytest.approx(12 / 77)
    # per unit of stake the outlier earns less than the majority validators
    per_stake = out.dividends[:3] / np.array([1 / 2, 1 / 3, 1 / 6])
    assert per_stake[2] < per_stake[0] and per_stake[2] < per_stake[1]
    # with the full bond penalty its bond follows the clipped weight and it earns less still
    penalised = yuma.run_epoch(_inputs(w, [3, 2, 1, 0, 0]), yuma.YumaParams(bonds_penalty=1.0))
    assert penalised.dividends[2] == pytest.approx(1 / 11)


def test_majority_outlier_becomes_consensus():
    """The same weights with C holding most stake: C's view wins, the others get clipped."""
    w = np.zeros((5, 5))
    w[0, 3:] = w[1, 3:] = 0.5
    w[2, 4] = 1.0
    out = yuma.run_epoch(_inputs(w, [1, 1, 4, 0, 0]), yuma.YumaParams(kappa=0.5))
    np.testing.assert_allclose(out.consensus[3:], [0.0, 1.0])
    np.testing.assert_allclose(out.validator_trust[:3], [0.5, 0.5, 1.0])
    np.testing.assert_allclose(out.incentive[3:], [0.0, 1.0])


def _late_mover_run(params: yuma.YumaParams, phase1: int, phase2: int):
    """Validators A (0) and B (1), equal stake. Phase 1: A weights miner 3, B miner 2.
    Phase 2: both weight miner 3 only. Bonds carry over between epochs."""
    early = np.zeros((4, 4))
    early[0, 3] = early[1, 2] = 1.0
    late = np.zeros((4, 4))
    late[0, 3] = late[1, 3] = 1.0
    bonds = np.zeros((4, 4))
    dividends = []
    for epoch in range(phase1 + phase2):
        w = early if epoch < phase1 else late
        out = yuma.run_epoch(_inputs(w, [1, 1, 0, 0], bonds=bonds), params)
        bonds = out.bonds
        dividends.append(out.dividends[:2].copy())
    return np.array(dividends[phase1:]), bonds


def test_early_validator_earns_more_with_ema_bonds():
    """Classic bonds, alpha 0.1. After phase 1, A holds all of miner 3's bonds. In phase 2 each
    epoch moves A's share to 0.1 * 1/2 + 0.9 * previous, so after k epochs D_A = 1/2 + 1/2 * 0.9^k
    (all incentive is on miner 3) and D_B = 1 - D_A: the early mover earns more, converging."""
    divs, _ = _late_mover_run(yuma.YumaParams(bonds_moving_average=0.9), phase1=3, phase2=60)
    k = np.arange(1, 61)
    np.testing.assert_allclose(divs[:, 0], 0.5 + 0.5 * 0.9**k, atol=1e-9)
    np.testing.assert_allclose(divs[:, 1], 0.5 - 0.5 * 0.9**k, atol=1e-9)
    assert divs[-1, 0] == pytest.approx(0.5, abs=0.001)


def test_early_validator_earns_more_with_yuma3_bonds():
    """Yuma 3: per-pair bonds EMA toward the weight (alpha 0.1). After 3 epochs on miner 3,
    A's bond there is 1 - 0.9^3; in phase 2 B's starts from 0, so after k epochs
    b_A = 1 - 0.9^(3+k), b_B = 1 - 0.9^k, and D_A / D_B = b_A / b_B (equal stakes)."""
    params = yuma.YumaParams(yuma3_enabled=True, bonds_moving_average=0.9)
    divs, bonds = _late_mover_run(params, phase1=3, phase2=10)
    k = np.arange(1, 11)
    b_a, b_b = 1 - 0.9 ** (3 + k), 1 - 0.9**k
    np.testing.assert_allclose(divs[:, 0], b_a / (b_a + b_b), atol=1e-9)
    assert np.all(divs[:, 0] > divs[:, 1])
    assert bonds[0, 3] == pytest.approx(1 - 0.9**13)
    assert bonds[1, 2] == pytest.approx((1 - 0.9**3) * 0.9**10)  # B's old bond decays


def test_yuma3_bonds_are_per_pair_and_not_column_normalised():
    """b' = 0.1 * w + 0.9 * b per pair; the bond penalty replaces w by the clipped weight."""
    w = np.zeros((4, 4))
    w[0, 2] = 1.0
    w[1, 2] = w[1, 3] = 0.5
    old = np.zeros((4, 4))
    old[0, 2], old[0, 3], old[1, 2] = 0.5, 0.4, 0.2
    params = yuma.YumaParams(yuma3_enabled=True, bonds_moving_average=0.9, kappa=0.5)
    out = yuma.run_epoch(_inputs(w, [1, 1, 0, 0], bonds=old), params)
    assert out.bonds[0, 2] == pytest.approx(0.1 * 1.0 + 0.9 * 0.5)
    assert out.bonds[0, 3] == pytest.approx(0.9 * 0.4)
    assert out.bonds[1, 2] == pytest.approx(0.1 * 0.5 + 0.9 * 0.2)
    assert out.bonds[1, 3] == pytest.approx(0.1 * 0.5)
    assert out.bonds[:, 2].sum() != pytest.approx(1.0)  # kept per pair, not normalised
    # Equal stakes, ties go up: consensus on miner 2 is 1.0 and on miner 3 is 0.5
    np.testing.assert_allclose(out.consensus[2:], [1.0, 0.5])
    # bonds_penalty = 1: bonds grow toward the clipped weight. B (3/4 of the stake) gives
    # miner 2 nothing, so its consensus is 0 and A's weight of 1 there is clipped to 0.
    w2 = np.zeros((4, 4))
    w2[0, 2] = 1.0
    w2[1, 3] = 1.0
    penalised = yuma.run_epoch(
        _inputs(w2, [1, 3, 0, 0]),
        yuma.YumaParams(yuma3_enabled=True, bonds_penalty=1.0, kappa=0.5),
    )
    assert penalised.consensus[2] == 0.0  # the 3/4-stake validator gives miner 2 nothing
    assert penalised.bonds[0, 2] == 0.0  # A's bond grows toward its clipped weight 0
    assert penalised.bonds[1, 3] == pytest.approx(0.1)


def test_liquid_alpha_is_bounded_and_follows_the_sigmoid():
    rng = np.random.default_rng(3)
    low, high = 0.7, 0.9
    w, b, c = rng.random((30, 30)), rng.random((30, 30)), rng.random(30)
    alpha = yuma.liquid_alpha(w, b, c, low, high, 1000.0)
    assert alpha.min() >= low and alpha.max() <= high
    # combined gap 0.5 sits at the sigmoid's centre; gap 1 gives 1 / (1 + e^-5) with steepness 10
    mid = yuma.liquid_alpha(np.array([[0.5]]), np.array([[0.0]]), np.array([0.0]), low, high, 1000)
    assert mid[0, 0] == pytest.approx((low + high) / 2)
    top = yuma.liquid_alpha(np.array([[1.0]]), np.array([[0.0]]), np.array([0.0]), low, high, 1000)
    assert top[0, 0] == pytest.approx(low + (high - low) / (1 + np.exp(-5)))


def test_liquid_alpha_in_an_epoch_stays_between_the_fixed_alpha_emas():
    """With liquid alpha each pair's EMA lands between the EMAs with alpha_low and alpha_high;
    the classic path ignores liquid alpha, as subtensor's does."""
    rng = np.random.default_rng(5)
    n = 8
    w = rng.random((n, n))
    old = rng.random((n, n)) * 0.5
    stake = [3, 2, 1, 1, 0, 0, 0, 0]
    inputs = _inputs(w, stake, bonds=old)
    out = yuma.run_epoch(
        inputs,
        yuma.YumaParams(
            yuma3_enabled=True, liquid_alpha_enabled=True, alpha_low=0.2, alpha_high=0.6
        ),
    )
    wn = out.weights
    lo_ema, hi_ema = 0.2 * wn + 0.8 * old, 0.6 * wn + 0.4 * old
    assert np.all(out.bonds >= np.minimum(lo_ema, hi_ema) - 1e-12)
    assert np.all(out.bonds <= np.maximum(lo_ema, hi_ema) + 1e-12)
    classic_on = yuma.run_epoch(inputs, yuma.YumaParams(liquid_alpha_enabled=True))
    classic_off = yuma.run_epoch(inputs, yuma.YumaParams())
    np.testing.assert_allclose(classic_on.bonds, classic_off.bonds)


def test_inactive_validator_is_masked():
    """Validator 1 last set weights 101 blocks ago with activity cutoff 100: inactive, so its
    weights count for nothing and it earns no dividends; validator 0 alone decides."""
    w = np.zeros((4, 4))
    w[0, 2] = 1.0
    w[1, 3] = 1.0
    out = yuma.run_epoch(
        _inputs(w, [1, 5, 0, 0], last_update=np.array([BLOCK, BLOCK - 101, 0, 0]), registered=None),
        yuma.YumaParams(activity_cutoff=100),
    )
    np.testing.assert_array_equal(out.active[:2], [True, False])
    np.testing.assert_allclose(out.incentive[2:], [1.0, 0.0])
    np.testing.assert_allclose(out.dividends[:2], [1.0, 0.0])
    np.testing.assert_allclose(out.stake[:2], [1.0, 0.0])


def test_masks_self_outdated_and_unpermitted_weights():
    """Self-weight, weight on a miner registered after the validator's last update, and rows of
    validators without a permit are all dropped before normalisation."""
    w = np.zeros((5, 5))
    w[0, 0] = 5.0  # self-weight
    w[0, 3] = 1.0  # miner 3 registered after validator 0 last updated: outdated
    w[0, 2] = 1.0
    w[1, 4] = 1.0  # no permit
    registered = np.array([0, 0, 0, BLOCK, 0])
    last_update = np.array([BLOCK - 1, BLOCK, 0, BLOCK, 0])
    out = yuma.run_epoch(
        _inputs(
            w,
            [1, 1, 0, 0, 0],
            permit=[True, False, False, False, False],
            last_update=last_update,
            registered=registered,
        ),
        yuma.YumaParams(),
    )
    np.testing.assert_allclose(out.weights[0], [0, 0, 1, 0, 0])
    assert not out.weights[1].any()
    np.testing.assert_allclose(out.incentive, [0, 0, 1, 0, 0])


def test_recently_registered_miner_loses_old_bonds():
    """With tempo 10, a miner registered at block 95 (epoch at 100) starts with no bonds."""
    w = np.zeros((3, 3))
    w[0, 2] = 1.0
    old = np.zeros((3, 3))
    old[0, 2] = 0.8
    params = yuma.YumaParams(yuma3_enabled=True, tempo=10)
    stale = yuma.run_epoch(
        _inputs(w, [1, 0, 0], bonds=old, registered=np.array([0, 0, 95])), params
    )
    kept = yuma.run_epoch(_inputs(w, [1, 0, 0], bonds=old, registered=np.array([0, 0, 50])), params)
    assert stale.bonds[0, 2] == pytest.approx(0.1)
    assert kept.bonds[0, 2] == pytest.approx(0.1 + 0.9 * 0.8)


def test_no_weights_pays_validators_by_stake():
    out = yuma.run_epoch(_inputs(np.zeros((4, 4)), [3, 1, 0, 0], emission=4.0), yuma.YumaParams())
    _no_nan(out)
    np.testing.assert_allclose(out.incentive, 0)
    np.testing.assert_allclose(out.server_emission, 0)
    np.testing.assert_allclose(out.validator_emission, [3, 1, 0, 0])
    np.testing.assert_allclose(out.pruning_scores, [0.75, 0.25, 0, 0])


@pytest.mark.parametrize(
    "weights, stake",
    [
        (np.zeros((3, 3)), [0, 0, 0]),  # no stake, no weights
        (np.ones((3, 3)), [0, 0, 0]),  # weights but nobody has stake
        (np.eye(3), [1, 1, 1]),  # self-weights only
        (np.zeros((1, 1)), [1]),
        (np.zeros((0, 0)), []),
    ],
)
def test_degenerate_epochs_have_no_nan(weights, stake):
    for params in (
        yuma.YumaParams(),
        yuma.YumaParams(yuma3_enabled=True, liquid_alpha_enabled=True),
    ):
        out = yuma.run_epoch(_inputs(weights, stake), params)
        _no_nan(out)
        total = out.server_emission.sum() + out.validator_emission.sum()
        assert total == pytest.approx(1.0 if np.sum(stake) > 0 else 0.0)


def test_emission_is_conserved_and_split():
    rng = np.random.default_rng(11)
    n = 32
    w = rng.random((n, n)) * (rng.random((n, n)) > 0.5)
    stake = np.where(np.arange(n) < 8, rng.integers(1, 100, n), 0)
    for params in (yuma.YumaParams(), yuma.YumaParams(yuma3_enabled=True, bonds_penalty=0.5)):
        out = yuma.run_epoch(_inputs(w, stake, emission=10.0), params)
        _no_nan(out)
        assert out.server_emission.sum() == pytest.approx(5.0)
        assert out.validator_emission.sum() == pytest.approx(5.0)
        assert out.pruning_scores.sum() == pytest.approx(1.0)
        assert np.all((out.validator_trust >= 0) & (out.validator_trust <= 1 + 1e-12))


def test_bad_input_is_named():
    good = _inputs(np.zeros((3, 3)), [1, 1, 1])
    good.bonds = np.zeros((2, 2))
    with pytest.raises(ValueError, match="bonds"):
        yuma.run_epoch(good, yuma.YumaParams())
    nan = _inputs(np.full((2, 2), np.nan), [1, 1])
    with pytest.raises(ValueError, match="weights"):
        yuma.run_epoch(nan, yuma.YumaParams())
