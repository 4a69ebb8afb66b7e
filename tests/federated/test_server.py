"""The aggregator: seeded sampling, exact FedAvg without noise, malformed updates left out
with a named reason, poisoned updates clipped, DP-FedAvg noise and the central budget stop."""

import math

import pytest
import torch

from mycel_subnet.federated.hashing import contribution_hash
from mycel_subnet.federated.server import FederatedServer, ServerConfig
from mycel_subnet.federated.update import ClientUpdate
from mycel_subnet.privacy.dp import PrivacyBudgetExceeded

GLOBAL = {"m.lora_A.weight": torch.tensor([1.0, 1.0]), "m.lora_B.weight": torch.tensor([0.0])}


def _update(cid, a, b, n=1, hash_override=None):
    delta = {"m.lora_A.weight": torch.tensor(a), "m.lora_B.weight": torch.tensor(b)}
    return ClientUpdate(
        client_id=cid,
        delta=delta,
        num_examples=n,
        steps=1,
        noise_multiplier=1.0,
        sample_rate=0.1,
        epsilon=1.0,
        dp_delta=1e-5,
        train_loss=0.0,
        contribution_hash=hash_override or contribution_hash(delta),
        batch_sizes=(1,),
    )


def test_sampling_is_seeded_and_distinct():
    ids = [f"c{i}" for i in range(10)]
    first = FederatedServer(GLOBAL, ServerConfig(clients_per_round=4, seed=3)).sample_clients(ids)
    again = FederatedServer(GLOBAL, ServerConfig(clients_per_round=4, seed=3)).sample_clients(ids)
    other = FederatedServer(GLOBAL, ServerConfig(clients_per_round=4, seed=4)).sample_clients(ids)
    assert first == again and len(set(first)) == 4 and first != other
    with pytest.raises(ValueError, match="need at least 4 clients"):
        FederatedServer(GLOBAL, ServerConfig(clients_per_round=4)).sample_clients(ids[:3])


def test_round_applies_exact_fedavg_without_noise():
    server = FederatedServer(GLOBAL, ServerConfig(clients_per_round=2, clip_norm=100.0))
    report = server.aggregate(
        [_update("a", [1.0, 0.0], [3.0], n=1), _update("b", [4.0, 3.0], [0.0], n=2)],
        population=2,
    )
    # mean = (1*[1,0] + 2*[4,3]) / 3 = [3, 2]; B: (3 + 0) / 3 = 1
    assert torch.allclose(server.global_state["m.lora_A.weight"], torch.tensor([4.0, 3.0]))
    assert torch.allclose(server.global_state["m.lora_B.weight"], torch.tensor([1.0]))
    assert report.accepted == ["a", "b"] and not report.clipped and not report.rejected
    assert report.hashes["a"] == contribution_hash(_update("a", [1.0, 0.0], [3.0]).delta)
    assert math.isinf(report.central_epsilon)  # no central noise, no central guarantee


def test_malformed_update_is_left_out_with_named_reason():
    server = FederatedServer(GLOBAL, ServerConfig(clients_per_round=2, clip_norm=100.0))
    bad = _update("mallory", [1.0, 0.0], [0.0])
    bad.delta["m.lora_B.weight"] = torch.tensor([math.inf])
    forged = _update("eve", [1.0, 1.0], [1.0], hash_override="0" * 64)
    report = server.aggregate([_update("a", [2.0, 2.0], [2.0]), bad, forged], population=3)
    assert report.accepted == ["a"]
    assert "'mallory'" in report.rejected["mallory"]
    assert "'m.lora_B.weight'" in report.rejected["mallory"]
    assert "hash does not match" in report.rejected["eve"]
    assert torch.allclose(server.global_state["m.lora_A.weight"], torch.tensor([3.0, 3.0]))


def test_poisoned_update_is_clipped_to_the_server_bound():
    server = FederatedServer(GLOBAL, ServerConfig(clients_per_round=2, clip_norm=1.0))
    honest = _update("a", [0.0, 0.6], [0.0])
    poisoned = _update("evil", [3e6, 4e6], [0.0])
    report = server.aggregate([honest, poisoned], population=2)
    assert report.clipped == {"evil": pytest.approx(5e6)}
    # evil contributes its clipped [0.6, 0.8]; mean with [0, 0.6] -> [0.3, 0.7]
    assert torch.allclose(server.global_state["m.lora_A.weight"], torch.tensor([1.3, 1.7]))
    assert report.update_norm <= 1.0


def test_dp_fedavg_adds_calibrated_noise_and_stops_at_budget():
    config = ServerConfig(
        clients_per_round=2,
        clip_norm=1.0,
        noise_multiplier=1.0,
        weighting="uniform",
        epsilon_budget=3.0,
        seed=1,
    )
    server = FederatedServer({"w": torch.zeros(4000)}, config)
    zero = {"w": torch.zeros(4000)}

    def update(cid):
        return ClientUpdate(
            cid, zero, 1, 1, 1.0, 1.0, 1.0, 1e-5, 0.0, contribution_hash(zero), (1,)
        )

    report = server.aggregate([update("a"), update("b")], population=20)
    # std z*S/K = 0.5 per coordinate
    assert server.global_state["w"].std().item() == pytest.approx(0.5, rel=0.05)
    eps = [report.central_epsilon]
    with pytest.raises(
        PrivacyBudgetExceeded, match=r"round \d+ would bring epsilon to .* budget 3"
    ):
        for _ in range(200):
            eps.append(server.aggregate([update("a"), update("b")], population=20).central_epsilon)
    assert eps == sorted(eps) and eps[-1] <= 3.0 and len(eps) > 2
    assert server.ledger.epsilon() == pytest.approx(eps[-1])


def test_config_errors():
    with pytest.raises(ValueError, match="needs weighting='uniform'"):
        ServerConfig(clients_per_round=2, noise_multiplier=1.0)
    with pytest.raises(ValueError, match="needs noise_multiplier > 0"):
        ServerConfig(clients_per_round=2, epsilon_budget=1.0)
