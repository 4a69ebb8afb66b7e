"""The devnet's weak engines behave as advertised, and `build_engine` picks engines from
settings and refuses an "llm" engine without a model instead of degrading silently."""

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
from mycel_subnet.engines.interface import EngineError, MinerEngine
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


def test_slow_and_copier_give_the_baseline_answers_late(baseline):
    request = InferenceRequest(
        query="Add two numbers", context="args: [2, 2]", available_patterns=[b.ADD]
    )
    expected = baseline.inference(request)
    for engine, delay in ((SlowEngine(baseline, 0.3), 0.3), (CopierEngine(baseline, 0.05), 0.05)):
        started = time.monotonic()
        assert engine.inference(request) == expected
        assert time.monotonic() - started >= delay
    copier = CopierEngine(baseline)
    assert copier.name == "copier" and copier.delay_s > 0
    assert copier.evaluate_pattern(b.evaluate_request(b.ADD, b.ADD_CONTEXT)) == (
        baseline.evaluate_pattern(b.evaluate_request(b.ADD, b.ADD_CONTEXT))
    )
    with pytest.raises(ValueError, match="delay_s must be >= 0"):
        SlowEngine(baseline, -1)


@pytest.mark.parametrize(
    ("kind", "cls"),
    [
        ("baseline", PatternEngine),
        ("random", RandomEngine),
        ("constant", ConstantEngine),
        ("slow", SlowEngine),
        ("copier", CopierEngine),
    ],
)
def test_build_engine_by_name(kind, cls):
    engine = build_engine(load_settings({"miner.engine": kind}))
    assert isinstance(engine, cls) and isinstance(engine, MinerEngine)
    assert engine.name == kind


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
    assert engine.name == "llm" and engine.llm is not None
    assert not engine.llm.local[0].loaded  # nothing loaded until asked (or warm=True)
