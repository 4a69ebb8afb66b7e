"""The one interface between a miner's transport and whatever answers the requests (the validator
runs the shipped reference engine through it too, without importing the miner).

The HTTP service only knows `MinerEngine`; the local-LLM engine, the deterministic baseline and
the devnet's deliberately weak engines all implement it. Engines are synchronous (model calls and
sandbox runs are blocking); the service runs them in a worker thread with the request's deadline.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from protocol import (
    EvaluatePatternRequest,
    EvaluatePatternResult,
    GeneratePatternRequest,
    GeneratePatternResult,
    InferenceRequest,
    InferenceResult,
)


class EngineError(RuntimeError):
    """The engine could not answer this request; the message is safe to send to the caller."""


@runtime_checkable
class MinerEngine(Protocol):
    """Answers the three ClaySynapse request types. Must be safe to call from several threads."""

    name: str

    def evaluate_pattern(self, request: EvaluatePatternRequest) -> EvaluatePatternResult: ...

    def generate_pattern(self, request: GeneratePatternRequest) -> GeneratePatternResult: ...

    def inference(self, request: InferenceRequest) -> InferenceResult: ...
