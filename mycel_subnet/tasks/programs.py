"""The public task space: small list programs, their Python source, their English description.

Validators draw challenge instances from this space with a per-step secret seed; engines may
import it freely (it is public, like an Affine environment): knowing the space does not tell
anyone which program, constants, mutant or hidden inputs a given step drew. A program is a
pipeline of list stages over integers, optionally reduced to one integer at the end. The space
is combinatorial (about 25 stage kinds with constants, up to five stages, six reductions), so
instances cannot be enumerated ahead of a step.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

Value = int | list[int]

# --- the stage kinds ----------------------------------------------------------------------

FILTERS = ("keep_gt", "keep_ge", "keep_lt", "keep_le", "keep_even", "keep_odd", "keep_mod")
MAPS = ("add", "mul", "abs", "neg", "clamp")
ORDERS = ("sort_asc", "sort_desc", "reverse", "dedupe", "take", "drop")
STAGE_OPS = FILTERS + MAPS + ORDERS
REDUCE_OPS = ("sum", "count", "max_or", "min_or", "first_or", "last_or")
COMPARISONS = {"keep_gt": ">", "keep_ge": ">=", "keep_lt": "<", "keep_le": "<="}

VALUE_RANGE = (-20, 40)  # element values of generated inputs
LENGTH_RANGE = (0, 9)  # lengths of generated inputs


@dataclass(frozen=True)
class Stage:
    """One pipeline step; `a` and `b` are its constants (unused ones are 0)."""

    op: str
    a: int = 0
    b: int = 0

    def __post_init__(self) -> None:
        if self.op not in STAGE_OPS:
            raise ValueError(f"unknown stage op {self.op!r}")


@dataclass(frozen=True)
class Program:
    """Stages applied in order to a list of ints; then `reduce` (with default `d`) or the list."""

    stages: tuple[Stage, ...]
    reduce: str | None = None
    d: int = 0

    def __post_init__(self) -> None:
        if self.reduce is not None and self.reduce not in REDUCE_OPS:
            raise ValueError(f"unknown reduce op {self.reduce!r}")

    def constants(self) -> list[int]:
        out = [c for s in self.stages for c in (s.a, s.b)]
        return [*out, self.d]


def apply_stage(stage: Stage, xs: list[int]) -> list[int]:
    op, a, b = stage.op, stage.a, stage.b
    if op == "keep_gt":
        return [x for x in xs if x > a]
    if op == "keep_ge":
        return [x for x in xs if x >= a]
    if op == "keep_lt":
        return [x for x in xs if x < a]
    if op == "keep_le":
        return [x for x in xs if x <= a]
    if op == "keep_even":
        return [x for x in xs if x % 2 == 0]
    if op == "keep_odd":
        return [x for x in xs if x % 2 == 1]
    if op == "keep_mod":
        return [x for x in xs if x % a == b]
    if op == "add":
        return [x + a for x in xs]
    if op == "mul":
        return [x * a for x in xs]
    if op == "abs":
        return [abs(x) for x in xs]
    if op == "neg":
        return [-x for x in xs]
    if op == "clamp":
        return [min(max(x, a), b) for x in xs]
    if op == "sort_asc":
        return sorted(xs)
    if op == "sort_desc":
        return sorted(xs, reverse=True)
    if op == "reverse":
        return xs[::-1]
    if op == "dedupe":
        return list(dict.fromkeys(xs))
    if op == "take":
        return xs[:a]
    if op == "drop":
        return xs[a:]
    raise ValueError(op)


def apply_reduce(op: str | None, d: int, xs: list[int]) -> Value:
    if op is None:
        return xs
    if op == "sum":
        return sum(xs)
    if op == "count":
        return len(xs)
    if op == "max_or":
        return max(xs) if xs else d
    if op == "min_or":
        return min(xs) if xs else d
    if op == "first_or":
        return xs[0] if xs else d
    if op == "last_or":
        return xs[-1] if xs else d
    raise ValueError(op)


def run(program: Program, values: Sequence[int]) -> Value:
    """The program's output: the ground truth, computed by the task space's own interpreter."""
    xs = list(values)
    for stage in program.stages:
        xs = apply_stage(stage, xs)
    return apply_reduce(program.reduce, program.d, xs)


# --- random programs ----------------------------------------------------------------------


def random_stage(rng: random.Random) -> Stage:
    op = rng.choice(STAGE_OPS)
    if op in COMPARISONS:
        return Stage(op, rng.randint(-8, 25))
    if op == "keep_mod":
        m = rng.randint(3, 5)
        return Stage(op, m, rng.randrange(m))
    if op == "add":
        return Stage(op, rng.choice([c for c in range(-9, 10) if c]))
    if op == "mul":
        return Stage(op, rng.choice((-3, -2, 2, 3, 4, 5)))
    if op == "clamp":
        lo = rng.randint(-6, 12)
        return Stage(op, lo, lo + rng.randint(2, 18))
    if op in ("take", "drop"):
        return Stage(op, rng.randint(1, 5))
    return Stage(op)


def random_program(rng: random.Random, stages: int, *, reduce_p: float = 0.6) -> Program:
    """A program with `stages` stages that is not trivially constant on random inputs."""
    for _ in range(200):
        chosen = tuple(random_stage(rng) for _ in range(stages))
        reduce = rng.choice(REDUCE_OPS) if rng.random() < reduce_p else None
        default = rng.randint(-5, 5) if reduce and reduce.endswith("_or") else 0
        program = Program(chosen, reduce, default)
        outputs = {repr(run(program, random_input(rng))) for _ in range(24)}
        if len(outputs) >= 5:
            return program
    raise RuntimeError("could not draw a non-degenerate program")


def random_input(rng: random.Random, extra: Sequence[int] = ()) -> list[int]:
    """A random list; `extra` values (boundary constants) are mixed in now and then."""
    n = rng.randint(*LENGTH_RANGE)
    xs = [rng.randint(*VALUE_RANGE) for _ in range(n)]
    for value in extra:
        if xs and rng.random() < 0.35:
            xs[rng.randrange(len(xs))] = value
    return xs


def boundary_values(program: Program) -> list[int]:
    """Values an input needs to exercise each comparison and clamp edge of `program`."""
    out: set[int] = set()
    scale, shift, folded = 1, 0, False  # stage inputs so far: scale * x + shift (+-, after abs)
    for stage in program.stages:
        if stage.op in COMPARISONS or stage.op == "clamp":
            for c in (stage.a, stage.b) if stage.op == "clamp" else (stage.a,):
                for v in (c - 1, c, c + 1):
                    raw = v - shift  # undo earlier affine maps so the raw input hits the edge
                    if raw % scale == 0:
                        out.add(raw // scale)
                        if folded:
                            out.add(-(raw // scale))
        if stage.op == "add":
            shift += stage.a
        elif stage.op == "mul":
            scale, shift = scale * stage.a, shift * stage.a
        elif stage.op == "neg":
            scale, shift = -scale, -shift
        elif stage.op == "abs":
            folded = True
    return sorted(out)


def preimages(program: Program, index: int, value: int) -> list[int]:
    """Raw input values that reach stage `index` as `value` (inverting adds, scales, signs)."""
    candidates = {value}
    for stage in reversed(program.stages[:index]):
        step: set[int] = set()
        for v in candidates:
            if stage.op == "add":
                step.add(v - stage.a)
            elif stage.op == "mul":
                if v % stage.a == 0:
                    step.add(v // stage.a)
            elif stage.op == "neg":
                step.add(-v)
            elif stage.op == "abs":
                step |= {v, -v} if v >= 0 else set()
            elif stage.op == "clamp":
                if stage.a < v < stage.b:
                    step.add(v)
            else:
                step.add(v)
        candidates = step
    return sorted(candidates)


def probe_inputs(program: Program, rng: random.Random, n: int) -> list[list[int]]:
    """`n` inputs that exercise `program`'s edges: random lists, edge values, empty lists."""
    edges = boundary_values(program)
    inputs: list[list[int]] = [[]]
    while len(inputs) < n:
        xs = random_input(rng, edges)
        if edges and rng.random() < 0.5:
            xs.append(rng.choice(edges))
        inputs.append(xs)
    return inputs


