"""PatternEngine: the honest miner engine. Without a model it is the deterministic baseline
(embedding or lexical relevance, sandbox-measured quality, static safety); with a Router it adds
the model's judgement and answers prompt templates through the model, local first."""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections.abc import Iterator
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from mycel_subnet.engines import judge as judging
from mycel_subnet.engines.generate import GenerateOptions, generate
from mycel_subnet.engines.inference import infer
from mycel_subnet.engines.interface import EngineError
from mycel_subnet.engines.quality import SandboxConfig, measure_quality
from mycel_subnet.engines.relevance import relevance
from mycel_subnet.engines.risk import Safety, pattern_safety
from mycel_subnet.engines.similarity import Similarity
from mycel_subnet.engines.text import to_score
from mycel_subnet.intelligence.embeddings import Embedder
from mycel_subnet.intelligence.llm import Router
from mycel_subnet.sandbox import SandboxLimits
from protocol import (
    EvaluatePatternRequest,
    EvaluatePatternResult,
    EvaluationResult,
    GeneratePatternRequest,
    GeneratePatternResult,
    InferenceRequest,
    InferenceResult,
    describe_validation_error,
)
from protocol import limits as L

log = logging.getLogger(__name__)

R = TypeVar("R", bound=BaseModel)
DEFAULT_CREATOR = "miner.mycel.test"
BLOCKED_SAFETY = 0.05  # the sandbox caught the code doing something forbidden
_ACCOUNT = re.compile(r"^(([a-z\d]+[\-_])*[a-z\d]+\.)*([a-z\d]+[\-_])*[a-z\d]+$")


def _request(value: Any, model: type[R], method: str) -> R:
    """The request as `model`; a dict is validated; anything else is a clear EngineError."""
    if isinstance(value, model):
        return value
    if isinstance(value, dict):
        try:
            return model.model_validate(value)
        except ValidationError as exc:
            raise EngineError(
                f"{method}: invalid request: {describe_validation_error(exc)}"
            ) from None
    raise EngineError(f"{method} needs a {model.__name__}, got {type(value).__name__}")


