"""Commit-reveal weights on the sim chain through the real bittensor 11.3.0 SDK.

With commit-reveal on, the SDK's ``SetWeights`` encrypts the weights to a future drand quicknet
round and submits ``commit_timelocked_mechanism_weights``; the chain decrypts them with that
round's drand signature once ``RevealPeriodEpochs`` epochs have passed. The decryption is real
(``bittensor_core.decrypt_with_signature``), so it needs a real pulse. Offline there is none for
a future round, which is the point of timelock encryption; the test carries the one real
quicknet signature it knows, round 1000's (it decrypts, so it is genuine: AES-GCM authenticates),
and aims the SDK's own encoder (``get_encrypted_commit_v2``) at that round to test the reveal.
"""

from __future__ import annotations

import bittensor as bt
import bittensor_core
import pytest

from mycel_subnet.chain.port import ChainPort
from mycel_subnet.chain.sim import admin, commit_reveal
from mycel_subnet.chain.sim.substrate import SimSubstrate
from mycel_subnet.chain.types import ChainErrorKind

U16_STEP = 2 / 65535
# drand quicknet (chain 52db9ba7...e971), round 1000: the published BLS signature.
QUICKNET_ROUND = 1000
QUICKNET_SIGNATURE = (
    "b44679b9a59af2ec876b1a6b1ad52ea9b1615fc3982b19576350f93447cb1125"
    "e342b73a8dd2bacbe47e4b6b63ed5e39"
)


@pytest.fixture
def cr_net(devnet):
    """devnet with commit-reveal on (reveal period 1), a permitted validator and two miners."""
    path, netuid, make_wallet = devnet
    admin.set_hyperparameter(path, netuid, "commit_reveal_weights_enabled", True)
    val = ChainPort(f"sim:{path}", netuid, make_wallet("val", tao=6))
    assert val.register().ok and val.add_stake(5).ok
    miners = [ChainPort(f"sim:{path}", netuid, make_wallet(f"m{i}")) for i in range(2)]
    for miner in miners:
        assert miner.register().ok
    admin.advance_blocks(path, 10)  # first epoch: the validator gets its permit
    assert val.metagraph().by_uid(val.my_uid()).validator_permit
    client = bt.Subtensor("local", substrate=SimSubstrate(path))
    yield path, netuid, val, [m.my_uid() for m in miners], client
    client.close()
    val.close()


def _to_next_epoch(path, netuid) -> int:
    sim = admin.open_chain(path)
    with sim.store.read() as conn:
        last = sim.subnet(conn, netuid)["last_epoch"]
        tempo = sim.hparams(conn, netuid)["tempo"]
        head = sim.current_block(conn)
    return admin.advance_blocks(path, last + tempo - head)


def _aim_at_round_1000(**kwargs) -> bytes:
    """The SDK's own timelocked commit (``get_encrypted_commit_v2``), sealed to round 1000.

    The encoder picks the round from the wall clock plus the blocks to the reveal times
    ``block_time``; a negative block time walks it back to round 1000, whose signature we have.
    Everything else (payload layout, hotkey binding, TLE) is the SDK's usual path.
    """
    for _ in range(3):  # the wall clock may tick a round mid-search; search again then
        low, high = -1e12, 0.0
        for _ in range(200):
            block_time = (low + high) / 2
            ciphertext, reveal_round = bittensor_core.get_encrypted_commit_v2(
                block_time=block_time, **kwargs
            )
            if reveal_round == QUICKNET_ROUND:
                return bytes(ciphertext)
            low, high = (block_time, high) if reveal_round < QUICKNET_ROUND else (low, block_time)
    raise AssertionError("could not aim the SDK's commit at round 1000")


