"""Cloud escalation through Anthropic's Messages API (the vision's Layer 2), with a hard
spending cap.

Only built when an API key is configured. Each reply's token usage is priced from a small table
and added to a running total; once a call could take the total past the cap, the backend refuses
with `BudgetExceeded` instead of spending. The key lives only inside the SDK client: it is never
in this object's repr, in log lines or in error messages (errors are scrubbed of it).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass

import anthropic

from .base import BackendError, BudgetExceeded, Generation, check_generation_args

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Price:
    """US dollars per million tokens."""

    input: float
    output: float


# Public list prices (USD per million tokens). Matched by longest prefix of the model name;
# a model not listed is priced at the most expensive row, so the cap errs on the safe side.
PRICES: dict[str, Price] = {
    "claude-opus-4-0": Price(15.0, 75.0),
    "claude-opus-4-1": Price(15.0, 75.0),
    "claude-opus-4-5": Price(5.0, 25.0),
    "claude-opus-4-6": Price(5.0, 25.0),
    "claude-sonnet-4": Price(3.0, 15.0),
    "claude-3-7-sonnet": Price(3.0, 15.0),
    "claude-haiku-4-5": Price(1.0, 5.0),
    "claude-3-5-haiku": Price(0.8, 4.0),
    "claude-3-haiku": Price(0.25, 1.25),
}
FALLBACK_PRICE = Price(15.0, 75.0)
_CHARS_PER_TOKEN = 3  # pessimistic estimate for the pre-call worst case


def price_for(model: str, prices: dict[str, Price] | None = None) -> Price:
    table = prices if prices is not None else PRICES
    matches = [key for key in table if model.startswith(key)]
    return table[max(matches, key=len)] if matches else FALLBACK_PRICE


def _scrub(text: str, secret: str) -> str:
    return text.replace(secret, "[REDACTED]") if secret else text


class AnthropicBackend:
    """Claude through the official `anthropic` SDK, capped at `spend_cap_usd` per process."""

    def __init__(
        self,
        model: str = "claude-sonnet-4-6",
        *,
        api_key: str | None = None,
        spend_cap_usd: float = 1.0,
        base_url: str | None = None,
        timeout_s: float = 60.0,
        max_retries: int = 2,
        prices: dict[str, Price] | None = None,
    ) -> None:
        key = api_key or os.environ.get("ANTHROPIC_API_KEY") or ""
        if not key:
            raise ValueError("no Anthropic API key configured (set ANTHROPIC_API_KEY)")
        if spend_cap_usd < 0:
            raise ValueError(f"spend_cap_usd must be >= 0, got {spend_cap_usd}")
        self.model = model
        self.name = f"anthropic:{model}"
        self.spend_cap_usd = float(spend_cap_usd)
        self.spent_usd = 0.0
        self.calls = 0
        self._price = price_for(model, prices)
        self._key = key
        self._lock = threading.Lock()
        self._client = anthropic.Anthropic(
            api_key=key, base_url=base_url, timeout=timeout_s, max_retries=max_retries
        )

    def __repr__(self) -> str:
        return (
            f"AnthropicBackend(model={self.model!r}, spent_usd={self.spent_usd:.4f}, "
            f"spend_cap_usd={self.spend_cap_usd})"
        )

    def available(self) -> bool:
        """Configured and under the cap. No network probe: every probe would cost money/time."""
        return self.spent_usd < self.spend_cap_usd

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return (input_tokens * self._price.input + output_tokens * self._price.output) / 1e6

    def _reserve(self, prompt: str, system: str | None, max_new_tokens: int) -> None:
        chars = len(prompt) + len(system or "")
        worst = self.cost(chars // _CHARS_PER_TOKEN + 16, max_new_tokens)
        if self.spent_usd + worst > self.spend_cap_usd:
            raise BudgetExceeded(
                f"{self.name}: spending cap reached (spent ${self.spent_usd:.4f} of "
                f"${self.spend_cap_usd:.4f}; this call could cost up to ${worst:.4f})"
            )

    def generate(
        self,
        prompt: str,
        *,
        system: str | None = None,
        max_new_tokens: int = 256,
        temperature: float = 0.0,
    ) -> Generation:
        check_generation_args(prompt, max_new_tokens, temperature)
        with self._lock:  # serialise so the cap check and the spend update cannot interleave
            self._reserve(prompt, system, max_new_tokens)
            started = time.perf_counter()
            kwargs: dict = {
                "model": self.model,
                "max_tokens": max_new_tokens,
                "messages": [{"role": "user", "content": prompt}],
            }
            # `temperature` is not sent: anthropic SDK 2.x no longer accepts it on
            # messages.create, so the cloud layer samples with the model's default.
            if system:
                kwargs["system"] = system
            failure: str | None = None
            try:
                reply = self._client.messages.create(**kwargs)
            except anthropic.AnthropicError as exc:
                failure = _scrub(f"{type(exc).__name__}: {exc}", self._key)
            if failure is not None:  # raised outside `except` so no SDK exception is chained
                raise BackendError(f"{self.name}: {failure}")
            usage = reply.usage
            spent = self.cost(usage.input_tokens or 0, usage.output_tokens or 0)
            self.spent_usd += spent
            self.calls += 1
            log.info(
                "cloud call %s: %d in / %d out tokens, $%.5f (total $%.4f of $%.2f)",
                self.model,
                usage.input_tokens,
                usage.output_tokens,
                spent,
                self.spent_usd,
                self.spend_cap_usd,
            )
            text = "".join(b.text for b in reply.content if getattr(b, "type", "") == "text")
            return Generation(
                text=text.strip(),
                tokens_out=int(usage.output_tokens or 0),
                seconds=time.perf_counter() - started,
                backend=self.name,
            )
