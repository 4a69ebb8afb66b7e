"""Whole federated runs on a tiny random Llama with LoRA: held-out loss falls on a learnable
task under DP, runs are reproducible, and the central budget stops the run with a message."""

import math

import pytest

from mycel_subnet.federated.client import ClientConfig
from mycel_subnet.federated.server import ServerConfig
from mycel_subnet.federated.simulation import run_simulation
from mycel_subnet.federated.toy import pattern_corpus

from .conftest import PATTERN

CLIENTS = {f"c{i}": pattern_corpus(PATTERN, 32, seed=i) for i in range(4)}
HELDOUT = pattern_corpus(PATTERN, 16, seed=100)


def _client_config(**overrides):
    base = {"noise_multiplier": 0.5, "lr": 1.0, "batch_size": 16, "local_steps": 10}
    base.update(overrides)
    return ClientConfig(seq_len=16, use_presidio=False, **base)


def test_rounds_lower_heldout_loss_under_dp(make_model, tokenizer):
    result = run_simulation(
        make_model(),
        tokenizer,
        CLIENTS,
        HELDOUT,
        rounds=3,
        client_config=_client_config(),
        server_config=ServerConfig(clients_per_round=3, clip_norm=50.0),
    )
    losses = [r.heldout_loss for r in result.rounds]
    assert result.stopped is None and len(losses) == 3
    assert losses[-1] < result.initial_loss - 0.15
    for record in result.rounds:
        assert len(record.sampled) == 3 and set(record.hashes) == set(record.sampled)
        assert all(0 < e < math.inf for e in record.client_epsilon.values())
    # a client sampled twice has spent more than one sampled once
    counts = {}
    for record in result.rounds:
        for cid, eps in record.client_epsilon.items():
            counts.setdefault(cid, []).append(eps)
    assert any(len(v) > 1 and v[-1] > v[0] for v in counts.values())


def test_runs_are_reproducible(make_model, tokenizer):
    def run():
        return run_simulation(
            make_model(),
            tokenizer,
            CLIENTS,
            HELDOUT,
            rounds=1,
            client_config=_client_config(local_steps=3),
            server_config=ServerConfig(clients_per_round=2, clip_norm=50.0, seed=7),
        )

    first, second = run(), run()
    assert first.rounds[0].hashes == second.rounds[0].hashes
    assert first.rounds[0].heldout_loss == pytest.approx(second.rounds[0].heldout_loss)


def test_central_budget_stops_the_run(make_model, tokenizer):
    server = ServerConfig(
        clients_per_round=2,
        clip_norm=1.0,
        noise_multiplier=0.8,
        weighting="uniform",
        epsilon_budget=12.0,
    )
    result = run_simulation(
        make_model(),
        tokenizer,
        CLIENTS,
        HELDOUT,
        rounds=50,
        client_config=_client_config(local_steps=1),
        server_config=server,
    )
    assert result.stopped is not None and "over the budget 12" in result.stopped
    assert 1 <= len(result.rounds) < 50
    assert result.rounds[-1].central_epsilon <= 12.0
