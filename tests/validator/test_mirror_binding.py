"""Hotkey -> NEAR account bindings: `mycel near bind` on the miner's side, the validator's
check of the signature before it confirms, and the mirror crediting the bound account.

Real parts only: real hotkey wallets (sr25519 signatures), the reputation contract's logic on
the local ledger, the real NearRewardMirror behind the validator's ResetSafeMirror, and the
`mycel` command line in-process.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from mycel_subnet.chain.binding import binding_signature_ok, binding_statement, sign_binding
from mycel_subnet.cli.main import main
from mycel_subnet.near.client import LocalRegistryClient
from mycel_subnet.near.ledger import ONE_NEAR, LocalLedger
from mycel_subnet.near.mirror import NearRewardMirror
from mycel_subnet.validator.bindings import BindingBook
from mycel_subnet.validator.mirror import EPOCHS_FILE, EpochClock, ResetSafeMirror
from tests.miner.harness import make_hotkey

VALIDATOR = "val.test"


@pytest.fixture
def ledger(tmp_path):
    with LocalLedger(tmp_path / "ledger.db") as led:
        led.ensure_mycel_contracts("owner.test")
        for name in (VALIDATOR, "bob.test", "carol.test", "dave.test", "erin.test"):
            led.create_account(name, 10 * ONE_NEAR)
        led.call("owner.test", "reputation.mycel.test", "add_validator", {"account": VALIDATOR})
        yield led


@pytest.fixture
def hotkeys(tmp_path):
    return [make_hotkey(tmp_path / "wallets", f"miner{i}") for i in range(3)]


def test_the_statement_names_both_sides_and_only_its_hotkey_signs_it(hotkeys):
    one, two = (w.hotkey for w in hotkeys[:2])
    signature = sign_binding(one, "bob.test")
    assert binding_signature_ok("bob.test", one.ss58_address, signature)
    assert not binding_signature_ok("carol.test", one.ss58_address, signature)  # other account
    assert not binding_signature_ok("bob.test", two.ss58_address, signature)  # other hotkey
    assert (
        binding_statement("bob.test", one.ss58_address)
        == f"mycel-bind:v1:bob.test:{one.ss58_address}"
    )
    for junk in ("", "0x" + "00" * 64, "zz" * 64, "0x12", None, 7):
        assert not binding_signature_ok("bob.test", one.ss58_address, junk)
    assert not binding_signature_ok("bob.test", "not-an-ss58-address", signature)


@pytest.mark.asyncio
async def test_the_validator_confirms_only_requests_whose_signature_verifies(ledger, hotkeys):
    good, forged, stolen = (w.hotkey for w in hotkeys)
    bob, carol, erin = (
        LocalRegistryClient(ledger, a) for a in ("bob.test", "carol.test", "erin.test")
    )
    await bob.bind_hotkey(good.ss58_address, sign_binding(good, "bob.test"))
    # carol claims a hotkey she does not hold: her own key's signature of her statement
    await carol.bind_hotkey(forged.ss58_address, sign_binding(good, "carol.test"))
    # a hotkey signed a statement for dave, but erin (not dave) submits it: not dave's call,
    # and the contract files it under erin, whose statement it does not sign
    await erin.bind_hotkey(stolen.ss58_address, sign_binding(stolen, "dave.test"))

    validator = LocalRegistryClient(ledger, VALIDATOR)
    book = BindingBook(validator)
    notes = await book.refresh([good.ss58_address, forged.ss58_address, stolen.ss58_address])
    assert sum("confirmed" in n for n in notes) == 1 and sum("rejected" in n for n in notes) == 2
    assert (await validator.get_binding(good.ss58_address)).account == "bob.test"
    for key in (forged, stolen):
        binding = await validator.get_binding(key.ss58_address)
        assert binding.account is None and binding.requests == []  # rejected, not pending
    assert book.account_of(good.ss58_address) == "bob.test"
    assert book.account_of(forged.ss58_address) is None
    assert await book.refresh([good.ss58_address]) == []  # looked up again only after recheck_s


@pytest.mark.asyncio
async def test_of_two_valid_requests_the_newest_wins_and_the_other_is_settled(ledger, hotkeys):
    key = hotkeys[0].hotkey
    for account in ("bob.test", "carol.test"):
        client = LocalRegistryClient(ledger, account)
        await client.bind_hotkey(key.ss58_address, sign_binding(key, account))
    validator = LocalRegistryClient(ledger, VALIDATOR)
    notes = await BindingBook(validator).refresh([key.ss58_address])
    assert any("superseded" in n for n in notes)
    binding = await validator.get_binding(key.ss58_address)
    assert binding.account == "carol.test" and binding.requests == []


@pytest.mark.asyncio
async def test_a_bound_hotkey_s_rewards_raise_its_account_s_reputation(ledger, hotkeys, tmp_path):
    bound, unbound = hotkeys[0].hotkey.ss58_address, hotkeys[1].hotkey.ss58_address
    bob = LocalRegistryClient(ledger, "bob.test")
    await bob.bind_hotkey(bound, sign_binding(hotkeys[0].hotkey, "bob.test"))
    before = await bob.get_reputation("bob.test")
    validator = LocalRegistryClient(ledger, VALIDATOR)
    mirror = ResetSafeMirror(NearRewardMirror(validator), EpochClock(tmp_path / EPOCHS_FILE),
                             BindingBook(validator))  # fmt: skip
    result = await mirror.record_rewards(100, {bound: 0.8, unbound: 0.4})
    assert result.status == "recorded"
    assert any("confirmed" in n for n in mirror.take_notes())
    after = await bob.get_reputation("bob.test")
    assert after.reward_epochs == before.reward_epochs + 1 and after.reward_ema_ppm == 1_000_000
    assert after.composite_ppm > before.composite_ppm
    assert (await bob.get_reputation(bound)).reward_epochs == 0  # credited to bob, not the key
    assert (await bob.get_reputation(unbound)).reward_ema_ppm == 500_000


def _cli(tmp_path, wallet, account: str | None, *extra: str) -> list[str]:
    args = ["near", "bind", "--wallet.name", wallet.name, "--wallet.hotkey", "hot",
            "--wallet.path", str(tmp_path / "wallets"),
            "--ledger", str(tmp_path / "ledger.db")]  # fmt: skip
    if account:
        args += ["--near.account_id", account]
    return args + list(extra)


def test_mycel_near_bind_sends_a_request_the_validator_then_confirms(
    ledger, hotkeys, tmp_path, capsys
):
    wallet = hotkeys[2]
    assert main(_cli(tmp_path, wallet, "dave.test", "--json")) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["hotkey"] == wallet.hotkey.ss58_address and out["account"] == "dave.test"
    assert [r["account"] for r in out["binding"]["requests"]] == ["dave.test"]
    validator = LocalRegistryClient(ledger, VALIDATOR)
    asyncio.run(BindingBook(validator).refresh([wallet.hotkey.ss58_address]))
    show = ["near", "binding", *_cli(tmp_path, wallet, "dave.test")[2:]]
    assert main(show) == 0
    assert f"{wallet.hotkey.ss58_address}: bound to dave.test" in capsys.readouterr().out


def test_mycel_near_bind_refuses_bad_input_in_one_line(tmp_path, hotkeys, capsys):
    assert main(_cli(tmp_path, hotkeys[0], None)) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--near.account_id is required" in err
    missing = ["near", "bind", "--wallet.name", "nobody", "--wallet.path", str(tmp_path / "w"),
               "--near.account_id", "bob.test", "--ledger", str(tmp_path / "l.db")]  # fmt: skip
    assert main(missing) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "no hotkey" in err and "Traceback" not in err
