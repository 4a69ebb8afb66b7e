"""The published JSON Schema and the pydantic models accept exactly the same JSON.

Instances are drawn from the schema itself (schemathesis's JSON Schema strategies) and judged by
an independent validator (jsonschema_rs, draft 2020-12, formats asserted). Both directions hold
for every model in the schema:

- schema -> model: every schema-valid instance parses, once the few rules JSON Schema cannot
  state are met (`REPAIRS`: a prompt's variables are its placeholders, workflow outputs are
  distinct, a given pattern id matches the content, an example's JSON stays small);
- model -> schema: an instance mutated at one place (wrong types, numeric strings, bools, nulls,
  missing or unknown keys) parses only if the schema accepts it, and what a model serialises is
  schema-valid.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import jsonschema_rs
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError
from schemathesis.generation.jsonschema.builder import build
from schemathesis.specs.openapi.formats import rfc3339_values

import protocol.pattern
import protocol.synapse
from protocol import limits as L
from protocol import schema

SCHEMA = schema.build_schema()
DEFS: dict[str, Any] = SCHEMA["$defs"]
MODELS: dict[str, type[BaseModel]] = {
    name: getattr(protocol.synapse, name, None) or getattr(protocol.pattern, name) for name in DEFS
}
# No shrinking: an example holds dozens of checks and its assertion message already names the
# offending instance, so shrinking would only add minutes to a failing CI run.
FAST = settings(
    max_examples=30,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _rooted(sub: dict[str, Any]) -> dict[str, Any]:
    return {"$schema": SCHEMA["$schema"], **sub, "$defs": DEFS}


@functools.cache
def _validator(key: str) -> Any:
    return jsonschema_rs.Draft202012Validator(_rooted(json.loads(key)), validate_formats=True)


def schema_accepts(sub: dict[str, Any], value: Any) -> bool:
    return _validator(json.dumps(sub, sort_keys=True)).is_valid(value)


def model_accepts(model: type[BaseModel], value: Any) -> bool:
    try:
        model.model_validate_json(json.dumps(value))
    except ValidationError:
        return False
    return True


def ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/$defs/{name}"}


@functools.cache
def instances(name: str) -> st.SearchStrategy[Any]:
    return build(
        _rooted(ref(name)),
        draft=jsonschema_rs.Draft202012,
        formats={"date-time": rfc3339_values("date-time")},
    )


# --- the rules JSON Schema cannot state, met by editing a drawn instance -----------------------


def _prompt_template(value: dict[str, Any]) -> dict[str, Any]:
    names = list(dict.fromkeys(value.get("variables", [])))
    blanks = "".join(f"{{{n}}}" for n in names)
    text = value.get("template", "").replace("{", "{{").replace("}", "}}") + blanks
    if len(text) > L.MAX_TEMPLATE_LEN:
        text = blanks
    return {**value, "variables": names, "template": text or "x"}


def _workflow(value: dict[str, Any]) -> dict[str, Any]:
    steps = value.get("steps")
    if not isinstance(steps, list):
        return value
    seen: set[Any] = set()
    fixed = []
    for i, step in enumerate(steps):
        if isinstance(step, dict) and step.get("output") in seen:
            step = {**step, "output": f"out_{i}"}
        seen.add(step.get("output") if isinstance(step, dict) else None)
        fixed.append(step)
    return {**value, "steps": fixed}


def _pattern(value: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in value.items() if k != "id"}  # the id is derived from the content


def _example(value: dict[str, Any]) -> dict[str, Any]:
    small = len(json.dumps(value, ensure_ascii=False)) < L.MAX_EXAMPLE_JSON_LEN - 500
    return value if small else {"args": []}


REPAIRS = {
    "PromptTemplate": _prompt_template,
    "Workflow": _workflow,
    "LearnedPattern": _pattern,
    "CodeExample": _example,
}


def repair(value: Any, sub: dict[str, Any]) -> Any:
    """`value` with every nested instance of a `REPAIRS` model edited to meet its rule."""
    if "$ref" in sub:
        name = sub["$ref"].rsplit("/", 1)[-1]
        value = repair(value, DEFS[name])
        fix = REPAIRS.get(name)
        return fix(value) if fix and isinstance(value, dict) else value
    for key in ("anyOf", "oneOf"):
        for branch in sub.get(key, []):
            if schema_accepts(branch, value):
                return repair(value, branch)
    if isinstance(value, dict):
        props = sub.get("properties", {})
        extra = sub.get("additionalProperties")
        return {
            k: repair(v, props[k] if k in props else extra if isinstance(extra, dict) else {})
            for k, v in value.items()
        }
    if isinstance(value, list) and isinstance(sub.get("items"), dict):
        return [repair(v, sub["items"]) for v in value]
    return value


# --- mutations -----------------------------------------------------------------------------------

CONFUSIONS = st.one_of(
    st.booleans(),
    st.none(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(min_value=-5, max_value=10**6).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(str),
    st.sampled_from(
        [
            "",
            " ",
            "legal ",
            "0.5",
            "true",
            "1e3",
            "0x10",
            "05",
            "2026-01-01",
            "2026-01-01T00:00:00",
            "2026-01-01 00:00:00Z",
            "2026-01-01T00:00Z",
            "2026-01-01T00:00:00+0100",
            "2026-01-01T23:59:60Z",
            "1700000000",
            "ok",
            "error",
            "inference",
            "prompt_template",
            "a" * 32,
            "ab" * 32,
        ]
    ),
    st.text(max_size=8),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
DELETE = object()


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every location inside a JSON value, the root included."""
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += paths(v, (*prefix, i))
    return out


