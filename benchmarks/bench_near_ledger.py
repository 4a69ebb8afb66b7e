"""Throughput of the local NEAR ledger and, with wasmtime installed, of the compiled WASM.

Prints figures; asserts nothing. Run: .venv/bin/python benchmarks/bench_near_ledger.py
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.near.wasm_vm

from mycel_subnet.near.host import CallContext
from mycel_subnet.near.ledger import DEFAULT_REGISTRY, ONE_NEAR, LocalLedger

N = 300
DEPOSIT = 4 * 10**22  # the registry's storage deposit per pattern


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    with tempfile.TemporaryDirectory() as tmp, LocalLedger(Path(tmp) / "bench.db") as ledger:
        ledger.ensure_mycel_contracts("owner.test")
        ledger.create_account("alice.test", 100 * ONE_NEAR)
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
            ledger.call("alice.test", DEFAULT_REGISTRY, "register_pattern", args, DEPOSIT)
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
        print(f"find_patterns, a page of 100 of {N}: {(t4 - t3) / 20 * 1000:6.1f} ms")
    wasm = (
        Path(__file__).resolve().parents[1]
        / "contracts/pattern_registry/build/pattern_registry.wasm"
    )
    try:
        from tests.near.wasm_vm import WasmContract
    except ImportError as exc:
        print(f"wasm: skipped ({exc}; pip install wasmtime, run from the repository root)")
        return
    if not wasm.is_file():
        print(f"wasm: no build at {wasm}")
        return
    _bench_wasm(WasmContract(str(wasm)), cid)


def _bench_wasm(contract, cid: str, n: int = 30) -> None:
    """Each call instantiates the ~370 KB module afresh (as NEAR does) and boots MicroPython."""
    ctx = CallContext("reg.test", "reg.test", "reg.test", 0, 10**18)
    contract.call("init", {"owner": "o.test", "reputation_contract": "rep.test"}, ctx)
    timings = {}
    t0 = time.perf_counter()
    for i in range(n):
        args = {
            "pattern_hash": format(i, "064x"),
            "metadata_cid": cid,
            "domain": "code",
            "price_per_use": "1",
        }
        ctx = CallContext("reg.test", "alice.test", None, DEPOSIT, 1)
        contract.call("register_pattern", args, ctx)
    timings["register_pattern"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    for i in range(n):
        ctx = CallContext("reg.test", "bob.test", None, 1, 10**18)
        contract.call("use_pattern", {"pattern_id": i + 1}, ctx)
    timings["use_pattern"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    for i in range(n):
        ctx = CallContext("reg.test", "bob.test", None, 0, 10**18)
        args = {"pattern_id": i + 1, "success": True, "rating": 4}
        contract.call("rate_pattern", args, ctx)
    timings["rate_pattern"] = time.perf_counter() - t0
    view = CallContext("reg.test", "x.test", None, 0, 10**18, view=True)
    t0 = time.perf_counter()
    for _ in range(5):
        contract.call("find_patterns", {"domain": "code", "limit": 100}, view)
    find_ms = (time.perf_counter() - t0) / 5 * 1000
    for method, seconds in timings.items():
        print(f"wasm {method + ':':17} {seconds / n * 1000:6.1f} ms/call under wasmtime")
    print(f"wasm find_patterns over {n} patterns: {find_ms:6.1f} ms")  # one page
    print("gas per method at the largest inputs: benchmarks/bench_contract_gas.py")


if __name__ == "__main__":
    main()
