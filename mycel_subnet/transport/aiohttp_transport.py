"""An httpx transport over aiohttp, for validators that query many miners at once.

httpx's own async connection pool degrades badly under concurrency (encode/httpx#3215): on the
build machine 64 concurrent `query_miner` calls through a plain ``httpx.AsyncClient`` reached
about 50 req/s with seconds of client-side queueing, which would be counted as miner latency.
``httpx.AsyncClient(transport=AiohttpTransport())`` keeps the httpx API `query_miner` takes and
moves the HTTP work to aiohttp. Errors are mapped onto httpx's exception classes so callers see
the same kinds either way.

Nothing is inflated here (``auto_decompress=False``): the body is handed on as the bytes the peer
sent, Content-Encoding header and all, so the caller's raw byte cap (``aiter_raw``) is the cap
on memory. Response headers are bounded too (64 fields of at most 8 KiB), since aiohttp would
otherwise accept tens of thousands of them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import httpx

# Set by aiohttp itself from the URL and the body.
_HOP = frozenset({"host", "content-length", "transfer-encoding", "connection"})
MAX_RESPONSE_HEADERS = 64
MAX_HEADER_BYTES = 8190  # per line and per field, aiohttp's own default


class _AiohttpStream(httpx.AsyncByteStream):
    def __init__(self, response: aiohttp.ClientResponse, request: httpx.Request) -> None:
        self._response = response
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            # One piece per HTTP chunk (or per buffered read), not 64 KiB coalesced: the caller
            # counts pieces, so a body of one-byte chunks is cut off after a few thousand of
            # them instead of costing a parser call per byte until the deadline.
            async for chunk, _ in self._response.content.iter_chunks():
                if chunk:
                    yield chunk
        except TimeoutError as error:
            raise httpx.ReadTimeout(str(error) or "read timed out", request=self._request) from None
        except aiohttp.ClientError as error:
            raise httpx.ReadError(str(error), request=self._request) from None

    async def aclose(self) -> None:
        if self._response.content.at_eof():
            self._response.release()  # read to the end: the connection can be reused
        else:
            self._response.close()  # abandoned mid-body (cap, deadline): never drain it


class AiohttpTransport(httpx.AsyncBaseTransport):
    """One aiohttp session (created lazily, on the running loop) behind an httpx client."""

    def __init__(self, *, limit: int = 256, limit_per_host: int = 0) -> None:
        self._limit = limit
        self._limit_per_host = limit_per_host
        self._session: aiohttp.ClientSession | None = None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._limit, limit_per_host=self._limit_per_host)
            # No automatic decompression: the caller's size cap must apply to the bytes sent.
            self._session = aiohttp.ClientSession(
                connector=connector,
                auto_decompress=False,
                max_headers=MAX_RESPONSE_HEADERS,
                max_line_size=MAX_HEADER_BYTES,
                max_field_size=MAX_HEADER_BYTES,
            )
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeouts = request.extensions.get("timeout", {})
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=timeouts.get("connect"),
            sock_read=timeouts.get("read"),
        )
        try:
            response = await self._get_session().request(
                request.method,
                str(request.url),
                headers=[(k, v) for k, v in request.headers.multi_items() if k.lower() not in _HOP],
                data=await request.aread(),
                allow_redirects=False,
                timeout=timeout,
            )
        except TimeoutError as error:
            raise httpx.ConnectTimeout(str(error) or "timed out", request=request) from None
        except aiohttp.ClientConnectionError as error:
            raise httpx.ConnectError(str(error), request=request) from None
        except aiohttp.ClientError as error:
            raise httpx.TransportError(str(error), request=request) from None
        return httpx.Response(
            status_code=response.status,
            headers=list(response.raw_headers),
            stream=_AiohttpStream(response, request),
            request=request,
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