def _sdk_commit_for_round_1000(client, netuid, hotkey: bytes, uids, values) -> bytes:
    """What SetWeights would seal for ``hotkey`` on this chain now, but for round 1000."""

    def read(item):
        return int(client.query(("SubtensorModule", item), [netuid]) or 0)

    return _aim_at_round_1000(
        uids=uids,
        weights=values,
        version_key=0,
        last_epoch_block=read("LastEpochBlock"),
        pending_epoch_at=read("PendingEpochAt"),
        subnet_epoch_index=read("SubnetEpochIndex"),
        tempo=read("Tempo"),
        blocks_since_last_step=read("BlocksSinceLastStep"),
        current_block=int(client.block),
        subnet_reveal_period_epochs=read("RevealPeriodEpochs"),
        hotkey=hotkey,
    )


def _pending(client, netuid) -> dict:
    return client.read("timelocked_weight_commits", netuid=netuid)


def _weights(client, netuid) -> dict:
    return client.read("weights", netuid=netuid)


def test_sdk_set_weights_commits_instead_of_setting(cr_net):
    """SetWeights succeeds as a timelocked commit: stored with its block, epoch and reveal
    round; no weights appear, the next epoch pays nothing; plaintext weights are refused."""
    path, netuid, val, (m0, m1), client = cr_net
    epoch = client.query(("SubtensorModule", "SubnetEpochIndex"), [netuid])
    result = client.execute(bt.SetWeights(netuid=netuid, uids=[m0, m1], weights=[3, 1]), val.wallet)
    assert result.success, result.message
    block = int(result.extrinsic_id.partition("-")[0])
    reveal_round = result.data["reveal_round"]
    assert reveal_round >= bt.timelock.current_round()  # a drand round still to come
    assert result.events[0]["event_id"] == "TimelockedWeightsCommitted"

    pending = _pending(client, netuid)
    assert list(pending) == [epoch]
    (entry,) = pending[epoch]
    assert entry["hotkey"] == val.wallet.hotkey.ss58_address
    assert (entry["commit_block"], entry["reveal_round"]) == (block, reveal_round)
    assert _weights(client, netuid) == {}
    # LastUpdate is stamped by the commit, so the rate limit applies to commits too
    assert val.metagraph().by_uid(val.my_uid()).last_update == block

    # the raw plaintext extrinsic is refused while commit-reveal is on
    admin.advance_blocks(path, 5)
    plain = client.submit_call(
        bt.calls.SubtensorModule.set_mechanism_weights(
            netuid=netuid, mecid=0, dests=[m0], weights=[65535], version_key=0
        ),
        val.wallet,
        signer="hotkey",
    )
    assert not plain.success and plain.error.name == "CommitRevealEnabled"

    _to_next_epoch(path, netuid)  # the epoch right after the commit: nothing revealed or paid
    graph = val.metagraph()
    assert graph.by_uid(m0).incentive == 0 and graph.by_uid(m1).incentive == 0
    assert _weights(client, netuid) == {}
    # its reveal epoch has come, but round `reveal_round` has no pulse on this offline chain
    assert [c["reveal_round"] for c in _pending(client, netuid)[epoch]] == [reveal_round]

    # a wrong "pulse" for that round does not open it: the commit is dropped, as a node drops it
    wrong = admin.store_drand_pulse(path, reveal_round, QUICKNET_SIGNATURE)
    assert wrong == [] and _pending(client, netuid) == {} and _weights(client, netuid) == {}
    _to_next_epoch(path, netuid)
    assert val.metagraph().by_uid(m0).incentive == 0


def test_port_set_weights_on_commit_reveal_subnet(cr_net):
    """The project's ChainPort.set_weights works unchanged: the SDK commits for it."""
    _, netuid, val, (m0, m1), client = cr_net
    result = val.set_weights([m0, m1], [0.5, 0.5], version_key=0)
    assert result.ok, result.message
    assert val.hyperparameters().commit_reveal_enabled
    assert sum(len(v) for v in _pending(client, netuid).values()) == 1
    again = val.set_weights([m0, m1], [0.5, 0.5], version_key=0)
    assert not again.ok and again.error is ChainErrorKind.RATE_LIMITED


