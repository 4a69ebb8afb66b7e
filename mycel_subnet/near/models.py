"""Typed views of what the contracts return (U128 amounts arrive as decimal strings)."""

from __future__ import annotations

from typing import Annotated, Any

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

    @property
    def reputation(self) -> float:
        return self.reputation_ppm / PPM


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
    reward_ema_ppm: int
    reward_epochs: int
    last_epoch: int
    composite_ppm: int

    @property
    def composite(self) -> float:
        return self.composite_ppm / PPM


class RewardsRecorded(_Model):
    epoch: int
    recorded: int
