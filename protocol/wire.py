"""Strict wire types: what JSON Schema says a value is, and nothing a coercion would turn into one.

Every wire model is pydantic strict: `"5"` is not a number, `true` is not an integer, `0` is not a
timestamp. Where JSON Schema and pydantic's strict mode still differ, the types below follow
JSON Schema (draft 2020-12) so that `clay_protocol.schema.json` describes exactly what a peer
accepts (tests/protocol/test_schema_agreement.py holds the two together):

- `integer` admits a number with a zero fractional part (`3.0`); pydantic strict does not.
- `format: date-time` is RFC 3339 with a required offset; pydantic also takes unix times, dates
  without seconds and `+0100`. `Timestamp` takes RFC 3339 only (see `RFC3339_PATTERN`).
- A tag (`kind`, `request_type`) must be present in JSON even where Python code may omit it.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)

from protocol import limits as L

# RFC 3339 section 5.6 date-time, without leap seconds (Python's datetime has none) and with at
# most microseconds (what a datetime holds exactly). Year 0000 is left out for the same reason.
_YEAR = r"(000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})"
_TIME = r"([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?"
_OFFSET = r"([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])"
RFC3339_PATTERN = rf"^{_YEAR}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt]{_TIME}{_OFFSET}$"
_RFC3339 = re.compile(RFC3339_PATTERN.replace("$", r"\Z"))


class WireModel(BaseModel):
    """Base for wire models: strict types, unknown fields refused, values immutable.

    Immutability keeps a pattern's derived id honest: a changed pattern is a new, validated one.
    A subclass that names `_tag` (its discriminator field) must receive that field in JSON.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
    _tag: ClassVar[str | None] = None

    @model_validator(mode="before")
    @classmethod
    def _tag_required_in_json(cls, data: Any, info: ValidationInfo) -> Any:
        tag = cls._tag
        if tag and info.mode == "json" and isinstance(data, dict) and tag not in data:
            raise ValueError(f"{tag} is required")
        return data

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> dict[str, Any]:
        schema = super().__get_pydantic_json_schema__(core_schema, handler)
        tag = cls._tag
        if tag:
            target = handler.resolve_ref_schema(schema)
            required = target.setdefault("required", [])
            if tag not in required:
                required.insert(0, tag)
        return schema


def _integral(value: Any) -> Any:
    """A JSON number with a zero fractional part is an integer (JSON Schema); bools are not."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def wire_int(ge: int, le: int) -> Any:
    """An integer in [ge, le] as JSON Schema's `integer`: 3 and 3.0, never "3" or true.

    The bounds sit inside the integral conversion so the schema says minimum/maximum.
    """
    return Annotated[int, Field(ge=ge, le=le), BeforeValidator(_integral)]


WireFloat = Annotated[float, Field(allow_inf_nan=False)]
"""A finite JSON number: 1 and 1.5, never "1.5", true, NaN or Infinity."""


def _timestamp(value: Any) -> Any:
    """RFC 3339 text (JSON, or Python) or an aware datetime (Python only)."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _RFC3339.match(value):
        raise ValueError("must be an RFC 3339 date-time with a timezone, e.g. 2026-01-01T00:00:00Z")
    text = f"{value[:10]}T{value[11:]}".upper().replace("Z", "+00:00")
    return datetime.fromisoformat(text)  # a day past the month's end raises ValueError


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("must carry a timezone (use UTC, e.g. 2026-01-01T00:00:00Z)")
    return value


Timestamp = Annotated[
    datetime,
    BeforeValidator(_timestamp),
    AfterValidator(_aware),
    WithJsonSchema({"type": "string", "format": "date-time", "pattern": RFC3339_PATTERN}),
]
"""An aware datetime; on the wire an RFC 3339 date-time with an offset."""


def decimal_at_most(limit: int) -> str:
    """A regex for the canonical decimal spellings (no sign, no leading zero) of 0..limit.

    JSON Schema has no bound for numbers written as strings, so the bound goes into the pattern.
    """
    top = str(limit)
    parts = ["0"]
    if len(top) > 1:
        parts.append(f"[1-9][0-9]{{0,{len(top) - 2}}}")
    for i, digit in enumerate(top):
        low = 1 if i == 0 else 0
        if int(digit) > low:
            rest = len(top) - i - 1
            tail = f"[0-9]{{{rest}}}" if rest else ""
            parts.append(f"{top[:i]}[{low}-{int(digit) - 1}]{tail}")
    parts.append(top)
    return "^(" + "|".join(parts) + ")$"


U128_PATTERN = decimal_at_most(L.MAX_U128)
_U128 = re.compile(U128_PATTERN.replace("$", r"\Z"))


def _u128_from_wire(value: Any, info: ValidationInfo) -> Any:
    """A decimal string (NEAR's U128 JSON convention); Python code may also pass an int."""
    if isinstance(value, str):
        if not _U128.match(value):
            raise ValueError(
                "must be a decimal string without sign or leading zeros, at most 2**128 - 1"
            )
        return int(value)
    if info.mode == "json" or isinstance(value, bool) or not isinstance(value, int):
        raise ValueError('must be a yoctoNEAR amount as a decimal string, e.g. "1000"')
    return value


U128 = Annotated[
    int,
    BeforeValidator(_u128_from_wire),
    Field(ge=0, le=L.MAX_U128),
    PlainSerializer(lambda v: str(v), return_type=str, when_used="json"),
    WithJsonSchema(
        {"type": "string", "pattern": U128_PATTERN, "description": "u128 as a decimal string"}
    ),
]
"""A NEAR Balance in yoctoNEAR. On the wire it is a decimal string, as NEAR's U128 is, because
JSON numbers lose precision above 2**53 in most languages; the pattern bounds it by 2**128 - 1."""
