"""What a reputation costs on the registry, and where money goes, on the local ledger.

For each reward the cheapest way to earn it without the work is played and must lose: a sock
account with no balance pumping a free pattern, a creator paying itself through a sock, a creator
deleting its bad record. Money: the creator's share leaves by a real transfer with a refund path,
the fee only to the owner, the storage deposit back on removal.
"""

from __future__ import annotations

import pytest

from mycel_subnet.near.client import DEFAULT_MIN_REPUTATION, LocalRegistryClient
from mycel_subnet.near.host import ContractPanic
from mycel_subnet.near.ledger import ONE_NEAR
from tests.near.conftest import CID, DEPOSIT, HASH_A, HASH_B, REGISTRY, REPUTATION, register

CAP = 10**23  # the default rating_weight_cap
PRIOR = 250_000


def _use_and_rate(ledger, who, pid, paid, rating=5, success=True):
    ledger.call(who, REGISTRY, "use_pattern", {"pattern_id": pid}, deposit=paid)
    args = {"pattern_id": pid, "success": success, "rating": rating}
    return ledger.call(who, REGISTRY, "rate_pattern", args)


def _pattern(ledger, pid):
    return ledger.view(REGISTRY, "get_pattern", {"pattern_id": pid})


def _composite(ledger, account):
    return ledger.view(REPUTATION, "get_reputation", {"account": account})["composite_ppm"]


def test_zero_balance_sock_cannot_pump_a_free_pattern(ledger):
    """The attack the issue measured (0.84 in ten rounds): now not one rating lands."""
    register(ledger, "alice.test", HASH_A, 0)
    ledger.create_account("sock.test", 0)
    for _ in range(10):
        ledger.call("sock.test", REGISTRY, "use_pattern", {"pattern_id": 1})
        with pytest.raises(ContractPanic, match="Rate only after a paid use of a priced pattern"):
            ledger.call(
                "sock.test",
                REGISTRY,
                "rate_pattern",
                {"pattern_id": 1, "success": True, "rating": 5},
            )
    pattern = _pattern(ledger, 1)
    assert (pattern["usage_count"], pattern["rating_count"]) == (10, 0)
    assert pattern["reputation_ppm"] == PRIOR
    assert _composite(ledger, "alice.test") == PRIOR
    assert ledger.view(REGISTRY, "get_creator", {"account": "alice.test"})["standing_ppm"] == PRIOR


def test_dust_payments_rate_but_move_nothing(ledger):
    register(ledger, "alice.test", HASH_A, 1)
    for _ in range(10):
        _use_and_rate(ledger, "bob.test", 1, 1)  # one yoctoNEAR: weight 1e-23 of a rating
    pattern = _pattern(ledger, 1)
    assert pattern["rating_count"] == 10 and pattern["reputation_ppm"] == PRIOR
    assert _composite(ledger, "alice.test") == PRIOR