class PatternEngine:
    """Implements `MinerEngine`. Thread-safe: no per-request state is kept on the instance."""

    def __init__(
        self,
        llm: Router | None = None,
        embedder: Embedder | None = None,
        *,
        sandbox_limits: SandboxLimits | None = None,
        isolate_network: bool = True,
        creator: str = DEFAULT_CREATOR,
        name: str | None = None,
        llm_weight: float = 0.3,
        judge_tokens: int = 96,
        judge_retries: int = 0,
        answer_tokens: int = 160,
        use_presidio: bool = True,
        model_wait_s: float = 1.0,
    ) -> None:
        if not 0.0 <= llm_weight <= 1.0:
            raise ValueError(f"llm_weight must be in [0, 1], got {llm_weight}")
        if not _ACCOUNT.match(creator) or not 2 <= len(creator) <= L.MAX_ACCOUNT_ID_LEN:
            raise ValueError(f"creator must be a NEAR account id, got {creator!r}")
        self.llm = llm
        self.name = name or ("llm" if llm is not None else "baseline")
        self.sim = Similarity(embedder)
        self.sandbox = SandboxConfig(sandbox_limits or SandboxLimits(), isolate_network)
        self.creator = creator
        self.llm_weight = llm_weight
        self.judge_tokens = judge_tokens
        self.judge_retries = judge_retries
        self.answer_tokens = answer_tokens
        self.use_presidio = use_presidio
        # One model call at a time; a request that cannot get the model quickly answers from
        # the measured signals instead of queueing past the validator's deadline.
        self.model_wait_s = model_wait_s
        self._model_slot = threading.Semaphore(1)

    @contextlib.contextmanager
    def _model(self) -> Iterator[Router | None]:
        """The router if it is free within `model_wait_s`, else None (answer without it)."""
        if self.llm is None or not self._model_slot.acquire(timeout=self.model_wait_s):
            yield None
            return
        try:
            yield self.llm
        finally:
            self._model_slot.release()

    def __repr__(self) -> str:
        return f"PatternEngine(name={self.name!r}, llm={self.llm!r}, similarity={self.sim.kind})"

    # --- evaluate -----------------------------------------------------------------------

    def evaluate_pattern(self, request: EvaluatePatternRequest) -> EvaluatePatternResult:
        request = _request(request, EvaluatePatternRequest, "evaluate_pattern")
        pattern, context = request.pattern, request.test_context
        rel = relevance(pattern, context.query, context.facts, context.domain, self.sim)
        try:
            qual = measure_quality(pattern.solution, context, self.sandbox)
        except OSError as exc:
            raise EngineError(f"evaluate_pattern: the sandbox could not start: {exc}") from None
        safe = pattern_safety(pattern)
        if qual.blocked:
            safe = Safety(min(safe.value, BLOCKED_SAFETY), (f"sandbox: {qual.blocked}",))
        scores = [rel.value, qual.value, safe.value]
        notes = [
            f"relevance: {rel.rationale()}",
            f"quality: {qual.note}",
            f"safety: {safe.rationale()}",
        ]
        if self.llm is not None:
            with self._model() as model:
                if model is None:
                    notes.append("model: busy, measured signals only")
                else:
                    scores, note = self._with_judgement(
                        model, request, scores, measured_by_tests=qual.tested
                    )
                    notes.append(note)
        result = EvaluationResult(
            relevance=to_score(scores[0]),
            quality=to_score(scores[1]),
            safety=to_score(scores[2]),
            rationale=". ".join(notes)[: L.MAX_RATIONALE_LEN],
        )
        return EvaluatePatternResult(evaluation_result=result)

    def _with_judgement(
        self,
        model: Router,
        request: EvaluatePatternRequest,
        scores: list[float],
        *,
        measured_by_tests: bool,
    ) -> tuple[list[float], str]:
        verdict = judging.ask_judgement(
            model,
            request.pattern,
            request.test_context,
            max_new_tokens=self.judge_tokens,
            retries=self.judge_retries,
        )
        if verdict.judgement is None:
            return scores, f"model: no judgement ({verdict.error or 'unavailable'})"
        j, w = verdict.judgement, self.llm_weight
        # A sandbox pass rate is ground truth for these examples: the model barely moves it.
        quality_w = w / 3 if measured_by_tests else w
        blended = [
            judging.blend(scores[0], j.relevance, w),
            judging.blend(scores[1], j.quality, quality_w),
            judging.blend_safety(scores[2], j.safety, w),
        ]
        said = f" {j.rationale.strip()[:200]}" if j.rationale.strip() else ""
        return blended, (
            f"model ({verdict.layer}): {j.relevance}/{j.quality}/{j.safety}, weight {w:.2f}.{said}"
        )

    # --- generate -----------------------------------------------------------------------

    def generate_pattern(self, request: GeneratePatternRequest) -> GeneratePatternResult:
        request = _request(request, GeneratePatternRequest, "generate_pattern")
        creator = request.creator or self.creator
        if not _ACCOUNT.match(creator) or len(creator) < L.MIN_ACCOUNT_ID_LEN:
            raise EngineError(
                f"generate_pattern: creator {creator!r} is not a NEAR account id "
                "(lower-case letters, digits, '-', '_' and '.' separated parts)"
            )
        options = GenerateOptions(creator, self.sandbox, self.use_presidio)
        try:
            with self._model() as model:
                return generate(request, options, model)
        except OSError as exc:
            raise EngineError(f"generate_pattern: the sandbox could not start: {exc}") from None

    # --- inference ----------------------------------------------------------------------

    def inference(self, request: InferenceRequest) -> InferenceResult:
        request = _request(request, InferenceRequest, "inference")
        try:
            with self._model() as model:
                return infer(request, self.sim, self.sandbox, model, self.answer_tokens)
        except OSError as exc:
            raise EngineError(f"inference: the sandbox could not start: {exc}") from None
