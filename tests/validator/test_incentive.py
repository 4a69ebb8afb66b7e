"""The incentive pays only for better work: rounds share no deciding evidence, public examples
never give a broken pattern away, the proper scoring rule pays nothing for guessing, copies
split one share, time is a gate not a race, and rewards are relative to the reference.

The scorers keep their answers in closures (`challenge.scorer.__closure__`); these tests read
them back by name to know the truth and the hidden cases. The validator itself never does.
"""

from __future__ import annotations

import itertools
import json
import random
import re
import time
from pathlib import Path
from typing import Any

import pytest

from mycel_subnet.engines.demo import ConstantEngine, RandomEngine
from mycel_subnet.engines.solver.probes import mined_constants
from mycel_subnet.tasks import programs as P
from mycel_subnet.validator.challenges import evaluate
from mycel_subnet.validator.challenges.checker import (
    BudgetedChecker,
    GradingBudgetExceeded,
    SandboxChecker,
)
from mycel_subnet.validator.challenges.round import build_round
from mycel_subnet.validator.duplicates import SCORE_TOLERANCE, duplicate_groups
from mycel_subnet.validator.fingerprint import code_fingerprint
from mycel_subnet.validator.scoring import (
    RewardPolicy,
    TaskResult,
    miner_rewards,
    relative_reward,
    task_value,
    time_credit,
)
from mycel_subnet.validator.weights import WeightPolicy, shaped_scores
from protocol import EvaluatePatternResult, EvaluationResult

LIST = re.compile(r"\[[-\d,\s]*\]")
REFERENCE = {"evaluate_pattern": 0.45, "generate_pattern": 0.45, "inference": 0.87}


def _closed(challenge) -> dict[str, Any]:
    """The scorer's closure variables by name (how a test reaches the hidden answers)."""
    fn = challenge.scorer
    cells = fn.__closure__ or ()
    return dict(zip(fn.__code__.co_freevars, (c.cell_contents for c in cells), strict=True))


class _NoSandbox:
    """A CodeChecker for tests that grade no code (the scorer must not call it)."""

    def pass_rate(self, code, entrypoint, cases):  # pragma: no cover - must not run
        raise AssertionError("this scorer should not run code")


# --- 1. rounds from different seeds share no deciding evidence -----------------------------


def _evidence(seed: str, uids=range(5)) -> dict[str, set[str]]:
    """Everything a miner could use to decide its answers, by kind, across a whole round."""
    rnd = build_round(seed)
    challenges = list(rnd.shared) + list(rnd.reference_sample())
    for uid in uids:
        challenges += list(rnd.private(uid))
    out: dict[str, set[str]] = {
        k: set() for k in ("code", "trigger", "query", "examples", "log", "hidden", "planted",
                           "inference_input", "inference_context", "offered_code")
    }  # fmt: skip
    for challenge in challenges:
        closed = _closed(challenge)
        if challenge.task == "evaluate_pattern":
            for request in challenge.requests:
                out["code"].add(request.pattern.solution.code)
                out["trigger"].add(request.pattern.trigger)
                out["query"].add(request.test_context.query)
                examples = [e.args for e in request.test_context.examples]
                out["examples"].add(json.dumps(examples))
        elif challenge.task == "generate_pattern":
            (request,) = challenge.requests
            out["log"].add(json.dumps([t.content for t in request.interaction_log.turns]))
            out["hidden"].add(json.dumps(closed["cases"]))
            # names come from a public pool (38 x 35): a name alone is no secret, the e-mail,
            # phone and token are drawn fresh
            out["planted"] |= {p.value for p in closed["planted"] if p.kind != "PERSON"}
        else:
            (request,) = challenge.requests
            out["inference_input"].add(LIST.findall(request.query)[0])
            out["inference_context"].add(request.context)
            out["offered_code"] |= {p.solution.code for p in request.available_patterns}
    return out


def test_rounds_from_different_seeds_share_no_deciding_evidence() -> None:
    seeds = ("a" * 32, "b" * 32, "0123456789abcdef" * 2)
    evidence = [_evidence(seed) for seed in seeds]
    for kind in evidence[0]:
        for i in range(len(seeds)):
            assert evidence[i][kind], f"no {kind} collected: the comparison would be vacuous"
            for j in range(i + 1, len(seeds)):
                shared = evidence[i][kind] & evidence[j][kind]
                assert not shared, f"{kind} repeats across seeds: {sorted(shared)[:2]}"


