"""Running every call on the nearc-compiled WASM (under wasmtime, tests/near/wasm_vm.py) and on
the CPython logic, and insisting they agree. Shared by the test_wasm_*.py files.

The WASM is built by contracts/build.sh and committed; $MYCEL_<NAME>_WASM points a run at
another build. The twin tests need the wasmtime package and skip without it.
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
DAY = 24 * 3600 * 10**9
HOTKEY = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
CID = "Qm" + "Y" * 44
DEPOSIT = 4 * 10**22
CAP = 10**23
HALF_NEAR_LIMIT = 150 * 10**12  # at most half of NEAR's 300 Tgas per call


def wasm_path(name: str) -> Path:
    configured = os.environ.get(f"MYCEL_{name.upper()}_WASM")
    return Path(configured) if configured else REPO / "contracts" / name / "build" / f"{name}.wasm"


def require(name: str):
    pytest.importorskip("wasmtime", reason="wasmtime is not installed (pip install wasmtime)")
    path = wasm_path(name)
    if not path.is_file():
        pytest.fail(f"no compiled {name} WASM at {path}: build it with contracts/build.sh")
    from tests.near.wasm_vm import WasmContract

    return WasmContract(str(path))


class Twin:
    """Runs every call on the WASM and on the CPython logic and insists they agree: result or
    panic message, transfers, promises (callbacks included), logs and the storage left
    behind. `last` is the WASM run of the latest call (its gas estimate included)."""

    def __init__(self, wasm, kind: str, account: str) -> None:
        self.wasm = wasm
        self.logic = load_logic(kind)
        self.account = account
        self.storage: dict[str, str] = {}
        self.last = None

    def __call__(self, method, args, who, deposit=0, view=False, now=NOW, results=()):
        ctx = CallContext(
            self.account, who, who, deposit, now, view=view, promise_results=tuple(results)
        )
        scratch = dict(self.storage)  # a panicking call leaves no state behind, as on NEAR
        host = Host(ctx, scratch)
        try:
            expected = run_method(self.logic, host, method, args)
        except ContractPanic as exc:
            with pytest.raises(ContractPanic) as info:
                self.wasm.call(method, args, ctx)
            assert info.value.message == exc.message
            self._same_storage()
            raise
        self.storage = scratch
        run = self.wasm.call(method, args, ctx)
        self.last = run
        assert run.result == expected
        assert run.transfers == host.transfers
        assert run.promises == host.promises
        assert run.logs == host.logs
        self._same_storage()
        return expected

    def refused(self, message, method, args, who, **kwargs) -> None:
        """Both runtimes refuse the call with exactly `message`."""
        with pytest.raises(ContractPanic) as info:
            self(method, args, who, **kwargs)
        assert info.value.message == message

    def load(self, storage: dict[str, str]) -> None:
        """Start both runtimes from the same storage (built faster on CPython alone)."""
        self.storage = dict(storage)
        self.wasm.storage.clear()
        self.wasm.storage.update(storage)

    def _same_storage(self) -> None:
        parsed = {k: _decoded(v) for k, v in self.wasm.storage.items()}
        assert parsed == {k: _decoded(v) for k, v in self.storage.items()}


def _decoded(value: str):
    """A stored value as JSON when it is JSON (the runtimes' JSON differs in key order and
    spacing), else as the text itself (compact records must match exactly)."""
    try:
        return json.loads(value)
    except ValueError:
        return ("text", value)


def cpython_call(kind, storage, account, method, args, who, deposit=0, now=NOW):
    """One call on the CPython logic alone (to build large states quickly)."""
    host = Host(CallContext(account, who, who, deposit, now), storage)
    return run_method(load_logic(kind), host, method, args)


def register_args(n, price="1", domain="code"):
    return {
        "pattern_hash": format(n, "064x"),
        "metadata_cid": CID,
        "domain": domain,
        "price_per_use": price,
    }


@pytest.fixture
def registry():
    twin = Twin(require("pattern_registry"), "pattern_registry", REG)
    twin("init", {"owner": "owner.test", "reputation_contract": REP}, REG)
    return twin


@pytest.fixture
def reputation():
    twin = Twin(require("reputation"), "reputation", REP)
    twin("init", {"owner": "owner.test", "registry_contract": REG}, REP)
    return twin


def register(registry, n, who="alice.test", price="1", domain="code", deposit=DEPOSIT):
    args = register_args(n, price, domain)
    return registry("register_pattern", args, who, deposit=deposit)
