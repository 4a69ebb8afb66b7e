"""Fingerprints of answers that survive cosmetic edits, for finding one engine behind many uids.

Code is compared by its normalised syntax tree: identifiers renamed in order of appearance,
docstrings, comments, formatting and type hints gone, so a renamed variable or an added
comment leaves the fingerprint unchanged. Scores are compared with a tolerance (see
`duplicates.py`), so nudging each by a point does not hide a copy either.
"""

from __future__ import annotations

import ast
import builtins
import hashlib

_BUILTINS = frozenset(vars(builtins))


class _Normalise(ast.NodeTransformer):
    """Renames every identifier to its first-seen index; drops docstrings and annotations."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def _name(self, name: str) -> str:
        return self.names.setdefault(name, f"v{len(self.names)}")

    def visit_Name(self, node: ast.Name) -> ast.AST:
        name = node.id if node.id in _BUILTINS else self._name(node.id)
        return ast.copy_location(ast.Name(name, node.ctx), node)

    def visit_arg(self, node: ast.arg) -> ast.AST:
        return ast.copy_location(ast.arg(self._name(node.arg), None), node)

    def _body(self, node):
        body = node.body
        first = body[0] if body else None
        docstring = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
        if docstring and isinstance(first.value.value, str):
            node.body = body[1:] or [ast.Pass()]
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        node.name = self._name(node.name)
        node.returns = None
        self._body(node)
        self.generic_visit(node)
        return node

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_Module(self, node: ast.Module) -> ast.AST:
        self._body(node)
        self.generic_visit(node)
        return node


def code_fingerprint(code: str) -> str:
    """A hash of the normalised syntax tree; the raw text's hash if it does not parse."""
    try:
        tree = _Normalise().visit(ast.parse(code))
        material = ast.dump(tree, annotate_fields=False, include_attributes=False)
    except (SyntaxError, ValueError, RecursionError):
        material = " ".join(code.split())
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:32]
