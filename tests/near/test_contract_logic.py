"""The contract logic under the CPython host alone (in-memory storage, no ledger)."""

from __future__ import annotations

import pytest

from mycel_subnet.near.host import CallContext, ContractPanic, Host, load_logic, run_method

REG = "registry.test"
REP = "reputation.test"
CID = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"


@pytest.fixture
def registry():
    logic = load_logic("pattern_registry")
    storage: dict[str, str] = {}

    def call(method, args, *, who="alice.test", deposit=0, now=10**18):
        host = Host(CallContext(REG, who, who, deposit, now), storage)
        return run_method(logic, host, method, args), host

    call("init", {"owner": "owner.test", "reputation_contract": REP}, who=REG)
    return call


def test_register_returns_sequential_ids_and_refuses_duplicate_hash(registry):
    args = {"pattern_hash": "0" * 64, "metadata_cid": CID, "domain": "code", "price_per_use": "5"}
    assert registry("register_pattern", args)[0] == 1
    assert registry("register_pattern", {**args, "pattern_hash": "1" * 64})[0] == 2
    with pytest.raises(ContractPanic, match="Pattern already registered as 1"):
        registry("register_pattern", args, who="bob.test")


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
    args = {"pattern_hash": "0" * 64, "metadata_cid": CID, "domain": "code", "price_per_use": "5"}
    with pytest.raises(ContractPanic, match=message):
        registry("register_pattern", {**args, field: value})


def test_dispatch_checks_arguments_and_deposit(registry):
    with pytest.raises(ContractPanic, match="Missing argument: metadata_cid"):
        registry("register_pattern", {"pattern_hash": "0" * 64})
    with pytest.raises(ContractPanic, match="Unexpected argument: evil"):
        registry("get_config", {"evil": 1})
    with pytest.raises(ContractPanic, match="doesn't accept deposit"):
        registry("get_config", {}, deposit=1)
    with pytest.raises(ContractPanic, match="Unknown method"):
        registry("drain", {})


def test_use_pattern_records_transfer_and_init_is_private(registry):
    args = {"pattern_hash": "0" * 64, "metadata_cid": CID, "domain": "code", "price_per_use": "100"}
    registry("register_pattern", args)
    out, host = registry("use_pattern", {"pattern_id": 1}, who="bob.test", deposit=101)
    assert out == {"pattern_id": 1, "paid": "101", "creator_share": "96", "fee": "5"}
    assert [(t.receiver, t.amount) for t in host.transfers] == [("alice.test", 96)]
    with pytest.raises(ContractPanic, match="Only the contract account can initialize"):
        registry("init", {"owner": "x.test", "reputation_contract": REP}, who="mallory.test")


def test_rate_schedules_reputation_promise(registry):
    args = {"pattern_hash": "0" * 64, "metadata_cid": CID, "domain": "code", "price_per_use": "0"}
    registry("register_pattern", args)
    registry("use_pattern", {"pattern_id": 1}, who="bob.test")
    _, host = registry(
        "rate_pattern", {"pattern_id": 1, "success": True, "rating": 4}, who="bob.test"
    )
    (promise,) = host.promises
    assert (promise.receiver, promise.method) == (REP, "update_reputation")
    assert promise.args == {
        "account": "alice.test",
        "pattern_id": 1,
        "outcome": {"success": True, "rating": 4},
    }


def test_view_host_refuses_writes():
    logic = load_logic("pattern_registry")
    host = Host(CallContext(REG, REG, view=True), {})
    with pytest.raises(ContractPanic, match="ProhibitedInView"):
        run_method(logic, host, "init", {"owner": "o.test", "reputation_contract": REP})


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


@pytest.mark.parametrize("raw", ["١", "²", "-1", "1.5", "", " 1"])
def test_client_models_refuse_non_ascii_or_non_decimal_amounts(raw):
    from pydantic import TypeAdapter, ValidationError

    from mycel_subnet.near.models import U128

    with pytest.raises(ValidationError, match="U128"):
        TypeAdapter(U128).validate_python(raw)
    assert TypeAdapter(U128).validate_python("340282366920938463463374607431768211455") == (
        (1 << 128) - 1
    )
