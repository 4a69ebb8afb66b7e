"""What the engines need to know about a Python code template without running it: does it
parse, which function is its entrypoint, and what parameters that function takes."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from protocol import CodeTemplate

PYTHON = frozenset({"python", "python3", "py"})


def is_python(language: str) -> bool:
    return language.strip().lower() in PYTHON


@dataclass(frozen=True)
class Signature:
    """Positional parameters of a function: all names, and how many have no default."""

    name: str
    params: tuple[str, ...]
    required: int
    varargs: bool = False


def parse(code: str) -> ast.Module | None:
    try:
        return ast.parse(code)
    except (SyntaxError, ValueError):
        return None


def top_functions(tree: ast.Module) -> list[ast.FunctionDef]:
    return [n for n in tree.body if isinstance(n, ast.FunctionDef)]


def signature_of(fn: ast.FunctionDef) -> Signature:
    args = fn.args
    positional = [a.arg for a in (*args.posonlyargs, *args.args)]
    required = len(positional) - len(args.defaults)
    return Signature(fn.name, tuple(positional), required, args.vararg is not None)


def infer_entrypoint(tree: ast.Module) -> str | None:
    """The function a caller most likely means: the only public top-level function, else the
    last public one that no other top-level function calls (helpers are called, the API is
    not)."""
    functions = [f for f in top_functions(tree) if not f.name.startswith("_")] or top_functions(
        tree
    )
    if not functions:
        return None
    if len(functions) == 1:
        return functions[0].name
    called = {
        node.func.id
        for fn in top_functions(tree)
        for node in ast.walk(fn)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    roots = [f for f in functions if f.name not in called]
    return (roots or functions)[-1].name


def entrypoint_signature(template: CodeTemplate) -> Signature | None:
    """The entrypoint's signature (declared or inferred), or None when there is no function."""
    if not is_python(template.language):
        return None
    tree = parse(template.code)
    if tree is None:
        return None
    name = template.entrypoint or infer_entrypoint(tree)
    for fn in top_functions(tree):
        if fn.name == name:
            return signature_of(fn)
    if template.entrypoint:
        # Declared but not a plain `def` (a lambda, a class, an alias): arity unknown.
        return Signature(template.entrypoint, (), 0, varargs=True)
    return None
