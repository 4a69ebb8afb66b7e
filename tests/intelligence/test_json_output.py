"""JSON extraction, repair, retry with feedback and bounded failure.

Generation runs on a tiny random Llama with the real SmolLM2 tokenizer (real transformers code,
random weights, so its answers are never valid JSON). Where a test needs a specific answer
sequence it uses a scripted backend, because no real model can be made to say it on cue."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field

from mycel_subnet.intelligence.llm import extract_json_text, generate_json, parse_json_object

from .scripted import ScriptedBackend


class Verdict(BaseModel):
    label: str
    score: float = Field(ge=0, le=1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"label": "good", "score": 0.9}', {"label": "good", "score": 0.9}),
        (
            'Sure! Here it is:\n{"label": "a}b", "score": 1} Hope it helps.',
            {"label": "a}b", "score": 1},
        ),
        ('```json\n{"label": "x", "score": 0.5}\n```\ntrailing', {"label": "x", "score": 0.5}),
        ("```\n{'label': 'x', score: 0.5,}\n```", {"label": "x", "score": 0.5}),
        ('{"label": "x", "score": 0.5', {"label": "x", "score": 0.5}),
    ],
)
def test_parse_extracts_and_repairs(text: str, expected: dict) -> None:
    obj, _repaired, error = parse_json_object(text)
    assert error is None
    assert obj == expected


def test_parse_reports_why_it_failed() -> None:
    assert parse_json_object("no braces at all") == (
        None,
        False,
        "no JSON object found in the answer",
    )
    assert extract_json_text("prose only") is None
    obj, _, error = parse_json_object("[1, 2, 3]")
    assert obj is None and "no JSON object" in error


def test_repair_is_flagged() -> None:
    _, repaired, _ = parse_json_object("{'label': 'x', 'score': 0.1,}")
    assert repaired
    _, repaired, _ = parse_json_object('{"label": "x", "score": 0.1}')
    assert not repaired


def test_repaired_answer_validates_first_time() -> None:
    backend = ScriptedBackend("scripted", ["Here you go: {label: 'spam', score: 0.75,}"])
    result = generate_json(backend, "Classify this.", Verdict)
    assert result.ok and result.repaired
    assert result.value == Verdict(label="spam", score=0.75)
    assert result.attempts == 1


def test_retry_feeds_the_validation_error_back() -> None:
    backend = ScriptedBackend(
        "scripted", ['{"label": "spam", "score": 7}', '{"label": "spam", "score": 0.7}']
    )
    result = generate_json(backend, "Classify this.", Verdict, retries=2)
    assert result.ok and result.attempts == 2
    assert result.value.score == 0.7
    first, second = backend.prompts
    assert "JSON schema" in first and "rejected" not in first
    assert "rejected" in second and "score" in second and "less than or equal to 1" in second


def test_tiny_model_fails_within_the_bound(tiny_backend) -> None:
    result = generate_json(
        tiny_backend, "Classify: 'free money!!!'", Verdict, retries=1, max_new_tokens=12
    )
    assert not result.ok and result.value is None
    assert result.attempts == 2 and len(result.generations) == 2
    assert result.error.startswith("no valid JSON after 2 attempt(s)")
    assert result.backend == tiny_backend.name


def test_zero_retries_means_one_attempt() -> None:
    backend = ScriptedBackend("scripted", ["nope", '{"label": "x", "score": 0}'])
    result = generate_json(backend, "p", Verdict, retries=0)
    assert not result.ok and result.attempts == 1
    assert "no JSON object found" in result.error


def test_bad_arguments_are_named() -> None:
    backend = ScriptedBackend("scripted", [])
    with pytest.raises(TypeError, match="model_cls"):
        generate_json(backend, "p", dict)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="retries"):
        generate_json(backend, "p", Verdict, retries=-1)
