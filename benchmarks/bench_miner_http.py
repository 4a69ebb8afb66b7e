"""Throughput and latency of the miner's HTTP path with a handler that does nothing.

Every request is signed by a validator hotkey (btauth/1), verified by the miner, checked against
the caller policy, rate limits and admission control, answered by a no-op engine, signed by the
miner, and the answer's signature verified by the validator-side client (`query_miner`). The
server runs in its own process (benchmarks/miner_bench_server.py); the load generator is one
asyncio process. Both share this machine's cores, so the figures are a lower bound for a
dedicated miner node.

The default load generator is aiohttp doing exactly what `query_miner` does (sign a fresh nonce,
send, verify the response signature, parse the answer): httpx's AsyncClient itself tops out far
below the miner at high concurrency (about 130 bare GET/s at 64 connections here), so it would
measure the client, not the miner. `--client httpx` measures `query_miner` over httpx's own pool;
`--client transport` measures `query_miner` over `AiohttpTransport` (what a validator should use).

    .venv/bin/python benchmarks/bench_miner_http.py [--seconds 5] [--levels 1,16,64]
        [--compare-bt10]

`--compare-bt10` also measures bittensor 10.5's Axon and Dendrite with a trivial synapse in the
same run (benchmarks/bench_bt10_axon.py) and prints the ratios. It needs bittensor 10.5.0 in its
own virtual environment, benchmarks/.venv-bt10, which it creates with pip on first use (network
access to PyPI; about 100 MB). Nothing else ever installs it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import bittensor as bt
import httpx
from bittensor import http_auth

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mycel_subnet.transport.aiohttp_transport import AiohttpTransport  # noqa: E402
from mycel_subnet.transport.client import query_miner  # noqa: E402
from mycel_subnet.transport.response_signing import verify_response  # noqa: E402
from protocol import ClaySynapse, ClaySynapseResponse, InferenceRequest  # noqa: E402


async def _aiohttp_query(session, wallet, miner_hotkey, url, synapse) -> tuple[bool, float]:
    """What query_miner does, over aiohttp: sign, POST, verify the signature, parse."""
    body = synapse.model_dump_json().encode()
    headers = http_auth.sign(
        wallet.hotkey, method="POST", path=synapse.route, body=body, receiver_ss58=miner_hotkey
    )
    headers["Content-Type"] = "application/json"
    start = time.perf_counter()
    async with session.post(url + synapse.route, data=body, headers=headers) as resp:
        data = await resp.read()
        latency = time.perf_counter() - start
        if resp.status != 200:
            return False, latency
        verify_response(
            resp.headers,
            data,
            path=synapse.route,
            request_nonce_ns=int(headers[http_auth.HEADER_NONCE]),
            miner_ss58=miner_hotkey,
            validator_ss58=wallet.hotkey.ss58_address,
        )
        answer = ClaySynapseResponse.model_validate_json(data)
        return answer.status == "ok" and answer.request_id == synapse.request_id, latency


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wallets(folder: Path, n: int) -> tuple[bt.Wallet, list[bt.Wallet]]:
    def make(name: str) -> bt.Wallet:
        wallet = bt.Wallet(name, "hot", str(folder))
        wallet.create_new_hotkey(use_password=False, suppress=True, overwrite=True)
        return wallet

    return make("miner"), [make(f"v{i}") for i in range(n)]


async def _level(url, miner_hotkey, validators, concurrency, seconds, client):
    latencies: list[float] = []
    errors: dict[str, int] = {}
    stop = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with (
        httpx.AsyncClient(
            limits=limits, transport=AiohttpTransport() if client == "transport" else None
        ) as http,
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session,
    ):

        async def one(wallet) -> None:
            synapse = ClaySynapse(deadline_s=10, request=InferenceRequest(query="ping"))
            if client in ("httpx", "transport"):
                out = await query_miner(http, wallet, miner_hotkey, url, synapse, 10.0, 1 << 20)
                ok, latency, kind = out.ok, out.latency_s, str(out.error)
            else:
                ok, latency = await _aiohttp_query(session, wallet, miner_hotkey, url, synapse)
                kind = "refused"
            if ok:
                latencies.append(latency)
            else:
                errors[kind] = errors.get(kind, 0) + 1

        async def worker(i: int) -> None:
            wallet = validators[i % len(validators)]
            while time.perf_counter() < stop:
                await one(wallet)

        start = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(concurrency)))
        elapsed = time.perf_counter() - start
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
    return {
        "concurrency": concurrency,
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50_ms": pick(0.50) if latencies else float("nan"),
        "p99_ms": pick(0.99) if latencies else float("nan"),
        "mean_ms": statistics.fmean(latencies) * 1000 if latencies else float("nan"),
        "errors": errors,
    }


BT10_VENV = REPO / "benchmarks" / ".venv-bt10"
BT10_SCRIPT = REPO / "benchmarks" / "bench_bt10_axon.py"


def _bt10_python() -> Path:
    """benchmarks/.venv-bt10's interpreter, creating the venv with bittensor 10.5.0 if needed."""
    python = BT10_VENV / "bin" / "python"
    probe = [
        str(python),
        "-c",
        "import bittensor, sys; sys.exit(bittensor.__version__ != '10.5.0')",
    ]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    print(f"installing bittensor 10.5.0 into {BT10_VENV} (one time) ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(BT10_VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "bittensor==10.5.0"], check=True)
    return python


def _bt10_results(levels: list[int], seconds: float) -> dict:
    levels_arg = ",".join(map(str, levels))
    run = subprocess.run(
        [str(_bt10_python()), str(BT10_SCRIPT), "--levels", levels_arg, "--seconds", str(seconds)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    for line in run.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise RuntimeError(f"bittensor 10.5 benchmark failed:\n{run.stderr[-2000:]}")


def _print_comparison(ours: list[dict], theirs: dict) -> None:
    print(f"\nbittensor {theirs['bittensor']} Axon + Dendrite, trivial synapse, same machine")
    print(
        f"{'conc':>5} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}   ours/bt10 req/s, p50"
    )
    by_level = {r["concurrency"]: r for r in theirs["levels"]}
    for mine in ours:
        other = by_level.get(mine["concurrency"])
        if other is None:
            continue
        speed = mine["rps"] / other["rps"] if other["rps"] else float("inf")
        p50 = other["p50_ms"] / mine["p50_ms"] if mine["p50_ms"] else float("nan")
        print(
            f"{other['concurrency']:>5} {other['rps']:>9.1f} {other['p50_ms']:>8.2f} "
            f"{other['p99_ms']:>8.2f} {other['errors']:>7}   {speed:.1f}x throughput, "
            f"{p50:.1f}x lower p50"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per concurrency level")
    parser.add_argument("--levels", default="1,16,64")
    parser.add_argument("--client", choices=["aiohttp", "httpx", "transport"], default="aiohttp")
    parser.add_argument(
        "--compare-bt10", action="store_true", help="also run bittensor 10.5 (own venv)"
    )
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    folder = Path(tempfile.mkdtemp(prefix="mycel-bench-"))
    miner, validators = _wallets(folder, max(levels))
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    server = subprocess.Popen(
        [sys.executable, str(REPO / "benchmarks" / "miner_bench_server.py"),
         "--wallets", str(folder), "--validators", str(len(validators)), "--port", str(port)],
        env=env,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(url + "/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        print(
            f"miner HTTP path, no-op engine, full auth+policy+signing, {args.seconds:g}s/level, "
            f"client {args.client}"
        )
        print(
            f"{'conc':>5} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8} {'n':>7}  errors"
        )
        ours = []
        for level in levels:
            r = asyncio.run(
                _level(url, miner.hotkey.ss58_address, validators, level, args.seconds, args.client)
            )
            print(
                f"{r['concurrency']:>5} {r['rps']:>9.1f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} "
                f"{r['mean_ms']:>8.2f} {r['requests']:>7}  {r['errors'] or '-'}"
            )
            ours.append(r)
    finally:
        server.terminate()
        server.wait(timeout=30)
    if args.compare_bt10:  # after our server stopped, so the two never share the cores
        _print_comparison(ours, _bt10_results(levels, args.seconds))


if __name__ == "__main__":
    main()
