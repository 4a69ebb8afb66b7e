"""`query_miner` against real loopback servers: the real miner, and a rogue one that answers
with crafted bodies and signatures, so each error kind is produced by a real HTTP exchange."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import httpx
import pytest
import uvicorn
from bittensor import http_auth
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mycel_subnet.miner.metagraph_cache import MetagraphCache
from mycel_subnet.transport.aiohttp_transport import AiohttpTransport
from mycel_subnet.transport.client import QueryErrorKind, query_miner
from mycel_subnet.transport.response_signing import sign_response
from protocol import ClaySynapseResponse, InferenceResult
from protocol.synapse import ROUTES, RequestType
from tests.miner.harness import free_socket, inference, make_hotkey, running_miner, snapshot_with


@pytest.fixture(scope="module")
def wallets(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("w")
    return {name: make_hotkey(tmp, name) for name in ("miner", "validator", "impostor")}


@pytest.fixture
def miner(wallets):
    snap = snapshot_with([(wallets["validator"].hotkey.ss58_address, 10.0, True)])
    cache = MetagraphCache(lambda: snap, refresh_s=3600, initial=snap)
    with running_miner(wallets["miner"], cache=cache) as m:
        yield m


@pytest.fixture(params=["httpx", "aiohttp"])
def kind(request):
    """Every case runs over httpx's own pool and over the aiohttp transport."""
    return request.param


def _query(url, wallets, synapse, kind, *, timeout_s=5.0, max_bytes=1 << 20, miner_key="miner"):
    async def go():
        transport = AiohttpTransport() if kind == "aiohttp" else None
        async with httpx.AsyncClient(transport=transport) as http:
            return await query_miner(
                http,
                wallets["validator"],
                wallets[miner_key].hotkey.ss58_address,
                url,
                synapse,
                timeout_s,
                max_bytes,
            )

    return asyncio.run(go())


def test_ok_outcome_carries_the_verified_answer_and_its_proof(wallets, miner, kind):
    synapse = inference("proof")
    out = _query(miner.url, wallets, synapse, kind)
    assert out.ok and out.error is None and out.status_code == 200
    assert out.response.result.response == "echo: proof"
    assert out.latency_s > 0 and out.request_nonce_ns > 0
    assert ClaySynapseResponse.model_validate_json(out.body) == out.response
    assert out.signature_headers  # kept so the answer can be proven later


def test_timeout_kind(wallets, miner, kind):
    out = _query(miner.url, wallets, inference("sleep:2", deadline_s=10), kind, timeout_s=0.4)
    assert out.error is QueryErrorKind.TIMEOUT and 0.3 < out.latency_s < 1.5


def test_unreachable_kind(wallets, kind):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    out = _query(f"http://127.0.0.1:{port}", wallets, inference(), kind)
    assert out.error is QueryErrorKind.UNREACHABLE and not out.ok


def test_http_error_kind_reports_the_refusal(wallets, miner, kind):
    out = _query(miner.url, wallets, inference(), kind, miner_key="impostor")  # wrong receiver
    assert out.error is QueryErrorKind.HTTP_ERROR and out.status_code == 401
    assert "wrong_receiver" in out.detail


def test_oversized_kind(wallets, miner, kind):
    out = _query(miner.url, wallets, inference("x" * 2000), kind, max_bytes=1024)
    assert out.error is QueryErrorKind.OVERSIZED


class RogueMiner:
    """A loopback server answering every route with whatever ``mode`` says."""

    def __init__(self, wallets) -> None:
        self.wallets = wallets
        self.mode = "unsigned"

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        from protocol import ClaySynapse

        synapse = ClaySynapse.model_validate_json(body)
        nonce = int(request.headers[http_auth.HEADER_NONCE])
        validator = request.headers[http_auth.HEADER_HOTKEY]
        good = ClaySynapseResponse(
            request_id=synapse.request_id, result=InferenceResult(response="rogue")
        ).model_dump_json()
        payload, signer, sign_nonce = good.encode(), "miner", nonce
        if self.mode == "impostor":
            signer = "impostor"
        elif self.mode == "other_nonce":
            sign_nonce = nonce - 1
        elif self.mode == "garbage":
            payload = b'{"status": "ok"}'
        elif self.mode == "other_request":
            payload = good.replace(synapse.request_id, "0" * 32).encode()
        headers = sign_response(
            self.wallets[signer].hotkey,
            path=request.url.path,
            body=payload,
            request_nonce_ns=sign_nonce,
            validator_ss58=validator,
        )
        if self.mode == "unsigned":
            headers = {}
        if self.mode == "tampered":
            payload = payload.replace(b"rogue", b"roguE")
        return Response(payload, media_type="application/json", headers=headers)


@pytest.fixture
def rogue(wallets):
    r = RogueMiner(wallets)
    app = Starlette(routes=[Route(ROUTES[RequestType.INFERENCE], r.handle, methods=["POST"])])
    sock = free_socket()
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])))
    thread.start()
    while not server.started:
        time.sleep(0.01)
    r.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    yield r
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("unsigned", QueryErrorKind.BAD_SIGNATURE),
        ("impostor", QueryErrorKind.BAD_SIGNATURE),
        ("other_nonce", QueryErrorKind.BAD_SIGNATURE),
        ("tampered", QueryErrorKind.BAD_SIGNATURE),
        ("garbage", QueryErrorKind.MALFORMED),
        ("other_request", QueryErrorKind.MALFORMED),
        ("honest", None),
    ],
)
def test_response_checks(wallets, rogue, mode, expected, kind):
    rogue.mode = mode
    out = _query(rogue.url, wallets, inference(), kind)
    assert out.error is expected, out.detail
    assert out.ok is (expected is None)
