"""Benchmark the sim chain through the real SDK: metagraph read at 256 uids, one set_weights,
and epochs at 256 uids / 64 validators (through the chain, and the Yuma maths alone).
Prints figures; asserts nothing.

Run: .venv/bin/python benchmarks/bench_chain.py
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np


def _yuma_alone_ms(rng: np.random.Generator) -> str:
    """Time yuma.run_epoch on 256 uids with 64 permitted validators, in ms per epoch."""
    from mycel_subnet.chain.sim import yuma

    n, v = 256, 64
    weights = np.zeros((n, n))
    weights[:v] = rng.random((v, n))
    inputs = yuma.EpochInputs(
        stake=np.where(np.arange(n) < v, rng.integers(1, 1000, n), 0).astype(float),
        weights=weights,
        bonds=rng.random((n, n)),
        validator_permit=np.arange(n) < v,
        last_update=np.full(n, 10),
        block_at_registration=np.ones(n, dtype=np.int64),
        current_block=20,
        emission=1.0,
    )
    figures = []
    for params in (
        yuma.YumaParams(),
        yuma.YumaParams(yuma3_enabled=True, liquid_alpha_enabled=True),
    ):
        reps = 50
        t = time.perf_counter()
        for _ in range(reps):
            yuma.run_epoch(inputs, params)
        figures.append(f"{(time.perf_counter() - t) / reps * 1e3:.2f} ms")
    return " / ".join(figures)


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    tmp = Path(tempfile.mkdtemp())
    os.environ.setdefault("BTCLI_TOKEN_SYMBOLS_CACHE", str(tmp / "symbols.json"))
    from mycel_subnet.chain.port import ChainPort
    from mycel_subnet.chain.sim import admin
    from mycel_subnet.chain.sim.epoch import save_bonds
    from mycel_subnet.chain.sim.params import GenesisConfig
    from mycel_subnet.chain.wallets import create_wallet

    path = tmp / "chain.sqlite"
    chain = admin.create_chain(path, GenesisConfig(manual=True, hparams={"tempo": 360}))
    owner = create_wallet("owner", "hot", tmp / "w", devnet=True)
    netuid = admin.create_subnet(chain, owner)
    # Fill 255 more uids straight in SQLite (signing 255 registrations measures nothing new).
    rng = np.random.default_rng(0)
    with chain.store.write() as conn:
        for uid in range(1, 256):
            hotkey, coldkey = f"5Hotkey{uid:040d}", f"ck{uid}"
            # validators (uids 1..64) hold a permit and set weights after everyone registered
            conn.execute(
                "INSERT INTO neurons (netuid, uid, hotkey, coldkey, registered_at, last_update, "
                "validator_permit) VALUES (?, ?, ?, ?, 1, ?, ?)",
                (netuid, uid, hotkey, coldkey, 2 if uid <= 64 else 1, int(uid <= 64)),
            )
            stake = int(rng.integers(1, 1000)) * 10**9 if uid <= 64 else 0
            conn.execute("INSERT INTO stakes VALUES (?, ?, ?, ?)", (hotkey, coldkey, netuid, stake))
            if uid <= 64:
                row = [[int(d), int(rng.integers(1, 65535))] for d in range(256)]
                conn.execute("INSERT INTO weights VALUES (?, ?, ?)", (netuid, uid, json.dumps(row)))
        save_bonds(conn, netuid, np.zeros((256, 256)))
    admin.fund(chain, owner.coldkeypub.ss58_address, 100)
    port = ChainPort(f"sim:{path}", netuid, owner)
    port.add_stake(50)
    port.metagraph()  # warm-up (connect)

    t = time.perf_counter()
    reps = 20
    for _ in range(reps):
        graph = port.metagraph()
    print(
        f"metagraph read via SDK, {graph.n} uids: {(time.perf_counter() - t) / reps * 1e3:.1f} ms"
    )

    epochs = 5
    t = time.perf_counter()
    admin.advance_blocks(chain, 360 * epochs)  # one epoch per tempo (chain: load, Yuma, write)
    per_epoch = (time.perf_counter() - t) / epochs * 1e3
    graph = port.metagraph()
    paid = sum(1 for n in graph.neurons if n.incentive > 0)
    permitted = sum(1 for n in graph.neurons if n.validator_permit)
    print(
        f"epoch via chain, 256 uids / 64 validators: {per_epoch:.1f} ms "
        f"({paid} uids with incentive, {permitted} permits)"
    )
    print(f"  Yuma maths alone (classic / Yuma 3): {_yuma_alone_ms(rng)}")

    uids = list(range(256))
    t = time.perf_counter()
    result = port.set_weights(uids, list(rng.random(256)), version_key=0)
    print(
        f"set_weights via SDK, 256 weights:  {(time.perf_counter() - t) * 1e3:.1f} ms "
        f"(ok={result.ok} {result.message})"
    )
    port.close()


if __name__ == "__main__":
    main()