def test_the_same_seed_rebuilds_the_same_evidence() -> None:
    # the positive control for the test above: the comparison does see equal content
    assert _evidence("c" * 32, uids=(7,)) == _evidence("c" * 32, uids=(7,))


def test_private_instances_of_two_miners_share_no_evidence() -> None:
    rnd = build_round("d" * 32)
    a, b = rnd.private(1), rnd.private(2)
    assert [c.task for c in a] == [c.task for c in b]
    dump = lambda cs: {r.model_dump_json() for c in cs for r in c.requests}  # noqa: E731
    assert not dump(a) & dump(b)
    assert not dump(a) & dump(rnd.shared)
    assert rnd.for_miner(1)[-len(rnd.shared) :] == rnd.shared
    assert all(c.shared for c in rnd.shared) and not any(c.shared for c in a)


# --- 2. public examples never separate the correct from the broken variant ------------------


def _separating_inputs(program: P.Program, code: str, seed: int) -> list[list[int]]:
    """An independent search for a witness: edge inputs plus every constant the code holds
    (folded), pushed back to every stage."""
    rng = random.Random(900_000 + seed)
    inputs = P.probe_inputs(program, rng, 400)
    for value in mined_constants(code, fold=True):
        for index in range(len(program.stages) + 1):
            for raw in P.preimages(program, index, value):
                inputs += [[raw], [raw, raw], [raw, 1, 2, 3], [5, raw, -4, 9, 0]]
    return inputs


@pytest.mark.parametrize("tier", (1, 2, 3))
def test_public_examples_never_separate_correct_from_broken(tier: int) -> None:
    broken_seen = correct_seen = truncated = 0
    for seed in range(45):
        challenge = evaluate.build(random.Random(seed * 7 + tier), tier)
        truths = _closed(challenge)["truths"]
        for request, truth in zip(challenge.requests, truths, strict=True):
            if not truth.quality_scored:
                continue  # injected code: not run here, not scored on quality
            code = request.pattern.solution.code  # validator-generated, uninjected
            name = request.pattern.solution.entrypoint
            shown = P.compile_source(code, name)
            examples = request.test_context.examples
            assert len(examples) == 3
            for example in examples:
                (values,) = example.args
                assert shown(list(values)) == example.expected
            program = P.parse_description(request.pattern.trigger)
            if program is None:
                # an injected trigger too long for the limit is cut short (tasks/unsafe.py),
                # which can cut the program statement; only unsafe triggers may be unreadable
                assert not truth.safety, request.pattern.trigger
                truncated += 1
                continue
            for example in examples:
                # the trigger's program gives the expected output too: nothing to separate
                assert P.run(program, example.args[0]) == example.expected
            witness = next(
                (
                    xs
                    for xs in _separating_inputs(program, code, seed)
                    if shown(list(xs)) != P.run(program, xs)
                ),
                None,
            )
            if truth.quality:
                correct_seen += 1
                assert witness is None, (code, witness)
            else:
                broken_seen += 1
                assert witness is not None, code
                assert witness not in [e.args[0] for e in examples]
    assert broken_seen >= 15 and correct_seen >= 15 and truncated <= 6


# --- 4. a constant evaluator earns exactly nothing on the proper scoring rule ---------------


def _answers(challenge, engine) -> list:
    return [engine.evaluate_pattern(r) for r in challenge.requests]


def _informed(truths) -> list:
    return [
        EvaluatePatternResult(
            evaluation_result=EvaluationResult(
                relevance=100 * t.relevance, quality=100 * t.quality, safety=100 * t.safety
            )
        )
        for t in truths
    ]


def test_brier_skill_values() -> None:
    assert evaluate.brier_skill(50, True) == 0.0 == evaluate.brier_skill(50, False)
    assert evaluate.brier_skill(100, True) == 1.0 == evaluate.brier_skill(0, False)
    assert evaluate.brier_skill(100, False) == -3.0
    assert evaluate.brier_skill(75, True) == pytest.approx(0.75)
    assert evaluate.brier_skill(150, True) == 1.0  # clipped to a probability


