"""ClaySynapse envelopes: round trips, routes, versions, and the import-cost promise."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from protocol import (
    ROUTES,
    ClaySynapse,
    ClaySynapseResponse,
    EvaluatePatternResult,
    EvaluationResult,
    GeneratePatternResult,
    InferenceRequest,
    InferenceResult,
    RequestType,
    is_compatible,
    schema,
)
from tests.protocol.test_bounds import EVALUATE, GENERATE, INFER

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("base", [EVALUATE, GENERATE, INFER], ids=["evaluate", "generate", "infer"])
def test_requests_round_trip_and_know_their_route(base) -> None:
    synapse = ClaySynapse.model_validate(base)
    back = ClaySynapse.model_validate_json(synapse.model_dump_json())
    assert back == synapse
    assert synapse.route == ROUTES[synapse.request_type]
    assert synapse.route.endswith(synapse.request_type.value)
    assert len(synapse.request_id) == 32


def test_each_request_gets_a_fresh_id() -> None:
    ids = {ClaySynapse(request=InferenceRequest(query="q")).request_id for _ in range(50)}
    assert len(ids) == 50


def test_routes_are_versioned_and_distinct() -> None:
    assert len(set(ROUTES.values())) == len(RequestType)
    assert all(route.startswith("/v1/clay/") for route in ROUTES.values())


def test_responses_round_trip_for_each_result_type() -> None:
    results = [
        EvaluatePatternResult(
            evaluation_result=EvaluationResult(relevance=80, quality=70, safety=100, rationale="ok")
        ),
        GeneratePatternResult(generated_pattern=None, refusal_reason="nothing shareable"),
        InferenceResult(response="42", patterns_used=["ab" * 32]),
    ]
    for result in results:
        response = ClaySynapseResponse(request_id="f" * 32, result=result, process_time_s=0.5)
        assert ClaySynapseResponse.model_validate_json(response.model_dump_json()) == response


def test_ok_response_needs_a_result_and_refusal_needs_a_reason() -> None:
    with pytest.raises(ValidationError, match="needs a result"):
        ClaySynapseResponse(request_id="f" * 32)
    assert ClaySynapseResponse(request_id="f" * 32, status="error", detail="busy").result is None
    with pytest.raises(ValidationError, match="refusal_reason"):
        GeneratePatternResult(generated_pattern=None)


@pytest.mark.parametrize("score", [-1, 101])
def test_scores_are_bounded(score: int) -> None:
    with pytest.raises(ValidationError, match="relevance"):
        EvaluationResult(relevance=score, quality=0, safety=0)


def test_version_compatibility_is_by_major() -> None:
    assert is_compatible("1.9.3")
    assert is_compatible("1.1.0")
    assert not is_compatible("1.0.9")
    assert not is_compatible("2.0.0")
    assert not is_compatible("garbage")


def test_schema_file_matches_the_models() -> None:
    assert schema.SCHEMA_PATH.read_text() == schema.render_schema(), (
        "protocol/clay_protocol.schema.json is stale: run `mycel schema`"
    )
    parsed = json.loads(schema.SCHEMA_PATH.read_text())
    assert {"ClaySynapse", "ClaySynapseResponse", "LearnedPattern"} <= set(parsed["$defs"])


def test_schema_check_detects_drift(tmp_path, monkeypatch) -> None:
    stale = tmp_path / "schema.json"
    stale.write_text("{}")
    monkeypatch.setattr(schema, "SCHEMA_PATH", stale)
    assert schema.main(["--check"]) == 1
    assert schema.main([]) == 0
    assert schema.main(["--check"]) == 0


def test_importing_protocol_pulls_in_neither_torch_nor_bittensor() -> None:
    code = (
        "import sys, protocol; "
        "heavy = [m for m in ('torch', 'bittensor', 'transformers', 'numpy') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == ""


def test_an_older_peer_is_refused_in_one_line_naming_both_versions() -> None:
    from protocol import PROTOCOL_VERSION, incompatibility

    why = incompatibility("1.0.0")
    assert why is not None and "\n" not in why
    assert "'1.0.0'" in why and PROTOCOL_VERSION in why and "upgrade" in why
    assert incompatibility(PROTOCOL_VERSION) is None
