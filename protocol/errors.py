"""Turn validation failures into short messages that name the offending field."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ValidationError

from protocol import limits as L

M = TypeVar("M", bound=BaseModel)


class ProtocolError(ValueError):
    """A message that does not follow the protocol. `str()` is safe to return to the sender."""


def describe_validation_error(exc: ValidationError, max_errors: int = 3) -> str:
    """`field.path: reason` for the first few errors, on one line."""
    parts = []
    for err in exc.errors()[:max_errors]:
        loc = ".".join(str(p) for p in err["loc"]) or "body"
        parts.append(f"{loc}: {err['msg']}")
    more = len(exc.errors()) - max_errors
    if more > 0:
        parts.append(f"(+{more} more)")
    return "; ".join(parts)


def parse_model(model: type[M], body: bytes | str) -> M:
    """Parse JSON into `model`, refusing oversized or malformed input with a ProtocolError."""
    size = len(body.encode() if isinstance(body, str) else body)
    if size > L.MAX_BODY_BYTES:
        raise ProtocolError(f"body is {size} bytes; at most {L.MAX_BODY_BYTES}")
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        raise ProtocolError(describe_validation_error(exc)) from None
