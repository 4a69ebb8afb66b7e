"""Validator attestation on the registry and hotkey binding on the reputation contract, through
the registry clients on the local ledger. Binding signatures are real sr25519 signatures of a
real bittensor hotkey (mycel_subnet.chain.binding), verified off-chain as a validator does."""

from __future__ import annotations

import pytest

from mycel_subnet.near.client import LocalRegistryClient, RegistryError
from mycel_subnet.near.ledger import ONE_NEAR
from tests.near.conftest import HASH_A, HASH_B, register

HOUR = 3600 * 10**9
CAP = 10**23

pytestmark = pytest.mark.asyncio


@pytest.fixture
def clients(ledger):
    ledger.create_account("val.test", 10 * ONE_NEAR)
    ledger.create_account("val2.test", 10 * ONE_NEAR)
    names = ("owner.test", "alice.test", "bob.test", "val.test", "val2.test", "carol.test")
    return {n.split(".")[0]: LocalRegistryClient(ledger, n) for n in names}


async def test_only_attesters_attest_and_each_pattern_once_an_interval(ledger, clock, clients):
    register(ledger, "alice.test", HASH_A, CAP)
    register(ledger, "alice.test", HASH_B, CAP)
    with pytest.raises(RegistryError, match="^Only an attester can attest patterns$"):
        await clients["val"].attest_pattern(1, 900_000, True)
    with pytest.raises(RegistryError, match="^Only the owner can do this$"):
        await clients["val"].add_attester("val.test")
    config = await clients["owner"].add_attester("val.test")
    assert config.attesters == ["val.test"] and config.attest_interval_ns == HOUR
    await clients["owner"].add_attester("val2.test")
    first = await clients["val"].attest_pattern(1, 900_000, True)
    assert (first.status, first.attestations) == ("verified", 1)
    assert first.attested_quality_ppm == 900_000
    with pytest.raises(RegistryError, match="^Attested too recently: next attestation of patt"):
        await clients["val"].attest_pattern(1, 100_000, True)
    await clients["val"].attest_pattern(2, 800_000, True)  # another pattern: its own clock
    both = await clients["val2"].attest_pattern(1, 700_000, True)  # another attester
    assert (both.attestations, both.attested_quality_ppm) == (2, 800_000)
    clock.advance_days(1 / 24)
    again = await clients["val"].attest_pattern(1, 100_000, True)
    assert again.attested_quality_ppm == 400_000
    with pytest.raises(RegistryError, match="^Invalid quality_ppm: expected an integer 0-1000000$"):
        await clients["val"].attest_pattern(2, 1_000_001, True)
    with pytest.raises(RegistryError, match="^Invalid reason: up to 200 printable ASCII"):
        await clients["val"].attest_pattern(2, 0, False, "line\nbreak")
    views = await clients["bob"].get_attestations(1)
    assert [(a.attester, a.quality_ppm) for a in views] == [
        ("val.test", 100_000),
        ("val2.test", 700_000),
    ]


async def test_attested_quality_moves_the_ranking(ledger, clients):
    """Two unrated patterns of one creator tie at its standing; the attested-good one ranks
    first, the attested-poor one last."""
    for h in (HASH_A, HASH_B, "c" * 64):
        register(ledger, "alice.test", h, CAP)
    await clients["owner"].add_attester("val.test")
    await clients["val"].attest_pattern(3, 950_000, True)
    await clients["val"].attest_pattern(1, 50_000, True)
    ranked = await clients["bob"].find_patterns("code", min_reputation=0.0)
    assert [p.id for p in ranked] == [3, 2, 1]
    # prior 0.25 at weight 2, attested 0.95 at weight 4
    assert ranked[0].reputation_ppm == (2 * 250_000 + 4 * 950_000) // 6
    assert [p.status for p in ranked] == ["verified", "unverified", "verified"]


async def test_quarantine_hides_a_pattern_but_its_creator_sees_why(ledger, clock, clients):
    register(ledger, "alice.test", HASH_A, CAP)
    register(ledger, "alice.test", HASH_B, CAP)
    await clients["owner"].add_attester("val.test")
    await clients["owner"].add_attester("val2.test")
    with pytest.raises(RegistryError, match="^Invalid reason: an unsafe verdict needs a reason$"):
        await clients["val"].attest_pattern(1, 0, False)
    standing = (await clients["bob"].get_creator("alice.test")).standing_ppm
    out = await clients["val"].attest_pattern(1, 0, False, "code template runs os.system")
    assert out.status == "quarantined" and out.reputation_ppm == 0
    assert [p.id for p in await clients["bob"].find_patterns("code", min_reputation=0.0)] == [2]
    page = await clients["bob"].find_patterns_page("code", limit=100)
    assert [p.id for p in page.patterns] == [2]
    seen = await clients["alice"].get_pattern(1)
    assert (seen.status, seen.quarantine_reason) == ("quarantined", "code template runs os.system")
    with pytest.raises(RegistryError, match="^Pattern is quarantined: code template runs"):
        await clients["bob"].use_pattern(1, CAP)
    after = await clients["bob"].get_creator("alice.test")
    assert after.standing_ppm < standing  # an unsafe pattern costs its creator
    # A second attester finds it safe: one of two unsafe still quarantines (half or more) ...
    still = await clients["val2"].attest_pattern(1, 900_000, True)
    assert still.status == "quarantined"
    # ... until the first changes its verdict after the interval.
    clock.advance_days(1)
    cleared = await clients["val"].attest_pattern(1, 800_000, True)
    assert (cleared.status, cleared.quarantine_reason) == ("verified", "")
    assert {p.id for p in await clients["bob"].find_patterns("code", min_reputation=0.0)} == {1, 2}


