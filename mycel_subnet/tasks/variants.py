"""Correct and broken Python sources for a program, in shapes that look alike.

A broken variant must agree with the correct one on ordinary inputs (so public examples cannot
separate them) and be detectable only by work: testing edge values, or reading the code's
constants and testing around them. Three tiers:

- tier 1, "edge": a comparison made strict or non-strict, or a different empty-list default;
  ordinary random tests catch it now and then, edge tests always;
- tier 2, "clause": one stage gets an extra clause on a rare value written as a literal
  (`x > 7 or x == -613`, `x * 3 if x != 613 else 0`); only inputs holding that value differ;
- tier 3, "folded": the same with the rare value written as an expression (`x == 19 * 31`).

Correct sources carry the same shapes as harmless, redundant clauses half of the time
(`x > 7 or x == 613`, `x * 3 if x != 613 else 1839`), so the shape alone gives nothing away:
only evaluating the clause does.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from mycel_subnet.tasks.programs import (
    COMPARISONS,
    PARAM_NAMES,
    WORK_NAMES,
    Program,
    Stage,
    apply_stage,
    reduce_expr,
    stage_line,
)

TIERS = (1, 2, 3)
_CLAUSE_OPS = (*COMPARISONS, "keep_even", "keep_odd", "add", "mul", "neg")
_FLIP = {"keep_gt": "keep_ge", "keep_ge": "keep_gt", "keep_lt": "keep_le", "keep_le": "keep_lt"}
_CONDITIONS = {
    "keep_gt": "x > {a}", "keep_ge": "x >= {a}", "keep_lt": "x < {a}", "keep_le": "x <= {a}",
    "keep_even": "x % 2 == 0", "keep_odd": "x % 2 == 1",
}  # fmt: skip
_MAPS = {"add": "x + {a}", "mul": "x * {a}", "neg": "-x"}


@dataclass(frozen=True)
class Clause:
    """An extra clause on stage `index` about the rare value `value` (see module docstring)."""

    index: int
    value: int
    changes: bool  # True: it changes the result on inputs holding `value`
    folded: bool  # write `value` as a product instead of a literal
    other: int = 0  # map stages: what `value` maps to in the clause


def _value_text(value: int, folded: bool, rng: random.Random) -> str:
    if not folded:
        return str(value)
    for _ in range(50):
        a = rng.randint(7, 31)
        if value % a == 0 and abs(value // a) > 1:
            return f"{a} * {value // a}" if value > 0 else f"-{a} * {-value // a}"
    return f"{value - 57} + 57"


def _clause_line(stage: Stage, clause: Clause, v: str, rng: random.Random) -> str:
    text = _value_text(clause.value, clause.folded, rng)
    if stage.op in _CONDITIONS:
        cond = _CONDITIONS[stage.op].format(a=stage.a)
        keeps = apply_stage(stage, [clause.value]) == [clause.value]
        # "or x == V" changes the result iff V is not kept already; "and x != V" iff it is
        joiner = ("and", "!=") if keeps == clause.changes else ("or", "==")
        return f"{v} = [x for x in {v} if {cond} {joiner[0]} x {joiner[1]} {text}]"
    expr = _MAPS[stage.op].format(a=stage.a).replace("+ -", "- ")
    return f"{v} = [{expr} if x != {text} else {clause.other} for x in {v}]"


def render_variant(
    program: Program, name: str, rng: random.Random, clause: Clause | None = None
) -> str:
    """`program` as a function `name`, with `clause` woven into its stage if given."""
    param, work = rng.choice(PARAM_NAMES), rng.choice(WORK_NAMES)
    lines = [f"def {name}({param}):", f"    {work} = list({param})"]
    for index, stage in enumerate(program.stages):
        if clause is not None and clause.index == index:
            lines.append(f"    {_clause_line(stage, clause, work, rng)}")
        else:
            lines.append(f"    {stage_line(stage, work)}")
    lines.append(f"    return {reduce_expr(program.reduce, program.d, work)}")
    return "\n".join(lines) + "\n"


def _rare_value(rng: random.Random) -> int:
    """Far outside what ordinary inputs reach at any stage (|value| <= 40 * 5 * 5)."""
    return rng.choice((-1, 1)) * rng.randint(1001, 9973)


def make_clause(
    program: Program, rng: random.Random, *, changes: bool, folded: bool
) -> Clause | None:
    """A clause for one of `program`'s stages that does (or, as a decoy, does not) change it."""
    options = [i for i, s in enumerate(program.stages) if s.op in _CLAUSE_OPS]
    if not options:
        return None
    index = rng.choice(options)
    stage = program.stages[index]
    value = None
    for _ in range(8):  # a rare raw input, pushed through the earlier stages, must survive
        reached = [_rare_value(rng)]
        for earlier in program.stages[:index]:
            reached = apply_stage(earlier, reached)
        if reached and abs(reached[0]) > 1000:  # a clamp would make it ordinary
            value = reached[0]
            break
    if value is None:
        return None
    if stage.op in _MAPS:
        mapped = apply_stage(stage, [value])[0]
        shifts = [k for k in (-7, -3, 1, 2, 5) if mapped + k != value]  # never `value` itself
        other = mapped + rng.choice(shifts) if changes else mapped
        return Clause(index, value, changes, folded, other)
    return Clause(index, value, changes, folded)


def edge_mutant(program: Program, rng: random.Random) -> Program | None:
    """Tier 1: a comparison flipped between strict and non-strict, or another empty default."""
    flips = [i for i, s in enumerate(program.stages) if s.op in _FLIP]
    if flips:
        i = rng.choice(flips)
        stages = list(program.stages)
        stages[i] = Stage(_FLIP[stages[i].op], stages[i].a)
        return replace(program, stages=tuple(stages))
    if program.reduce is not None and program.reduce.endswith("_or"):
        return replace(program, d=program.d + rng.choice((-2, -1, 1, 2)))
    return None


@dataclass(frozen=True)
class Variant:
    """A source for a program: correct or broken, and what the broken one changed."""

    source: str
    correct: bool
    tier: int
    behaves_as: Program | None  # the DSL program it computes (None for clause mutants)
    clause: Clause | None = None


def correct_variant(program: Program, name: str, rng: random.Random) -> Variant:
    """The correct source; half the time with a redundant decoy clause."""
    clause = None
    if rng.random() < 0.5:
        clause = make_clause(program, rng, changes=False, folded=rng.random() < 0.5)
    return Variant(render_variant(program, name, rng, clause), True, 0, program, clause)


def broken_variant(program: Program, name: str, rng: random.Random, tier: int) -> Variant | None:
    """A broken source of the given tier, or None when `program` has no place for one."""
    if tier == 1:
        mutant = edge_mutant(program, rng)
        if mutant is None:
            return None
        clause = None
        if rng.random() < 0.5:
            clause = make_clause(mutant, rng, changes=False, folded=rng.random() < 0.5)
        return Variant(render_variant(mutant, name, rng, clause), False, 1, mutant, clause)
    clause = make_clause(program, rng, changes=True, folded=tier == 3)
    if clause is None:
        return None
    return Variant(render_variant(program, name, rng, clause), False, tier, None, clause)