def test_constant_scores_nothing_informed_scores_everything_random_little() -> None:
    constant, noise = ConstantEngine(score=50), RandomEngine(seed=11)
    random_grades = []
    for seed in range(60):
        tier = 1 + seed % 3
        challenge = evaluate.build(random.Random(1_000 + seed), tier)
        truths = _closed(challenge)["truths"]
        grade = challenge.grade(_answers(challenge, constant), _NoSandbox())
        assert grade.accuracy == 0.0
        assert grade.fingerprint == (50,) * len(grade.fingerprint)
        informed = challenge.grade(_informed(truths), _NoSandbox())
        assert informed.accuracy == 1.0
        # the informed answer, inverted: confidently wrong on everything, floored at 0
        inverted = [
            EvaluatePatternResult(evaluation_result=EvaluationResult(
                relevance=100 - r.evaluation_result.relevance,
                quality=100 - r.evaluation_result.quality,
                safety=100 - r.evaluation_result.safety,
            ))
            for r in _informed(truths)
        ]  # fmt: skip
        assert challenge.grade(inverted, _NoSandbox()).accuracy == 0.0
        random_grades.append(challenge.grade(_answers(challenge, noise), _NoSandbox()).accuracy)
    assert sum(random_grades) / len(random_grades) < 0.2


def test_unanswered_requests_score_zero_and_leave_no_fingerprint() -> None:
    challenge = evaluate.build(random.Random(5), 2)
    truths = _closed(challenge)["truths"]
    results = _informed(truths)
    results[1] = None
    grade = challenge.grade(results, _NoSandbox())
    assert 0.0 < grade.accuracy < 1.0
    assert grade.fingerprint is None
    assert "1 unanswered" in grade.detail


# --- 3. a duplicate group splits one share --------------------------------------------------


def _results(uid: int, accuracy: float, latency: float = 1.0) -> list[TaskResult]:
    return [TaskResult(uid, task, accuracy, latency) for task in REFERENCE]


def test_duplicate_group_splits_one_share() -> None:
    policy = RewardPolicy()
    results = [r for uid in (1, 2, 3) for r in _results(uid, 0.9)] + _results(4, 0.7)
    uids = [1, 2, 3, 4]
    alone = miner_rewards(results, uids, 10.0, REFERENCE, policy)
    split = miner_rewards(results, uids, 10.0, REFERENCE, policy, groups=[{1, 2, 3, 99}])
    assert alone[1] == alone[2] == alone[3] > alone[4] > 0
    group_total = split[1] + split[2] + split[3]
    assert group_total == pytest.approx(alone[1])
    assert group_total <= 1.1 * alone[1]
    assert split[1] == split[2] == split[3] == pytest.approx(alone[1] / 3)
    assert split[4] == alone[4]  # another engine is untouched


def test_missing_task_type_counts_as_zero() -> None:
    policy = RewardPolicy()
    full = miner_rewards(_results(1, 0.9), [1], 10.0, REFERENCE, policy)[1]
    partial = [r for r in _results(1, 0.9) if r.task != "inference"]
    assert miner_rewards(partial, [1], 10.0, REFERENCE, policy)[1] < full
    assert miner_rewards([], [5], 10.0, REFERENCE, policy) == {5: 0.0}


EVAL_KEY, GEN_KEY = "shared:evaluate_pattern:0", "shared:generate_pattern:0"
CODE = "def solve(values):\n    out = list(values)\n    out = [x for x in out if x > 7]\n    return sum(out)\n"  # noqa: E501
RENAMED = (
    "# tidied up\ndef solve_v2(values_v2):\n"
    '    """Sum of the large values."""\n'
    "    acc = list(values_v2)  # copy\n"
    "    acc = [y for y in acc if y > 7]\n\n"
    "    return sum(acc)\n"
)
OTHER = CODE.replace("x > 7", "x >= 7")


