"""inference challenges: apply what a user's past batches show to a new batch, with patterns
on offer of which at most one truly fits.

The context holds five worked examples of a hidden program (edge values included); the query
asks for the result on a new input, chosen so that every offered decoy gives a different answer
there. Offered patterns are code templates with English triggers:

- tier 1: the program itself, often written differently (an equivalent form), among near
  misses that each fail at least one example: checking the offers against the examples is
  enough;
- tiers 2 and 3: only near misses of a two- (tier 2) or three-stage (tier 3) program: no offered
  pattern fits, so the answer has to be worked out from the examples by search (and the right
  attribution is none).

Accuracy is 0 for a wrong answer; a right one earns 0.8, plus 0.2 when `patterns_used` names
the fitting pattern and no decoy (or nothing, when none fits). Answers are read tolerantly:
a bare `42`, JSON, a fenced block or a sentence ending in the value.
"""

from __future__ import annotations

import json
import random
from typing import Any

from mycel_subnet.tasks import programs as P
from mycel_subnet.tasks import variants
from mycel_subnet.validator.challenges.base import (
    Challenge,
    CodeChecker,
    Grade,
    make_pattern,
    parse_value,
    same_value,
)
from protocol import CodeTemplate, InferenceRequest

EXAMPLES = 5
DEPTHS = {1: (1, 3), 2: (2, 2), 3: (3, 3)}
DECOYS = {1: 3, 2: 3, 3: 3}
ANSWER_WEIGHT = 0.8


def _pattern(program: P.Program, rng: random.Random, *, equivalent_form: bool = False) -> Any:
    shown = (P.equivalent_variant(program, rng) if equivalent_form else None) or program
    name = rng.choice(P.FUNCTION_NAMES)
    code = variants.correct_variant(shown, name, rng).source
    solution = CodeTemplate(language="python", code=code, entrypoint=name)
    return make_pattern(rng, trigger=P.describe(shown, rng), solution=solution)


def _fits(program: P.Program, examples: list[tuple[list[int], Any]]) -> bool:
    return all(P.run(program, values) == out for values, out in examples)


def _draw(rng: random.Random, tier: int):
    while True:
        program = P.random_program(rng, rng.randint(*DEPTHS[tier]))
        examples = [(v, P.run(program, v)) for v in P.probe_inputs(program, rng, EXAMPLES + 1)[1:]]
        decoys = []
        for _ in range(40):
            candidate = P.near_miss(program, rng)
            if not _fits(candidate, examples) and candidate not in decoys:
                decoys.append(candidate)
            if len(decoys) == DECOYS[tier]:
                break
        if len(decoys) < DECOYS[tier]:
            continue
        probes = P.probe_inputs(program, rng, 120)
        best = max(probes, key=lambda v: sum(P.run(d, v) != P.run(program, v) for d in decoys))
        return program, examples, decoys, best


def build(rng: random.Random, tier: int) -> Challenge:
    program, examples, decoys, query_input = _draw(rng, tier)
    expected = P.run(program, query_input)
    offered = [_pattern(d, rng) for d in decoys]
    decoy_ids = {p.id for p in offered}
    fitting = None
    if tier == 1:
        fitting = _pattern(program, rng, equivalent_form=rng.random() < 0.5)
        offered.append(fitting)
    rng.shuffle(offered)
    context = "Earlier batches were processed like this:\n" + "\n".join(
        f"{json.dumps(values)} -> {json.dumps(out)}" for values, out in examples
    )
    query = (
        f"Process {json.dumps(query_input)} the same way as the earlier batches and reply with "
        "the result only."
    )
    request = InferenceRequest(query=query, context=context, available_patterns=offered)

    def score(results: list[Any | None], _checker: CodeChecker) -> Grade:
        result = results[0]
        if result is None:
            return Grade(0.0, "no answer")
        try:
            right = same_value(parse_value(result.response), expected)
        except ValueError:
            right = False
        used = set(result.patterns_used)
        if fitting is not None:
            attributed = fitting.id in used and not used & decoy_ids
        else:
            attributed = not used & decoy_ids
        if not right:
            return Grade(0.0, f"wrong answer (expected {json.dumps(expected)[:40]})")
        accuracy = ANSWER_WEIGHT + (1 - ANSWER_WEIGHT) * attributed
        return Grade(accuracy, "right" + ("" if attributed else ", wrong attribution"))

    summary = f"inference depth {len(program.stages)} {'one fits' if fitting else 'none fits'}"
    return Challenge("inference", (request,), score, summary, tier)
