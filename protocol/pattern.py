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
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from protocol import limits as L
from protocol.wire import U128, Timestamp, WireFloat, WireModel, wire_int

_NEAR_ACCOUNT_RE = r"^(([a-z0-9]+[\-_])*[a-z0-9]+\.)*([a-z0-9]+[\-_])*[a-z0-9]+$"
_IDENTIFIER_RE = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"
# CIDv0 (base58btc sha2-256 multihash) or CIDv1 in base32 lower ("b...") as kubo prints them.
_CID_RE = r"^(Qm[1-9A-HJ-NP-Za-km-z]{44}|b[a-z2-7]{20,98})$"


Count = wire_int(0, L.MAX_U64)
PatternId = Annotated[str, StringConstraints(pattern=rf"^[0-9a-f]{{{L.PATTERN_ID_HEX_LEN}}}$")]
NearAccountId = Annotated[
    str,
    StringConstraints(
        min_length=L.MIN_ACCOUNT_ID_LEN, max_length=L.MAX_ACCOUNT_ID_LEN, pattern=_NEAR_ACCOUNT_RE
    ),
]
# A short name: no control characters and no space at either end (refused, not stripped, so the
# schema's pattern and the model agree on every input).
LABEL_PATTERN = r"^[^\x00-\x20\x7f]([^\x00-\x1f\x7f]*[^\x00-\x20\x7f])?$"
Label = Annotated[
    str, StringConstraints(min_length=1, max_length=L.MAX_LABEL_LEN, pattern=LABEL_PATTERN)
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


class PromptTemplate(WireModel):
    """A prompt that worked well, with its blanks named.

    Beyond the schema: `variables` are exactly the template's `{name}` placeholders, once each.
    """

    kind: Literal["prompt_template"] = "prompt_template"
    _tag: ClassVar[str] = "kind"
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


class CodeTemplate(WireModel):
    """Code that solves a class of problems. `entrypoint` names the function to call, if any."""

    kind: Literal["code_template"] = "code_template"
    _tag: ClassVar[str] = "kind"
    language: Label
    code: Annotated[str, StringConstraints(min_length=1, max_length=L.MAX_CODE_LEN)]
    dependencies: Annotated[list[Label], Field(max_length=L.MAX_DEPENDENCIES)] = []  # noqa: RUF012
    entrypoint: Identifier | None = None


class ModelAdapter(WireModel):
    """A fine-tuned LoRA adapter stored on IPFS, pinned by CID and by the hash of its weights."""

    kind: Literal["model_adapter"] = "model_adapter"
    _tag: ClassVar[str] = "kind"
    base_model: Annotated[str, StringConstraints(min_length=1, max_length=L.MAX_MODEL_NAME_LEN)]
    adapter_cid: Cid
    adapter_hash: Sha256Hex


class WorkflowStep(WireModel):
    """One step of a workflow: a prompt, a piece of code, or another pattern by id.

    `output` names the variable the step's result is bound to, so later steps can use it.
    """

    name: Label
    action: Literal["prompt", "code", "pattern"]
    content: Annotated[str, StringConstraints(min_length=1, max_length=L.MAX_TEMPLATE_LEN)]
    output: Identifier


class Workflow(WireModel):
    """Steps run in order. Beyond the schema: each step binds a distinct `output`."""

    kind: Literal["workflow"] = "workflow"
    _tag: ClassVar[str] = "kind"
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


class LearnedPattern(WireModel):
    """A reusable solution learned by one Mycel instance and shared with the collective.

    Beyond the schema: a given `id` must equal `pattern_id` of the content fields.
    """

    # Identity. `id` may be omitted on input; when given it must match the content.
    id: PatternId | None = None
    creator: NearAccountId
    created_at: Timestamp

    # Content.
    trigger: Annotated[str, StringConstraints(min_length=1, max_length=L.MAX_TRIGGER_LEN)]
    context_requirements: Annotated[
        list[Annotated[str, StringConstraints(min_length=1, max_length=L.MAX_REQUIREMENT_LEN)]],
        Field(max_length=L.MAX_REQUIREMENTS),
    ] = []  # noqa: RUF012
    solution: PatternSolution

    # Metadata.
    domain: Label
    language: Label | None = None

    # Quality signals.
    usage_count: Count = 0
    success_rate: Annotated[WireFloat, Field(ge=0.0, le=1.0)] = 0.0
    avg_rating: Annotated[WireFloat, Field(ge=0.0, le=L.MAX_RATING)] = 0.0

    # Economics (yoctoNEAR).
    price_per_use: Annotated[U128, Field(json_schema_extra={"default": "0"})] = 0
    total_earned: Annotated[U128, Field(json_schema_extra={"default": "0"})] = 0

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
