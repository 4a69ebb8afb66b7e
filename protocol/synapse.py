"""ClaySynapse: the request and response envelopes between validators and miners.

Bittensor 11 has no Synapse class; this is the subnet's own pydantic contract, carried as JSON over
HTTP and signed with btauth/1 by the transport. One route per request type (see `ROUTES`); the
route and the body's `request_type` must agree.
"""

from __future__ import annotations

import enum
import uuid
from typing import Annotated, Any, ClassVar, Literal

from pydantic import ConfigDict, Field, StringConstraints, WithJsonSchema, model_validator

from protocol import limits as L
from protocol.pattern import LABEL_PATTERN, Cid, Label, LearnedPattern, PatternId, Sha256Hex
from protocol.version import MIN_PEER_VERSION, PROTOCOL_MAJOR, PROTOCOL_VERSION
from protocol.wire import WireFloat, WireModel, wire_int


class RequestType(enum.StrEnum):
    EVALUATE_PATTERN = "evaluate_pattern"
    GENERATE_PATTERN = "generate_pattern"
    INFERENCE = "inference"
    SEARCH_PATTERNS = "search_patterns"
    FEDERATED_ROUND = "federated_round"


API_PREFIX = f"/v{PROTOCOL_MAJOR}/clay"
ROUTES: dict[RequestType, str] = {rt: f"{API_PREFIX}/{rt.value}" for rt in RequestType}
HEALTH_ROUTE = "/health"
METRICS_ROUTE = "/metrics"

Text = Annotated[str, StringConstraints(max_length=L.MAX_CONTEXT_LEN)]
Score = wire_int(0, 100)
RequestId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
ProtocolVersion = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$")]


# pydantic would publish the Label keys as patternProperties, which leaves other keys unchecked.
_FACTS_SCHEMA = {
    "type": "object",
    "maxProperties": L.MAX_CONTEXT_ITEMS,
    "propertyNames": {"minLength": 1, "maxLength": L.MAX_LABEL_LEN, "pattern": LABEL_PATTERN},
    "additionalProperties": {"type": "string", "maxLength": L.MAX_REQUIREMENT_LEN},
}


class CodeExample(WireModel):
    """A public example a code template should handle: JSON arguments and the expected result.

    Beyond the schema: the example's JSON is at most MAX_EXAMPLE_JSON_LEN (4000) bytes.
    """

    args: Annotated[list[Any], Field(max_length=8)]
    expected: Any = None

    @model_validator(mode="after")
    def _bounded(self) -> CodeExample:
        size = len(self.model_dump_json())
        if size > L.MAX_EXAMPLE_JSON_LEN:
            raise ValueError(f"example is {size} bytes of JSON; at most {L.MAX_EXAMPLE_JSON_LEN}")
        return self


class TestContext(WireModel):
    """Where a pattern would be used: the user's request, what is known, and public examples."""

    __test__ = False  # not a pytest class, despite the name

    query: Annotated[str, StringConstraints(min_length=1, max_length=L.MAX_QUERY_LEN)]
    facts: Annotated[
        dict[Label, Annotated[str, StringConstraints(max_length=L.MAX_REQUIREMENT_LEN)]],
        Field(max_length=L.MAX_CONTEXT_ITEMS),
        WithJsonSchema(_FACTS_SCHEMA),
    ] = {}  # noqa: RUF012
    domain: Label | None = None
    examples: Annotated[list[CodeExample], Field(max_length=L.MAX_EXAMPLES)] = []  # noqa: RUF012


class Turn(WireModel):
    role: Literal["user", "assistant", "tool", "system"]
    content: Annotated[str, StringConstraints(max_length=L.MAX_TURN_LEN)]


class InteractionLog(WireModel):
    """A successful interaction a miner turns into a shareable pattern."""

    turns: Annotated[list[Turn], Field(min_length=1, max_length=L.MAX_LOG_TURNS)]
    outcome: Literal["success", "partial", "failure"] = "success"


class EvaluatePatternRequest(WireModel):
    request_type: Literal["evaluate_pattern"] = "evaluate_pattern"
    _tag: ClassVar[str] = "request_type"
    pattern: LearnedPattern
    test_context: TestContext


class GeneratePatternRequest(WireModel):
    request_type: Literal["generate_pattern"] = "generate_pattern"
    _tag: ClassVar[str] = "request_type"
    interaction_log: InteractionLog
    domain: Label
    creator: Annotated[str, StringConstraints(max_length=L.MAX_ACCOUNT_ID_LEN)] | None = None


class InferenceRequest(WireModel):
    request_type: Literal["inference"] = "inference"
    _tag: ClassVar[str] = "request_type"
    query: Annotated[str, StringConstraints(min_length=1, max_length=L.MAX_QUERY_LEN)]
    context: Text = ""
    available_patterns: Annotated[
        list[LearnedPattern], Field(max_length=L.MAX_OFFERED_PATTERNS)
    ] = []  # noqa: RUF012


