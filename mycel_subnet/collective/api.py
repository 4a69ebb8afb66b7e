"""The local HTTP API a Mycel OS runtime calls: the same functions as `mycel pattern ...`.

Bound to 127.0.0.1 by default; `serve` refuses any other address unless `allow_remote` is set
(there is no authentication: whoever reaches the port spends the instance's NEAR). Responses
carry results and one-line errors only: no keys, no log contents. OpenAPI at /openapi.json.
"""

from __future__ import annotations

import ipaddress
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from mycel_subnet.collective import earnings, extract, find, publish, rate, show, use
from mycel_subnet.collective.adapter_publish import AdapterPublishOut, publish_adapter
from mycel_subnet.collective.errors import BadInput, CollectiveError, Refused
from mycel_subnet.collective.instance import Instance, InstanceConfig
from mycel_subnet.collective.models import (
    EarningsOut,
    ExtractOut,
    FindOut,
    PublishOut,
    RateOut,
    ShowOut,
    UseOut,
)
from mycel_subnet.near.client import DEFAULT_MIN_REPUTATION

DEFAULT_PORT = 8765


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ExtractIn(_In):
    log_path: str = Field(description="path of a JSON/JSONL chat log on this machine")
    domain: str | None = None
    k_anonymity: int | None = Field(None, ge=1)


class PublishIn(_In):
    price: str = Field("0", description="yoctoNEAR, or an amount like 0.01NEAR")


class PublishAdapterIn(_In):
    folder: str = Field(description="a peft save_pretrained LoRA folder on this machine")
    base_model: str = Field(description="the base model it was trained on")
    trigger: str
    domain: str
    price: str = Field("0", description="yoctoNEAR, or an amount like 0.01NEAR")
    requirements: list[str] = Field(default_factory=list, max_length=32)


class FindIn(_In):
    query: str
    domain: str | None = None
    max_price: int | None = Field(None, ge=0)
    min_reputation: float = Field(DEFAULT_MIN_REPUTATION, ge=0, le=1)
    k: int = Field(10, ge=1, le=100)


class UseIn(_In):
    args: Any = Field(None, description='a model adapter: "prompt" or {"prompt", "max_new_tokens"}')


class RateIn(_In):
    success: bool = True
    rating: int = Field(5, ge=1, le=5)


def create_app(config: InstanceConfig, gateway: Any = None) -> FastAPI:
    """The API over one Instance, opened at startup and closed at shutdown; `gateway` (a
    GatewayClient) makes /patterns/find ask a validator's organic gateway too."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.instance = Instance(config)
        try:
            yield
        finally:
            await app.state.instance.aclose()

    app = FastAPI(
        title="Mycel collective (local instance API)",
        version="1",
        lifespan=lifespan,
        description="Extract, publish, find, use, rate and earn: what `mycel pattern` does.",
    )

    @app.exception_handler(CollectiveError)
    async def collective_error(_request: Request, exc: CollectiveError) -> JSONResponse:
        body: dict[str, Any] = {"error": str(exc)}
        if isinstance(exc, Refused) and isinstance(exc.detail, BaseModel):
            body["detail"] = exc.detail.model_dump(mode="json")
        return JSONResponse(body, status_code=exc.http_status)

    def inst(request: Request) -> Instance:
        return request.app.state.instance

    @app.get("/health")
    async def health(request: Request) -> dict[str, str]:
        i = inst(request)
        return {"status": "ok", "account": i.account, "network": i.network}

    @app.post("/patterns/extract", response_model=ExtractOut)
    async def post_extract(body: ExtractIn, request: Request) -> ExtractOut:
        return await extract(
            inst(request), body.log_path, domain=body.domain, k_anonymity=body.k_anonymity
        )

    @app.post("/patterns/{pattern_id}/publish", response_model=PublishOut)
    async def post_publish(pattern_id: str, body: PublishIn, request: Request) -> PublishOut:
        return await publish(inst(request), pattern_id, body.price)

    @app.post("/patterns/publish-adapter", response_model=AdapterPublishOut)
    async def post_publish_adapter(body: PublishAdapterIn, request: Request) -> AdapterPublishOut:
        return await publish_adapter(
            inst(request), body.folder, base_model=body.base_model, trigger=body.trigger,
            domain=body.domain, price=body.price, requirements=body.requirements,
        )  # fmt: skip

    @app.post("/patterns/find", response_model=FindOut)
    async def post_find(body: FindIn, request: Request) -> FindOut:
        return await find(
            inst(request),
            body.query,
            domain=body.domain,
            max_price=body.max_price,
            min_reputation=body.min_reputation,
            k=body.k,
            gateway=gateway,
        )

    @app.get("/patterns/{pattern_id}", response_model=ShowOut)
    async def get_show(pattern_id: str, request: Request) -> ShowOut:
        return await show(inst(request), pattern_id)

    @app.post("/patterns/{pattern_id}/use", response_model=UseOut)
    async def post_use(pattern_id: str, body: UseIn, request: Request) -> UseOut:
        return await use(inst(request), pattern_id, body.args)

    @app.post("/patterns/{pattern_id}/rate", response_model=RateOut)
    async def post_rate(pattern_id: str, body: RateIn, request: Request) -> RateOut:
        return await rate(inst(request), pattern_id, success=body.success, rating=body.rating)

    @app.get("/earnings", response_model=EarningsOut)
    async def get_earnings(request: Request) -> EarningsOut:
        return await earnings(inst(request))

    return app


def check_bind(host: str, allow_remote: bool) -> None:
    """Refuse a non-loopback address unless explicitly allowed."""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        raise BadInput(f"--host must be an IP address or localhost, got {host!r:.60}") from None
    if not loopback and not allow_remote:
        raise BadInput(
            f"refusing to bind {host}: the API has no authentication and spends this "
            "instance's NEAR; use 127.0.0.1, or --allow-remote if you really mean it"
        )


def serve(config: InstanceConfig, host: str = "127.0.0.1", port: int = DEFAULT_PORT,
          *, allow_remote: bool = False, gateway: Any = None) -> None:  # fmt: skip
    """Run the API with uvicorn until interrupted."""
    import uvicorn

    check_bind(host, allow_remote)
    uvicorn.run(create_app(config, gateway), host=host, port=port, log_level="warning")