def test_committed_weights_reveal_after_the_period_and_drive_yuma(cr_net):
    """A commit sealed (by the SDK's encoder) to round 1000, whose real pulse reaches the chain
    right after the commit: still hidden and unused until the reveal epoch, then revealed,
    and the epoch after that pays the miners in proportion to it."""
    path, netuid, val, (m0, m1), client = cr_net
    hotkey = bytes(val.wallet.hotkey.public_key)
    ciphertext = _sdk_commit_for_round_1000(client, netuid, hotkey, [m0, m1], [65535, 21845])
    committed = client.submit_call(
        bt.calls.SubtensorModule.commit_timelocked_mechanism_weights(
            netuid=netuid,
            mecid=0,
            commit=ciphertext,
            reveal_round=QUICKNET_ROUND,
            commit_reveal_version=4,
        ),
        val.wallet,
        signer="hotkey",
    )
    assert committed.success, committed.message
    epoch = client.query(("SubtensorModule", "SubnetEpochIndex"), [netuid])

    # the pulse is on chain at once, yet the commit waits for its reveal epoch
    assert admin.store_drand_pulse(path, QUICKNET_ROUND, QUICKNET_SIGNATURE) == []
    assert client.query(("Drand", "LastStoredRound"), []) == QUICKNET_ROUND
    assert list(_pending(client, netuid)) == [epoch]
    assert _weights(client, netuid) == {}

    head = _to_next_epoch(path, netuid)
    graph = val.metagraph()
    # this epoch ran on the weights of before (none); the reveal came right after it
    assert graph.by_uid(m0).incentive == 0 and graph.by_uid(m1).incentive == 0
    assert _pending(client, netuid) == {}
    row = _weights(client, netuid)[val.my_uid()]
    assert row[m0] == pytest.approx(0.75, abs=1e-4) and row[m1] == pytest.approx(0.25, abs=1e-4)
    assert graph.by_uid(val.my_uid()).last_update == head
    revealed = [e["event_id"] for e in admin.open_chain(path).events_at(head)]
    assert "TimelockedWeightsRevealed" in revealed

    _to_next_epoch(path, netuid)
    graph = val.metagraph()
    assert graph.by_uid(m0).incentive == pytest.approx(0.75, abs=1e-3)
    assert graph.by_uid(m1).incentive == pytest.approx(0.25, abs=1e-3)
    assert graph.by_uid(val.my_uid()).dividends == pytest.approx(1.0, abs=U16_STEP)


def test_commit_checks(cr_net):
    """Commits after the latest stored pulse only, the chain's commit-reveal version, the rate
    limit; a commit whose payload names another hotkey is never applied."""
    path, netuid, val, (m0, m1), client = cr_net

    def commit(ciphertext, reveal_round=QUICKNET_ROUND, version=4):
        return client.submit_call(
            bt.calls.SubtensorModule.commit_timelocked_mechanism_weights(
                netuid=netuid,
                mecid=0,
                commit=ciphertext,
                reveal_round=reveal_round,
                commit_reveal_version=version,
            ),
            val.wallet,
            signer="hotkey",
        )

    # sealed for another hotkey: a copied commit, replayed by this validator
    foreign = _sdk_commit_for_round_1000(client, netuid, bytes([7]) * 32, [m0, m1], [65535, 1])

    assert commit(foreign, version=3).error.name == "IncorrectCommitRevealVersion"
    assert commit(foreign).success
    assert commit(foreign).error.name == "CommittingWeightsTooFast"
    admin.store_drand_pulse(path, QUICKNET_ROUND, QUICKNET_SIGNATURE)
    admin.advance_blocks(path, 5)
    assert commit(foreign).error.name == "InvalidRevealRound"  # round 1000 is out already

    _to_next_epoch(path, netuid)
    assert _pending(client, netuid) == {}  # opened, and dropped: not the committer's payload
    assert _weights(client, netuid) == {}