class SearchPatternsRequest(WireModel):
    """Rank the registry's patterns for a query: the miner's own index of the NEAR registry.

    `registry_upto` pins the snapshot: only patterns whose registry id is below it count, so a
    validator grading against its own exact search and a miner synced a block later agree.
    `embedding`, when given, is the caller's embedding of `query`, usable instead of the text.
    """

    request_type: Literal["search_patterns"] = "search_patterns"
    _tag: ClassVar[str] = "request_type"
    query: Annotated[str, StringConstraints(min_length=1, max_length=L.MAX_QUERY_LEN)]
    embedding: Annotated[list[WireFloat], Field(max_length=L.MAX_EMBEDDING_DIM)] | None = None
    domain: Label | None = None
    k: wire_int(1, L.MAX_SEARCH_K) = 10
    registry_upto: wire_int(0, L.MAX_U64) | None = None


class FederatedDp(WireModel):
    """The DP-SGD settings of a round: per-example clip norm, noise multiplier (> 0: a round
    without noise has no privacy guarantee), expected Poisson batch, local steps, SGD learning
    rate, the delta of (epsilon, delta)-DP and the epsilon budget a miner's data may spend."""

    clip_norm: Annotated[WireFloat, Field(gt=0.0, le=1e6)]
    noise_multiplier: Annotated[WireFloat, Field(gt=0.0, le=1e3)]
    batch_size: wire_int(1, L.MAX_FL_BATCH)
    local_steps: wire_int(1, L.MAX_FL_STEPS)
    lr: Annotated[WireFloat, Field(gt=0.0, le=1e3)]
    delta: Annotated[WireFloat, Field(gt=0.0, lt=1.0)]
    epsilon_budget: Annotated[WireFloat, Field(gt=0.0, le=1e6)]


class FederatedRoundRequest(WireModel):
    """Train the round's global LoRA adapter on the miner's private data with DP-SGD.

    The global adapter is fetched by `global_cid` and must hash to `global_hash` (sha256 of its
    canonical bytes, `global_size` long); `base_hash` pins the frozen base weights. The update
    goes to the content store; the answer names it and is bound to this round and validator
    by the miner's own signature (see mycel_subnet/federated/claims.py).
    """

    request_type: Literal["federated_round"] = "federated_round"
    _tag: ClassVar[str] = "request_type"
    round: wire_int(1, L.MAX_U64)
    base_model: Annotated[str, StringConstraints(min_length=1, max_length=L.MAX_MODEL_NAME_LEN)]
    base_hash: Sha256Hex
    global_cid: Cid
    global_hash: Sha256Hex
    global_size: wire_int(1, L.MAX_FL_UPDATE_BYTES)
    max_update_bytes: wire_int(1, L.MAX_FL_UPDATE_BYTES)
    dp: FederatedDp


ClayRequest = Annotated[
    EvaluatePatternRequest
    | GeneratePatternRequest
    | InferenceRequest
    | SearchPatternsRequest
    | FederatedRoundRequest,
    Field(discriminator="request_type"),
]


class EvaluationResult(WireModel):
    relevance: Score
    quality: Score
    safety: Score
    rationale: Annotated[str, StringConstraints(max_length=L.MAX_RATIONALE_LEN)] = ""


class EvaluatePatternResult(WireModel):
    request_type: Literal["evaluate_pattern"] = "evaluate_pattern"
    _tag: ClassVar[str] = "request_type"
    evaluation_result: EvaluationResult


class GeneratePatternResult(WireModel):
    """A generated pattern, or None with a reason when nothing shareable remains."""

    model_config = ConfigDict(
        json_schema_extra={
            "if": {"properties": {"generated_pattern": {"type": "null"}}},
            "then": {
                "required": ["refusal_reason"],
                "properties": {"refusal_reason": {"type": "string", "minLength": 1}},
            },
        }
    )

    request_type: Literal["generate_pattern"] = "generate_pattern"
    _tag: ClassVar[str] = "request_type"
    generated_pattern: LearnedPattern | None
    refusal_reason: Annotated[str, StringConstraints(max_length=L.MAX_DETAIL_LEN)] | None = None

    @model_validator(mode="after")
    def _pattern_or_reason(self) -> GeneratePatternResult:
        if self.generated_pattern is None and not self.refusal_reason:
            raise ValueError("a refusal (no generated_pattern) must give a refusal_reason")
        return self


class InferenceResult(WireModel):
    request_type: Literal["inference"] = "inference"
    _tag: ClassVar[str] = "request_type"
    response: Annotated[str, StringConstraints(max_length=L.MAX_RESPONSE_LEN)]
    patterns_used: Annotated[list[PatternId], Field(max_length=L.MAX_OFFERED_PATTERNS)] = []  # noqa: RUF012


