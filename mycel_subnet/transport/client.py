"""Validator side: send one signed ClaySynapse to a miner and judge what comes back.

Every try signs a fresh nonce (btauth/1 rejects replays). The body is streamed with a size cap,
so a miner cannot make a validator buffer gigabytes. A 200 answer counts only when the miner's
response signature verifies for this request's nonce, and the body parses as a response to this
request; anything else is a ``QueryOutcome`` with a clear error kind, never an exception.
"""

from __future__ import annotations

import asyncio
import enum
import json
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from bittensor import http_auth

from mycel_subnet.transport.bodies import read_capped
from mycel_subnet.transport.response_signing import ResponseSignatureError, verify_response
from protocol import ClaySynapse, ClaySynapseResponse, ProtocolError, parse_model


class QueryErrorKind(enum.StrEnum):
    TIMEOUT = "timeout"  # no complete answer within timeout_s
    UNREACHABLE = "unreachable"  # connection refused / reset before any answer
    HTTP_ERROR = "http_error"  # the miner answered with a non-200 status (refusal, 5xx)
    OVERSIZED = "oversized"  # the body exceeded max_response_bytes
    BAD_SIGNATURE = "bad_signature"  # unsigned, or not signed by this miner for this request
    MALFORMED = "malformed"  # not a valid ClaySynapseResponse for this request


@dataclass(frozen=True)
class QueryOutcome:
    """The miner's verified answer, or why there is none; ``latency_s`` is always measured."""

    latency_s: float
    response: ClaySynapseResponse | None = None
    error: QueryErrorKind | None = None
    detail: str = ""
    status_code: int | None = None
    request_nonce_ns: int = 0
    body: bytes = b""  # the exact signed bytes, kept as proof of what the miner answered
    signature_headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None and self.response is not None


def _refusal_detail(status: int, body: bytes) -> str:
    try:
        data = json.loads(body)
        text = f"{data.get('error', '')}: {data.get('detail', '')}"
    except (ValueError, AttributeError):
        text = body[:200].decode("utf-8", "replace")
    return f"HTTP {status} {' '.join(text.split())[:240]}"


async def query_miner(
    http: httpx.AsyncClient,
    wallet: Any,
    miner_hotkey: str,
    base_url: str,
    synapse: ClaySynapse,
    timeout_s: float,
    max_response_bytes: int,
) -> QueryOutcome:
    """POST ``synapse`` to the miner at ``base_url`` (``http://ip:port``) and verify the answer."""
    path = synapse.route
    body = synapse.model_dump_json().encode()
    signer = getattr(wallet, "hotkey", wallet)  # a Wallet's keypair signs ~15x faster
    headers = http_auth.sign(
        signer, method="POST", path=path, body=body, receiver_ss58=miner_hotkey
    )
    nonce = int(headers[http_auth.HEADER_NONCE])
    validator_ss58 = headers[http_auth.HEADER_HOTKEY]
    headers["Content-Type"] = "application/json"
    url = base_url.rstrip("/") + path
    start = time.perf_counter()

    def outcome(**kw: Any) -> QueryOutcome:
        return QueryOutcome(latency_s=time.perf_counter() - start, request_nonce_ns=nonce, **kw)

    try:
        async with asyncio.timeout(timeout_s):
            async with http.stream(
                "POST", url, content=body, headers=headers, timeout=timeout_s
            ) as resp:
                status = resp.status_code
                data = await read_capped(
                    resp.aiter_bytes(), resp.headers.get("content-length"), max_response_bytes
                )
                resp_headers = resp.headers
    except (TimeoutError, httpx.TimeoutException):
        return outcome(error=QueryErrorKind.TIMEOUT, detail=f"no answer within {timeout_s:g}s")
    except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError) as error:
        return outcome(error=QueryErrorKind.UNREACHABLE, detail=f"{type(error).__name__}: {error}")
    except httpx.HTTPError as error:
        return outcome(error=QueryErrorKind.HTTP_ERROR, detail=f"{type(error).__name__}: {error}")
    latency = time.perf_counter() - start

    def done(**kw: Any) -> QueryOutcome:
        return QueryOutcome(latency_s=latency, request_nonce_ns=nonce, status_code=status, **kw)

    if data is None:
        return done(
            error=QueryErrorKind.OVERSIZED, detail=f"body exceeds {max_response_bytes} bytes"
        )
    if status != 200:
        return done(error=QueryErrorKind.HTTP_ERROR, detail=_refusal_detail(status, data))
    try:
        verify_response(
            resp_headers,
            data,
            path=path,
            request_nonce_ns=nonce,
            miner_ss58=miner_hotkey,
            validator_ss58=validator_ss58,
            max_age_s=timeout_s + 30.0,
        )
    except ResponseSignatureError as error:
        return done(error=QueryErrorKind.BAD_SIGNATURE, detail=str(error))
    signature = {k: v for k, v in resp_headers.items() if k.lower().startswith("x-mycel-response-")}
    try:
        response = parse_model(ClaySynapseResponse, data)
    except ProtocolError as error:
        return done(error=QueryErrorKind.MALFORMED, detail=str(error), body=data)
    if response.request_id != synapse.request_id:
        return done(error=QueryErrorKind.MALFORMED, detail="response is for another request_id")
    if response.result is not None and response.result.request_type != synapse.request_type:
        return done(
            error=QueryErrorKind.MALFORMED,
            detail=f"result type {response.result.request_type} for a {synapse.request_type} "
            "request",
        )
    return done(response=response, body=data, signature_headers=signature)
