"""Turn a code block from a conversation into a shareable code template.

The code is parsed and re-emitted with `ast.unparse`, which drops every comment (where names and
notes hide). String literals are scrubbed of personal data; scrubbed literals and "magic"
numbers inside the entrypoint become keyword-only parameters whose defaults keep the original
behaviour (so existing callers and tests still pass) while the specifics become tunable.
Demo code (`if __name__ == "__main__":`, top-level prints) is dropped; a script without
functions is wrapped into `def run(...)`. Returns None when the result cannot be made safe.
"""

from __future__ import annotations

import ast
import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from mycel_subnet.engines.codeinfo import infer_entrypoint, top_functions
from mycel_subnet.privacy.recognisers import find_spans

Scrub = Callable[[str], tuple[str, int]]  # text -> (clean text, how many values removed)

FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+#.-]*)[ \t]*\n(.*?)```", re.DOTALL)
STRUCTURAL_NUMBERS = {0, 1, -1, 2, 10, 100, 1000}
MAX_HOISTED = 8
_PII_KINDS_IN_CODE = {"EMAIL", "PHONE", "CREDIT_CARD", "IBAN", "SSN", "PRIVATE_KEY", "API_KEY"}


@dataclass(frozen=True)
class CodeBlock:
    language: str
    code: str


@dataclass(frozen=True)
class GeneralisedCode:
    code: str
    entrypoint: str | None
    parameters: tuple[str, ...]  # the hoisted keyword-only parameters
    scrubbed: int  # string literals that carried personal data
    # The original value behind each hoisted parameter: private, for the local behaviour
    # check only (the generalised code with these values must do what the original did).
    originals: dict[str, object] = field(default_factory=dict, repr=False)


def code_blocks(text: str) -> list[CodeBlock]:
    """Fenced code blocks, in order, with their (lower-case) language tag."""
    return [CodeBlock(tag.lower(), body) for tag, body in FENCE.findall(text)]


def strip_code_blocks(text: str, replacement: str = "") -> str:
    return FENCE.sub(replacement, text)


def _is_main_guard(node: ast.stmt) -> bool:
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return False
    return "__name__" in ast.unparse(node.test)


def _drop_demo_code(tree: ast.Module) -> None:
    has_defs = any(isinstance(n, (ast.FunctionDef, ast.ClassDef)) for n in tree.body)
    kept = []
    for index, node in enumerate(tree.body):
        if _is_main_guard(node):
            continue
        docstring = (
            index == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        )
        if has_defs and isinstance(node, ast.Expr) and not docstring:
            continue
        kept.append(node)
    tree.body = kept


def _wrap_script(tree: ast.Module) -> str | None:
    """A script without functions becomes `def run(): ...` returning its last expression."""
    if not tree.body or any(isinstance(n, (ast.FunctionDef, ast.ClassDef)) for n in tree.body):
        return None
    imports = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    body = [n for n in tree.body if not isinstance(n, (ast.Import, ast.ImportFrom))]
    if not body:
        return None
    last = body[-1]
    if isinstance(last, ast.Expr):
        value = last.value
        if (
            isinstance(value, ast.Call)
            and isinstance(value.func, ast.Name)
            and value.func.id == "print"
            and len(value.args) == 1
        ):
            value = value.args[0]
        body[-1] = ast.Return(value=value)
    fn = ast.FunctionDef(
        name="run",
        args=ast.arguments(posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[]),
        body=body,
        decorator_list=[],
        returns=None,
        type_params=[],
    )
    tree.body = [*imports, fn]
    ast.fix_missing_locations(tree)
    return "run"


