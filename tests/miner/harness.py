"""Test helpers: a deterministic engine, real hotkey wallets, and a real uvicorn server thread.

The engine is the only stand-in: the real engines are tested in tests/engines; the transport
only needs something deterministic whose timing the test controls.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bittensor as bt
import httpx
import uvicorn
from bittensor import http_auth

from mycel_subnet.chain.types import MetagraphSnapshot, NeuronInfo
from mycel_subnet.engines.interface import EngineError
from mycel_subnet.miner.app import build_app
from mycel_subnet.miner.http_server import server_config
from mycel_subnet.miner.limits import ServiceLimits
from mycel_subnet.miner.metagraph_cache import MetagraphCache
from mycel_subnet.transport.policy import CallerPolicy
from protocol import (
    ClaySynapse,
    EvaluatePatternResult,
    EvaluationResult,
    GeneratePatternResult,
    InferenceRequest,
    InferenceResult,
)


class ScriptedEngine:
    """Answers by the query text: ``sleep:S`` sleeps S seconds, ``fail`` raises EngineError,
    ``crash`` raises RuntimeError, ``gate`` waits for ``release`` to be set; otherwise echoes."""

    name = "scripted"

    def __init__(self) -> None:
        self.release = threading.Event()
        self.calls = 0
        self.order: list[str] = []
        self._lock = threading.Lock()

    def inference(self, request: InferenceRequest) -> InferenceResult:
        with self._lock:
            self.calls += 1
            self.order.append(request.query)
        query = request.query
        if query.startswith("sleep:"):
            time.sleep(float(query.split(":", 1)[1]))
        elif query == "fail":
            raise EngineError("no model for this query")
        elif query == "crash":
            raise RuntimeError("secret internal state 0xdeadbeef")
        elif query == "gate":
            self.release.wait(30)
        return InferenceResult(response=f"echo: {query}")

    def evaluate_pattern(self, request: Any) -> EvaluatePatternResult:
        score = len(request.test_context.query) % 101
        return EvaluatePatternResult(
            evaluation_result=EvaluationResult(relevance=score, quality=score, safety=100)
        )

    def generate_pattern(self, request: Any) -> GeneratePatternResult:
        return GeneratePatternResult(generated_pattern=None, refusal_reason="scripted: nothing")


def make_hotkey(tmp: Path, name: str) -> bt.Wallet:
    """A real wallet with an unencrypted hotkey (no coldkey needed to sign)."""
    wallet = bt.Wallet(name, "hot", str(tmp))
    wallet.create_new_hotkey(use_password=False, suppress=True, overwrite=True)
    return wallet


def snapshot_with(validators: list[tuple[str, float, bool]], netuid: int = 1) -> MetagraphSnapshot:
    """A metagraph holding (hotkey, stake, permit) neurons; used where no chain state matters."""
    neurons = tuple(
        NeuronInfo(uid=i, hotkey=h, coldkey=h, stake=s, validator_permit=p)
        for i, (h, s, p) in enumerate(validators)
    )
    return MetagraphSnapshot(netuid=netuid, block=1, neurons=neurons)


def inference(query: str = "hello", deadline_s: float = 5.0) -> ClaySynapse:
    return ClaySynapse(deadline_s=deadline_s, request=InferenceRequest(query=query))


def signed(wallet: Any, receiver: str, body: bytes, path: str, **kw: Any) -> dict[str, str]:
    headers = http_auth.sign(
        wallet.hotkey, method="POST", path=path, body=body, receiver_ss58=receiver, **kw
    )
    headers["Content-Type"] = "application/json"
    return headers


@dataclass
class RunningMiner:
    url: str
    wallet: Any
    engine: ScriptedEngine
    cache: MetagraphCache
    app: Any
    server: uvicorn.Server
    thread: threading.Thread
    refreshes: list[float] = field(default_factory=list)

    @property
    def hotkey(self) -> str:
        return self.wallet.hotkey.ss58_address

    def post(self, client: httpx.Client, caller: Any, synapse: ClaySynapse, **kw: Any):
        body = synapse.model_dump_json().encode()
        headers = signed(caller, self.hotkey, body, synapse.route)
        return client.post(self.url + synapse.route, content=body, headers=headers, **kw)


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def running_miner(
    wallet: Any,
    *,
    cache: MetagraphCache,
    policy: CallerPolicy | None = None,
    limits: ServiceLimits | None = None,
    engine: ScriptedEngine | None = None,
    searcher: Any = None,
    federated: Any = None,
) -> Iterator[RunningMiner]:
    """A real uvicorn server on 127.0.0.1 in a thread, stopped (gracefully) on exit; the same
    server config (connection caps, read deadlines) as the miner's entry point."""
    engine = engine or ScriptedEngine()
    limits = limits or ServiceLimits(rate_limit_per_ip=1000, rate_limit_per_hotkey=1000)
    app = build_app(
        wallet=wallet,
        engine=engine,
        metagraph=cache,
        policy=policy or CallerPolicy(min_stake=0.0),
        limits=limits,
        searcher=searcher,
        federated=federated,
    )
    sock = free_socket()
    config = server_config(app, limits, app.state.service.metrics, timeout_graceful_shutdown=30)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])))
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.started, "uvicorn did not start"
    port = sock.getsockname()[1]
    miner = RunningMiner(f"http://127.0.0.1:{port}", wallet, engine, cache, app, server, thread)
    try:
        yield miner
    finally:
        engine.release.set()
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