def test_pumping_through_a_sock_costs_the_fee_on_every_weight(ledger):
    """A creator funding a sock to buy and praise its own pattern gets its 95% back: what it
    loses is exactly the fees, and each full-weight rating costs fee_bps of the cap."""
    register(ledger, "alice.test", HASH_A, CAP)
    ledger.create_account("sock.test", 0)
    start = ledger.balance("alice.test")
    rounds = 10
    for _ in range(rounds):
        ledger.transfer("alice.test", "sock.test", CAP)
        _use_and_rate(ledger, "sock.test", 1, CAP)
    lost = start - ledger.balance("alice.test") - ledger.balance("sock.test")
    fees = int(ledger.view(REGISTRY, "get_config")["fees_collected"])
    assert lost == fees == rounds * CAP * 500 // 10_000
    pattern = _pattern(ledger, 1)
    assert pattern["w_weight"] == rounds * 1_000_000  # what the fees bought, no more
    # weight per yoctoNEAR lost is fixed by the policy: 1e6 ppm per (cap x 5%)
    assert pattern["w_weight"] * (CAP * 500 // 10_000) == lost * 1_000_000
    assert pattern["reputation_ppm"] > PRIOR  # it did buy something, at a price


def test_new_pattern_starts_from_its_creators_standing(ledger):
    """A good creator's new pattern is found at the default floor and above the prior; a new
    creator's starts at the prior, which the default floor also lets through."""
    register(ledger, "alice.test", HASH_A, CAP)
    for _ in range(6):
        _use_and_rate(ledger, "bob.test", 1, CAP)
    standing = ledger.view(REGISTRY, "get_creator", {"account": "alice.test"})["standing_ppm"]
    assert standing == _pattern(ledger, 1)["reputation_ppm"] > 700_000
    register(ledger, "alice.test", HASH_B, CAP)
    register(ledger, "carol.test", "c" * 64, CAP)
    fresh, stranger = _pattern(ledger, 2), _pattern(ledger, 3)
    assert fresh["base_reputation_ppm"] == fresh["reputation_ppm"] == standing
    assert stranger["reputation_ppm"] == PRIOR > DEFAULT_MIN_REPUTATION * 1e6
    page = ledger.view(REGISTRY, "find_patterns", {"domain": "code", "min_reputation": 0.7})
    assert [p["id"] for p in page["patterns"]] == [1, 2]


def test_removing_a_bad_pattern_does_not_clean_the_record(ledger):
    register(ledger, "alice.test", HASH_A, CAP)
    for _ in range(4):
        _use_and_rate(ledger, "bob.test", 1, CAP, rating=1, success=False)
    bad = ledger.view(REGISTRY, "get_creator", {"account": "alice.test"})["standing_ppm"]
    assert bad < 100_000
    ledger.call("alice.test", REGISTRY, "remove_pattern", {"pattern_id": 1})
    register(ledger, "alice.test", HASH_B, CAP)
    assert _pattern(ledger, 2)["reputation_ppm"] == bad  # not back to the 0.25 prior


def test_storage_deposit_is_held_and_refunded_on_removal(ledger):
    before = ledger.balance("alice.test")
    with pytest.raises(ContractPanic, match="^Attach the storage deposit: "):
        ledger.call(
            "alice.test",
            REGISTRY,
            "register_pattern",
            {"pattern_hash": HASH_A, "metadata_cid": CID, "domain": "code", "price_per_use": "1"},
        )
    ledger.call(
        "alice.test",
        REGISTRY,
        "register_pattern",
        {"pattern_hash": HASH_A, "metadata_cid": CID, "domain": "code", "price_per_use": "1"},
        deposit=DEPOSIT + 5,  # the excess comes straight back
    )
    assert ledger.balance("alice.test") == before - DEPOSIT
    assert ledger.balance(REGISTRY) == DEPOSIT
    with pytest.raises(ContractPanic, match="^Only the creator can remove a pattern$"):
        ledger.call("bob.test", REGISTRY, "remove_pattern", {"pattern_id": 1})
    out = ledger.call("alice.test", REGISTRY, "remove_pattern", {"pattern_id": 1})
    assert out.result == {"pattern_id": 1, "refund": str(DEPOSIT)}
    assert ledger.balance("alice.test") == before and ledger.balance(REGISTRY) == 0
    assert _pattern(ledger, 1) is None
    assert ledger.view(REGISTRY, "find_patterns", {"domain": "code"})["patterns"] == []
    assert register(ledger, "bob.test", HASH_A, 1) == 2  # the hash is free again, a new id


def test_failed_creator_transfer_is_owed_and_withdrawable(ledger):
    """The creator's account is gone when a user pays: the transfer fails, the callback keeps
    the share for it, and once the account exists again it withdraws exactly that."""
    price = 3 * ONE_NEAR + 7
    register(ledger, "alice.test", HASH_A, price)
    ledger.delete_account("alice.test", "carol.test")
    out = ledger.call("bob.test", REGISTRY, "use_pattern", {"pattern_id": 1}, deposit=price)
    share = int(out.result["creator_share"])
    transfer, callback = out.receipts
    assert (transfer.kind, transfer.ok) == ("transfer", False)
    assert (callback.method, callback.ok) == ("on_transfer_done", True)
    assert ledger.transfers(out.tx_id) == []
    assert ledger.view(REGISTRY, "get_payout", {"account": "alice.test"}) == str(share)
    assert ledger.balance(REGISTRY) == DEPOSIT + price  # the share stayed, with the fee
    with pytest.raises(ContractPanic, match="doesn't accept deposit"):
        ledger.call("bob.test", REGISTRY, "withdraw_payout", deposit=1)
    assert ledger.call("bob.test", REGISTRY, "withdraw_payout").result == "0"  # owed nothing
    ledger.create_account("alice.test", 0)
    paid = ledger.call("alice.test", REGISTRY, "withdraw_payout")
    assert paid.result == str(share) and ledger.balance("alice.test") == share
    assert ledger.view(REGISTRY, "get_payout", {"account": "alice.test"}) == "0"
    assert ledger.call("alice.test", REGISTRY, "withdraw_payout").result == "0"
    assert ledger.balance(REGISTRY) == DEPOSIT + price - share


def test_fees_go_to_the_owner_only(ledger):
    """(A failed fee transfer goes back to the pool: test_contract_logic covers the callback.)"""
    register(ledger, "alice.test", HASH_A, ONE_NEAR)
    ledger.call("bob.test", REGISTRY, "use_pattern", {"pattern_id": 1}, deposit=ONE_NEAR)
    fee = ONE_NEAR * 500 // 10_000
    for who in ("alice.test", "bob.test", REGISTRY):
        with pytest.raises(ContractPanic, match="^Only the owner can do this$"):
            ledger.call(who, REGISTRY, "withdraw_fees")
    owner = ledger.balance("owner.test")
    assert ledger.call("owner.test", REGISTRY, "withdraw_fees").result == str(fee)
    assert ledger.balance("owner.test") == owner + fee
    assert ledger.view(REGISTRY, "get_config")["fees_collected"] == "0"
    assert ledger.balance(REGISTRY) == DEPOSIT  # only the storage deposit is left


@pytest.mark.asyncio
async def test_clients_attach_the_deposit_and_page_transparently(ledger):
    alice = LocalRegistryClient(ledger, "alice.test")
    bob = LocalRegistryClient(ledger, "bob.test")
    ids = [await alice.register_pattern(format(n, "064x"), CID, "code", CAP) for n in range(5)]
    assert ledger.balance(REGISTRY) == 5 * DEPOSIT
    for rating, pid in zip((2, 5, 4), ids[:3], strict=True):
        await bob.use_pattern(pid, CAP)
        await bob.rate_pattern(pid, rating >= 4, rating)
    top = await bob.find_patterns("code", min_reputation=0.0, limit=3)
    assert [p.id for p in top] == [ids[1], ids[2], ids[3]]  # rated up, then unrated by id
    page = await bob.find_patterns_page("code", limit=2)
    assert [p.id for p in page.patterns] == ids[:2] and page.next_index == 2
    removed = await alice.remove_pattern(ids[4])
    assert removed.refund == DEPOSIT and await bob.get_pattern(ids[4]) is None
    standing = await bob.get_creator("alice.test")
    assert standing.patterns == 4 and 0 < standing.standing < 1
