"""The protocol's JSON Schema, generated from the models, for implementations in other languages.

`python -m protocol.schema` rewrites `protocol/clay_protocol.schema.json`; a test fails when the
file and the models drift apart.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pydantic.json_schema import models_json_schema

from protocol.pattern import LearnedPattern
from protocol.synapse import ClaySynapse, ClaySynapseResponse
from protocol.version import PROTOCOL_VERSION

SCHEMA_PATH = Path(__file__).with_name("clay_protocol.schema.json")


def build_schema() -> dict:
    _, schema = models_json_schema(
        [
            (ClaySynapse, "validation"),
            (ClaySynapseResponse, "validation"),
            (LearnedPattern, "validation"),
        ],
        title=f"Mycel Clay protocol {PROTOCOL_VERSION}",
    )
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["x-protocol-version"] = PROTOCOL_VERSION
    return schema


def render_schema() -> str:
    return json.dumps(build_schema(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    text = render_schema()
    if args == ["--check"]:
        if not SCHEMA_PATH.exists() or SCHEMA_PATH.read_text() != text:
            print(f"{SCHEMA_PATH} is out of date: run python -m protocol.schema", file=sys.stderr)
            return 1
        return 0
    SCHEMA_PATH.write_text(text)
    print(f"wrote {SCHEMA_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