class _Scrubber(ast.NodeTransformer):
    """Replaces personal data in string literals; inside the entrypoint, such literals (and
    magic numbers) become keyword-only parameters."""

    def __init__(
        self,
        entry: ast.FunctionDef | None,
        taken: set[str],
        scrub: Scrub,
        numbers: frozenset[tuple[type, object]] = frozenset(),
    ):
        self.entry = entry
        self.numbers = numbers  # values hoisted elsewhere: replaced in every position
        self.taken = taken
        self.scrub = scrub
        self.hoisted: dict[tuple[type, object], str] = {}
        self.defaults: list[ast.expr] = []
        self.originals: dict[str, object] = {}
        self.scrubbed = 0
        self._in_entry = False
        self._in_fstring = 0
        self._skip_numbers = 0

    def _name(self, base: str) -> str:
        name, n = base, 1
        while name in self.taken:
            n += 1
            name = f"{base}_{n}"
        self.taken.add(name)
        return name

    def _hoist(self, value: object, base: str, default: object = None) -> ast.expr | None:
        """A parameter for `value` (its default: `default`, the scrubbed form, if given)."""
        key = (type(value), value)
        if key not in self.hoisted:
            if len(self.hoisted) >= MAX_HOISTED:
                return None
            self.hoisted[key] = self._name(base)
            self.defaults.append(ast.Constant(value if default is None else default))
            self.originals[self.hoisted[key]] = value
        return ast.Name(id=self.hoisted[key], ctx=ast.Load())

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        inside = node is self.entry
        if inside:
            self._in_entry = True
        # Defaults and decorators are evaluated outside the body: scrub, never hoist there.
        entry, self._in_entry = self._in_entry, False
        node.args = self.visit(node.args)
        self._in_entry = entry
        node.body = [self.visit(stmt) for stmt in node.body]
        if inside:
            self._in_entry = False
        return node

    def visit_Expr(self, node: ast.Expr) -> ast.AST:
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            clean, found = self.scrub(node.value.value)  # a docstring: scrub, never hoist
            self.scrubbed += bool(found)
            return ast.Expr(ast.Constant(clean)) if found else node
        self.generic_visit(node)
        return node

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
        self._in_fstring += 1
        self.generic_visit(node)
        self._in_fstring -= 1
        return node

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        node.value = self.visit(node.value)
        self._skip_numbers += 1  # indices and slices are structure, not specifics
        node.slice = self.visit(node.slice)
        self._skip_numbers -= 1
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        name = node.func.id if isinstance(node.func, ast.Name) else ""
        node.func = self.visit(node.func)
        # range(10), round(x, 2): literal arguments of these are structure, not specifics.
        structural = name in ("range", "round", "enumerate", "zip", "int", "pow")
        node.args = [a if structural and self._fixed(a) else self.visit(a) for a in node.args]
        node.keywords = [self.visit(k) for k in node.keywords]
        return node

    def _fixed(self, node: ast.expr) -> bool:
        return isinstance(node, ast.Constant) and (type(node.value), node.value) not in self.numbers

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        value = node.value
        if isinstance(value, str) and value.strip():
            clean, found = self.scrub(value)
            if not found:
                return node
            self.scrubbed += 1
            if self._in_entry and not self._in_fstring:
                kind = re.search(r"<([A-Z_]+)>", clean)
                hoisted = self._hoist(value, kind.group(1).lower() if kind else "value", clean)
                if hoisted is not None:
                    return hoisted
            return ast.Constant(clean)
        if (
            self._in_entry
            and not self._in_fstring
            and (not self._skip_numbers or (type(value), value) in self.numbers)
            and isinstance(value, (int, float))
            and not isinstance(value, bool)
            and value not in STRUCTURAL_NUMBERS
        ):
            return self._hoist(value, "factor" if isinstance(value, float) else "limit") or node
        return node


def _residual_pii(tree: ast.Module) -> bool:
    """True when a literal still carries personal data after scrubbing (a bug; refuse)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, (str, int)):
            text = str(node.value)
            if any(s.type in _PII_KINDS_IN_CODE for s in find_spans(text)):
                return True
    return False


def generalise_code(code: str, scrub: Scrub) -> GeneralisedCode | None:
    """A scrubbed, parameterised version of Python `code`, or None if it does not parse or
    personal data could not be removed from it."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return None
    tree = copy.deepcopy(tree)
    _drop_demo_code(tree)
    entrypoint = _wrap_script(tree) or infer_entrypoint(tree)
    entry = next((f for f in top_functions(tree) if f.name == entrypoint), None)
    taken = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    taken |= {a.arg for n in ast.walk(tree) if isinstance(n, ast.arg) for a in [n]}
    taken |= {f.name for f in top_functions(tree)}
    # A first pass finds the magic numbers; the second replaces them everywhere in the
    # entrypoint, slices included, so the new parameter controls every use of the value.
    probe_tree = copy.deepcopy(tree)
    probe_entry = next((f for f in top_functions(probe_tree) if f.name == entrypoint), None)
    probe = _Scrubber(probe_entry, set(taken), lambda text: (text, 0))
    probe.visit(probe_tree)
    numbers = frozenset(k for k in probe.hoisted if k[0] in (int, float))
    scrubber = _Scrubber(entry, taken, scrub, numbers)
    tree = scrubber.visit(tree)
    if entry is not None and scrubber.hoisted:
        names = list(scrubber.hoisted.values())
        entry.args.kwonlyargs.extend(ast.arg(arg=n) for n in names)
        entry.args.kw_defaults.extend(scrubber.defaults)
    ast.fix_missing_locations(tree)
    if _residual_pii(tree):
        return None
    text = ast.unparse(tree).strip() + "\n"
    return GeneralisedCode(
        text, entrypoint, tuple(scrubber.hoisted.values()), scrubber.scrubbed, scrubber.originals
    )
