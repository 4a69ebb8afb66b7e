"""The miner's HTTP server: uvicorn's h11 protocol with the deadlines and caps h11 lacks.

uvicorn arms a timer only after a response (keep-alive) and h11 has no read deadline, so a client
that sends a byte a second, or opens a connection and says nothing, holds a file descriptor for
as long as it likes. The ASGI app cannot help: it first sees a request once its headers are
parsed. So the guard sits one layer down, in a subclass of uvicorn's ``H11Protocol``:

- a connection cap (total and per peer address; IPv6 peers count per /64) refused in
  ``connection_made`` with a canned 503 and a close: no parsing, no task, no signature check.
  When the total is reached, a newcomer from an address that holds fewer connections than the
  busiest address evicts that address's oldest connection not in the middle of a request, so
  many connections from a few addresses cannot lock out a validator that holds one or two;
- an idle deadline (no byte after connect), a header deadline (request head complete within
  ``header_timeout_s`` of its first byte, however slowly bytes trickle in) and a body deadline
  (whole body within ``body_timeout_s`` of the head); on expiry the connection is closed;
- a byte budget per connection: past it the connection is closed, and a request that could
  not fit in what is left is answered with ``Connection: close``.

Proxy headers are trusted only from ``forwarded_allow_ips`` (none by default), websockets are off.
The peer address counted here is always the socket's, never a header.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.utils import get_remote_addr

from mycel_subnet.miner.limits import ServiceLimits
from mycel_subnet.miner.metrics import MinerMetrics

log = logging.getLogger("mycel.miner.http")

MAX_HEADER_BYTES = 16 * 1024  # request line plus headers; h11 refuses a larger head with 400

_BUSY_BODY = json.dumps({"error": "busy", "detail": "too many connections"}).encode()
REFUSAL = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\n"
    b"connection: close\r\ncontent-length: %d\r\n\r\n%s" % (len(_BUSY_BODY), _BUSY_BODY)
)


def peer_key(host: str) -> str:
    """The address a connection counts against: the host, or its /64 for IPv6."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


class ConnectionTable:
    """Open connections by peer address, oldest first, for the caps and for eviction."""

    def __init__(self) -> None:
        self.by_peer: dict[str, dict[Any, None]] = {}
        self.total = 0

    def count(self, peer: str) -> int:
        return len(self.by_peer.get(peer, ()))

    def add(self, peer: str, conn: Any) -> None:
        self.by_peer.setdefault(peer, {})[conn] = None
        self.total += 1

    def remove(self, peer: str, conn: Any) -> bool:
        conns = self.by_peer.get(peer)
        if conns is None or conn not in conns:
            return False
        del conns[conn]
        if not conns:
            del self.by_peer[peer]
        self.total -= 1
        return True

    def victim(self, newcomer: str) -> tuple[str, Any] | None:
        """The busiest address's oldest idle connection, if that address holds at least two
        more connections than the newcomer's."""
        if not self.by_peer:
            return None
        peer, conns = max(self.by_peer.items(), key=lambda item: len(item[1]))
        if len(conns) < self.count(newcomer) + 2:
            return None
        for conn in conns:
            if conn.between_requests():
                return peer, conn
        return None


