"""The nearc-compiled WASM contracts under wasmtime, against the CPython run of the same logic.

Needs a WASM built by nearc (Python 3.12 + emscripten; see contracts/README.md) at
contracts/<name>/build/<name>.wasm or $MYCEL_<NAME>_WASM, and the wasmtime package. Without
them the tests skip and say why: CI has no emscripten toolchain. The NEAR host functions come
from tests/near/wasm_vm.py (no NEAR sandbox can run here).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from mycel_subnet.near.host import CallContext, ContractPanic, Host, load_logic, run_method

REPO = Path(__file__).resolve().parents[2]
REG = "registry.test"
REP = "reputation.test"
NOW = 1_700_000_000 * 10**9


def _wasm_path(name: str) -> Path:
    configured = os.environ.get(f"MYCEL_{name.upper()}_WASM")
    return Path(configured) if configured else REPO / "contracts" / name / "build" / f"{name}.wasm"


def _require(name: str):
    pytest.importorskip("wasmtime", reason="wasmtime is not installed (pip install wasmtime)")
    path = _wasm_path(name)
    if not path.is_file():
        pytest.skip(f"no compiled {name} WASM at {path}: build it with nearc (contracts/README.md)")
    from tests.near.wasm_vm import WasmContract

    return WasmContract(str(path))


class _Twin:
    """Runs every call on the WASM and on the CPython logic and insists they agree."""

    def __init__(self, wasm, kind: str, account: str) -> None:
        self.wasm = wasm
        self.logic = load_logic(kind)
        self.account = account
        self.storage: dict[str, str] = {}

    def __call__(self, method, args, who, deposit=0, view=False):
        ctx = CallContext(self.account, who, who, deposit, NOW, view=view)
        host = Host(ctx, self.storage)
        try:
            expected = run_method(self.logic, host, method, args)
        except ContractPanic as exc:
            with pytest.raises(ContractPanic) as info:
                self.wasm.call(method, args, ctx)
            assert info.value.message == exc.message
            raise
        run = self.wasm.call(method, args, ctx)
        assert run.result == expected
        assert run.transfers == host.transfers
        assert run.promises == host.promises
        assert run.logs == host.logs
        parsed = {k: json.loads(v) for k, v in self.wasm.storage.items()}
        assert parsed == {k: json.loads(v) for k, v in self.storage.items()}
        return expected


def test_registry_wasm_matches_cpython_logic():
    twin = _Twin(_require("pattern_registry"), "pattern_registry", REG)
    twin("init", {"owner": "owner.test", "reputation_contract": REP}, REG)
    price = 10**24 + 3  # u128 amounts must survive MicroPython's big ints exactly
    args = {"pattern_hash": "0" * 64, "metadata_cid": "Qm" + "Y" * 44, "domain": "code"}
    assert twin("register_pattern", {**args, "price_per_use": str(price)}, "alice.test") == 1
    with pytest.raises(ContractPanic, match="Pattern already registered as 1"):
        twin("register_pattern", {**args, "price_per_use": "1"}, "bob.test")
    with pytest.raises(ContractPanic, match="Insufficient payment"):
        twin("use_pattern", {"pattern_id": 1}, "bob.test", deposit=price - 1)
    with pytest.raises(ContractPanic, match="Pattern not found"):
        twin("use_pattern", {"pattern_id": 7}, "bob.test", deposit=price)
    paid = twin("use_pattern", {"pattern_id": 1}, "bob.test", deposit=price)
    assert paid["creator_share"] == str(price - price * 500 // 10_000)
    twin("rate_pattern", {"pattern_id": 1, "success": True, "rating": 4}, "bob.test")
    found = twin("find_patterns", {"domain": "code", "min_reputation": 0.1}, "bob.test", view=True)
    assert [p["id"] for p in found] == [1]


def test_reputation_wasm_matches_cpython_logic():
    twin = _Twin(_require("reputation"), "reputation", REP)
    twin("init", {"owner": "owner.test", "registry_contract": REG}, REP)
    update = {"account": "alice.test", "pattern_id": 1, "outcome": {"success": True, "rating": 5}}
    with pytest.raises(ContractPanic, match="^Unauthorized$"):
        twin("update_reputation", update, "bob.test")
    twin("update_reputation", update, REG)
    twin("add_validator", {"account": "val.test"}, "owner.test")
    hotkey = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
    twin("record_validator_rewards", {"epoch": 3, "entries": {hotkey: 900_000}}, "val.test")
    score = twin("get_reputation", {"account": hotkey}, "bob.test", view=True)
    assert score["reward_ema_ppm"] == 900_000
