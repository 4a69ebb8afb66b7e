"""Serve the gateway with uvicorn inside the validator's own event loop, and stop it cleanly.

uvicorn's `serve()` takes over SIGINT/SIGTERM and re-raises them when it stops; inside the
validator that would fight the validator's own handlers, so this server leaves signals alone and
is stopped by `stop()`. The socket is bound here, so a port in use is a clear error at start.
Proxy headers are trusted only from `forwarded_allow_ips`; keep-alive and header sizes are kept
short. The per-connection read deadlines of the miner's server (mycel_subnet/miner/http_server)
are not used here: the gateway is on loopback by default and the validator never imports the
miner's package.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
from collections.abc import Iterator, Sequence
from typing import Any

import uvicorn

log = logging.getLogger("mycel.gateway")
MAX_HEADER_BYTES = 16 * 1024


class GatewayStartError(OSError):
    """The gateway could not bind or start; the message says why in one line."""


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:  # the host process owns the signals
        yield


def is_loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as error:
        raise GatewayStartError(f"gateway cannot bind {host}:{port}: {error.strerror}") from None
    return sock


class GatewayServer:
    """One uvicorn server for `app` on `host:port` (port 0: any free port; see `port`)."""

    def __init__(
        self,
        app: Any,
        host: str,
        port: int,
        *,
        forwarded_allow_ips: Sequence[str] = (),
        keep_alive_s: float = 5.0,
        max_connections: int = 1024,
    ) -> None:
        self.app = app
        self.host = host
        self.requested_port = port
        self.forwarded_allow_ips = list(forwarded_allow_ips)
        self.keep_alive_s = keep_alive_s
        self.max_connections = max_connections
        self._sock: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task | None = None

    @property
    def port(self) -> int:
        return self._sock.getsockname()[1] if self._sock is not None else self.requested_port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self, timeout_s: float = 10.0) -> None:
        if not is_loopback(self.host):
            log.warning("the gateway listens on %s, reachable from the network: put a TLS proxy "
                        "in front of it, API keys are sent in the clear", self.host)  # fmt: skip
        self._sock = bind(self.host, self.requested_port)
        config = uvicorn.Config(
            self.app, lifespan="off", ws="none", log_config=None, access_log=False,
            server_header=False, date_header=False, proxy_headers=bool(self.forwarded_allow_ips),
            forwarded_allow_ips=self.forwarded_allow_ips, timeout_keep_alive=self.keep_alive_s,
            h11_max_incomplete_event_size=MAX_HEADER_BYTES, limit_concurrency=self.max_connections,
            backlog=max(128, self.max_connections), timeout_graceful_shutdown=5,
        )  # fmt: skip
        self._server = _QuietServer(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[self._sock]))
        deadline = asyncio.get_running_loop().time() + timeout_s
        while not self._server.started:
            if self._task.done():
                error = self._task.exception()
                raise GatewayStartError(f"gateway did not start: {error}")
            if asyncio.get_running_loop().time() > deadline:
                raise GatewayStartError(f"gateway did not start within {timeout_s:g}s")
            await asyncio.sleep(0.01)
        log.info("organic gateway listening on %s", self.url)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(self._task, timeout=10)
        if self._sock is not None:
            self._sock.close()
        self._task = None
        log.info("organic gateway stopped")
