"""The same no-op benchmark on bittensor 10.5's Axon and Dendrite, for bench_miner_http.py.

Runs only inside benchmarks/.venv-bt10 (bittensor 10.5.0 cannot share an environment with the
project's bittensor 11): `bench_miner_http.py --compare-bt10` creates that environment and calls
this script, which starts an Axon in a child process (default signature verification, a
blacklist that looks the caller up in a hotkey -> stake table, a stake priority, a no-op
forward) and drives it with one Dendrite per validator hotkey. The last line printed is
``RESULT {json}``.
"""

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Tuple  # noqa: UP035 - bt10 compares the annotation to typing.Tuple

import bittensor as bt
from bittensor.core.settings import version_as_int
from bittensor.utils import networking

# Dendrite() asks web services for this host's public IP; everything here is loopback.
networking.get_external_ip = lambda: "127.0.0.1"


class Ping(bt.Synapse):
    value: str = ""


def _wallet(folder: Path, name: str, coldkey: bool = False) -> bt.Wallet:
    wallet = bt.Wallet(name=name, hotkey="hot", path=str(folder))
    if coldkey:
        wallet.create_new_coldkey(use_password=False, overwrite=True, suppress=True)
    wallet.create_new_hotkey(use_password=False, overwrite=True, suppress=True)
    return wallet


def serve(folder: Path, port: int, validators: int) -> None:
    miner = bt.Wallet(name="miner", hotkey="hot", path=str(folder))
    stakes = {
        bt.Wallet(name=f"v{i}", hotkey="hot", path=str(folder)).hotkey.ss58_address: 10.0
        for i in range(validators)
    }

    async def forward(synapse: Ping) -> Ping:
        synapse.value = "ok"
        return synapse

    async def blacklist(synapse: Ping) -> Tuple[bool, str]:  # noqa: UP006 - bt10 compares it
        stake = stakes.get(synapse.dendrite.hotkey)
        if stake is None:
            return True, "not registered"
        return stake < 1.0, "stake"

    async def priority(synapse: Ping) -> float:
        return stakes.get(synapse.dendrite.hotkey, 0.0)

    axon = bt.Axon(wallet=miner, ip="127.0.0.1", port=port, external_ip="127.0.0.1")
    axon.attach(forward_fn=forward, blacklist_fn=blacklist, priority_fn=priority)
    axon.start()
    stop = False

    def on_term(*_):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    while not stop:
        time.sleep(0.2)
    axon.stop()


async def _level(folder: Path, port: int, concurrency: int, seconds: float) -> dict:
    miner = bt.Wallet(name="miner", hotkey="hot", path=str(folder))
    info = bt.AxonInfo(
        version=version_as_int,
        ip="127.0.0.1",
        port=port,
        ip_type=4,
        hotkey=miner.hotkey.ss58_address,
        coldkey=miner.coldkeypub.ss58_address,
    )
    dendrites = [
        bt.Dendrite(wallet=bt.Wallet(name=f"v{i}", hotkey="hot", path=str(folder)))
        for i in range(concurrency)
    ]
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds

    async def worker(dendrite) -> None:
        nonlocal errors
        while time.perf_counter() < stop:
            start = time.perf_counter()
            out = await dendrite.call(
                target_axon=info, synapse=Ping(), timeout=10, deserialize=False
            )
            if out.dendrite.status_code == 200 and out.value == "ok":
                latencies.append(time.perf_counter() - start)
            else:
                errors += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker(d) for d in dendrites))
    elapsed = time.perf_counter() - start
    for dendrite in dendrites:
        await dendrite.aclose_session()
    latencies.sort()

    def pick(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

    return {
        "concurrency": concurrency,
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50_ms": pick(0.5) if latencies else float("nan"),
        "p99_ms": pick(0.99) if latencies else float("nan"),
        "errors": errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["run", "serve"], nargs="?", default="run")
    parser.add_argument("--wallets", type=Path)
    parser.add_argument("--port", type=int)
    parser.add_argument("--validators", type=int, default=64)
    parser.add_argument("--levels", default="1,16,64")
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    if args.mode == "serve":
        serve(args.wallets, args.port, args.validators)
        return
    levels = [int(x) for x in args.levels.split(",")]
    folder = Path(tempfile.mkdtemp(prefix="bt10-bench-"))
    _wallet(folder, "miner", coldkey=True)
    for i in range(max(levels)):
        _wallet(folder, f"v{i}")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, __file__, "serve", "--wallets", str(folder), "--port", str(port),
         "--validators", str(max(levels))],
        env={**os.environ},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        results = [asyncio.run(_level(folder, port, level, args.seconds)) for level in levels]
    finally:
        server.terminate()
        server.wait(timeout=30)
    print("RESULT " + json.dumps({"bittensor": bt.__version__, "levels": results}))


if __name__ == "__main__":
    main()
