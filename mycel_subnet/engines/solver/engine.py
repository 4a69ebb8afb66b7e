"""SolverEngine: answers requests about task-space programs by parsing, testing and searching.

- evaluate_pattern: parse the trigger and the query into programs; relevance by comparing them
  (structurally, or by testing both on many inputs); quality by running the pattern's code in
  the sandbox against the trigger's program on the budget's test inputs; safety from the static
  analysers, the sandbox's verdict and (with `residual_check`) trigger text that says more than
  the program it states. Scores are the budget's calibrated confidences.
- generate_pattern: read the (input, output) pairs out of the log and search for a program that
  fits them; share it as clean code with an English trigger. Nothing from the log's prose is
  copied, so nothing personal can leak.
- inference: check each offered code pattern against the worked examples in the sandbox; use
  the one that fits, or search for a program when none does.

Requests that are not about task-space programs go to `fallback` (the general PatternEngine)
when one is given, else get a neutral answer.
"""

from __future__ import annotations

import itertools
import json
import random
import re
from datetime import UTC, datetime
from typing import Any

from mycel_subnet.engines.generate import final_leak_check
from mycel_subnet.engines.interface import EngineError, MinerEngine
from mycel_subnet.engines.outgoing import leak_reason
from mycel_subnet.engines.solver.budget import Budget
from mycel_subnet.engines.solver.probes import test_inputs
from mycel_subnet.engines.solver.synthesis import synthesise
from mycel_subnet.sandbox import SandboxLimits, SandboxStatus, run_tests
from mycel_subnet.tasks import programs as P
from protocol import (
    CodeTemplate,
    EvaluatePatternRequest,
    EvaluatePatternResult,
    EvaluationResult,
    GeneratePatternRequest,
    GeneratePatternResult,
    InferenceRequest,
    InferenceResult,
    LearnedPattern,
)

LIMITS = SandboxLimits(cpu_seconds=2.0, wall_seconds=4.0, memory_mb=256)
DEFAULT_CREATOR = "solver.mycel.test"
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)  # a fixed time: the same pattern gets the same id
_LIST = re.compile(r"\[[-\d,\s]*\]")
_PAIR = re.compile(r"(\[[-\d,\s]*\])\s*(?:->|=>|gives|:)\s*(\[[-\d,\s]*\]|-?\d+)")
_WORDS = re.compile(r"[a-z]+", re.IGNORECASE)
_FRAME_WORDS = set(
    " ".join(P.INTROS + P.JOINERS + (", and finally",)).lower().replace(",", " ").split()
)


def _rng(*parts: object) -> random.Random:
    return random.Random(json.dumps([str(p) for p in parts]))


def residual_words(trigger: str) -> list[str]:
    """Words of `trigger` that belong to no clause of the program it states."""
    text = P.strip_clauses(trigger)
    return [w for w in _WORDS.findall(text) if w.lower() not in _FRAME_WORDS]


def _code_of(pattern: LearnedPattern) -> tuple[str, str] | None:
    solution = pattern.solution
    if solution.kind != "code_template" or solution.language.lower() not in ("python", "py"):
        return None
    if not solution.entrypoint:
        return None
    return solution.code, solution.entrypoint


