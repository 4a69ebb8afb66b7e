"""Real miner servers on loopback for the validator tests.

`miner_server` runs the real miner service (mycel_subnet.miner.app.build_app) with a given
engine in a uvicorn thread. `rogue_server` is a tiny signed server that misbehaves on purpose
(garbage, wrong signer, oversized body, hanging), since no honest service would do that.
Nothing is faked on the wire: requests and responses carry real btauth signatures.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from bittensor import http_auth
from fastapi import FastAPI, Request
from starlette.responses import Response

from mycel_subnet.chain.types import MetagraphSnapshot, NeuronInfo
from mycel_subnet.miner.app import build_app
from mycel_subnet.miner.limits import ServiceLimits
from mycel_subnet.transport.policy import CallerPolicy
from mycel_subnet.transport.response_signing import sign_response
from protocol import ClaySynapse, ClaySynapseResponse, InferenceResult


class StaticGraph:
    """The miner's metagraph source: a fixed snapshot holding the validator with a permit."""

    def __init__(self, validator_hotkey: str) -> None:
        neuron = NeuronInfo(uid=0, hotkey=validator_hotkey, coldkey="c", stake=100.0,
                            validator_permit=True)  # fmt: skip
        self._graph = MetagraphSnapshot(netuid=1, block=1, neurons=(neuron,))

    def snapshot(self) -> MetagraphSnapshot:
        return self._graph

    def request_refresh(self) -> bool:
        return False


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def serve(app: Any) -> Iterator[int]:
    """Serve `app` on 127.0.0.1 in a thread; yields the port; stops it on exit."""
    sock = free_socket()
    config = uvicorn.Config(app, log_config=None, access_log=False, timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])))
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.started, "uvicorn did not start"
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


def miner_app(wallet: Any, engine: Any, validator_hotkey: str) -> Any:
    return build_app(
        wallet=wallet,
        engine=engine,
        metagraph=StaticGraph(validator_hotkey),
        policy=CallerPolicy(allow=[validator_hotkey]),
        limits=ServiceLimits(rate_limit_per_ip=10_000, rate_limit_per_hotkey=10_000,
                             max_in_flight=8, auth_max_age_s=30.0),
    )  # fmt: skip


def rogue_app(wallet: Any, behaviour: str, other_wallet: Any | None = None) -> FastAPI:
    """A miner that misbehaves: garbage | wrong_signer | oversized | hang | error500."""
    app = FastAPI()

    async def handle(request: Request) -> Response:
        body = await request.body()
        nonce = int(request.headers[http_auth.HEADER_NONCE])
        caller = request.headers[http_auth.HEADER_HOTKEY]
        synapse = ClaySynapse.model_validate_json(body)
        if behaviour == "hang":
            await asyncio.sleep(60)
        if behaviour == "error500":
            return Response(b'{"error":"internal","detail":"boom"}', status_code=500)
        answer = (
            ClaySynapseResponse(
                request_id=synapse.request_id, result=InferenceResult(response="42")
            )
            .model_dump_json()
            .encode()
        )
        if behaviour == "garbage":
            answer = b"\x00not json at all"
        elif behaviour == "oversized":
            answer = b'{"pad":"' + b"x" * 3_000_000 + b'"}'
        signer = other_wallet if behaviour == "wrong_signer" else wallet
        headers = sign_response(signer.hotkey, path=request.url.path, body=answer,
                                request_nonce_ns=nonce, validator_ss58=caller)  # fmt: skip
        return Response(answer, media_type="application/json", headers=headers)

    from protocol import ROUTES

    for path in ROUTES.values():
        app.add_api_route(path, handle, methods=["POST"])
    return app
