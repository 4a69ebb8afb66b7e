"""Federated learning with differential privacy: clients fine-tune LoRA adapters on their own
PII-free interactions with DP-SGD and share only adapter deltas; the server clips, averages
(DP-FedAvg) and stops at the epsilon budget. See docs/federated.md."""

from mycel_subnet.federated.accounting import RdpLedger, noise_for_target
from mycel_subnet.federated.aggregate import UpdateRejected, clip_update, validate_update
from mycel_subnet.federated.client import ClientConfig, FederatedClient
from mycel_subnet.federated.hashing import contribution_hash
from mycel_subnet.federated.server import FederatedServer, RoundReport, ServerConfig
from mycel_subnet.federated.simulation import SimulationResult, run_simulation
from mycel_subnet.federated.update import ClientUpdate

__all__ = [
    "ClientConfig",
    "ClientUpdate",
    "FederatedClient",
    "FederatedServer",
    "RdpLedger",
    "RoundReport",
    "ServerConfig",
    "SimulationResult",
    "UpdateRejected",
    "clip_update",
    "contribution_hash",
    "noise_for_target",
    "run_simulation",
    "validate_update",
]
