"""Test inputs for checking a pattern's code against the program its trigger states.

Random inputs find differences that are common; edge inputs (each comparison's threshold and
its neighbours) find the off-by-one kind; inputs built from the integers the code itself
mentions, pushed back through the earlier stages so they reach the stage that mentions them,
find a clause planted on a rare value. Folding constant expressions finds one written as
`19 * 31`.
"""

from __future__ import annotations

import ast
import json
import operator
import random

from mycel_subnet.engines.solver.budget import Budget
from mycel_subnet.tasks import programs as P

_FOLD = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul}
MAX_INPUTS = 2_000


def _literal(node: ast.AST) -> int | None:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _literal(node.operand)
        return -inner if inner is not None else None
    return None


def _folded(node: ast.AST) -> int | None:
    value = _literal(node)
    if value is not None:
        return value
    if isinstance(node, ast.BinOp) and type(node.op) in _FOLD:
        left, right = _folded(node.left), _folded(node.right)
        if left is not None and right is not None and abs(left) < 10**6 and abs(right) < 10**6:
            return _FOLD[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _folded(node.operand)
        return -inner if inner is not None else None
    return None


def mined_constants(code: str, fold: bool) -> set[int]:
    """Integers the code mentions (and, with `fold`, the values of constant expressions)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError):
        return set()
    found: set[int] = set()
    for node in ast.walk(tree):
        value = _folded(node) if fold else _literal(node)
        if value is not None and abs(value) < 10**7:
            found.add(value)
    return found


def test_inputs(
    program: P.Program, code: str, budget: Budget, rng: random.Random
) -> list[list[int]]:
    """Distinct inputs for comparing `code` with `program`, as many as `budget` allows."""
    inputs: list[list[int]] = [[]]
    inputs += [P.random_input(rng) for _ in range(budget.random_tests)]
    if budget.edge_tests:
        inputs += P.probe_inputs(program, rng, budget.edge_tests)
    if budget.mine_constants:
        ordinary = P.random_input(rng)
        for value in sorted(mined_constants(code, budget.fold_constants)):
            if abs(value) <= 60:
                continue  # ordinary values: the random and edge inputs cover them
            for index in range(len(program.stages) + 1):
                for raw in P.preimages(program, index, value):
                    inputs += [[raw], [raw, raw], [*ordinary[:3], raw]]
    unique: dict[str, list[int]] = {}
    for values in inputs:
        unique.setdefault(json.dumps(values), values)
    return list(unique.values())[:MAX_INPUTS]