def guarded_protocol(limits: ServiceLimits, metrics: MinerMetrics | None = None) -> type:
    """An ``H11Protocol`` subclass bound to these limits, with its own connection table."""
    table = ConnectionTable()

    def closed(reason: str) -> None:
        if metrics is not None:
            metrics.connections_closed.labels(reason).inc()

    class GuardedH11Protocol(H11Protocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._peer: str | None = None
            self._refused = False
            self._received = 0
            self._timer: asyncio.TimerHandle | None = None
            self._timer_kind = ""
            self._cycle_seen: Any = None

        # -- connection lifetime ------------------------------------------------------------
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            remote = get_remote_addr(transport)
            peer = peer_key(remote[0]) if remote else "unknown"
            admit = table.count(peer) < limits.max_connections_per_ip
            if admit and table.total >= limits.max_connections:
                victim = table.victim(peer)
                admit = victim is not None
                if victim is not None:
                    victim[1]._evict()
            if not admit:
                self._refused = True
                closed("refused")
                transport.write(REFUSAL)
                transport.close()
                return
            self._peer = peer
            table.add(peer, self)
            if metrics is not None:
                metrics.open_connections.inc()
            super().connection_made(transport)
            self._arm("idle", limits.idle_timeout_s)

        def connection_lost(self, exc: Exception | None) -> None:
            if self._refused:
                return
            self._disarm()
            self._forget()
            super().connection_lost(exc)

        def _forget(self) -> None:
            removed = self._peer is not None and table.remove(self._peer, self)
            if removed and metrics is not None:
                metrics.open_connections.dec()

        def between_requests(self) -> bool:
            """No request is being answered: closing loses nobody an answer."""
            return self.cycle is None or self.cycle.response_complete

        def _evict(self) -> None:
            self._forget()  # its place goes to the newcomer now, before the close completes
            self._close("evicted")

        def data_received(self, data: bytes) -> None:
            if self._refused or self.transport.is_closing():
                return
            self._received += len(data)
            if self._received > limits.max_connection_bytes:
                self._close("byte_budget")
                return
            if self.conn.their_state is h11.IDLE and self._timer_kind in ("", "idle"):
                self._arm("header", limits.header_timeout_s)  # a new request head starts
            super().data_received(data)
            self._track()

        def on_response_complete(self) -> None:
            super().on_response_complete()  # may parse a pipelined request
            self._track()

        # -- deadlines ------------------------------------------------------------------------
        def _track(self) -> None:
            """Move the deadline along with the request: head parsed, then body complete."""
            cycle = self.cycle
            if cycle is not None and cycle is not self._cycle_seen:
                self._cycle_seen = cycle
                left = limits.max_connection_bytes - self._received
                if left < limits.max_body_bytes + MAX_HEADER_BYTES:
                    cycle.keep_alive = False  # answer this one, then close
                if cycle.more_body:
                    self._arm("body", limits.body_timeout_s)
                else:
                    self._disarm()
            elif cycle is not None and self._timer_kind == "body" and not cycle.more_body:
                self._disarm()

        def _arm(self, kind: str, seconds: float) -> None:
            self._disarm()
            self._timer_kind = kind
            self._timer = self.loop.call_later(seconds, self._expired, kind)

        def _disarm(self) -> None:
            if self._timer is not None:
                self._timer.cancel()
            self._timer, self._timer_kind = None, ""

        def _expired(self, kind: str) -> None:
            self._timer, self._timer_kind = None, ""
            self._close(f"{kind}_timeout")

        def _close(self, reason: str) -> None:
            log.debug("closing connection from %s: %s", self._peer, reason)
            closed(reason)
            self._disarm()
            if not self.transport.is_closing():
                self.transport.close()

        def _unsupported_upgrade_warning(self) -> None:
            log.debug("upgrade request from %s ignored", self._peer)

    return GuardedH11Protocol


def server_config(
    app: Any,
    limits: ServiceLimits,
    metrics: MinerMetrics | None = None,
    **overrides: Any,
) -> uvicorn.Config:
    """The uvicorn config every miner server uses (the entry point and the tests alike)."""
    trusted = list(limits.forwarded_allow_ips)
    options: dict[str, Any] = {
        "http": guarded_protocol(limits, metrics),
        "ws": "none",
        "log_config": None,
        "access_log": False,
        "server_header": False,  # the health route says nothing about the software either
        "date_header": False,
        "proxy_headers": bool(trusted),
        "forwarded_allow_ips": trusted,  # explicit: FORWARDED_ALLOW_IPS in the env is ignored
        "timeout_keep_alive": limits.keep_alive_s,
        "h11_max_incomplete_event_size": MAX_HEADER_BYTES,
        "backlog": max(128, limits.max_connections),
    }
    options.update(overrides)
    return uvicorn.Config(app, **options)
