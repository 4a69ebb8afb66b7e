"""The miner's HTTP service over real uvicorn on loopback, with real hotkeys and btauth/1.

Each test sends real signed requests and checks status, the short JSON reason, and for served
requests the miner's response signature.
"""

from __future__ import annotations

import json
import time

import httpx
import pytest
from bittensor import http_auth

from mycel_subnet.transport.response_signing import ResponseSignatureError, verify_response
from protocol import (
    ClaySynapse,
    ClaySynapseResponse,
    EvaluatePatternRequest,
    GeneratePatternRequest,
    InteractionLog,
    LearnedPattern,
    TestContext,
    Turn,
)
from protocol.synapse import ROUTES, RequestType
from tests.miner.harness import inference, running_miner, signed


@pytest.fixture
def miner(keys, cache):
    with running_miner(keys.miner, cache=cache) as m:
        yield m


@pytest.fixture
def client():
    with httpx.Client(timeout=10) as c:
        yield c


def _pattern() -> LearnedPattern:
    return LearnedPattern.model_validate(
        {
            "creator": "alice.clay.near",
            "created_at": "2026-01-02T03:04:05Z",
            "trigger": "Find documents matching {criteria}",
            "solution": {"kind": "prompt_template", "template": "Find {x}", "variables": ["x"]},
            "domain": "document_search",
        }
    )


def test_inference_is_served_and_the_answer_is_signed_for_this_request(keys, miner, client):
    synapse = inference("hello miner")
    body = synapse.model_dump_json().encode()
    headers = signed(keys.validator, miner.hotkey, body, synapse.route)
    resp = client.post(miner.url + synapse.route, content=body, headers=headers)
    assert resp.status_code == 200, resp.text
    answer = ClaySynapseResponse.model_validate_json(resp.content)
    assert answer.request_id == synapse.request_id and answer.status == "ok"
    assert answer.result.response == "echo: hello miner"
    nonce = int(headers[http_auth.HEADER_NONCE])
    signer = verify_response(
        resp.headers,
        resp.content,
        path=synapse.route,
        request_nonce_ns=nonce,
        miner_ss58=miner.hotkey,
        validator_ss58=keys.validator.hotkey.ss58_address,
    )
    assert signer.hotkey_ss58 == miner.hotkey
    tampered = resp.content.replace(b"hello miner", b"hello minor")
    with pytest.raises(ResponseSignatureError):
        verify_response(
            resp.headers,
            tampered,
            path=synapse.route,
            request_nonce_ns=nonce,
            miner_ss58=miner.hotkey,
            validator_ss58=keys.validator.hotkey.ss58_address,
        )
    with pytest.raises(ResponseSignatureError):  # moved onto another request
        verify_response(
            resp.headers,
            resp.content,
            path=synapse.route,
            request_nonce_ns=nonce + 1,
            miner_ss58=miner.hotkey,
            validator_ss58=keys.validator.hotkey.ss58_address,
        )


def test_every_request_type_has_its_route(keys, miner, client):
    evaluate = ClaySynapse(
        request=EvaluatePatternRequest(
            pattern=_pattern(), test_context=TestContext(query="find invoices")
        )
    )
    generate = ClaySynapse(
        request=GeneratePatternRequest(
            interaction_log=InteractionLog(turns=[Turn(role="user", content="hi")]),
            domain="chat",
        )
    )
    for synapse in (evaluate, generate, inference()):
        resp = miner.post(client, keys.validator, synapse)
        assert resp.status_code == 200, resp.text
        answer = ClaySynapseResponse.model_validate_json(resp.content)
        assert answer.result.request_type == synapse.request_type.value
    assert set(ROUTES) == set(RequestType)


def _auth_case(name, keys, miner):
    """(headers, body, path) for one kind of authentication failure."""
    synapse = inference()
    body = synapse.model_dump_json().encode()
    route = synapse.route
    me = miner.hotkey
    if name == "bad_signature":
        headers = signed(keys.validator, me, body, route)
        forged = signed(keys.stranger, me, body, route)
        headers[http_auth.HEADER_SIGNATURE] = forged[http_auth.HEADER_SIGNATURE]
        return headers, body, route
    if name == "stale_request":
        old = time.time_ns() - 60 * 10**9
        return signed(keys.validator, me, body, route, nonce_ns=old), body, route
    if name == "future_nonce":
        ahead = time.time_ns() + 60 * 10**9
        return signed(keys.validator, me, body, route, nonce_ns=ahead), body, route
    if name == "wrong_receiver":
        return signed(keys.validator, keys.whale.hotkey.ss58_address, body, route), body, route
    if name == "tampered_body":
        headers = signed(keys.validator, me, body, route)
        return headers, body.replace(b"hello", b"HELLO"), route
    if name == "tampered_path":
        headers = signed(keys.validator, me, body, route)
        return headers, body, route + "?x=1"
    if name == "missing_headers":
        return {"Content-Type": "application/json"}, body, route
    if name == "malformed_nonce":
        headers = signed(keys.validator, me, body, route)
        headers[http_auth.HEADER_NONCE] = "soon"
        return headers, body, route
    if name == "malformed_signature":
        headers = signed(keys.validator, me, body, route)
        headers[http_auth.HEADER_SIGNATURE] = "0xnothex"
        return headers, body, route
    if name == "missing_receiver":
        headers = signed(keys.validator, me, body, route)
        del headers[http_auth.HEADER_RECEIVER]
        return headers, body, route
    raise AssertionError(name)


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("bad_signature", "bad_signature"),
        ("stale_request", "stale_request"),
        ("future_nonce", "stale_request"),
        ("wrong_receiver", "wrong_receiver"),
        ("tampered_body", "bad_signature"),
        ("tampered_path", "bad_signature"),
        ("missing_headers", "malformed_auth"),
        ("malformed_nonce", "malformed_auth"),
        ("malformed_signature", "malformed_auth"),
        ("missing_receiver", "wrong_receiver"),
    ],
)
def test_authentication_failures_are_401_with_a_short_reason(keys, miner, client, case, code):
    headers, body, path = _auth_case(case, keys, miner)
    resp = client.post(miner.url + path, content=body, headers=headers)
    assert resp.status_code == 401, resp.text
    data = resp.json()
    assert set(data) == {"error", "detail"} and data["error"] == code
    assert "Traceback" not in resp.text and len(resp.text) < 400
    assert miner.engine.calls == 0


