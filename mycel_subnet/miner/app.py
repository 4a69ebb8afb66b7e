"""The miner's HTTP service: one FastAPI route per ClaySynapse request type.

Connection caps and read deadlines come first, in the server (mycel_subnet.miner.http_server).
Each request then passes, in order: per-IP rate limit, body size limit (413 before the body is read
whole), btauth/1 verification (401), caller policy (403), per-hotkey rate limit (429), parsing
(422), admission (503 when saturated), then the engine in a worker thread with the request's
deadline. The answer is signed with the miner's hotkey and bound to the request's nonce.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import ipaddress
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

from bittensor import http_auth
from fastapi import FastAPI, Request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse, Response

from mycel_subnet.chain.types import MetagraphSnapshot
from mycel_subnet.engines.interface import EngineError, MinerEngine
from mycel_subnet.miner.limits import ServiceLimits
from mycel_subnet.miner.metrics import MinerMetrics
from mycel_subnet.transport.admission import AdmissionController
from mycel_subnet.transport.bodies import read_capped
from mycel_subnet.transport.errors import error_response
from mycel_subnet.transport.policy import CHAIN_DEPENDENT, CallerPolicy
from mycel_subnet.transport.ratelimit import TokenBucketLimiter
from mycel_subnet.transport.response_signing import sign_response
from mycel_subnet.transport.server_auth import RequestVerifier, auth_error_code
from protocol import (
    PROTOCOL_VERSION,
    ClaySynapse,
    ClaySynapseResponse,
    EvaluatePatternResult,
    FederatedRoundRequest,
    FederatedRoundResult,
    GeneratePatternResult,
    InferenceResult,
    ProtocolError,
    RequestType,
    SearchPatternsRequest,
    SearchPatternsResult,
    incompatibility,
    parse_model,
)
from protocol.synapse import HEALTH_ROUTE, METRICS_ROUTE, ROUTES

log = logging.getLogger("mycel.miner.service")

_RESULT_TYPES: dict[RequestType, type] = {
    RequestType.EVALUATE_PATTERN: EvaluatePatternResult,
    RequestType.GENERATE_PATTERN: GeneratePatternResult,
    RequestType.INFERENCE: InferenceResult,
    RequestType.SEARCH_PATTERNS: SearchPatternsResult,
    RequestType.FEDERATED_ROUND: FederatedRoundResult,
}
# Handlers that also get the caller's hotkey: a federated update is signed for that validator.
_WITH_CALLER = frozenset({RequestType.FEDERATED_ROUND})

PatternSearcher = Callable[[SearchPatternsRequest], SearchPatternsResult]


def _no_index(_: SearchPatternsRequest) -> SearchPatternsResult:
    raise EngineError("this miner keeps no index of the pattern registry")


FederatedTrainer = Callable[[FederatedRoundRequest, str], FederatedRoundResult]


def _no_federated(_: FederatedRoundRequest, _caller: str) -> FederatedRoundResult:
    raise EngineError("this miner takes no part in federated learning (no miner.fl_data)")


class MetagraphSource(Protocol):
    """What the service needs from the metagraph cache."""

    def snapshot(self) -> MetagraphSnapshot | None: ...

    def claim_early_refresh(self) -> bool: ...

    def refresh(self) -> bool: ...


def _is_loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _target(request: Request) -> str:
    """The request target as the client signed it: raw path plus ``?query``."""
    raw = request.scope.get("raw_path") or request.scope["path"].encode()
    target = raw.decode("latin-1")
    query = request.scope.get("query_string") or b""
    return f"{target}?{query.decode('latin-1')}" if query else target


class MinerService:
    """State shared by the routes: limiters, nonce store, admission, engine threads."""

    def __init__(
        self,
        *,
        wallet: Any,
        engine: MinerEngine,
        metagraph: MetagraphSource,
        policy: CallerPolicy,
        limits: ServiceLimits,
        metrics: MinerMetrics,
        searcher: PatternSearcher | None = None,
        federated: FederatedTrainer | None = None,
    ) -> None:
        # The hotkey keypair itself: signing through the Wallet object costs ~15x more per call.
        self.signer = wallet.hotkey
        self.hotkey = self.signer.ss58_address
        self.engine = engine
        self.metagraph = metagraph
        self.policy = policy
        self.limits = limits
        self.metrics = metrics
        self.verifier = RequestVerifier(self.hotkey, max_age_s=limits.auth_max_age_s)
        self.ip_limiter = TokenBucketLimiter(limits.rate_limit_per_ip)
        self.hotkey_limiter = TokenBucketLimiter(limits.rate_limit_per_hotkey)
        waiting = limits.max_waiting if limits.max_waiting is not None else 3 * limits.max_in_flight
        self.admission = AdmissionController(limits.max_in_flight, max_waiting=waiting)
        self.executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=limits.max_in_flight, thread_name_prefix="engine"
        )
        self._handlers: dict[RequestType, Callable[[Any], Any]] = {
            RequestType.EVALUATE_PATTERN: engine.evaluate_pattern,
            RequestType.GENERATE_PATTERN: engine.generate_pattern,
            RequestType.INFERENCE: engine.inference,
            RequestType.SEARCH_PATTERNS: searcher or _no_index,
            RequestType.FEDERATED_ROUND: federated or _no_federated,
        }

    def _refuse(self, route: str, status: int, error: str, detail: str, **kw: Any) -> Response:
        self.metrics.requests.labels(route, error).inc()
        return error_response(status, error, detail, **kw)

    async def handle(self, request: Request, request_type: RequestType) -> Response:
        received = time.monotonic()
        route = request_type.value
        ip = request.client.host if request.client else "unknown"
        wait = self.ip_limiter.check(ip)
        if wait:
            return self._refuse(
                route,
                429,
                "rate_limited",
                "too many requests from this address",
                retry_after_s=wait,
            )
        try:
            body = await read_capped(
                request.stream(), request.headers.get("content-length"), self.limits.max_body_bytes
            )
        except ClientDisconnect:
            # The client hung up (or the server closed a slow body): nobody reads an answer.
            log.debug("%s from %s: client disconnected before the body was complete", route, ip)
            self.metrics.requests.labels(route, "client_disconnect").inc()
            return Response(status_code=400)
        if body is None:
            return self._refuse(
                route,
                413,
                "body_too_large",
                f"request body exceeds {self.limits.max_body_bytes} bytes",
            )
        target = _target(request)
        try:
            caller = self.verifier.verify(
                request.headers, body, method=request.method, target=target
            )
        except http_auth.AuthError as error:
            log.debug("401 %s from %s: %s", route, ip, error)
            return self._refuse(route, 401, auth_error_code(error), str(error))

        hotkey = caller.hotkey_ss58
        decision = self.policy.decide(hotkey, self.metagraph.snapshot())
        if decision.refusal in CHAIN_DEPENDENT and self.metagraph.claim_early_refresh():
            # The caller may have registered, got a permit or staked since the last refresh.
            refreshed = asyncio.get_running_loop().run_in_executor(None, self.metagraph.refresh)
            await asyncio.wait({refreshed}, timeout=self.limits.miss_refresh_wait_s)
            decision = self.policy.decide(hotkey, self.metagraph.snapshot())
        if not decision.allowed:
            log.info("403 %s from %s: %s", route, hotkey, decision.detail)
            return self._refuse(route, 403, str(decision.refusal), decision.detail)
        wait = self.hotkey_limiter.check(hotkey)
        if wait:
            return self._refuse(
                route, 429, "rate_limited", "too many requests from this hotkey", retry_after_s=wait
            )

        try:
            synapse = parse_model(ClaySynapse, body)
        except ProtocolError as error:
            return self._refuse(route, 422, "malformed_request", str(error))
        if synapse.request_type is not request_type:
            return self._refuse(
                route,
                422,
                "malformed_request",
                f"request.request_type is {synapse.request_type.value} but the route is {route}",
            )
        refusal = incompatibility(synapse.protocol_version)
        if refusal:
            return self._refuse(route, 422, "unsupported_protocol", refusal)

        budget = min(synapse.deadline_s, self.limits.max_deadline_s)
        remaining = budget - (time.monotonic() - received) - self.limits.deadline_margin_s
        max_wait = min(self.limits.max_queue_wait_s, max(0.0, remaining / 2))
        if not await self.admission.acquire(decision.stake, max_wait):
            return self._refuse(
                route, 503, "busy", "miner is at capacity; try again shortly", retry_after_s=1
            )
        answer = await self._run_engine(synapse, request_type, received, budget, hotkey)
        payload = answer.model_dump_json().encode()
        headers = sign_response(
            self.signer,
            path=target,
            body=payload,
            request_nonce_ns=caller.nonce_ns,
            validator_ss58=hotkey,
        )
        outcome = "ok" if answer.status == "ok" else "engine_error"
        self.metrics.requests.labels(route, outcome).inc()
        self.metrics.latency.labels(route).observe(time.monotonic() - received)
        log.info(
            "%s %s for %s: %s in %.3fs",
            route,
            synapse.request_id,
            hotkey,
            outcome if answer.status == "ok" else answer.detail,
            answer.process_time_s,
            extra={
                "fields": {
                    "route": route,
                    "request_id": synapse.request_id,
                    "caller": hotkey,
                    "outcome": outcome,
                    "process_time_s": round(answer.process_time_s, 4),
                }
            },
        )
        return Response(payload, media_type="application/json", headers=headers)

    async def _run_engine(
        self,
        synapse: ClaySynapse,
        request_type: RequestType,
        received: float,
        budget: float,
        caller: str,
    ) -> ClaySynapseResponse:
        """Run the engine in a worker thread; the slot is freed when the thread finishes."""
        loop = asyncio.get_running_loop()
        handler = self._handlers[request_type]
        args = (synapse.request, caller) if request_type in _WITH_CALLER else (synapse.request,)
        self.metrics.in_flight.inc()
        future = loop.run_in_executor(self.executor, handler, *args)

        def _finished(_: asyncio.Future) -> None:
            self.metrics.in_flight.dec()
            self.admission.release()

        future.add_done_callback(_finished)
        remaining = budget - (time.monotonic() - received) - self.limits.deadline_margin_s
        done, _ = await asyncio.wait({future}, timeout=max(0.0, remaining))
        elapsed = time.monotonic() - received

        def error(detail: str) -> ClaySynapseResponse:
            return ClaySynapseResponse(
                request_id=synapse.request_id,
                status="error",
                detail=detail[:500],
                process_time_s=min(elapsed, 3600.0),
            )

        if not done:
            # The thread cannot be killed; it keeps its admission slot until it returns.
            return error(f"deadline of {budget:g}s exceeded")
        exc = future.exception()
        if isinstance(exc, EngineError):
            return error(f"engine error: {exc}")
        if exc is not None:
            log.error("engine %s failed on %s", self.engine.name, request_type.value, exc_info=exc)
            return error("internal engine error")
        result = future.result()
        if not isinstance(result, _RESULT_TYPES[request_type]):
            log.error("engine %s returned %s", self.engine.name, type(result).__name__)
            return error("internal engine error")
        return ClaySynapseResponse(
            request_id=synapse.request_id, result=result, process_time_s=min(elapsed, 3600.0)
        )


def build_app(
    *,
    wallet: Any,
    engine: MinerEngine,
    metagraph: MetagraphSource,
    policy: CallerPolicy,
    limits: ServiceLimits | None = None,
    metrics: MinerMetrics | None = None,
    searcher: PatternSearcher | None = None,
    federated: FederatedTrainer | None = None,
) -> FastAPI:
    """The miner's ASGI app. ``wallet`` signs responses; its hotkey is the btauth receiver.
    ``federated`` trains federated rounds (mycel_subnet.federated.miner_side); without it the
    miner answers them with an engine error."""
    service = MinerService(
        wallet=wallet,
        engine=engine,
        metagraph=metagraph,
        policy=policy,
        limits=limits or ServiceLimits(),
        metrics=metrics or MinerMetrics(),
        searcher=searcher,
        federated=federated,
    )

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        service.executor.shutdown(wait=False, cancel_futures=True)

    service.metrics.watch_metagraph(metagraph)
    app = FastAPI(
        title="Mycel miner",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
        redirect_slashes=False,  # a redirect's Location would come from the Host header
    )
    app.state.service = service

    def make_route(request_type: RequestType) -> Callable[[Request], Any]:
        async def route(request: Request) -> Response:
            return await service.handle(request, request_type)

        return route

    for request_type, path in ROUTES.items():
        app.add_api_route(path, make_route(request_type), methods=["POST"], name=request_type.value)

    @app.get(HEALTH_ROUTE)
    async def health() -> Response:
        return JSONResponse({"status": "ok", "protocol_version": PROTOCOL_VERSION})

    @app.get(METRICS_ROUTE)
    async def metrics_route(request: Request) -> Response:
        if not _is_loopback(request.client.host if request.client else None):
            return error_response(404, "not_found", "Not Found")
        return Response(generate_latest(service.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.exception_handler(Exception)
    async def internal_error(_: Request, exc: Exception) -> Response:
        log.error("unhandled error in the miner service", exc_info=exc)
        return error_response(500, "internal", "internal error")

    return app
