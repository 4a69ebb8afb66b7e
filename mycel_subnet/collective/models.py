"""What every collective operation returns: the CLI prints it (or its JSON), the API sends it.

Only kinds, counts, ids, prices and scores: never a value learned from a private log.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ExtractOut(_Out):
    pattern_id: str | None
    kind: str | None
    domain: str
    trigger: str | None
    removed: dict[str, int]  # kind of private value -> how many distinct values were removed
    generalised: list[str]  # the variable names specifics became ({company}, {amount}, ...)
    utility: float
    refused: bool
    reason: str | None = None
    k_anonymity: dict[str, int] | None = None  # {"seen": n, "k": k} when the gate is on


class PublishOut(_Out):
    pattern_id: str
    near_id: int
    metadata_cid: str
    price: int
    network: str
    already_published: bool


class ScoreTerms(_Out):
    similarity: float
    reputation: float
    success_rate: float
    price_factor: float
    safety: float
    final: float


class FoundPattern(_Out):
    pattern_id: str
    near_id: int | None
    source: str
    price: int
    domain: str
    kind: str
    trigger: str
    creator: str
    score: ScoreTerms


class FindOut(_Out):
    query: str
    domain: str | None
    patterns: list[FoundPattern]
    warnings: list[str]


class ShowOut(_Out):
    pattern: dict[str, Any]
    near: dict[str, Any] | None
    local: bool


class UseOut(_Out):
    pattern_id: str
    near_id: int | None
    kind: str
    paid: int
    creator_share: int
    fee: int
    verified: bool
    output: Any
    detail: str


class RateOut(_Out):
    pattern_id: str
    near_id: int | None
    near_rated: bool
    reputation: float | None
    near_error: str | None


class PatternEarnings(_Out):
    pattern_id: str
    near_id: int
    uses: int
    gross: int
    protocol_fee: int
    net: int
    reputation: float


class EarningsOut(_Out):
    account: str
    network: str
    fee_bps: int
    patterns: list[PatternEarnings]
    total_uses: int
    total_gross: int
    total_protocol_fee: int
    total_net: int
    reputation: float