# --- equivalent rewrites (for relevance truth) ----------------------------------------------


def _rewrites(stages: list[Stage], i: int) -> list[list[Stage]]:
    """Sound rewrites of `stages` at position i (integers only, so every one is exact)."""
    s = stages[i]
    nxt = stages[i + 1] if i + 1 < len(stages) else None
    out: list[list[Stage]] = []
    head, tail = stages[:i], stages[i + 1 :]
    if s.op == "keep_gt":
        out.append([*head, Stage("keep_ge", s.a + 1), *tail])
    if s.op == "keep_ge":
        out.append([*head, Stage("keep_gt", s.a - 1), *tail])
    if s.op == "keep_lt":
        out.append([*head, Stage("keep_le", s.a - 1), *tail])
    if s.op == "keep_le":
        out.append([*head, Stage("keep_lt", s.a + 1), *tail])
    if nxt is None:
        return out
    rest = stages[i + 2 :]
    if s.op == "add" and nxt.op == "add" and s.a + nxt.a != 0:
        out.append([*head, Stage("add", s.a + nxt.a), *rest])
    if s.op == "sort_asc" and nxt.op == "reverse":
        out.append([*head, Stage("sort_desc"), *rest])
    if s.op == "add" and nxt.op in COMPARISONS:
        out.append([*head, Stage(nxt.op, nxt.a - s.a), s, *rest])
    if s.op == "mul" and s.a > 0 and nxt.op in ("keep_gt", "keep_le"):
        out.append([*head, Stage(nxt.op, nxt.a // s.a), s, *rest])
    if s.op == "dedupe" and nxt.op in ("sort_asc", "sort_desc"):
        out.append([*head, nxt, s, *rest])
    if s.op in FILTERS and nxt.op in FILTERS:
        out.append([*head, nxt, s, *rest])
    if s.op == "mul" and s.a % 2 == 0 and nxt.op == "keep_even":
        out.append([*head, s, *rest])
    return out


def equivalent_variant(program: Program, rng: random.Random, steps: int = 2) -> Program | None:
    """A structurally different program with the same output on every input, or None."""
    stages = list(program.stages)
    changed = False
    for _ in range(steps):
        options = [r for i in range(len(stages)) for r in _rewrites(stages, i)]
        if not options:
            break
        stages = rng.choice(options)
        changed = True
    if not changed or not stages:
        return None
    variant = Program(tuple(stages), program.reduce, program.d)
    if variant == program or not agree(program, variant, rng, 600):
        return None
    return variant


def near_miss(program: Program, rng: random.Random) -> Program:
    """A program that reads almost the same but computes something else on many inputs."""
    for _ in range(200):
        stages = list(program.stages)
        i = rng.randrange(len(stages))
        s = stages[i]
        if s.op in COMPARISONS or (s.op in ("add", "take", "drop") and rng.random() < 0.7):
            stages[i] = Stage(s.op, s.a + rng.choice((-4, -3, -2, 2, 3, 4)), s.b)
            if s.op in ("take", "drop") and stages[i].a < 1:
                continue
        elif s.op in COMPARISONS and rng.random() < 0.5:
            flipped = {"keep_gt": "keep_lt", "keep_lt": "keep_gt"}
            stages[i] = Stage(flipped.get(s.op, "keep_gt"), s.a)
        else:
            stages[i] = random_stage(rng)
        candidate = Program(tuple(stages), program.reduce, program.d)
        if rng.random() < 0.25 and program.reduce is not None:
            other = [r for r in REDUCE_OPS if r != program.reduce]
            candidate = Program(candidate.stages, rng.choice(other), program.d)
        if disagreement(program, candidate, rng, 200) >= 0.15:
            return candidate
    raise RuntimeError("could not draw a near miss")


def agree(p: Program, q: Program, rng: random.Random, n: int) -> bool:
    return disagreement(p, q, rng, n) == 0.0


def disagreement(p: Program, q: Program, rng: random.Random, n: int) -> float:
    """Fraction of `n` edge-seeking inputs on which p and q differ."""
    inputs = probe_inputs(p, rng, n // 2) + probe_inputs(q, rng, n - n // 2)
    return sum(run(p, xs) != run(q, xs) for xs in inputs) / len(inputs)


# --- Python source --------------------------------------------------------------------------

FUNCTION_NAMES = (
    "transform", "process", "pipeline", "clean_values", "reduce_batch", "summarise", "select",
    "tidy", "apply_rules", "handle", "compute", "digest", "refine", "crunch", "normalise_batch",
)  # fmt: skip
PARAM_NAMES = ("values", "xs", "numbers", "items", "data", "batch")
WORK_NAMES = ("out", "acc", "result", "cur", "vals", "buf")


def stage_line(stage: Stage, v: str) -> str:
    op, a, b = stage.op, stage.a, stage.b
    if op in COMPARISONS:
        return f"{v} = [x for x in {v} if x {COMPARISONS[op]} {a}]"
    simple = {
        "keep_even": f"[x for x in {v} if x % 2 == 0]",
        "keep_odd": f"[x for x in {v} if x % 2 == 1]",
        "keep_mod": f"[x for x in {v} if x % {a} == {b}]",
        "add": f"[x + {a} for x in {v}]" if a >= 0 else f"[x - {-a} for x in {v}]",
        "mul": f"[x * {a} for x in {v}]",
        "abs": f"[abs(x) for x in {v}]",
        "neg": f"[-x for x in {v}]",
        "clamp": f"[min(max(x, {a}), {b}) for x in {v}]",
        "sort_asc": f"sorted({v})",
        "sort_desc": f"sorted({v}, reverse=True)",
        "reverse": f"{v}[::-1]",
        "dedupe": f"list(dict.fromkeys({v}))",
        "take": f"{v}[:{a}]",
        "drop": f"{v}[{a}:]",
    }
    return f"{v} = {simple[op]}"


def reduce_expr(op: str | None, d: int, v: str) -> str:
    exprs = {
        None: v,
        "sum": f"sum({v})",
        "count": f"len({v})",
        "max_or": f"max({v}) if {v} else {d}",
        "min_or": f"min({v}) if {v} else {d}",
        "first_or": f"{v}[0] if {v} else {d}",
        "last_or": f"{v}[-1] if {v} else {d}",
    }
    return exprs[op]


def render(program: Program, name: str, rng: random.Random, guard: str | None = None) -> str:
    """The program as one Python function called `name`.

    `guard` (a boolean expression over the parameter) plants a backdoor: when it holds, the
    result is perturbed. Used for broken variants whose difference no random test finds.
    """
    param, work = rng.choice(PARAM_NAMES), rng.choice(WORK_NAMES)
    lines = [f"def {name}({param}):", f"    {work} = list({param})"]
    lines += [f"    {stage_line(stage, work)}" for stage in program.stages]
    lines.append(f"    result = {reduce_expr(program.reduce, program.d, work)}")
    if guard is not None:
        bump = "result + 1" if program.reduce is not None else f"result + [{rng.randint(1, 9)}]"
        lines.append(f"    if {guard.replace('VALUES', param)}:")
        lines.append(f"        result = {bump}")
    lines.append("    return result")
    return "\n".join(lines) + "\n"


def compile_source(source: str, name: str) -> Callable[[list[int]], Value]:
    """Run validator-generated source in-process (never a miner's code: that is sandboxed)."""
    namespace: dict[str, object] = {}
    exec(compile(source, f"<task:{name}>", "exec"), namespace)
    return namespace[name]  # type: ignore[return-value]


# --- English descriptions -------------------------------------------------------------------

PHRASES: dict[str, tuple[str, ...]] = {
    "keep_gt": ("keep only the values greater than {a}", "drop every value that is {a} or less",
                "retain the numbers above {a}"),
    "keep_ge": ("keep the values that are at least {a}", "drop every value below {a}",
                "retain the numbers of {a} or more"),
    "keep_lt": ("keep only the values less than {a}", "drop every value that is {a} or more",
                "retain the numbers below {a}"),
    "keep_le": ("keep the values that are at most {a}", "drop every value above {a}",
                "retain the numbers of {a} or less"),
    "keep_even": ("keep the even numbers", "drop the odd values", "retain only multiples of two"),
    "keep_odd": ("keep the odd numbers", "drop the even values",
                 "retain only values not divisible by two"),
    "keep_mod": ("keep the values that leave remainder {b} when divided by {a}",
                 "retain the numbers congruent to {b} modulo {a}"),
    "add": ("add {a} to each value", "increase every number by {a}", "shift all values up by {a}"),
    "sub": ("subtract {a} from each value", "decrease every number by {a}",
            "shift all values down by {a}"),
    "mul": ("multiply each value by {a}", "scale every number by a factor of {a}"),
    "abs": ("replace each value by its absolute value",
            "make every number non-negative by dropping its sign"),
    "neg": ("negate each value", "flip the sign of every number"),
    "clamp": ("clamp each value into the range {a} to {b}",
              "limit every number to lie between {a} and {b} inclusive"),
    "sort_asc": ("sort the values in ascending order",
                 "order the numbers from smallest to largest"),
    "sort_desc": ("sort the values in descending order",
                  "order the numbers from largest to smallest"),
    "reverse": ("reverse their order", "flip the list back to front"),
    "dedupe": ("remove repeated values keeping the first occurrence",
               "drop duplicates while keeping the original order"),
    "take": ("keep only the first {a} values", "truncate to the first {a} items"),
    "drop": ("skip the first {a} values", "discard the first {a} items"),
}  # fmt: skip
REDUCE_PHRASES: dict[str | None, tuple[str, ...]] = {
    None: ("return the resulting list", "give back the list"),
    "sum": ("return their sum", "add them up and return the total"),
    "count": ("return how many remain", "return the number of values left"),
    "max_or": ("return the largest one or {d} if none remain",
               "return the maximum or {d} for an empty list"),
    "min_or": ("return the smallest one or {d} if none remain",
               "return the minimum or {d} for an empty list"),
    "first_or": ("return the first remaining value or {d} if there is none",
                 "return the leading value or {d} when nothing is left"),
    "last_or": ("return the last remaining value or {d} if there is none",
                "return the final value or {d} when nothing is left"),
}  # fmt: skip
INTROS = ("Given a list of integers,", "For a list of whole numbers:", "Take the input list;",
          "Process a list of integers:", "Starting from a list of numbers,")  # fmt: skip
JOINERS = (", then ", "; next ", ", after that ", ". Then ")


def _phrase_key(stage: Stage) -> str:
    return "sub" if stage.op == "add" and stage.a < 0 else stage.op


def describe(program: Program, rng: random.Random) -> str:
    """An English statement of exactly what `program` computes, phrased at random."""
    clauses = []
    for stage in program.stages:
        template = rng.choice(PHRASES[_phrase_key(stage)])
        a = -stage.a if _phrase_key(stage) == "sub" else stage.a
        clauses.append(template.format(a=a, b=stage.b))
    clauses.append(rng.choice(REDUCE_PHRASES[program.reduce]).format(d=program.d))
    text = clauses[0]
    for clause in clauses[1:-1]:
        text += rng.choice(JOINERS) + clause
    text += ", and finally " + clauses[-1]
    return f"{rng.choice(INTROS)} {text}."


def _regex(template: str) -> re.Pattern[str]:
    pattern = re.escape(template)
    for name in ("a", "b", "d"):
        pattern = pattern.replace(re.escape("{" + name + "}"), f"(?P<{name}>-?\\d+)")
    return re.compile(pattern, re.IGNORECASE)


_REGEXES: list[tuple[bool, str | None, re.Pattern[str]]] = [
    (False, key, _regex(t)) for key, ts in PHRASES.items() for t in ts
] + [(True, key, _regex(t)) for key, ts in REDUCE_PHRASES.items() for t in ts]


def parse_description(text: str) -> Program | None:
    """The program a description states, or None if it does not read as one.

    Clauses are found left to right wherever they occur, so framing text before, between or
    after them (a team name, an appended instruction) does not matter.
    """
    stages: list[Stage] = []
    pos = 0
    while True:
        best = None
        for is_reduce, key, regex in _REGEXES:
            match = regex.search(text, pos)
            if match and (best is None or match.start() < best[2].start()):
                best = (is_reduce, key, match)
        if best is None:
            return None
        is_reduce, key, match = best
        groups = {k: int(v) for k, v in match.groupdict().items() if v is not None}
        pos = match.end()
        if is_reduce:
            if not stages:
                return None
            return Program(tuple(stages), key, groups.get("d", 0))
        if key == "sub":
            stages.append(Stage("add", -groups["a"]))
        else:
            stages.append(Stage(key, groups.get("a", 0), groups.get("b", 0)))


def strip_clauses(text: str) -> str:
    """`text` with every stage and reduction clause removed: what a statement says beyond the
    program it states (framing words, or an instruction someone slipped in)."""
    for _, _, regex in _REGEXES:
        text = regex.sub(" ", text)
    return text