def mutated(value: Any, path: tuple, new: Any) -> Any:
    """`value` with the location at `path` replaced by `new` (or deleted), copying only the path."""
    if not path:
        return {} if new is DELETE else new
    head, rest = path[0], path[1:]
    out = dict(value) if isinstance(value, dict) else list(value)
    if rest:
        out[head] = mutated(value[head], rest, new)
    elif new is DELETE:
        del out[head]
    else:
        out[head] = new
    return out


# Wrong-type values tried at every location of a drawn instance: the coercions strict mode exists
# to refuse, and the JSON Schema spellings it must still take (5 for a number, 5.0 for an integer).
TABLE = [
    True,
    False,
    None,
    0,
    5,
    5.0,
    0.5,
    -1,
    "5",
    "0.5",
    "true",
    "",
    " x",
    "2026-01-01",
    "2026-01-01T00:00:00",
    "2026-01-01T00:00:00.5z",
    "1700000000",
    [],
    {},
    DELETE,
]


def agrees(name: str, candidate: Any) -> None:
    """The model accepts `candidate` exactly when the schema does (after repairs)."""
    if schema_accepts(ref(name), candidate):
        fixed = repair(candidate, ref(name))
        assert model_accepts(MODELS[name], fixed), f"schema yes, model no: {fixed!r}"[:2000]
    else:
        assert not model_accepts(MODELS[name], candidate), f"schema no, model yes: {candidate!r}"


# --- the tests -----------------------------------------------------------------------------------


def test_every_schema_definition_is_a_model_and_every_model_is_published() -> None:
    assert all(isinstance(m, type) and issubclass(m, BaseModel) for m in MODELS.values())
    for name, model in MODELS.items():
        assert model.__name__ == name
    assert {"ClaySynapse", "ClaySynapseResponse", "LearnedPattern"} <= set(DEFS)


def test_published_file_is_the_schema_these_tests_check() -> None:
    assert json.loads(schema.SCHEMA_PATH.read_text()) == SCHEMA


@pytest.mark.parametrize("name", sorted(DEFS))
def test_schema_valid_instances_parse_and_one_mutation_agrees(name: str) -> None:
    model = MODELS[name]

    @FAST
    @given(instances(name), st.data())
    def check(drawn: Any, data: st.DataObject) -> None:
        assert schema_accepts(ref(name), drawn), "the strategy drew outside the schema"
        base = repair(drawn, ref(name))
        assert schema_accepts(ref(name), base), "a repair left the schema"
        parsed = model.model_validate_json(json.dumps(base))
        assert schema_accepts(ref(name), json.loads(parsed.model_dump_json()))

        path = data.draw(st.sampled_from(paths(base)), label="path")
        new = data.draw(CONFUSIONS | st.just(DELETE) if path else CONFUSIONS, label="new value")
        candidate = mutated(base, path, new)
        if isinstance(candidate, dict) and data.draw(st.booleans(), label="add unknown key"):
            candidate = {**candidate, "surprise": 1}
        agrees(name, candidate)

    check()


@pytest.mark.parametrize("name", sorted(DEFS))
def test_every_location_agrees_on_every_wrong_type(name: str) -> None:
    @settings(FAST, max_examples=6)
    @given(instances(name))
    def check(drawn: Any) -> None:
        base = repair(drawn, ref(name))
        for path in paths(base):
            for new in TABLE:
                if path or new is not DELETE:
                    agrees(name, mutated(base, path, new))

    check()


def test_every_published_default_is_valid_for_its_field() -> None:
    checked = 0
    for name, definition in DEFS.items():
        for field, sub in definition.get("properties", {}).items():
            if "default" in sub:
                checked += 1
                assert schema_accepts(sub, sub["default"]), f"{name}.{field} default"
    assert checked >= 20
