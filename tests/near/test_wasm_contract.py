"""The nearc-compiled WASM contracts under wasmtime, against the CPython run of the same logic.

The WASM is built by contracts/build.sh (nearc, Python 3.12 + emscripten) and committed, since CI
has no emscripten; contracts/wasm.sha256 records which sources it was built from and the first
tests here fail when a source changed but the WASM was not rebuilt. $MYCEL_<NAME>_WASM points a
run at another build. The twin tests need the wasmtime package and skip without it. The NEAR
host functions come from tests/near/wasm_vm.py (no NEAR sandbox can run here).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
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


def _manifest_module():
    path = REPO / "contracts" / "wasm_manifest.py"
    spec = importlib.util.spec_from_file_location("mycel_wasm_manifest", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _wasm_path(name: str) -> Path:
    configured = os.environ.get(f"MYCEL_{name.upper()}_WASM")
    return Path(configured) if configured else REPO / "contracts" / name / "build" / f"{name}.wasm"


def _require(name: str):
    pytest.importorskip("wasmtime", reason="wasmtime is not installed (pip install wasmtime)")
    path = _wasm_path(name)
    if not path.is_file():
        pytest.fail(f"no compiled {name} WASM at {path}: build it with contracts/build.sh")
    from tests.near.wasm_vm import WasmContract

    return WasmContract(str(path))


# ----- the committed WASM is the one built from the committed sources --------------------------


def test_committed_wasm_was_built_from_current_sources():
    manifest = _manifest_module()
    assert manifest.problems() == []
    for name, entry in manifest.parse((REPO / "contracts" / "wasm.sha256").read_text()).items():
        size = (REPO / "contracts" / name / "build" / f"{name}.wasm").stat().st_size
        assert int(entry["size"]) == size
        assert 100_000 < size < 1_000_000, f"{name}.wasm is {size} bytes: not a nearc build?"


def test_manifest_check_catches_a_stale_or_swapped_wasm(tmp_path):
    manifest = _manifest_module()
    root = tmp_path / "contracts"
    for name in manifest.CONTRACTS:
        shutil.copytree(REPO / "contracts" / name, root / name)
    shutil.copy(REPO / "contracts" / "wasm.sha256", root / "wasm.sha256")
    assert manifest.problems(root) == []

    logic = root / "reputation" / "reputation_logic.py"
    logic.write_text(logic.read_text() + "\n# edited after the build\n")
    assert manifest.problems(root) == [
        "reputation: sources changed since reputation.wasm was built: run contracts/build.sh"
    ]
    (root / "wasm.sha256").write_text(manifest.render(root))  # rebuilt: current again
    assert manifest.problems(root) == []

    wasm = root / "pattern_registry" / "build" / "pattern_registry.wasm"
    wasm.write_bytes(wasm.read_bytes() + b"\0")
    assert manifest.problems(root) == [
        "pattern_registry: pattern_registry.wasm is not the WASM wasm.sha256 records"
    ]
    wasm.unlink()
    assert "no WASM at" in manifest.problems(root)[0]
    (root / "wasm.sha256").unlink()
    assert "no manifest" in manifest.problems(root)[0]


# ----- every call on the WASM and on CPython ---------------------------------------------------


class _Twin:
    """Runs every call on the WASM and on the CPython logic and insists they agree: result or
    panic message, transfers, promises, logs and the storage left behind."""

    def __init__(self, wasm, kind: str, account: str) -> None:
        self.wasm = wasm
        self.logic = load_logic(kind)
        self.account = account
        self.storage: dict[str, str] = {}

    def __call__(self, method, args, who, deposit=0, view=False, now=NOW):
        ctx = CallContext(self.account, who, who, deposit, now, view=view)
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

    def _same_storage(self) -> None:
        parsed = {k: json.loads(v) for k, v in self.wasm.storage.items()}
        assert parsed == {k: json.loads(v) for k, v in self.storage.items()}


@pytest.fixture
def registry():
    twin = _Twin(_require("pattern_registry"), "pattern_registry", REG)
    twin("init", {"owner": "owner.test", "reputation_contract": REP}, REG)
    return twin


@pytest.fixture
def reputation():
    twin = _Twin(_require("reputation"), "reputation", REP)
    twin("init", {"owner": "owner.test", "registry_contract": REG}, REP)
    return twin


def _register(registry, n, who="alice.test", price="1", domain="code"):
    args = {"pattern_hash": format(n, "064x"), "metadata_cid": CID, "domain": domain}
    return registry("register_pattern", {**args, "price_per_use": price}, who)


def test_registry_wasm_matches_cpython_logic(registry):
    price = 10**24 + 3  # u128 amounts must survive MicroPython's big ints exactly
    args = {"pattern_hash": "0" * 64, "metadata_cid": CID, "domain": "code"}
    assert registry("register_pattern", {**args, "price_per_use": str(price)}, "alice.test") == 1
    registry.refused(
        "Pattern already registered as 1",
        "register_pattern",
        {**args, "price_per_use": "1"},
        "bob.test",
    )
    registry.refused(
        "Insufficient payment", "use_pattern", {"pattern_id": 1}, "bob.test", deposit=price - 1
    )
    registry.refused(
        "Pattern not found", "use_pattern", {"pattern_id": 7}, "bob.test", deposit=price
    )
    paid = registry("use_pattern", {"pattern_id": 1}, "bob.test", deposit=price)
    assert paid["creator_share"] == str(price - price * 500 // 10_000)
    registry("rate_pattern", {"pattern_id": 1, "success": True, "rating": 4}, "bob.test")
    found = registry(
        "find_patterns", {"domain": "code", "min_reputation": 0.1}, "x.test", view=True
    )
    assert [p["id"] for p in found] == [1]
    assert (
        registry("get_pattern_by_hash", {"pattern_hash": "0" * 64}, "x.test", view=True)["id"] == 1
    )
    assert registry("get_pattern", {"pattern_id": 2}, "x.test", view=True) is None
    assert registry("withdraw_fees", {}, "owner.test") == str(price * 500 // 10_000)
    assert registry("withdraw_fees", {}, "owner.test") == "0"


def test_registry_ratings_decay_alike_over_time(registry):
    for n in (1, 2, 3):
        _register(registry, n)
    for day, (pattern_id, success, rating) in enumerate(
        [(1, True, 5), (1, False, 1), (2, True, 4), (1, True, 5), (3, False, 2), (2, True, 5)]
    ):
        now = NOW + day * 17 * DAY  # across several 30-day half-lives
        registry("use_pattern", {"pattern_id": pattern_id}, "bob.test", deposit=7, now=now)
        args = {"pattern_id": pattern_id, "success": success, "rating": rating}
        rated = registry("rate_pattern", args, "bob.test", now=now)
        assert rated["rating_count"] >= 1
    for threshold in (0, 0.1, 0.25, 0.3, 0.33, 0.5, 0.7, 1):
        args = {"domain": "code", "min_reputation": threshold, "limit": 2}
        registry("find_patterns", args, "x.test", view=True)
    ranked = registry("find_patterns", {"domain": "code"}, "x.test", view=True)
    assert [p["reputation_ppm"] for p in ranked] == sorted(
        (p["reputation_ppm"] for p in ranked), reverse=True
    )


def test_registry_refuses_bad_input_with_the_same_message(registry):
    _register(registry, 1)
    max_u128 = (1 << 128) - 1
    assert _register(registry, 2, price=str(max_u128)) == 2
    registry.refused(
        "Invalid price_per_use: out of u128 range",
        "register_pattern",
        {
            "pattern_hash": "f" * 64,
            "metadata_cid": CID,
            "domain": "d",
            "price_per_use": max_u128 + 1,
        },
        "alice.test",
    )
    bad_register = [
        ({"price_per_use": "1e3"}, "Invalid price_per_use: expected a decimal string"),
        ({"price_per_use": True}, "Invalid price_per_use: expected a decimal string"),
        ({"pattern_hash": "A" * 64}, "Invalid pattern_hash: expected 64 lowercase hex characters"),
        ({"metadata_cid": "Qm0"}, "Invalid metadata_cid: expected an IPFS CIDv0 (Qm...) or"),
        ({"domain": "Code!"}, "Invalid domain: 1-64 characters of a-z, 0-9, '_' or '-'"),
    ]
    for change, message in bad_register:
        args = {"pattern_hash": "e" * 64, "metadata_cid": CID, "domain": "d", "price_per_use": "1"}
        with pytest.raises(ContractPanic, match="^" + re.escape(message)):
            registry("register_pattern", {**args, **change}, "alice.test")
    # several unknown keys: every runtime names the same one (MicroPython dicts are unordered)
    registry.refused(
        "Unexpected argument: a",
        "get_pattern",
        {"zeta": 1, "pattern_id": 1, "b": 2, "a": 3, "mu": 4},
        "x.test",
        view=True,
    )
    registry.refused("Missing argument: pattern_id", "get_pattern", {}, "x.test", view=True)
    registry.refused("Method get_config doesn't accept deposit", "get_config", {}, "x", deposit=1)
    registry.refused("Only the owner can do this", "set_fee_rate", {"fee_bps": 10}, "alice.test")
    registry.refused(
        "Invalid fee_bps: expected an integer 0-2000",
        "set_fee_rate",
        {"fee_bps": 2001},
        "owner.test",
    )
    assert registry("set_fee_rate", {"fee_bps": 0}, "owner.test")["fee_bps"] == 0
    registry.refused(
        "Only the contract account can initialize",
        "init",
        {"owner": "o.test", "reputation_contract": REP},
        "alice.test",
    )
    registry.refused(
        "Already initialized", "init", {"owner": "o.test", "reputation_contract": REP}, REG
    )
    registry.refused(
        "Rate only after a paid use",
        "rate_pattern",
        {"pattern_id": 1, "success": True, "rating": 3},
        "bob.test",
    )
    registry("use_pattern", {"pattern_id": 1}, "alice.test", deposit=1)
    registry.refused(
        "Creators cannot rate their own patterns",
        "rate_pattern",
        {"pattern_id": 1, "success": True, "rating": 3},
        "alice.test",
    )
    registry.refused(
        "Invalid limit: expected an integer 1-100",
        "find_patterns",
        {"domain": "code", "limit": 101},
        "x.test",
        view=True,
    )


def test_view_calls_cannot_change_state(registry):
    """A state-changing method run as a view is refused at the host function, as nearcore does."""
    registry.refused(
        "HostError: ProhibitedInView", "set_fee_rate", {"fee_bps": 9}, "owner.test", view=True
    )


def test_wasm_crash_panics_like_the_cpython_host():
    """Input that is not JSON crashes inside the contract; main.py turns it into the host's
    "Unexpected error: <type>: ..." panic instead of a bare guest panic."""
    wasm = _require("pattern_registry")
    ctx = CallContext(REG, REG, REG, 0, NOW)
    with pytest.raises(ContractPanic, match=r"^Unexpected error: ValueError: "):
        wasm.call("init", None, ctx, raw_input=b"{not json")
    with pytest.raises(ContractPanic, match="MethodNotFound"):
        wasm.call("no_such_method", {}, ctx)
    assert wasm.storage == {}


def test_reputation_wasm_matches_cpython_logic(reputation):
    update = {"account": "alice.test", "pattern_id": 1, "outcome": {"success": True, "rating": 5}}
    reputation.refused("Unauthorized", "update_reputation", update, "bob.test")
    reputation("update_reputation", update, REG)
    failed = {**update, "outcome": {"success": False, "rating": 1}}
    assert reputation("update_reputation", failed, REG)["failed_uses"] == 1
    reputation("add_validator", {"account": "val.test"}, "owner.test")
    reputation("add_validator", {"account": "val2.test"}, "owner.test")
    reputation("record_validator_rewards", {"epoch": 3, "entries": {HOTKEY: 900_000}}, "val.test")
    entries = {HOTKEY: "100000", "alice.test": 0}
    reputation("record_validator_rewards", {"epoch": 4, "entries": entries}, "val.test")
    reputation.refused(
        "Stale epoch: 4 <= 4",
        "record_validator_rewards",
        {"epoch": 4, "entries": entries},
        "val.test",
    )
    score = reputation("get_reputation", {"account": HOTKEY}, "bob.test", view=True)
    assert score["reward_ema_ppm"] == (4 * 900_000 + 100_000) // 5
    alice = reputation("get_reputation", {"account": "alice.test"}, "bob.test", view=True)
    assert alice["reward_epochs"] == 1
    assert reputation("remove_validator", {"account": "val.test"}, "owner.test")["validators"] == [
        "val2.test"
    ]
    reputation.refused(
        "Unauthorized", "record_validator_rewards", {"epoch": 9, "entries": {HOTKEY: 1}}, "val.test"
    )
    assert reputation("get_config", {}, "x.test", view=True)["validators"] == ["val2.test"]


def test_reputation_refuses_bad_rewards_with_the_same_message(reputation):
    # Digits of other scripts pass CPython's str.isdigit() but not MicroPython's: refused alike.
    for reward in ("\u0661", "\u00b2", "1000001", "-1", True, 1.5):
        reputation.refused(
            f"Invalid reward for {HOTKEY}: expected ppm 0-1000000",
            "record_validator_rewards",
            {"epoch": 1, "entries": {HOTKEY: reward}},
            "owner.test",
        )
    # two bad entries: both runtimes report the same (first in sorted order) one
    reputation.refused(
        "Invalid reward for alice.test: expected ppm 0-1000000",
        "record_validator_rewards",
        {"epoch": 1, "entries": {"zed.test": -5, HOTKEY: 7, "alice.test": -1}},
        "owner.test",
    )
    reputation.refused(
        "Invalid subject: expected a NEAR account id or an SS58 hotkey",
        "record_validator_rewards",
        {"epoch": 1, "entries": {"bad..id": 1}},
        "owner.test",
    )
    reputation.refused(
        "Invalid entries: expected 1-256 rewards",
        "record_validator_rewards",
        {"epoch": 1, "entries": {}},
        "owner.test",
    )
    reputation.refused("Unexpected argument: extra", "get_config", {"extra": 1, "more": 2}, "x")


def test_registry_find_patterns_over_a_full_page(registry):
    """A call that allocates well past nearc's stock 32 KiB heap: with its heap at that size the
    runtime's garbage collector ran off linear memory and the call trapped (20 patterns did)."""
    for n in range(1, 61):
        _register(registry, n)
    found = registry("find_patterns", {"domain": "code", "limit": 100}, "x.test", view=True)
    assert [p["id"] for p in found] == list(range(1, 61))
