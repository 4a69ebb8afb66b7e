"""Challenges built from the task space: the ground truth is right, answers are graded as they
deserve, rounds rebuild identically from one seed, and the shipped reference solver answers
them. The sandbox, PII recognisers and safety analyser are the real ones.

The scorers keep their answers in closures; tests read them back (the validator never does).
"""

from __future__ import annotations

import json
import re
import time

import pytest

from mycel_subnet.engines.solver import REFERENCE, SolverEngine
from mycel_subnet.tasks import programs as P
from mycel_subnet.validator.challenges import (
    SandboxChecker,
    build_round,
    evaluate,
    generate,
    inference,
    pii,
)
from mycel_subnet.validator.challenges import round as round_module
from mycel_subnet.validator.challenges.base import parse_value, same_value
from mycel_subnet.validator.challenges.checker import BudgetedChecker, GradingBudgetExceeded
from mycel_subnet.validator.challenges.rng import derive
from mycel_subnet.validator.reference import answer_with
from protocol import (
    CodeTemplate,
    EvaluatePatternResult,
    EvaluationResult,
    GeneratePatternResult,
    InferenceResult,
    LearnedPattern,
)

TIERS = (1, 2, 3)
LIST = re.compile(r"\[[-\d,\s]*\]")
BUILDERS = {"evaluate_pattern": evaluate, "generate_pattern": generate, "inference": inference}


@pytest.fixture(scope="module")
def checker() -> SandboxChecker:
    return SandboxChecker()


@pytest.fixture(scope="module")
def reference() -> SolverEngine:
    return SolverEngine(REFERENCE)


def _closed(challenge) -> dict:
    """The scorer's closure variables by name (tests only)."""
    cells = challenge.scorer.__closure__ or ()
    return dict(zip(challenge.scorer.__code__.co_freevars, (c.cell_contents for c in cells),
                    strict=True))  # fmt: skip


def _dump(challenges) -> list:
    return [
        (c.task, c.tier, c.shared, c.summary, [r.model_dump_json() for r in c.requests])
        for c in challenges
    ]


def test_one_seed_rebuilds_the_same_round_and_each_miner_gets_its_own_instances():
    a, b = build_round("fixed-seed"), build_round("fixed-seed")
    assert a.seed == b.seed == "fixed-seed"
    assert _dump(a.shared) == _dump(b.shared)
    assert _dump(a.for_miner(7)) == _dump(b.for_miner(7))
    assert _dump(a.reference_sample()) == _dump(b.reference_sample())
    assert a.for_miner(7) == a.for_miner(7)  # cached: the same objects twice

    mine = a.for_miner(7)
    assert len(mine) == a.tasks_per_miner and mine[-len(a.shared) :] == a.shared
    assert all(c.shared for c in a.shared) and not any(c.shared for c in a.private(7))
    counts = {task: sum(c.task == task for c in a.private(7)) for task in round_module.TASKS}
    assert counts == round_module.PRIVATE
    shared = {task: sum(c.task == task for c in a.shared) for task in round_module.TASKS}
    assert shared == round_module.SHARED
    # A relayed answer answers another question: private instances differ per uid, and the
    # reference's sample is drawn like a miner's but is nobody's.
    assert _dump(a.private(7)) != _dump(a.private(8))
    assert _dump(a.reference_sample()) != _dump(a.private(7))
    assert _dump(build_round("other-seed").shared) != _dump(a.shared)
    assert len(build_round().seed) >= 32  # a fresh 128-bit secret when none is given


def test_the_task_space_is_wide_and_every_tier_is_drawn():
    seen: dict[str, set[str]] = {task: set() for task in round_module.TASKS}
    tiers: dict[str, set[int]] = {task: set() for task in round_module.TASKS}
    total = 0
    for seed in range(40):
        for challenge in build_round(f"seed-{seed}").for_miner(seed):
            seen[challenge.task].add(challenge.requests[0].model_dump_json())
            tiers[challenge.task].add(challenge.tier)
            total += 1
    per_task = {task: len(v) for task, v in seen.items()}
    drawn = {task: 40 * (round_module.PRIVATE[task] + round_module.SHARED[task])
             for task in round_module.TASKS}  # fmt: skip
    assert per_task == drawn, per_task  # no instance ever repeats
    assert all(t == set(TIERS) for t in tiers.values()), tiers


