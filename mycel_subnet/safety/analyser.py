"""Entry points: ``analyse_code`` for code templates, ``scan_prompt`` for prompt templates."""

from __future__ import annotations

from mycel_subnet.safety.prompt import scan_prompt_findings
from mycel_subnet.safety.python_ast import analyse_python
from mycel_subnet.safety.report import SafetyReport, build_report
from mycel_subnet.safety.tokens import scan_tokens

PYTHON_NAMES = {"python", "py", "python3"}
MAX_INPUT = 2_000_000


def _check(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__}")
    if len(value) > MAX_INPUT:
        raise ValueError(f"{name} is {len(value)} chars; the limit is {MAX_INPUT}")
    return value


def analyse_code(code: str, language: str) -> SafetyReport:
    """Static safety report for a code template. Python gets a full AST pass plus the token scan
    (shell strings inside Python count too); other languages get the token scan."""
    _check(code, "code")
    lang = _check(language, "language").strip().lower()
    findings = scan_tokens(code)
    if lang in PYTHON_NAMES:
        findings = analyse_python(code) + [f for f in findings if f.code.startswith("SH_")]
    return build_report(findings)


def scan_prompt(text: str) -> SafetyReport:
    """Prompt-injection report for a prompt template."""
    return build_report(scan_prompt_findings(_check(text, "text")))
