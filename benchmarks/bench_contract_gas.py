"""Gas per contract method on the compiled WASM, for the largest inputs each accepts, and
find_patterns paged through a domain at its 1000-pattern cap.

The figures are estimates (tests/near/wasm_vm.py): wasmtime's fuel counts the WebAssembly
instructions, each charged NEAR's wasm_regular_op_cost (822,756 gas), plus nearcore's costs for
every host function (storage, registers, memory, logs, receipts) and contract loading; storage
writes are charged an estimated 16 trie nodes. "burnt" is the call's own execution, "used" adds
the gas and fees it hands to the receipts it creates; NEAR's limit is 300 Tgas per call, the
project's target at most half. Prints figures; asserts nothing (tests/near/test_wasm_gas.py
holds the 150 Tgas line). Run: .venv/bin/python benchmarks/bench_contract_gas.py
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TGAS = 10**12


def _print(title: str, cases) -> None:
    print(f"\n{title}")
    print(f"  {'method (largest input)':58} {'instr':>11} {'burnt':>9} {'used':>9}")
    for label, run in cases:
        gas = run.gas
        print(
            f"  {label:58} {gas.instructions:11,d} {gas.burnt / TGAS:7.1f} T"
            f" {gas.used / TGAS:7.1f} T"
        )
    worst = max(cases, key=lambda c: c[1].gas.used)
    print(f"  worst: {worst[0]} at {worst[1].gas.used / TGAS:.1f} Tgas of 300 (target <= 150)")


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    try:
        from tests.near.gas_cases import registry_cases, reputation_cases
    except ImportError as exc:
        print(f"skipped: {exc} (pip install wasmtime; run from the repository root)")
        return
    started = time.perf_counter()
    _twin, registry = registry_cases(progress=lambda line: print(f"[registry] {line}"))
    _print("PatternRegistry", registry)
    pages = [run for label, run in registry if label.startswith("find_patterns from")]
    found = sum(len(run.result["patterns"]) for run in pages)
    print(
        f"  find_patterns at the domain cap: {len(pages)} pages, {found} patterns,"
        f" {sum(r.gas.used for r in pages) / TGAS:.1f} Tgas in all,"
        f" at most {max(r.gas.used for r in pages) / TGAS:.1f} per page, no trap"
    )
    reputation = reputation_cases(progress=lambda line: print(f"[reputation] {line}"))
    _print("ReputationSystem", reputation)
    print(f"\n({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
