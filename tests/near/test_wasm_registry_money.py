"""The registry's deposit, payout, attestation and callback paths: the WASM against CPython,
every result, panic, transfer, callback and storage entry (tests/near/twin.py)."""

from __future__ import annotations

import json

from tests.near.twin import CAP, DEPOSIT, NOW, REG, register, register_args, registry

__all__ = ["registry"]  # the fixture


def test_deposit_refunds_and_removal_match(registry):
    registry("register_pattern", register_args(1), "alice.test", deposit=DEPOSIT + 9)
    (refund,) = registry.last.transfers
    assert (refund.receiver, refund.amount) == ("alice.test", 9)
    registry.refused(
        "Only the creator can remove a pattern", "remove_pattern", {"pattern_id": 1}, "bob.test"
    )
    out = registry("remove_pattern", {"pattern_id": 1}, "alice.test")
    assert out == {"pattern_id": 1, "refund": str(DEPOSIT)}
    assert [t.amount for t in registry.last.transfers] == [DEPOSIT]
    assert not any(k.startswith(("p:", "h:", "d:")) for k in registry.storage)
    registry.refused("Pattern not found", "remove_pattern", {"pattern_id": 1}, "alice.test")
    policy = {"storage_deposit": "5", "rating_weight_cap": "10", "attest_interval_ns": 0}
    registry.refused("Only the owner can do this", "set_policy", policy, "alice.test")
    registry.refused(
        "Invalid rating_weight_cap: expected at least 1 yoctoNEAR",
        "set_policy",
        {"rating_weight_cap": "0"},
        "owner.test",
    )
    assert registry("set_policy", policy, "owner.test")["storage_deposit"] == "5"
    assert register(registry, 2, deposit=5) == 2


def test_callbacks_credit_failed_transfers_alike(registry):
    register(registry, 1, price=str(CAP))
    registry("use_pattern", {"pattern_id": 1}, "bob.test", deposit=CAP)
    (callback,) = registry.last.promises
    assert (callback.receiver, callback.method, callback.after) == (REG, "on_transfer_done", 0)
    registry.refused(
        "Only the contract itself can call this", "on_transfer_done", callback.args, "bob.test"
    )
    registry.refused("Expected the result of one transfer", "on_transfer_done", callback.args, REG)
    assert registry("on_transfer_done", callback.args, REG, results=[b""]) == {"sent": True}
    assert registry("on_transfer_done", callback.args, REG, results=[None]) == {"sent": False}
    owed = str(CAP - CAP * 500 // 10_000)
    assert registry("get_payout", {"account": "alice.test"}, "x.test", view=True) == owed
    registry.refused(
        "Invalid account: expected a NEAR account id",
        "get_payout",
        {"account": "Not Valid"},
        "x.test",
        view=True,
    )
    assert registry("withdraw_payout", {}, "alice.test") == owed
    assert [(t.receiver, str(t.amount)) for t in registry.last.transfers] == [("alice.test", owed)]
    assert registry("withdraw_payout", {}, "alice.test") == "0"
    fees = {"receiver": "owner.test", "amount": "25", "kind": "fees"}
    before = int(registry("get_config", {}, "x.test", view=True)["fees_collected"])
    registry("on_transfer_done", fees, REG, results=[None])
    assert int(registry("get_config", {}, "x.test", view=True)["fees_collected"]) == before + 25


def test_free_and_weighted_ratings_match(registry):
    register(registry, 1, price="0")
    register(registry, 2, price=str(CAP))
    registry("use_pattern", {"pattern_id": 1}, "bob.test")
    registry.refused(
        "Rate only after a paid use of a priced pattern",
        "rate_pattern",
        {"pattern_id": 1, "success": True, "rating": 5},
        "bob.test",
    )
    for paid in (CAP // 7, CAP * 3, 1):
        registry("use_pattern", {"pattern_id": 2}, "bob.test", deposit=max(paid, CAP))
    for rating in (5, 2, 4):
        registry(
            "rate_pattern", {"pattern_id": 2, "success": rating > 3, "rating": rating}, "bob.test"
        )
    assert registry.last.promises[0].args["outcome"]["weight_ppm"] == 1_000_000
    assert registry("get_creator", {"account": "alice.test"}, "x.test", view=True)["patterns"] == 2


def test_attestation_and_quarantine_match(registry):
    for name in ("val.test", "val2.test"):
        registry("add_attester", {"account": name}, "owner.test")
    registry.refused(
        "Invalid account: expected a NEAR account id",
        "add_attester",
        {"account": "BAD"},
        "owner.test",
    )
    register(registry, 1, price=str(CAP))
    register(registry, 2, price=str(CAP))
    verdict = {"pattern_id": 1, "quality_ppm": 900_000, "safe": True}
    registry.refused("Only an attester can attest patterns", "attest_pattern", verdict, "bob.test")
    registry("attest_pattern", verdict, "val.test")
    registry.refused(
        "Attested too recently: next attestation of pattern 1 by val.test at "
        + str(NOW + 3600 * 10**9),
        "attest_pattern",
        verdict,
        "val.test",
    )
    registry.refused(
        "Invalid reason: an unsafe verdict needs a reason",
        "attest_pattern",
        {**verdict, "safe": False},
        "val2.test",
    )
    registry.refused(
        "Invalid reason: up to 200 printable ASCII characters",
        "attest_pattern",
        {**verdict, "safe": False, "reason": "\u00e9"},
        "val2.test",
    )
    registry.refused(
        "Invalid safe: expected true or false",
        "attest_pattern",
        {**verdict, "safe": 1},
        "val2.test",
    )
    # A reason built to look like fields: the text scan of find_patterns is not fooled.
    sly = 'x", "status": "verified", "reputation_ppm": 999999, "q": "'
    out = registry("attest_pattern", {**verdict, "safe": False, "reason": sly}, "val2.test")
    assert out["status"] == "quarantined" and out["quarantine_reason"] == sly
    page = registry("find_patterns", {"domain": "code", "limit": 100}, "x.test", view=True)
    assert [p["id"] for p in page["patterns"]] == [2]
    registry.refused(
        "Pattern is quarantined: " + sly, "use_pattern", {"pattern_id": 1}, "bob.test", deposit=CAP
    )
    listed = registry("get_attestations", {"pattern_id": 1}, "x.test", view=True)
    assert [(a["attester"], a["safe"]) for a in listed] == [
        ("val.test", True),
        ("val2.test", False),
    ]
    registry("remove_attester", {"account": "val2.test"}, "owner.test")
    later = NOW + 2 * 3600 * 10**9
    cleared = registry("attest_pattern", {**verdict, "quality_ppm": 10}, "val.test", now=later)
    assert (cleared["status"], cleared["attestations"]) == ("verified", 1)
    assert json.loads(registry.storage["a:1"]).keys() == {"val.test"}
