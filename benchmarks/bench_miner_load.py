"""One miner under a connection flood and slow clients, while a real validator queries it.

Three processes beside this one, so no side shares an event loop with another:

- the miner: the real app and the entry point's server config (connection caps, read
  deadlines, byte budget; mycel_subnet.miner.http_server) with the miner's default limits and a
  no-op engine, on 127.0.0.1;
- the attacker: ``--load`` keep-alive connections replaying a request signed by an unregistered
  hotkey as fast as answers come back (each costs the miner a signature check unless the per-IP
  limit refuses it first), plus ``--slow`` slow-loris clients sending a request head one byte
  per second and reconnecting when cut off; all from ``--addresses`` loopback addresses
  127.0.0.2, 127.0.0.3, ...;
- the validator: a permitted hotkey from 127.0.0.1 sending fresh signed requests one after the
  other (``--rate`` per second) and verifying each signed answer.

Prints: the attacker's statuses and every outcome beyond 401/403/429/503 and connection
refusals, what the slow clients got, the validator's p50/p99 latency and failures, the miner's
RSS (start, peak, end) and its connection counters. Both sides share this machine's cores.

    .venv/bin/python benchmarks/bench_miner_load.py [--seconds 30] [--load 500] [--slow 200]
        [--addresses 10] [--max-connections 512] [--per-ip 64]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

ROUTE = "/v1/clay/inference"


def _wallet(root: Path, name: str):
    import bittensor as bt

    wallet = bt.Wallet(name, "hot", str(root))
    if not wallet.hotkey_file.exists_on_device():
        wallet.create_new_hotkey(use_password=False, suppress=True, overwrite=True)
    return wallet


def _body(query: str) -> bytes:
    from protocol import ClaySynapse, InferenceRequest

    return (
        ClaySynapse(deadline_s=10, request=InferenceRequest(query=query)).model_dump_json().encode()
    )


# -- the miner ------------------------------------------------------------------------------------
def serve(args: argparse.Namespace) -> None:
    import logging

    import uvicorn

    from mycel_subnet.chain.types import MetagraphSnapshot, NeuronInfo
    from mycel_subnet.config import MinerSettings
    from mycel_subnet.miner.app import build_app
    from mycel_subnet.miner.http_server import server_config
    from mycel_subnet.miner.limits import ServiceLimits
    from mycel_subnet.miner.metagraph_cache import MetagraphCache
    from mycel_subnet.transport.policy import CallerPolicy
    from protocol import (
        EvaluatePatternResult,
        EvaluationResult,
        GeneratePatternResult,
        InferenceResult,
    )

    class NoopEngine:
        name = "noop"

        def inference(self, request):
            return InferenceResult(response="ok")

        def evaluate_pattern(self, request):
            return EvaluatePatternResult(
                evaluation_result=EvaluationResult(relevance=0, quality=0, safety=0)
            )

        def generate_pattern(self, request):
            return GeneratePatternResult(generated_pattern=None, refusal_reason="noop")

    logging.basicConfig(level=logging.WARNING)
    miner, validator = _wallet(args.wallets, "miner"), _wallet(args.wallets, "validator")
    snap = MetagraphSnapshot(
        netuid=1,
        block=1,
        neurons=(
            NeuronInfo(
                uid=0,
                hotkey=miner.hotkey.ss58_address,
                coldkey="",
                stake=0.0,
                validator_permit=False,
            ),
            NeuronInfo(
                uid=1,
                hotkey=validator.hotkey.ss58_address,
                coldkey="",
                stake=100.0,
                validator_permit=True,
            ),
        ),
    )
    settings = MinerSettings(
        max_connections=args.max_connections, max_connections_per_ip=args.per_ip
    )
    limits = ServiceLimits.from_settings(settings)
    app = build_app(
        wallet=miner,
        engine=NoopEngine(),
        metagraph=MetagraphCache(lambda: snap, refresh_s=3600, initial=snap),
        policy=CallerPolicy(min_stake=1.0),
        limits=limits,
    )
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    config = server_config(app, limits, app.state.service.metrics, log_level="warning")
    uvicorn.Server(config).run(sockets=[sock])


# -- the attacker ---------------------------------------------------------------------------------
async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 20)
    status = int(head.split(b" ", 2)[1])
    match = re.search(rb"(?i)content-length:\s*(\d+)", head)
    if match:
        await asyncio.wait_for(reader.readexactly(int(match.group(1))), 20)
    return status, re.search(rb"(?i)connection:\s*close", head) is not None


async def _load_client(port: int, src: str, request: list[bytes], stats: Counter, stop) -> None:
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(src, 0))
        except OSError as error:
            stats[f"connect failed: {error.strerror or error}"] += 1
            await asyncio.sleep(0.1)
            continue
        try:
            while not stop.is_set():
                writer.write(request[0])
                await writer.drain()
                status, close = await _read_response(reader)
                stats[str(status)] += 1
                if close:
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            stats["closed by the miner"] += 1
        except TimeoutError:
            stats["no answer in 20 s"] += 1
        finally:
            writer.close()
        await asyncio.sleep(0.05)  # a refused client comes back, not in a busy loop


async def _slow_client(port: int, src: str, stats: Counter, lives: list[float], stop) -> None:
    head = f"POST {ROUTE} HTTP/1.1\r\nHost: miner\r\nX-Pad: {'a' * 200}\r\n\r\n".encode()
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(src, 0))
        except OSError:
            stats["connect failed"] += 1
            await asyncio.sleep(0.5)
            continue
        opened = time.monotonic()
        try:
            for i in range(len(head)):
                writer.write(head[i : i + 1])
                try:
                    data = await asyncio.wait_for(reader.read(4096), 1.0)
                except TimeoutError:
                    continue  # still open: next byte
                stats["503 refused" if data.startswith(b"HTTP/1.1 503") else "cut off"] += 1
                break
            else:
                stats["sent a whole head"] += 1
        except ConnectionError:
            stats["cut off"] += 1
        finally:
            lives.append(time.monotonic() - opened)
            writer.close()
        await asyncio.sleep(0.1)


async def _attack(args: argparse.Namespace) -> dict:
    from bittensor import http_auth

    stranger, miner = _wallet(args.wallets, "stranger"), _wallet(args.wallets, "miner")
    body = _body("flood")
    request: list[bytes] = [b""]

    def resign() -> None:  # one signature replayed: the miner checks it every time
        headers = http_auth.sign(
            stranger.hotkey,
            method="POST",
            path=ROUTE,
            body=body,
            receiver_ss58=miner.hotkey.ss58_address,
        )
        lines = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        request[0] = (
            f"POST {ROUTE} HTTP/1.1\r\nHost: miner\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n{lines}\r\n"
        ).encode() + body

    resign()
    stop = asyncio.Event()
    load, slow, lives = Counter(), Counter(), []
    sources = [f"127.0.0.{2 + i}" for i in range(args.addresses)]
    tasks = [
        asyncio.create_task(_load_client(args.port, sources[i % len(sources)], request, load, stop))
        for i in range(args.load)
    ] + [
        asyncio.create_task(_slow_client(args.port, sources[i % len(sources)], slow, lives, stop))
        for i in range(args.slow)
    ]
    ends = time.monotonic() + args.seconds
    while time.monotonic() < ends:
        await asyncio.sleep(min(5.0, max(0.0, ends - time.monotonic())))
        resign()
    stop.set()
    if tasks:
        await asyncio.wait(tasks, timeout=25)
    for task in tasks:
        task.cancel()
    return {"load": dict(load), "slow": dict(slow), "slow_lives": lives}


def attack(args: argparse.Namespace) -> None:
    print(json.dumps(asyncio.run(_attack(args))))


# -- the validator --------------------------------------------------------------------------------
def validate(args: argparse.Namespace) -> None:
    import httpx
    from bittensor import http_auth

    from mycel_subnet.transport.response_signing import verify_response

    validator, miner = _wallet(args.wallets, "validator"), _wallet(args.wallets, "miner")
    url = f"http://127.0.0.1:{args.port}{ROUTE}"
    latencies: list[float] = []
    failures: Counter = Counter()
    ends = time.monotonic() + args.seconds
    with httpx.Client(timeout=10) as client:
        while time.monotonic() < ends:
            started = time.monotonic()
            body = _body("validator")
            headers = http_auth.sign(
                validator.hotkey,
                method="POST",
                path=ROUTE,
                body=body,
                receiver_ss58=miner.hotkey.ss58_address,
            )
            headers["Content-Type"] = "application/json"
            try:
                resp = client.post(url, content=body, headers=headers)
                if resp.status_code == 200:
                    verify_response(
                        resp.headers,
                        resp.content,
                        path=ROUTE,
                        request_nonce_ns=int(headers["X-Bittensor-Nonce"]),
                        miner_ss58=miner.hotkey.ss58_address,
                        validator_ss58=validator.hotkey.ss58_address,
                    )
                    latencies.append(time.monotonic() - started)
                else:
                    failures[str(resp.status_code)] += 1
            except Exception as error:  # every failure is a figure here
                failures[type(error).__name__] += 1
            time.sleep(max(0.0, 1.0 / args.rate - (time.monotonic() - started)))
    print(json.dumps({"latencies": latencies, "failures": dict(failures)}))


# -- the run --------------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def run(args: argparse.Namespace) -> None:
    import httpx
    import psutil

    tmp = Path(tempfile.mkdtemp(prefix="mycel-load-"))
    for name in ("miner", "validator", "stranger"):
        _wallet(tmp, name)
    port = _free_port()
    common = ["--wallets", str(tmp), "--port", str(port), "--seconds", str(args.seconds)]
    me = [sys.executable, __file__]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    server = subprocess.Popen(
        [*me, "--role", "serve", *common, "--max-connections", str(args.max_connections),
         "--per-ip", str(args.per_ip)],
        env=env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and server.poll() is None:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        if server.poll() is not None:
            raise SystemExit(f"bench_miner_load: the miner exited with {server.returncode}")
        proc = psutil.Process(server.pid)
        rss = [proc.memory_info().rss]
        attacker = subprocess.Popen(
            [*me, "--role", "attack", *common, "--load", str(args.load), "--slow",
             str(args.slow), "--addresses", str(args.addresses)],
            env=env, stdout=(tmp / "attack.json").open("w"),
        )  # fmt: skip
        time.sleep(min(2.0, args.seconds / 5))  # the flood is up before the validator starts
        validator = subprocess.Popen(
            [*me, "--role", "validate", *common, "--rate", str(args.rate)],
            env=env, stdout=(tmp / "validate.json").open("w"),
        )  # fmt: skip
        while validator.poll() is None or attacker.poll() is None:
            rss.append(proc.memory_info().rss)
            time.sleep(0.5)
        attack_out = json.loads((tmp / "attack.json").read_text() or "{}")
        valid_out = json.loads((tmp / "validate.json").read_text() or "{}")
        scrape = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        rss.append(proc.memory_info().rss)
    finally:
        server.terminate()
        server.wait(timeout=30)

    load = Counter(attack_out.get("load", {}))
    expected = {"401", "403", "429", "503", "closed by the miner"}
    beyond = {k: v for k, v in load.items() if k not in expected}
    lat = [x * 1000 for x in valid_out.get("latencies", [])]
    lives = attack_out.get("slow_lives", [])
    counters = dict(
        re.findall(r'mycel_miner_connections_closed_total\{reason="(\w+)"\} (\S+)', scrape)
    )
    mb = 1024 * 1024
    print(
        f"load: {args.load} connections + {args.slow} slow clients from {args.addresses} "
        f"addresses for {args.seconds:g}s; miner max_connections={args.max_connections}, "
        f"per_ip={args.per_ip}"
    )
    print(f"attacker answers: {dict(sorted(load.items()))}")
    print(f"errors beyond 429/503: {sum(beyond.values())} {beyond if beyond else ''}".rstrip())
    print(
        f"slow clients: {dict(attack_out.get('slow', {}))}, connection life p50 "
        f"{_pct(lives, 50):.1f}s max {max(lives, default=0):.1f}s"
    )
    failures = valid_out.get("failures", {})
    print(
        f"validator: {len(lat)} ok, {sum(failures.values())} failed {failures or ''}; "
        f"latency p50 {_pct(lat, 50):.1f} ms, p99 {_pct(lat, 99):.1f} ms"
    )
    print(f"miner RSS: start {rss[0] / mb:.0f} MB, peak {max(rss) / mb:.0f} MB, "
          f"end {rss[-1] / mb:.0f} MB")  # fmt: skip
    print(f"miner connection closes: {counters}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--role", choices=["run", "serve", "attack", "validate"], default="run")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--load", type=int, default=500, help="flooding connections")
    parser.add_argument("--slow", type=int, default=200, help="slow-loris clients")
    parser.add_argument("--addresses", type=int, default=10, help="attacker source addresses")
    parser.add_argument("--rate", type=float, default=5.0, help="validator requests per second")
    parser.add_argument("--max-connections", type=int, default=512)
    parser.add_argument("--per-ip", type=int, default=64)
    parser.add_argument("--wallets", type=Path)
    parser.add_argument("--port", type=int)
    args = parser.parse_args()
    {"run": run, "serve": serve, "attack": attack, "validate": validate}[args.role](args)


if __name__ == "__main__":
    main()
