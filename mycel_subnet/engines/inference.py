"""inference: rank the offered patterns for the query, instantiate the best one that works.

Ranking is relevance (trigger similarity to the query, requirements met by the context) weighted
by safety; patterns below the safety floor are never run. A code template runs in the sandbox on
arguments taken from the request; a prompt template is filled from the request and goes through
the model when there is one (without a model the filled template is the answer); a workflow runs
step by step. If the best pattern fails, the next relevant one is tried.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from mycel_subnet.engines.args import RequestData, candidate_args, read_request
from mycel_subnet.engines.codeinfo import (
    Signature,
    entrypoint_signature,
    infer_entrypoint,
    is_python,
    parse,
    signature_of,
    top_functions,
)
from mycel_subnet.engines.extract import asks_for_extraction, extract_fields
from mycel_subnet.engines.quality import SandboxConfig
from mycel_subnet.engines.relevance import relevance
from mycel_subnet.engines.risk import pattern_safety
from mycel_subnet.engines.similarity import Similarity
from mycel_subnet.engines.slots import find_values
from mycel_subnet.intelligence.llm import LLMError, Router
from mycel_subnet.sandbox import run_python
from protocol import (
    CodeTemplate,
    InferenceRequest,
    InferenceResult,
    LearnedPattern,
    PromptTemplate,
    Workflow,
    template_placeholders,
)
from protocol import limits as L

log = logging.getLogger(__name__)

MIN_RELEVANCE = 0.25
MIN_SAFETY = 0.5
MAX_TRIES = 3
MAX_DEPTH = 2
NO_PATTERN = "No offered pattern applies to this request"


@dataclass(frozen=True)
class Ranked:
    pattern: LearnedPattern
    relevance: float
    safety: float

    @property
    def score(self) -> float:
        return self.relevance * (0.5 + 0.5 * self.safety)


@dataclass
class Outcome:
    ok: bool
    text: str = ""
    used: list[str] = field(default_factory=list)
    error: str = ""


@dataclass
class Runner:
    """Everything an instantiation needs; one per request."""

    query: str
    data: RequestData
    sandbox: SandboxConfig
    router: Router | None
    answer_tokens: int
    offered: dict[str, LearnedPattern]


def format_value(value: Any) -> str:
    """A returned value as the response text: strings as they are, everything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def rank(
    patterns: list[LearnedPattern], query: str, data: RequestData, sim: Similarity
) -> list[Ranked]:
    """Usable patterns, best first (unsafe and irrelevant ones left out)."""
    sims = sim.many(query, [p.trigger for p in patterns])
    ranked = []
    for pattern, trig in zip(patterns, sims, strict=True):
        safety = pattern_safety(pattern).value
        rel = relevance(pattern, query, data.facts, None, sim, trigger_sim=trig).value
        if safety >= MIN_SAFETY and rel >= MIN_RELEVANCE:
            ranked.append(Ranked(pattern, rel, safety))
    return sorted(ranked, key=lambda r: r.score, reverse=True)


def _call(code: str, signature: Signature, candidates: list[list[Any]], run: Runner) -> Outcome:
    last = "no arguments could be taken from the request"
    for args in candidates:
        try:
            result = run_python(
                code,
                entrypoint=signature.name,
                args_json=args,
                limits=run.sandbox.limits,
                isolate_network=run.sandbox.isolate_network,
            )
        except ValueError as exc:  # arguments that are not JSON
            last = str(exc)
            continue
        if result.ok:
            return Outcome(True, format_value(result.returned))
        last = f"{result.status.value}: {result.detail[:160]}"
    return Outcome(False, error=last)


def run_code(template: CodeTemplate, run: Runner) -> Outcome:
    if not is_python(template.language):
        return Outcome(False, error=f"{template.language} code is not run here")
    signature = entrypoint_signature(template)
    if signature is None:
        result = run_python(
            template.code, limits=run.sandbox.limits, isolate_network=run.sandbox.isolate_network
        )
        if result.ok and result.stdout.strip():
            return Outcome(True, result.stdout.strip())
        return Outcome(False, error=f"the code printed nothing ({result.detail[:120]})")
    return _call(template.code, signature, candidate_args(signature, run.query, run.data), run)


def fill_prompt(template: str, names: list[str], run: Runner, bound: dict[str, str]) -> str:
    values = dict(bound)
    missing = [n for n in names if n not in values]
    values.update(find_values(missing, run.data.facts, run.data.all_text(run.query)))
    return template.format(**{n: values.get(n, f"<{n}>") for n in names})


def through_model(prompt: str, run: Runner) -> str:
    """The model's answer to a filled prompt; without a model, the filled prompt itself."""
    if run.router is None:
        return prompt
    try:
        answer = run.router.generate(
            f"{prompt}\n\nRequest: {run.query}", max_new_tokens=run.answer_tokens
        ).text
    except LLMError as exc:
        log.warning("model unavailable for a prompt template: %s", exc)
        return prompt
    return answer.strip() or prompt


