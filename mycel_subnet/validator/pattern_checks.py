"""The validator's own checks of a registered pattern, before and beside what miners say.

Two checks, both the validator's evidence alone (no miner can steer them):
- static safety (`mycel_subnet.safety.pattern`): a high or critical finding (a shell, file
  deletion, the network, dynamic code, an injection in the text) makes the pattern unsafe;
- a code template runs in the sandbox against the examples the pattern declares itself:
  module-level `assert f(...) == value` lines and doctest lines (`>>> f(...)` then the value)
  in the entrypoint's docstring, calls with literal arguments only. The sandbox blocking the
  code (it tried something the policy forbids) also makes it unsafe.

Declared examples prove little when the code passes them (the creator wrote both), but code
that fails its own examples, or does not load, is broken: `code_factor` scales the quality
down, never up. The same examples go to the miners as the test context.
"""

from __future__ import annotations

import ast
import doctest
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from mycel_subnet.engines.codeinfo import entrypoint_signature, is_python
from mycel_subnet.engines.quality import RUNS_UNTESTED, SandboxConfig, code_quality
from mycel_subnet.safety.pattern import pattern_safety
from mycel_subnet.sandbox import SandboxLimits, SandboxUnavailable
from protocol import CodeExample, CodeTemplate, LearnedPattern
from protocol import limits as L

log = logging.getLogger(__name__)

MIN_SAFETY = 0.5  # below this static score (a high or critical finding caps at 0.2): unsafe
MAX_DECLARED = 8
LIMITS = SandboxLimits(cpu_seconds=1.0, wall_seconds=2.0, memory_mb=256)
MAX_REASON = 200


@dataclass(frozen=True)
class OwnChecks:
    """The validator's verdict on one pattern before any miner is asked.

    `code_factor` is None when nothing ran (not a code template, a language the sandbox does
    not run, or no sandbox here); else 0..1: the pass rate on the declared examples, 1.0 for
    code that loads and declares none, 0.0 for code that does not load."""

    safe: bool
    safety: float
    reason: str = ""
    code_factor: float | None = None
    examples: tuple[CodeExample, ...] = field(default_factory=tuple)
    detail: str = ""


def _literal(node: ast.AST) -> tuple[bool, Any]:
    try:
        return True, ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False, None


def _call_args(node: ast.AST, entrypoint: str) -> list[Any] | None:
    """The literal positional arguments of `entrypoint(...)`, or None if `node` is not one."""
    if not (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == entrypoint
        and not node.keywords
    ):
        return None
    args = []
    for arg in node.args:
        ok, value = _literal(arg)
        if not ok:
            return None
        args.append(value)
    return args


def _from_asserts(tree: ast.Module, entrypoint: str) -> list[tuple[list[Any], Any]]:
    found = []
    for node in tree.body:
        test = node.test if isinstance(node, ast.Assert) else None
        if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
            continue
        if not isinstance(test.ops[0], ast.Eq):
            continue
        left, right = test.left, test.comparators[0]
        for call, other in ((left, right), (right, left)):
            args = _call_args(call, entrypoint)
            ok, expected = _literal(other)
            if args is not None and ok:
                found.append((args, expected))
                break
    return found


def _from_doctest(tree: ast.Module, entrypoint: str) -> list[tuple[list[Any], Any]]:
    fn = next(
        (n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == entrypoint), None
    )
    doc = ast.get_docstring(fn) if fn is not None else None
    if not doc:
        return []
    found = []
    try:
        examples = doctest.DocTestParser().get_examples(doc)
    except ValueError:
        return []
    for example in examples:
        try:
            expr = ast.parse(example.source.strip(), mode="eval").body
        except (SyntaxError, ValueError):
            continue
        args = _call_args(expr, entrypoint)
        try:
            ok, expected = _literal(ast.parse(example.want.strip(), mode="eval").body)
        except (SyntaxError, ValueError):
            continue
        if args is not None and ok:
            found.append((args, expected))
    return found


def declared_examples(code: str, entrypoint: str) -> list[CodeExample]:
    """The examples the code declares for its entrypoint (asserts, then doctests), valid as
    wire examples (JSON, bounded) and without repeats; at most MAX_DECLARED."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return []
    out: list[CodeExample] = []
    seen: set[str] = set()
    for args, expected in _from_asserts(tree, entrypoint) + _from_doctest(tree, entrypoint):
        try:
            key = json.dumps([args, expected], sort_keys=True)
            example = CodeExample(args=args, expected=expected)
        except (TypeError, ValueError):  # not JSON (a tuple key, a set) or too large
            continue
        if key not in seen:
            seen.add(key)
            out.append(example)
        if len(out) >= min(MAX_DECLARED, L.MAX_EXAMPLES):
            break
    return out


def _reason(findings: tuple[str, ...]) -> str:
    text = "; ".join(findings[:2]) or "unsafe"
    return ("unsafe: " + text)[:MAX_REASON]


def check_pattern(pattern: LearnedPattern, sandbox: SandboxConfig | None = None) -> OwnChecks:
    """Static safety, then (for a safe Python code template) the sandbox run. Never raises for
    what the pattern contains; a sandbox that cannot start here leaves `code_factor` None."""
    safety = pattern_safety(pattern)
    solution = pattern.solution
    examples: tuple[CodeExample, ...] = ()
    if isinstance(solution, CodeTemplate) and is_python(solution.language):
        signature = entrypoint_signature(solution)
        if signature is not None:
            examples = tuple(declared_examples(solution.code, signature.name))
    if safety.value < MIN_SAFETY:
        return OwnChecks(False, safety.value, _reason(safety.findings), None, examples,
                         safety.rationale())  # fmt: skip
    if not isinstance(solution, CodeTemplate) or not is_python(solution.language):
        return OwnChecks(True, safety.value, "", None, examples, safety.rationale())
    config = sandbox or SandboxConfig(LIMITS)
    try:
        quality = code_quality(solution, list(examples), config)
    except (SandboxUnavailable, OSError) as error:
        log.warning("pattern %s: the sandbox cannot run here: %s", pattern.id, error)
        return OwnChecks(True, safety.value, "", None, examples, f"sandbox unavailable: {error}")
    if quality.blocked:
        reason = f"unsafe: the sandbox blocked the code: {quality.blocked}"[:MAX_REASON]
        return OwnChecks(False, 0.0, reason, 0.0, examples, quality.note)
    # untested: it loads and declares nothing (RUNS_UNTESTED), or it fails to load or parse
    loads = 1.0 if quality.value >= RUNS_UNTESTED else 0.0
    factor = quality.value if quality.tested else loads
    return OwnChecks(True, safety.value, "", factor, examples, quality.note)
