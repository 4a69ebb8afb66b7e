"""The gateway's request path, in order: per-address rate limit (429), body cap (413),
authentication (401/403), per-caller rate limit (429), parsing (422), capacity (503), then the
query to the validator's best miners and the choice of answer (502 when none passes the checks).

Organic traffic and rewards, the rule: organic answers never change a miner's score, reward or
weight. The gateway only reads the validator's scores (to route); it holds no handle that could
write them. What a caller sends decides nothing about who is paid, so no caller can steer
rewards, up or down. Organic answers are still checked with the validator's own checks (offered
patterns, registry existence), and a miner that fails them is benched from organic routing for a
while (directory.py) — routing, never reward.

Organic queries are signed by the validator's hotkey with the challenges' deadline, so on the
wire a miner cannot tell them from challenges. No answer or error carries a miner's hotkey,
uid, address or port: errors are the gateway's own words, and registered hotkeys and the asked
miners' addresses are removed from answer text.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pydantic_core
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from mycel_subnet.chain.types import MetagraphSnapshot
from mycel_subnet.gateway import aggregate
from mycel_subnet.gateway.auth import Authenticator, AuthRefused
from mycel_subnet.gateway.directory import Miner, MinerDirectory
from mycel_subnet.gateway.models import (
    Agreement,
    FoundEntry,
    InferenceAnswer,
    SearchAnswer,
)
from mycel_subnet.gateway.registry import RegistryUnavailable, RegistryView
from mycel_subnet.near.models import PatternEntry
from mycel_subnet.transport.aiohttp_transport import AiohttpTransport
from mycel_subnet.transport.bodies import read_capped
from mycel_subnet.transport.client import QueryOutcome, query_miner
from mycel_subnet.transport.errors import error_response
from mycel_subnet.transport.ratelimit import TokenBucketLimiter
from protocol import (
    ClaySynapse,
    InferenceRequest,
    ProtocolError,
    RequestType,
    SearchPatternsRequest,
    parse_model,
)
from protocol import limits as L

log = logging.getLogger("mycel.gateway")

_SS58 = re.compile(r"\b5[1-9A-HJ-NP-Za-km-z]{47}\b")
_REQUEST_MODELS: dict[RequestType, type] = {
    RequestType.INFERENCE: InferenceRequest,
    RequestType.SEARCH_PATTERNS: SearchPatternsRequest,
}


@dataclass(frozen=True)
class GatewayLimits:
    max_body_bytes: int = 262_144
    rate_limit_per_ip: float = 20.0  # before authentication: key guessing costs this much
    rate_limit_per_caller: float = 2.0
    burst_per_caller: float = 10.0
    max_in_flight: int = 64
    timeout_s: float = 12.0  # the miners' deadline: the validator's challenge timeout
    max_response_bytes: int = 1_048_576
    min_support: int = 2  # search ids must come from this many miners (when that many answer)


class _Refuse(Exception):
    def __init__(self, status: int, code: str, detail: str, retry_after_s: float | None = None):
        super().__init__(detail)
        self.status, self.code, self.detail, self.retry_after_s = (
            status,
            code,
            detail,
            retry_after_s,
        )


def _target(request: Request) -> str:
    raw = request.scope.get("raw_path") or request.scope["path"].encode()
    query = request.scope.get("query_string") or b""
    target = raw.decode("latin-1")
    return f"{target}?{query.decode('latin-1')}" if query else target


class GatewayService:
    """State shared by the routes."""

    def __init__(
        self,
        *,
        wallet: Any,
        authenticator: Authenticator,
        directory: MinerDirectory,
        graph: Callable[[], MetagraphSnapshot | None],
        registry: RegistryView | None,
        limits: GatewayLimits,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.wallet = wallet
        self.hotkey = wallet.hotkey.ss58_address
        self.auth = authenticator
        self.directory = directory
        self.graph = graph
        self.registry = registry
        self.limits = limits
        self.ip_limiter = TokenBucketLimiter(limits.rate_limit_per_ip)
        self.caller_limiter = TokenBucketLimiter(
            limits.rate_limit_per_caller, limits.burst_per_caller
        )
        self.in_flight = 0
        self._http = http

    @property
    def http(self) -> httpx.AsyncClient:
        """httpx's own pool scans every connection per request (quadratic under load: 55
        inference req/s at 16 callers here); aiohttp behind the same API is not."""
        if self._http is None:
            size = max(16, self.limits.max_in_flight * self.directory.fanout)
            self._http = httpx.AsyncClient(transport=AiohttpTransport(limit=size), trust_env=False)
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()

    # -- the request path -------------------------------------------------------------------

    async def handle(self, request: Request, request_type: RequestType) -> Response:
        started = time.monotonic()
        ip = request.client.host if request.client else "unknown"
        try:
            wait = self.ip_limiter.check(ip)
            if wait:
                raise _Refuse(429, "rate_limited", "too many requests from this address", wait)
            body = await self._body(request)
            try:
                caller = self.auth.authenticate(
                    request.headers, body, method=request.method, target=_target(request)
                )
            except AuthRefused as refused:
                raise _Refuse(refused.status, refused.code, refused.detail) from None
            wait = self.caller_limiter.check(caller.id)
            if wait:
                raise _Refuse(429, "rate_limited", "too many requests from this caller", wait)
            parsed = self._parse(body, request_type)
            if self.in_flight >= self.limits.max_in_flight:
                raise _Refuse(503, "busy", "the gateway is at capacity; try again shortly", 1)
            self.in_flight += 1
            try:
                if request_type is RequestType.INFERENCE:
                    answer: Any = await self._inference(parsed)
                else:
                    answer = await self._search(parsed)
            finally:
                self.in_flight -= 1
        except _Refuse as refused:
            log.debug("gateway %s from %s: %s %s", request_type.value, ip, refused.code,
                      refused.detail)  # fmt: skip
            return error_response(
                refused.status, refused.code, refused.detail, retry_after_s=refused.retry_after_s
            )
        log.info(
            "gateway %s for %s: %d/%d valid, %.3fs", request_type.value, caller.id,
            answer.agreement.valid, answer.agreement.asked, time.monotonic() - started,
        )  # fmt: skip
        return Response(
            answer.model_dump_json().encode(),
            media_type="application/json",
            headers={"Cache-Control": "no-store"},
        )

    async def _body(self, request: Request) -> bytes:
        cap = self.limits.max_body_bytes
        try:
            body = await read_capped(request.stream(), request.headers.get("content-length"), cap)
        except ClientDisconnect:
            raise _Refuse(400, "client_disconnect", "the body did not arrive") from None
        if body is None:
            raise _Refuse(413, "body_too_large", f"request body exceeds {cap} bytes")
        return body

    @staticmethod
    def _parse(body: bytes, request_type: RequestType) -> Any:
        """The route's protocol model; `request_type` may be omitted (the route says it)."""
        try:
            data = pydantic_core.from_json(body)  # bounded nesting: no RecursionError
        except ValueError as error:
            raise _Refuse(422, "malformed_request", f"body is not JSON: {error}"[:300]) from None
        if not isinstance(data, dict):
            raise _Refuse(422, "malformed_request", "body must be a JSON object")
        given = data.setdefault("request_type", request_type.value)
        if given != request_type.value:
            raise _Refuse(
                422, "malformed_request",
                f"request_type is {str(given)[:40]!r} but the route is {request_type.value}",
            )  # fmt: skip
        try:
            return parse_model(_REQUEST_MODELS[request_type], pydantic_core.to_json(data))
        except ProtocolError as error:
            raise _Refuse(422, "malformed_request", str(error)) from None

    # -- routing ----------------------------------------------------------------------------

    async def _ask_all(self, request: Any) -> tuple[list[Miner], list[QueryOutcome]]:
        miners, ranked = await self.directory.pick()
        if not miners:
            if not ranked:
                raise _Refuse(
                    503, "no_miners", "no miner has been scored by this validator yet; try later",
                    30,
                )  # fmt: skip
            raise _Refuse(503, "busy", "the miners' organic capacity is in use; try shortly", 1)
        timeout = min(self.limits.timeout_s, L.MAX_DEADLINE_S)
        outcomes = await asyncio.gather(*(self._ask(m, request, timeout) for m in miners))
        return miners, list(outcomes)

    async def _ask(self, miner: Miner, request: Any, timeout: float) -> QueryOutcome:
        synapse = ClaySynapse(request=request, deadline_s=timeout)
        try:
            outcome = await query_miner(
                self.http, self.wallet, miner.hotkey, miner.base_url, synapse, timeout,
                self.limits.max_response_bytes,
            )  # fmt: skip
        except Exception as error:  # the client promises none; keep the request alive anyway
            log.warning("gateway query to %s failed unexpectedly: %s", miner.hotkey, error)
            return QueryOutcome(latency_s=timeout, detail=str(error)[:200])
        if not outcome.ok:
            log.debug("gateway query to %s: %s %s", miner.hotkey, outcome.error, outcome.detail)
        return outcome

    @staticmethod
    def _answers(miners: list[Miner], outcomes: list[QueryOutcome]) -> list[aggregate.MinerAnswer]:
        return [
            aggregate.MinerAnswer(m.hotkey, m.score, o.response.result)
            for m, o in zip(miners, outcomes, strict=True)
            if o.ok and o.response is not None and o.response.status == "ok" and o.response.result
        ]

    def _faults(self, faults: dict[str, str]) -> None:
        for hotkey, why in faults.items():
            self.directory.fault(hotkey)
            log.warning("gateway: organic answer from %s failed the checks (%s); benched from "
                        "organic routing", hotkey, why)  # fmt: skip

    def _redact(self, text: str, miners: list[Miner]) -> str:
        """Remove registered hotkeys and the asked miners' addresses from miner-written text."""
        graph = self.graph()
        if graph is not None:
            text = _SS58.sub(
                lambda m: "[redacted]" if graph.by_hotkey(m.group(0)) else m.group(0), text
            )
        for miner in miners:
            host = miner.base_url.split("://", 1)[-1]
            for needle in (miner.base_url, host, host.rsplit(":", 1)[0].strip("[]")):
                if needle and needle in text:
                    text = text.replace(needle, "[redacted]")
        return text

    async def _inference(self, request: InferenceRequest) -> InferenceAnswer:
        miners, outcomes = await self._ask_all(request)
        answers = self._answers(miners, outcomes)
        offered = {str(p.id) for p in request.available_patterns}
        choice = aggregate.choose_inference(answers, offered)
        self._faults(choice.faults)
        if choice.answer is None:
            raise _Refuse(
                502, "no_answer",
                f"none of the {len(miners)} miners asked gave an answer that passed the "
                "validator's checks; try again",
            )  # fmt: skip
        return InferenceAnswer(
            request_id=uuid.uuid4().hex,
            response=self._redact(choice.answer.response, miners),
            patterns_used=list(choice.answer.patterns_used),
            agreement=Agreement(asked=len(miners), answered=len(answers), valid=choice.valid,
                                agreeing=choice.agreeing),
        )  # fmt: skip

    @staticmethod
    def _rejection(entry: PatternEntry | None, request: SearchPatternsRequest) -> str | None:
        if entry is None:
            return "not in the registry"
        if entry.status == "quarantined":  # never offered; not a miner's fault (see registry.py)
            return "quarantined by the validators"
        if request.domain is not None and entry.domain != request.domain:
            return f"domain {entry.domain[:40]!r}, not the asked {request.domain!r}"
        if request.registry_upto is not None and entry.id >= request.registry_upto:
            return f"registered as #{entry.id}, after the asked snapshot"
        return None

    async def _search(self, request: SearchPatternsRequest) -> SearchAnswer:
        if self.registry is None:
            raise _Refuse(
                503, "search_unavailable",
                "pattern search is off on this gateway: its validator has no pattern registry",
            )  # fmt: skip
        miners, outcomes = await self._ask_all(request)
        answers = self._answers(miners, outcomes)
        fused = aggregate.fuse_rankings(answers, request.k)
        try:
            entries = await self.registry.entries(fused)
        except RegistryUnavailable as error:
            raise _Refuse(503, "registry_unavailable", str(error), 5) from None
        rejected = {
            pid: why
            for pid in fused
            if (why := self._rejection(entries.get(pid), request)) is not None
        }
        # Only "not in the registry" is a fault: whatever the caller asks (domain, snapshot),
        # an honest index never returns an id that does not exist, so no request can bench it.
        missing = {pid: why for pid, why in rejected.items() if pid not in entries}
        faults = aggregate.search_faults(answers, request.k, missing)
        self._faults(faults)
        valid = len(answers) - len(faults)
        honest_like = [a for a in answers if a.key not in faults]
        fused = aggregate.fuse_rankings(honest_like, request.k)  # liars' ranks count for nothing
        accepted = set(fused) - set(rejected)
        need = max(1, min(self.limits.min_support, valid))
        ranked = aggregate.rank_agreed(fused, accepted, request.k, need)
        if not valid:
            raise _Refuse(
                502, "no_answer",
                f"none of the {len(miners)} miners asked gave an answer that passed the "
                "validator's checks; try again",
            )  # fmt: skip
        top = {f.pattern_id for f in ranked[:1]}
        agreeing = sum(
            1
            for a in honest_like
            if top & set(a.result.pattern_ids[: request.k])  # type: ignore[attr-defined]
        )
        agreement = Agreement(
            asked=len(miners), answered=len(answers), valid=valid, agreeing=agreeing
        )
        patterns = [_found(entries[f.pattern_id], f) for f in ranked]
        return SearchAnswer(request_id=uuid.uuid4().hex, patterns=patterns, agreement=agreement)


def _found(entry: PatternEntry, fused: aggregate.Fused) -> FoundEntry:
    return FoundEntry(
        pattern_id=entry.pattern_hash,
        near_id=entry.id,
        domain=entry.domain,
        metadata_cid=entry.metadata_cid,
        price_per_use=str(entry.price_per_use),
        creator=entry.creator,
        reputation=entry.reputation,
        support=fused.support,
        fused_score=round(fused.score, 6),
    )
