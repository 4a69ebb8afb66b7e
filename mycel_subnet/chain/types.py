"""Plain value types the neurons use to see the chain.

They are deliberately free of bittensor imports so the miner's transport, the validator's
scoring and tests can work with snapshots without touching the SDK. The chain layer
(`mycel_subnet.chain.port`) fills them from the SDK's decoded metagraph.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


@dataclass(frozen=True)
class NeuronInfo:
    """One neuron of the subnet as the metagraph shows it."""

    uid: int
    hotkey: str
    coldkey: str
    stake: float  # total stake in TAO (alpha + tao-weighted, as the SDK reports it)
    validator_permit: bool
    axon_ip: str = "0.0.0.0"
    axon_port: int = 0
    active: bool = True
    incentive: float = 0.0
    trust: float = 0.0
    consensus: float = 0.0
    validator_trust: float = 0.0
    dividends: float = 0.0
    emission: float = 0.0
    rank: float = 0.0
    last_update: int = 0

    @property
    def is_serving(self) -> bool:
        """A neuron serves when it has published a routable endpoint."""
        return self.axon_port > 0 and self.axon_ip not in ("0.0.0.0", "")

    @property
    def endpoint(self) -> str:
        return f"{self.axon_ip}:{self.axon_port}"


@dataclass(frozen=True)
class MetagraphSnapshot:
    """The subnet at one block. Immutable so it can be swapped atomically between threads."""

    netuid: int
    block: int
    neurons: tuple[NeuronInfo, ...] = ()
    _by_hotkey: dict[str, NeuronInfo] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_hotkey", {n.hotkey: n for n in self.neurons})

    def by_hotkey(self, hotkey: str) -> NeuronInfo | None:
        """The neuron registered with this hotkey, or None (never raises)."""
        return self._by_hotkey.get(hotkey)

    def by_uid(self, uid: int) -> NeuronInfo | None:
        for neuron in self.neurons:
            if neuron.uid == uid:
                return neuron
        return None

    @property
    def n(self) -> int:
        return len(self.neurons)


@dataclass(frozen=True)
class Hyperparameters:
    """The subnet hyperparameters the neurons act on."""

    tempo: int
    weights_rate_limit: int
    weights_version: int
    max_weight_limit: float  # as a fraction 0..1
    min_allowed_weights: int
    max_allowed_uids: int
    immunity_period: int
    commit_reveal_enabled: bool = False
    serving_rate_limit: int = 0
    min_stake_for_permit: float = 0.0


class ChainErrorKind(enum.StrEnum):
    """Why a chain write failed, in terms a neuron can act on."""

    RATE_LIMITED = "rate_limited"
    NOT_REGISTERED = "not_registered"
    NO_VALIDATOR_PERMIT = "no_validator_permit"
    STALE_VERSION_KEY = "stale_version_key"
    INSUFFICIENT_BALANCE = "insufficient_balance"
    INVALID_WEIGHTS = "invalid_weights"
    UNREACHABLE = "unreachable"
    OTHER = "other"


@dataclass(frozen=True)
class ChainResult:
    """Outcome of a chain write: success, or a typed reason and a one-line message."""

    ok: bool
    message: str = ""
    error: ChainErrorKind | None = None
    block: int | None = None

    @classmethod
    def success(cls, message: str = "", block: int | None = None) -> ChainResult:
        return cls(ok=True, message=message, block=block)

    @classmethod
    def failure(cls, error: ChainErrorKind, message: str) -> ChainResult:
        return cls(ok=False, message=message, error=error)
