"""Validator side: send one signed ClaySynapse to a miner and judge what comes back.

Every try signs a fresh nonce (btauth/1 rejects replays). A miner is a stranger, so every part of
its answer is bounded before it is looked at:

- time: one deadline covers connecting, the headers and the whole body, so a miner that trickles
  its headers or its body (a byte a second) is cut off at ``timeout_s``, not when it stops;
- encoding: the request asks for ``Accept-Encoding: identity`` and any other Content-Encoding is
  refused unread (``encoded_response``); raw bytes are read (``aiter_raw``), so nothing is ever
  inflated: a 1 KB stacked gzip bomb costs 1 KB;
- size: the raw body is capped at ``max_response_bytes`` (a declared Content-Length over the cap
  is refused before reading) and at ``MAX_BODY_PIECES`` pieces, so a body of one-byte chunks
  cannot keep the event loop parsing until the deadline;
- decoding: the signature check, JSON parse and validation run only on a body within the cap,
  with pydantic's bounded JSON parser (nesting bombs fail at depth 200), in a worker thread when
  the body is large enough to hold the event loop.

A 200 answer counts only when the miner's response signature verifies for this request's nonce
and the body parses as a response to this request; anything else is a ``QueryOutcome`` with a
clear error kind, never an exception.
"""

from __future__ import annotations

import asyncio
import enum
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import pydantic_core
from bittensor import http_auth

from mycel_subnet.transport.bodies import BodyFragmented, BodyTooLarge, read_body
from mycel_subnet.transport.response_signing import ResponseSignatureError, verify_response
from protocol import (
    ClaySynapse,
    ClaySynapseResponse,
    ProtocolError,
    incompatibility,
    parse_model,
)

# Far above what an honest body needs (a 1 MiB body read in 64 KiB reads is ~16 pieces, in
# 1.4 KB TCP segments ~730), far below what makes the per-piece parser cost matter (~30 ms).
MAX_BODY_PIECES = 4096
# Bodies above this are verified and parsed in a worker thread (~1 ms of work per 64 KiB).
INLINE_DECODE_BYTES = 64 * 1024
# Refusal bodies are only parsed for their error code when they are this small.
_REFUSAL_PARSE_BYTES = 4096


class QueryErrorKind(enum.StrEnum):
    TIMEOUT = "timeout"  # no complete answer within timeout_s
    UNREACHABLE = "unreachable"  # connection refused / reset before any answer
    HTTP_ERROR = "http_error"  # the miner answered with a non-200 status (refusal, 5xx)
    OVERSIZED = "oversized"  # the body exceeded max_response_bytes
    FRAGMENTED = "fragmented"  # the body came in more than MAX_BODY_PIECES pieces
    ENCODED = "encoded_response"  # a Content-Encoding other than identity: refused unread
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