def test_replayed_request_is_refused(keys, miner, client):
    synapse = inference()
    body = synapse.model_dump_json().encode()
    headers = signed(keys.validator, miner.hotkey, body, synapse.route)
    first = client.post(miner.url + synapse.route, content=body, headers=headers)
    again = client.post(miner.url + synapse.route, content=body, headers=headers)
    assert first.status_code == 200
    assert again.status_code == 401 and again.json()["error"] == "replayed_request"
    assert miner.engine.calls == 1


def test_signed_query_string_is_part_of_the_target(keys, miner, client):
    synapse = inference()
    body = synapse.model_dump_json().encode()
    path = synapse.route + "?trace=1"
    resp = client.post(
        miner.url + path, content=body, headers=signed(keys.validator, miner.hotkey, body, path)
    )
    assert resp.status_code == 200, resp.text
    nonce = int(resp.request.headers[http_auth.HEADER_NONCE])
    verify_response(  # the answer is bound to the full target, query included
        resp.headers,
        resp.content,
        path=path,
        request_nonce_ns=nonce,
        miner_ss58=miner.hotkey,
        validator_ss58=keys.validator.hotkey.ss58_address,
    )


@pytest.mark.parametrize(
    ("who", "code"),
    [
        ("stranger", "not_registered"),
        ("no_permit", "no_validator_permit"),
        ("poor", "insufficient_stake"),
        ("whale", "denied"),
    ],
)
def test_policy_refusals_are_403_in_order(keys, cache, client, who, code):
    from mycel_subnet.transport.policy import CallerPolicy

    policy = CallerPolicy(deny=[keys.whale.hotkey.ss58_address], min_stake=1.0)
    with running_miner(keys.miner, cache=cache, policy=policy) as miner:
        resp = miner.post(client, getattr(keys, who), inference())
        assert resp.status_code == 403, resp.text
        assert resp.json()["error"] == code
        assert miner.post(client, keys.validator, inference()).status_code == 200
        assert miner.engine.calls == 1


def test_allow_list_admits_an_unregistered_hotkey_but_deny_wins(keys, cache, client):
    from mycel_subnet.transport.policy import CallerPolicy

    stranger = keys.stranger.hotkey.ss58_address
    policy = CallerPolicy(allow=[stranger], min_stake=10.0)
    with running_miner(keys.miner, cache=cache, policy=policy) as miner:
        assert miner.post(client, keys.stranger, inference()).status_code == 200
    both = CallerPolicy(allow=[stranger], deny=[stranger])
    with running_miner(keys.miner, cache=cache, policy=both) as miner:
        assert miner.post(client, keys.stranger, inference()).json()["error"] == "denied"


def test_chain_dependent_refusal_asks_for_a_rate_limited_refresh(keys, client):
    from mycel_subnet.miner.metagraph_cache import MetagraphCache

    fetches = []
    snap = keys.snapshot()

    def fetch():
        fetches.append(time.monotonic())
        return snap

    cache = MetagraphCache(fetch, refresh_s=3600, miss_refresh_min_s=60, initial=snap)
    cache.start()
    try:
        with running_miner(keys.miner, cache=cache) as miner:
            for _ in range(3):
                assert miner.post(client, keys.stranger, inference()).status_code == 403
            time.sleep(0.3)
    finally:
        cache.stop()
    assert len(fetches) == 1  # one early refresh for three misses