@pytest.mark.parametrize("task", list(BUILDERS))
@pytest.mark.parametrize("tier", TIERS)
def test_no_answer_scores_zero(checker, task, tier):
    for seed in range(3):
        challenge = BUILDERS[task].build(derive("none", task, tier, seed), tier)
        assert challenge.task == task and challenge.tier == tier and not challenge.shared
        grade = challenge.grade([None] * len(challenge.requests), checker)
        assert grade.accuracy == 0.0 and grade.fingerprint is None, grade


@pytest.mark.parametrize("task", list(BUILDERS))
def test_the_reference_solver_answers_the_challenges(checker, reference, task):
    accuracies = []
    for tier in TIERS:
        for seed in range(4):
            challenge = BUILDERS[task].build(derive("ref", task, tier, seed), tier)
            results, _seconds = answer_with(reference, challenge)
            assert all(r is not None for r in results), challenge.summary
            grade = challenge.grade(results, checker)
            assert 0.0 <= grade.accuracy <= 1.0
            accuracies.append(grade.accuracy)
    mean = sum(accuracies) / len(accuracies)
    # The floor: well above nothing, and (but for inference at low tiers) below perfect.
    floors = {"evaluate_pattern": 0.3, "generate_pattern": 0.3, "inference": 0.6}
    assert mean > floors[task], accuracies
    assert max(accuracies) > 0.8, accuracies


def _eval_result(r: int, q: int, s: int) -> EvaluatePatternResult:
    return EvaluatePatternResult(
        evaluation_result=EvaluationResult(relevance=r, quality=q, safety=s)
    )


def _confident(truth, right: bool = True) -> EvaluatePatternResult:
    values = [truth.relevance, truth.quality, truth.safety]
    return _eval_result(*(90 if v == right else 10 for v in values))


def test_evaluate_is_graded_with_the_brier_skill(checker):
    assert evaluate.brier_skill(50, True) == evaluate.brier_skill(50, False) == 0.0
    assert evaluate.brier_skill(100, True) == 1.0 and evaluate.brier_skill(0, True) == -3.0
    unscored_quality = 0
    for seed in range(30):
        tier = TIERS[seed % 3]
        challenge = evaluate.build(derive("eval", seed), tier)
        truths = _closed(challenge)["truths"]
        assert len(truths) == len(challenge.requests) == evaluate.REQUESTS
        perfect = [_eval_result(*(100 if v else 0 for v in
                                  (t.relevance, t.quality, t.safety))) for t in truths]  # fmt: skip
        grade = challenge.grade(perfect, checker)
        assert grade.accuracy == 1.0, grade.detail
        assert grade.fingerprint == tuple(
            s for t, r in zip(truths, perfect, strict=True)
            for d, s in zip(evaluate.DIMENSIONS, (r.evaluation_result.relevance,
                            r.evaluation_result.quality, r.evaluation_result.safety), strict=True)
            if d != "quality" or t.quality_scored
        )  # fmt: skip
        good = challenge.grade([_confident(t) for t in truths], checker).accuracy
        assert good == pytest.approx(1 - 4 * 0.1**2)
        assert challenge.grade([_eval_result(50, 50, 50)] * 2, checker).accuracy == 0.0
        wrong = challenge.grade([_confident(t, right=False) for t in truths], checker)
        assert wrong.accuracy == 0.0 and "but" in wrong.detail  # floored, and explained
        half = challenge.grade([perfect[0], None], checker)
        assert 0.0 < half.accuracy < 1.0 and half.fingerprint is None
        assert "1 unanswered" in half.detail
        for index, truth in enumerate(truths):
            if truth.quality_scored:
                continue
            # Injected code is not scored on quality: any quality answer grades the same.
            unscored_quality += 1
            assert not truth.safety
            flipped = list(perfect)
            r = perfect[index].evaluation_result
            flipped[index] = _eval_result(r.relevance, 100 - r.quality, r.safety)
            assert challenge.grade(flipped, checker).accuracy == 1.0
    assert unscored_quality > 0


