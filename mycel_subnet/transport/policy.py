"""Who may call a miner: deny list, allow list, registered, validator permit, minimum stake.

The checks run in that order against a cached metagraph snapshot. Looking up a hotkey that is
not registered returns a refusal, never an exception (the v8 template's blacklist crashed on
``hotkeys.index``).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from mycel_subnet.chain.types import MetagraphSnapshot


class Refusal(enum.StrEnum):
    DENIED = "denied"
    NOT_REGISTERED = "not_registered"
    NO_VALIDATOR_PERMIT = "no_validator_permit"
    INSUFFICIENT_STAKE = "insufficient_stake"


# Refusals that a fresher metagraph could turn into an admission.
CHAIN_DEPENDENT = frozenset(
    {Refusal.NOT_REGISTERED, Refusal.NO_VALIDATOR_PERMIT, Refusal.INSUFFICIENT_STAKE}
)


@dataclass(frozen=True)
class Decision:
    """The policy's answer; ``stake`` orders admission when the miner is saturated."""

    allowed: bool
    refusal: Refusal | None = None
    detail: str = ""
    stake: float = 0.0


class CallerPolicy:
    """Decides per hotkey; cheap enough to run on every request."""

    def __init__(
        self,
        *,
        deny: Iterable[str] = (),
        allow: Iterable[str] = (),
        require_validator_permit: bool = True,
        min_stake: float = 0.0,
    ) -> None:
        self.deny = frozenset(deny)
        self.allow = frozenset(allow)
        self.require_validator_permit = require_validator_permit
        self.min_stake = float(min_stake)

    def decide(self, hotkey: str, graph: MetagraphSnapshot | None) -> Decision:
        neuron = graph.by_hotkey(hotkey) if graph is not None else None
        stake = neuron.stake if neuron is not None else 0.0
        if hotkey in self.deny:
            return Decision(False, Refusal.DENIED, "this hotkey is on the miner's deny list")
        if hotkey in self.allow:
            return Decision(True, stake=stake)
        if neuron is None:
            where = f"subnet {graph.netuid}" if graph is not None else "the subnet"
            return Decision(False, Refusal.NOT_REGISTERED, f"hotkey is not registered on {where}")
        if self.require_validator_permit and not neuron.validator_permit:
            return Decision(
                False, Refusal.NO_VALIDATOR_PERMIT, f"uid {neuron.uid} has no validator permit"
            )
        if stake < self.min_stake:
            return Decision(
                False,
                Refusal.INSUFFICIENT_STAKE,
                f"uid {neuron.uid} has stake {stake:.4g}; this miner needs {self.min_stake:.4g}",
                stake=stake,
            )
        return Decision(True, stake=stake)
