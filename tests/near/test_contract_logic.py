"""The contract logic under the CPython host alone (in-memory storage, no ledger)."""

from __future__ import annotations

import json

import pytest

from mycel_subnet.near.host import CallContext, ContractPanic, Host, load_logic, run_method

REG = "registry.test"
REP = "reputation.test"
CID = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"
DEPOSIT = 4 * 10**22


@pytest.fixture
def registry():
    logic = load_logic("pattern_registry")
    storage: dict[str, str] = {}

    def call(method, args, *, who="alice.test", deposit=0, now=10**18, results=()):
        ctx = CallContext(REG, who, who, deposit, now, promise_results=results)
        host = Host(ctx, storage)
        return run_method(logic, host, method, args), host

    call.storage = storage
    call("init", {"owner": "owner.test", "reputation_contract": REP}, who=REG)
    return call


def _args(n=0, price="5", domain="code"):
    return {
        "pattern_hash": format(n, "064x"),
        "metadata_cid": CID,
        "domain": domain,
        "price_per_use": price,
    }


def test_register_returns_sequential_ids_and_refuses_duplicate_hash(registry):
    assert registry("register_pattern", _args(0), deposit=DEPOSIT)[0] == 1
    assert registry("register_pattern", _args(1), deposit=DEPOSIT)[0] == 2
    with pytest.raises(ContractPanic, match="Pattern already registered as 1"):
        registry("register_pattern", _args(0), who="bob.test", deposit=DEPOSIT)


def test_register_takes_the_storage_deposit_and_sends_back_the_excess(registry):
    with pytest.raises(ContractPanic, match=f"^Attach the storage deposit: {DEPOSIT} yoctoNEAR$"):
        registry("register_pattern", _args(0), deposit=DEPOSIT - 1)
    _, host = registry("register_pattern", _args(0), deposit=DEPOSIT + 7)
    assert [(t.receiver, t.amount) for t in host.transfers] == [("alice.test", 7)]
    (callback,) = host.promises  # the refund has the refund path too
    assert (callback.receiver, callback.method, callback.after) == (REG, "on_transfer_done", 0)
    assert json.loads(registry.storage["p:1"])["deposit"] == str(DEPOSIT)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("pattern_hash", "xyz", "Invalid pattern_hash"),
        ("pattern_hash", "A" * 64, "Invalid pattern_hash"),
        ("metadata_cid", "not-a-cid", "Invalid metadata_cid"),
        ("domain", "Legal Docs", "Invalid domain"),
        ("domain", "d" * 65, "Invalid domain"),
        ("price_per_use", "1.5", "Invalid price_per_use"),
        ("price_per_use", str(1 << 128), "Invalid price_per_use"),
        ("price_per_use", True, "Invalid price_per_use"),
    ],
)
def test_register_rejects_bad_input_with_named_field(registry, field, value, message):
    with pytest.raises(ContractPanic, match=message):
        registry("register_pattern", {**_args(0), field: value}, deposit=DEPOSIT)


def test_dispatch_checks_arguments_and_deposit(registry):
    with pytest.raises(ContractPanic, match="Missing argument: metadata_cid"):
        registry("register_pattern", {"pattern_hash": "0" * 64}, deposit=DEPOSIT)
    with pytest.raises(ContractPanic, match="Unexpected argument: evil"):
        registry("get_config", {"evil": 1})
    with pytest.raises(ContractPanic, match="doesn't accept deposit"):
        registry("get_config", {}, deposit=1)
    with pytest.raises(ContractPanic, match="Unknown method"):
        registry("drain", {})


def test_use_pattern_sends_the_share_with_a_refund_path_and_init_is_private(registry):
    registry("register_pattern", _args(0, price="100"), deposit=DEPOSIT)
    out, host = registry("use_pattern", {"pattern_id": 1}, who="bob.test", deposit=101)
    assert out == {"pattern_id": 1, "paid": "101", "creator_share": "96", "fee": "5"}
    assert [(t.receiver, t.amount) for t in host.transfers] == [("alice.test", 96)]
    (callback,) = host.promises
    assert callback.after == 0 and callback.args == {
        "receiver": "alice.test",
        "amount": "96",
        "kind": "creator",
    }
    with pytest.raises(ContractPanic, match="Only the contract account can initialize"):
        registry("init", {"owner": "x.test", "reputation_contract": REP}, who="mallory.test")


def test_transfer_callback_is_private_and_credits_only_on_failure(registry):
    args = {"receiver": "alice.test", "amount": "96", "kind": "creator"}
    with pytest.raises(ContractPanic, match="^Only the contract itself can call this$"):
        registry("on_transfer_done", args, who="alice.test", results=(None,))
    with pytest.raises(ContractPanic, match="^Expected the result of one transfer$"):
        registry("on_transfer_done", args, who=REG)
    assert registry("on_transfer_done", args, who=REG, results=(b"",))[0] == {"sent": True}
    assert registry("get_payout", {"account": "alice.test"})[0] == "0"
    assert registry("on_transfer_done", args, who=REG, results=(None,))[0] == {"sent": False}
    assert registry("get_payout", {"account": "alice.test"})[0] == "96"
    fees = {"receiver": "owner.test", "amount": "5", "kind": "fees"}
    registry("on_transfer_done", fees, who=REG, results=(None,))
    assert registry("get_config", {})[0]["fees_collected"] == "5"  # back in the owner's pool
    assert registry("get_payout", {"account": "owner.test"})[0] == "0"


