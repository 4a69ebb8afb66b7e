"""A federated client: fine-tunes only the LoRA tensors of a PEFT model on its private texts
with DP-SGD (Opacus: Poisson sampling, per-example clipping to C, Gaussian noise), and returns
the adapter delta against the round's global adapter, the epsilon its data has spent so far
(RDP, across all rounds) and the contribution hash of the delta."""

from __future__ import annotations

import math
import secrets
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch.utils.data import DataLoader

from mycel_subnet.federated.accounting import RdpLedger, noise_for_target
from mycel_subnet.federated.adapter import (
    AdapterState,
    adapter_state,
    load_adapter_state,
    subtract,
)
from mycel_subnet.federated.data import PreparedData, per_example_loss, prepare
from mycel_subnet.federated.hashing import contribution_hash
from mycel_subnet.federated.update import ClientUpdate


@dataclass(frozen=True)
class ClientConfig:
    """DP-SGD settings. Give ``noise_multiplier`` directly, or ``target_epsilon`` and the noise
    is chosen so that ``planned_rounds`` rounds of ``local_steps`` steps spend at most that.
    ``epsilon_budget`` (defaults to target_epsilon) makes the client refuse a round that would
    exceed it. ``batch_size`` is the expected Poisson batch; the sample rate is the one Opacus
    really uses, 1 / ceil(n / batch_size) (see ``opacus_sample_rate``). ``seed`` None draws a
    fresh secret seed every round: a known seed would let anyone replay the noise."""

    local_steps: int = 10
    batch_size: int = 8
    lr: float = 0.05
    max_grad_norm: float = 1.0
    noise_multiplier: float | None = None
    target_epsilon: float | None = None
    planned_rounds: int = 1
    delta: float = 1e-5
    epsilon_budget: float | None = None
    seq_len: int = 32
    seed: int | None = 0
    use_presidio: bool = True

    def __post_init__(self) -> None:
        if self.local_steps < 1 or self.batch_size < 1 or self.planned_rounds < 1:
            raise ValueError("local_steps, batch_size and planned_rounds must be >= 1")
        if not self.lr > 0 or not self.max_grad_norm > 0:
            raise ValueError(
                f"lr and max_grad_norm must be > 0, got {self.lr}, {self.max_grad_norm}"
            )
        if (self.noise_multiplier is None) == (self.target_epsilon is None):
            raise ValueError("give exactly one of noise_multiplier or target_epsilon")
        if self.noise_multiplier is not None and self.noise_multiplier < 0:
            raise ValueError(f"noise_multiplier must be >= 0, got {self.noise_multiplier}")


def opacus_sample_rate(examples: int, batch_size: int) -> float:
    """The Poisson rate Opacus samples with: PrivacyEngine.make_private takes
    1 / len(DataLoader(data, batch_size)) = 1 / ceil(n / batch_size), not batch_size / n
    (20 examples at batch 8 are sampled at 1/3, not 0.4)."""
    if examples < 1 or batch_size < 1:
        raise ValueError(f"need examples >= 1 and batch_size >= 1, got {examples}, {batch_size}")
    return 1.0 / math.ceil(examples / batch_size)


