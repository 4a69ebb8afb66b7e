"""The engine with a model: the judgement is blended with (never replaces) the measurements,
prompt templates go through the model, and model failures degrade visibly. A scripted backend
(tests/intelligence/scripted.py) gives predictable answers; a tiny random model with the real
SmolLM2 tokenizer runs the whole generation path fast; one slow test runs the real SmolLM2."""

from __future__ import annotations

import json

import pytest

from mycel_subnet.engines import PatternEngine
from mycel_subnet.intelligence.llm import Router
from mycel_subnet.intelligence.llm.transformers_backend import (
    TransformersBackend,
    tiny_random_backend,
)
from protocol import GeneratePatternRequest, InferenceRequest
from tests.engines import builders as b
from tests.engines.test_inference import EVIL_ADD
from tests.intelligence.scripted import ScriptedBackend


def judged(relevance, quality, safety, rationale="ok"):
    return json.dumps(
        {"relevance": relevance, "quality": quality, "safety": safety, "rationale": rationale}
    )


def engine_with(embedder, *answers):
    backend = ScriptedBackend("scripted", list(answers))
    return PatternEngine(Router([backend]), embedder), backend


def evaluate(engine, pattern, context):
    return engine.evaluate_pattern(b.evaluate_request(pattern, context)).evaluation_result


def test_judgement_is_blended_with_measurements(embedder, baseline):
    engine, backend = engine_with(embedder, judged(0, 0, 100, "does not fit at all"))
    measured = evaluate(baseline, b.ADD, b.ADD_CONTEXT)
    result = evaluate(engine, b.ADD, b.ADD_CONTEXT)
    assert engine.name == "llm"
    assert result.relevance == round(0.7 * measured.relevance)
    # three passing sandbox examples outweigh the model's opinion of the code
    assert result.quality == 90
    assert "model (local)" in result.rationale and "does not fit at all" in result.rationale
    assert "User request: What is the sum of 2 and 3?" in backend.prompts[0]


def test_model_cannot_raise_safety_but_can_lower_it(embedder):
    engine, _ = engine_with(embedder, judged(100, 100, 100), judged(100, 100, 0))
    assert evaluate(engine, EVIL_ADD, b.ADD_CONTEXT).safety <= 5
    assert evaluate(engine, b.ADD, b.ADD_CONTEXT).safety == 70


def test_unparseable_judgement_falls_back_to_measurements_and_says_so(embedder, baseline):
    backend = ScriptedBackend("scripted", ["I think it is good", "still no json"])
    engine = PatternEngine(Router([backend]), embedder, judge_retries=1)
    result = evaluate(engine, b.ADD, b.ADD_CONTEXT)
    measured = evaluate(baseline, b.ADD, b.ADD_CONTEXT)
    assert (result.relevance, result.quality, result.safety) == (
        measured.relevance,
        measured.quality,
        measured.safety,
    )
    assert "model: no judgement" in result.rationale
    assert len(backend.prompts) == 2  # one retry with the error fed back


def test_failing_backend_degrades_visibly(embedder):
    backend = ScriptedBackend("down", [], fail=True)
    engine = PatternEngine(Router([backend]), embedder)
    result = evaluate(engine, b.ADD, b.ADD_CONTEXT)
    assert result.quality == 100 and "no judgement" in result.rationale


def test_prompt_template_goes_through_the_model(embedder):
    engine, backend = engine_with(embedder, "- SSO login crashes the app")
    request = InferenceRequest(
        query="Summarise this support ticket",
        context="ticket: The app crashes when I log in with SSO.",
        available_patterns=[b.ADD, b.SUMMARY],
    )
    result = engine.inference(request)
    assert result.response == "- SSO login crashes the app"
    assert result.patterns_used == [b.SUMMARY.id]
    assert "three short bullet points: The app crashes when I log in" in backend.prompts[0]


def test_code_answers_do_not_depend_on_the_model(embedder):
    engine, backend = engine_with(embedder, "forty-two")
    result = engine.inference(
        InferenceRequest(
            query="Add two numbers", context="args: [40, 2]", available_patterns=[b.ADD]
        )
    )
    assert result.response == "42" and backend.prompts == []


def test_model_answers_when_no_pattern_applies(embedder):
    engine, _ = engine_with(embedder, "Bonjour")
    result = engine.inference(InferenceRequest(query="Say good morning in French"))
    assert result.response == "Bonjour" and result.patterns_used == []


LOG = b.log(
    ("user", "Find all invoices from Acme Corp over $5,000 and list them by date."),
    ("assistant", "I filtered the invoice table for Acme Corp above $5,000 and sorted it by date."),
)


def test_model_refines_the_trigger_only_with_clean_answers(embedder):
    engine, _ = engine_with(embedder, "List invoices from <company> above <amount> by date")
    request = GeneratePatternRequest(interaction_log=LOG, domain="finance")
    refined = engine.generate_pattern(request).generated_pattern
    assert refined.trigger == "List invoices from <company> above <amount> by date"
    leaky, _ = engine_with(embedder, "Invoices for john.doe@example.com above <amount>")
    kept = leaky.generate_pattern(request).generated_pattern
    assert "example.com" not in kept.trigger
    assert kept.trigger.startswith("Find all invoices from <company>")


@pytest.fixture(scope="module")
def tiny_router():
    backend = tiny_random_backend(seed=0)
    backend.load()
    return Router([backend])


def test_tiny_random_model_runs_the_whole_path(embedder, tiny_router):
    engine = PatternEngine(tiny_router, embedder, judge_tokens=8, answer_tokens=8)
    result = evaluate(engine, b.ADD, b.ADD_CONTEXT)
    assert result.quality == 100 and result.safety == 100  # measurements survive noise
    assert "model" in result.rationale
    answer = engine.inference(
        InferenceRequest(query="Summarise this support ticket", available_patterns=[b.SUMMARY])
    )
    assert answer.patterns_used == [b.SUMMARY.id] and answer.response


@pytest.mark.slow
def test_real_smollm2_evaluates(embedder):
    backend = TransformersBackend(device="cpu", torch_threads=1)
    engine = PatternEngine(Router([backend]), embedder, judge_tokens=24)
    result = evaluate(engine, b.ADD, b.ADD_CONTEXT)
    assert backend.loaded
    assert result.quality >= 90 and result.safety >= 70
    assert "model" in result.rationale


def test_a_busy_model_is_skipped_instead_of_queueing_past_the_deadline(embedder, baseline):
    import threading

    engine, backend = engine_with(embedder, judged(0, 0, 100, "from the model"))
    engine.model_wait_s = 0.05
    with engine._model() as held:  # another request is using the model right now
        assert held is not None
        done = {}
        worker = threading.Thread(
            target=lambda: done.update(r=evaluate(engine, b.ADD, b.ADD_CONTEXT))
        )
        worker.start()
        worker.join(timeout=30)
    measured = evaluate(baseline, b.ADD, b.ADD_CONTEXT)
    busy = done["r"]
    assert "model: busy" in busy.rationale
    assert (busy.relevance, busy.quality, busy.safety) == (
        measured.relevance,
        measured.quality,
        measured.safety,
    )
    assert backend.prompts == []  # the model was never asked
    free = evaluate(engine, b.ADD, b.ADD_CONTEXT)
    assert "from the model" in free.rationale
