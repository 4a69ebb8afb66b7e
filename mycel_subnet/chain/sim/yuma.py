"""Yuma consensus for one subnet epoch, in float64 numpy over an n x n uid space.

This follows subtensor's own ``epoch_dense`` (pallets/subtensor/src/epoch/run_epoch.rs), not the
yuma-simulation, wherever the two differ, so the devnet behaves like the real chain:

- active: ``last_update + activity_cutoff >= current_block``; only active, permitted validators
  count (their stake, below ``min_stake`` zeroed, renormalised to sum 1).
- weights: rows of validators without a permit are dropped, the diagonal is masked (subtensor's
  owner exception is undone by a second unconditional mask, so every self-weight goes), and a
  weight is dropped when the validator last set weights at or before the miner's registration
  (``last_update_i <= block_at_registration_j``); rows are then normalised.
- consensus: stake-weighted kappa-quantile per miner on those weights, as subtensor's
  ``weighted_median``: the smallest value v with stake(w < v) <= 1 - kappa < stake(w <= v). The
  raw consensus clips (the simulator rescales and rounds it first).
- clipping, validator trust (row sums of clipped weights), ranks ``R = W'^T S``, trust
  (``R / preranks``), incentive (R normalised).
- bonds use ``weights_for_bonds = W + bonds_penalty * (W' - W)``.
  Yuma 2 (classic): ``dB = W_b * S`` column-normalised, EMA with alpha = 1 - bonds_moving_average
  against the column-normalised previous bonds, column-normalised again; dividends
  ``D = B I`` normalised.
  Yuma 3: per-pair bonds in [0, 1], EMA toward ``W_b`` (no column normalisation of the stored
  bonds), alpha per pair from the liquid-alpha sigmoid when enabled, otherwise 1 - moving average;
  dividends ``D_i = S_i * sum_j B~_ij I_j`` normalised (B~ column-normalised).
  Columns of miners registered within the last tempo lose their old bonds.
  On chain, liquid alpha acts only in Yuma 3 (the classic path ignores it); it is kept so here.
- emission: server ``I * (1 - share)``, validator ``D * share``, both over their common sum
  (share 0.5 gives subtensor's ``I / (sum I + sum D)``), times the epoch's emission. When that
  sum is zero (nobody set usable weights) validators get emission by active stake (or by stake
  when no active stake) and miners nothing, as on chain. Pruning scores are the normalised
  combined emission.

Subtensor works in I32F32 fixed point and stores u16; this module keeps float64 throughout, so
figures match the chain's to about 1e-4, not bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_EPS = 1e-12


@dataclass(frozen=True)
class YumaParams:
    """Subnet hyperparameters as fractions (the sim converts the chain's raw integers)."""

    kappa: float = 0.5
    bonds_moving_average: float = 0.9
    liquid_alpha_enabled: bool = False
    alpha_low: float = 0.7
    alpha_high: float = 0.9
    alpha_sigmoid_steepness: float = 1000.0  # raw on-chain value; the chain divides it by 100
    yuma3_enabled: bool = False
    bonds_penalty: float = 0.0
    activity_cutoff: int = 5000
    tempo: int = 0  # > 0: bonds of miners registered within the last tempo are dropped
    min_stake: float = 0.0  # stake (same unit as EpochInputs.stake) below this counts as zero
    validator_emission_share: float = 0.5


@dataclass
class EpochInputs:
    """State of one subnet at the epoch block; every array has the subnet's n uids."""

    stake: np.ndarray  # (n,) stake per uid, any unit
    weights: np.ndarray  # (n, n) raw weights set by row uid on column uid
    bonds: np.ndarray  # (n, n) bonds stored by the previous epoch
    validator_permit: np.ndarray  # (n,) bool, permits held going into this epoch
    last_update: np.ndarray  # (n,) block of each uid's last set_weights (or registration)
    block_at_registration: np.ndarray  # (n,)
    current_block: int
    emission: float  # emission to distribute this epoch (TAO/alpha)


@dataclass
class EpochOutputs:
    """Per-uid results (n,) and the bonds to store (n, n)."""

    active: np.ndarray
    stake: np.ndarray  # normalised stake used for consensus (active, permitted)
    rank: np.ndarray
    trust: np.ndarray
    consensus: np.ndarray
    incentive: np.ndarray
    dividends: np.ndarray
    validator_trust: np.ndarray
    pruning_scores: np.ndarray
    server_emission: np.ndarray
    validator_emission: np.ndarray
    bonds: np.ndarray
    weights: np.ndarray  # masked, row-normalised weights
    clipped_weights: np.ndarray


# -- small helpers (all NaN-free on zero sums) --------------------------------------------


def normalize(x: np.ndarray) -> np.ndarray:
    """Sum to 1, or unchanged when the sum is zero (subtensor's ``inplace_normalize``)."""
    total = float(np.sum(x))
    return x / total if total > 0 else x.copy()


def row_normalize(m: np.ndarray) -> np.ndarray:
    sums = m.sum(axis=1, keepdims=True)
    return np.divide(m, sums, out=np.zeros_like(m), where=sums > 0)


def col_normalize(m: np.ndarray) -> np.ndarray:
    sums = m.sum(axis=0, keepdims=True)
    return np.divide(m, sums, out=np.zeros_like(m), where=sums > 0)


def weighted_median_col(stake: np.ndarray, weights: np.ndarray, kappa: float) -> np.ndarray:
    """Per column, the stake-weighted kappa-quantile of the rows' values.

    Returns the smallest value v with stake(w < v) <= 1 - kappa < stake(w <= v), stake
    normalised over rows with positive stake; zero for every column when no row has stake.
    """
    n_rows, n_cols = weights.shape
    s = np.clip(np.asarray(stake, dtype=np.float64), 0.0, None)
    total = s.sum()
    if n_rows == 0 or n_cols == 0 or total <= 0:
        return np.zeros(n_cols)
    s = s / total
    minority = 1.0 - float(kappa)
    order = np.argsort(weights, axis=0, kind="stable")
    sorted_w = np.take_along_axis(weights, order, axis=0)
    cum = np.cumsum(s[order], axis=0)
    above = cum > minority + _EPS
    found = above.any(axis=0)
    first = np.argmax(above, axis=0)
    median = sorted_w[first, np.arange(n_cols)]
    # kappa <= 0 leaves no crossing: the quantile is the column's largest value
    return np.where(found, median, sorted_w[-1, :])


def liquid_alpha(
    weights: np.ndarray,
    bonds: np.ndarray,
    consensus: np.ndarray,
    alpha_low: float,
    alpha_high: float,
    steepness_raw: float,
) -> np.ndarray:
    """Per-pair EMA alpha of Yuma 3 (subtensor's ``alpha_sigmoid``), within [low, high].

    Buying (w >= b) looks at how far w is above consensus, selling at how far b is above w;
    the sigmoid of that gap (steepness / 100, centred on 0.5) places alpha between the bounds.
    """
    c = np.asarray(consensus, dtype=np.float64)[None, :]
    diff_buy = np.clip(weights - c, 0.0, 1.0)
    diff_sell = np.clip(bonds - weights, 0.0, 1.0)
    combined = np.where(weights >= bonds, diff_buy, diff_sell)
    exponent = np.clip(-(steepness_raw / 100.0) * (combined - 0.5), -700.0, 700.0)
    sigmoid = 1.0 / (1.0 + np.exp(exponent))
    alpha = alpha_low + sigmoid * (alpha_high - alpha_low)
    return np.clip(alpha, min(alpha_low, alpha_high), max(alpha_low, alpha_high))


# -- the epoch ------------------------------------------------------------------------------


def _check_inputs(inputs: EpochInputs) -> int:
    n = int(np.asarray(inputs.stake).shape[0])
    for name in ("validator_permit", "last_update", "block_at_registration"):
        shape = np.asarray(getattr(inputs, name)).shape
        if shape != (n,):
            raise ValueError(f"EpochInputs.{name} must have shape ({n},), got {shape}")
    for name in ("weights", "bonds"):
        shape = np.asarray(getattr(inputs, name)).shape
        if shape != (n, n):
            raise ValueError(f"EpochInputs.{name} must have shape ({n}, {n}), got {shape}")
    for name in ("stake", "weights", "bonds"):
        if not np.all(np.isfinite(np.asarray(getattr(inputs, name), dtype=np.float64))):
            raise ValueError(f"EpochInputs.{name} contains NaN or infinite values")
    return n


def run_epoch(inputs: EpochInputs, params: YumaParams) -> EpochOutputs:
    """One Yuma epoch: consensus, incentive, trust, bonds, dividends and the emission split."""
    n = _check_inputs(inputs)
    block = int(inputs.current_block)
    last_update = np.asarray(inputs.last_update, dtype=np.int64)
    registered = np.asarray(inputs.block_at_registration, dtype=np.int64)
    permit = np.asarray(inputs.validator_permit, dtype=bool)

    active = last_update + int(params.activity_cutoff) >= block
    outdated = last_update[:, None] <= registered[None, :]
    if params.tempo > 0:
        recently_registered = registered >= block - int(params.tempo)
    else:
        recently_registered = np.zeros(n, dtype=bool)

    raw_stake = np.clip(np.asarray(inputs.stake, dtype=np.float64), 0.0, None)
    raw_stake = np.where(raw_stake < params.min_stake, 0.0, raw_stake)
    stake = normalize(raw_stake)
    active_stake = normalize(np.where(active & permit, stake, 0.0))

    weights = np.clip(np.asarray(inputs.weights, dtype=np.float64), 0.0, None)
    weights[~permit, :] = 0.0
    np.fill_diagonal(weights, 0.0)
    weights[outdated] = 0.0
    weights = row_normalize(weights)

    preranks = weights.T @ active_stake
    consensus = weighted_median_col(active_stake, weights, params.kappa)
    clipped = np.minimum(weights, consensus[None, :])
    validator_trust = clipped.sum(axis=1)
    ranks = clipped.T @ active_stake
    trust = np.divide(ranks, preranks, out=np.zeros(n), where=preranks > 0)
    incentive = normalize(ranks)

    penalty = float(np.clip(params.bonds_penalty, 0.0, 1.0))
    weights_for_bonds = weights + penalty * (clipped - weights)
    old_bonds = np.clip(np.asarray(inputs.bonds, dtype=np.float64), 0.0, None)
    old_bonds[:, recently_registered] = 0.0
    fixed_alpha = 1.0 - float(params.bonds_moving_average)

    if params.yuma3_enabled:
        old_bonds = np.clip(old_bonds, 0.0, 1.0)
        if params.liquid_alpha_enabled and np.any(consensus != 0):
            alpha: np.ndarray | float = liquid_alpha(
                weights_for_bonds,
                old_bonds,
                consensus,
                params.alpha_low,
                params.alpha_high,
                params.alpha_sigmoid_steepness,
            )
        else:
            alpha = fixed_alpha
        bonds = np.clip(alpha * weights_for_bonds + (1.0 - alpha) * old_bonds, 0.0, 1.0)
        per_validator = (col_normalize(bonds) * incentive[None, :]).sum(axis=1)
        dividends = normalize(per_validator * active_stake)
    else:
        delta = col_normalize(weights_for_bonds * active_stake[:, None])
        bonds = col_normalize(fixed_alpha * delta + (1.0 - fixed_alpha) * col_normalize(old_bonds))
        dividends = normalize(bonds @ incentive)

    share = float(np.clip(params.validator_emission_share, 0.0, 1.0))
    server_part = (1.0 - share) * incentive
    validator_part = share * dividends
    emission_sum = float(server_part.sum() + validator_part.sum())
    if emission_sum > 0:
        norm_server = server_part / emission_sum
        norm_validator = validator_part / emission_sum
        pruning = normalize(norm_server + norm_validator)
    else:  # no weights set, outdated weights or self-weights only
        norm_server = np.zeros(n)
        norm_validator = active_stake.copy() if active_stake.sum() > 0 else stake.copy()
        pruning = norm_validator.copy()

    total = float(inputs.emission)
    return EpochOutputs(
        active=active,
        stake=active_stake,
        rank=incentive.copy(),  # subtensor stores ranks after normalisation
        trust=trust,
        consensus=consensus,
        incentive=incentive,
        dividends=dividends,
        validator_trust=validator_trust,
        pruning_scores=pruning,
        server_emission=norm_server * total,
        validator_emission=norm_validator * total,
        bonds=bonds,
        weights=weights,
        clipped_weights=clipped,
    )