class _Refused(Exception):
    """A response refused while reading it; carries the outcome's kind and detail."""

    def __init__(self, kind: QueryErrorKind, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


def _encoding_refusal(headers: httpx.Headers) -> str | None:
    """Why the response's Content-Encoding is refused, or None when it is absent or identity."""
    values = headers.get_list("content-encoding", split_commas=True)
    codings = [v.strip().lower() for v in values if v.strip()]
    if all(c == "identity" for c in codings):
        return None
    return f"Content-Encoding {', '.join(codings)[:100]!r} refused; only identity is accepted"


def _refusal_detail(status: int, body: bytes) -> str:
    text = ""
    if len(body) <= _REFUSAL_PARSE_BYTES:
        try:  # pydantic's parser: bounded nesting, no RecursionError
            data = pydantic_core.from_json(body)
            if isinstance(data, dict):
                text = f"{data.get('error', '')}: {data.get('detail', '')}"
        except ValueError:
            pass
    if not text:
        text = body[:200].decode("utf-8", "replace")
    return f"HTTP {status} {' '.join(text.split())[:240]}"


@dataclass(frozen=True)
class _Exchange:
    """What one request needs to judge its answer."""

    synapse: ClaySynapse
    path: str
    nonce: int
    miner_ss58: str
    validator_ss58: str
    timeout_s: float


def _judge(ex: _Exchange, status: int, headers: httpx.Headers, data: bytes) -> dict[str, Any]:
    """Verify and parse a body already within the size cap: the outcome's fields."""
    if status != 200:
        return {"error": QueryErrorKind.HTTP_ERROR, "detail": _refusal_detail(status, data)}
    try:
        verify_response(
            headers,
            data,
            path=ex.path,
            request_nonce_ns=ex.nonce,
            miner_ss58=ex.miner_ss58,
            validator_ss58=ex.validator_ss58,
            max_age_s=ex.timeout_s + 30.0,
        )
    except ResponseSignatureError as error:
        return {"error": QueryErrorKind.BAD_SIGNATURE, "detail": str(error)}
    signature = {k: v for k, v in headers.items() if k.lower().startswith("x-mycel-response-")}
    try:
        response = parse_model(ClaySynapseResponse, data)
    except ProtocolError as error:
        return {"error": QueryErrorKind.MALFORMED, "detail": str(error)[:300], "body": data}
    refusal = incompatibility(response.protocol_version)
    if refusal:
        return {"error": QueryErrorKind.MALFORMED, "detail": refusal}
    if response.request_id != ex.synapse.request_id:
        return {"error": QueryErrorKind.MALFORMED, "detail": "response is for another request_id"}
    if response.result is not None and response.result.request_type != ex.synapse.request_type:
        return {
            "error": QueryErrorKind.MALFORMED,
            "detail": f"result type {response.result.request_type} for a "
            f"{ex.synapse.request_type} request",
        }
    return {"response": response, "body": data, "signature_headers": signature}


async def _read(resp: httpx.Response, max_response_bytes: int, progress: list[int]) -> bytes:
    """The raw body within both caps; raises _Refused naming the cap that was crossed."""
    refusal = _encoding_refusal(resp.headers)
    if refusal:
        raise _Refused(QueryErrorKind.ENCODED, refusal)
    declared = resp.headers.get("content-length")
    try:  # a declared length over the cap is refused before a byte is read
        return await read_body(
            resp.aiter_raw(), declared, max_response_bytes, MAX_BODY_PIECES, progress
        )
    except BodyTooLarge as error:
        raise _Refused(QueryErrorKind.OVERSIZED, str(error)) from None
    except BodyFragmented as error:
        raise _Refused(QueryErrorKind.FRAGMENTED, str(error)) from None


async def query_miner(
    http: httpx.AsyncClient,
    wallet: Any,
    miner_hotkey: str,
    base_url: str,
    synapse: ClaySynapse,
    timeout_s: float,
    max_response_bytes: int,
) -> QueryOutcome:
    """POST ``synapse`` to the miner at ``base_url`` (``http://ip:port``) and verify the answer.

    Returns within ``timeout_s`` plus the time to verify and parse at most
    ``max_response_bytes`` (milliseconds), whatever the miner sends.
    """
    path = synapse.route
    body = synapse.model_dump_json().encode()
    signer = getattr(wallet, "hotkey", wallet)  # a Wallet's keypair signs ~15x faster
    headers = http_auth.sign(
        signer, method="POST", path=path, body=body, receiver_ss58=miner_hotkey
    )
    nonce = int(headers[http_auth.HEADER_NONCE])
    exchange = _Exchange(
        synapse, path, nonce, miner_hotkey, headers[http_auth.HEADER_HOTKEY], timeout_s
    )
    headers["Content-Type"] = "application/json"
    headers["Accept-Encoding"] = "identity"
    url = base_url.rstrip("/") + path
    progress: list[int] = []  # [bytes, pieces] of the body so far; empty before the headers
    status: int | None = None
    start = time.perf_counter()

    def outcome(**kw: Any) -> QueryOutcome:
        return QueryOutcome(
            latency_s=time.perf_counter() - start, request_nonce_ns=nonce, status_code=status,
            **kw,
        )  # fmt: skip

    try:
        async with asyncio.timeout(timeout_s):
            async with http.stream(
                "POST", url, content=body, headers=headers, timeout=timeout_s
            ) as resp:
                status = resp.status_code
                progress[:] = [0, 0]
                data = await _read(resp, max_response_bytes, progress)
                resp_headers = resp.headers
    except _Refused as refused:
        return outcome(error=refused.kind, detail=refused.detail)
    except (TimeoutError, httpx.TimeoutException):
        where = f"body incomplete after {progress[0]} bytes" if progress else "no response headers"
        return outcome(error=QueryErrorKind.TIMEOUT, detail=f"{where} within {timeout_s:g}s")
    except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError) as error:
        return outcome(error=QueryErrorKind.UNREACHABLE, detail=_one_line(error))
    except httpx.HTTPError as error:
        return outcome(error=QueryErrorKind.HTTP_ERROR, detail=_one_line(error))
    latency = time.perf_counter() - start
    if len(data) > INLINE_DECODE_BYTES:
        judged = await asyncio.to_thread(_judge, exchange, status, resp_headers, data)
    else:
        judged = _judge(exchange, status, resp_headers, data)
    return QueryOutcome(latency_s=latency, request_nonce_ns=nonce, status_code=status, **judged)


def _one_line(error: Exception) -> str:
    return f"{type(error).__name__}: {' '.join(str(error).split())}"[:300]
