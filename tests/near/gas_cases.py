"""The largest inputs each contract method accepts, run on the WASM against CPython (twin.py),
with the gas each call used (wasm_vm's estimate). Used by tests/near/test_wasm_gas.py (which
holds every call to half of NEAR's 300 Tgas) and benchmarks/bench_contract_gas.py (prints).

Largest means: the longest strings the contract accepts (64-character accounts and domains,
128-character CIDs, 200-character reasons), the biggest numbers, the domain at its 1000-pattern
cap, a full attestation map, the most pending ratings and binding requests, a 256-uid mirror of
bound hotkeys (two calls of 128).
"""

from __future__ import annotations

from collections.abc import Callable

from tests.near.twin import DEPOSIT, NOW, REG, REP, Twin, cpython_call, require

DOMAIN = "d" * 64
CID = "b" + "a" * 127
MAX_U128 = (1 << 128) - 1
HOUR = 3600 * 10**9
REASON = "x" * 200


def account(prefix: str, n: int) -> str:
    """A 64-character NEAR account id."""
    head = f"{prefix}{n}."
    return head + "a" * (64 - len(head) - 5) + ".near"


def hotkey(n: int) -> str:
    """A 48-character SS58-shaped hotkey (the contract checks shape, not checksum)."""
    return "5" + format(n, "06d").translate(str.maketrans("0", "A")) + "G" * 41


Case = tuple[str, object]  # (what was called, the WASM run with its gas)


