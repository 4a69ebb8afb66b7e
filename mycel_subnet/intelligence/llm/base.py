"""The one small interface every text-generation backend implements, and its errors.

Callers depend on `LLMBackend` only, so Ollama, transformers, Anthropic and test doubles are
interchangeable and the router can try them in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class Generation:
    """One completed answer: the text, how many tokens it took, wall time and who produced it."""

    text: str
    tokens_out: int
    seconds: float
    backend: str


@runtime_checkable
class LLMBackend(Protocol):
    """A text generator. `available()` must be cheap: the router calls it before each request."""

    name: str

    def generate(
        self,
        prompt: str,
        *,
        system: str | None = None,
        max_new_tokens: int = 256,
        temperature: float = 0.0,
    ) -> Generation: ...

    def available(self) -> bool: ...


class LLMError(RuntimeError):
    """Base class for every model-layer failure; messages never contain secrets."""


class NoModelAvailable(LLMError):
    """No backend is configured or reachable; callers fall back to deterministic logic."""


class BackendError(LLMError):
    """A backend was reachable but the call failed (server error, load failure, bad reply)."""


class BudgetExceeded(LLMError):
    """The cloud spending cap is reached; no further paid calls are made."""


def check_generation_args(prompt: str, max_new_tokens: int, temperature: float) -> None:
    """Reject bad arguments with a message naming the argument, before any model work."""
    if not isinstance(prompt, str):
        raise TypeError(f"prompt must be a str, got {type(prompt).__name__}")
    if not isinstance(max_new_tokens, int) or isinstance(max_new_tokens, bool):
        raise TypeError(f"max_new_tokens must be an int, got {type(max_new_tokens).__name__}")
    if max_new_tokens < 1:
        raise ValueError(f"max_new_tokens must be >= 1, got {max_new_tokens}")
    if not 0.0 <= float(temperature) <= 2.0:
        raise ValueError(f"temperature must be in [0, 2], got {temperature}")
