"""The message a client sends after a round: the LoRA delta and its metadata. Texts, token ids
and per-example gradients never leave the client."""

from __future__ import annotations

from dataclasses import dataclass

from mycel_subnet.federated.adapter import AdapterState


@dataclass(frozen=True)
class ClientUpdate:
    """A DP adapter delta. ``epsilon`` is what the client's data has spent over all its rounds
    (RDP at ``dp_delta``); ``contribution_hash`` is sha256 of the delta's canonical bytes."""

    client_id: str
    delta: AdapterState
    num_examples: int
    steps: int
    noise_multiplier: float
    sample_rate: float
    epsilon: float
    dp_delta: float
    train_loss: float
    contribution_hash: str
    batch_sizes: tuple[int, ...]
