"""Generation through a running Ollama server (the operator's preferred local runtime).

`available()` asks the server for its model list with a short timeout: a node without Ollama
answers False at once (the client raises ConnectionError), so the router moves on.
"""

from __future__ import annotations

import os
import threading
import time

import httpx
import ollama

from .base import BackendError, Generation, check_generation_args

DEFAULT_HOST = "http://127.0.0.1:11434"


def _same_model(wanted: str, listed: str | None) -> bool:
    if not listed:
        return False
    if ":" not in wanted:
        return listed == wanted or listed == f"{wanted}:latest"
    return listed == wanted


class OllamaBackend:
    """Chat completions from an Ollama server via the official `ollama` client."""

    def __init__(
        self,
        model: str = "llama3.2",
        *,
        host: str | None = None,
        timeout_s: float = 120.0,
        probe_timeout_s: float = 2.0,
        availability_ttl_s: float = 10.0,
    ) -> None:
        if not model:
            raise ValueError("ollama model name must not be empty")
        self.model = model
        self.host = host or os.environ.get("OLLAMA_HOST") or DEFAULT_HOST
        self.name = f"ollama:{model}"
        self._client = ollama.Client(host=self.host, timeout=timeout_s)
        self._probe = ollama.Client(host=self.host, timeout=probe_timeout_s)
        self._ttl = availability_ttl_s
        self._cached: tuple[float, bool] | None = None
        self._lock = threading.Lock()
        self.last_probe_error: str | None = None

    def available(self) -> bool:
        """True when the server answers and has the model pulled; cached for a few seconds."""
        now = time.monotonic()
        with self._lock:
            if self._cached and now - self._cached[0] < self._ttl:
                return self._cached[1]
        try:
            listed = self._probe.list()
            ok = any(_same_model(self.model, m.model) for m in listed.models)
            self.last_probe_error = None if ok else f"model {self.model!r} not pulled on server"
        except (ConnectionError, httpx.HTTPError, ollama.ResponseError) as exc:
            ok, self.last_probe_error = False, f"{type(exc).__name__}: {exc}"
        with self._lock:
            self._cached = (now, ok)
        return ok

    def generate(
        self,
        prompt: str,
        *,
        system: str | None = None,
        max_new_tokens: int = 256,
        temperature: float = 0.0,
    ) -> Generation:
        check_generation_args(prompt, max_new_tokens, temperature)
        messages = [{"role": "system", "content": system}] if system else []
        messages.append({"role": "user", "content": prompt})
        started = time.perf_counter()
        try:
            reply = self._client.chat(
                model=self.model,
                messages=messages,
                options={"temperature": float(temperature), "num_predict": max_new_tokens},
            )
        except (ConnectionError, httpx.HTTPError, ollama.ResponseError) as exc:
            with self._lock:
                self._cached = None  # re-probe next time
            raise BackendError(f"{self.name} at {self.host}: {type(exc).__name__}: {exc}") from exc
        text = (reply.message.content or "").strip()
        return Generation(
            text=text,
            tokens_out=int(reply.eval_count or 0),
            seconds=time.perf_counter() - started,
            backend=self.name,
        )
