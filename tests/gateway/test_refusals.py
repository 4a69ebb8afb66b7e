"""Every caller the gateway must refuse, against a real gateway server on loopback in front of
real miners: one-line JSON errors with the right status, naming what is missing or wrong, and
never a traceback. Credentials are real (issued keys in SQLite, sr25519-signed requests), and
revocation goes through the `mycel gateway` command while the gateway runs."""

from __future__ import annotations

import json

import httpx
import pytest
from bittensor import http_auth

from mycel_subnet.cli.main import main
from mycel_subnet.gateway.models import INFERENCE_ROUTE, SEARCH_ROUTE
from tests.gateway.harness import gateway_running

QUERY = {"query": "split a bill between friends"}


def _body(data: dict) -> bytes:
    return json.dumps(data).encode()


def _signed(wallet, receiver: str, body: bytes, path: str = INFERENCE_ROUTE) -> dict[str, str]:
    headers = http_auth.sign(
        wallet.hotkey, method="POST", path=path, body=body, receiver_ss58=receiver
    )
    return {**headers, "Content-Type": "application/json"}


def _refused(resp: httpx.Response, status: int, code: str) -> str:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"error", "detail"} and body["error"] == code, body
    assert "\n" not in body["detail"] and "Traceback" not in resp.text
    return body["detail"]


def _cli(*argv: str) -> int:
    return main(list(argv))


def test_unauthenticated_bad_and_revoked_keys_get_401(subnet, capsys):
    gateway = subnet.build()
    key = gateway.keys.issue("instance").key
    keys_file = str(gateway.keys.path)
    with gateway_running(gateway) as url, httpx.Client(base_url=url, timeout=30) as http:
        detail = _refused(http.post(INFERENCE_ROUTE, json=QUERY), 401, "missing_credentials")
        assert "Authorization: Bearer" in detail and subnet.validator.hotkey.ss58_address in detail
        bad = http.post(INFERENCE_ROUTE, json=QUERY, headers={"Authorization": "Basic abc"})
        assert "Bearer" in _refused(bad, 401, "malformed_authorization")
        guess = key[:-5] + "AAAAA"
        _refused(
            http.post(INFERENCE_ROUTE, json=QUERY, headers={"Authorization": f"Bearer {guess}"}),
            401,
            "invalid_api_key",
        )
        _refused(
            http.post(INFERENCE_ROUTE, json=QUERY, headers={"Authorization": "Bearer x"}),
            401,
            "malformed_api_key",
        )
        auth = {"Authorization": f"Bearer {key}"}
        assert http.post(INFERENCE_ROUTE, json=QUERY, headers=auth).status_code == 200
        assert _cli("gateway", "revoke", key.split("_")[1], "--gateway.keys_file", keys_file) == 0
        assert "revoked api_key" in capsys.readouterr().out
        detail = _refused(
            http.post(INFERENCE_ROUTE, json=QUERY, headers=auth), 401, "revoked_api_key"
        )
        assert "revoked on" in detail


def test_signed_requests_registered_allowed_and_refused(subnet, capsys):
    gateway = subnet.build()
    me = subnet.validator.hotkey.ss58_address
    keys_file = str(gateway.keys.path)
    body = _body(QUERY)
    with gateway_running(gateway) as url, httpx.Client(base_url=url, timeout=30) as http:
        ok = http.post(INFERENCE_ROUTE, content=body, headers=_signed(subnet.caller, me, body))
        assert ok.status_code == 200, ok.text  # registered on the subnet: enough
        replay = _signed(subnet.caller, me, body)
        assert http.post(INFERENCE_ROUTE, content=body, headers=replay).status_code == 200
        _refused(http.post(INFERENCE_ROUTE, content=body, headers=replay), 401, "replayed_request")
        elsewhere = _signed(subnet.caller, subnet.hotkey("h1"), body)  # signed for a miner
        _refused(http.post(INFERENCE_ROUTE, content=body, headers=elsewhere), 401, "wrong_receiver")
        other = _signed(subnet.caller, me, _body({"query": "something else"}))
        _refused(http.post(INFERENCE_ROUTE, content=body, headers=other), 401, "bad_signature")
        wrong_path = _signed(subnet.caller, me, body, path=SEARCH_ROUTE)
        _refused(http.post(INFERENCE_ROUTE, content=body, headers=wrong_path), 401, "bad_signature")

        stranger = subnet.stranger.hotkey.ss58_address
        detail = _refused(
            http.post(INFERENCE_ROUTE, content=body, headers=_signed(subnet.stranger, me, body)),
            403,
            "not_allowed",
        )
        assert "not registered on subnet 7" in detail
        assert (
            _cli(
                "gateway", "allow", stranger, "--name", "partner", "--gateway.keys_file", keys_file
            )
            == 0
        )
        allowed = http.post(
            INFERENCE_ROUTE, content=body, headers=_signed(subnet.stranger, me, body)
        )
        assert allowed.status_code == 200, allowed.text
        assert _cli("gateway", "revoke", stranger, "--gateway.keys_file", keys_file) == 0
        _refused(
            http.post(INFERENCE_ROUTE, content=body, headers=_signed(subnet.stranger, me, body)),
            403,
            "revoked_hotkey",
        )
    capsys.readouterr()