class SearchPatternsResult(WireModel):
    """Pattern ids (content hashes), best first, at most the request's k and without repeats.

    `index_size` is how many registry patterns the miner's index holds (diagnostic only).
    """

    request_type: Literal["search_patterns"] = "search_patterns"
    _tag: ClassVar[str] = "request_type"
    pattern_ids: Annotated[
        list[PatternId],
        Field(max_length=L.MAX_SEARCH_K, json_schema_extra={"uniqueItems": True}),
    ] = []  # noqa: RUF012
    index_size: wire_int(0, L.MAX_U64) = 0

    @model_validator(mode="after")
    def _no_repeats(self) -> SearchPatternsResult:
        if len(set(self.pattern_ids)) != len(self.pattern_ids):
            raise ValueError("pattern_ids repeats an id")
        return self


class FederatedSpend(WireModel):
    """One entry of an RDP accountant's history: `steps` steps at this noise and sample rate."""

    noise_multiplier: Annotated[WireFloat, Field(gt=0.0, le=1e3)]
    sample_rate: Annotated[WireFloat, Field(gt=0.0, le=1.0)]
    steps: wire_int(1, L.MAX_U64)


class FederatedAccountant(WireModel):
    """The miner's privacy report: the RDP epsilon its data has spent over every round so far
    (at `delta`), this round's noise, sample rate (the one DP-SGD really used) and steps, and
    the whole history, so a validator can recompute the epsilon."""

    epsilon: Annotated[WireFloat, Field(ge=0.0)]
    delta: Annotated[WireFloat, Field(gt=0.0, lt=1.0)]
    noise_multiplier: Annotated[WireFloat, Field(gt=0.0, le=1e3)]
    sample_rate: Annotated[WireFloat, Field(gt=0.0, le=1.0)]
    steps: wire_int(1, L.MAX_FL_STEPS)
    history: Annotated[list[FederatedSpend], Field(min_length=1, max_length=L.MAX_FL_HISTORY)]


class FederatedRoundResult(WireModel):
    """Where the miner's DP update lies (CID), its sha256 and size, the miner's sr25519
    signature (128 hex) over the update claim, and its accountant's report."""

    request_type: Literal["federated_round"] = "federated_round"
    _tag: ClassVar[str] = "request_type"
    round: wire_int(1, L.MAX_U64)
    update_cid: Cid
    update_sha256: Sha256Hex
    update_size: wire_int(1, L.MAX_FL_UPDATE_BYTES)
    signature: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{128}$")]
    num_examples: wire_int(1, L.MAX_U64)
    train_loss: Annotated[WireFloat, Field(ge=0.0)]
    accountant: FederatedAccountant


ClayResult = Annotated[
    EvaluatePatternResult
    | GeneratePatternResult
    | InferenceResult
    | SearchPatternsResult
    | FederatedRoundResult,
    Field(discriminator="request_type"),
]


def new_request_id() -> str:
    return uuid.uuid4().hex


class ClaySynapse(WireModel):
    """What a validator sends a miner."""

    protocol_version: ProtocolVersion = PROTOCOL_VERSION
    request_id: RequestId = Field(default_factory=new_request_id)
    deadline_s: Annotated[WireFloat, Field(ge=L.MIN_DEADLINE_S, le=L.MAX_DEADLINE_S)] = 12.0
    request: ClayRequest

    @property
    def request_type(self) -> RequestType:
        return RequestType(self.request.request_type)

    @property
    def route(self) -> str:
        return ROUTES[self.request_type]


class ClaySynapseResponse(WireModel):
    """What a miner answers: a result of the request's type, or a status saying why not."""

    model_config = ConfigDict(
        json_schema_extra={
            "if": {"properties": {"status": {"const": "ok"}}},
            "then": {"required": ["result"], "properties": {"result": {"not": {"type": "null"}}}},
        }
    )

    protocol_version: ProtocolVersion = PROTOCOL_VERSION
    request_id: RequestId
    status: Literal["ok", "error"] = "ok"
    result: ClayResult | None = None
    detail: Annotated[str, StringConstraints(max_length=L.MAX_DETAIL_LEN)] = ""
    process_time_s: Annotated[WireFloat, Field(ge=0.0, le=3600.0)] = 0.0

    @model_validator(mode="after")
    def _ok_has_result(self) -> ClaySynapseResponse:
        if self.status == "ok" and self.result is None:
            raise ValueError("status 'ok' needs a result")
        return self


def _parts(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def is_compatible(version: str) -> bool:
    """Same major version and not older than MIN_PEER_VERSION (minor changes are additive, but a
    peer older than the minimum lacks a task every peer must answer)."""
    try:
        parts = _parts(version)
    except ValueError:
        return False
    return parts[0] == PROTOCOL_MAJOR and parts >= _parts(MIN_PEER_VERSION)


def incompatibility(version: str) -> str | None:
    """Why a peer speaking `version` is refused, in one line; None when it is compatible."""
    if is_compatible(version):
        return None
    return (
        f"peer speaks protocol {version[:20]!r}; this side speaks {PROTOCOL_VERSION} and needs "
        f"{PROTOCOL_MAJOR}.x at least {MIN_PEER_VERSION}: upgrade the older side"
    )
