"""Local first, cloud when it matters: pick the first available local backend, and escalate to
the cloud backend when the local answer fails validation, is not confident enough, or the task
is high-stakes. Every answer records which layer produced it and why it escalated.

With no backend at all (backend "none", or nothing reachable) calls raise `NoModelAvailable`,
so callers fall back to deterministic logic instead of guessing.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel

from .base import Generation, LLMBackend, LLMError, NoModelAvailable
from .json_output import JsonResult, generate_json

log = logging.getLogger(__name__)

T = TypeVar("T", bound=BaseModel)
Layer = Literal["local", "cloud"]
BackendChoice = Literal["auto", "ollama", "transformers", "none"]


@dataclass(frozen=True)
class RouterPolicy:
    """When to escalate. `min_confidence` applies only when the caller supplies a confidence."""

    min_confidence: float = 0.5
    escalate_on_invalid: bool = True
    escalate_on_local_error: bool = True
    json_retries: int = 2


@dataclass
class RoutedJson(Generic[T]):
    """A JSON answer and where it came from. `local` keeps the local attempt when escalated."""

    result: JsonResult[T]
    layer: Layer
    backend: str
    escalated: bool = False
    reason: str | None = None
    local: JsonResult[T] | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.result.ok

    @property
    def value(self) -> T | None:
        return self.result.value


@dataclass
class RoutedText:
    """A free-text answer and where it came from."""

    generation: Generation
    layer: Layer
    escalated: bool = False
    reason: str | None = None
    local: Generation | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.generation.text


Confidence = Callable[[Any], float] | str | None


def _confidence_of(value: Any, confidence: Confidence) -> float | None:
    """The caller's confidence for an answer: a field name on the value, or a function of it."""
    if confidence is None:
        return None
    raw = getattr(value, confidence, None) if isinstance(confidence, str) else confidence(value)
    try:
        return float(raw) if raw is not None else None
    except (TypeError, ValueError):
        return None