def test_evaluate_truths_hold_for_the_patterns_sent():
    """A pattern marked good computes its trigger's program on the public examples, and the
    examples shown are the program's outputs; safe patterns pass the static analyser."""
    from mycel_subnet.safety import analyse_code

    for seed in range(20):
        challenge = evaluate.build(derive("truth", seed), TIERS[seed % 3])
        for request, truth in zip(challenge.requests, _closed(challenge)["truths"], strict=True):
            solution = request.pattern.solution
            assert isinstance(solution, CodeTemplate) and solution.entrypoint
            examples = request.test_context.examples
            assert len(examples) == 3
            if truth.safety:
                assert analyse_code(solution.code, "python").safe, solution.code
                fn = P.compile_source(solution.code, solution.entrypoint)
                for example in examples:
                    assert fn(list(example.args[0])) == example.expected
            stated = P.parse_description(request.pattern.trigger) if truth.safety else None
            if stated is not None:
                for example in examples:
                    assert P.run(stated, example.args[0]) == example.expected


def test_inference_grades_the_answer_then_the_attribution(checker):
    kinds = set()
    for seed in range(18):
        tier = TIERS[seed % 3]
        challenge = inference.build(derive("inf", seed), tier)
        (request,) = challenge.requests
        closed = _closed(challenge)
        expected, fitting, decoys = closed["expected"], closed["fitting"], closed["decoy_ids"]
        offered = {p.id: p for p in request.available_patterns}
        assert decoys <= set(offered) and len(decoys) == inference.DECOYS[tier]
        assert set(offered) == decoys | ({fitting.id} if fitting is not None else set())
        assert challenge.summary.endswith("none fits" if fitting is None else "one fits")
        kinds.add(fitting is None)
        examples = [
            (json.loads(left), json.loads(right))
            for left, right in (line.split(" -> ") for line in request.context.splitlines()[1:])
        ]
        assert len(examples) == inference.EXAMPLES
        query_input = json.loads(request.query.split("Process ")[1].split(" the same way")[0])
        for pattern_id, pattern in offered.items():
            fn = P.compile_source(pattern.solution.code, pattern.solution.entrypoint)
            fits = all(fn(list(xs)) == out for xs, out in examples)
            assert fits == (pattern_id not in decoys), pattern.trigger  # decoys fail an example
            if fits:
                assert fn(list(query_input)) == expected
        answer = json.dumps(expected)
        right_ids = [fitting.id] if fitting is not None else []
        best = challenge.grade([InferenceResult(response=answer, patterns_used=right_ids)], checker)
        assert best.accuracy == pytest.approx(1.0), best.detail
        in_prose = InferenceResult(response=f"The result is {answer}.", patterns_used=right_ids)
        assert challenge.grade([in_prose], checker).accuracy == pytest.approx(1.0)
        decoy = next(iter(decoys))
        misattributed = InferenceResult(response=answer, patterns_used=[*right_ids, decoy])
        assert challenge.grade([misattributed], checker).accuracy == pytest.approx(0.8)
        if fitting is not None:
            unnamed = challenge.grade([InferenceResult(response=answer)], checker)
            assert unnamed.accuracy == pytest.approx(0.8) and "attribution" in unnamed.detail
        wrong = InferenceResult(response=json.dumps(["nope"]), patterns_used=right_ids)
        assert challenge.grade([wrong], checker).accuracy == 0.0
        assert challenge.grade([InferenceResult(response="")], checker).accuracy == 0.0
    assert kinds == {True, False}  # some instances offer the fitting pattern, some none


def _generated(code: str, entrypoint: str = "solve", language: str = "python"):
    pattern = LearnedPattern(
        creator="m.near", created_at="2026-01-01T00:00:00Z", trigger="process a batch",
        solution=CodeTemplate(language=language, code=code, entrypoint=entrypoint),
        domain="data",
    )  # fmt: skip
    return GeneratePatternResult(generated_pattern=pattern)


def _solved_generate(reference, checker):
    """A generate challenge the reference solves exactly, with its answer."""
    for seed in range(40):
        challenge = generate.build(derive("gen", seed), 1)
        (result,), _ = answer_with(reference, challenge)
        if result.generated_pattern is not None:
            grade = challenge.grade([result], checker)
            if grade.accuracy == 1.0:
                return challenge, result, grade
    raise AssertionError("the reference solved no tier-1 generate challenge in 40 seeds")


