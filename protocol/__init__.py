"""Mycel's wire contract: pattern model and ClaySynapse envelopes (pydantic only).

Importing this package must stay cheap and must never import torch or bittensor: validators,
miners and other-language tooling all depend on it.
"""

from protocol.errors import ProtocolError, describe_validation_error, parse_model
from protocol.pattern import (
    CodeTemplate,
    LearnedPattern,
    ModelAdapter,
    PatternSolution,
    PromptTemplate,
    Workflow,
    WorkflowStep,
    pattern_id,
    template_placeholders,
)
from protocol.synapse import (
    ROUTES,
    ClaySynapse,
    ClaySynapseResponse,
    CodeExample,
    EvaluatePatternRequest,
    EvaluatePatternResult,
    EvaluationResult,
    GeneratePatternRequest,
    GeneratePatternResult,
    InferenceRequest,
    InferenceResult,
    InteractionLog,
    RequestType,
    TestContext,
    Turn,
    is_compatible,
)
from protocol.version import PROTOCOL_VERSION

__all__ = [
    "PROTOCOL_VERSION",
    "ROUTES",
    "ClaySynapse",
    "ClaySynapseResponse",
    "CodeExample",
    "CodeTemplate",
    "EvaluatePatternRequest",
    "EvaluatePatternResult",
    "EvaluationResult",
    "GeneratePatternRequest",
    "GeneratePatternResult",
    "InferenceRequest",
    "InferenceResult",
    "InteractionLog",
    "LearnedPattern",
    "ModelAdapter",
    "PatternSolution",
    "PromptTemplate",
    "ProtocolError",
    "RequestType",
    "TestContext",
    "Turn",
    "Workflow",
    "WorkflowStep",
    "describe_validation_error",
    "is_compatible",
    "parse_model",
    "pattern_id",
    "template_placeholders",
]
