"""Utility of a code template, measured: the generalised code must still do what the original
did on the original's own examples.

The examples are the calls of the entrypoint with literal arguments that the log's code makes
itself (`print(slugify("Hello World"))`, `assert f(3) == 9`, a `__main__` block). The original
code runs on them in the sandbox, then the generalised code with its hoisted parameters set to
the original values; every result must match. The original values never leave this machine:
they exist only in the local sandbox run.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from mycel_subnet.engines.codegen import GeneralisedCode, generalise_code
from mycel_subnet.engines.quality import SandboxConfig
from mycel_subnet.sandbox import SandboxStatus, run_tests

MAX_CASES = 8
PROBE = "_mycel_probe"


@dataclass(frozen=True)
class Reproduction:
    """How many of the original's examples the generalised code reproduces."""

    passed: int
    total: int

    @property
    def ok(self) -> bool:
        return self.passed == self.total


def literal_scrub_map(original: str, scrubbed: str) -> dict[str, str] | None:
    """Each string literal of `original` -> its form in `scrubbed` (the same code after the
    scrubber's code mode), or None when the two do not have the same shape."""
    try:
        before, after = ast.parse(original), ast.parse(scrubbed)
    except (SyntaxError, ValueError):
        return None
    a = [n.value for n in ast.walk(before) if isinstance(n, ast.Constant)]
    b = [n.value for n in ast.walk(after) if isinstance(n, ast.Constant)]
    if len(a) != len(b) or ast.dump(_blank(before)) != ast.dump(_blank(after)):
        return None
    mapping: dict[str, str] = {}
    for x, y in zip(a, b, strict=True):
        one_way = mapping.setdefault(x, y) == y if isinstance(x, str) and x != y else True
        if not one_way:
            return None  # one literal scrubbed two ways: the map cannot be trusted
    return mapping


def _blank(tree: ast.Module) -> ast.Module:
    """The tree with every string constant emptied (to compare shapes)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            node.value = ""
    return tree


def demo_cases(code: str, entrypoint: str) -> list[list[object]]:
    """Argument lists of the entrypoint's calls with literal arguments outside any function."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return []
    cases: list[list[object]] = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for call in ast.walk(node):
            if not (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Name)
                and call.func.id == entrypoint
                and not call.keywords
            ):
                continue
            try:
                args = [ast.literal_eval(arg) for arg in call.args]
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                continue
            if args not in cases:
                cases.append(args)
    return cases[:MAX_CASES]


def reproduces(
    original: str, general: GeneralisedCode, sandbox: SandboxConfig
) -> Reproduction | None:
    """The check, or None when there is nothing to check (no examples, or the original itself
    does not run here: then only loading the template is checked). The reference is the
    original generalised without scrubbing (same shape, original literals); a script wrapped
    into `run()` is checked by calling it with no arguments."""
    entry = general.entrypoint
    reference = generalise_code(original, lambda text: (text, 0))
    if not entry or reference is None or reference.entrypoint != entry:
        return None
    cases = demo_cases(original, entry)
    if not cases and _no_required_args(reference.code, entry):
        cases = [[]]
    if not cases:
        return None
    try:
        first = run_tests(
            reference.code, entry, [(args, None) for args in cases], sandbox.limits,
            sandbox.isolate_network,
        )  # fmt: skip
    except ValueError:
        return None
    if first.sandbox.status is not SandboxStatus.OK:
        return None
    known = [(c.args, c.actual) for c in first.cases if not c.error]
    if not known:
        return None
    kwargs = ", ".join(f"{name}={value!r}" for name, value in general.originals.items())
    probe = f"{general.code}\n\ndef {PROBE}(*args):\n    return {entry}(*args, {kwargs})\n"
    try:
        second = run_tests(probe, PROBE, known, sandbox.limits, sandbox.isolate_network)
    except ValueError:
        return None
    return Reproduction(second.passed, len(known))


def _no_required_args(code: str, entry: str) -> bool:
    tree = ast.parse(code)
    fn = next((f for f in tree.body if isinstance(f, ast.FunctionDef) and f.name == entry), None)
    return fn is not None and not fn.args.args and not fn.args.posonlyargs
