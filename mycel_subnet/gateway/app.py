"""The gateway's ASGI app: two POST routes, /health and the OpenAPI document.

The routes read raw bytes (a btauth/1 signature covers the exact body), so the OpenAPI request
bodies are declared from the protocol's models by hand. Every refusal, including unknown paths
and methods, is the same one-line JSON `{"error", "detail"}`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from pydantic.json_schema import models_json_schema
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from mycel_subnet.gateway.models import (
    HEALTH_ROUTE,
    INFERENCE_ROUTE,
    SEARCH_ROUTE,
    Health,
    InferenceAnswer,
    Refusal,
    SearchAnswer,
)
from mycel_subnet.gateway.service import GatewayService
from mycel_subnet.transport.errors import error_response
from protocol import PROTOCOL_VERSION, InferenceRequest, RequestType, SearchPatternsRequest

log = logging.getLogger("mycel.gateway")

_ROUTES = {
    RequestType.INFERENCE: (INFERENCE_ROUTE, InferenceRequest, InferenceAnswer,
                            "answer a query with the offered patterns"),
    RequestType.SEARCH_PATTERNS: (SEARCH_ROUTE, SearchPatternsRequest, SearchAnswer,
                                  "rank the registry's patterns for a query"),
}  # fmt: skip
REFUSALS = {
    "401": "no credentials, or an unknown, revoked or badly signed one (the detail says which)",
    "403": "a signed request from a hotkey that is neither registered nor allowed",
    "413": "body over the size limit",
    "422": "body is not a valid request for this route",
    "429": "rate limited (Retry-After)",
    "502": "no miner gave an answer that passed the validator's checks",
    "503": "no scored miners yet, at capacity, or the registry is down (Retry-After)",
}
_REF = "#/components/schemas/{model}"


def _openapi(app: FastAPI) -> dict[str, Any]:
    models = [(m, "validation") for _, (_, m, _, _) in _ROUTES.items()]
    models += [(m, "serialization") for m in (InferenceAnswer, SearchAnswer, Health, Refusal)]
    keys, defs = models_json_schema(models, ref_template=_REF)
    doc = get_openapi(title=app.title, version=app.version, description=app.description,
                      routes=app.routes)  # fmt: skip
    doc.setdefault("components", {}).setdefault("schemas", {}).update(defs.get("$defs", {}))
    refusal = {"application/json": {"schema": keys[(Refusal, "serialization")]}}
    for _, (path, request_model, answer_model, _) in _ROUTES.items():
        responses = {"200": {"description": "the chosen answer", "content": {
            "application/json": {"schema": keys[(answer_model, "serialization")]}}}}  # fmt: skip
        responses.update(
            {s: {"description": why, "content": refusal} for s, why in REFUSALS.items()}
        )
        post = doc["paths"][path]["post"]
        post["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": keys[(request_model, "validation")]}}}  # fmt: skip
        post["responses"] = responses
        post["security"] = [{"apiKey": []}, {"btauth": []}]
    doc["paths"][HEALTH_ROUTE]["get"]["responses"] = {"200": {"description": "up", "content": {
        "application/json": {"schema": keys[(Health, "serialization")]}}}}  # fmt: skip
    doc["components"]["securitySchemes"] = {
        "apiKey": {"type": "http", "scheme": "bearer", "description": "mgw_... from the operator"},
        "btauth": {"type": "apiKey", "in": "header", "name": "X-Bittensor-Signature",
                   "description": "btauth/1: X-Bittensor-* headers, receiver = validator_hotkey"},
    }  # fmt: skip
    return doc


def build_gateway_app(service: GatewayService) -> FastAPI:
    app = FastAPI(
        title="Mycel organic gateway",
        version=PROTOCOL_VERSION,
        description="Inference with patterns and pattern search, answered by the subnet's "
        "best-scoring miners and checked by the validator.",
        docs_url=None,
        redoc_url=None,
        redirect_slashes=False,
    )
    app.state.service = service

    def make_route(request_type: RequestType) -> Callable[[Request], Any]:
        async def route(request: Request) -> Response:
            return await service.handle(request, request_type)

        return route

    for request_type, (path, _, _, summary) in _ROUTES.items():
        app.add_api_route(path, make_route(request_type), methods=["POST"],
                          name=request_type.value, summary=summary)  # fmt: skip

    @app.get(HEALTH_ROUTE, summary="is the gateway up, and whom to sign requests for")
    async def health(request: Request) -> Response:
        ip = request.client.host if request.client else "unknown"
        wait = service.ip_limiter.check(ip)
        if wait:
            return error_response(429, "rate_limited", "too many requests from this address",
                                  retry_after_s=wait)  # fmt: skip
        ranked = await service.directory.ranked()
        body = Health(status="ok", validator_hotkey=service.hotkey,
                      protocol_version=PROTOCOL_VERSION, miners_available=len(ranked),
                      search=service.registry is not None)  # fmt: skip
        return Response(body.model_dump_json(), media_type="application/json")

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return error_response(exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def internal_error(_: Request, exc: Exception) -> Response:
        log.error("unhandled error in the gateway", exc_info=exc)
        return error_response(500, "internal", "internal error")

    return app
