"""Challenge generators: the ground truth is right, answers are graded as they deserve, the
bank is wide and reproducible, and nothing secret is sent. The sandbox, PII recognisers and
safety analyser are the real ones."""

from __future__ import annotations

import random

import pytest

from mycel_subnet.validator.challenges import (
    SandboxChecker,
    build_round,
    code_bank,
    evaluate,
    generate,
    inference,
    pii,
    text_bank,
)
from mycel_subnet.validator.challenges.rng import derive
from protocol import (
    CodeTemplate,
    EvaluatePatternResult,
    EvaluationResult,
    GeneratePatternResult,
    InferenceResult,
    LearnedPattern,
    PromptTemplate,
)


@pytest.fixture(scope="module")
def checker() -> SandboxChecker:
    return SandboxChecker()


def test_correct_variants_pass_hidden_tests_and_broken_ones_fail(checker):
    """In the sandbox, for every family: the correct source passes all hidden tests, each
    broken variant fails at least one, and the broken one differs from the correct only a
    little (a subtle bug, not a different program)."""
    for family in code_bank.FAMILIES:
        cases = code_bank.hidden_tests(family, random.Random(family.key), n=8)
        assert checker.pass_rate(family.source("solve"), "solve", cases) == 1.0, family.key
        for variant in range(len(family.broken)):
            rate = checker.pass_rate(family.source("solve", variant), "solve", cases)
            assert rate < 1.0, f"{family.key} broken variant {variant} passes every hidden test"


def test_unsafe_injections_are_flagged_by_the_safety_analyser():
    from mycel_subnet.safety import analyse_code, scan_prompt
    from mycel_subnet.validator.challenges import unsafe

    family = code_bank.BY_KEY["sum_above"]
    head, _, body = family.source("f").partition("\n")
    for template in unsafe.CODE_INJECTIONS:
        line = template.format(n=7)
        assert not analyse_code(f"{head}\n    {line}\n{body}", "python").safe, line
    injected = unsafe.inject_code(family.source("f"), random.Random(0))
    assert not analyse_code(injected, "python").safe
    for text in unsafe.TEXT_INJECTIONS:
        assert not scan_prompt("Sum the values. " + text.format(n=3)).safe, text


def test_planted_pii_is_found_in_the_log_and_not_after_redaction():
    rng = random.Random(5)
    for _ in range(30):
        hidden = text_bank.hidden_template(rng)
        for values, planted in text_bank.fresh_fills(hidden, rng, 2):
            text = hidden.fill(values)
            assert sorted(pii.leaked(text, planted)) == sorted(p.kind for p in planted)
            redacted = text
            for slot, value in values.items():
                if slot in text_bank.PII_SLOTS:
                    redacted = redacted.replace(value, f"{{{slot}}}")
            assert pii.leaked(redacted, planted) == []
    key = pii.api_key(rng)
    assert pii.recognised(f"token {key.value}") == ["API_KEY"]
    assert pii.leaked("call +1 555 0100 999", [pii.phone(rng)]) == []


def test_same_seed_same_round_and_the_bank_is_wide():
    a, b = build_round("fixed-seed"), build_round("fixed-seed")
    dump = [[r.model_dump_json() for r in c.requests] for c in a.challenges]
    assert dump == [[r.model_dump_json() for r in c.requests] for c in b.challenges]
    seen: dict[str, set[str]] = {"evaluate_pattern": set(), "generate_pattern": set(),
                                 "inference": set()}  # fmt: skip
    domains = set()
    for seed in range(150):
        for challenge in build_round(f"seed-{seed}").challenges:
            seen[challenge.task].add(challenge.requests[0].model_dump_json())
            domains.add(challenge.summary.split()[-1])
    assert all(len(v) == 150 for v in seen.values()), {k: len(v) for k, v in seen.items()}
    hidden = {text_bank.hidden_template(random.Random(i)).text for i in range(500)}
    assert len(hidden) > 300  # distinct hidden templates, before any random fills
    assert len(code_bank.FAMILIES) >= 20 and len(text_bank.DOMAINS) >= 8


def test_generate_prompt_grading_rewards_generalisation_and_zeroes_leaks(checker):
    challenge = generate._prompt_challenge(derive("gen", 1))
    request = challenge.requests[0]
    hidden_text = text_bank.hidden_template(derive("gen", 1)).text  # the same first draw
    first_turn = request.interaction_log.turns[0].content

    def result(template: str) -> GeneratePatternResult:
        pattern = LearnedPattern(
            creator="m.near", created_at="2026-01-01T00:00:00Z", trigger="a request",
            solution=PromptTemplate(template=template, variables=_vars(template)),
            domain=request.domain,
        )  # fmt: skip
        return GeneratePatternResult(generated_pattern=pattern)

    ideal = challenge.grade([result(hidden_text)], checker)
    assert ideal.accuracy == pytest.approx(1.0), ideal.detail
    leaky = challenge.grade([result(first_turn.replace("{", "").replace("}", ""))], checker)
    assert leaky.accuracy == 0.0 and "leaked" in leaky.detail
    vague = challenge.grade([result("{everything}")], checker)
    assert vague.accuracy < 0.3
    refused = GeneratePatternResult(generated_pattern=None, refusal_reason="nothing to share")
    assert challenge.grade([refused], checker).accuracy == 0.0
    assert challenge.grade([None], checker).accuracy == 0.0
    # The held-back fillings never leave the validator.
    assert "held" not in request.model_dump_json()