async def test_a_removed_attesters_verdict_stops_counting(ledger, clock, clients):
    register(ledger, "alice.test", HASH_A, CAP)
    await clients["owner"].add_attester("val.test")
    await clients["owner"].add_attester("val2.test")
    await clients["val"].attest_pattern(1, 0, False, "unsafe")
    await clients["owner"].remove_attester("val.test")
    out = await clients["val2"].attest_pattern(1, 600_000, True)
    assert (out.status, out.attestations, out.attested_quality_ppm) == ("verified", 1, 600_000)
    with pytest.raises(RegistryError, match="^Only an attester can attest patterns$"):
        await clients["val"].attest_pattern(1, 0, False, "unsafe")


@pytest.fixture(scope="module")
def hotkeys(tmp_path_factory):
    from mycel_subnet.chain.wallets import create_wallet

    root = tmp_path_factory.mktemp("wallets")
    return [create_wallet(f"miner{i}", "default", root, devnet=True).hotkey for i in range(2)]


async def test_binding_is_confirmed_after_an_offchain_check_and_credits_rewards(
    ledger, clients, hotkeys
):
    from mycel_subnet.chain.binding import binding_signature_ok, sign_binding

    miner, other = hotkeys
    hotkey = miner.ss58_address
    await clients["owner"].add_validator("val.test")
    good = sign_binding(miner, "alice.test")
    request = await clients["alice"].bind_hotkey(hotkey, good)
    assert request.statement == f"mycel-bind:v1:alice.test:{hotkey}"
    # Carol submits Alice's signature for herself, and a signature by another hotkey.
    await clients["carol"].bind_hotkey(hotkey, good)
    await clients["bob"].bind_hotkey(hotkey, sign_binding(other, "bob.test"))
    pending = await clients["val"].get_binding(hotkey)
    assert pending.account is None and len(pending.requests) == 3
    verdicts = {
        r.account: binding_signature_ok(r.account, hotkey, r.signature) for r in pending.requests
    }
    assert verdicts == {"alice.test": True, "carol.test": False, "bob.test": False}
    with pytest.raises(RegistryError, match="^Unauthorized$"):
        await clients["carol"].confirm_binding(hotkey, "carol.test")
    for account, ok in verdicts.items():
        if ok:
            bound = await clients["val"].confirm_binding(hotkey, account)
        else:
            await clients["val"].reject_binding(hotkey, account)
    assert (bound.account, bound.confirmed_by) == ("alice.test", "val.test")
    view = await clients["bob"].get_binding(hotkey)
    assert view.account == "alice.test" and view.requests == []
    with pytest.raises(RegistryError, match="^No binding request of carol.test for "):
        await clients["val"].confirm_binding(hotkey, "carol.test")

    before = (await clients["bob"].get_reputation("alice.test")).composite_ppm
    unbound = other.ss58_address
    done = await clients["val"].record_validator_rewards(5, {hotkey: 900_000, unbound: 400_000})
    assert done.credited == 1 and done.recorded == 2
    alice = await clients["bob"].get_reputation("alice.test")
    assert (alice.reward_ema_ppm, alice.reward_epochs) == (900_000, 1)
    assert alice.composite_ppm == (7 * before + 3 * 900_000) // 10 > before
    assert (await clients["bob"].get_reputation(hotkey)).reward_epochs == 0
    assert (await clients["bob"].get_reputation(unbound)).reward_ema_ppm == 400_000

    with pytest.raises(RegistryError, match="^Only the bound account can unbind "):
        await clients["carol"].unbind_hotkey(hotkey)
    await clients["alice"].unbind_hotkey(hotkey)
    assert (await clients["bob"].get_binding(hotkey)).account is None


async def test_binding_input_is_checked(clients, hotkeys):
    hotkey = hotkeys[0].ss58_address
    with pytest.raises(RegistryError, match="^Invalid hotkey: expected an SS58 address$"):
        await clients["alice"].bind_hotkey("alice.test", "0x" + "ab" * 64)
    for bad in ("0x" + "ab" * 63, "zz" * 64, "0X" + "ab" * 64):
        with pytest.raises(RegistryError, match="^Invalid signature: expected 64 bytes of hex"):
            await clients["alice"].bind_hotkey(hotkey, bad)
    upper = await clients["alice"].bind_hotkey(hotkey, "AB" * 64)
    assert upper.signature == "0x" + "ab" * 64  # one form on chain
    for n in range(10):  # a flood of requests keeps only the newest few
        ledger_client = LocalRegistryClient(clients["alice"].ledger, f"sock{n}.test")
        clients["alice"].ledger.create_account(f"sock{n}.test", ONE_NEAR)
        await ledger_client.bind_hotkey(hotkey, "cd" * 64)
    view = await clients["val"].get_binding(hotkey)
    assert [r.account for r in view.requests] == [f"sock{n}.test" for n in range(2, 10)]