class FederatedClient:
    """One node's private data and DP state; ``train`` runs one round on a PEFT model.

    The model may be shared between simulated clients: ``train`` loads the global adapter
    first and removes Opacus's hooks when it is done."""

    def __init__(
        self,
        client_id: str,
        model: torch.nn.Module,
        tokenizer: Any,
        texts: Sequence[str],
        config: ClientConfig,
    ) -> None:
        self.client_id = client_id
        self.model = model
        self.data: PreparedData = prepare(
            texts, tokenizer, config.seq_len, use_presidio=config.use_presidio
        )
        self.ledger = RdpLedger(delta=config.delta)
        self.rounds_done = 0
        self.reconfigure(config)

    def reconfigure(self, config: ClientConfig) -> None:
        """Take new DP settings (a new round's) while keeping the data and the ledger: every
        round's spend composes in the same ledger, whatever settings it ran with."""
        if config.seq_len != self.data.dataset.tensors[0].shape[1]:
            raise ValueError(f"seq_len {config.seq_len} differs from the prepared data's")
        if self.ledger.history and config.delta != self.ledger.delta:
            raise ValueError(
                f"delta {config.delta:g} differs from the ledger's {self.ledger.delta:g}"
            )
        self.config = config
        n = len(self.data.dataset)
        self.sample_rate = opacus_sample_rate(n, config.batch_size)
        if config.noise_multiplier is not None:
            self.noise_multiplier = float(config.noise_multiplier)
        else:
            steps = config.local_steps * config.planned_rounds
            self.noise_multiplier = noise_for_target(
                config.target_epsilon, config.delta, self.sample_rate, steps
            )
        budget = (
            config.epsilon_budget if config.epsilon_budget is not None else config.target_epsilon
        )
        if budget is not None and not budget > 0:
            raise ValueError(f"epsilon_budget must be > 0, got {budget!r}")
        self.ledger.delta = config.delta
        self.ledger.epsilon_budget = budget

    @property
    def epsilon(self) -> float:
        """Epsilon this client's data has spent over all rounds so far."""
        return self.ledger.epsilon()

    def train(self, global_state: AdapterState) -> ClientUpdate:
        """One round of local DP-SGD from ``global_state``; refuses past the epsilon budget."""
        cfg = self.config
        what = f"client {self.client_id} round {self.rounds_done + 1}"
        self.ledger.check(self.noise_multiplier, self.sample_rate, cfg.local_steps, what)
        load_adapter_state(self.model, global_state)
        losses, sizes, history = self._dp_sgd()
        used = {rate for _, rate, _ in history}
        if used != {self.sample_rate}:
            raise RuntimeError(
                f"Opacus sampled at {sorted(used)} but the client accounted {self.sample_rate}"
            )
        for noise, rate, steps in history:
            self.ledger.record(noise, rate, steps)
        self.rounds_done += 1
        delta = subtract(adapter_state(self.model), global_state)
        return ClientUpdate(
            client_id=self.client_id,
            delta=delta,
            num_examples=len(self.data.dataset),
            steps=len(sizes),
            noise_multiplier=self.noise_multiplier,
            sample_rate=self.sample_rate,
            epsilon=self.ledger.epsilon(),
            dp_delta=cfg.delta,
            train_loss=sum(losses) / max(1, len(losses)),
            contribution_hash=contribution_hash(delta),
            batch_sizes=tuple(sizes),
        )

    def _dp_sgd(self) -> tuple[list[float], list[int], list[tuple[float, float, int]]]:
        """Run local_steps DP-SGD steps; returns losses, Poisson batch sizes, accountant history."""
        from opacus import PrivacyEngine

        cfg = self.config
        seed = secrets.randbits(62) if cfg.seed is None else cfg.seed * 1_000_003 + self.rounds_done
        torch.manual_seed(seed)  # Poisson sampling draws from torch's global generator
        params = [p for p in self.model.parameters() if p.requires_grad]
        optimizer = torch.optim.SGD(params, lr=cfg.lr)
        loader = DataLoader(self.data.dataset, batch_size=cfg.batch_size)
        was_training = self.model.training
        self.model.train()
        with warnings.catch_warnings():
            # secure_mode needs torchcsprng (not installed); transformers' deprecation is noise
            warnings.filterwarnings("ignore", message="Secure RNG turned off")
            warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing")
            engine = PrivacyEngine(accountant="rdp")
            dp_model, dp_optimizer, dp_loader = engine.make_private(
                module=self.model,
                optimizer=optimizer,
                data_loader=loader,
                noise_multiplier=self.noise_multiplier,
                max_grad_norm=cfg.max_grad_norm,
                poisson_sampling=True,
                noise_generator=torch.Generator().manual_seed(seed),
            )
        losses: list[float] = []
        sizes: list[int] = []
        try:
            with warnings.catch_warnings():
                # frozen embeddings: no module input needs a gradient, Opacus's hooks still fire
                warnings.filterwarnings("ignore", message="Full backward hook is firing")
                self._steps(dp_model, dp_optimizer, dp_loader, losses, sizes)
        finally:
            dp_optimizer.zero_grad(set_to_none=True)
            dp_model._close()
            self.model.train(was_training)
        return losses, sizes, list(engine.accountant.history)

    def _steps(
        self, dp_model: Any, dp_optimizer: Any, dp_loader: Any, losses: list, sizes: list
    ) -> None:
        """Loop over Poisson batches (re-iterating the loader) until local_steps are done."""
        while len(sizes) < self.config.local_steps:
            for ids, mask in dp_loader:
                dp_optimizer.zero_grad(set_to_none=True)
                if len(ids):
                    loss = per_example_loss(dp_model, ids, mask).mean()
                    loss.backward()
                    losses.append(float(loss.detach()))
                else:
                    # an empty Poisson batch still takes a (noise-only) step, as DP-SGD says;
                    # the model cannot run on zero rows, so give Opacus empty per-sample grads
                    for p in dp_optimizer.params:
                        p.grad_sample = torch.zeros((0, *p.shape), dtype=p.dtype)
                dp_optimizer.step()
                sizes.append(len(ids))
                if len(sizes) == self.config.local_steps:
                    return