class Router:
    """Routes requests across local backends (in order) and an optional cloud backend."""

    def __init__(
        self,
        local: Sequence[LLMBackend] = (),
        cloud: LLMBackend | None = None,
        policy: RouterPolicy | None = None,
    ) -> None:
        self.local = list(local)
        self.cloud = cloud
        self.policy = policy or RouterPolicy()

    def __repr__(self) -> str:
        names = [b.name for b in self.local]
        return f"Router(local={names}, cloud={self.cloud.name if self.cloud else None})"

    def available(self) -> bool:
        return any(b.available() for b in self.local) or bool(self.cloud and self.cloud.available())

    def _cloud_ready(self) -> bool:
        return self.cloud is not None and self.cloud.available()

    def _no_model(self, errors: list[str]) -> NoModelAvailable:
        if not self.local and self.cloud is None:
            return NoModelAvailable("no model backend configured (backend=none)")
        detail = "; ".join(errors) if errors else "no backend reported itself available"
        return NoModelAvailable(f"no model backend could answer: {detail}")

    def _escalation_reason(
        self, value: Any, ok: bool, error: str | None, conf: Confidence
    ) -> str | None:
        if not ok:
            return (
                f"local answer failed validation: {error}"
                if self.policy.escalate_on_invalid
                else None
            )
        score = _confidence_of(value, conf)
        if score is not None and score < self.policy.min_confidence:
            return f"local confidence {score:.2f} below {self.policy.min_confidence:.2f}"
        return None

    def _run_local(self, call: Callable[[LLMBackend], Any], errors: list[str]) -> Any | None:
        for backend in self.local:
            if not backend.available():
                errors.append(f"{backend.name}: not available")
                continue
            try:
                return call(backend)
            except LLMError as exc:
                errors.append(f"{backend.name}: {exc}")
                log.warning("local backend %s failed: %s", backend.name, exc)
        return None

    def generate_json(
        self,
        prompt: str,
        model_cls: type[T],
        *,
        system: str | None = None,
        max_new_tokens: int = 256,
        temperature: float = 0.0,
        high_stakes: bool = False,
        confidence: Confidence = None,
        retries: int | None = None,
    ) -> RoutedJson[T]:
        """A validated `model_cls` answer, escalating to the cloud per the policy."""
        retries = self.policy.json_retries if retries is None else retries

        def ask(backend: LLMBackend) -> JsonResult[T]:
            return generate_json(
                backend,
                prompt,
                model_cls,
                retries=retries,
                system=system,
                max_new_tokens=max_new_tokens,
                temperature=temperature,
            )

        errors: list[str] = []
        local: JsonResult[T] | None = None
        if high_stakes and self._cloud_ready():
            reason: str | None = "high-stakes task"
        else:
            local = self._run_local(ask, errors)
            if local is None:
                reason = "no local backend answered"
                if errors and not self.policy.escalate_on_local_error:
                    raise self._no_model(errors)
            else:
                reason = self._escalation_reason(local.value, local.ok, local.error, confidence)
                if high_stakes:
                    reason = reason or "high-stakes task"
            if local is not None and (reason is None or not self._cloud_ready()):
                if reason:
                    errors.append(f"wanted escalation ({reason}) but no cloud backend is ready")
                return self._answer(RoutedJson(local, "local", local.backend or "?", errors=errors))
        if not self._cloud_ready():
            raise self._no_model(errors)
        assert self.cloud is not None
        try:
            cloud = ask(self.cloud)
        except LLMError as exc:
            errors.append(f"{self.cloud.name}: {exc}")
            if local is None:
                raise self._no_model(errors) from None
            return self._answer(RoutedJson(local, "local", local.backend or "?", errors=errors))
        return self._answer(
            RoutedJson(cloud, "cloud", self.cloud.name, True, reason, local, errors)
        )

    def generate(
        self,
        prompt: str,
        *,
        system: str | None = None,
        max_new_tokens: int = 256,
        temperature: float = 0.0,
        high_stakes: bool = False,
        confidence: Callable[[str], float] | None = None,
    ) -> RoutedText:
        """Free text, local first; escalates when high-stakes or below the confidence bar."""

        def ask(backend: LLMBackend) -> Generation:
            return backend.generate(
                prompt, system=system, max_new_tokens=max_new_tokens, temperature=temperature
            )

        errors: list[str] = []
        local: Generation | None = None
        if high_stakes and self._cloud_ready():
            reason: str | None = "high-stakes task"
        else:
            local = self._run_local(ask, errors)
            if local is None:
                reason = "no local backend answered"
                if errors and not self.policy.escalate_on_local_error:
                    raise self._no_model(errors)
            else:
                reason = self._escalation_reason(local.text, True, None, confidence)
                reason = reason or ("high-stakes task" if high_stakes else None)
            if local is not None and (reason is None or not self._cloud_ready()):
                if reason:
                    errors.append(f"wanted escalation ({reason}) but no cloud backend is ready")
                return self._answer(RoutedText(local, "local", errors=errors))
        if not self._cloud_ready():
            raise self._no_model(errors)
        assert self.cloud is not None
        try:
            cloud = ask(self.cloud)
        except LLMError as exc:
            errors.append(f"{self.cloud.name}: {exc}")
            if local is None:
                raise self._no_model(errors) from None
            return self._answer(RoutedText(local, "local", errors=errors))
        return self._answer(RoutedText(cloud, "cloud", True, reason, local, errors))

    @staticmethod
    def _answer(routed: Any) -> Any:
        log.info(
            "answered by %s layer%s",
            routed.layer,
            f" (escalated: {routed.reason})" if routed.escalated else "",
        )
        return routed


def build_router(
    *,
    backend: BackendChoice = "auto",
    model: str = "",
    device: str = "auto",
    threads: int = 1,
    ollama_host: str | None = None,
    ollama_model: str = "llama3.2",
    anthropic_api_key: Any = None,
    anthropic_model: str = "claude-sonnet-4-6",
    cloud_spend_cap_usd: float = 1.0,
    policy: RouterPolicy | None = None,
) -> Router:
    """Build a router from settings-like flags (the names of `ModelSettings`' fields, so
    `build_router(**settings.model.model_dump())` works).

    backend: "auto" (Ollama if a server answers, else transformers), "ollama", "transformers"
    or "none" (no model: calls raise NoModelAvailable). The cloud layer is added only when an
    Anthropic key is given or ANTHROPIC_API_KEY is set, and never with backend "none".
    Nothing is loaded or contacted here.
    """
    if backend not in ("auto", "ollama", "transformers", "none"):
        raise ValueError(f"backend must be auto, ollama, transformers or none, got {backend!r}")
    if backend == "none":
        return Router([], None, policy)
    from .ollama_backend import OllamaBackend
    from .transformers_backend import TransformersBackend

    local: list[LLMBackend] = []
    if backend in ("auto", "ollama"):
        local.append(OllamaBackend(ollama_model, host=ollama_host))
    if backend in ("auto", "transformers"):
        local.append(TransformersBackend(model or None, device=device, torch_threads=threads))
    key = anthropic_api_key
    if key is not None and hasattr(key, "get_secret_value"):
        key = key.get_secret_value()
    key = key or os.environ.get("ANTHROPIC_API_KEY")
    cloud = None
    if key:
        from .anthropic_backend import AnthropicBackend

        cloud = AnthropicBackend(anthropic_model, api_key=key, spend_cap_usd=cloud_spend_cap_usd)
    return Router(local, cloud, policy)
