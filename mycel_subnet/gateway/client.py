"""A Mycel OS instance's side of the gateway: search patterns (and ask for inference) with an API
key. The answer is parsed against the gateway's models with a size cap; every failure is a
GatewayError with one line that never repeats the key.
"""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import ValidationError

from mycel_subnet.gateway.models import INFERENCE_ROUTE, SEARCH_ROUTE, InferenceAnswer, SearchAnswer

MAX_ANSWER_BYTES = 2 * 1_048_576


class GatewayError(Exception):
    """The gateway refused or did not answer; `str()` is one line, safe to show."""


class GatewayClient:
    def __init__(self, url: str, api_key: str, *, timeout_s: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {api_key}"}
        self.timeout_s = timeout_s

    def __repr__(self) -> str:
        return f"GatewayClient(url={self.url!r})"

    async def _post(self, route: str, body: dict[str, Any]) -> bytes:
        try:
            async with (
                httpx.AsyncClient(timeout=self.timeout_s, trust_env=False) as http,
                http.stream("POST", self.url + route, json=body, headers=self._headers) as resp,
            ):
                data = bytearray()
                async for chunk in resp.aiter_bytes():
                    data += chunk
                    if len(data) > MAX_ANSWER_BYTES:
                        raise GatewayError(f"gateway answer exceeds {MAX_ANSWER_BYTES} bytes")
                status = resp.status_code
        except httpx.HTTPError as error:
            raise GatewayError(f"gateway {self.url} unreachable: {type(error).__name__}") from None
        if status != 200:
            raise GatewayError(f"gateway refused ({status}): {_refusal(data)}")
        return bytes(data)

    async def search(self, query: str, *, domain: str | None = None, k: int = 10) -> SearchAnswer:
        body: dict[str, Any] = {"query": query, "k": k}
        if domain is not None:
            body["domain"] = domain
        return _parse(SearchAnswer, await self._post(SEARCH_ROUTE, body))

    async def inference(
        self, query: str, *, context: str = "", patterns: list[dict[str, Any]] | None = None
    ) -> InferenceAnswer:
        body = {"query": query, "context": context, "available_patterns": patterns or []}
        return _parse(InferenceAnswer, await self._post(INFERENCE_ROUTE, body))


def _refusal(data: bytes) -> str:
    import json

    try:
        parsed = json.loads(data[:4096])
        text = f"{parsed.get('error', '')}: {parsed.get('detail', '')}"
    except (ValueError, AttributeError):
        text = data[:200].decode("utf-8", "replace")
    return " ".join(text.split())[:300]


def _parse(model: type, data: bytes) -> Any:
    try:
        return model.model_validate_json(data)
    except ValidationError as error:
        first = error.errors()[0]["msg"]
        raise GatewayError(f"gateway answer is not a {model.__name__}: {first}") from None


def client_from_settings(gateway: Any) -> GatewayClient | None:
    """A client for the settings' `url` and `api_key` (GatewaySettings), None without a URL;
    ValueError when the URL has no key to go with it."""
    if not gateway.url:
        return None
    if gateway.api_key is None:
        raise ValueError(
            "--gateway.url needs an API key: set MYCEL_GATEWAY__API_KEY or gateway.api_key in "
            "the --config file"
        )
    return GatewayClient(gateway.url, gateway.api_key.get_secret_value())
