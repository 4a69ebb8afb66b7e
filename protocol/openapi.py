"""An OpenAPI 3.1 description of a miner's routes, built from the protocol's JSON Schema.

The miner serves no OpenAPI document (its routes read raw bytes, because btauth signs the exact
body), so this is the contract for other-language clients and for fuzzing the routes: one POST
per request type, whose body is a ClaySynapse carrying that route's request, answered with a
ClaySynapseResponse or a one-line refusal.
"""

from __future__ import annotations

import json
from typing import Any

from protocol.schema import build_schema
from protocol.synapse import ROUTES, RequestType
from protocol.version import PROTOCOL_VERSION

_REQUESTS = {
    RequestType.EVALUATE_PATTERN: "EvaluatePatternRequest",
    RequestType.GENERATE_PATTERN: "GeneratePatternRequest",
    RequestType.INFERENCE: "InferenceRequest",
    RequestType.SEARCH_PATTERNS: "SearchPatternsRequest",
    RequestType.FEDERATED_ROUND: "FederatedRoundRequest",
}
# Refusals the miner documents (see mycel_subnet/miner/app.py): never a 5xx.
REFUSALS = {
    "401": "missing, stale, replayed or badly signed btauth headers",
    "403": "caller refused by policy (not registered, no permit, too little stake, denied)",
    "413": "body over the size limit",
    "422": "body is not a valid ClaySynapse for this route",
    "429": "rate limited (Retry-After)",
    "503": "at capacity (Retry-After)",
}
_REFUSAL = {
    "type": "object",
    "required": ["error", "detail"],
    "properties": {"error": {"type": "string"}, "detail": {"type": "string"}},
}


def _components(defs: dict[str, Any]) -> dict[str, Any]:
    text = json.dumps(defs).replace('"#/$defs/', '"#/components/schemas/')
    return json.loads(text)


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def build_openapi() -> dict[str, Any]:
    """The document: components are the JSON Schema's definitions, one path per route."""
    schemas = _components(build_schema()["$defs"])
    schemas["Refusal"] = _REFUSAL
    paths: dict[str, Any] = {}
    for request_type, route in ROUTES.items():
        body_name = f"ClaySynapse_{request_type.value}"
        body = json.loads(json.dumps(schemas["ClaySynapse"]))
        body["properties"]["request"] = _ref(_REQUESTS[request_type])
        body["title"] = body_name
        schemas[body_name] = body
        responses: dict[str, Any] = {
            "200": {
                "description": "an answer, signed for the caller",
                "content": {"application/json": {"schema": _ref("ClaySynapseResponse")}},
            }
        }
        for status, why in REFUSALS.items():
            responses[status] = {
                "description": why,
                "content": {"application/json": {"schema": _ref("Refusal")}},
            }
        paths[route] = {
            "post": {
                "operationId": request_type.value,
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref(body_name)}},
                },
                "responses": responses,
            }
        }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Mycel miner", "version": PROTOCOL_VERSION},
        "paths": paths,
        "components": {"schemas": schemas},
    }
