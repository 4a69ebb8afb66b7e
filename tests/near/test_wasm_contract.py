"""The nearc-compiled WASM contracts under wasmtime, against the CPython run of the same logic.

The WASM is built by contracts/build.sh (nearc, Python 3.12 + emscripten) and committed, since CI
has no emscripten; contracts/wasm.sha256 records which sources it was built from and the first
tests here fail when a source changed but the WASM was not rebuilt. With the toolchain present
and MYCEL_TEST_WASM_BUILD=1, one test rebuilds both contracts and checks the bytes are the
committed ones (minutes). The twin machinery is tests/near/twin.py; the NEAR host functions come
from tests/near/wasm_vm.py (no NEAR sandbox can run here).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess

import pytest

from mycel_subnet.near.host import CallContext, ContractPanic
from tests.near.twin import (
    CAP,
    DAY,
    DEPOSIT,
    HOTKEY,
    NOW,
    REG,
    REP,
    REPO,
    register,
    register_args,
    registry,
    reputation,
    require,
)

__all__ = ["registry", "reputation"]  # fixtures


def _manifest_module():
    path = REPO / "contracts" / "wasm_manifest.py"
    spec = importlib.util.spec_from_file_location("mycel_wasm_manifest", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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


# ----- the build reproduces the committed WASM ---------------------------------------------------


def _toolchain_present() -> bool:
    here = REPO / "contracts"
    has_emcc = shutil.which("emcc") is not None or (here / ".toolchain" / "bin" / "emcc").exists()
    return has_emcc and (here / ".venv312" / "bin" / "nearc").exists()


@pytest.mark.skipif(
    os.environ.get("MYCEL_TEST_WASM_BUILD") != "1" or not _toolchain_present(),
    reason="rebuilding takes minutes: set MYCEL_TEST_WASM_BUILD=1 with contracts/toolchain.sh run",
)
def test_build_reproduces_the_committed_wasm_byte_for_byte(tmp_path):
    """contracts/build.sh on a copy of contracts/ gives exactly the committed .wasm files."""
    manifest = _manifest_module()
    copy = tmp_path / "contracts"
    shutil.copytree(
        REPO / "contracts", copy, ignore=shutil.ignore_patterns(".venv312", ".toolchain", "build")
    )
    for name in manifest.CONTRACTS:
        (copy / name / "build").mkdir()
    for tool in (".venv312", ".toolchain"):
        (copy / tool).symlink_to(REPO / "contracts" / tool)
    env = {
        **os.environ,
        "PATH": str(REPO / "contracts" / ".toolchain" / "bin") + ":" + os.environ["PATH"],
    }
    done = subprocess.run(
        [str(copy / "build.sh")], capture_output=True, text=True, env=env, timeout=1800
    )
    assert done.returncode == 0, done.stderr[-2000:]
    for name in manifest.CONTRACTS:
        built = (copy / name / "build" / f"{name}.wasm").read_bytes()
        committed = (REPO / "contracts" / name / "build" / f"{name}.wasm").read_bytes()
        assert built == committed, f"{name}: the rebuild differs from the committed WASM"


# ----- every call on the WASM and on CPython ---------------------------------------------------


def test_every_logic_method_is_exported(registry, reputation):
    """main.py binds each method of the logic's dispatch table (a missing export would make
    the method exist under CPython and the ledger but not on NEAR)."""
    for twin in (registry, reputation):
        assert set(twin.logic.METHODS) <= set(twin.wasm.methods())


def test_registry_wasm_matches_cpython_logic(registry):
    price = 10**24 + 3  # u128 amounts must survive MicroPython's big ints exactly
    args = register_args(0, price=str(price))
    assert registry("register_pattern", args, "alice.test", deposit=DEPOSIT) == 1
    registry.refused(
        "Pattern already registered as 1",
        "register_pattern",
        {**args, "price_per_use": "1"},
        "bob.test",
        deposit=DEPOSIT,
    )
    registry.refused(
        "Insufficient payment", "use_pattern", {"pattern_id": 1}, "bob.test", deposit=price - 1
    )
    registry.refused(
        "Pattern not found", "use_pattern", {"pattern_id": 7}, "bob.test", deposit=price
    )
    paid = registry("use_pattern", {"pattern_id": 1}, "bob.test", deposit=price)
    assert paid["creator_share"] == str(price - price * 500 // 10_000)
    assert registry.last.promises[0].after == 0  # the share's refund path
    registry("rate_pattern", {"pattern_id": 1, "success": True, "rating": 4}, "bob.test")
    found = registry(
        "find_patterns", {"domain": "code", "min_reputation": 0.1}, "x.test", view=True
    )
    assert [p["id"] for p in found["patterns"]] == [1] and found["next_index"] is None
    assert (
        registry("get_pattern_by_hash", {"pattern_hash": "0" * 64}, "x.test", view=True)["id"] == 1
    )
    assert registry("get_pattern", {"pattern_id": 2}, "x.test", view=True) is None
    assert registry("withdraw_fees", {}, "owner.test") == str(price * 500 // 10_000)
    assert registry("withdraw_fees", {}, "owner.test") == "0"


def test_registry_ratings_decay_alike_over_time(registry):
    for n in (1, 2, 3):
        register(registry, n, price=str(CAP // 3))
    for day, (pattern_id, success, rating) in enumerate(
        [(1, True, 5), (1, False, 1), (2, True, 4), (1, True, 5), (3, False, 2), (2, True, 5)]
    ):
        now = NOW + day * 17 * DAY  # across several 30-day half-lives
        paid = CAP // 3 + day * 10**21  # a different weight each time
        registry("use_pattern", {"pattern_id": pattern_id}, "bob.test", deposit=paid, now=now)
        args = {"pattern_id": pattern_id, "success": success, "rating": rating}
        rated = registry("rate_pattern", args, "bob.test", now=now)
        assert rated["rating_count"] >= 1
    for threshold in (0, 0.1, 0.25, 0.3, 0.33, 0.5, 0.7, 1):
        args = {"domain": "code", "min_reputation": threshold, "limit": 2}
        registry("find_patterns", args, "x.test", view=True)
    registry("get_creator", {"account": "alice.test"}, "x.test", view=True)


def test_registry_refuses_bad_input_with_the_same_message(registry):
    register(registry, 1)
    max_u128 = (1 << 128) - 1
    assert register(registry, 2, price=str(max_u128)) == 2
    registry.refused(
        "Invalid price_per_use: out of u128 range",
        "register_pattern",
        {**register_args(15, domain="d"), "price_per_use": max_u128 + 1},
        "alice.test",
        deposit=DEPOSIT,
    )
    bad_register = [
        ({"price_per_use": "1e3"}, "Invalid price_per_use: expected a decimal string"),
        ({"price_per_use": True}, "Invalid price_per_use: expected a decimal string"),
        ({"pattern_hash": "A" * 64}, "Invalid pattern_hash: expected 64 lowercase hex characters"),
        ({"metadata_cid": "Qm0"}, "Invalid metadata_cid: expected an IPFS CIDv0 (Qm...) or"),
        ({"domain": "Code!"}, "Invalid domain: 1-64 characters of a-z, 0-9, '_' or '-'"),
    ]
    for change, message in bad_register:
        args = {**register_args(14, domain="d"), **change}
        with pytest.raises(ContractPanic, match="^" + re.escape(message)):
            registry("register_pattern", args, "alice.test", deposit=DEPOSIT)
    registry.refused(
        f"Attach the storage deposit: {DEPOSIT} yoctoNEAR",
        "register_pattern",
        register_args(14),
        "alice.test",
        deposit=DEPOSIT - 1,
    )
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
        "Rate only after a paid use of a priced pattern",
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
    registry.refused(
        "Invalid from_index: expected an integer 0-1000",
        "find_patterns",
        {"domain": "code", "from_index": 1001},
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
    wasm = require("pattern_registry")
    ctx = CallContext(REG, REG, REG, 0, NOW)
    with pytest.raises(ContractPanic, match=r"^Unexpected error: ValueError: "):
        wasm.call("init", None, ctx, raw_input=b"{not json")
    with pytest.raises(ContractPanic, match="MethodNotFound"):
        wasm.call("no_such_method", {}, ctx)
    assert wasm.storage == {}


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
        "Invalid entries: expected 1-128 rewards",
        "record_validator_rewards",
        {"epoch": 1, "entries": {}},
        "owner.test",
    )
    reputation.refused("Unexpected argument: extra", "get_config", {"extra": 1, "more": 2}, "x")


def test_registry_find_patterns_over_a_full_page(registry):
    """A call that allocates well past nearc's stock 32 KiB heap: with its heap at that size the
    runtime's garbage collector ran off linear memory and the call trapped (20 patterns did)."""
    for n in range(1, 61):
        register(registry, n)
    found = registry("find_patterns", {"domain": "code", "limit": 100}, "x.test", view=True)
    assert [p["id"] for p in found["patterns"]] == list(range(1, 61))
