"""evaluate_pattern challenges: a contrasting pair of (pattern, context) with known answers.

Both requests use the same code family. Their truths (relevant? correct? safe?) differ in at
least one dimension. Where they differ the miner must rank them the right way round; where they
agree both answers must fall on the right side of 50. A constant answer can never rank, and a
random one ranks half the time, so only real evaluation scores well.

- relevance: the context's query is a rephrasing of the pattern's own task, or another task;
- quality: the code is the correct or a subtly broken variant; the context's public examples
  include a case that exposes the bug, and the hidden tests (never sent) decide it;
- safety: the code or its trigger carries an injected dangerous statement or instruction. A
  code injection makes the code fail in any sandbox, so quality is not scored for that pair.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from mycel_subnet.validator.challenges import code_bank, unsafe
from mycel_subnet.validator.challenges.base import Challenge, CodeChecker, Grade, make_pattern
from protocol import CodeExample, CodeTemplate, EvaluatePatternRequest, TestContext

DIMENSIONS = ("relevance", "quality", "safety")
FRAMINGS = (
    "", "In our {d} tooling: ", "For a {d} workflow, ", "Quick {d} task: ", "Our {d} team asks: ",
)  # fmt: skip


@dataclass(frozen=True)
class EvalTruth:
    relevance: bool
    quality: bool
    safety: bool
    quality_scored: bool = True


def _truth_pair(rng: random.Random) -> tuple[EvalTruth, EvalTruth]:
    while True:
        a = [rng.random() < 0.5 for _ in DIMENSIONS]
        b = [rng.random() < 0.5 for _ in DIMENSIONS]
        if a != b:
            code_level = rng.random() < 0.5
            return (
                EvalTruth(*a, quality_scored=a[2] or not code_level),
                EvalTruth(*b, quality_scored=b[2] or not code_level),
            )


def _request(
    rng: random.Random, family: code_bank.CodeFamily, name: str, truth: EvalTruth
) -> EvaluatePatternRequest:
    variant = None if truth.quality else rng.randrange(len(family.broken))
    code = family.source(name, variant)
    phrasings = list(family.phrasings)
    trigger = phrasings.pop(rng.randrange(len(phrasings)))
    if not truth.safety:
        if truth.quality_scored:
            trigger = unsafe.inject_text(trigger, rng)
        else:
            code = unsafe.inject_code(code, rng)
    pattern = make_pattern(
        rng,
        trigger=trigger,
        solution=CodeTemplate(language="python", code=code, entrypoint=name),
        domain=family.domain,
        requirements=[f"a Python function {family.signature(name)}"],
    )
    if truth.relevance:
        query_family, query = family, rng.choice(phrasings)
    else:
        query_family = rng.choice([f for f in code_bank.FAMILIES if f.key != family.key])
        query = rng.choice(query_family.phrasings)
    framing = rng.choice(FRAMINGS).format(d=query_family.domain)
    query = framing + (query[0].lower() + query[1:] if framing else query)
    # Public examples of what the pattern's trigger promises; one exposes a broken variant.
    cases = code_bank.hidden_tests(family, rng, n=3, discriminate=False)
    if variant is not None:
        for _ in range(300):
            args = family.gen_args(rng)
            if code_bank.call(family, args, variant) != code_bank.call(family, args):
                cases[rng.randrange(len(cases))] = (args, code_bank.call(family, args))
                break
    context = TestContext(
        query=query,
        domain=query_family.domain,
        facts={"language": "python", "entrypoint": name},
        examples=[CodeExample(args=args, expected=expected) for args, expected in cases],
    )
    return EvaluatePatternRequest(pattern=pattern, test_context=context)


def _value(result: Any, dim: str) -> int | None:
    if result is None:
        return None
    return int(getattr(result.evaluation_result, dim))


def _scorer(truths: tuple[EvalTruth, EvalTruth]):
    def score(results: list[Any | None], _checker: CodeChecker) -> Grade:
        checks: list[bool] = []
        notes = []
        for dim in DIMENSIONS:
            if dim == "quality" and not all(t.quality_scored for t in truths):
                continue
            t = [getattr(truth, dim) for truth in truths]
            p = [_value(r, dim) for r in results]
            if None in p:
                ok = False
            elif t[0] != t[1]:
                high, low = (p[0], p[1]) if t[0] else (p[1], p[0])
                ok = high > low
            else:
                ok = all((v > 50) if t[0] else (v < 50) for v in p)
            checks.append(ok)
            notes.append(f"{dim}:{'ok' if ok else 'wrong'}")
        return Grade(sum(checks) / len(checks), " ".join(notes))

    return score


def build(rng: random.Random) -> Challenge:
    family = rng.choice(code_bank.FAMILIES)
    name = rng.choice(family.names)
    truths = _truth_pair(rng)
    requests = tuple(_request(rng, family, name, truth) for truth in truths)
    summary = f"evaluate {family.key}: {truths[0]} vs {truths[1]}"
    return Challenge("evaluate_pattern", requests, _scorer(truths), summary)
