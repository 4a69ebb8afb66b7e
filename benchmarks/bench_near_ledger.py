"""Throughput of the local NEAR ledger (and, when built, one WASM contract call).

Prints figures; asserts nothing. Run: .venv/bin/python benchmarks/bench_near_ledger.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from mycel_subnet.near.host import CallContext
from mycel_subnet.near.ledger import DEFAULT_REGISTRY, ONE_NEAR, LocalLedger

N = 300


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, LocalLedger(Path(tmp) / "bench.db") as ledger:
        ledger.ensure_mycel_contracts("owner.test")
        ledger.create_account("alice.test", ONE_NEAR)
        ledger.create_account("bob.test", 10**6 * ONE_NEAR)
        cid = "Qm" + "Y" * 44
        t0 = time.perf_counter()
        for i in range(N):
            args = {
                "pattern_hash": format(i, "064x"),
                "metadata_cid": cid,
                "domain": "code",
                "price_per_use": str(ONE_NEAR),
            }
            ledger.call("alice.test", DEFAULT_REGISTRY, "register_pattern", args)
        t1 = time.perf_counter()
        for i in range(N):
            ledger.call(
                "bob.test", DEFAULT_REGISTRY, "use_pattern", {"pattern_id": i + 1}, deposit=ONE_NEAR
            )
        t2 = time.perf_counter()
        for i in range(N):
            ledger.call(
                "bob.test",
                DEFAULT_REGISTRY,
                "rate_pattern",
                {"pattern_id": i + 1, "success": True, "rating": 4},
            )
        t3 = time.perf_counter()
        for _ in range(20):
            ledger.view(DEFAULT_REGISTRY, "find_patterns", {"domain": "code", "limit": 100})
        t4 = time.perf_counter()
        print(f"register_pattern: {N / (t1 - t0):8.0f} tx/s")
        print(f"use_pattern:      {N / (t2 - t1):8.0f} tx/s (with creator transfer)")
        print(f"rate_pattern:     {N / (t3 - t2):8.0f} tx/s (with reputation receipt)")
        print(f"find_patterns over {N} patterns: {(t4 - t3) / 20 * 1000:6.1f} ms")
    wasm = (
        Path(__file__).resolve().parents[1]
        / "contracts/pattern_registry/build/pattern_registry.wasm"
    )
    try:
        from tests.near.wasm_vm import WasmContract
    except ImportError:
        print("wasm: wasmtime not installed")
        return
    if not wasm.is_file():
        print(f"wasm: no build at {wasm}")
        return
    contract = WasmContract(str(wasm))
    ctx = CallContext("reg.test", "reg.test", "reg.test", 0, 10**18)
    contract.call("init", {"owner": "o.test", "reputation_contract": "rep.test"}, ctx)
    t0 = time.perf_counter()
    for i in range(20):
        args = {
            "pattern_hash": format(i, "064x"),
            "metadata_cid": cid,
            "domain": "code",
            "price_per_use": "1",
        }
        contract.call("register_pattern", args, ctx)
    per_call_ms = (time.perf_counter() - t0) / 20 * 1000
    print(f"wasm register_pattern under wasmtime: {per_call_ms:.1f} ms/call")


if __name__ == "__main__":
    main()