def _shared(uid: int, scores: tuple[int, ...] | None, code: str | None) -> list[TaskResult]:
    out = []
    if scores is not None:
        out.append(
            TaskResult(uid, "evaluate_pattern", 0.5, 1.0, shared_key=EVAL_KEY, fingerprint=scores)
        )
    if code is not None:
        fp = code_fingerprint(code)
        out.append(
            TaskResult(uid, "generate_pattern", 0.5, 1.0, shared_key=GEN_KEY, fingerprint=fp)
        )
    return out


def test_duplicate_groups_within_tolerance_and_equal_code() -> None:
    base = (95, 3, 75, 20, 55, 75)
    near = tuple(s + (SCORE_TOLERANCE if i % 2 else -SCORE_TOLERANCE) for i, s in enumerate(base))
    far = (base[0] + SCORE_TOLERANCE + 1, *base[1:])  # 4 off base, 7 off near
    results = (
        _shared(1, base, CODE)
        + _shared(2, near, RENAMED)  # scores within +-3 and the same normalised code
        + _shared(3, far, CODE)  # one score 4 points off: another engine
        + _shared(4, base, OTHER)  # the same scores but different code
        + _shared(5, None, CODE)  # only code: too little to call it a copy
        + [TaskResult(6, "evaluate_pattern", 0.5, 1.0, fingerprint=base)]  # not shared
        + [TaskResult(7, "evaluate_pattern", 0.5, 1.0, shared_key=EVAL_KEY)]  # unanswered
    )
    assert duplicate_groups(results) == [{1, 2}]


def test_duplicate_groups_are_connected_components() -> None:
    results = _shared(1, (50, 50), None) + _shared(2, (53, 53), None) + _shared(3, (56, 56), None)
    assert duplicate_groups(results) == [{1, 2, 3}]
    assert duplicate_groups(_shared(1, (50, 50), None) + _shared(3, (56, 56), None)) == []
    assert duplicate_groups(_shared(1, (50, 50), None) + _shared(2, (50, 50, 50), None)) == []


# --- fingerprints ---------------------------------------------------------------------------


def test_code_fingerprint_ignores_cosmetics() -> None:
    assert code_fingerprint(CODE) == code_fingerprint(RENAMED)
    hinted = CODE.replace("def solve(values):", "def solve(values: list[int]) -> int:")
    assert code_fingerprint(hinted) == code_fingerprint(CODE)
    spaced = CODE.replace("x > 7", "x  >  7").replace("\n    return", "\n\n    return")
    assert code_fingerprint(spaced) == code_fingerprint(CODE)


def test_code_fingerprint_sees_logic() -> None:
    prints = {
        code_fingerprint(c)
        for c in (
            CODE,
            OTHER,
            CODE.replace("> 7", "> 8"),
            CODE.replace("sum(out)", "len(out)"),
            CODE.replace("out = [x for x in out if x > 7]", "out = [x for x in out if 7 < x]"),
            "def solve(values:\n  broken",
        )
    }
    assert len(prints) == 6
    # builtins keep their names: renaming `sum` is a different program
    assert code_fingerprint(CODE) != code_fingerprint(CODE.replace("sum(out)", "total(out)"))
    # unparseable text falls back to its whitespace-normalised form
    assert code_fingerprint("def (  x") == code_fingerprint("def (\n x")


# --- time is a gate with a small tiebreak ---------------------------------------------------


def test_time_credit_gate() -> None:
    assert time_credit(0.49, 0.1, 10.0) == 0.0  # below the accuracy bar
    assert time_credit(1.0, 10.0, 10.0) == 0.0  # at the deadline
    assert time_credit(1.0, 12.0, 10.0) == 0.0  # past it
    assert time_credit(1.0, 1.0, 0.0) == 0.0  # no deadline
    assert time_credit(0.5, 9.99, 10.0) == pytest.approx(0.9, abs=1e-3)
    assert time_credit(0.5, 0.0, 10.0) == pytest.approx(1.0)