def run_prompt(template: PromptTemplate, run: Runner) -> Outcome:
    if asks_for_extraction(template.template, run.query):
        extracted = extract_fields(run.query, run.data.facts)
        if extracted is not None:
            return Outcome(True, extracted)
    filled = fill_prompt(template.template, list(template.variables), run, {})
    return Outcome(True, through_model(filled, run))


def _step_code(content: str, run: Runner, env: dict[str, str], previous: str | None) -> Outcome:
    tree = parse(content)
    if tree is None:
        return Outcome(False, error="a code step does not parse")
    name = infer_entrypoint(tree)
    if name is None:
        template = CodeTemplate(language="python", code=content)
        return run_code(template, run)
    fn = next(f for f in top_functions(tree) if f.name == name)
    signature = signature_of(fn)
    candidates = []
    wanted = signature.params[: signature.required]
    if all(p in env for p in wanted):
        candidates.append([_decode(env[p]) for p in wanted])
    if previous is not None and signature.required == 1:
        candidates.append([_decode(previous)])
    candidates += candidate_args(signature, run.query, run.data)
    return _call(content, signature, candidates[:4], run)


def _decode(text: str) -> Any:
    try:
        return json.loads(text)
    except (json.JSONDecodeError, TypeError):
        return text


def run_workflow(workflow: Workflow, run: Runner, depth: int) -> Outcome:
    env: dict[str, str] = dict(run.data.facts)
    used: list[str] = []
    previous: str | None = None
    for step in workflow.steps:
        if step.action == "prompt":
            try:
                names = template_placeholders(step.content)
                text = fill_prompt(step.content, names, run, env)
            except (ValueError, KeyError, IndexError):
                text = step.content
            outcome = Outcome(True, through_model(text, run))
        elif step.action == "code":
            outcome = _step_code(step.content, run, env, previous)
        else:
            target = run.offered.get(step.content.strip())
            if target is None or depth >= MAX_DEPTH:
                return Outcome(False, error=f"step {step.name!r} names a pattern not offered")
            outcome = instantiate(target, run, depth + 1)
        if not outcome.ok:
            return Outcome(False, error=f"step {step.name!r}: {outcome.error}")
        used += outcome.used
        env[step.output] = previous = outcome.text
    return Outcome(True, previous or "", used)


def instantiate(pattern: LearnedPattern, run: Runner, depth: int = 0) -> Outcome:
    solution = pattern.solution
    if isinstance(solution, CodeTemplate):
        outcome = run_code(solution, run)
    elif isinstance(solution, PromptTemplate):
        outcome = run_prompt(solution, run)
    elif isinstance(solution, Workflow):
        outcome = run_workflow(solution, run, depth)
    else:
        outcome = Outcome(False, error="adapters are not loaded for inference here")
    if outcome.ok:
        assert pattern.id is not None
        outcome.used = [pattern.id, *[u for u in outcome.used if u != pattern.id]]
    return outcome


def without_pattern(run: Runner, reason: str) -> InferenceResult:
    if run.router is not None:
        context = f"\n\nContext: {run.data.text}" if run.data.text else ""
        try:
            text = run.router.generate(
                f"{run.query}{context}", max_new_tokens=run.answer_tokens
            ).text.strip()
            if text:
                return InferenceResult(response=text[: L.MAX_RESPONSE_LEN])
        except LLMError as exc:
            reason += f"; the model could not answer ({str(exc)[:120]})"
    return InferenceResult(response=f"{NO_PATTERN}: {reason}."[: L.MAX_RESPONSE_LEN])


def infer(
    request: InferenceRequest,
    sim: Similarity,
    sandbox: SandboxConfig,
    router: Router | None,
    answer_tokens: int,
) -> InferenceResult:
    data = read_request(request.query, request.context)
    offered = {p.id: p for p in request.available_patterns if p.id}
    run = Runner(request.query, data, sandbox, router, answer_tokens, offered)
    if not request.available_patterns:
        return without_pattern(run, "none were offered")
    ranked = rank(list(request.available_patterns), request.query, data, sim)
    if not ranked:
        return without_pattern(run, "none is both relevant and safe")
    errors = []
    for candidate in ranked[:MAX_TRIES]:
        outcome = instantiate(candidate.pattern, run)
        if outcome.ok:
            return InferenceResult(
                response=outcome.text[: L.MAX_RESPONSE_LEN],
                patterns_used=outcome.used[: L.MAX_OFFERED_PATTERNS],
            )
        errors.append(outcome.error)
        log.info("pattern %s failed: %s", (candidate.pattern.id or "")[:12], outcome.error)
    return without_pattern(run, "the relevant patterns failed (" + "; ".join(errors)[:300] + ")")
