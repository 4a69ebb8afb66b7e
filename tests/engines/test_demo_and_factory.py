"""The devnet's weak and dishonest engines behave as advertised, and `build_engine` picks
engines from settings (the solver ladder in front of the PatternEngine) and refuses an "llm"
engine without a model instead of degrading silently."""

from __future__ import annotations

import socket
import time

import pytest

from mycel_subnet.config import load_settings
from mycel_subnet.engines import (
    ConstantEngine,
    CopierEngine,
    PatternEngine,
    RandomEngine,
    SlowEngine,
    build_engine,
)
from mycel_subnet.engines.demo import DEMO_CREATOR, RefuseEngine
from mycel_subnet.engines.interface import EngineError, MinerEngine
from mycel_subnet.engines.solver import DEEP, REFERENCE, SEARCH, SolverEngine
from mycel_subnet.validator.fingerprint import code_fingerprint
from protocol import GeneratePatternRequest, InferenceRequest
from tests.engines import builders as b

LOG = b.log(
    ("user", "Write a Python function that doubles every number in a list."),
    ("assistant", "```python\ndef double(xs):\n    return [2 * x for x in xs]\n```"),
)


def test_random_engine_gives_varied_valid_answers():
    engine = RandomEngine(seed=7)
    evals = {engine.evaluate_pattern(b.evaluate_request(b.ADD, b.ADD_CONTEXT)) for _ in range(8)}
    assert len(evals) > 1
    outcomes = [
        engine.generate_pattern(GeneratePatternRequest(interaction_log=LOG, domain="coding"))
        for _ in range(12)
    ]
    made = [o.generated_pattern for o in outcomes if o.generated_pattern is not None]
    assert made and any(o.refusal_reason for o in outcomes)
    assert all(p.domain == "coding" and p.solution.kind == "prompt_template" for p in made)
    answer = engine.inference(InferenceRequest(query="add 1 and 2", available_patterns=[b.ADD]))
    assert answer.response != "3" and set(answer.patterns_used) <= {b.ADD.id}


def test_constant_engine_ignores_the_request():
    engine = ConstantEngine()
    one = engine.evaluate_pattern(b.evaluate_request(b.ADD, b.ADD_CONTEXT))
    two = engine.evaluate_pattern(b.evaluate_request(b.INJECTED, b.TICKET_CONTEXT))
    assert one == two and one.evaluation_result.safety == 50
    gen = engine.generate_pattern(GeneratePatternRequest(interaction_log=LOG, domain="coding"))
    assert gen.generated_pattern.trigger == "help with a task"
    assert engine.inference(InferenceRequest(query="anything")).response == "I can help with that."


BATCHES = b.log(
    ("user", "Can you run our usual clean-up on [3, -1, 7]?"),
    ("assistant", "Done: [4, 0, 8]"),
    ("user", "Next one: [10, 2]"),
    ("assistant", "Result: [11, 3]"),
    ("user", "And this: [-5, 0, 5, 6]"),
    ("assistant", "Here you go: [-4, 1, 6, 7]"),
)


def test_slow_gives_the_inner_answers_late(baseline):
    request = InferenceRequest(
        query="Add two numbers", context="args: [2, 2]", available_patterns=[b.ADD]
    )
    expected = baseline.inference(request)
    started = time.monotonic()
    assert SlowEngine(baseline, 0.3).inference(request) == expected
    assert time.monotonic() - started >= 0.3
    with pytest.raises(ValueError, match="delay_s must be >= 0"):
        SlowEngine(baseline, -1)