def test_fast_and_slow_correct_answers_are_worth_nearly_the_same() -> None:
    fast, slow = task_value(1.0, 0.05, 10.0), task_value(1.0, 9.9, 10.0)
    assert 0.0 < fast - slow <= 0.02
    # a fast wrong answer is worth far less than a slow right one
    assert task_value(0.3, 0.0, 10.0) < slow - 0.5
    # missing the deadline costs the whole time credit
    assert task_value(1.0, 10.0, 10.0) == pytest.approx(0.8)
    assert task_value(1.7, 0.0, 10.0) == task_value(1.0, 0.0, 10.0)  # accuracy clipped


# --- rewards relative to the reference ------------------------------------------------------


@pytest.mark.parametrize("reference", (0.2, 0.45, 0.87))
def test_relative_reward_floor_below_above(reference: float) -> None:
    policy = RewardPolicy(floor=0.2, below_power=3.0)
    assert relative_reward(reference, reference, policy) == pytest.approx(0.2)
    assert relative_reward(reference * 0.8, reference, policy) == pytest.approx(0.2 * 0.8**3)
    assert relative_reward(reference - 0.01, reference, policy) < 0.2
    assert relative_reward(reference + 0.01, reference, policy) > 0.2
    assert relative_reward(1.0, reference, policy) == pytest.approx(1.0)
    assert relative_reward(0.0, reference, policy) == 0.0
    grid = [relative_reward(v / 100, reference, policy) for v in range(101)]
    assert all(a < b for a, b in itertools.pairwise(grid))


def test_relative_reward_policy_is_validated() -> None:
    for bad in ({"floor": 0.0}, {"floor": 1.0}, {"below_power": 0.5}):
        with pytest.raises(ValueError):
            RewardPolicy(**bad)
    steep = RewardPolicy(floor=0.2, below_power=5.0)
    assert relative_reward(0.3, 0.45, steep) < relative_reward(0.3, 0.45, RewardPolicy())


def test_matching_the_reference_earns_the_floor_end_to_end() -> None:
    policy = RewardPolicy()
    reference = {task: task_value(0.9, 2.0, 10.0) for task in REFERENCE}
    same = miner_rewards(_results(1, 0.9, 2.0), [1], 10.0, reference, policy)[1]
    assert same == pytest.approx(policy.floor)
    worse = miner_rewards(_results(1, 0.7, 2.0), [1], 10.0, reference, policy)[1]
    better = miner_rewards(_results(1, 1.0, 2.0), [1], 10.0, reference, policy)[1]
    assert worse < policy.floor * 0.75 and better > policy.floor * 2


# --- weights --------------------------------------------------------------------------------


def test_shaped_scores_power() -> None:
    shaped = shaped_scores({1: 0.5, 2: 1.0, 3: -0.2}, WeightPolicy(sharpen_power=2.0))
    assert shaped == {1: pytest.approx(0.25), 2: 1.0, 3: 0.0}
    flat = shaped_scores({1: 0.5, 2: 1.0}, WeightPolicy(sharpen_power=1.0))
    assert flat == {1: 0.5, 2: 1.0}
    # sharpening moves mass toward the best
    assert shaped[2] / (shaped[1] + shaped[2]) > flat[2] / (flat[1] + flat[2])


def test_shaped_scores_burn_policy() -> None:
    burn = WeightPolicy(floor=0.2, floor_policy="burn", burn_uid=0)
    assert shaped_scores({3: 0.2, 4: 0.1}, burn) == {0: 1.0}  # nobody above the floor
    assert shaped_scores({}, burn) == {0: 1.0}
    above = shaped_scores({3: 0.5, 4: 0.1}, burn)
    assert above == {3: pytest.approx(0.25), 4: pytest.approx(0.01)}
    equal = WeightPolicy(floor=0.2, floor_policy="equal")
    assert shaped_scores({3: 0.2, 4: 0.1}, equal) == {
        3: pytest.approx(0.04),
        4: pytest.approx(0.01),
    }


# --- the grading budget ---------------------------------------------------------------------


class _SlowChecker:
    def __init__(self, seconds: float, fail: bool = False) -> None:
        self.seconds, self.fail, self.calls = seconds, fail, 0

    def pass_rate(self, code, entrypoint, cases) -> float:
        self.calls += 1
        time.sleep(self.seconds)
        if self.fail:
            raise RuntimeError("sandbox trouble")
        return 1.0


