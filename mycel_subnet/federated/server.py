"""The aggregator: samples K of N clients per round (seeded), checks each update, bounds its
norm, averages (FedAvg, or DP-FedAvg with central Gaussian noise), applies the result to the
global adapter, and keeps a client-level RDP ledger that stops rounds at the epsilon budget."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from mycel_subnet.federated.accounting import RdpLedger
from mycel_subnet.federated.adapter import AdapterState, add, l2_norm
from mycel_subnet.federated.aggregate import (
    UpdateRejected,
    add_gaussian_noise,
    central_noise_std,
    clip_update,
    validate_update,
    weighted_mean,
)
from mycel_subnet.federated.hashing import contribution_hash
from mycel_subnet.federated.update import ClientUpdate


@dataclass(frozen=True)
class ServerConfig:
    """``clip_norm`` S bounds every update's L2 norm (always on: it is what defuses poisoned
    updates). ``noise_multiplier`` z > 0 turns on DP-FedAvg: equal weights, noise std z*S/K,
    and the ledger accounts client-level epsilon at ``delta`` against ``epsilon_budget``."""

    clients_per_round: int
    clip_norm: float = 1.0
    noise_multiplier: float = 0.0
    delta: float = 1e-5
    epsilon_budget: float | None = None
    weighting: str = "examples"  # "examples" (FedAvg) or "uniform"
    server_lr: float = 1.0
    seed: int = 0
    max_update_bytes: int | None = None

    def __post_init__(self) -> None:
        if self.clients_per_round < 1:
            raise ValueError(f"clients_per_round must be >= 1, got {self.clients_per_round}")
        if not self.clip_norm > 0 or not self.server_lr > 0:
            raise ValueError("clip_norm and server_lr must be > 0")
        if self.noise_multiplier < 0:
            raise ValueError(f"noise_multiplier must be >= 0, got {self.noise_multiplier}")
        if self.weighting not in ("examples", "uniform"):
            raise ValueError(f"weighting must be 'examples' or 'uniform', got {self.weighting!r}")
        if self.noise_multiplier > 0 and self.weighting != "uniform":
            raise ValueError("DP-FedAvg (noise_multiplier > 0) needs weighting='uniform'")
        if self.epsilon_budget is not None and self.noise_multiplier == 0:
            raise ValueError("a central epsilon_budget needs noise_multiplier > 0")


@dataclass
class RoundReport:
    """What happened in one aggregation: who was used, who was refused and why, who was clipped
    (with the norm they sent), the applied update's norm and the central epsilon so far."""

    round: int
    accepted: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)
    clipped: dict[str, float] = field(default_factory=dict)
    hashes: dict[str, str] = field(default_factory=dict)
    update_norm: float = 0.0
    central_epsilon: float = 0.0


class FederatedServer:
    """Holds the global adapter and the client-level privacy ledger."""

    def __init__(self, global_state: AdapterState, config: ServerConfig) -> None:
        if not global_state:
            raise ValueError("the global adapter has no tensors")
        self.global_state = {
            k: v.detach().to("cpu", torch.float32).clone() for k, v in global_state.items()
        }
        self.config = config
        self.ledger = RdpLedger(delta=config.delta, epsilon_budget=config.epsilon_budget)
        self.rounds_done = 0
        self._noise = torch.Generator().manual_seed(config.seed)

    def sample_clients(self, client_ids: Sequence[str]) -> list[str]:
        """K distinct clients for the next round, reproducible from (seed, round)."""
        ids = sorted(set(client_ids))
        k = self.config.clients_per_round
        if len(ids) < k:
            raise ValueError(f"need at least {k} clients to sample from, have {len(ids)}")
        rng = random.Random(f"{self.config.seed}:{self.rounds_done + 1}")
        return sorted(rng.sample(ids, k))

    def sample_rate(self, population: int) -> float:
        return min(1.0, self.config.clients_per_round / population)

    def check_budget(self, population: int) -> float:
        """Raise PrivacyBudgetExceeded if the next round would pass the central budget; returns
        the epsilon after it (inf when no central noise is added)."""
        z = self.config.noise_multiplier
        return self.ledger.check(
            z, self.sample_rate(population), 1, f"round {self.rounds_done + 1}"
        )

    def aggregate(self, updates: Sequence[ClientUpdate], population: int) -> RoundReport:
        """Validate, clip, average and apply the round's updates. A malformed update is left out
        and reported; if none is usable the global adapter is unchanged."""
        self.check_budget(population)
        cfg = self.config
        report = RoundReport(round=self.rounds_done + 1)
        clean: list[AdapterState] = []
        weights: list[float] = []
        for item in updates:
            try:
                delta = self._check(item)
            except UpdateRejected as err:
                report.rejected[item.client_id] = str(err)
                continue
            clipped, norm = clip_update(delta, cfg.clip_norm)
            if norm > cfg.clip_norm:
                report.clipped[item.client_id] = norm
            clean.append(clipped)
            weights.append(float(item.num_examples) if cfg.weighting == "examples" else 1.0)
            report.accepted.append(item.client_id)
            report.hashes[item.client_id] = item.contribution_hash
        if clean:
            mean = weighted_mean(clean, weights)
            if cfg.noise_multiplier > 0:
                # noise is calibrated for the planned K: fewer survivors must not weaken it
                slots = [1.0] * max(len(clean), cfg.clients_per_round)
                std = central_noise_std(cfg.noise_multiplier, cfg.clip_norm, slots)
                mean = {k: v * len(clean) / len(slots) for k, v in mean.items()}
                mean = add_gaussian_noise(mean, std, self._noise)
            self.global_state = add(self.global_state, mean, cfg.server_lr)
            report.update_norm = l2_norm(mean)
        if cfg.noise_multiplier > 0:
            self.ledger.record(cfg.noise_multiplier, self.sample_rate(population), 1)
        self.rounds_done += 1
        report.central_epsilon = self.ledger.epsilon() if cfg.noise_multiplier > 0 else math.inf
        return report

    def _check(self, item: ClientUpdate) -> AdapterState:
        delta = validate_update(
            item.client_id, item.delta, self.global_state, max_bytes=self.config.max_update_bytes
        )
        if not (isinstance(item.num_examples, int) and item.num_examples > 0):
            raise UpdateRejected(
                item.client_id, f"num_examples must be > 0, got {item.num_examples!r}"
            )
        if contribution_hash(delta) != item.contribution_hash:
            raise UpdateRejected(item.client_id, "contribution hash does not match its tensors")
        return delta