def test_generate_grading_runs_held_out_tests_and_zeroes_leaks(checker, reference):
    challenge, result, grade = _solved_generate(reference, checker)
    (request,) = challenge.requests
    closed = _closed(challenge)
    cases, planted = closed["cases"], closed["planted"]
    assert len(cases) == generate.HIDDEN
    code = result.generated_pattern.solution.code
    # The log shows the hidden program at work: the solved code reproduces every shown pair.
    fn = P.compile_source(code, "solve")
    turns = request.interaction_log.turns
    shown = [(t.content, a.content) for t, a in zip(turns[0::2], turns[1::2], strict=False)
             if t.role == "user" and a.role == "assistant"]  # fmt: skip
    assert len(shown) == generate.SHOWN
    for ask, answer in shown:
        values = json.loads(LIST.findall(ask)[0])
        assert json.dumps(fn(values)) in answer
    # The planted personal data is in the log and never in what the solver shares.
    log_text = request.interaction_log.model_dump_json()
    assert sorted(pii.leaked(log_text, planted)) == sorted(p.kind for p in planted)
    assert pii.leaked(result.model_dump_json(), planted) == []
    assert grade.fingerprint is not None
    # Cosmetic edits keep the fingerprint; hidden tests decide the accuracy.
    renamed = "# my own work\n" + code.replace("def solve(", "def  solve (")
    assert challenge.grade([_generated(renamed)], checker).fingerprint == grade.fingerprint
    constant = challenge.grade([_generated("def solve(values):\n    return 0\n")], checker)
    assert constant.accuracy < 1.0 and constant.detail.startswith("held-out tests")
    token = next(p.value for p in planted if p.kind == "API_KEY")
    leaky = challenge.grade([_generated(f'TOKEN = "{token}"\n' + code)], checker)
    assert leaky.accuracy == 0.0 and "API_KEY" in leaky.detail
    hostile = "import os\n\ndef solve(values):\n    os.system('rm -rf /')\n    return 0\n"
    refused_code = challenge.grade([_generated(hostile)], checker)
    assert refused_code.accuracy == 0.0 and "analyser" in refused_code.detail
    js = challenge.grade([_generated(code, language="javascript")], checker)
    assert js.accuracy == 0.0 and "Python" in js.detail
    refusal = GeneratePatternResult(generated_pattern=None, refusal_reason="nothing to share")
    assert challenge.grade([refusal], checker).accuracy == 0.0


def test_answers_are_read_tolerantly_and_compared_by_type():
    assert parse_value("42") == 42
    assert parse_value("The result is -3.") == -3
    assert parse_value("Sure!\n```json\n[1, 2]\n```") == [1, 2]
    assert parse_value("steps...\n[4, 5, 6]") == [4, 5, 6]
    with pytest.raises(ValueError):
        parse_value("no number here")
    assert same_value(3.0, 3) and same_value([1, 2], [1, 2])
    assert not same_value(True, 1) and not same_value("3", 3)
    assert not same_value([1, 2], [1, 2, 3]) and not same_value([1], 1)


def test_the_sandbox_checker_runs_each_distinct_code_once():
    checker = SandboxChecker()
    code = "def solve(values):\n    return sum(values)\n"
    cases = [([[1, 2]], 3), ([[5]], 5)]
    assert checker.pass_rate(code, "solve", cases) == 1.0
    assert checker.pass_rate(code, "solve", cases) == 1.0
    assert checker.runs == 1
    assert checker.pass_rate(code, "solve", [([[1]], 2)]) == 0.0 and checker.runs == 2
    assert checker.pass_rate(code, "not an identifier", cases) == 0.0


def test_a_miners_grading_budget_runs_out():
    class Slow:
        def pass_rate(self, code, entrypoint, cases):
            time.sleep(0.06)
            return 1.0

    budget = BudgetedChecker(Slow(), seconds=0.1)
    assert budget.pass_rate("x", "f", []) == 1.0
    assert budget.pass_rate("x", "f", []) == 1.0  # started inside the budget
    with pytest.raises(GradingBudgetExceeded):
        budget.pass_rate("x", "f", [])
    assert budget.left <= 0