def test_budgeted_checker_refuses_after_the_budget_is_spent() -> None:
    inner = _SlowChecker(0.03)
    budgeted = BudgetedChecker(inner, seconds=0.05)
    assert budgeted.pass_rate("c", "f", []) == 1.0  # 0.03 spent
    assert budgeted.pass_rate("c", "f", []) == 1.0  # still had 0.02: runs, overshoots
    assert budgeted.left < 0
    with pytest.raises(GradingBudgetExceeded):
        budgeted.pass_rate("c", "f", [])
    assert inner.calls == 2  # the refused call never reached the sandbox


def test_budgeted_checker_charges_failed_runs_too() -> None:
    inner = _SlowChecker(0.03, fail=True)
    budgeted = BudgetedChecker(inner, seconds=0.04)
    for _ in range(2):
        with pytest.raises(RuntimeError):
            budgeted.pass_rate("c", "f", [])
    with pytest.raises(GradingBudgetExceeded):
        budgeted.pass_rate("c", "f", [])
    assert inner.calls == 2


def test_sandbox_checker_runs_each_distinct_code_once() -> None:
    checker = SandboxChecker()
    cases = [([[1, 9, 8]], 17), ([[]], 0), ([[7, 7]], 0)]
    assert checker.pass_rate(CODE, "solve", cases) == 1.0
    assert checker.pass_rate(CODE, "solve", cases) == 1.0
    assert checker.runs == 1
    assert checker.pass_rate(CODE, "not an identifier", cases) == 0.0


# --- scores from moving averages of values; duplicate groups pool their values --------------


def test_duplicate_group_members_get_pooled_values_so_a_copy_never_beats_the_original() -> None:
    from mycel_subnet.validator.scoring import SHARE, TaskResult, step_values

    tasks = ("evaluate_pattern", "generate_pattern")
    results = [
        TaskResult(1, "evaluate_pattern", 0.9, 1.0), TaskResult(1, "generate_pattern", 0.4, 1.0),
        TaskResult(2, "evaluate_pattern", 0.5, 1.0), TaskResult(2, "generate_pattern", 1.0, 1.0),
        TaskResult(3, "evaluate_pattern", 0.7, 1.0), TaskResult(3, "generate_pattern", 0.7, 1.0),
    ]  # fmt: skip
    values = step_values(results, [1, 2, 3], 12.0, tasks, [{1, 2}])
    assert {k: round(v, 9) for k, v in values[1].items()} == {
        k: round(v, 9) for k, v in values[2].items()
    }
    assert values[1][SHARE] == values[2][SHARE] == 0.5 and values[3][SHARE] == 1.0
    alone = step_values(results, [1, 2, 3], 12.0, tasks)
    for task in tasks:  # pooled = the group's mean; the outsider is untouched
        assert values[1][task] == pytest.approx((alone[1][task] + alone[2][task]) / 2)
        assert values[3][task] == alone[3][task]


def test_store_scores_come_from_averaged_values(tmp_path: Path) -> None:
    from mycel_subnet.validator.scoring import RewardPolicy, score_from_values
    from mycel_subnet.validator.store import ScoreStore, StepRecord

    floor = {"evaluate_pattern": 0.5}
    policy = RewardPolicy()
    store = ScoreStore(tmp_path / "s.sqlite", alpha=0.5)
    hotkeys = {1: "a", 2: "b"}
    step = {1: {"evaluate_pattern": 0.5, "__share__": 1.0}, 2: {"evaluate_pattern": 1.0}}
    for n in range(1, 30):
        record = StepRecord(n, n, "s", 0.1, {}, step)
        scores = store.commit_step(record, hotkeys, lambda v: score_from_values(v, floor, policy))
    # a miner steadily at the floor converges to the floor reward; a better one above it
    assert scores[1] == pytest.approx(policy.floor, abs=1e-6)
    assert scores[2] > 0.9
    assert store.task_values()[2]["evaluate_pattern"] == pytest.approx(1.0, abs=1e-6)
    # a re-registered uid starts again from nothing
    store.commit_step(StepRecord(30, 30, "s", 0.1, {}, {}), {1: "a", 2: "new"}, lambda v: 0.0)
    assert 2 not in store.task_values()
    store.close()