def test_commit_reveal_off_is_unchanged(devnet):
    """Commit-reveal off: SetWeights sets plaintext weights at once; commits are refused."""
    path, netuid, make_wallet = devnet
    val = ChainPort(f"sim:{path}", netuid, make_wallet("val", tao=6))
    assert val.register().ok and val.add_stake(5).ok
    miner = ChainPort(f"sim:{path}", netuid, make_wallet("m"))
    assert miner.register().ok
    admin.advance_blocks(path, 10)
    uid = miner.my_uid()
    client = bt.Subtensor("local", substrate=SimSubstrate(path))
    try:
        result = client.execute(bt.SetWeights(netuid=netuid, uids=[uid], weights=[1]), val.wallet)
        assert result.success and "reveal_round" not in result.data
        assert _weights(client, netuid) == {val.my_uid(): {uid: 1.0}}
        assert _pending(client, netuid) == {}
        admin.advance_blocks(path, 5)
        refused = client.submit_call(
            bt.calls.SubtensorModule.commit_timelocked_mechanism_weights(
                netuid=netuid, mecid=0, commit=b"x", reveal_round=10**9, commit_reveal_version=4
            ),
            val.wallet,
            signer="hotkey",
        )
        assert not refused.success and refused.error.name == "CommitRevealDisabled"
        _to_next_epoch(path, netuid)
        assert val.metagraph().by_uid(uid).incentive == pytest.approx(1.0, abs=U16_STEP)
    finally:
        client.close()
        val.close()


def test_sim_opens_what_the_sdk_encoder_seals():
    """The sim decrypts the SDK encoder's commit with the real round-1000 quicknet signature and
    reads its WeightsTlockPayload (hotkey, uids, values, version key) back exactly."""
    hotkey = bytes(range(32))
    sealed = _aim_at_round_1000(
        uids=[3, 9],
        weights=[65535, 7],
        version_key=42,
        last_epoch_block=10,
        pending_epoch_at=0,
        subnet_epoch_index=1,
        tempo=10,
        blocks_since_last_step=3,
        current_block=13,
        subnet_reveal_period_epochs=1,
        hotkey=hotkey,
    )
    opened = commit_reveal.decrypt_commit(sealed, QUICKNET_ROUND, QUICKNET_SIGNATURE)
    assert commit_reveal.decode_payload(opened) == (hotkey, [3, 9], [65535, 7], 42)
    with pytest.raises(ValueError):  # any other signature is refused
        commit_reveal.decrypt_commit(sealed, QUICKNET_ROUND, QUICKNET_SIGNATURE[:-2] + "00")


def test_fetch_drand_pulses_brings_in_the_pulses_commits_wait_for(cr_net):
    """``admin.fetch_drand_pulses`` asks its fetcher (drand's HTTP API by default; a stand-in
    returning the known signature here, the test being offline) only for published rounds that
    pending commits need, stores them, and the commit then reveals in its reveal epoch."""
    path, netuid, val, (m0, m1), client = cr_net
    hotkey = bytes(val.wallet.hotkey.public_key)
    ciphertext = _sdk_commit_for_round_1000(client, netuid, hotkey, [m0, m1], [1, 65535])
    committed = client.submit_call(
        bt.calls.SubtensorModule.commit_timelocked_mechanism_weights(
            netuid=netuid, mecid=0, commit=ciphertext, reveal_round=1000, commit_reveal_version=4
        ),
        val.wallet,
        signer="hotkey",
    )
    assert committed.success, committed.message
    asked: list[int] = []

    def fetch(round_: int) -> str:
        asked.append(round_)
        return "0x" + QUICKNET_SIGNATURE

    assert admin.fetch_drand_pulses(path, fetch=fetch) == [QUICKNET_ROUND]
    assert asked == [QUICKNET_ROUND]
    assert admin.fetch_drand_pulses(path, fetch=fetch) == []  # already stored
    assert client.query(("Drand", "Pulses"), [QUICKNET_ROUND])["signature"].endswith("5e39")
    _to_next_epoch(path, netuid)
    assert _weights(client, netuid)[val.my_uid()][m1] == pytest.approx(1.0, abs=1e-4)
