"""Both contracts on the local ledger: payments, ratings, reputation, rollback, two processes."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mycel_subnet.near.host import ContractPanic
from mycel_subnet.near.ledger import ONE_NEAR, LedgerError, LocalLedger
from tests.near.conftest import DEPOSIT, HASH_A, HASH_B, REGISTRY, REPUTATION, register

CAP = 10**23  # the default rating_weight_cap: paying this gives a rating full weight

REPO = Path(__file__).resolve().parents[2]


def test_registration_and_duplicate_refusal_earliest_wins(ledger):
    assert register(ledger, "alice.test", HASH_A, 10) == 1
    with pytest.raises(ContractPanic, match="Pattern already registered as 1"):
        register(ledger, "bob.test", HASH_A, 1)
    found = ledger.view(REGISTRY, "get_pattern_by_hash", {"pattern_hash": HASH_A})
    assert found["creator"] == "alice.test"
    assert ledger.view(REGISTRY, "get_pattern", {"pattern_id": 2}) is None


def test_payment_split_is_exact_in_yocto(ledger):
    price = 3 * ONE_NEAR + 7  # odd amount: the fee rounds down, the creator gets the rest
    register(ledger, "alice.test", HASH_A, price)
    before = {a: ledger.balance(a) for a in ("alice.test", "bob.test", REGISTRY)}
    outcome = ledger.call("bob.test", REGISTRY, "use_pattern", {"pattern_id": 1}, deposit=price)
    fee = price * 500 // 10_000
    assert outcome.result == {
        "pattern_id": 1,
        "paid": str(price),
        "creator_share": str(price - fee),
        "fee": str(fee),
    }
    assert ledger.balance("bob.test") == before["bob.test"] - price
    assert ledger.balance("alice.test") == before["alice.test"] + price - fee
    assert ledger.balance(REGISTRY) == before[REGISTRY] + fee
    assert [(t.receiver, t.amount) for t in ledger.transfers(outcome.tx_id)] == [
        ("alice.test", price - fee)
    ]
    pattern = ledger.view(REGISTRY, "get_pattern", {"pattern_id": 1})
    assert (pattern["usage_count"], pattern["total_earned"]) == (1, str(price))


def test_insufficient_payment_and_unknown_pattern_roll_back_and_refund(ledger):
    register(ledger, "alice.test", HASH_A, ONE_NEAR)
    bob = ledger.balance("bob.test")
    with pytest.raises(ContractPanic, match="Insufficient payment"):
        ledger.call("bob.test", REGISTRY, "use_pattern", {"pattern_id": 1}, deposit=ONE_NEAR - 1)
    with pytest.raises(ContractPanic, match="Pattern not found"):
        ledger.call("bob.test", REGISTRY, "use_pattern", {"pattern_id": 9}, deposit=ONE_NEAR)
    assert ledger.balance("bob.test") == bob
    assert ledger.view(REGISTRY, "get_pattern", {"pattern_id": 1})["usage_count"] == 0
    assert [t["error"] for t in ledger.failed_transactions()] == [
        "Insufficient payment",
        "Pattern not found",
    ]
    with pytest.raises(LedgerError, match="needs"):
        ledger.call("bob.test", REGISTRY, "use_pattern", {"pattern_id": 1}, deposit=10**30)


def test_owner_sets_fee_and_withdraws(ledger):
    with pytest.raises(ContractPanic, match="Only the owner"):
        ledger.call("alice.test", REGISTRY, "set_fee_rate", {"fee_bps": 0})
    ledger.call("owner.test", REGISTRY, "set_fee_rate", {"fee_bps": 1000})
    register(ledger, "alice.test", HASH_A, 1000)
    ledger.call("bob.test", REGISTRY, "use_pattern", {"pattern_id": 1}, deposit=1000)
    assert ledger.balance(REGISTRY) == DEPOSIT + 100  # the pattern's storage deposit + the fee
    owner = ledger.balance("owner.test")
    assert ledger.call("owner.test", REGISTRY, "withdraw_fees").result == "100"
    assert ledger.balance("owner.test") == owner + 100


def test_update_reputation_only_from_registry(ledger):
    args = {"account": "alice.test", "pattern_id": 1, "outcome": {"success": True, "rating": 5}}
    with pytest.raises(ContractPanic, match="^Unauthorized$"):
        ledger.call("bob.test", REPUTATION, "update_reputation", args)
    score = ledger.view(REPUTATION, "get_reputation", {"account": "alice.test"})
    assert score["successful_uses"] == 0


def test_rating_requires_paid_use_and_updates_both_contracts(ledger):
    register(ledger, "alice.test", HASH_A, CAP)
    rate = {"pattern_id": 1, "success": True, "rating": 5}
    with pytest.raises(ContractPanic, match="Rate only after a paid use"):
        ledger.call("bob.test", REGISTRY, "rate_pattern", rate)
    with pytest.raises(ContractPanic, match="Creators cannot rate"):
        ledger.call("alice.test", REGISTRY, "rate_pattern", rate)
    ledger.call("bob.test", REGISTRY, "use_pattern", {"pattern_id": 1}, deposit=CAP)
    outcome = ledger.call("bob.test", REGISTRY, "rate_pattern", rate)
    assert [(r.receiver, r.method, r.ok) for r in outcome.receipts] == [
        (REPUTATION, "update_reputation", True)
    ]
    with pytest.raises(ContractPanic, match="Rate only after a paid use"):
        ledger.call("bob.test", REGISTRY, "rate_pattern", rate)  # one rating per use
    score = ledger.view(REPUTATION, "get_reputation", {"account": "alice.test"})
    assert (score["successful_uses"], score["total_rating"]) == (1, 5)
    # One full-weight rating (it paid the cap): Bayesian average (2x3 + 5) / 3 = 11/3 stars ->
    # (11/3 - 1) / 4 = 2/3; success (1+1)/(1+2)
    assert score["composite_ppm"] == pytest.approx(2 / 3 * 2 / 3 * 1e6, abs=2)


def test_time_weighting_favours_recent_ratings(ledger, clock):
    register(ledger, "alice.test", HASH_A, CAP)
    register(ledger, "alice.test", HASH_B, CAP)

    def use_and_rate(pid, success, rating):
        ledger.call("bob.test", REGISTRY, "use_pattern", {"pattern_id": pid}, deposit=CAP)
        ledger.call(
            "bob.test",
            REGISTRY,
            "rate_pattern",
            {"pattern_id": pid, "success": success, "rating": rating},
        )

    # Same ratings, opposite order: the one whose good ratings are recent must rank higher.
    for _ in range(3):
        use_and_rate(1, False, 1)
        use_and_rate(2, True, 5)
    clock.advance_days(90)
    for _ in range(3):
        use_and_rate(1, True, 5)
        use_and_rate(2, False, 1)
    p1 = ledger.view(REGISTRY, "get_pattern", {"pattern_id": 1})
    p2 = ledger.view(REGISTRY, "get_pattern", {"pattern_id": 2})
    assert p1["w_weight"] == 3_000_000 + 3 * 125_000  # three ratings 3 half-lives old
    assert p1["reputation_ppm"] > p2["reputation_ppm"]


def test_find_patterns_filters_sorts_and_bounds(ledger):
    for i, h in enumerate(("1", "2", "3")):
        register(ledger, "alice.test", h * 64, CAP)
        ledger.call("bob.test", REGISTRY, "use_pattern", {"pattern_id": i + 1}, deposit=CAP)
    register(ledger, "alice.test", "4" * 64, 0, domain="legal")
    for pid, rating in ((1, 2), (2, 5), (3, 4)):
        ledger.call(
            "bob.test",
            REGISTRY,
            "rate_pattern",
            {"pattern_id": pid, "success": True, "rating": rating},
        )
    page = ledger.view(REGISTRY, "find_patterns", {"domain": "code"})
    assert [p["id"] for p in page["patterns"]] == [1, 2, 3]  # a page keeps the domain's order
    assert page["next_index"] is None
    found = sorted(page["patterns"], key=lambda p: -p["reputation_ppm"])
    assert [p["id"] for p in found] == [2, 3, 1]
    top = ledger.view(
        REGISTRY, "find_patterns", {"domain": "code", "min_reputation": 0.4, "limit": 5}
    )["patterns"]
    assert {p["id"] for p in top} == {p["id"] for p in found if p["reputation_ppm"] >= 400_000}
    assert 0 < len(top) < 3
    first = ledger.view(REGISTRY, "find_patterns", {"domain": "code", "limit": 1})
    assert [p["id"] for p in first["patterns"]] == [1] and first["next_index"] == 1
    with pytest.raises(ContractPanic, match="Invalid limit"):
        ledger.view(REGISTRY, "find_patterns", {"domain": "code", "limit": 101})
    with pytest.raises(ContractPanic, match="Invalid min_reputation"):
        ledger.view(REGISTRY, "find_patterns", {"domain": "code", "min_reputation": 1.5})


def test_failed_promise_rolls_back_alone(tmp_path):
    """A reputation contract that refuses the registry: the rating stays, as on NEAR."""
    with LocalLedger(tmp_path / "other.db") as other:
        other.create_account("owner.test")
        other.deploy(
            REGISTRY, "pattern_registry", {"owner": "owner.test", "reputation_contract": REPUTATION}
        )
        # This reputation contract trusts another registry, so it refuses ours.
        other.deploy(
            REPUTATION, "reputation", {"owner": "owner.test", "registry_contract": "elsewhere.test"}
        )
        other.create_account("alice.test", ONE_NEAR)
        other.create_account("bob.test", ONE_NEAR)
        register(other, "alice.test", HASH_A, 1)
        other.call("bob.test", REGISTRY, "use_pattern", {"pattern_id": 1}, deposit=1)
        out = other.call(
            "bob.test", REGISTRY, "rate_pattern", {"pattern_id": 1, "success": True, "rating": 5}
        )
        (receipt,) = out.receipts
        assert not receipt.ok and receipt.error == "Unauthorized"
        assert other.balance(REGISTRY) == DEPOSIT  # the storage deposit, nothing else lost
        assert other.view(REGISTRY, "get_pattern", {"pattern_id": 1})["rating_count"] == 1
        assert (
            other.view(REPUTATION, "get_reputation", {"account": "alice.test"})["successful_uses"]
            == 0
        )


def test_validator_rewards_mirror(ledger):
    hotkey = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
    entries = {hotkey: 1_000_000, "alice.test": "500000"}
    with pytest.raises(ContractPanic, match="^Unauthorized$"):
        ledger.call(
            "carol.test", REPUTATION, "record_validator_rewards", {"epoch": 1, "entries": entries}
        )
    ledger.call("owner.test", REPUTATION, "add_validator", {"account": "carol.test"})
    out = ledger.call(
        "carol.test", REPUTATION, "record_validator_rewards", {"epoch": 1, "entries": entries}
    )
    assert out.result == {"epoch": 1, "part": 0, "recorded": 2, "credited": 0}
    with pytest.raises(ContractPanic, match="Stale epoch"):
        ledger.call(
            "carol.test", REPUTATION, "record_validator_rewards", {"epoch": 1, "entries": entries}
        )
    ledger.call(
        "carol.test", REPUTATION, "record_validator_rewards", {"epoch": 2, "entries": {hotkey: 0}}
    )
    score = ledger.view(REPUTATION, "get_reputation", {"account": hotkey})
    assert (score["reward_ema_ppm"], score["reward_epochs"], score["last_epoch"]) == (800_000, 2, 2)
    usage = ledger.view(REPUTATION, "get_reputation", {"account": "nobody.test"})["composite_ppm"]
    assert score["composite_ppm"] == (7 * usage + 3 * 800_000) // 10
    with pytest.raises(ContractPanic, match="Invalid reward for alice.test"):
        ledger.call(
            "carol.test",
            REPUTATION,
            "record_validator_rewards",
            {"epoch": 3, "entries": {"alice.test": 2_000_000}},
        )
    with pytest.raises(ContractPanic, match="Invalid subject"):
        ledger.call(
            "carol.test",
            REPUTATION,
            "record_validator_rewards",
            {"epoch": 3, "entries": {"Not An Account": 1}},
        )


_WORKER = textwrap.dedent(
    """
    import json, sys
    from mycel_subnet.near.ledger import LocalLedger
    path, creator, start = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with LocalLedger(path) as led:
        led.ensure_mycel_contracts("owner.test")
        led.create_account(creator, 10**24)
        ids = []
        for i in range(start, start + 15):
            args = {"pattern_hash": format(i, "064x"), "metadata_cid": "Qm" + "Y" * 44,
                    "domain": "code", "price_per_use": "0"}
            out = led.call(creator, "registry.mycel.test", "register_pattern", args, 4 * 10**22)
            ids.append(out.result)
        print(json.dumps(ids))
    """
)


def test_two_processes_share_one_ledger_file(tmp_path):
    path = tmp_path / "shared.db"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(path), who, str(start)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for who, start in (("p1.test", 0), ("p2.test", 1000))
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        results.append(json.loads(out))
    all_ids = results[0] + results[1]
    assert sorted(all_ids) == list(range(1, 31))  # no id handed out twice
    with LocalLedger(path) as led:
        assert led.view(REGISTRY, "get_config")["next_id"] == 31
        page = led.view(REGISTRY, "find_patterns", {"domain": "code", "limit": 100})
        assert sorted(p["id"] for p in page["patterns"]) == list(range(1, 31))
