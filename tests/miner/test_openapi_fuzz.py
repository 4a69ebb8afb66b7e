"""Fuzz the miner's routes with validly signed bodies: no body, however wrong, gets a 5xx.

The real miner app on a real uvicorn server, a real engine (the shipped `random` engine) and a
real validator hotkey that signs every body (btauth/1). Bodies come from the OpenAPI document of
the routes (protocol/openapi.py) through schemathesis: schema-valid ones (200, or 422 where a rule
the schema cannot state is broken) and schema-invalid ones (always 422). A hand table adds the
coercions strict types exist to refuse. Bounded to well under a minute on a 2-core machine.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings

from mycel_subnet.engines.demo import RandomEngine
from mycel_subnet.miner.limits import ServiceLimits
from protocol import ClaySynapse, ClaySynapseResponse, InferenceRequest, parse_model
from protocol.openapi import build_openapi
from protocol.synapse import ROUTES, RequestType
from tests.miner.harness import running_miner, signed
from tests.protocol.test_bounds import EVALUATE, FL, GENERATE, INFER, SEARCH, _set

SCHEMA = schemathesis.openapi.from_dict(build_openapi())
POSITIVE, NEGATIVE = schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE
# Examples per route and mode: evaluate bodies carry a whole pattern and are slower to draw.
EXAMPLES = {
    RequestType.EVALUATE_PATTERN: 40,
    RequestType.GENERATE_PATTERN: 80,
    RequestType.INFERENCE: 60,
    RequestType.SEARCH_PATTERNS: 60,
    RequestType.FEDERATED_ROUND: 40,
}
BASES = {
    RequestType.EVALUATE_PATTERN: EVALUATE,
    RequestType.GENERATE_PATTERN: GENERATE,
    RequestType.INFERENCE: INFER,
    RequestType.SEARCH_PATTERNS: SEARCH,
    RequestType.FEDERATED_ROUND: FL,
}


class RandomEngineForHarness(RandomEngine):
    """The shipped `random` engine, with the `release` event the harness sets on teardown."""

    def __init__(self, seed: int) -> None:
        super().__init__(seed)
        self.release = threading.Event()


@pytest.fixture(scope="module")
def miner(keys) -> Any:
    snapshot = keys.snapshot()
    from mycel_subnet.miner.metagraph_cache import MetagraphCache

    cache = MetagraphCache(lambda: snapshot, refresh_s=3600, initial=snapshot)
    limits = ServiceLimits(rate_limit_per_ip=1e6, rate_limit_per_hotkey=1e6)
    with running_miner(
        keys.miner, cache=cache, limits=limits, engine=RandomEngineForHarness(7)
    ) as m:
        yield m


@pytest.fixture(scope="module")
def client() -> Any:
    # A fresh connection per request: no per-connection byte budget is reached by the fuzz.
    with httpx.Client(timeout=30, limits=httpx.Limits(max_keepalive_connections=0)) as c:
        yield c


def post_signed(miner: Any, client: httpx.Client, caller: Any, route: str, body: bytes) -> Any:
    headers = signed(caller, miner.hotkey, body, route)
    return client.post(miner.url + route, content=body, headers=headers)


def _explain(resp: httpx.Response, body: bytes) -> str:
    return f"{resp.status_code} {resp.text[:300]} for body {body[:300]!r}"


def _fuzz(miner: Any, client: httpx.Client, caller: Any, rt: RequestType, mode: Any) -> dict:
    route = ROUTES[rt]
    seen: dict[int, int] = {}

    @settings(
        max_examples=EXAMPLES[rt],
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(SCHEMA[route]["POST"].as_strategy(generation_mode=mode))
    def check(case: Any) -> None:
        body = case.body if isinstance(case.body, bytes) else json.dumps(case.body).encode()
        resp = post_signed(miner, client, caller, route, body)
        seen[resp.status_code] = seen.get(resp.status_code, 0) + 1
        assert resp.status_code < 500, _explain(resp, body)
        if mode is NEGATIVE:
            assert resp.status_code == 422, _explain(resp, body)
            return
        assert resp.status_code in (200, 422), _explain(resp, body)
        if resp.status_code == 200:
            answer = parse_model(ClaySynapseResponse, resp.content)
            assert answer.request_id == case.body.get("request_id", answer.request_id)
        else:
            # a rule the schema cannot state, or another major protocol version
            refusal = resp.json()["error"]
            assert refusal in ("malformed_request", "unsupported_protocol"), _explain(resp, body)

    check()
    return seen


@pytest.mark.parametrize("mode", [POSITIVE, NEGATIVE], ids=["valid", "invalid"])
@pytest.mark.parametrize("rt", list(RequestType), ids=[rt.value for rt in RequestType])
def test_signed_fuzzed_bodies_never_get_a_5xx(miner, client, keys, rt, mode) -> None:
    seen = _fuzz(miner, client, keys.validator, rt, mode)
    print(f"{rt.value} {mode.value}: status counts {dict(sorted(seen.items()))}")  # with -s
    assert sum(seen.values()) >= EXAMPLES[rt] // 2, seen
    if mode is POSITIVE:
        assert seen.get(200, 0) > 0, f"no schema-valid body was answered: {seen}"


P = "request.pattern."
COERCED = [
    (RequestType.INFERENCE, "deadline_s", "5"),
    (RequestType.INFERENCE, "deadline_s", True),
    (RequestType.INFERENCE, "request.query", 5),
    (RequestType.INFERENCE, "request.context", None),
    (RequestType.INFERENCE, "request.available_patterns", {}),
    (RequestType.INFERENCE, "protocol_version", 1),
    (RequestType.EVALUATE_PATTERN, P + "usage_count", "5"),
    (RequestType.EVALUATE_PATTERN, P + "usage_count", True),
    (RequestType.EVALUATE_PATTERN, P + "usage_count", 1.5),
    (RequestType.EVALUATE_PATTERN, P + "success_rate", "0.5"),
    (RequestType.EVALUATE_PATTERN, P + "avg_rating", False),
    (RequestType.EVALUATE_PATTERN, P + "created_at", 0),
    (RequestType.EVALUATE_PATTERN, P + "created_at", "2026-01-01"),
    (RequestType.EVALUATE_PATTERN, P + "created_at", "1700000000"),
    (RequestType.EVALUATE_PATTERN, P + "created_at", "2026-01-01T00:00:00"),
    (RequestType.EVALUATE_PATTERN, P + "price_per_use", 5),
    (RequestType.EVALUATE_PATTERN, P + "price_per_use", "05"),
    (RequestType.EVALUATE_PATTERN, P + "domain", " legal"),
    (RequestType.EVALUATE_PATTERN, "request.test_context.query", True),
    (RequestType.GENERATE_PATTERN, "request.interaction_log.turns", [{"role": "user"}]),
    (RequestType.GENERATE_PATTERN, "request.interaction_log.turns.0.content", 5),
    (RequestType.GENERATE_PATTERN, "request.domain", 7),
    (RequestType.GENERATE_PATTERN, "request.request_type", "inference"),
]


@pytest.mark.parametrize(
    ("rt", "path", "value"), COERCED, ids=[f"{p}={v!r}" for _, p, v in COERCED]
)
def test_coerced_and_mistyped_fields_get_a_422_naming_the_field(
    miner, client, keys, rt, path, value
) -> None:
    good = json.dumps(BASES[rt]).encode()
    assert post_signed(miner, client, keys.validator, ROUTES[rt], good).status_code == 200
    body = json.dumps(_set(BASES[rt], path, value)).encode()
    resp = post_signed(miner, client, keys.validator, ROUTES[rt], body)
    assert resp.status_code == 422, _explain(resp, body)
    refusal = resp.json()
    assert refusal["error"] == "malformed_request"
    leaf = path.split(".")[-1]
    if leaf != "request_type":  # another request type is refused for the fields it lacks
        assert leaf in refusal["detail"], refusal
    assert "\n" not in refusal["detail"]


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        b"null",
        b'{"request": {"request_type": "inference", "query": "q"}, "deadline_s": NaN}',
        b'{"request": {"request_type": "inference", "query": "q"}, "deadline_s": 1e999}',
        b'{"request": {"request_type": "inference", "query": "q"}, "deadline_s": 5, "x": 1}',
        b'{"request": {"query": "q"}}',
        b'{"request": {"request_type": "inference", "query": "\\ud800"}}',
        b'{"request": {"request_type": "inference", "query": "q"}} trailing',
        b'{"request": {"request_type": "inference", "query": "q", "query": 5}}',
        b"\xff\xfe{}",
    ],
    ids=range(12),
)
def test_malformed_json_signed_validly_gets_a_4xx_not_a_5xx(miner, client, keys, body) -> None:
    resp = post_signed(miner, client, keys.validator, ROUTES[RequestType.INFERENCE], body)
    assert 400 <= resp.status_code < 500, _explain(resp, body)


def test_a_strict_body_built_by_the_models_is_answered(miner, client, keys) -> None:
    synapse = ClaySynapse(deadline_s=5, request=InferenceRequest(query="hello"))
    body = synapse.model_dump_json().encode()
    resp = post_signed(miner, client, keys.validator, synapse.route, body)
    assert resp.status_code == 200, _explain(resp, body)
    assert parse_model(ClaySynapseResponse, resp.content).request_id == synapse.request_id
