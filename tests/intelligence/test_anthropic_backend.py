"""AnthropicBackend through the real `anthropic` SDK against a fake Messages API on loopback
(base_url). The API is faked because this machine cannot reach it and real calls cost money;
the fake returns the real response and error shapes, with fixed usage (1000 in, 500 out)."""

from __future__ import annotations

import logging

import pytest

from mycel_subnet.intelligence.llm import BackendError, BudgetExceeded
from mycel_subnet.intelligence.llm.anthropic_backend import (
    FALLBACK_PRICE,
    AnthropicBackend,
    price_for,
)

from .fake_servers import FakeState, fake_anthropic, serve

KEY = "sk-ant-api03-TESTKEY-do-not-leak-0123456789abcdef"


@pytest.fixture
def api():
    state = FakeState()
    with serve(fake_anthropic(state)) as url:
        yield url, state


def test_generate_reads_text_and_usage(api) -> None:
    url, state = api
    state.replies.append("Bonjour.")
    backend = AnthropicBackend("claude-haiku-4-5", api_key=KEY, base_url=url, max_retries=0)
    gen = backend.generate("Say hello in French", system="terse", max_new_tokens=50)
    assert gen.text == "Bonjour." and gen.tokens_out == 500
    assert gen.backend == "anthropic:claude-haiku-4-5"
    sent = state.requests[-1]
    assert sent["model"] == "claude-haiku-4-5" and sent["max_tokens"] == 50
    assert sent["system"] == "terse"
    assert sent["messages"] == [{"role": "user", "content": "Say hello in French"}]
    sent_headers = state.headers[-1]  # the SDK authenticates with x-api-key or a bearer token
    assert KEY in (sent_headers.get("x-api-key"), sent_headers.get("authorization", "")[7:])
    # haiku-4-5: $1 / $5 per million tokens -> 1000 in + 500 out = $0.0035
    assert backend.spent_usd == pytest.approx(0.0035)


def test_spending_cap_refuses_further_calls(api) -> None:
    url, state = api
    backend = AnthropicBackend(
        "claude-sonnet-4-6", api_key=KEY, base_url=url, spend_cap_usd=0.02, max_retries=0
    )
    # sonnet: $3 / $15 per M -> each fake call costs 0.003 + 0.0075 = $0.0105
    backend.generate("one", max_new_tokens=100)
    assert backend.available()
    with pytest.raises(BudgetExceeded, match="spending cap reached"):
        backend.generate("two", max_new_tokens=1000)  # worst case would pass the cap
    backend.generate("two", max_new_tokens=100)
    assert backend.spent_usd == pytest.approx(0.021)
    assert not backend.available()
    calls = len(state.requests)
    with pytest.raises(BudgetExceeded):
        backend.generate("three", max_new_tokens=10)
    assert len(state.requests) == calls  # refused before any request went out


def test_key_never_in_errors_logs_or_repr(api, caplog) -> None:
    url, state = api
    state.replies.append((401, "invalid x-api-key: {key}"))  # a hostile server echoing the key
    caplog.set_level(logging.DEBUG)
    backend = AnthropicBackend("claude-haiku-4-5", api_key=KEY, base_url=url, max_retries=0)
    with pytest.raises(BackendError) as info:
        backend.generate("hi")
    err = info.value
    assert "AuthenticationError" in str(err) and "[REDACTED]" in str(err)
    assert KEY not in str(err) and KEY not in repr(err)
    assert err.__cause__ is None and err.__context__ is None
    assert KEY not in repr(backend) and KEY not in str(vars(backend).get("name"))
    assert caplog.records, "expected SDK debug logging to be captured"
    assert KEY not in caplog.text


def test_missing_key_is_refused(monkeypatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(ValueError, match="no Anthropic API key"):
        AnthropicBackend()


def test_price_table() -> None:
    assert price_for("claude-sonnet-4-5-20250929").output == 15.0
    assert price_for("claude-haiku-4-5").input == 1.0
    assert price_for("some-future-model") == FALLBACK_PRICE
