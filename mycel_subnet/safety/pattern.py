"""Safety of a whole pattern from static analysis: code through `analyse_code`, prompt text
through the prompt-injection scan. The trigger and requirements are scanned too: an injection can
hide in any text a model reads.

It lives here, below the engines and discovery that both use it, so patterns/ never imports
engines/."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from mycel_subnet.safety.analyser import analyse_code, scan_prompt
from mycel_subnet.safety.report import SafetyReport, Severity
from protocol import CodeTemplate, LearnedPattern, ModelAdapter, PromptTemplate, Workflow

# Upper bounds by worst severity: one critical finding makes a pattern unusable, one high
# finding makes it clearly unsafe, medium findings in prompts are injection attempts.
CAP = {Severity.CRITICAL: 5, Severity.HIGH: 20}
PROMPT_MEDIUM_CAP = 50
ADAPTER_SAFETY = 0.8  # weights cannot run code, but cannot be inspected here either


@dataclass(frozen=True)
class Safety:
    value: float
    findings: tuple[str, ...] = ()

    def rationale(self) -> str:
        if not self.findings:
            return "no dangerous constructs found"
        return "found " + "; ".join(self.findings[:3])


def capped(report: SafetyReport, *, prompt: bool = False) -> float:
    """The report's 0-100 score with the severity caps applied, as 0..1."""
    score = report.score
    severities = {f.severity for f in report.findings}
    for severity, cap in CAP.items():
        if severity in severities:
            score = min(score, cap)
    if prompt and Severity.MEDIUM in severities:
        score = min(score, PROMPT_MEDIUM_CAP)
    return score / 100


def _describe(report: SafetyReport) -> list[str]:
    return [f"{f.code} ({f.severity.value}): {f.message}" for f in report.findings]


def code_safety(code: str, language: str) -> Safety:
    report = analyse_code(code, language)
    return Safety(capped(report), tuple(_describe(report)))


def prompt_safety(text: str) -> Safety:
    report = scan_prompt(text)
    return Safety(capped(report, prompt=True), tuple(_describe(report)))


def _combine(parts: list[Safety]) -> Safety:
    value = min((p.value for p in parts), default=1.0)
    findings = tuple(f for p in parts for f in p.findings)
    return Safety(value, findings)


def _parses_as_python(code: str) -> bool:
    try:
        ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    return True


def pattern_safety(pattern: LearnedPattern) -> Safety:
    """The least safe part of the pattern decides."""
    text = "\n".join([pattern.trigger, *pattern.context_requirements])
    parts = [prompt_safety(text)]
    solution = pattern.solution
    if isinstance(solution, CodeTemplate):
        parts.append(code_safety(solution.code, solution.language))
    elif isinstance(solution, PromptTemplate):
        parts.append(prompt_safety(solution.template))
    elif isinstance(solution, Workflow):
        for step in solution.steps:
            if step.action == "code":
                language = "python" if _parses_as_python(step.content) else "text"
                parts.append(code_safety(step.content, language))
            else:
                parts.append(prompt_safety(step.content))
    elif isinstance(solution, ModelAdapter):
        parts.append(Safety(ADAPTER_SAFETY, ("adapter weights not inspected",)))
    return _combine(parts)
