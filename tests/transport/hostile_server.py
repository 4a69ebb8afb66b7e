"""A hostile miner on loopback: a raw asyncio HTTP/1.1 server that answers as `mode` says.

Raw sockets, not a framework, because the point is to send what no framework would: stacked
gzip bombs, endless or one-byte chunks, bodies and headers trickled a byte at a time, lengths
that never arrive, nesting bombs. Answers that should look valid carry a real btauth response
signature from the miner's hotkey, so only the hostile part can be what the validator refuses.
It runs its own event loop in a thread, so its work never shows up on the validator's loop.
"""

from __future__ import annotations

import asyncio
import functools
import gzip
import os
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bittensor import http_auth

from mycel_subnet.transport.response_signing import sign_response
from protocol import ClaySynapse, ClaySynapseResponse, InferenceResult

BOMB_INFLATED_BYTES = 256 << 20


@functools.cache
def stacked_gzip_bomb(inflated: int = BOMB_INFLATED_BYTES) -> bytes:
    """gzip(gzip(zeros)): a few hundred bytes that inflate to ``inflated`` bytes."""
    inner = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: a gzip member
    block = bytes(1 << 20)
    parts = [inner.compress(block) for _ in range(inflated >> 20)]
    parts.append(inner.flush())
    return gzip.compress(b"".join(parts), 9)


@functools.cache
def deflate_bomb(inflated: int = BOMB_INFLATED_BYTES) -> bytes:
    """zlib-wrapped deflate of zeros (HTTP's ``deflate``), about 1/1000 of ``inflated``."""
    packer = zlib.compressobj(9)
    block = bytes(1 << 20)
    return b"".join([packer.compress(block) for _ in range(inflated >> 20)] + [packer.flush()])


class HostileServer:
    """Answers every request according to ``mode`` (see ``_respond``); records request heads."""

    def __init__(self, wallet: Any, mode: str = "honest") -> None:
        self.wallet = wallet
        self.mode = mode
        self.request_headers: list[dict[str, str]] = []
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._bomb = stacked_gzip_bomb()
        self._deflate = deflate_bomb()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- serving ---------------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            path = lines[0].split(" ")[1]
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    key, value = line.split(":", 1)
                    headers[key.strip().lower()] = value.strip()
            self.request_headers.append(headers)
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            await self._respond(writer, path, headers, body)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass  # the validator hung up: exactly what it should do
        except asyncio.CancelledError:
            pass  # the server is stopping
        finally:
            writer.close()

    def _signed(self, path: str, headers: dict[str, str], payload: bytes) -> dict[str, str]:
        return sign_response(
            self.wallet.hotkey,
            path=path,
            body=payload,
            request_nonce_ns=int(headers[http_auth.HEADER_NONCE.lower()]),
            validator_ss58=headers[http_auth.HEADER_HOTKEY.lower()],
        )

    async def _respond(
        self, writer: asyncio.StreamWriter, path: str, headers: dict[str, str], body: bytes
    ) -> None:
        mode = self.mode
        synapse = ClaySynapse.model_validate_json(body)
        good = (
            ClaySynapseResponse(
                request_id=synapse.request_id, result=InferenceResult(response="hostile")
            )
            .model_dump_json()
            .encode()
        )
        status, extra, payload = "200 OK", {}, good
        if mode == "gzip_bomb":
            extra, payload = {"Content-Encoding": "gzip, gzip"}, self._bomb
        elif mode == "deflate":
            extra, payload = {"Content-Encoding": "deflate"}, self._deflate
        elif mode == "br":
            extra, payload = {"Content-Encoding": "br"}, os.urandom(1024)
        elif mode == "identity":
            extra = {"Content-Encoding": "identity"}
        elif mode == "padded":  # valid and signed, 900 KB of it whitespace (the worker-thread path)
            payload = b" " * 900_000 + good
        elif mode == "invalid_json":
            payload = b'{"request_id": "' + synapse.request_id.encode() + b'", "status": ok}'
        elif mode == "nested_json":
            payload = b"[" * 500_000
        elif mode == "nested_refusal":
            status, payload = "400 Bad Request", b'{"error":' * 100_000
        elif mode in ("endless_chunked", "tiny_chunks"):
            return await self._endless(writer, 1 if mode == "tiny_chunks" else 64 * 1024)
        elif mode == "trickle":
            return await self._trickle_body(writer, path, headers, good)
        elif mode == "huge_length":
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000000\r\n\r\n{")
            await writer.drain()
            return await asyncio.sleep(60)
        elif mode == "short_length":
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{" + b" " * 9)
            await writer.drain()
            return await asyncio.sleep(60)
        elif mode == "slow_headers":
            return await self._trickle(writer, b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 600)
        elif mode == "many_headers":
            writer.write(b"HTTP/1.1 200 OK\r\n" + b"X-Junk: 0123456789\r\n" * 200_000)
            await writer.drain()
            return await asyncio.sleep(60)
        elif mode == "hang":
            return await asyncio.sleep(60)
        signed = self._signed(path, headers, payload)
        self._write_head(writer, status, {**signed, **extra, "Content-Length": len(payload)})
        writer.write(payload)
        await writer.drain()

    @staticmethod
    def _write_head(writer: asyncio.StreamWriter, status: str, headers: dict[str, Any]) -> None:
        fields = {"Content-Type": "application/json", "Connection": "close", **headers}
        head = "".join(f"{k}: {v}\r\n" for k, v in fields.items())
        writer.write(f"HTTP/1.1 {status}\r\n{head}\r\n".encode("latin-1"))

    async def _endless(self, writer: asyncio.StreamWriter, size: int) -> None:
        self._write_head(writer, "200 OK", {"Transfer-Encoding": "chunked"})
        chunk = b"%x\r\n%s\r\n" % (size, b"x" * size)
        burst = chunk * max(1, (64 * 1024) // len(chunk))
        while not writer.is_closing():
            writer.write(burst)
            await writer.drain()

    async def _trickle(self, writer: asyncio.StreamWriter, data: bytes) -> None:
        """One byte a second, for as long as the peer keeps the connection."""
        for index in range(len(data)):
            if writer.is_closing():
                return
            writer.write(data[index : index + 1])
            await writer.drain()
            await asyncio.sleep(1.0)

    async def _trickle_body(
        self, writer: asyncio.StreamWriter, path: str, headers: dict[str, str], payload: bytes
    ) -> None:
        signed = self._signed(path, headers, payload)
        self._write_head(writer, "200 OK", {**signed, "Content-Length": len(payload)})
        await writer.drain()
        await self._trickle(writer, payload)

    # -- lifecycle -------------------------------------------------------------------------

    @contextmanager
    def running(self) -> Iterator[HostileServer]:
        started = threading.Event()
        stop: list[asyncio.Event] = []

        async def main() -> None:
            server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
            self.port = server.sockets[0].getsockname()[1]
            stop.append(asyncio.Event())
            started.set()
            await stop[0].wait()
            server.close()
            handlers = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in handlers:
                task.cancel()
            await asyncio.gather(*handlers, return_exceptions=True)
            await server.wait_closed()

        self._loop = asyncio.new_event_loop()
        thread = threading.Thread(target=self._loop.run_until_complete, args=(main(),))
        thread.start()
        assert started.wait(15), "hostile server did not start"
        try:
            yield self
        finally:
            self._loop.call_soon_threadsafe(stop[0].set)
            thread.join(timeout=15)
            self._loop.close()