def test_copier_passes_off_cosmetically_changed_answers():
    inner = SolverEngine(REFERENCE)
    copier = CopierEngine(inner, 0.05)
    assert copier.name == "copier" and copier.delay_s > 0
    evaluation = b.evaluate_request(b.ADD, b.ADD_CONTEXT)
    theirs = inner.evaluate_pattern(evaluation).evaluation_result
    started = time.monotonic()
    mine = copier.evaluate_pattern(evaluation).evaluation_result
    assert time.monotonic() - started >= 0.05
    for dim in ("relevance", "quality", "safety"):
        assert abs(getattr(mine, dim) - getattr(theirs, dim)) == 1  # nudged a point
    assert mine.rationale != theirs.rationale
    request = GeneratePatternRequest(interaction_log=BATCHES, domain="data")
    original = inner.generate_pattern(request).generated_pattern
    copied = copier.generate_pattern(request).generated_pattern
    assert original is not None and copied is not None
    assert copied.solution.code != original.solution.code and copied.id != original.id
    assert copied.creator == DEMO_CREATOR
    # The edits are cosmetic: the validator's fingerprint sees the same code.
    assert code_fingerprint(copied.solution.code) == code_fingerprint(original.solution.code)
    query = InferenceRequest(query="Process [1, 2] the same way", context="[3] -> [4]\n[5] -> [6]")
    answer, copied_answer = inner.inference(query), copier.inference(query)
    assert copied_answer.response != answer.response
    assert copied_answer.response.strip() == answer.response
    assert copied_answer.patterns_used == answer.patterns_used


def test_refuse_engine_never_answers():
    engine = RefuseEngine()
    with pytest.raises(EngineError):
        engine.evaluate_pattern(b.evaluate_request(b.ADD, b.ADD_CONTEXT))
    with pytest.raises(EngineError):
        engine.inference(InferenceRequest(query="add 1 and 2", available_patterns=[b.ADD]))
    refused = engine.generate_pattern(GeneratePatternRequest(interaction_log=LOG, domain="coding"))
    assert refused.generated_pattern is None and refused.refusal_reason


@pytest.mark.parametrize(
    ("kind", "cls", "name"),
    [
        ("reference", SolverEngine, "reference"),
        ("baseline", SolverEngine, "reference"),  # the old name of the shipped floor
        ("search", SolverEngine, "search"),
        ("deep", SolverEngine, "deep"),
        ("random", RandomEngine, "random"),
        ("constant", ConstantEngine, "constant"),
        ("refuse", RefuseEngine, "refuse"),
        ("slow", SlowEngine, "slow"),
        ("copier", CopierEngine, "copier"),
    ],
)
def test_build_engine_by_name(kind, cls, name):
    engine = build_engine(load_settings({"miner.engine": kind}))
    assert isinstance(engine, cls) and isinstance(engine, MinerEngine)
    assert engine.name == name
    budgets = {"reference": REFERENCE, "baseline": REFERENCE, "search": SEARCH, "deep": DEEP}
    if kind in budgets:
        assert engine.budget is budgets[kind]
        assert isinstance(engine.fallback, PatternEngine)  # anything outside the task space
    if kind in ("slow", "copier"):
        assert isinstance(engine.inner, SolverEngine) and engine.inner.budget is REFERENCE


def test_an_unknown_engine_is_refused_with_the_choices():
    from mycel_subnet.config import ConfigError
    from mycel_subnet.engines.factory import ENGINES

    with pytest.raises(ConfigError, match="miner.engine") as refused:
        load_settings({"miner.engine": "mystery"})
    assert all(f"'{kind}'" in str(refused.value) for kind in ENGINES)


def test_slow_engine_sleeps_most_of_the_validator_timeout():
    engine = build_engine(load_settings({"miner.engine": "slow", "validator.timeout_s": 5.0}))
    assert engine.delay_s == pytest.approx(3.0)


def test_llm_engine_without_a_model_fails_clearly():
    with pytest.raises(EngineError, match="model.backend is 'none'"):
        build_engine(load_settings({"miner.engine": "llm", "model.backend": "none"}))
    with socket.socket() as probe:  # a port nothing listens on: no Ollama server answers
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = load_settings(
        {
            "miner.engine": "llm",
            "model.backend": "ollama",
            "model.ollama_host": f"http://127.0.0.1:{port}",
        }
    )
    with pytest.raises(EngineError, match="no model can be loaded"):
        build_engine(settings)


def test_llm_engine_builds_with_the_embedded_model_lazily():
    settings = load_settings({"miner.engine": "llm", "model.backend": "transformers"})
    engine = build_engine(settings, warm=False)
    assert isinstance(engine, SolverEngine) and engine.name == "llm" and engine.budget is DEEP
    router = engine.proposer.router  # the model proposes code where the search finds nothing
    assert router is not None and engine.fallback.llm is router
    assert not router.local[0].loaded  # nothing loaded until asked (or warm=True)
