"""Measured quality of a pattern for a context. Code templates run in the sandbox on the
context's examples (the pass rate is the score); prompt templates are scored on whether their
variables can be filled from the context and whether they say something; workflows step by
step. A sandbox run that the policy blocked is reported so safety can use it as evidence."""

from __future__ import annotations

from dataclasses import dataclass, field

from mycel_subnet.engines.codeinfo import entrypoint_signature, is_python, parse
from mycel_subnet.engines.slots import find_values
from mycel_subnet.privacy.pipeline import utility_score
from mycel_subnet.sandbox import SandboxLimits, SandboxStatus, run_python, run_tests
from protocol import (
    CodeExample,
    CodeTemplate,
    ModelAdapter,
    PromptTemplate,
    TestContext,
    Workflow,
    template_placeholders,
)

RUNS_UNTESTED = 0.6  # executes cleanly, but no example says whether it is right
EXEC_FAILS = 0.15
NOT_RUNNABLE = 0.4  # a language the sandbox does not run: only static checks
ADAPTER_QUALITY = 0.5  # weights are not fetched from IPFS during an evaluation
SUBSTANCE_WORDS = 5


@dataclass(frozen=True)
class Quality:
    value: float
    note: str
    blocked: str | None = None  # the sandbox policy violation, when the code tried one
    tested: bool = False  # the value is a pass rate on the context's examples


@dataclass(frozen=True)
class SandboxConfig:
    limits: SandboxLimits = field(default_factory=SandboxLimits)
    isolate_network: bool = True


def _case_passed(example: CodeExample, passed: bool, error: str) -> bool:
    # An example without an expected value only asks that the call succeeds.
    return passed if example.expected is not None else not error


def code_quality(
    template: CodeTemplate, examples: list[CodeExample], sandbox: SandboxConfig
) -> Quality:
    if not is_python(template.language):
        return Quality(NOT_RUNNABLE, f"{template.language} is not run here; static checks only")
    if parse(template.code) is None:
        return Quality(0.0, "the code does not parse")
    signature = entrypoint_signature(template)
    if examples and signature is not None:
        cases = [(ex.args, ex.expected) for ex in examples]
        run = run_tests(
            template.code, signature.name, cases, sandbox.limits, sandbox.isolate_network
        )
        if run.sandbox.status is SandboxStatus.BLOCKED:
            return Quality(0.0, "the sandbox blocked the code", run.sandbox.detail)
        passed = sum(
            _case_passed(ex, case.passed, case.error)
            for ex, case in zip(examples, run.cases, strict=True)
        )
        note = f"passed {passed}/{len(examples)} examples in the sandbox"
        if run.sandbox.status is not SandboxStatus.OK:
            note += f" ({run.sandbox.status.value}: {run.sandbox.detail[:80]})"
        return Quality(passed / len(examples), note, tested=True)
    result = run_python(
        template.code, limits=sandbox.limits, isolate_network=sandbox.isolate_network
    )
    if result.status is SandboxStatus.BLOCKED:
        return Quality(0.0, "the sandbox blocked the code", result.detail)
    if not result.ok:
        return Quality(EXEC_FAILS, f"the code fails to load: {result.detail[:100]}")
    if examples:
        return Quality(EXEC_FAILS, "examples given but the code defines no function to call")
    return Quality(RUNS_UNTESTED, "loads cleanly in the sandbox; no examples to test")


def substance(text: str) -> float:
    """How much a template says besides its blanks (0..1)."""
    ratio, words = utility_score(text)
    return min(1.0, words / SUBSTANCE_WORDS) * (0.5 + 0.5 * ratio)


def prompt_quality(template: PromptTemplate, context: TestContext) -> Quality:
    variables = list(template.variables)
    filled = find_values(variables, context.facts, context.query)
    fill = len(filled) / len(variables) if variables else 1.0
    value = 0.7 * fill + 0.3 * substance(template.template)
    missing = [v for v in variables if v not in filled]
    note = f"{len(filled)}/{len(variables)} variables fillable from the context"
    if missing:
        note += " (missing " + ", ".join(missing[:3]) + ")"
    return Quality(value, note)


def workflow_quality(workflow: Workflow, context: TestContext) -> Quality:
    bound: set[str] = set()
    good = 0
    problems: list[str] = []
    for step in workflow.steps:
        ok = True
        if step.action == "code":
            ok = parse(step.content) is not None
        elif step.action == "prompt":
            try:
                names = template_placeholders(step.content)
            except ValueError:
                names, ok = [], False
            unbound = [n for n in names if n not in bound]
            if unbound and len(find_values(unbound, context.facts, context.query)) < len(unbound):
                ok = False
        else:  # "pattern": a reference to another pattern by id
            ok = len(step.content.strip()) == 64
        good += ok
        if not ok:
            problems.append(step.name)
        bound.add(step.output)
    note = f"{good}/{len(workflow.steps)} steps usable"
    if problems:
        note += " (not: " + ", ".join(problems[:3]) + ")"
    return Quality(good / len(workflow.steps), note)


def measure_quality(solution: object, context: TestContext, sandbox: SandboxConfig) -> Quality:
    if isinstance(solution, CodeTemplate):
        return code_quality(solution, list(context.examples), sandbox)
    if isinstance(solution, PromptTemplate):
        return prompt_quality(solution, context)
    if isinstance(solution, Workflow):
        return workflow_quality(solution, context)
    if isinstance(solution, ModelAdapter):
        return Quality(ADAPTER_QUALITY, "adapter weights are not fetched for evaluation")
    raise TypeError(f"unknown solution kind {type(solution).__name__}")