def test_rate_weighs_the_payment_and_schedules_reputation(registry):
    cap = 10**23  # the default rating_weight_cap: 0.1 NEAR paid is a full-weight rating
    registry("register_pattern", _args(0, price=str(cap // 4)), deposit=DEPOSIT)
    registry("use_pattern", {"pattern_id": 1}, who="bob.test", deposit=cap // 4)
    rated, host = registry(
        "rate_pattern", {"pattern_id": 1, "success": True, "rating": 4}, who="bob.test"
    )
    (promise,) = host.promises
    assert (promise.receiver, promise.method) == (REP, "update_reputation")
    assert promise.args == {
        "account": "alice.test",
        "pattern_id": 1,
        "outcome": {"success": True, "rating": 4, "weight_ppm": 250_000},
    }
    assert rated["w_weight"] == 250_000
    # prior 0.25 at weight 2, observed (4 - 1) / 4 x 1 = 0.75 at weight 0.25
    assert rated["reputation_ppm"] == (2 * 250_000 + 750_000 // 4) * 10**6 // (2_250_000)
    registry("use_pattern", {"pattern_id": 1}, who="bob.test", deposit=cap * 10)
    again, _ = registry(
        "rate_pattern", {"pattern_id": 1, "success": True, "rating": 4}, who="bob.test"
    )
    assert again["w_weight"] == 1_250_000  # paying more than the cap weighs the cap


def test_free_pattern_cannot_be_rated(registry):
    registry("register_pattern", _args(0, price="0"), deposit=DEPOSIT)
    registry("use_pattern", {"pattern_id": 1}, who="bob.test")
    assert "u:1:bob.test" not in registry.storage  # a free use leaves nothing behind
    with pytest.raises(ContractPanic, match="^Rate only after a paid use of a priced pattern$"):
        registry("rate_pattern", {"pattern_id": 1, "success": True, "rating": 5}, who="bob.test")


def test_view_host_refuses_writes():
    logic = load_logic("pattern_registry")
    host = Host(CallContext(REG, REG, view=True), {})
    with pytest.raises(ContractPanic, match="ProhibitedInView"):
        run_method(logic, host, "init", {"owner": "o.test", "reputation_contract": REP})


def test_find_patterns_pages_with_a_bounded_scan(registry):
    logic = load_logic("pattern_registry")
    scan = logic.MAX_SCAN_PER_CALL
    total = scan * 2 + 17
    for n in range(total):
        registry("register_pattern", _args(n), deposit=DEPOSIT)
    reads = []

    class Counting(dict):
        def get(self, key, default=None):
            if key.startswith("p:"):
                reads.append(key)
            return super().get(key, default)

    def page(**kwargs):
        host = Host(CallContext(REG, "x.test", view=True), Counting(registry.storage))
        reads.clear()
        return run_method(logic, host, "find_patterns", {"domain": "code", **kwargs})

    first = page(limit=100)
    assert [p["id"] for p in first["patterns"]] == list(range(1, 101))
    assert first["next_index"] == 100 and len(reads) == 100
    picky = page(limit=100, min_reputation=0.9)  # nothing matches: one scan-bounded page
    assert picky == {"patterns": [], "next_index": scan} and len(reads) == scan
    seen, start = [], 0
    while start is not None:
        got = page(limit=100, min_reputation=0, from_index=start)
        assert len(reads) <= scan
        seen += [p["id"] for p in got["patterns"]]
        start = got["next_index"]
    assert seen == list(range(1, total + 1))
    assert page(from_index=total) == {"patterns": [], "next_index": None}
    with pytest.raises(ContractPanic, match="^Invalid from_index: expected an integer 0-1000$"):
        page(from_index=-1)


def test_stored_fields_are_read_without_being_fooled_by_text():
    """find_patterns reads reputation and status out of the stored JSON text; a key in quotes
    followed by a colon cannot occur inside a JSON string, whatever the text holds."""
    logic = load_logic("pattern_registry")
    record = {
        "quarantine_reason": 'x", "status": "quarantined", "reputation_ppm": 999999, "y": "',
        "status": "verified",
        "reputation_ppm": 12,
    }
    raw = json.dumps(record).encode()
    assert logic._int_field(raw, logic.REPUTATION_KEY) == 12
    assert not logic._is_quarantined(raw)
    assert logic._is_quarantined(json.dumps({**record, "status": "quarantined"}).encode())
    assert logic._int_field(b'{"reputation_ppm":   7}', logic.REPUTATION_KEY) == 7


def test_storage_deposit_covers_the_largest_pattern(registry):
    """NEAR stakes 1e19 yoctoNEAR per byte, counting each key, its value and 40 bytes per
    record. The largest pattern (longest fields, biggest numbers, a full attestation map, a
    quarantine reason) must fit in what its deposit pays for."""
    logic = load_logic("pattern_registry")
    cid = "b" + "a" * (logic.MAX_CID_LEN - 1)
    domain = "d" * logic.MAX_DOMAIN_LEN
    creator = "c" * 59 + ".near"
    attesters = [format(i, "02d") + "a" * 57 + ".near" for i in range(logic.MAX_ATTESTERS)]
    for name in attesters:
        registry("add_attester", {"account": name}, who="owner.test")
    args = {**_args(0, price=str((1 << 128) - 1), domain=domain), "metadata_cid": cid}
    registry("register_pattern", args, who=creator, deposit=DEPOSIT)
    registry.storage["cfg"] = json.dumps({**json.loads(registry.storage["cfg"]), "next_id": 10**9})
    for i, name in enumerate(attesters):
        reason = '"\\' * (logic.MAX_REASON_LEN // 2)  # JSON doubles every one of these
        verdict = {"pattern_id": 1, "quality_ppm": 1_000_000, "safe": i % 2 == 0}
        registry("attest_pattern", {**verdict, "reason": reason}, who=name, now=2**62)
    pattern = json.loads(registry.storage["p:1"])
    assert pattern["status"] == "quarantined" and len(pattern["quarantine_reason"]) == 200
    for field in ("usage_count", "rating_count", "success_count", "last_rated_at"):
        pattern[field] = 2**63
    for field in ("w_weight", "w_rating", "w_success"):
        pattern[field] = 10**15
    pattern["id"] = pattern["registered_at"] = 10**9
    pattern["total_earned"] = str((1 << 128) - 1)
    owned = {
        "p:1000000000": json.dumps(pattern),
        "h:" + "0" * 64: str(10**9),
        "a:1000000000": registry.storage["a:1"],
    }
    used = sum(len(k) + len(v) + 40 for k, v in owned.items()) + len(str(10**9)) + 1
    assert used * logic.NEAR_BYTE_COST <= logic.STORAGE_DEPOSIT, used


def test_decay_is_exact_at_half_lives_and_monotone():
    logic = load_logic("pattern_registry")
    h = logic.HALF_LIFE_NS
    assert logic.decay_ppm(0) == 1_000_000
    assert logic.decay_ppm(h) == 500_000
    assert logic.decay_ppm(2 * h) == 250_000
    samples = [logic.decay_ppm(h * k // 7) for k in range(30)]
    assert samples == sorted(samples, reverse=True)


def test_reputation_account_rules():
    logic = load_logic("reputation")
    assert logic.is_account_id("alice.near")
    assert logic.is_account_id("a-b_c.testnet")
    assert not logic.is_account_id("Alice.near")
    assert not logic.is_account_id("a..b")
    assert not logic.is_account_id(".a")
    assert logic.is_ss58("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY")


def test_reputation_reads_scores_written_before_weights():
    """A score stored by the version that counted every use as one full rating keeps its value."""
    logic = load_logic("reputation")
    old = {
        "account": "alice.test",
        "successful_uses": 2,
        "failed_uses": 1,
        "total_rating": 9,
        "reward_ema_ppm": 0,
        "reward_epochs": 0,
        "last_epoch": -1,
        "composite_ppm": 0,
        "updated_at": 0,
    }
    host = Host(CallContext(REP, "x.test", view=True), {"s:alice.test": json.dumps(old)})
    score = run_method(logic, host, "get_reputation", {"account": "alice.test"})
    # the old formula: avg (6 + 9) / 4 stars -> 0.6875; success (2 + 1) / (3 + 2)
    assert score["composite_ppm"] == (3_750_000 - 1_000_000) // 4 * 3_000_000 // 5_000_000


@pytest.mark.parametrize("raw", ["١", "²", "-1", "1.5", "", " 1"])
def test_client_models_refuse_non_ascii_or_non_decimal_amounts(raw):
    from pydantic import TypeAdapter, ValidationError

    from mycel_subnet.near.models import U128

    with pytest.raises(ValidationError, match="U128"):
        TypeAdapter(U128).validate_python(raw)
    assert TypeAdapter(U128).validate_python("340282366920938463463374607431768211455") == (
        (1 << 128) - 1
    )


def _reference_account_id(value: str) -> bool:
    """NEAR's rule written plainly (the contracts check it with C-level string methods)."""
    if not 2 <= len(value) <= 64:
        return False
    parts = value.replace("-", ".").replace("_", ".").split(".")
    allowed = set("abcdefghijklmnopqrstuvwxyz0123456789")
    return all(part and set(part) <= allowed for part in parts)


@pytest.mark.parametrize("kind", ["pattern_registry", "reputation"])
def test_account_id_check_matches_the_rule(kind):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    check = load_logic(kind).is_account_id
    alphabet = st.sampled_from(list("ab09-_.Z é"))

    @settings(max_examples=400, deadline=None)
    @given(st.text(alphabet, min_size=0, max_size=70))
    def agrees(value):
        assert check(value) == _reference_account_id(value), value

    agrees()
    assert check("a" * 64) and not check("a" * 65) and not check("a-_b")