def test_over_limit_callers_get_429_with_retry_after(subnet):
    gateway = subnet.build(rate_limit_per_caller=0.2, burst_per_caller=2)
    first, second = gateway.keys.issue("one").key, gateway.keys.issue("two").key
    with gateway_running(gateway) as url, httpx.Client(base_url=url, timeout=30) as http:
        codes = [
            http.post(INFERENCE_ROUTE, json=QUERY, headers={"Authorization": f"Bearer {first}"})
            for _ in range(3)
        ]
        assert [r.status_code for r in codes] == [200, 200, 429]
        assert "this caller" in _refused(codes[2], 429, "rate_limited")
        assert int(codes[2].headers["Retry-After"]) >= 2  # one token per 5 s, less time spent
        # per caller: another key is still served
        assert (
            http.post(
                INFERENCE_ROUTE, json=QUERY, headers={"Authorization": f"Bearer {second}"}
            ).status_code
            == 200
        )

    guessing = subnet.build(rate_limit_per_ip=1.0)
    with gateway_running(guessing) as url, httpx.Client(base_url=url, timeout=30) as http:
        tries = [
            http.post(
                INFERENCE_ROUTE,
                json=QUERY,
                headers={"Authorization": f"Bearer mgw_{i:012x}_{'A' * 43}"},
            )
            for i in range(3)
        ]
        assert tries[0].status_code == 401
        assert 429 in [r.status_code for r in tries[1:]]  # key guessing is rate-limited first
        assert "Retry-After" in next(r for r in tries if r.status_code == 429).headers


def test_oversized_and_malformed_bodies(subnet):
    gateway = subnet.build(max_body_bytes=2048)
    key = gateway.keys.issue("instance").key
    auth = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    big = _body({"query": "x" * 4000})
    with gateway_running(gateway) as url, httpx.Client(base_url=url, timeout=30) as http:
        assert "2048" in _refused(
            http.post(INFERENCE_ROUTE, content=big, headers=auth), 413, "body_too_large"
        )

        def chunks():
            for _ in range(10):
                yield b"x" * 1000

        _refused(http.post(INFERENCE_ROUTE, content=chunks(), headers=auth), 413, "body_too_large")
        assert "not JSON" in _refused(
            http.post(INFERENCE_ROUTE, content=b"{nope", headers=auth), 422, "malformed_request"
        )
        wrong = _body({**QUERY, "request_type": "search_patterns"})
        assert "route is inference" in _refused(
            http.post(INFERENCE_ROUTE, content=wrong, headers=auth), 422, "malformed_request"
        )
        bad_k = _body({"query": "q", "k": 0})
        assert "k" in _refused(
            http.post(SEARCH_ROUTE, content=bad_k, headers=auth), 422, "malformed_request"
        )
        extra = _body({**QUERY, "miner_uid": 3})
        assert "miner_uid" in _refused(
            http.post(INFERENCE_ROUTE, content=extra, headers=auth), 422, "malformed_request"
        )
        _refused(http.get("/v1/gateway/nothing"), 404, "not_found")
        _refused(http.get(INFERENCE_ROUTE), 405, "method_not_allowed")


@pytest.mark.parametrize("case", ["no_scores", "no_registry"])
def test_nothing_to_route_to_is_a_clear_503(subnet, case):
    gateway = (
        subnet.build(scores=lambda: {}) if case == "no_scores" else subnet.build(registry=None)
    )
    key = gateway.keys.issue("instance").key
    auth = {"Authorization": f"Bearer {key}"}
    with gateway_running(gateway) as url, httpx.Client(base_url=url, timeout=30) as http:
        resp = http.post(SEARCH_ROUTE, json=QUERY, headers=auth)
        if case == "no_scores":
            assert "scored" in _refused(resp, 503, "no_miners")
            assert int(resp.headers["Retry-After"]) > 0
        else:
            assert "registry" in _refused(resp, 503, "search_unavailable")
            assert http.post(INFERENCE_ROUTE, json=QUERY, headers=auth).status_code == 200
