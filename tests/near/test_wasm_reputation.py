"""ReputationSystem: the WASM against CPython (tests/near/twin.py): weighted updates, rewards,
hotkey binding and every refusal."""

from __future__ import annotations

from tests.near.twin import HOTKEY, REG, reputation

__all__ = ["reputation"]  # the fixture
SIG = "0x" + "ab" * 64
OTHER = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty"


def test_reputation_wasm_matches_cpython_logic(reputation):
    update = {
        "account": "alice.test",
        "pattern_id": 1,
        "outcome": {"success": True, "rating": 5, "weight_ppm": 250_000},
    }
    reputation.refused("Unauthorized", "update_reputation", update, "bob.test")
    reputation("update_reputation", update, REG)
    failed = {**update, "outcome": {"success": False, "rating": 1, "weight_ppm": 0}}
    assert reputation("update_reputation", failed, REG)["failed_uses"] == 1
    old_registry = {**update, "outcome": {"success": True, "rating": 4}}  # full weight
    assert reputation("update_reputation", old_registry, REG)["w_good_ppm"] == 1_250_000
    reputation.refused(
        "Invalid outcome: expected {success: bool, rating: 1-5, weight_ppm}",
        "update_reputation",
        {**update, "outcome": {"success": True, "rating": 5, "weight_ppm": 1_000_001}},
        REG,
    )
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


def test_binding_matches_and_credits_the_bound_account(reputation):
    reputation("add_validator", {"account": "val.test"}, "owner.test")
    reputation.refused(
        "Invalid hotkey: expected an SS58 address",
        "bind_hotkey",
        {"hotkey": "alice.test", "signature": SIG},
        "alice.test",
    )
    for bad in ("0x" + "ab" * 63, "g" * 128, 7):
        reputation.refused(
            "Invalid signature: expected 64 bytes of hex (128 characters, optional 0x)",
            "bind_hotkey",
            {"hotkey": HOTKEY, "signature": bad},
            "alice.test",
        )
    request = reputation("bind_hotkey", {"hotkey": HOTKEY, "signature": "AB" * 64}, "alice.test")
    assert request["statement"] == "mycel-bind:v1:alice.test:" + HOTKEY
    assert request["signature"] == SIG
    reputation("bind_hotkey", {"hotkey": HOTKEY, "signature": SIG}, "carol.test")
    pending = reputation("get_binding", {"hotkey": HOTKEY}, "x.test", view=True)
    assert pending["account"] is None and len(pending["requests"]) == 2
    reputation.refused(
        "Unauthorized", "confirm_binding", {"hotkey": HOTKEY, "account": "alice.test"}, "bob.test"
    )
    reputation.refused(
        "No binding request of bob.test for " + HOTKEY,
        "confirm_binding",
        {"hotkey": HOTKEY, "account": "bob.test"},
        "val.test",
    )
    reputation("reject_binding", {"hotkey": HOTKEY, "account": "carol.test"}, "val.test")
    bound = reputation("confirm_binding", {"hotkey": HOTKEY, "account": "alice.test"}, "val.test")
    assert (bound["account"], bound["confirmed_by"]) == ("alice.test", "val.test")
    entries = {HOTKEY: 800_000, OTHER: 300_000, "alice.test": 500_000}
    done = reputation("record_validator_rewards", {"epoch": 1, "entries": entries}, "val.test")
    assert done == {"epoch": 1, "part": 0, "recorded": 2, "credited": 1}
    alice = reputation("get_reputation", {"account": "alice.test"}, "x.test", view=True)
    assert alice["reward_ema_ppm"] == 800_000  # the best entry landing on the account
    reputation.refused(
        "Only the bound account can unbind " + HOTKEY,
        "unbind_hotkey",
        {"hotkey": HOTKEY},
        "carol.test",
    )
    assert reputation("unbind_hotkey", {"hotkey": HOTKEY}, "alice.test")["account"] is None
    for n in range(10):
        reputation("bind_hotkey", {"hotkey": OTHER, "signature": SIG}, f"sock{n}.test")
    view = reputation("get_binding", {"hotkey": OTHER}, "x.test", view=True)
    assert [r["account"] for r in view["requests"]] == [f"sock{n}.test" for n in range(2, 10)]
