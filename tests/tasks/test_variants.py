"""Correct and broken sources: decoys never change a result, broken clauses change only inputs
that hold the rare value, and folded clauses do not show that value as a literal."""

from __future__ import annotations

import ast
import random

import pytest

from mycel_subnet.tasks import programs as P
from mycel_subnet.tasks import variants as V

NAME = "f"


def _program(seed: int, depth: tuple[int, int] = (1, 4)) -> tuple[P.Program, random.Random]:
    rng = random.Random(seed)
    return P.random_program(rng, rng.randint(*depth)), rng


def _clause_inputs(program: P.Program, clause: V.Clause) -> list[list[int]]:
    """Inputs holding a raw value that reaches the clause's stage as the clause's value."""
    out = []
    for raw in P.preimages(program, clause.index, clause.value):
        out += [[raw], [raw, raw], [raw, 1, 2, 3], [5, raw, -4, 9, 0], [3, 8, 1, 12, 7, raw]]
    return out


def _ordinary(program: P.Program, seed: int, n: int = 200) -> list[list[int]]:
    rng = random.Random(50_000 + seed)
    return [P.random_input(rng) for _ in range(n)] + P.probe_inputs(program, rng, n)


def _int_literals(source: str) -> set[int]:
    """Every integer written in the source as a literal (a leading minus included)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and type(node.value) is int:
            found |= {node.value, -node.value}
    return found


@pytest.mark.parametrize("seed", range(300))
def test_correct_variant_computes_the_program_decoy_included(seed: int) -> None:
    program, rng = _program(seed)
    variant = V.correct_variant(program, NAME, rng)
    assert variant.correct and variant.behaves_as == program
    fn = P.compile_source(variant.source, NAME)
    inputs = _ordinary(program, seed, 100)
    if variant.clause is not None:
        assert not variant.clause.changes
        clause_inputs = _clause_inputs(program, variant.clause)
        assert clause_inputs, "a decoy's value must be reachable, or it is no decoy"
        inputs += clause_inputs
    for values in inputs:
        assert fn(list(values)) == P.run(program, values), (variant.source, values)


def test_decoys_are_common_and_look_like_broken_clauses() -> None:
    decoys = folded = 0
    for seed in range(200):
        program, rng = _program(seed)
        variant = V.correct_variant(program, NAME, rng)
        if variant.clause is not None:
            decoys += 1
            folded += variant.clause.folded
            assert (
                " or x == " in variant.source
                or " and x != " in variant.source
                or (" if x != " in variant.source)
            )
    assert 45 <= decoys <= 120  # "half of the time", less where a program has no place
    assert 15 <= folded <= decoys - 15


@pytest.mark.parametrize("tier", (2, 3))
@pytest.mark.parametrize("seed", range(150))
def test_broken_clause_differs_only_where_the_rare_value_reaches(seed: int, tier: int) -> None:
    program, rng = _program(seed)
    variant = V.broken_variant(program, NAME, rng, tier)
    if variant is None:
        return
    assert not variant.correct and variant.tier == tier and variant.clause.changes
    assert variant.clause.folded == (tier == 3)
    fn = P.compile_source(variant.source, NAME)
    for values in _ordinary(program, seed):
        assert fn(list(values)) == P.run(program, values), (variant.source, values)
    # every input that differs holds a preimage of the rare value
    preimages = set(P.preimages(program, variant.clause.index, variant.clause.value))
    assert preimages
    for values in _clause_inputs(program, variant.clause):
        if fn(list(values)) != P.run(program, values):
            assert preimages & set(values)


def test_broken_clauses_usually_have_a_witness_among_clause_inputs() -> None:
    witnessed = total = 0
    for seed in range(200):
        program, rng = _program(seed)
        variant = V.broken_variant(program, NAME, rng, 2)
        if variant is None:
            continue
        total += 1
        fn = P.compile_source(variant.source, NAME)
        witnessed += any(
            fn(list(v)) != P.run(program, v) for v in _clause_inputs(program, variant.clause)
        )
    assert total >= 100
    assert witnessed >= 0.7 * total


@pytest.mark.parametrize("seed", range(800))
def test_tier3_source_never_writes_the_rare_value_as_a_literal(seed: int) -> None:
    """Tier 3 must need constant folding to find: the value may not appear as a literal
    anywhere in the source (not in the condition, nor as a map clause's replacement)."""
    program, rng = _program(seed, (2, 4))
    variant = V.broken_variant(program, NAME, rng, 3)
    if variant is None:
        return
    assert variant.clause.value not in _int_literals(variant.source), variant.source


@pytest.mark.parametrize("seed", range(200))
def test_tier2_source_writes_the_rare_value_as_a_literal(seed: int) -> None:
    program, rng = _program(seed, (2, 4))
    variant = V.broken_variant(program, NAME, rng, 2)
    if variant is None:
        return
    assert variant.clause.value in _int_literals(variant.source)


def test_rare_values_are_out_of_reach_of_ordinary_inputs() -> None:
    for seed in range(200):
        program, rng = _program(seed)
        variant = V.broken_variant(program, NAME, rng, 2)
        if variant is None:
            continue
        assert abs(variant.clause.value) > 1000
        # no ordinary input reaches the clause's stage holding the value
        for values in _ordinary(program, seed, 50):
            reached = list(values)
            for stage in program.stages[: variant.clause.index]:
                reached = P.apply_stage(stage, reached)
            assert variant.clause.value not in reached


@pytest.mark.parametrize("seed", range(200))
def test_tier1_edge_mutant_is_another_program_of_the_space(seed: int) -> None:
    program, rng = _program(seed)
    variant = V.broken_variant(program, NAME, rng, 1)
    if variant is None:
        assert not any(s.op in P.COMPARISONS for s in program.stages)
        assert program.reduce is None or not program.reduce.endswith("_or")
        return
    mutant = variant.behaves_as
    assert mutant is not None and mutant != program
    assert len(mutant.stages) == len(program.stages)
    fn = P.compile_source(variant.source, NAME)
    for values in _ordinary(mutant, seed, 60):
        assert fn(list(values)) == P.run(mutant, values)


def test_edge_mutant_differs_on_the_edge() -> None:
    program = P.Program((P.Stage("keep_gt", 7),), "count")
    variant = V.broken_variant(program, NAME, random.Random(0), 1)
    fn = P.compile_source(variant.source, NAME)
    assert variant.behaves_as == P.Program((P.Stage("keep_ge", 7),), "count")
    assert fn([7]) == 1 and P.run(program, [7]) == 0
    assert fn([8, 6]) == P.run(program, [8, 6])


def test_no_place_for_a_clause_gives_none() -> None:
    program = P.Program((P.Stage("sort_asc"), P.Stage("take", 2)), None)
    assert V.broken_variant(program, NAME, random.Random(0), 1) is None
    assert V.broken_variant(program, NAME, random.Random(0), 2) is None
    assert V.correct_variant(program, NAME, random.Random(0)).clause is None