def test_body_over_the_limit_is_413_before_it_is_read(keys, cache, client):
    from mycel_subnet.miner.limits import ServiceLimits

    limits = ServiceLimits(max_body_bytes=2048, rate_limit_per_ip=1000, rate_limit_per_hotkey=1000)
    with running_miner(keys.miner, cache=cache, limits=limits) as miner:
        synapse = inference("x" * 4000)
        resp = miner.post(client, keys.validator, synapse)
        assert resp.status_code == 413 and resp.json()["error"] == "body_too_large"

        def chunks():  # no Content-Length: the cap applies while streaming
            for _ in range(10):
                yield b"x" * 1024

        streamed = client.post(miner.url + synapse.route, content=chunks())
        assert streamed.status_code == 413
        assert miner.post(client, keys.validator, inference("small")).status_code == 200


def test_per_ip_rate_limit_applies_before_authentication(keys, cache, client):
    from mycel_subnet.miner.limits import ServiceLimits

    limits = ServiceLimits(rate_limit_per_ip=2, rate_limit_per_hotkey=1000)
    with running_miner(keys.miner, cache=cache, limits=limits) as miner:
        route = inference().route
        codes = [client.post(miner.url + route, content=b"{}").status_code for _ in range(2)]
        assert codes == [401, 401]
        resp = miner.post(client, keys.validator, inference())
        assert resp.status_code == 429 and resp.json()["error"] == "rate_limited"
        assert int(resp.headers["Retry-After"]) >= 1
        time.sleep(0.6)  # 2 tokens/s: one is back
        assert miner.post(client, keys.validator, inference()).status_code == 200


def test_per_hotkey_rate_limit_spares_other_validators(keys, cache, client):
    from mycel_subnet.miner.limits import ServiceLimits

    limits = ServiceLimits(rate_limit_per_ip=1000, rate_limit_per_hotkey=2)
    with running_miner(keys.miner, cache=cache, limits=limits) as miner:
        codes = [miner.post(client, keys.validator, inference()).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        resp = miner.post(client, keys.validator, inference())
        assert resp.status_code == 429 and int(resp.headers["Retry-After"]) >= 1
        assert miner.post(client, keys.whale, inference()).status_code == 200


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"not json", "malformed_request"),
        (b'{"request": {"request_type": "inference"}}', "request.inference.query"),
        (b'{"deadline_s": 999, "request": {"query": "q"}}', "deadline_s"),
    ],
)
def test_malformed_bodies_are_422_naming_the_field(keys, miner, client, body, needle):
    route = ROUTES[RequestType.INFERENCE]
    resp = client.post(
        miner.url + route, content=body, headers=signed(keys.validator, miner.hotkey, body, route)
    )
    assert resp.status_code == 422
    assert needle in resp.text and "Traceback" not in resp.text


def test_route_and_body_type_must_agree_and_major_version_must_match(keys, miner, client):
    synapse = inference()
    body = synapse.model_dump_json().encode()
    route = ROUTES[RequestType.EVALUATE_PATTERN]
    resp = client.post(
        miner.url + route, content=body, headers=signed(keys.validator, miner.hotkey, body, route)
    )
    assert resp.status_code == 422 and "route" in resp.json()["detail"]
    data = json.loads(body)
    data["protocol_version"] = "2.0.0"
    body = json.dumps(data).encode()
    resp = client.post(
        miner.url + synapse.route,
        content=body,
        headers=signed(keys.validator, miner.hotkey, body, synapse.route),
    )
    assert resp.status_code == 422 and resp.json()["error"] == "unsupported_protocol"


def test_deadline_gives_a_signed_error_answer_in_time(keys, miner, client):
    start = time.monotonic()
    resp = miner.post(client, keys.validator, inference("sleep:3", deadline_s=0.5))
    elapsed = time.monotonic() - start
    assert resp.status_code == 200
    answer = ClaySynapseResponse.model_validate_json(resp.content)
    assert answer.status == "error" and "deadline" in answer.detail
    assert elapsed < 1.5


def test_engine_errors_become_error_answers_without_internals(keys, miner, client):
    failed = ClaySynapseResponse.model_validate_json(
        miner.post(client, keys.validator, inference("fail")).content
    )
    assert failed.status == "error" and "no model for this query" in failed.detail
    crashed = miner.post(client, keys.validator, inference("crash"))
    answer = ClaySynapseResponse.model_validate_json(crashed.content)
    assert answer.status == "error" and answer.detail == "internal engine error"
    assert "deadbeef" not in crashed.text


def test_health_leaks_only_status_and_protocol_version(keys, miner, client):
    resp = client.get(miner.url + "/health")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ok", "protocol_version": "1.1.0"}
    assert miner.hotkey not in resp.text + str(resp.headers)
    assert client.get(miner.url + "/docs").status_code == 404
    assert client.get(miner.url + "/openapi.json").status_code == 404


def test_metrics_are_served_to_loopback_only(keys, miner, client):
    import asyncio

    miner.post(client, keys.validator, inference())
    resp = client.get(miner.url + "/metrics")
    assert resp.status_code == 200
    assert 'mycel_miner_requests_total{outcome="ok",route="inference"} 1.0' in resp.text

    async def from_outside():
        transport = httpx.ASGITransport(app=miner.app, client=("203.0.113.9", 4000))
        async with httpx.AsyncClient(transport=transport, base_url="http://m") as c:
            return await c.get("/metrics")

    assert asyncio.run(from_outside()).status_code == 404
