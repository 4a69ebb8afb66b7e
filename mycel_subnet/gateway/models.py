"""What the gateway answers. Deliberately nothing about the miners behind an answer: no hotkey,
uid, address or port, only how many were asked, answered and agreed.

Request bodies are the protocol's own models (protocol.InferenceRequest,
protocol.SearchPatternsRequest); `request_type` may be left out, the route names it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

API_PREFIX = "/v1/gateway"
INFERENCE_ROUTE = f"{API_PREFIX}/inference"
SEARCH_ROUTE = f"{API_PREFIX}/search_patterns"
HEALTH_ROUTE = "/health"


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Agreement(_Out):
    """How the answer was reached: miners asked, miners that answered at all, answers that
    passed the validator's checks, and answers that agreed with the one returned."""

    asked: int = Field(ge=0)
    answered: int = Field(ge=0)
    valid: int = Field(ge=0)
    agreeing: int = Field(ge=0)


class InferenceAnswer(_Out):
    request_id: str
    response: str
    patterns_used: list[str]
    agreement: Agreement


class FoundEntry(_Out):
    """A registry pattern the miners agreed on, with its registry facts (checked by the
    validator), so the caller can fetch it by CID and verify it against `pattern_id`."""

    pattern_id: str
    near_id: int
    domain: str
    metadata_cid: str
    price_per_use: str = Field(description="yoctoNEAR, a decimal string (u128)")
    creator: str
    reputation: float
    support: int = Field(ge=1, description="how many miners ranked it")
    fused_score: float = Field(description="reciprocal-rank fusion over the miners' rankings")


class SearchAnswer(_Out):
    request_id: str
    patterns: list[FoundEntry]
    agreement: Agreement


class Health(_Out):
    status: str
    validator_hotkey: str = Field(description="the receiver to sign btauth/1 requests for")
    protocol_version: str
    miners_available: int
    search: bool = Field(description="whether pattern search is served (needs a registry)")


class Refusal(_Out):
    error: str
    detail: str
