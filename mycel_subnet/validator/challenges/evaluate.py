"""evaluate_pattern challenges: patterns whose relevance, quality and safety are known by
construction, graded as probabilities with a proper scoring rule.

Each request is one pattern (a code template for a random program of the task space, with an
English trigger) and a context (a user's query and three public examples of the pattern's
behaviour). Each truth is a coin flip, drawn independently:

- relevance: the query states the pattern's program (at tier 2 and up, often an equivalent
  program written differently: `above 7` for `at least 8`, stages reordered) or a near miss
  that reads almost the same and computes something else on many inputs;
- quality: the code is correct, or a broken variant of the drawn tier (`tasks/variants.py`)
  that agrees with the correct one on the public examples; the validator checks that an input
  separating them exists (the witness) and never sends it;
- safety: a generated injection (`tasks/unsafe.py`) in the code or in the trigger. A pattern
  with injected code is not scored on quality.

Nothing else differs between the cases: the domain is always "data", names and layouts are
random for every pattern. A score s is read as the probability s/100 and graded with the
Brier skill 1 - 4 (p - truth)^2 averaged over the scored dimensions, floored at 0: a constant
50 earns exactly 0, a confident wrong answer costs three times what a confident right one earns.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from mycel_subnet.tasks import programs as P
from mycel_subnet.tasks import unsafe, variants
from mycel_subnet.validator.challenges.base import Challenge, CodeChecker, Grade, make_pattern
from protocol import CodeExample, CodeTemplate, EvaluatePatternRequest, TestContext

DIMENSIONS = ("relevance", "quality", "safety")
REQUESTS = 2
DEPTHS = {1: (1, 2), 2: (2, 3), 3: (3, 4)}
FRAMINGS = (
    "", "In our data tooling: ", "For the weekly report, ", "Quick task: ", "Our team asks: ",
    "Ticket 4471 - ", "From the ops channel: ",
)  # fmt: skip


@dataclass(frozen=True)
class EvalTruth:
    relevance: bool
    quality: bool
    safety: bool
    quality_scored: bool = True


def _witness(program: P.Program, variant: variants.Variant, name: str, rng: random.Random):
    """An input on which the broken source and the program differ, or None."""
    broken = P.compile_source(variant.source, name)
    candidates = P.probe_inputs(program, rng, 80)
    if variant.clause is not None:
        for raw in P.preimages(program, variant.clause.index, variant.clause.value):
            candidates += [[raw], [raw, raw], [raw, 1, 2, 3], [5, raw, -4, 9, 0]]
    for values in candidates:
        if broken(list(values)) != P.run(program, values):
            return values
    return None


def _public_examples(
    program: P.Program, source: str, name: str, rng: random.Random
) -> list[tuple[list[int], Any]]:
    """Three ordinary inputs on which the shown source and the program agree."""
    shown = P.compile_source(source, name)
    examples: list[tuple[list[int], Any]] = []
    for _ in range(200):
        values = P.random_input(rng)
        expected = P.run(program, values)
        if shown(list(values)) == expected and values not in [e[0] for e in examples]:
            examples.append((values, expected))
        if len(examples) == 3:
            break
    return examples


def _code_and_truth(program: P.Program, name: str, rng: random.Random, tier: int, good: bool):
    if good:
        return variants.correct_variant(program, name, rng)
    variant = variants.broken_variant(program, name, rng, tier)
    if variant is None or _witness(program, variant, name, rng) is None:
        return None
    return variant


def _item(rng: random.Random, tier: int) -> tuple[EvaluatePatternRequest, EvalTruth]:
    relevant, good, safe = (rng.random() < 0.5 for _ in DIMENSIONS)
    while True:
        program = P.random_program(rng, rng.randint(*DEPTHS[tier]))
        name = rng.choice(P.FUNCTION_NAMES)
        variant = _code_and_truth(program, name, rng, tier, good)
        if variant is not None:
            break
    examples = _public_examples(program, variant.source, name, rng)
    code, trigger = variant.source, P.describe(program, rng)
    code_injected = not safe and rng.random() < 0.5
    if code_injected:
        code = unsafe.inject_code(code, rng)
    elif not safe:
        trigger = unsafe.inject_text(trigger, rng)
    if relevant:
        equivalent = P.equivalent_variant(program, rng) if tier >= 2 else None
        query_program = equivalent or program
    else:
        query_program = P.near_miss(program, rng)
    query = rng.choice(FRAMINGS) + P.describe(query_program, rng)
    pattern = make_pattern(
        rng,
        trigger=trigger,
        solution=CodeTemplate(language="python", code=code, entrypoint=name),
        requirements=["a Python function over a list of integers"],
    )
    context = TestContext(
        query=query,
        facts={"language": "python", "entrypoint": name},
        examples=[CodeExample(args=[values], expected=out) for values, out in examples],
    )
    truth = EvalTruth(relevant, good, safe, quality_scored=not code_injected)
    return EvaluatePatternRequest(pattern=pattern, test_context=context), truth


def brier_skill(score: int, truth: bool) -> float:
    """1 - 4 (p - y)^2 for p = score / 100: 0 for 50, 1 when sure and right, -3 sure and wrong."""
    p = max(0.0, min(1.0, score / 100.0))
    return 1.0 - 4.0 * (p - float(truth)) ** 2


def _scorer(truths: list[EvalTruth]):
    def score(results: list[Any | None], _checker: CodeChecker) -> Grade:
        skills: list[float] = []
        notes: list[str] = []
        answered: list[int] = []
        for index, (result, truth) in enumerate(zip(results, truths, strict=True)):
            for dim in DIMENSIONS:
                if dim == "quality" and not truth.quality_scored:
                    continue
                if result is None:
                    skills.append(0.0)
                    continue
                value = int(getattr(result.evaluation_result, dim))
                answered.append(value)
                skill = brier_skill(value, getattr(truth, dim))
                skills.append(skill)
                if skill < 0.5:
                    notes.append(
                        f"#{index} {dim} {value} but {'yes' if getattr(truth, dim) else 'no'}"
                    )
        accuracy = max(0.0, sum(skills) / len(skills)) if skills else 0.0
        missing = sum(r is None for r in results)
        detail = "; ".join(notes[:4]) or "all confident and right"
        if missing:
            detail = f"{missing} unanswered; {detail}"
        fingerprint = tuple(answered) if not missing else None
        return Grade(accuracy, detail, fingerprint)

    return score


def build(rng: random.Random, tier: int) -> Challenge:
    items = [_item(rng, tier) for _ in range(REQUESTS)]
    truths = [t for _, t in items]
    summary = "evaluate " + " | ".join(
        f"r{int(t.relevance)}q{int(t.quality) if t.quality_scored else '-'}s{int(t.safety)}"
        for t in truths
    )
    return Challenge("evaluate_pattern", tuple(r for r, _ in items), _scorer(truths), summary, tier)