def registry_cases(progress: Callable[[str], None] = lambda _: None) -> tuple[Twin, list[Case]]:
    """Fill a registry to its bounds on CPython, then run each method's largest call on both;
    returns the twin (left in that state) and the runs."""
    logic_kind = "pattern_registry"
    storage: dict[str, str] = {}

    def cpy(method, args, who, deposit=0, now=NOW):
        return cpython_call(logic_kind, storage, REG, method, args, who, deposit, now)

    cpy("init", {"owner": account("owner", 0), "reputation_contract": REP}, REG)
    attesters = [account("val", i) for i in range(16)]
    for name in attesters:
        cpy("add_attester", {"account": name}, account("owner", 0))
    progress("registering 999 patterns")
    for n in range(999):
        args = {
            "pattern_hash": format(n, "064x"),
            "metadata_cid": CID,
            "domain": DOMAIN,
            "price_per_use": str(MAX_U128 // 2),
        }
        cpy("register_pattern", args, account("creator", n % 7), DEPOSIT)
    user = account("user", 0)
    for _ in range(15):
        cpy("use_pattern", {"pattern_id": 1}, user, MAX_U128 // 2)
    for i, name in enumerate(attesters[:15]):  # 7 of them unsafe: the 16th's makes it half
        verdict = {"pattern_id": 2, "quality_ppm": 999_999, "safe": i >= 7, "reason": REASON}
        cpy("attest_pattern", verdict, name)
    twin = Twin(require(logic_kind), logic_kind, REG)
    twin.load(storage)
    cases: list[Case] = []

    def run(label, method, args, who, **kwargs):
        twin(method, args, who, **kwargs)
        cases.append((label, twin.last))

    progress("running the largest calls on the WASM")
    last = {
        "pattern_hash": "f" * 64,
        "metadata_cid": CID,
        "domain": DOMAIN,
        "price_per_use": str(MAX_U128),
    }
    run("register_pattern (1000th of its domain, excess refunded)", "register_pattern", last,
        account("creator", 1), deposit=DEPOSIT + MAX_U128 // 4)  # fmt: skip
    run("use_pattern (16th pending rating)", "use_pattern", {"pattern_id": 1}, user,
        deposit=MAX_U128 // 2)  # fmt: skip
    run("rate_pattern (16 pending)", "rate_pattern",
        {"pattern_id": 1, "success": True, "rating": 5}, user)  # fmt: skip
    verdict = {"pattern_id": 2, "quality_ppm": 0, "safe": False, "reason": REASON}
    run("attest_pattern (16th attester, quarantines)", "attest_pattern", verdict, attesters[15])
    view = {"view": True}
    run("get_attestations (16)", "get_attestations", {"pattern_id": 2}, "x.near", **view)
    run("get_pattern", "get_pattern", {"pattern_id": 1}, "x.near", **view)
    run("get_pattern_by_hash", "get_pattern_by_hash", {"pattern_hash": "f" * 64}, "x.near", **view)
    run("get_creator", "get_creator", {"account": account("creator", 1)}, "x.near", **view)
    run("get_config (16 attesters)", "get_config", {}, "x.near", **view)
    start: int | None = 0
    while start is not None:
        args = {"domain": DOMAIN, "min_reputation": 0, "limit": 100, "from_index": start}
        page = twin("find_patterns", args, "x.near", view=True)
        cases.append((f"find_patterns from {start} (limit 100, all match)", twin.last))
        start = page["next_index"]
    none = {"domain": DOMAIN, "min_reputation": 1, "limit": 100, "from_index": 0}
    run("find_patterns (a full scan, none match)", "find_patterns", none, "x.near", **view)
    run("remove_pattern (domain at its cap)", "remove_pattern", {"pattern_id": 3},
        account("creator", 2))  # fmt: skip
    done = {"receiver": account("creator", 1), "amount": str(MAX_U128), "kind": "creator"}
    run("on_transfer_done (a failed transfer)", "on_transfer_done", done, REG, results=[None])
    run("withdraw_payout", "withdraw_payout", {}, account("creator", 1))
    run("withdraw_fees", "withdraw_fees", {}, account("owner", 0))
    return twin, cases


def reputation_cases(progress: Callable[[str], None] = lambda _: None) -> list[Case]:
    """The reputation contract at its bounds: 256 rewards of bound hotkeys, full request lists."""
    kind = "reputation"
    storage: dict[str, str] = {}
    owner, validator = account("owner", 0), account("val", 0)

    def cpy(method, args, who, now=NOW):
        return cpython_call(kind, storage, REP, method, args, who, 0, now)

    cpy("init", {"owner": owner, "registry_contract": REG}, REP)
    for i in range(64):
        cpy("add_validator", {"account": account("val", i)}, owner)
    progress("binding 256 hotkeys")
    sig = "0x" + "ab" * 64
    for n in range(256):
        cpy("bind_hotkey", {"hotkey": hotkey(n), "signature": sig}, account("miner", n))
        cpy("confirm_binding", {"hotkey": hotkey(n), "account": account("miner", n)}, validator)
        update = {
            "account": account("miner", n),
            "pattern_id": 1,
            "outcome": {"success": True, "rating": 5, "weight_ppm": 1_000_000},
        }
        cpy("update_reputation", update, REG)
    for n in range(7):
        cpy("bind_hotkey", {"hotkey": hotkey(0), "signature": sig}, account("sock", n))
    twin = Twin(require(kind), kind, REP)
    twin.load(storage)
    cases: list[Case] = []

    def run(label, method, args, who, **kwargs):
        twin(method, args, who, **kwargs)
        cases.append((label, twin.last))

    progress("running the largest calls on the WASM")
    for part in (0, 1):  # a full subnet: 256 bound hotkeys in two parts of 128
        entries = {hotkey(n): 1_000_000 - n for n in range(part * 128, part * 128 + 128)}
        run(f"record_validator_rewards (128 bound hotkeys, part {part})",
            "record_validator_rewards", {"epoch": 2**62, "entries": entries, "part": part},
            validator)  # fmt: skip
    plain = {account("acct", n): n for n in range(128)}
    run("record_validator_rewards (128 new accounts)", "record_validator_rewards",
        {"epoch": 2**62 + 1, "entries": plain}, validator)  # fmt: skip
    update = {
        "account": account("miner", 0),
        "pattern_id": 2**62,
        "outcome": {"success": False, "rating": 1, "weight_ppm": 1_000_000},
    }
    run("update_reputation", "update_reputation", update, REG)
    run("bind_hotkey (8th request)", "bind_hotkey", {"hotkey": hotkey(0), "signature": sig},
        account("sock", 7))  # fmt: skip
    run("get_binding (8 requests)", "get_binding", {"hotkey": hotkey(0)}, "x.near", view=True)
    run("confirm_binding (8 requests)", "confirm_binding",
        {"hotkey": hotkey(0), "account": account("sock", 7)}, validator)  # fmt: skip
    run("reject_binding", "reject_binding", {"hotkey": hotkey(0), "account": account("sock", 0)},
        validator)  # fmt: skip
    run("get_reputation", "get_reputation", {"account": account("miner", 1)}, "x.near", view=True)
    run("add_validator (64 listed)", "add_validator", {"account": account("val", 1)}, owner)
    run("get_config (64 validators)", "get_config", {}, "x.near", view=True)
    return cases
