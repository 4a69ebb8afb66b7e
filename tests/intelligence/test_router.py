"""Router: local first, escalation to the cloud on invalid answers, low confidence and
high-stakes tasks, and a clear NoModelAvailable when nothing can answer.

The local layer is the tiny random Llama (real transformers; its answers are never valid JSON)
or, where a test needs a valid or confident local answer on cue, a scripted backend. The cloud
layer is the real AnthropicBackend against a fake Messages API on loopback, because the real
API cannot be reached from here."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field, SecretStr

from mycel_subnet.intelligence.llm import NoModelAvailable, Router, RouterPolicy, build_router
from mycel_subnet.intelligence.llm.anthropic_backend import AnthropicBackend
from mycel_subnet.intelligence.llm.ollama_backend import OllamaBackend
from mycel_subnet.intelligence.llm.transformers_backend import TransformersBackend

from .fake_servers import FakeState, fake_anthropic, serve
from .scripted import ScriptedBackend

KEY = "sk-ant-api03-ROUTERKEY-0123456789abcdef"
GOOD = '{"label": "ham", "confidence": 0.9}'


class Answer(BaseModel):
    label: str
    confidence: float = Field(ge=0, le=1)


@pytest.fixture
def cloud():
    state = FakeState()
    with serve(fake_anthropic(state)) as url:
        backend = AnthropicBackend(
            "claude-haiku-4-5", api_key=KEY, base_url=url, spend_cap_usd=1.0, max_retries=0
        )
        yield backend, state


def test_valid_local_answer_stays_local(cloud) -> None:
    backend, state = cloud
    router = Router([ScriptedBackend("local", [GOOD])], backend)
    routed = router.generate_json("Classify", Answer, confidence="confidence")
    assert routed.ok and routed.layer == "local" and not routed.escalated
    assert routed.value.label == "ham" and routed.backend == "local"
    assert state.requests == []


def test_invalid_local_json_escalates_to_cloud(tiny_backend, cloud) -> None:
    backend, state = cloud
    state.replies.append(GOOD)
    router = Router([tiny_backend], backend, RouterPolicy(json_retries=1))
    routed = router.generate_json("Classify: hello", Answer, max_new_tokens=8)
    assert routed.ok and routed.layer == "cloud" and routed.escalated
    assert routed.reason.startswith("local answer failed validation")
    assert routed.local is not None and not routed.local.ok and routed.local.attempts == 2
    assert routed.backend == "anthropic:claude-haiku-4-5" and len(state.requests) == 1


def test_low_confidence_escalates(cloud) -> None:
    backend, state = cloud
    state.replies.append('{"label": "spam", "confidence": 0.95}')
    local = ScriptedBackend("local", ['{"label": "ham", "confidence": 0.2}'])
    routed = Router([local], backend).generate_json("Classify", Answer, confidence="confidence")
    assert routed.layer == "cloud" and routed.value.label == "spam"
    assert "confidence 0.20 below 0.50" in routed.reason
    # a caller-supplied heuristic works the same way
    local = ScriptedBackend("local", [GOOD])
    routed = Router([local], backend, RouterPolicy(min_confidence=0.95)).generate_json(
        "Classify", Answer, confidence=lambda a: a.confidence
    )
    assert routed.layer == "cloud"


def test_high_stakes_goes_to_cloud_directly(cloud) -> None:
    backend, state = cloud
    state.replies.append("cloud says hi")
    local = ScriptedBackend("local", ["local says hi"])
    routed = Router([local], backend).generate("hi", high_stakes=True)
    assert routed.layer == "cloud" and routed.text == "cloud says hi"
    assert routed.reason == "high-stakes task" and local.prompts == []


def test_without_cloud_the_local_answer_is_kept_and_noted(tiny_backend) -> None:
    routed = Router([tiny_backend]).generate_json("x", Answer, retries=0, max_new_tokens=4)
    assert routed.layer == "local" and not routed.ok
    assert any("no cloud backend is ready" in e for e in routed.errors)


def test_first_available_local_wins_and_failures_fall_through() -> None:
    down = ScriptedBackend("down", ["never"], up=False)
    broken = ScriptedBackend("broken", [], fail=True)
    works = ScriptedBackend("works", ["hello"])
    routed = Router([down, broken, works]).generate("hi")
    assert routed.text == "hello" and routed.generation.backend == "works"
    assert routed.errors == ["down: not available", "broken: broken: simulated failure"]
    assert down.prompts == []


def test_cloud_over_budget_falls_back_to_local(cloud) -> None:
    backend, _ = cloud
    backend.spend_cap_usd = 0.0  # cap already reached
    local = ScriptedBackend("local", ['{"label": "ham", "confidence": 0.1}'])
    routed = Router([local], backend).generate_json("x", Answer, confidence="confidence")
    assert routed.layer == "local" and routed.value.label == "ham"


def test_backend_none_raises_no_model_available() -> None:
    router = build_router(backend="none", anthropic_api_key=KEY)
    assert router.local == [] and router.cloud is None and not router.available()
    with pytest.raises(NoModelAvailable, match="backend=none"):
        router.generate("hi")
    with pytest.raises(NoModelAvailable):
        router.generate_json("hi", Answer)


def test_nothing_reachable_raises_with_reasons() -> None:
    router = Router([ScriptedBackend("local", [], up=False)])
    with pytest.raises(NoModelAvailable, match="local: not available"):
        router.generate("hi")


def test_build_router_picks_backends_from_flags(monkeypatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    auto = build_router(ollama_host="http://127.0.0.1:9", ollama_model="smollm2:135m")
    assert [type(b) for b in auto.local] == [OllamaBackend, TransformersBackend]
    assert auto.cloud is None
    only = build_router(backend="transformers", model="", device="cpu", threads=1)
    assert [type(b) for b in only.local] == [TransformersBackend]
    assert only.local[0].name == "transformers:smollm2-135m-instruct"
    ollama = build_router(backend="ollama", ollama_model="qwen2.5:0.5b")
    assert [b.name for b in ollama.local] == ["ollama:qwen2.5:0.5b"]
    with_cloud = build_router(
        backend="transformers",
        anthropic_api_key=SecretStr(KEY),
        anthropic_model="claude-haiku-4-5",
        cloud_spend_cap_usd=0.5,
    )
    assert isinstance(with_cloud.cloud, AnthropicBackend)
    assert with_cloud.cloud.spend_cap_usd == 0.5
    assert KEY not in repr(with_cloud)
    with pytest.raises(ValueError, match="backend must be"):
        build_router(backend="gpt")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="device must be"):
        build_router(backend="transformers", device="tpu")


def test_build_router_takes_cloud_key_from_environment(monkeypatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    assert isinstance(build_router(backend="transformers").cloud, AnthropicBackend)
