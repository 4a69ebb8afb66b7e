"""A deterministic in-process federation for tests and benchmarks: N clients with their own
private texts share one PEFT model object (they train one after another), a server runs M
rounds, and every round reports held-out loss, epsilon spent and contribution hashes. Real
nodes would exchange ClientUpdate messages over the network instead (not built yet)."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import torch

from mycel_subnet.federated.adapter import adapter_state, load_adapter_state
from mycel_subnet.federated.client import ClientConfig, FederatedClient
from mycel_subnet.federated.data import mean_loss, prepare
from mycel_subnet.federated.server import FederatedServer, RoundReport, ServerConfig
from mycel_subnet.privacy.dp import PrivacyBudgetExceeded


@dataclass
class RoundRecord:
    """One round's outcome as the runner saw it."""

    round: int
    sampled: list[str]
    heldout_loss: float
    client_epsilon: dict[str, float]
    central_epsilon: float
    hashes: dict[str, str]
    report: RoundReport
    refused: dict[str, str] = field(default_factory=dict)
    client_seconds: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass
class SimulationResult:
    initial_loss: float
    rounds: list[RoundRecord]
    stopped: str | None
    final_state: dict[str, torch.Tensor]


def run_simulation(
    model: torch.nn.Module,
    tokenizer: Any,
    client_texts: Mapping[str, Sequence[str]],
    heldout_texts: Sequence[str],
    *,
    rounds: int,
    client_config: ClientConfig,
    server_config: ServerConfig,
) -> SimulationResult:
    """Run up to ``rounds`` rounds; stops early, with the reason in ``stopped``, when the
    central budget would be exceeded or every sampled client refuses (its own budget)."""
    if rounds < 1:
        raise ValueError(f"rounds must be >= 1, got {rounds}")
    torch.manual_seed(server_config.seed)
    clients = {
        cid: FederatedClient(
            cid,
            model,
            tokenizer,
            texts,
            replace(client_config, seed=client_config.seed + i),
        )
        for i, (cid, texts) in enumerate(sorted(client_texts.items()))
    }
    heldout = prepare(
        heldout_texts, tokenizer, client_config.seq_len, use_presidio=client_config.use_presidio
    ).dataset
    server = FederatedServer(adapter_state(model), server_config)
    load_adapter_state(model, server.global_state)
    initial = mean_loss(model, heldout)
    records: list[RoundRecord] = []
    stopped = None
    for _ in range(rounds):
        try:
            server.check_budget(len(clients))
        except PrivacyBudgetExceeded as err:
            stopped = str(err)
            break
        started = time.perf_counter()
        record = _one_round(server, clients, model, heldout)
        record.seconds = time.perf_counter() - started
        records.append(record)
        if not record.report.accepted:
            stopped = f"round {record.round}: no usable update ({record.refused or 'all rejected'})"
            break
    return SimulationResult(initial, records, stopped, server.global_state)


def _one_round(
    server: FederatedServer,
    clients: Mapping[str, FederatedClient],
    model: torch.nn.Module,
    heldout: Any,
) -> RoundRecord:
    sampled = server.sample_clients(list(clients))
    updates, refused, seconds = [], {}, {}
    for cid in sampled:
        started = time.perf_counter()
        try:
            updates.append(clients[cid].train(server.global_state))
        except PrivacyBudgetExceeded as err:
            refused[cid] = str(err)
        seconds[cid] = time.perf_counter() - started
    report = server.aggregate(updates, population=len(clients))
    load_adapter_state(model, server.global_state)
    return RoundRecord(
        round=report.round,
        sampled=sampled,
        heldout_loss=mean_loss(model, heldout),
        client_epsilon={u.client_id: u.epsilon for u in updates},
        central_epsilon=report.central_epsilon,
        hashes=dict(report.hashes),
        report=report,
        refused=refused,
        client_seconds=seconds,
    )