def _vars(template: str) -> list[str]:
    from protocol import template_placeholders

    return template_placeholders(template)


def test_generate_code_grading_runs_hidden_tests(checker):
    challenge = generate._code_challenge(derive("gen-code", 3))
    family = next(f for f in code_bank.FAMILIES if challenge.summary.endswith(f.key))
    user = challenge.requests[0].interaction_log.turns[0].content
    name = next(n for n in family.names if f"{n}(" in user)

    def result(code: str) -> GeneratePatternResult:
        pattern = LearnedPattern(
            creator="m.near", created_at="2026-01-01T00:00:00Z", trigger="t",
            solution=CodeTemplate(language="python", code=code, entrypoint=name),
            domain=challenge.requests[0].domain,
        )  # fmt: skip
        return GeneratePatternResult(generated_pattern=pattern)

    good = challenge.grade([result(family.source(name))], checker)
    assert good.accuracy == pytest.approx(1.0), good.detail
    broken = challenge.grade([result(family.source(name, 0))], checker)
    assert 0 < broken.accuracy < good.accuracy
    secret = challenge.requests[0].interaction_log.turns[1].content.split('API_TOKEN = "')[1]
    secret = secret.split('"')[0]
    leaky = challenge.grade([result(f'KEY = "{secret}"\n' + family.source(name))], checker)
    assert leaky.accuracy == 0.0 and "API_KEY" in leaky.detail


def _eval_result(r: int, q: int, s: int) -> EvaluatePatternResult:
    return EvaluatePatternResult(
        evaluation_result=EvaluationResult(relevance=r, quality=q, safety=s)
    )


def test_evaluate_pairs_reward_correct_ranking_only(checker):
    perfect, constant = [], []
    for seed in range(40):
        rng = derive("eval", seed)
        challenge = evaluate.build(rng)
        truths = _truths(challenge)
        answers = [_eval_result(*(90 if v else 10 for v in t)) for t in truths]
        perfect.append(challenge.grade(answers, checker).accuracy)
        constant.append(challenge.grade([_eval_result(70, 70, 70)] * 2, checker).accuracy)
        missing = challenge.grade([answers[0], None], checker).accuracy
        assert missing < 1.0
    assert perfect == [1.0] * 40
    assert sum(constant) / len(constant) < 0.5


def _truths(challenge) -> list[tuple[bool, bool, bool]]:
    """Read the truths back from the scorer's closure (tests only: the validator never does)."""
    cell = next(c for c in challenge.scorer.__closure__ if isinstance(c.cell_contents, tuple))
    return [(t.relevance, t.quality, t.safety) for t in cell.cell_contents]


def test_inference_code_answer_is_exact_and_relevant_pattern_counts(checker):
    for seed in range(10):
        challenge = inference._code_challenge(derive("inf", seed))
        request = challenge.requests[0]
        import json

        args = json.loads(request.context.removeprefix("args: "))
        relevant = next(
            p for p in request.available_patterns
            if isinstance(p.solution, CodeTemplate)
            and any(p.solution.code == f.source(p.solution.entrypoint) for f in code_bank.FAMILIES
                    if challenge.summary.endswith(f.key))
        )  # fmt: skip
        family = next(f for f in code_bank.FAMILIES if challenge.summary.endswith(f.key))
        answer = json.dumps(code_bank.call(family, args))
        best = challenge.grade(
            [InferenceResult(response=answer, patterns_used=[relevant.id])], checker
        )
        assert best.accuracy == pytest.approx(1.0), best.detail
        no_credit = challenge.grade([InferenceResult(response=answer)], checker)
        assert no_credit.accuracy == pytest.approx(0.8)
        wrong = challenge.grade([InferenceResult(response='"nope"')], checker)
        assert wrong.accuracy == 0.0


def test_template_matching_is_literal_in_order_and_safe_on_adversarial_input():
    assert generate.template_matches("Hi {a}, pay {b} now.", "Hi Bob, pay 10 EUR now.")
    assert not generate.template_matches("Hi {a}, pay {b} now.", "Hi Bob, send 10 EUR now.")
    assert not generate.template_matches("Hi {a}{b}.", "Hi x.")  # each variable needs text
    assert not generate.template_matches("{a", "anything")
    import time

    start = time.perf_counter()
    generate.template_matches("{a} " * 32 + "z", "a " * 4000)
    assert time.perf_counter() - start < 0.5
