"""Typed views of what the contracts return (U128 amounts arrive as decimal strings)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

PPM = 1_000_000
MAX_U128 = (1 << 128) - 1


def _u128(value: Any) -> Any:
    if isinstance(value, (bool, float)):
        raise ValueError("U128 amounts are decimal strings or integers")
    if isinstance(value, str):
        if not (value.isascii() and value.isdigit()):
            raise ValueError(f"not a decimal U128 string: {value!r}")
        return int(value)
    return value


U128 = Annotated[int, BeforeValidator(_u128), Field(ge=0, le=MAX_U128)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class PatternEntry(_Model):
    """One registered pattern, as PatternRegistry stores it."""

    id: int
    creator: str
    pattern_hash: str
    metadata_cid: str
    domain: str
    price_per_use: U128
    registered_at: int
    usage_count: int
    total_earned: U128
    rating_count: int
    success_count: int
    reputation_ppm: int
    # Where its reputation started (its creator's standing at registration), and what the
    # validators' attestations say: "unverified" until attested, then "verified" or
    # "quarantined" (hidden from find_patterns, with the reason). Defaults: older records.
    base_reputation_ppm: int = 250_000
    status: Literal["unverified", "verified", "quarantined"] = "unverified"
    attested_quality_ppm: int = 0
    attestations: int = 0
    quarantine_reason: str = ""
    deposit: U128 = 0

    @property
    def reputation(self) -> float:
        return self.reputation_ppm / PPM


class PatternPage(_Model):
    """One page of find_patterns: matches in the domain's order, and where the next page starts
    (None at the end of the domain)."""

    patterns: list[PatternEntry]
    next_index: int | None = Field(default=None, ge=0)


class CreatorStanding(_Model):
    """A creator's standing on the registry: the evidence-weighted mean reputation of its
    patterns (the prior 0.25 without evidence); a new pattern of its starts there."""

    account: str
    patterns: int
    evidence_ppm: int
    standing_ppm: int

    @property
    def standing(self) -> float:
        return self.standing_ppm / PPM


class Attestation(_Model):
    """One attester's latest verdict on a pattern."""

    attester: str
    quality_ppm: int = Field(ge=0, le=PPM)
    safe: bool
    attested_at: int


class RemovedPattern(_Model):
    pattern_id: int
    refund: U128


class BindingRequest(_Model):
    """A NEAR account's pending request to be bound to a hotkey: the hotkey's sr25519
    signature of `statement`, which a validator verifies off-chain before confirming."""

    account: str
    signature: str
    statement: str
    requested_at: int


class Binding(_Model):
    """A hotkey's binding on the reputation contract: the confirmed account (None when there
    is none) and the requests still waiting for a validator."""

    hotkey: str
    account: str | None = None
    signature: str | None = None
    statement: str | None = None
    confirmed_by: str | None = None
    confirmed_at: int | None = None
    requests: list[BindingRequest] = Field(default_factory=list)


class RegistryConfig(_Model):
    """PatternRegistry's configuration; `next_id` is the id the next registration gets (ids are
    sequential from 1, so every id below it is registered)."""

    owner: str
    reputation_contract: str
    fee_bps: int
    next_id: int = Field(ge=1)
    fees_collected: U128
    storage_deposit: U128 = 0
    rating_weight_cap: U128 = 1
    attest_interval_ns: int = 0
    attesters: list[str] = Field(default_factory=list)


class U128Value(_Model):
    """A bare U128 answer (a decimal string), wrapped so it is checked like the rest."""

    value: U128


class UseReceipt(_Model):
    """What use_pattern paid: the creator's share and the protocol fee, in yoctoNEAR."""

    pattern_id: int
    paid: U128
    creator_share: U128
    fee: U128


class ReputationScore(_Model):
    """An account's (or miner hotkey's) reputation in ReputationSystem."""

    account: str
    successful_uses: int
    failed_uses: int
    total_rating: int
    # The payment-weighted sums the composite is computed from (1_000_000 = one full rating).
    w_good_ppm: int = 0
    w_bad_ppm: int = 0
    w_rating_ppm: int = 0
    reward_ema_ppm: int
    reward_epochs: int
    last_epoch: int
    composite_ppm: int

    @property
    def composite(self) -> float:
        return self.composite_ppm / PPM


class RewardsRecorded(_Model):
    """What record_validator_rewards did: subjects recorded, and how many of the entries were
    hotkeys whose reward went to their bound NEAR account."""

    epoch: int
    part: int = 0
    recorded: int
    credited: int = 0
