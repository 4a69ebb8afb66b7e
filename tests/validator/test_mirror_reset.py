"""The reward mirror survives a chain reset and says what it did.

Real parts only: the local NEAR ledger running the reputation contract's logic, the real
NearRewardMirror, and the validator's epoch clock persisted in a temp state dir. A chain reset
is what the validator sees of one: the next weight setting's block is below the last one.
"""

from __future__ import annotations

import json
import logging

import pytest

from mycel_subnet.near.client import LocalRegistryClient
from mycel_subnet.near.ledger import LocalLedger
from mycel_subnet.near.mirror import NearRewardMirror
from mycel_subnet.validator.mirror import EPOCHS_FILE, EpochClock, MirrorChain, ResetSafeMirror

HOTKEY = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
VALIDATOR = "val.test"


@pytest.fixture
def client(tmp_path):
    with LocalLedger(tmp_path / "ledger.db") as ledger:
        ledger.ensure_mycel_contracts("owner.test")
        ledger.create_account(VALIDATOR)
        ledger.call("owner.test", "reputation.mycel.test", "add_validator", {"account": VALIDATOR})
        yield LocalRegistryClient(ledger, VALIDATOR)


def _mirror(client, state) -> ResetSafeMirror:
    return ResetSafeMirror(NearRewardMirror(client), EpochClock(state / EPOCHS_FILE))


@pytest.mark.asyncio
async def test_a_reset_chain_keeps_mirroring_with_an_offset_and_says_so(client, tmp_path, caplog):
    state = tmp_path / "state"
    state.mkdir()
    mirror = _mirror(client, state)
    assert (await mirror.record_rewards(500, {HOTKEY: 1.0})).status == "recorded"
    assert (await mirror.record_rewards(510, {HOTKEY: 0.5})).status == "recorded"
    assert mirror.take_notes() == []
    before = await client.get_reputation(HOTKEY)

    with caplog.at_level(logging.WARNING):
        after_reset = await mirror.record_rewards(12, {HOTKEY: 1.0})  # the chain started over
    assert after_reset.status == "recorded" and after_reset.epoch == 511
    notes = mirror.take_notes()
    assert len(notes) == 1 and "chain reset" in notes[0] and "block 12" in notes[0]
    assert caplog.text.count("chain reset") == 1  # one WARNING line
    score = await client.get_reputation(HOTKEY)
    assert score.reward_epochs == before.reward_epochs + 1 and score.last_epoch == 511

    # The next blocks of the new chain follow on; a restart keeps the offset from the file.
    restarted = _mirror(client, state)
    assert (await restarted.record_rewards(20, {HOTKEY: 1.0})).epoch == 519
    assert restarted.take_notes() == []
    saved = json.loads((state / EPOCHS_FILE).read_text())
    assert saved["offset"] == 499 and saved["resets"] == 1


@pytest.mark.asyncio
async def test_lost_state_adopts_the_contract_s_last_epoch_instead_of_dropping(client, tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir(), new.mkdir()
    assert (await _mirror(client, old).record_rewards(900, {HOTKEY: 1.0})).status == "recorded"
    # A new state dir (lost, or a reset chain after a restart): block 30 would be stale.
    fresh = _mirror(client, new)
    result = await fresh.record_rewards(30, {HOTKEY: 1.0})
    assert result.status == "recorded" and result.epoch == 901
    (note,) = fresh.take_notes()
    assert "already holds epoch 900" in note
    # The plain mirror, without the clock, drops exactly this round: what the clock fixes.
    plain = await NearRewardMirror(client).record_rewards(31, {HOTKEY: 1.0})
    assert plain.status == "already_recorded"


@pytest.mark.asyncio
async def test_the_same_block_twice_is_still_recorded_once(client, tmp_path):
    mirror = _mirror(client, tmp_path)
    assert (await mirror.record_rewards(40, {HOTKEY: 1.0})).status == "recorded"
    again = await mirror.record_rewards(40, {HOTKEY: 1.0})
    assert again.status == "already_recorded" and mirror.take_notes() == []
    assert (await client.get_reputation(HOTKEY)).reward_epochs == 1


@pytest.mark.asyncio
async def test_the_chain_of_mirrors_passes_the_notes_to_the_step_log(client, tmp_path):
    chain = MirrorChain([_mirror(client, tmp_path)])
    await chain.record_rewards(100, {HOTKEY: 1.0})
    await chain.record_rewards(3, {HOTKEY: 1.0})
    assert [n for n in chain.take_notes() if "chain reset" in n]
    assert chain.take_notes() == []  # drained


def test_an_unreadable_clock_file_starts_over_with_a_warning(tmp_path, caplog):
    (tmp_path / EPOCHS_FILE).write_text("{not json")
    with caplog.at_level(logging.WARNING):
        clock = EpochClock(tmp_path / EPOCHS_FILE)
    assert clock.state.offset == 0 and "unreadable" in caplog.text
