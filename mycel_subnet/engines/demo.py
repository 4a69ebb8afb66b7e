"""Deliberately weak or dishonest engines for the devnet, so the incentive mechanism has
something to separate: `random` (noise), `constant` (the same answer to everything), `refuse`
(never answers), `slow` (an honest answer that arrives late) and `copier` (the shipped reference
engine's answers with cosmetic changes: scores nudged a point, variables renamed, a comment;
the validator's duplicate detection should make it share the reference's reward, never beat
it). None of these is for real use."""

from __future__ import annotations

import random
import re
import threading
import time
from datetime import UTC, datetime

from mycel_subnet.engines.interface import EngineError, MinerEngine
from protocol import (
    EvaluatePatternRequest,
    EvaluatePatternResult,
    EvaluationResult,
    GeneratePatternRequest,
    GeneratePatternResult,
    InferenceRequest,
    InferenceResult,
    LearnedPattern,
    PromptTemplate,
)

DEMO_CREATOR = "demo.mycel.test"
_WORDS = """alpha bravo cloud delta echo fungus garden hyphae index jolt kernel lichen mycel node
    orbit pattern quartz root spore tensor umbra vector wave xenon yield zephyr""".split()  # noqa: SIM905
CONSTANT_ANSWER = "I can help with that."
CONSTANT_CREATED = datetime(2026, 1, 1, tzinfo=UTC)


class RandomEngine:
    """Random scores, random (valid but useless) patterns, random answers."""

    def __init__(self, seed: int | None = None, *, creator: str = DEMO_CREATOR) -> None:
        self.name = "random"
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.creator = creator

    def _words(self, n: int) -> str:
        with self._lock:
            return " ".join(self._rng.choice(_WORDS) for _ in range(n))

    def _int(self, low: int, high: int) -> int:
        with self._lock:
            return self._rng.randint(low, high)

    def evaluate_pattern(self, request: EvaluatePatternRequest) -> EvaluatePatternResult:
        result = EvaluationResult(
            relevance=self._int(0, 100),
            quality=self._int(0, 100),
            safety=self._int(0, 100),
            rationale="random scores",
        )
        return EvaluatePatternResult(evaluation_result=result)

    def generate_pattern(self, request: GeneratePatternRequest) -> GeneratePatternResult:
        if self._int(0, 3) == 0:
            return GeneratePatternResult(generated_pattern=None, refusal_reason="random refusal")
        var = self._words(1)
        pattern = LearnedPattern(
            creator=self.creator,
            created_at=datetime.now(UTC),
            trigger=self._words(5),
            solution=PromptTemplate(template=f"{self._words(6)} {{{var}}}", variables=[var]),
            domain=request.domain,
        )
        return GeneratePatternResult(generated_pattern=pattern)

    def inference(self, request: InferenceRequest) -> InferenceResult:
        ids = [p.id for p in request.available_patterns if p.id]
        with self._lock:
            used = self._rng.sample(ids, k=self._rng.randint(0, len(ids))) if ids else []
        return InferenceResult(response=self._words(12), patterns_used=used)


class ConstantEngine:
    """The same scores, pattern and answer whatever the request."""

    def __init__(self, *, creator: str = DEMO_CREATOR, score: int = 50) -> None:
        self.name = "constant"
        self.creator = creator
        self.score = score

    def evaluate_pattern(self, request: EvaluatePatternRequest) -> EvaluatePatternResult:
        s = self.score
        result = EvaluationResult(relevance=s, quality=s, safety=s, rationale="constant scores")
        return EvaluatePatternResult(evaluation_result=result)

    def generate_pattern(self, request: GeneratePatternRequest) -> GeneratePatternResult:
        pattern = LearnedPattern(
            creator=self.creator,
            created_at=CONSTANT_CREATED,
            trigger="help with a task",
            solution=PromptTemplate(template="Do the task: {task}", variables=["task"]),
            domain="general",
        )
        return GeneratePatternResult(generated_pattern=pattern)

    def inference(self, request: InferenceRequest) -> InferenceResult:
        return InferenceResult(response=CONSTANT_ANSWER)


class _Delayed:
    """Answers with `inner` after sleeping `delay_s`."""

    name = "delayed"

    def __init__(self, inner: MinerEngine, delay_s: float) -> None:
        if delay_s < 0:
            raise ValueError(f"delay_s must be >= 0, got {delay_s}")
        self.inner = inner
        self.delay_s = delay_s

    def evaluate_pattern(self, request: EvaluatePatternRequest) -> EvaluatePatternResult:
        time.sleep(self.delay_s)
        return self.inner.evaluate_pattern(request)

    def generate_pattern(self, request: GeneratePatternRequest) -> GeneratePatternResult:
        time.sleep(self.delay_s)
        return self.inner.generate_pattern(request)

    def inference(self, request: InferenceRequest) -> InferenceResult:
        time.sleep(self.delay_s)
        return self.inner.inference(request)


class SlowEngine(_Delayed):
    """The baseline's answers, after sleeping most of the deadline."""

    name = "slow"


class RefuseEngine:
    """Refuses every request (EngineError): what a miner that serves but never works earns."""

    name = "refuse"

    def evaluate_pattern(self, request: EvaluatePatternRequest) -> EvaluatePatternResult:
        raise EngineError("refused")

    def generate_pattern(self, request: GeneratePatternRequest) -> GeneratePatternResult:
        return GeneratePatternResult(generated_pattern=None, refusal_reason="refused")

    def inference(self, request: InferenceRequest) -> InferenceResult:
        raise EngineError("refused")


def _renamed(code: str) -> str:
    """The same code with its local names changed and a comment added."""
    import ast

    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    names |= {a.arg for a in ast.walk(tree) if isinstance(a, ast.arg)}
    out = code
    for name in sorted(names, key=len, reverse=True):
        if len(name) > 1 and name not in dir(__import__("builtins")):
            out = re.sub(rf"\b{re.escape(name)}\b", f"{name}_v2", out)
    return "# tidied up\n" + out


class CopierEngine:
    """Another engine's answers with cosmetic changes, passed off as its own work."""

    name = "copier"

    def __init__(self, inner: MinerEngine, delay_s: float = 0.05) -> None:
        self.inner = inner
        self.delay_s = delay_s

    def evaluate_pattern(self, request: EvaluatePatternRequest) -> EvaluatePatternResult:
        time.sleep(self.delay_s)
        result = self.inner.evaluate_pattern(request).evaluation_result
        nudged = {
            dim: max(0, min(100, getattr(result, dim) + (1 if getattr(result, dim) < 50 else -1)))
            for dim in ("relevance", "quality", "safety")
        }
        return EvaluatePatternResult(
            evaluation_result=EvaluationResult(**nudged, rationale="my own careful review")
        )

    def generate_pattern(self, request: GeneratePatternRequest) -> GeneratePatternResult:
        time.sleep(self.delay_s)
        result = self.inner.generate_pattern(request)
        pattern = result.generated_pattern
        if pattern is None or pattern.solution.kind != "code_template":
            return result
        data = pattern.model_dump(mode="json", exclude={"id"})
        data["solution"]["code"] = _renamed(pattern.solution.code)
        data["creator"] = DEMO_CREATOR
        return GeneratePatternResult(generated_pattern=LearnedPattern.model_validate(data))

    def inference(self, request: InferenceRequest) -> InferenceResult:
        time.sleep(self.delay_s)
        result = self.inner.inference(request)
        return InferenceResult(response=f" {result.response} ", patterns_used=result.patterns_used)
