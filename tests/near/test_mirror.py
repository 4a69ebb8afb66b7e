"""The validator's NEAR reward mirror on the local ledger."""

from __future__ import annotations

import pytest

from mycel_subnet.near.client import LocalRegistryClient, RegistryError, make_registry_client
from mycel_subnet.near.mirror import NearRewardMirror, reward_scores_ppm
from tests.near.conftest import REPUTATION

HOTKEY_1 = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
HOTKEY_2 = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty"


def test_scores_scale_to_the_best_miner():
    assert reward_scores_ppm({"a": 0.2, "b": 0.1, "c": 0.0}) == {
        "a": 1_000_000,
        "b": 500_000,
        "c": 0,
    }
    assert reward_scores_ppm({"a": 0.0}) == {"a": 0}
    with pytest.raises(ValueError, match="reward for 'b'"):
        reward_scores_ppm({"a": 1.0, "b": float("nan")})


@pytest.mark.asyncio
async def test_mirror_records_once_per_epoch_and_maps_accounts(ledger):
    ledger.call("owner.test", REPUTATION, "add_validator", {"account": "carol.test"})
    mirror = NearRewardMirror(
        LocalRegistryClient(ledger, "carol.test"), accounts={HOTKEY_2: "bob.test"}
    )
    first = await mirror.record_rewards(100, {HOTKEY_1: 0.6, HOTKEY_2: 0.3})
    assert (first.status, first.recorded) == ("recorded", 2)
    again = await mirror.record_rewards(100, {HOTKEY_1: 0.6})
    assert again.status == "already_recorded"
    miner = await mirror.client.get_reputation(HOTKEY_1)
    mapped = await mirror.client.get_reputation("bob.test")
    assert (miner.reward_ema_ppm, mapped.reward_ema_ppm) == (1_000_000, 500_000)
    assert miner.composite > mapped.composite


@pytest.mark.asyncio
async def test_mirror_reports_failure_without_raising(ledger):
    mirror = NearRewardMirror(LocalRegistryClient(ledger, "alice.test"))  # not allow-listed
    result = await mirror.record_rewards(1, {HOTKEY_1: 1.0})
    assert (result.status, result.error) == ("failed", "Unauthorized")
    assert (await mirror.record_rewards(2, {})).status == "empty"


@pytest.mark.asyncio
async def test_make_registry_client_local_bootstraps_ledger(tmp_path):
    client = make_registry_client("local", "val.test", ledger_path=tmp_path / "l.db")
    mirror = NearRewardMirror(client)
    assert (await mirror.record_rewards(5, {HOTKEY_1: 2.0})).status == "recorded"  # owner
    with pytest.raises(ValueError, match="needs the account's private key"):
        make_registry_client("testnet", "val.testnet")
    with pytest.raises(RegistryError, match="Invalid account"):
        await client.get_reputation("NOPE")


@pytest.mark.asyncio
async def test_a_full_subnet_mirror_goes_in_parts_and_replays_are_refused(ledger):
    """200 subjects: more than one call may carry (gas), so two parts of one epoch; a repeat of
    the epoch is already recorded, a part out of order is refused by the contract."""
    ledger.call("owner.test", REPUTATION, "add_validator", {"account": "carol.test"})
    client = LocalRegistryClient(ledger, "carol.test")
    mirror = NearRewardMirror(client)
    rewards = {f"acct{n}.test": (n + 1) / 200 for n in range(200)}
    done = await mirror.record_rewards(7, rewards)
    assert (done.status, done.recorded) == ("recorded", 200)
    assert (await client.get_reputation("acct199.test")).reward_ema_ppm == 1_000_000
    assert (await client.get_reputation("acct0.test")).last_epoch == 7
    again = await mirror.record_rewards(7, rewards)
    assert again.status == "already_recorded" and again.error.startswith("Stale epoch: 7 <= 7")
    with pytest.raises(RegistryError, match=r"^Stale epoch: 8 <= 8 \(part 0 <= 1\)$"):
        await client.record_validator_rewards(8, {"x1.test": 1}, part=1)
        await client.record_validator_rewards(8, {"x2.test": 1}, part=0)
    with pytest.raises(RegistryError, match=r"^Invalid part: expected an integer 0-15$"):
        await client.record_validator_rewards(9, {"x1.test": 1}, part=16)
    with pytest.raises(RegistryError, match="^Invalid entries: expected 1-128 rewards$"):
        await client.record_validator_rewards(9, {f"y{n}.test": 1 for n in range(129)})
