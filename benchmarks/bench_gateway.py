"""The organic gateway's latency at 16 concurrent callers on loopback: p50 / p99 per route.

Three processes, so no two sides share an event loop or a GIL:

- miners: ``--miners`` real miner services (build_app, the miners' server config) with
  deterministic honest engines and searchers (no model: what is measured is the gateway path);
- gateway: the real gateway (GatewayServer, API-key auth, per-caller limits, routing by score
  to ``--fanout`` miners, signed queries with verified signed answers, answer choice, registry
  checks on a local NEAR ledger) with limits opened wide so nothing is refused;
- callers: ``--concurrency`` API-key callers (aiohttp) as fast as answers come back.

Prints, per route: requests, req/s, p50, p99 and mean latency, and any non-200 status. Every
side shares this machine's cores (2 on the project's machines), so the figures are a floor.

    .venv/bin/python benchmarks/bench_gateway.py [--seconds 10] [--concurrency 16]
        [--miners 3] [--fanout 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from bench_miner_load import _wallet  # noqa: E402  (this folder is on the path: a script)

QUERY = "split a restaurant bill between friends rounding each share up"


def _wait_file(path: Path, proc: subprocess.Popen, limit_s: float = 90.0) -> dict:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if path.exists():
            return json.loads(path.read_text())
        if proc.poll() is not None:
            raise SystemExit(f"bench_gateway: a helper process exited with {proc.returncode}")
        time.sleep(0.1)
    raise SystemExit(f"bench_gateway: {path.name} did not appear within {limit_s:g}s")


def serve_miners(root: Path, count: int) -> None:
    """Role: the miners, each in its own thread and event loop, until stdin closes."""
    import uvicorn

    from mycel_subnet.miner.app import build_app
    from mycel_subnet.miner.http_server import server_config
    from mycel_subnet.miner.limits import ServiceLimits
    from mycel_subnet.transport.policy import CallerPolicy
    from tests.gateway.harness import HonestEngine, HonestSearcher
    from tests.miner.harness import free_socket
    from tests.validator.servers import StaticGraph

    validator = _wallet(root, "validator").hotkey.ss58_address
    limits = ServiceLimits(rate_limit_per_ip=1e6, rate_limit_per_hotkey=1e6, max_in_flight=32)
    ports = {}
    servers = []
    for i in range(count):
        wallet = _wallet(root, f"miner{i}")
        app = build_app(
            wallet=wallet,
            engine=HonestEngine(),
            metagraph=StaticGraph(validator),
            policy=CallerPolicy(allow=[validator]),
            limits=limits,
            searcher=HonestSearcher(),
        )
        sock = free_socket()
        server = uvicorn.Server(server_config(app, limits, app.state.service.metrics))
        threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
        while not server.started:
            time.sleep(0.01)
        ports[wallet.hotkey.ss58_address] = sock.getsockname()[1]
        servers.append(server)
    (root / "miners.json").write_text(json.dumps(ports))
    sys.stdin.read()


def serve_gateway(root: Path, fanout: int) -> None:
    """Role: the gateway over the miners in miners.json, until stdin closes."""
    from mycel_subnet.chain.types import MetagraphSnapshot, NeuronInfo
    from mycel_subnet.config import GatewaySettings
    from mycel_subnet.gateway.registry import CachedRegistryView
    from mycel_subnet.gateway.runtime import build_gateway
    from mycel_subnet.near.client import LocalRegistryClient
    from mycel_subnet.near.ledger import ONE_NEAR, LocalLedger
    from tests.gateway.harness import CREATOR, OWNER, register_catalogue

    validator = _wallet(root, "validator")
    ports = json.loads((root / "miners.json").read_text())
    neurons = [
        NeuronInfo(
            uid=0,
            hotkey=validator.hotkey.ss58_address,
            coldkey="v",
            stake=1e3,
            validator_permit=True,
        )
    ]
    for uid, (hotkey, port) in enumerate(ports.items(), start=1):
        neurons.append(
            NeuronInfo(
                uid=uid,
                hotkey=hotkey,
                coldkey="m",
                stake=1.0,
                validator_permit=False,
                axon_ip="127.0.0.1",
                axon_port=port,
            )
        )
    graph = MetagraphSnapshot(netuid=1, block=1, neurons=tuple(neurons))
    scores = {hotkey: 0.5 for hotkey in ports}
    ledger = LocalLedger(root / "ledger.db")
    ledger.ensure_mycel_contracts(OWNER)
    ledger.create_account(CREATOR, 10 * ONE_NEAR)
    register_catalogue(ledger)
    settings = GatewaySettings(
        rate_limit_per_caller=1e6,
        burst_per_caller=1e6,
        rate_limit_per_ip=1e6,
        miner_rate=1e6,
        fanout=fanout,
        max_in_flight=4096,
        keys_file=root / "keys.sqlite",
    )
    gateway = build_gateway(
        settings,
        wallet=validator,
        graph=lambda: graph,
        scores=lambda: scores,
        state_dir=root,
        registry=CachedRegistryView(LocalRegistryClient(ledger, "gateway.mycel.test")),
        timeout_s=10.0,
        port=0,
    )
    key = gateway.keys.issue("bench").key

    async def main() -> None:
        await gateway.start()
        (root / "gateway.json").write_text(json.dumps({"url": gateway.server.url, "key": key}))
        await asyncio.to_thread(sys.stdin.read)
        await gateway.stop()

    asyncio.run(main())


async def _load(url: str, key: str, route: str, body: dict, concurrency: int, seconds: float):
    import aiohttp

    latencies: list[float] = []
    statuses: Counter = Counter()
    headers = {"Authorization": f"Bearer {key}"}
    stop = time.perf_counter() + seconds
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as http:

        async def worker() -> None:
            while time.perf_counter() < stop:
                start = time.perf_counter()
                async with http.post(url + route, json=body, headers=headers) as resp:
                    await resp.read()
                    statuses[resp.status] += 1
                    if resp.status == 200:
                        latencies.append(time.perf_counter() - start)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    latencies.sort()

    def pick(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

    ok = bool(latencies)
    return {
        "n": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50": pick(0.5) if ok else float("nan"),
        "p99": pick(0.99) if ok else float("nan"),
        "mean": statistics.fmean(latencies) * 1000 if ok else float("nan"),
        "other": {s: n for s, n in statuses.items() if s != 200},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per route")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--miners", type=int, default=3)
    parser.add_argument("--fanout", type=int, default=3)
    parser.add_argument("--role", choices=["miners", "gateway"], help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role == "miners":
        return serve_miners(args.root, args.miners)
    if args.role == "gateway":
        return serve_gateway(args.root, args.fanout)

    root = Path(tempfile.mkdtemp(prefix="mycel-bench-gateway-"))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    me = [sys.executable, str(Path(__file__).resolve()), "--root", str(root)]
    _wallet(root, "validator")
    miners = subprocess.Popen(
        [*me, "--role", "miners", "--miners", str(args.miners)], stdin=subprocess.PIPE, env=env
    )
    gateway = None
    try:
        _wait_file(root / "miners.json", miners)
        gateway = subprocess.Popen(
            [*me, "--role", "gateway", "--fanout", str(args.fanout)], stdin=subprocess.PIPE, env=env
        )
        where = _wait_file(root / "gateway.json", gateway)
        print(
            f"gateway on loopback: {args.concurrency} API-key callers, {args.miners} miners, "
            f"fanout {args.fanout}, {args.seconds:g}s per route"
        )
        print(
            f"{'route':>16} {'n':>7} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8}  "
            "non-200"
        )
        routes = [
            ("inference", "/v1/gateway/inference", {"query": QUERY}),
            ("search_patterns", "/v1/gateway/search_patterns", {"query": QUERY, "k": 5}),
        ]
        for name, route, body in routes:
            asyncio.run(_load(where["url"], where["key"], route, body, 2, 1.0))  # warm up
            r = asyncio.run(
                _load(where["url"], where["key"], route, body, args.concurrency, args.seconds)
            )
            print(
                f"{name:>16} {r['n']:>7} {r['rps']:>8.1f} {r['p50']:>8.2f} {r['p99']:>8.2f} "
                f"{r['mean']:>8.2f}  {r['other'] or '-'}"
            )
    finally:
        for proc in (gateway, miners):
            if proc is not None:
                proc.stdin.close()
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()


if __name__ == "__main__":
    main()