class SolverEngine:
    """Implements `MinerEngine` at one `Budget`. Stateless per request, so thread-safe."""

    def __init__(
        self,
        budget: Budget,
        fallback: MinerEngine | None = None,
        *,
        creator: str = DEFAULT_CREATOR,
        name: str | None = None,
        proposer: Any = None,
    ) -> None:
        self.budget = budget
        self.fallback = fallback
        self.proposer = proposer  # a ModelProposer, tried when the search finds nothing
        self.creator = creator
        self.name = name or budget.name

    def __repr__(self) -> str:
        return f"SolverEngine({self.budget.name!r}, fallback={self.fallback!r})"

    # --- evaluate -----------------------------------------------------------------------

    def evaluate_pattern(self, request: EvaluatePatternRequest) -> EvaluatePatternResult:
        pattern, context = request.pattern, request.test_context
        stated = P.parse_description(pattern.trigger)
        wanted = P.parse_description(context.query)
        code = _code_of(pattern)
        if stated is None or code is None:
            if self.fallback is not None:
                return self.fallback.evaluate_pattern(request)
            return _evaluation(50, 50, 50, "not a task-space pattern")
        b = self.budget
        rng = _rng(pattern.id, context.query)
        relevance, rel_note = self._relevance(stated, wanted, rng)
        quality, blocked, q_note = self._quality(stated, code, rng)
        safety, s_note = self._safety(pattern.trigger, code[0], blocked)
        if blocked:
            quality = 50  # code that never ran says nothing about its results
        note = f"{b.name}: {rel_note}; {q_note}; {s_note}"
        return _evaluation(relevance, quality, safety, note)

    def _relevance(self, stated: P.Program, wanted: P.Program | None, rng: random.Random):
        b = self.budget
        if wanted is None:
            return 50, "query states no program"
        if stated == wanted:
            return b.relevant_yes, "query states the same program"
        if b.equivalence_tests == 0:
            return b.relevant_no, "query states another program"
        inputs = P.probe_inputs(stated, rng, b.equivalence_tests // 2)
        inputs += P.probe_inputs(wanted, rng, b.equivalence_tests - len(inputs))
        differ = next((xs for xs in inputs if P.run(stated, xs) != P.run(wanted, xs)), None)
        if differ is None:
            return b.relevant_yes, f"equivalent on {len(inputs)} inputs"
        return b.relevant_no, f"differs on {json.dumps(differ)[:40]}"

    def _quality(self, stated: P.Program, code: tuple[str, str], rng: random.Random):
        b = self.budget
        inputs = test_inputs(stated, code[0], b, rng)
        cases = [([xs], P.run(stated, xs)) for xs in inputs]
        try:
            result = run_tests(code[0], code[1], cases, limits=LIMITS)
        except ValueError as exc:
            return b.quality_fail, False, f"code not runnable: {exc}"[:80]
        blocked = result.sandbox.status == SandboxStatus.BLOCKED
        if blocked:
            return b.quality_fail, True, "the sandbox blocked the code"
        if result.failed:
            return b.quality_fail, False, f"fails {result.failed}/{len(cases)} tests"
        return b.quality_pass, False, f"passes {len(cases)} tests"

    def _safety(self, trigger: str, code: str, blocked: bool) -> tuple[int, str]:
        from mycel_subnet.safety import analyse_code, scan_prompt

        b = self.budget
        if blocked:
            return b.safe_flagged, "sandbox blocked it"
        if not analyse_code(code, "python").safe:
            return b.safe_flagged, "static analysis flags the code"
        if not scan_prompt(trigger).safe:
            return b.safe_flagged, "the trigger carries an injection"
        if b.residual_check and len(residual_words(trigger)) >= 3:
            return b.safe_flagged, "the trigger says more than its program"
        return b.safe_clean, "no risk found"

    # --- generate -----------------------------------------------------------------------

    def generate_pattern(self, request: GeneratePatternRequest) -> GeneratePatternResult:
        examples = log_examples(request)
        if len(examples) < 2:
            if self.fallback is not None:
                return self.fallback.generate_pattern(request)
            return GeneratePatternResult(generated_pattern=None, refusal_reason="no examples")
        rng = _rng(json.dumps(examples))
        program = self._search(examples)
        if program is not None:
            code, trigger = P.render(program, "solve", rng), P.describe(program, rng)
        else:
            code = self.proposer.propose(examples) if self.proposer is not None else None
            trigger = "Process a list of integers the way the worked examples show"
        if code is None:
            return GeneratePatternResult(
                generated_pattern=None, refusal_reason="no program of the task space fits"
            )
        pattern = LearnedPattern(
            creator=request.creator or self.creator,
            created_at=_EPOCH,
            trigger=trigger,
            context_requirements=["a list of integers"],
            solution=CodeTemplate(language="python", code=code, entrypoint="solve"),
            domain=request.domain,
        )
        kinds = final_leak_check(request, pattern)
        if kinds:  # a model's proposal could echo a value back: the same check as generate
            return GeneratePatternResult(generated_pattern=None, refusal_reason=leak_reason(kinds))
        return GeneratePatternResult(generated_pattern=pattern)

    def _search(self, examples: list[tuple[list[int], Any]]) -> P.Program | None:
        b = self.budget
        return synthesise(
            examples, depth=b.synth_depth, max_states=b.synth_states, clamp=b.synth_clamp,
            max_seconds=b.synth_seconds,
        )  # fmt: skip

    # --- inference ----------------------------------------------------------------------

    def inference(self, request: InferenceRequest) -> InferenceResult:
        examples = [(xs, out) for xs, out in _pairs(request.context)]
        query_lists = _LIST.findall(request.query)
        if not examples or not query_lists:
            if self.fallback is not None:
                return self.fallback.inference(request)
            raise EngineError("inference: no worked examples or input found")
        target = json.loads(query_lists[0])
        for pattern in request.available_patterns:
            code = _code_of(pattern)
            if code is None:
                continue
            cases = [([xs], out) for xs, out in examples] + [([target], None)]
            try:
                result = run_tests(code[0], code[1], cases, limits=LIMITS)
            except ValueError:
                continue
            if result.sandbox.status == SandboxStatus.OK and all(
                case.passed for case in result.cases[:-1]
            ):
                answer = result.cases[-1].actual
                return InferenceResult(response=json.dumps(answer), patterns_used=[pattern.id])
        program = self._search(examples)
        if program is not None:
            return InferenceResult(response=json.dumps(P.run(program, target)))
        code = self.proposer.propose(examples) if self.proposer is not None else None
        if code is not None:
            result = run_tests(code, "solve", [([target], None)], limits=LIMITS)
            if result.sandbox.status == SandboxStatus.OK and result.cases:
                return InferenceResult(response=json.dumps(result.cases[0].actual))
        return InferenceResult(response="no offered pattern fits and no program was found")


def _evaluation(relevance: int, quality: int, safety: int, note: str) -> EvaluatePatternResult:
    result = EvaluationResult(
        relevance=relevance, quality=quality, safety=safety, rationale=note[:500]
    )
    return EvaluatePatternResult(evaluation_result=result)


def _pairs(text: str) -> list[tuple[list[int], Any]]:
    out = []
    for left, right in _PAIR.findall(text):
        try:
            out.append((json.loads(left), json.loads(right)))
        except ValueError:
            continue
    return out


def log_examples(request: GeneratePatternRequest) -> list[tuple[list[int], Any]]:
    """(input, output) pairs: a list in a user turn, the value in the next assistant turn."""
    turns = request.interaction_log.turns
    examples = []
    for ask, answer in itertools.pairwise(turns):
        if ask.role != "user" or answer.role != "assistant":
            continue
        lists = _LIST.findall(ask.content)
        values = re.findall(r"\[[-\d,\s]*\]|-?\d+", answer.content)
        if len(lists) == 1 and values:
            try:
                examples.append((json.loads(lists[0]), json.loads(values[-1])))
            except ValueError:
                continue
    return examples
