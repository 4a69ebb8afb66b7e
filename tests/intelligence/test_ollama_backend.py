"""OllamaBackend through the real `ollama` client against a fake Ollama server on loopback.

The server is faked because no Ollama server can be installed on this machine; the fake
implements /api/tags and /api/chat with the real API's JSON shapes."""

from __future__ import annotations

import socket

import pytest

from mycel_subnet.intelligence.llm import BackendError
from mycel_subnet.intelligence.llm.ollama_backend import OllamaBackend

from .fake_servers import FakeState, fake_ollama, serve


@pytest.fixture
def ollama_server():
    state = FakeState(models=["smollm2:135m", "llama3.2:latest"])
    with serve(fake_ollama(state)) as url:
        yield url, state


def _dead_url() -> str:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def test_generate_sends_chat_and_reads_reply(ollama_server) -> None:
    url, state = ollama_server
    state.replies.append("Paris is the capital.")
    backend = OllamaBackend("smollm2:135m", host=url)
    assert backend.available()
    gen = backend.generate(
        "Capital of France?", system="Be brief.", max_new_tokens=32, temperature=0.2
    )
    assert gen.text == "Paris is the capital."
    assert gen.backend == "ollama:smollm2:135m" and gen.tokens_out == 4
    sent = state.requests[-1]
    assert sent["model"] == "smollm2:135m" and sent["stream"] is False
    assert sent["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Capital of France?"},
    ]
    assert sent["options"] == {"temperature": 0.2, "num_predict": 32}


def test_latest_tag_matches_bare_name(ollama_server) -> None:
    url, _ = ollama_server
    assert OllamaBackend("llama3.2", host=url).available()


def test_unpulled_model_is_unavailable(ollama_server) -> None:
    url, _ = ollama_server
    backend = OllamaBackend("mistral", host=url)
    assert not backend.available()
    assert "not pulled" in backend.last_probe_error


def test_no_server_means_unavailable_and_clear_error() -> None:
    backend = OllamaBackend("smollm2:135m", host=_dead_url())
    assert not backend.available()
    assert "ConnectionError" in backend.last_probe_error
    with pytest.raises(BackendError, match="Failed to connect to Ollama"):
        backend.generate("hi")


def test_host_from_environment(monkeypatch, ollama_server) -> None:
    url, _ = ollama_server
    monkeypatch.setenv("OLLAMA_HOST", url)
    backend = OllamaBackend("smollm2:135m")
    assert backend.host == url and backend.available()


def test_server_error_becomes_backend_error(ollama_server) -> None:
    url, state = ollama_server
    state.models.append("ghost")  # listed but the chat endpoint rejects it
    backend = OllamaBackend("ghost", host=url)
    state.models.remove("ghost")
    with pytest.raises(BackendError, match="not found"):
        backend.generate("hi")
