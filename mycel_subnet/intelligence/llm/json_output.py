"""Structured answers from free text: extract a JSON object, repair it, validate it with pydantic,
and retry with the validation error fed back, a bounded number of times.

Small local models wrap JSON in prose or code fences and make syntax slips (trailing commas,
single quotes, unquoted keys); `json_repair` fixes those before we spend another generation.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import json_repair
from pydantic import BaseModel, ValidationError

from .base import Generation, LLMBackend

T = TypeVar("T", bound=BaseModel)

_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.DOTALL)
_MAX_ERROR_CHARS = 600


@dataclass
class JsonResult(Generic[T]):
    """Outcome of `generate_json`: the validated value, or `ok=False` with `error` saying why."""

    ok: bool
    value: T | None
    attempts: int
    error: str | None = None
    repaired: bool = False
    generations: list[Generation] = field(default_factory=list)

    @property
    def backend(self) -> str | None:
        return self.generations[-1].backend if self.generations else None

    @property
    def raw(self) -> str | None:
        """The last raw model text, for logs and debugging."""
        return self.generations[-1].text if self.generations else None


def _balanced_object(text: str, start: int) -> str:
    """The `{...}` span starting at `start`, honouring strings; to the end if never closed."""
    depth, in_string, escaped, quote = 0, False, False, ""
    for i in range(start, len(text)):
        ch = text[i]
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                in_string = False
        elif ch in "\"'":
            in_string, quote = True, ch
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return text[start : i + 1]
    return text[start:]


def extract_json_text(text: str) -> str | None:
    """The most likely JSON object in a model's answer: a fenced block first, else the first
    balanced `{...}` after any leading prose. None when there is no `{` at all."""
    for block in _FENCE.findall(text):
        if "{" in block:
            return _balanced_object(block, block.index("{")).strip()
    start = text.find("{")
    if start < 0:
        return None
    return _balanced_object(text, start).strip()


def parse_json_object(text: str) -> tuple[dict[str, Any] | None, bool, str | None]:
    """Parse a JSON object out of free text. Returns (object, repaired, error)."""
    candidate = extract_json_text(text)
    if candidate is None:
        return None, False, "no JSON object found in the answer"
    try:
        value = json.loads(candidate)
        repaired = False
    except json.JSONDecodeError as exc:
        first_error = f"invalid JSON ({exc.msg} at char {exc.pos})"
        try:
            value = json_repair.loads(candidate)
        except Exception:  # json_repair is best effort; any failure means "not repairable"
            return None, False, first_error
        repaired = True
        if value in ("", None):
            return None, False, first_error + "; repair found no object"
    if not isinstance(value, dict):
        return None, repaired, f"expected a JSON object, got {type(value).__name__}"
    return value, repaired, None


def _short(error: str) -> str:
    return error if len(error) <= _MAX_ERROR_CHARS else error[:_MAX_ERROR_CHARS] + "..."


def _validation_message(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in err["loc"]) or "(root)"
        parts.append(f"{loc}: {err['msg']}")
    return "schema validation failed: " + "; ".join(parts)


def json_instruction(model_cls: type[BaseModel]) -> str:
    """The instruction appended to prompts: answer with one object matching this schema."""
    schema = json.dumps(model_cls.model_json_schema(), separators=(",", ":"))
    return f"Reply with only one JSON object, no prose, matching this JSON schema: {schema}"


def validate_text(text: str, model_cls: type[T]) -> tuple[T | None, bool, str | None]:
    """Extract, repair and validate one answer. Returns (value, repaired, error)."""
    obj, repaired, error = parse_json_object(text)
    if obj is None:
        return None, repaired, error
    try:
        return model_cls.model_validate(obj), repaired, None
    except ValidationError as exc:
        return None, repaired, _validation_message(exc)


def generate_json(
    backend: LLMBackend,
    prompt: str,
    model_cls: type[T],
    *,
    retries: int = 2,
    system: str | None = None,
    max_new_tokens: int = 256,
    temperature: float = 0.0,
    include_schema: bool = True,
) -> JsonResult[T]:
    """Ask `backend` for a JSON object that validates as `model_cls`.

    Makes at most `1 + retries` generations. After a failed attempt the next prompt carries the
    error, so the model can correct itself. Backend exceptions (unreachable, budget) propagate:
    they are not answer-quality problems and the router handles them.
    """
    if not (isinstance(model_cls, type) and issubclass(model_cls, BaseModel)):
        raise TypeError("model_cls must be a pydantic BaseModel subclass")
    if retries < 0:
        raise ValueError(f"retries must be >= 0, got {retries}")
    base_prompt = f"{prompt}\n\n{json_instruction(model_cls)}" if include_schema else prompt
    result: JsonResult[T] = JsonResult(ok=False, value=None, attempts=0)
    current = base_prompt
    for _ in range(1 + retries):
        gen = backend.generate(
            current, system=system, max_new_tokens=max_new_tokens, temperature=temperature
        )
        result.generations.append(gen)
        result.attempts += 1
        value, repaired, error = validate_text(gen.text, model_cls)
        if value is not None:
            result.ok, result.value, result.repaired, result.error = True, value, repaired, None
            return result
        result.error = _short(error or "unknown error")
        current = (
            f"{base_prompt}\n\nYour previous answer was rejected: {result.error}\n"
            "Answer again with only a corrected JSON object."
        )
    result.error = f"no valid JSON after {result.attempts} attempt(s): {result.error}"
    return result
