"""The pattern model from the vision document: LearnedPattern and its PatternSolution kinds.

A pattern's id is derived from its content (trigger, requirements, solution, domain, language), not
from who published it or when: the same content published twice has the same id, which is what
copy and duplicate detection need. Provenance (creator, created_at) and the mutable quality and
economic signals are outside the hash.
"""

from __future__ import annotations

import hashlib
import json
import re
import string
import unicodedata
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from protocol import limits as L

_NEAR_ACCOUNT_RE = r"^(([a-z\d]+[\-_])*[a-z\d]+\.)*([a-z\d]+[\-_])*[a-z\d]+$"
_IDENTIFIER_RE = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"
# CIDv0 (base58btc sha2-256 multihash) or CIDv1 in base32 lower ("b...") as kubo prints them.
_CID_RE = r"^(Qm[1-9A-HJ-NP-Za-km-z]{44}|b[a-z2-7]{20,98})$"


class _Strict(BaseModel):
    """Base for wire models: unknown fields are refused and values are immutable.

    Immutability keeps a pattern's derived id honest: a changed pattern is a new, validated one
    (see `LearnedPattern.updated`).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)


def _u128_from_wire(value: Any) -> Any:
    """Accept a decimal string (NEAR's U128 JSON convention) or an int; refuse floats."""
    if isinstance(value, (bool, float)):
        raise ValueError("must be an integer amount in yoctoNEAR, not a float or bool")
    if isinstance(value, str):
        if not value.isdigit() or len(value) > 39:
            raise ValueError("must be a decimal string of at most 39 digits")
        return int(value)
    return value


U128 = Annotated[
    int,
    BeforeValidator(_u128_from_wire),
    Field(ge=0, le=L.MAX_U128),
    PlainSerializer(lambda v: str(v), return_type=str, when_used="json"),
    WithJsonSchema(
        {"type": "string", "pattern": r"^[0-9]{1,39}$", "description": "u128 as a decimal string"}
    ),
]
"""A NEAR Balance in yoctoNEAR. On the wire it is a decimal string, as NEAR's U128 is, because
JSON numbers lose precision above 2**53 in most languages."""

PatternId = Annotated[str, StringConstraints(pattern=rf"^[0-9a-f]{{{L.PATTERN_ID_HEX_LEN}}}$")]
NearAccountId = Annotated[
    str,
    StringConstraints(
        min_length=L.MIN_ACCOUNT_ID_LEN, max_length=L.MAX_ACCOUNT_ID_LEN, pattern=_NEAR_ACCOUNT_RE
    ),
]
Label = Annotated[
    str, StringConstraints(min_length=1, max_length=L.MAX_LABEL_LEN, strip_whitespace=True)
]
Identifier = Annotated[str, StringConstraints(pattern=_IDENTIFIER_RE)]
Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Cid = Annotated[str, StringConstraints(max_length=L.MAX_CID_LEN, pattern=_CID_RE)]


def template_placeholders(template: str) -> list[str]:
    """The `{name}` placeholders of a template in order of first appearance.

    Uses `string.Formatter` so `{{` and `}}` escapes behave as in `str.format`. Positional (`{}`),
    indexed, attribute or formatted placeholders are refused: a template must be fillable from a
    plain name -> text mapping.
    """
    names: list[str] = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(f"template is not a valid format string: {exc}") from None
    for _literal, field, spec, conversion in parsed:
        if field is None:
            continue
        if not re.fullmatch(_IDENTIFIER_RE, field):
            raise ValueError(f"placeholder {{{field}}} must be a plain identifier like {{name}}")
        if spec or conversion:
            raise ValueError(f"placeholder {{{field}}} must not carry a format spec or conversion")
        if field not in names:
            names.append(field)
    return names


class PromptTemplate(_Strict):
    """A prompt that worked well, with its blanks named."""

    kind: Literal["prompt_template"] = "prompt_template"
    template: Annotated[str, StringConstraints(min_length=1, max_length=L.MAX_TEMPLATE_LEN)]
    variables: Annotated[list[Identifier], Field(max_length=L.MAX_VARIABLES)]

    @model_validator(mode="after")
    def _variables_match_placeholders(self) -> PromptTemplate:
        placeholders = template_placeholders(self.template)
        if len(set(self.variables)) != len(self.variables):
            raise ValueError("variables must not repeat")
        missing = sorted(set(placeholders) - set(self.variables))
        extra = sorted(set(self.variables) - set(placeholders))
        if missing or extra:
            raise ValueError(
                "variables must be exactly the template's placeholders"
                f" (missing: {missing or 'none'}; not in template: {extra or 'none'})"
            )
        return self

    def fill(self, values: dict[str, str]) -> str:
        """The template with every variable replaced; a missing value is an error naming it."""
        missing = [v for v in self.variables if v not in values]
        if missing:
            raise KeyError(f"no value for template variable(s): {', '.join(missing)}")
        return self.template.format(**{v: values[v] for v in self.variables})


class CodeTemplate(_Strict):
    """Code that solves a class of problems. `entrypoint` names the function to call, if any."""

    kind: Literal["code_template"] = "code_template"
    language: Label
    code: Annotated[str, StringConstraints(min_length=1, max_length=L.MAX_CODE_LEN)]
    dependencies: Annotated[list[Label], Field(max_length=L.MAX_DEPENDENCIES)] = []
    entrypoint: Identifier | None = None


class ModelAdapter(_Strict):
    """A fine-tuned LoRA adapter stored on IPFS, pinned by CID and by the hash of its weights."""

    kind: Literal["model_adapter"] = "model_adapter"
    base_model: Annotated[str, StringConstraints(min_length=1, max_length=L.MAX_MODEL_NAME_LEN)]
    adapter_cid: Cid
    adapter_hash: Sha256Hex


class WorkflowStep(_Strict):
    """One step of a workflow: a prompt, a piece of code, or another pattern by id.

    `output` names the variable the step's result is bound to, so later steps can use it.
    """

    name: Label
    action: Literal["prompt", "code", "pattern"]
    content: Annotated[str, StringConstraints(min_length=1, max_length=L.MAX_TEMPLATE_LEN)]
    output: Identifier


class Workflow(_Strict):
    kind: Literal["workflow"] = "workflow"
    steps: Annotated[list[WorkflowStep], Field(min_length=1, max_length=L.MAX_WORKFLOW_STEPS)]

    @field_validator("steps")
    @classmethod
    def _outputs_unique(cls, steps: list[WorkflowStep]) -> list[WorkflowStep]:
        outputs = [s.output for s in steps]
        if len(set(outputs)) != len(outputs):
            raise ValueError("each workflow step must bind a distinct output name")
        return steps


PatternSolution = Annotated[
    PromptTemplate | CodeTemplate | ModelAdapter | Workflow, Field(discriminator="kind")
]

CONTENT_FIELDS = ("trigger", "context_requirements", "solution", "domain", "language")


def _canonical(value: Any) -> Any:
    """NFC-normalise strings so visually equal text hashes equally on every machine."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    return value


def canonical_content_bytes(content: dict[str, Any]) -> bytes:
    """Canonical JSON of a pattern's content: sorted keys, no spaces, UTF-8, NFC strings."""
    return json.dumps(
        _canonical(content), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


class LearnedPattern(_Strict):
    """A reusable solution learned by one Mycel instance and shared with the collective."""

    # Identity. `id` may be omitted on input; when given it must match the content.
    id: PatternId | None = None
    creator: NearAccountId
    created_at: datetime

    # Content.
    trigger: Annotated[str, StringConstraints(min_length=1, max_length=L.MAX_TRIGGER_LEN)]
    context_requirements: Annotated[
        list[Annotated[str, StringConstraints(min_length=1, max_length=L.MAX_REQUIREMENT_LEN)]],
        Field(max_length=L.MAX_REQUIREMENTS),
    ] = []
    solution: PatternSolution

    # Metadata.
    domain: Label
    language: Label | None = None

    # Quality signals.
    usage_count: Annotated[int, Field(ge=0, le=L.MAX_U64)] = 0
    success_rate: Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)] = 0.0
    avg_rating: Annotated[float, Field(ge=0.0, le=L.MAX_RATING, allow_inf_nan=False)] = 0.0

    # Economics (yoctoNEAR).
    price_per_use: U128 = 0
    total_earned: U128 = 0

    @field_validator("created_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError(
                "created_at must carry a timezone (use UTC, e.g. 2026-01-01T00:00:00Z)"
            )
        return value

    @model_validator(mode="after")
    def _id_matches_content(self) -> LearnedPattern:
        expected = self.content_id()
        if self.id is None:
            # The model is frozen; the derived id is filled in once, during validation.
            object.__setattr__(self, "id", expected)
        elif self.id != expected:
            raise ValueError(f"id does not match the pattern's content (expected {expected})")
        return self

    def updated(self, **changes: Any) -> LearnedPattern:
        """A validated copy with some fields changed; the id follows the content."""
        data = self.model_dump(mode="json")
        data.update(changes)
        data["id"] = None
        return LearnedPattern.model_validate(data)

    def content(self) -> dict[str, Any]:
        """The fields that define what the pattern is, as JSON-ready values."""
        return self.model_dump(mode="json", include=set(CONTENT_FIELDS))

    def content_id(self) -> str:
        return pattern_id(self.content())


def pattern_id(content: dict[str, Any]) -> str:
    """sha256 hex of the canonical serialisation of a pattern's content fields."""
    unknown = set(content) - set(CONTENT_FIELDS)
    if unknown:
        raise ValueError(f"not content fields: {sorted(unknown)}")
    return hashlib.sha256(canonical_content_bytes(content)).hexdigest()
